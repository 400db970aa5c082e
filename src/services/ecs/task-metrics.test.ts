import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { aggregateByMinute, clusterCountPoints, clusterReservationPoints, containerInsightsEnabled, instanceMetricPoints, taskMetricPoints, taskUtilization, type SampledTask } from './task-metrics.js';

const sample = { taskArn: 't', timestamp: 1000, cpuUnits: 256, memoryMiB: 64, networkRxBytes: 2000, networkTxBytes: 1000, storageReadBytes: 4096, storageWriteBytes: 0, intervalSec: 20 };
const task: SampledTask = { clusterName: 'c', serviceName: 'web', family: 'web', reservedCpu: 512, reservedMemory: 256, containerInsights: false };

describe('ECS task metrics', () => {
  it('utilization: used ÷ reserved, in percent (1024 units = 1 vCPU)', () => {
    assert.deepEqual(taskUtilization(sample, 512, 256), { cpu: 50, memory: 25 });
    assert.deepEqual(taskUtilization({ cpuUnits: 2048, memoryMiB: 512 }, 1024, 512), { cpu: 200, memory: 100 });
    // Nothing reserved: no utilization.
    assert.deepEqual(taskUtilization(sample, 0, 0), { cpu: undefined, memory: undefined });
  });

  it('a service task publishes AWS/ECS CPUUtilization and MemoryUtilization per ClusterName and ServiceName', () => {
    const points = taskMetricPoints(sample, task);
    assert.deepEqual(
      points.map((p) => [p.namespace, p.metricName, p.dimensions.map((d) => `${d.Name}=${d.Value}`).join(','), p.value, p.unit]),
      [
        ['AWS/ECS', 'CPUUtilization', 'ClusterName=c,ServiceName=web', 50, 'Percent'],
        ['AWS/ECS', 'MemoryUtilization', 'ClusterName=c,ServiceName=web', 25, 'Percent'],
      ],
    );
    // A standalone task has no service metric.
    assert.deepEqual(taskMetricPoints(sample, { ...task, serviceName: undefined }), []);
  });

  it('Container Insights only when the cluster has it on: usage per cluster, family and service', () => {
    const points = taskMetricPoints(sample, { ...task, containerInsights: true }).filter((p) => p.namespace === 'ECS/ContainerInsights');
    assert.equal(points.length, 3 * 8);
    const svc = (name: string) => points.find((p) => p.metricName === name && p.dimensions.some((d) => d.Name === 'ServiceName'))!;
    assert.equal(svc('CpuUtilized').value, 256);
    assert.equal(svc('CpuReserved').value, 512);
    assert.equal(svc('MemoryUtilized').unit, 'Megabytes');
    assert.equal(svc('NetworkRxBytes').value, 100, 'bytes per second over the interval');
    assert.equal(svc('NetworkRxBytes').unit, 'Bytes/Second');
    assert.equal(svc('StorageReadBytes').value, 4096);
    assert.ok(points.some((p) => p.dimensions.some((d) => d.Name === 'TaskDefinitionFamily' && d.Value === 'web')));
    assert.equal(containerInsightsEnabled([{ name: 'containerInsights', value: 'enabled' }]), true);
    assert.equal(containerInsightsEnabled([{ name: 'containerInsights', value: 'enhanced' }]), true);
    assert.equal(containerInsightsEnabled([{ name: 'containerInsights', value: 'disabled' }]), false);
    assert.equal(containerInsightsEnabled(undefined), false);
  });

  it('cluster utilization: what the instance\'s tasks use ÷ what it registered', () => {
    const [cpu, mem] = instanceMetricPoints('c', 5, { cpuUnits: 1024, memoryMiB: 1024 }, { cpu: 4096, memory: 8192 });
    assert.deepEqual([cpu!.metricName, cpu!.value, mem!.metricName, mem!.value], ['CPUUtilization', 25, 'MemoryUtilization', 12.5]);
    assert.deepEqual(cpu!.dimensions, [{ Name: 'ClusterName', Value: 'c' }]);
  });

  it('cluster reservation: what the live tasks reserve ÷ what the instances registered; nothing without capacity', () => {
    const points = clusterReservationPoints('c', 60, { cpu: 512, memory: 1024 }, { cpu: 2048, memory: 8192 });
    assert.deepEqual(points.map((p) => [p.namespace, p.metricName, p.value, p.unit]), [['AWS/ECS', 'CPUReservation', 25, 'Percent'], ['AWS/ECS', 'MemoryReservation', 12.5, 'Percent']]);
    assert.deepEqual(points[0]!.dimensions, [{ Name: 'ClusterName', Value: 'c' }]);
    assert.deepEqual(clusterReservationPoints('c', 60, { cpu: 0, memory: 0 }, { cpu: 0, memory: 0 }), []);
  });

  it('Container Insights counts per cluster and service', () => {
    const points = clusterCountPoints({ clusterName: 'c', services: [{ serviceName: 'web', desired: 3, running: 2, pending: 1 }], tasks: 3, containerInstances: 1 }, 60);
    const v = Object.fromEntries(points.map((p) => [p.metricName, p.value]));
    assert.deepEqual(v, { ServiceCount: 1, TaskCount: 3, ContainerInstanceCount: 1, DesiredTaskCount: 3, RunningTaskCount: 2, PendingTaskCount: 1 });
  });

  it('combines one series\' points within a minute into one statistic set', () => {
    const p = (value: number, timestamp: number, service = 'web') => ({ namespace: 'AWS/ECS' as const, metricName: 'CPUUtilization', dimensions: [{ Name: 'ServiceName', Value: service }], timestamp, value, unit: 'Percent' });
    const out = aggregateByMinute([p(10, 600), p(30, 659), p(20, 610), p(50, 660), p(70, 600, 'api')]);
    assert.deepEqual(
      out.map((a) => [a.point.dimensions[0]!.Value, a.point.timestamp, a.count, a.sum, a.min, a.max]),
      [
        ['web', 659, 3, 60, 10, 30],
        ['web', 660, 1, 50, 50, 50],
        ['api', 600, 1, 70, 70, 70],
      ],
    );
  });
});
