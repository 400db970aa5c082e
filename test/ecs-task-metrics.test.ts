/**
 * Task metrics end to end on the SIMULATED runtime (no containers): an agent samples its tasks'
 * synthetic stats and sends them (agent protocol 1.3); the control plane publishes AWS/ECS
 * CPUUtilization and MemoryUtilization, readable with get-metric-statistics through AWS CLI v1
 * (JSON 1.0, and Smithy RPC v2 CBOR), CLI v2 (awsQuery) and SDK v3, and ECS/ContainerInsights for a cluster with Container Insights.
 * An agent may report only tasks placed on its own instance.
 */
import { CloudWatchClient, GetMetricStatisticsCommand, type Datapoint } from '@aws-sdk/client-cloudwatch';
import { CreateClusterCommand, CreateServiceCommand, DescribeServicesCommand, RegisterTaskDefinitionCommand, ListTasksCommand } from '@aws-sdk/client-ecs';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { AgentClient, loadCredential, ProtocolHttpError, SimulatedRuntime, type Agent } from '../src/agent/index.js';
import { simulatedAgent, sleep } from './agent/helpers.js';
import { AWS_CLI_V2, cloudWatchCborDataPath, requireCliV1 } from './helpers/aws-cli.js';
import { credentials, startDockyard, type TestDockyard } from './helpers/dockyard.js';

const run = promisify(execFile);
const CLUSTER = 'metrics';

