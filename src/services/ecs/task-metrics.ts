/**
 * The CloudWatch metrics ECS publishes from its tasks' resource use, pure: agents' task samples
 * (protocol 1.3) → `AWS/ECS` CPUUtilization / MemoryUtilization and, for clusters with Container
 * Insights, `ECS/ContainerInsights` points. The caller records them in the metric store.
 */
import type { TaskStatsSample } from '../../protocol/index.js';

export interface MetricPoint {
  namespace: 'AWS/ECS' | 'ECS/ContainerInsights';
  metricName: string;
  dimensions: { Name: string; Value: string }[];
  /** Epoch seconds. */
  timestamp: number;
  value: number;
  unit: string;
}

/** What the control plane knows of the sampled task. */
export interface SampledTask {
  clusterName: string;
  serviceName?: string;
  family: string;
  /** What the task reserves, as the scheduler stored it: the task-level cpu/memory, else the sum of its containers'. */
  reservedCpu: number;
  reservedMemory: number;
  /** The cluster's containerInsights setting is `enabled` or `enhanced`. */
  containerInsights: boolean;
}

/**
 * ECS's utilization of one task: CPU units used ÷ CPU units reserved and MiB used ÷ MiB reserved,
 * in percent. A task that reserves none of a resource has no utilization of it. Averaged over a
 * service's tasks (one point per task sample) this is ECS's service utilization; Minimum and
 * Maximum are the least and most loaded task's.
 */
export function taskUtilization(sample: Pick<TaskStatsSample, 'cpuUnits' | 'memoryMiB'>, reservedCpu: number, reservedMemory: number): { cpu?: number; memory?: number } {
  return {
    cpu: reservedCpu > 0 ? (sample.cpuUnits * 100) / reservedCpu : undefined,
    memory: reservedMemory > 0 ? (sample.memoryMiB * 100) / reservedMemory : undefined,
  };
}

/** The points one task sample publishes. */
export function taskMetricPoints(sample: TaskStatsSample, task: SampledTask): MetricPoint[] {
  const out: MetricPoint[] = [];
  const t = sample.timestamp;
  const cluster = { Name: 'ClusterName', Value: task.clusterName };
  const util = taskUtilization(sample, task.reservedCpu, task.reservedMemory);
  if (task.serviceName !== undefined) {
    const dims = [cluster, { Name: 'ServiceName', Value: task.serviceName }];
    if (util.cpu !== undefined) out.push({ namespace: 'AWS/ECS', metricName: 'CPUUtilization', dimensions: dims, timestamp: t, value: util.cpu, unit: 'Percent' });
    if (util.memory !== undefined) out.push({ namespace: 'AWS/ECS', metricName: 'MemoryUtilization', dimensions: dims, timestamp: t, value: util.memory, unit: 'Percent' });
  }
  if (!task.containerInsights) return out;
  const dimSets = [[cluster], [cluster, { Name: 'TaskDefinitionFamily', Value: task.family }]];
  if (task.serviceName !== undefined) dimSets.push([cluster, { Name: 'ServiceName', Value: task.serviceName }]);
  const values: [string, number, string][] = [
    ['CpuUtilized', sample.cpuUnits, 'None'],
    ['CpuReserved', task.reservedCpu, 'None'],
    ['MemoryUtilized', sample.memoryMiB, 'Megabytes'],
    ['MemoryReserved', task.reservedMemory, 'Megabytes'],
    ['NetworkRxBytes', sample.networkRxBytes / sample.intervalSec, 'Bytes/Second'],
    ['NetworkTxBytes', sample.networkTxBytes / sample.intervalSec, 'Bytes/Second'],
    ['StorageReadBytes', sample.storageReadBytes, 'Bytes'],
    ['StorageWriteBytes', sample.storageWriteBytes, 'Bytes'],
  ];
  for (const dimensions of dimSets) {
    for (const [metricName, value, unit] of values) out.push({ namespace: 'ECS/ContainerInsights', metricName, dimensions, timestamp: t, value, unit });
  }
  return out;
}

/**
 * Cluster CPU and memory utilization as one instance contributes it: the CPU units (MiB) its
 * tasks use ÷ the CPU units (MiB) the instance registered. One point per instance per report, so
 * the minute's Average is the cluster's utilization when its instances are of one size.
 */
