/**
 * Task metrics from real Docker: the embedded agent samples its containers' stats (one-shot) and
 * the service of a busybox task burning CPU shows a CPUUtilization well above 0, while the
 * service of a sleeping one stays near 0. Only broad ranges are asserted (the machine is shared).
 */
import { CloudWatchClient, GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import { CreateServiceCommand, DescribeServicesCommand, RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sleep } from './agent/helpers.js';
import { credentials, startDockyard, type TestDockyard } from './helpers/dockyard.js';
import { buildHttpdImage } from './helpers/images.js';

describe('task metrics from Docker', { timeout: 120_000 }, () => {
  let d: TestDockyard;
  let cw: CloudWatchClient;

  before(async () => {
    const image = buildHttpdImage();
    d = await startDockyard({ embeddedAgent: { bindIp: '127.0.0.1', cleanupDelayMs: 60_000, pollWaitMs: 20_000, statsIntervalMs: 1000 }, serviceControllerIdleMs: 500, agentHeartbeatIntervalMs: 500 } as never);
    cw = new CloudWatchClient({ endpoint: d.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
    // 256 CPU units reserved: one busy core is 400 %.
    const def = (family: string, script: string) =>
      d.ecs.send(new RegisterTaskDefinitionCommand({ family, cpu: '256', memory: '64', containerDefinitions: [{ name: 'main', image, essential: true, stopTimeout: 1, entryPoint: ['/bin/sh', '-c'], command: [script] }] }));
    await def('burn', 'while :; do :; done');
    await def('idle', 'exec sleep 3600');
    for (const name of ['burn', 'idle']) await d.ecs.send(new CreateServiceCommand({ serviceName: name, taskDefinition: name, desiredCount: 1 }));
  });
  after(async () => {
    cw?.destroy();
    await d?.stop();
  });

  /** Polls (bounded) until the service's CPUUtilization has `samples` samples in total; returns the datapoints. */
  async function cpuOf(service: string, samples: number) {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const now = Math.floor(Date.now() / 1000);
      const { Datapoints = [] } = await cw.send(
        new GetMetricStatisticsCommand({
          Namespace: 'AWS/ECS',
          MetricName: 'CPUUtilization',
          Dimensions: [{ Name: 'ClusterName', Value: 'default' }, { Name: 'ServiceName', Value: service }],
          StartTime: new Date((now - 600) * 1000),
          EndTime: new Date((now + 60) * 1000),
          Period: 600,
          Statistics: ['Average', 'Maximum', 'SampleCount'],
        }),
      );
      if (Datapoints.reduce((n, p) => n + (p.SampleCount ?? 0), 0) >= samples) return Datapoints;
      if (Date.now() > deadline) assert.fail(`too few CPUUtilization samples for ${service}: ${JSON.stringify(Datapoints)}`);
      await sleep(500);
    }
  }

  it('a CPU-burning task shows high CPUUtilization, a sleeping one near 0', async (t) => {
    const running = async () => (await d.ecs.send(new DescribeServicesCommand({ services: ['burn', 'idle'] }))).services!.every((s) => s.runningCount === 1);
    for (let i = 0; i < 600 && !(await running()); i++) await sleep(100);
    assert.ok(await running(), 'both services run a task');
    const burn = await cpuOf('burn', 3);
    const idle = await cpuOf('idle', 3);
    const avg = (ps: typeof burn) => ps.reduce((n, p) => n + p.Average! * p.SampleCount!, 0) / ps.reduce((n, p) => n + p.SampleCount!, 0);
    t.diagnostic(`CPUUtilization average: burning ${avg(burn).toFixed(1)} %, sleeping ${avg(idle).toFixed(2)} %`);
    // Even a quarter of one core is 100 % of 256 units; a busy loop on a shared machine gets at least that much on average.
    assert.ok(avg(burn) > 40, `burning: ${JSON.stringify(burn)}`);
    assert.ok(avg(burn) <= 100 * 4 * 2 + 1, `burning (at most every core of this host): ${JSON.stringify(burn)}`);
    assert.ok(avg(idle) < 5, `sleeping: ${JSON.stringify(idle)}`);
  });
});
