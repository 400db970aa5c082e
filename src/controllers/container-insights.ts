/**
 * Container Insights' count metrics: once a minute, for every ACTIVE cluster whose
 * containerInsights setting is on, publishes ServiceCount, TaskCount, ContainerInstanceCount and
 * each service's DesiredTaskCount, RunningTaskCount and PendingTaskCount (ECS/ContainerInsights).
 * The usage metrics come from the agents' task stats (agent-api/task-stats-routes.ts).
 */
import type { Clock } from '../core/clock.js';
import { clusterCountPoints, containerInsightsEnabled, type MetricPoint } from '../services/ecs/task-metrics.js';
import * as c from '../store/collections.js';
import type { Store } from '../store/store.js';
import { Periodic } from './periodic.js';

export interface ContainerInsightsDeps {
  store: Store;
  clock: Clock;
  record: (scope: { accountId: string; region: string }, points: MetricPoint[]) => void;
  intervalMs: number;
  log: { error(obj: object, msg: string): void };
}

export class ContainerInsightsPublisher {
  private readonly loop: Periodic;

  constructor(private readonly deps: ContainerInsightsDeps) {
    this.loop = new Periodic(deps.intervalMs, () => this.publish(), (err) => deps.log.error({ err }, 'publishing Container Insights counts failed'));
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** One round; returns the number of points published. */
  async publish(): Promise<number> {
    const now = Math.floor(this.deps.clock.now());
    const rounds = await this.deps.store.read(async (tx) => {
      const out: { scope: { accountId: string; region: string }; points: MetricPoint[] }[] = [];
      for (const { data: cluster } of await tx.find(c.clusters, { where: { status: 'ACTIVE' } })) {
        if (!containerInsightsEnabled(cluster.settings as { name?: string; value?: string }[] | undefined)) continue;
        const services = (await tx.find(c.services, { where: { cluster: cluster.clusterArn, status: 'ACTIVE' } })).map((r) => ({
          serviceName: r.data.serviceName,
          desired: Number(r.data.desiredCount ?? 0),
          running: Number(r.data.runningCount ?? 0),
          pending: Number(r.data.pendingCount ?? 0),
        }));
        const tasks = await tx.count(c.tasks, { cluster: cluster.clusterArn, last_status: { not: 'STOPPED' } });
        const containerInstances = await tx.count(c.containerInstances, { cluster: cluster.clusterArn, status: { in: ['ACTIVE', 'DRAINING'] } });
        out.push({ scope: { accountId: cluster.accountId, region: cluster.region }, points: clusterCountPoints({ clusterName: cluster.clusterName, services, tasks, containerInstances }, now) });
      }
      return out;
    });
    for (const r of rounds) this.deps.record(r.scope, r.points);
    return rounds.reduce((n, r) => n + r.points.length, 0);
  }
}