export function instanceMetricPoints(clusterName: string, timestamp: number, used: { cpuUnits: number; memoryMiB: number }, registered: { cpu: number; memory: number }): MetricPoint[] {
  return clusterPercentPoints(clusterName, timestamp, ['CPUUtilization', 'MemoryUtilization'], { cpu: used.cpuUnits, memory: used.memoryMiB }, registered);
}

/** `AWS/ECS` percentages of a cluster's registered CPU and memory, one point each (none where nothing is registered). */
function clusterPercentPoints(clusterName: string, timestamp: number, [cpuName, memoryName]: [string, string], amount: { cpu: number; memory: number }, registered: { cpu: number; memory: number }): MetricPoint[] {
  const dimensions = [{ Name: 'ClusterName', Value: clusterName }];
  const out: MetricPoint[] = [];
  if (registered.cpu > 0) out.push({ namespace: 'AWS/ECS', metricName: cpuName, dimensions, timestamp, value: (amount.cpu * 100) / registered.cpu, unit: 'Percent' });
  if (registered.memory > 0) out.push({ namespace: 'AWS/ECS', metricName: memoryName, dimensions, timestamp, value: (amount.memory * 100) / registered.memory, unit: 'Percent' });
  return out;
}

/**
 * ECS's cluster reservation (`AWS/ECS` CPUReservation and MemoryReservation, ClusterName only):
 * the CPU units (MiB) the live tasks on the cluster's ACTIVE and DRAINING instances reserve ÷ what
 * those instances registered, in percent. Published whether or not Container Insights is on; a
 * cluster without registered capacity publishes nothing.
 */
export function clusterReservationPoints(clusterName: string, timestamp: number, reserved: { cpu: number; memory: number }, registered: { cpu: number; memory: number }): MetricPoint[] {
  return clusterPercentPoints(clusterName, timestamp, ['CPUReservation', 'MemoryReservation'], reserved, registered);
}

/** What Container Insights counts in one cluster at one instant. */
export interface ClusterCounts {
  clusterName: string;
  services: { serviceName: string; desired: number; running: number; pending: number }[];
  tasks: number;
  containerInstances: number;
}

/** Container Insights' count metrics of one cluster (published once a minute by the leader). */
export function clusterCountPoints(c: ClusterCounts, timestamp: number): MetricPoint[] {
  const cluster = { Name: 'ClusterName', Value: c.clusterName };
  const point = (metricName: string, dimensions: MetricPoint['dimensions'], value: number): MetricPoint => ({ namespace: 'ECS/ContainerInsights', metricName, dimensions, timestamp, value, unit: 'Count' });
  const out = [point('ServiceCount', [cluster], c.services.length), point('TaskCount', [cluster], c.tasks), point('ContainerInstanceCount', [cluster], c.containerInstances)];
  for (const s of c.services) {
    const dims = [cluster, { Name: 'ServiceName', Value: s.serviceName }];
    out.push(point('DesiredTaskCount', dims, s.desired), point('RunningTaskCount', dims, s.running), point('PendingTaskCount', dims, s.pending));
  }
  return out;
}

/** Whether a cluster's settings turn Container Insights on. */
export function containerInsightsEnabled(settings: readonly { name?: string; value?: string }[] | undefined): boolean {
  const v = settings?.find((s) => s.name === 'containerInsights')?.value;
  return v === 'enabled' || v === 'enhanced';
}

/** Points of one series and minute, combined: what the metric store keeps per minute anyway. */
export interface MetricAggregate {
  point: MetricPoint;
  count: number;
  sum: number;
  min: number;
  max: number;
}

/**
 * Combines the points of one series within one minute (e.g. every task of a service in one
 * agent's report) into one statistic set: Average, Minimum, Maximum and SampleCount come out as
 * if each point had been recorded alone, with one write instead of many.
 */
export function aggregateByMinute(points: readonly MetricPoint[]): MetricAggregate[] {
  const out = new Map<string, MetricAggregate>();
  for (const p of points) {
    const key = `${p.namespace}\u0000${p.metricName}\u0000${JSON.stringify(p.dimensions)}\u0000${Math.floor(p.timestamp / 60)}`;
    const a = out.get(key);
    if (!a) {
      out.set(key, { point: p, count: 1, sum: p.value, min: p.value, max: p.value });
      continue;
    }
    a.count++;
    a.sum += p.value;
    a.min = Math.min(a.min, p.value);
    a.max = Math.max(a.max, p.value);
    if (p.timestamp > a.point.timestamp) a.point = p;
  }
  return [...out.values()];
}
