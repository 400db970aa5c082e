/**
 * The cluster metrics ECS publishes on its own, once a minute by the leader, for every ACTIVE
 * cluster: `AWS/ECS` CPUReservation and MemoryReservation (always, when the cluster has registered
 * capacity) and, where the cluster's containerInsights setting is on, Container Insights' counts
 * (ServiceCount, TaskCount, ContainerInstanceCount, each service's Desired/Running/PendingTaskCount).
 * The usage metrics come from the agents' task stats (agent-api/task-stats-routes.ts).
 */
import type { Clock } from '../core/clock.js';
import { registeredCpuMemory } from '../services/ecs/instance-resources.js';
import { clusterCountPoints, clusterReservationPoints, containerInsightsEnabled, type MetricPoint } from '../services/ecs/task-metrics.js';
import * as c from '../store/collections.js';
import type { Store } from '../store/store.js';
import { Periodic } from './periodic.js';

export interface ClusterMetricsDeps {
  store: Store;
  clock: Clock;
  record: (scope: { accountId: string; region: string }, points: MetricPoint[]) => void;
  intervalMs: number;
  log: { error(obj: object, msg: string): void };
}

export class ClusterMetricsPublisher {
  private readonly loop: Periodic;

  constructor(private readonly deps: ClusterMetricsDeps) {
    this.loop = new Periodic(deps.intervalMs, () => this.publish(), (err) => deps.log.error({ err }, 'publishing cluster metrics failed'));
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
        const points: MetricPoint[] = [];
        const instances = await tx.find(c.containerInstances, { where: { cluster: cluster.clusterArn, status: { in: ['ACTIVE', 'DRAINING'] } } });
        const liveTasks = await tx.select(c.tasks, ['instance', 'reserved_cpu', 'reserved_memory'], { where: { cluster: cluster.clusterArn, last_status: { not: 'STOPPED' } } });
        if (instances.length > 0) {
          const registered = { cpu: 0, memory: 0 };
          const arns = new Set<string>();
          for (const { data: instance } of instances) {
            const r = registeredCpuMemory(instance.registeredResources);
            registered.cpu += r.cpu;
            registered.memory += r.memory;
            arns.add(instance.containerInstanceArn);
          }
          const reserved = { cpu: 0, memory: 0 };
          for (const t of liveTasks) {
            if (!arns.has(String(t.instance))) continue;
            reserved.cpu += Number(t.reserved_cpu ?? 0);
            reserved.memory += Number(t.reserved_memory ?? 0);
          }
          points.push(...clusterReservationPoints(cluster.clusterName, now, reserved, registered));
        }
        if (containerInsightsEnabled(cluster.settings as { name?: string; value?: string }[] | undefined)) {
          const services = (await tx.find(c.services, { where: { cluster: cluster.clusterArn, status: 'ACTIVE' } })).map((r) => ({
            serviceName: r.data.serviceName,
            desired: Number(r.data.desiredCount ?? 0),
            running: Number(r.data.runningCount ?? 0),
            pending: Number(r.data.pendingCount ?? 0),
          }));
          points.push(...clusterCountPoints({ clusterName: cluster.clusterName, services, tasks: liveTasks.length, containerInstances: instances.length }, now));
        }
        if (points.length > 0) out.push({ scope: { accountId: cluster.accountId, region: cluster.region }, points });
      }
      return out;
    });
    for (const r of rounds) this.deps.record(r.scope, r.points);
    return rounds.reduce((n, r) => n + r.points.length, 0);
  }
}