describe('ECS task metrics from agent stats', () => {
  let d: TestDockyard;
  let agent: Agent;
  let other: Agent;
  let cw: CloudWatchClient;
  let cliV1: string;
  const dirs: string[] = [];

  const stats = async (namespace: string, metric: string, dims: Record<string, string>, statistics: ('Average' | 'Minimum' | 'Maximum' | 'SampleCount')[] = ['Average']) => {
    const now = Math.floor(Date.now() / 1000);
    const out = await cw.send(
      new GetMetricStatisticsCommand({
        Namespace: namespace,
        MetricName: metric,
        Dimensions: Object.entries(dims).map(([Name, Value]) => ({ Name, Value })),
        StartTime: new Date((now - 600) * 1000),
        EndTime: new Date((now + 60) * 1000),
        Period: 60,
        Statistics: statistics,
      }),
    );
    return out.Datapoints ?? [];
  };
  /** Polls (bounded) until the metric has a datapoint. */
  const datapoints = async (namespace: string, metric: string, dims: Record<string, string>, statistics?: ('Average' | 'Minimum' | 'Maximum' | 'SampleCount')[]): Promise<Datapoint[]> => {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const points = await stats(namespace, metric, dims, statistics);
      if (points.length > 0) return points;
      if (Date.now() > deadline) assert.fail(`no ${namespace} ${metric} datapoints`);
      await sleep(100);
    }
  };

  before(async () => {
    cliV1 = requireCliV1();
    d = await startDockyard({ serviceControllerIdleMs: 500, agentHeartbeatIntervalMs: 500, metrics: { alarmEvaluationIntervalMs: 0, containerInsightsIntervalMs: 200 } } as never);
    await d.ecs.send(new CreateClusterCommand({ clusterName: CLUSTER, settings: [{ name: 'containerInsights', value: 'enabled' }] }));
    for (const name of ['a', 'b']) dirs.push(mkdtempSync(join(tmpdir(), `dockyard-metrics-${name}-`)));
    // 2 vCPU hosts; every container of family `web` keeps 12.5% of a core busy (128 CPU units) and uses 128 MiB.
    const usage = (c: { family: string }) => (c.family === 'web' ? { cpuPercent: 12.5, memoryMiB: 128, networkBytesPerSec: 1000 } : undefined);
    agent = await simulatedAgent(d, { cluster: CLUSTER, stateDir: dirs[0]!, runtime: new SimulatedRuntime({ cpus: 2, memoryMiB: 4096, usage }), pollWaitMs: 5000, statsIntervalMs: 200 });
    await agent.start();
    await d.ecs.send(new RegisterTaskDefinitionCommand({ family: 'web', cpu: '256', memory: '512', containerDefinitions: [{ name: 'app', image: 'simulated/web:1' }] }));
    await d.ecs.send(new CreateServiceCommand({ cluster: CLUSTER, serviceName: 'web', taskDefinition: 'web:1', desiredCount: 1 }));
    cw = new CloudWatchClient({ endpoint: d.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
  });
  after(async () => {
    cw?.destroy();
    await agent?.close();
    await other?.close();
    await d?.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('publishes AWS/ECS CPUUtilization and MemoryUtilization per service, read by SDK v3, CLI v1 (JSON 1.0 and CBOR) and CLI v2 (query)', async () => {
    const dims = { ClusterName: CLUSTER, ServiceName: 'web' };
    const [cpu] = await datapoints('AWS/ECS', 'CPUUtilization', dims, ['Average', 'Minimum', 'Maximum', 'SampleCount']);
    // 128 units used of the task's 256: 50 %.
    assert.ok(Math.abs(cpu!.Average! - 50) < 1, `CPUUtilization ${cpu!.Average}`);
    assert.ok(cpu!.Minimum! <= cpu!.Average! && cpu!.Average! <= cpu!.Maximum!);
    assert.ok(cpu!.SampleCount! >= 1);
    assert.equal(cpu!.Unit, 'Percent');
    const [mem] = await datapoints('AWS/ECS', 'MemoryUtilization', dims);
    assert.ok(Math.abs(mem!.Average! - 25) < 0.01, `MemoryUtilization ${mem!.Average}`);

    const now = Math.floor(Date.now() / 1000);
    const args = ['cloudwatch', 'get-metric-statistics', '--namespace', 'AWS/ECS', '--metric-name', 'CPUUtilization', '--dimensions', `Name=ClusterName,Value=${CLUSTER}`, 'Name=ServiceName,Value=web',
      '--start-time', new Date((now - 600) * 1000).toISOString(), '--end-time', new Date((now + 60) * 1000).toISOString(), '--period', '60', '--statistics', 'Average', '--endpoint-url', d.endpoint, '--output', 'json'];
    const cborData = await cloudWatchCborDataPath(mkdtempSync(join(tmpdir(), 'dockyard-cbor-')));
    dirs.push(cborData);
    const clients: [string, NodeJS.ProcessEnv, string][] = [[cliV1, d.cliEnv, 'CLI v1'], [cliV1, { ...d.cliEnv, AWS_DATA_PATH: cborData }, 'CLI v1 (CBOR)'], [AWS_CLI_V2, d.cliEnv, 'CLI v2']];
    for (const [bin, env, name] of clients) {
      const debug = name === 'CLI v1 (CBOR)' ? ['--debug'] : [];
      const res = await run(bin, [...args, ...debug], { env, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
      if (debug.length) assert.match(res.stderr, /'smithy-protocol': b'rpc-v2-cbor'/, 'CLI v1 spoke CBOR');
      const out = JSON.parse(res.stdout) as { Label: string; Datapoints: { Average: number; Unit: string }[] };
      
      assert.equal(out.Label, 'CPUUtilization', name);
      assert.ok(out.Datapoints.length >= 1, `${name}: ${JSON.stringify(out)}`);
      assert.ok(out.Datapoints.every((p) => Math.abs(p.Average - 50) < 1 && p.Unit === 'Percent'), `${name}: ${JSON.stringify(out)}`);
    }
  });

  it('publishes cluster utilization against the instances\' registered CPU', async () => {
    const [cpu] = await datapoints('AWS/ECS', 'CPUUtilization', { ClusterName: CLUSTER });
    // 128 units of a 2 vCPU (2048 units) host.
    assert.ok(Math.abs(cpu!.Average! - 6.25) < 0.5, `cluster CPUUtilization ${cpu!.Average}`);
  });

  it('publishes ECS/ContainerInsights usage and counts for a cluster with Container Insights on', async () => {
    const dims = { ClusterName: CLUSTER, ServiceName: 'web' };
    const [used] = await datapoints('ECS/ContainerInsights', 'CpuUtilized', dims);
    assert.ok(Math.abs(used!.Average! - 128) < 2, `CpuUtilized ${used!.Average}`);
    assert.equal((await datapoints('ECS/ContainerInsights', 'CpuReserved', dims))[0]!.Average, 256);
    assert.equal((await datapoints('ECS/ContainerInsights', 'MemoryUtilized', dims))[0]!.Average, 128);
    assert.equal((await datapoints('ECS/ContainerInsights', 'MemoryReserved', dims))[0]!.Average, 512);
    const rx = (await datapoints('ECS/ContainerInsights', 'NetworkRxBytes', dims))[0]!;
    assert.ok(rx.Average! > 500 && rx.Average! < 1500 && rx.Unit === 'Bytes/Second', `NetworkRxBytes ${JSON.stringify(rx)}`);
    assert.ok((await datapoints('ECS/ContainerInsights', 'CpuUtilized', { ClusterName: CLUSTER, TaskDefinitionFamily: 'web' })).length > 0);
    assert.equal((await datapoints('ECS/ContainerInsights', 'RunningTaskCount', dims, ['Maximum']))[0]!.Maximum, 1);
    assert.equal((await datapoints('ECS/ContainerInsights', 'DesiredTaskCount', dims, ['Maximum']))[0]!.Maximum, 1);
    assert.equal((await datapoints('ECS/ContainerInsights', 'ServiceCount', { ClusterName: CLUSTER }, ['Maximum']))[0]!.Maximum, 1);
    assert.equal((await datapoints('ECS/ContainerInsights', 'ContainerInstanceCount', { ClusterName: CLUSTER }, ['Maximum']))[0]!.Maximum, 1);
    assert.ok((await datapoints('ECS/ContainerInsights', 'StorageReadBytes', dims)).length > 0);
  });

  it('publishes AWS/ECS CPUReservation and MemoryReservation of the cluster', async () => {
    // One 256-unit / 512 MiB task on a 2 vCPU (2048 units) / 4096 MiB host.
    const [cpu] = await datapoints('AWS/ECS', 'CPUReservation', { ClusterName: CLUSTER }, ['Maximum']);
    assert.equal(cpu!.Maximum, 12.5);
    assert.equal(cpu!.Unit, 'Percent');
    const [mem] = await datapoints('AWS/ECS', 'MemoryReservation', { ClusterName: CLUSTER }, ['Maximum']);
    assert.equal(mem!.Maximum, 12.5);
  });

  it('no Container Insights metrics for a cluster without it, and no reservation without capacity', async () => {
    await d.ecs.send(new CreateClusterCommand({ clusterName: 'plain' }));
    await sleep(500);
    assert.deepEqual(await stats('ECS/ContainerInsights', 'ServiceCount', { ClusterName: 'plain' }), []);
    assert.deepEqual(await stats('AWS/ECS', 'CPUReservation', { ClusterName: 'plain' }), []);
  });

  it('an agent reports only tasks placed on its own instance', async () => {
    other = await simulatedAgent(d, { cluster: CLUSTER, stateDir: dirs[1]!, pollWaitMs: 5000, statsIntervalMs: 0 });
    await other.start();
    const [taskArn] = (await d.ecs.send(new ListTasksCommand({ cluster: CLUSTER, serviceName: 'web' }))).taskArns!;
    assert.ok((await d.ecs.send(new DescribeServicesCommand({ cluster: CLUSTER, services: ['web'] }))).services![0]!.runningCount === 1);
    const client = new AgentClient(d.endpoint);
    client.credential = loadCredential(dirs[1]!);
    try {
      const sample = { taskArn: taskArn!, timestamp: Math.floor(Date.now() / 1000), cpuUnits: 4096, memoryMiB: 1, networkRxBytes: 0, networkTxBytes: 0, storageReadBytes: 0, storageWriteBytes: 0, intervalSec: 20 };
      // Its own instance, another's task: dropped.
      assert.deepEqual(await client.taskStats(other.containerInstanceArn!, [sample]), { accepted: 0, rejected: [taskArn] });
      // Another instance: refused.
      await assert.rejects(client.taskStats(agent.containerInstanceArn!, [sample]), (e: unknown) => e instanceof ProtocolHttpError && e.status === 403 && e.code === 'AccessDenied');
      // No credential: refused before anything is looked at; a malformed batch: 400.
      const anonymous = new AgentClient(d.endpoint);
      await assert.rejects(anonymous.taskStats(other.containerInstanceArn!, [sample]), (e: unknown) => e instanceof ProtocolHttpError && e.status === 401);
      await anonymous.close();
      await assert.rejects(client.taskStats(other.containerInstanceArn!, [{ ...sample, cpuUnits: -1 }]), (e: unknown) => e instanceof ProtocolHttpError && e.status === 400 && e.code === 'BadRequest');
      await assert.rejects(client.taskStats(other.containerInstanceArn!, Array.from({ length: 1001 }, () => sample)), (e: unknown) => e instanceof ProtocolHttpError && e.status === 400);
    } finally {
      await client.close();
    }
    // The refused sample (400 % of the task's CPU) never reached the metric.
    const [cpu] = await stats('AWS/ECS', 'CPUUtilization', { ClusterName: CLUSTER, ServiceName: 'web' }, ['Maximum']);
    assert.ok(cpu!.Maximum! < 60, `Maximum ${cpu!.Maximum}`);
  });
});
