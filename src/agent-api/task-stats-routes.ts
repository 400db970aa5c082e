/**
 * The task-stats call of agent protocol 1.3 (docs/agent-protocol.md "Task stats"): an agent sends
 * its tasks' resource use; the control plane publishes it as ECS's CloudWatch metrics. Samples of
 * tasks not placed on the caller's own instance are dropped.
 */
import type { FastifyInstance } from 'fastify';
import { AGENT_API_PREFIX, TaskStatsRequest, type TaskStatsResponse } from '../protocol/index.js';
import { registeredCpuMemory } from '../services/ecs/instance-resources.js';
import { containerInsightsEnabled, instanceMetricPoints, taskMetricPoints, type MetricPoint, type SampledTask } from '../services/ecs/task-metrics.js';
import * as c from '../store/collections.js';
import type { Store } from '../store/store.js';
import type { Clock } from '../core/clock.js';
import type { AgentAuth } from './auth.js';
import { bearerOf, ownInstance, parse, ProtocolError, sendError } from './routes.js';

/** Where the points go (the CloudWatch metric store, wired in server/app.ts), by account and region. */
export type MetricSink = (scope: { accountId: string; region: string }, points: MetricPoint[]) => void;

export interface TaskStatsRoutesDeps {
  store: Store;
  clock: Clock;
  auth: AgentAuth;
  metrics: MetricSink;
}

export function registerTaskStatsRoutes(http: FastifyInstance, deps: TaskStatsRoutesDeps): void {
  // 1,000 samples are ~300 KB; nothing bigger is read.
  http.post(`${AGENT_API_PREFIX}/task-stats`, { bodyLimit: 1_048_576 }, async (req, reply) => {
    try {
      const bearer = bearerOf(req);
      const input = parse(TaskStatsRequest, req.body);
      ownInstance(await deps.auth.authenticate(bearer), input.containerInstanceArn);
      const arns = [...new Set(input.samples.map((s) => s.taskArn))];
      const found = await deps.store.read(async (tx) => {
        const instance = await tx.get(c.containerInstances, input.containerInstanceArn);
        if (!instance) throw new ProtocolError(404, 'UnknownInstance', `No container instance ${input.containerInstanceArn}; register again.`);
        const clusters = new Map<string, { name: string; insights: boolean } | undefined>();
        const tasks = new Map<string, SampledTask>();
        for (const arn of arns) {
          const task = (await tx.get(c.tasks, arn))?.data;
          if (!task || task.placedOn !== input.containerInstanceArn || task.lastStatus === 'STOPPED') continue;
          if (!clusters.has(task.clusterArn)) {
            const cluster = (await tx.get(c.clusters, task.clusterArn))?.data;
            clusters.set(task.clusterArn, cluster && { name: cluster.clusterName, insights: containerInsightsEnabled(cluster.settings as { name?: string; value?: string }[] | undefined) });
          }
          const cluster = clusters.get(task.clusterArn);
          if (!cluster) continue;
          tasks.set(arn, {
            clusterName: cluster.name,
            serviceName: task.serviceName as string | undefined,
            family: task.family,
            reservedCpu: Number(task.reservedCpu ?? 0),
            reservedMemory: Number(task.reservedMemory ?? 0),
            containerInsights: cluster.insights,
          });
        }
        return { instance: instance.data, tasks };
      });
      const rejected = arns.filter((a) => !found.tasks.has(a));
      const points: MetricPoint[] = [];
      let accepted = 0;
      // The newest sample of each task counts towards the instance's share of its cluster's utilization.
      const newest = new Map<string, { timestamp: number; cpuUnits: number; memoryMiB: number }>();
      const now = deps.clock.now();
      for (const given of input.samples) {
        const task = found.tasks.get(given.taskArn);
        if (!task) continue;
        // The agent's clock is trusted within PutMetricData's window only: no points in the future, none older than two weeks.
        if (given.timestamp < now - 14 * 86400) continue;
        const s = { ...given, timestamp: Math.min(given.timestamp, now) };
        accepted++;
        points.push(...taskMetricPoints(s, task));
        const prev = newest.get(s.taskArn);
        if (!prev || prev.timestamp <= s.timestamp) newest.set(s.taskArn, s);
      }
      if (newest.size > 0) {
        const clusterName = [...found.tasks.values()][0]!.clusterName;
        const used = [...newest.values()].reduce((a, s) => ({ cpuUnits: a.cpuUnits + s.cpuUnits, memoryMiB: a.memoryMiB + s.memoryMiB }), { cpuUnits: 0, memoryMiB: 0 });
        const at = Math.max(...[...newest.values()].map((s) => s.timestamp));
        points.push(...instanceMetricPoints(clusterName, at, used, registeredCpuMemory(found.instance.registeredResources)));
      }
      if (points.length) deps.metrics({ accountId: found.instance.accountId, region: found.instance.region }, points);
      return { accepted, rejected } satisfies TaskStatsResponse;
    } catch (e) {
      return sendError(reply, e);
    }
  });
}
