/**
 * Target tracking on ECSServiceAverageCPUUtilization, end to end on the SIMULATED runtime: the
 * agent's (synthetic) task stats become AWS/ECS CPUUtilization, the policy's alarms fire on it,
 * the service scales out while the CPU is high and back in when it drops, and
 * DescribeScalingActivities tells the story. Alarm periods, evaluation and cooldowns are
 * shortened through configuration.
 */
import { ApplicationAutoScalingClient } from '@aws-sdk/client-application-auto-scaling';
import { CreateClusterCommand, CreateServiceCommand, RegisterTaskDefinitionCommand, type Service } from '@aws-sdk/client-ecs';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SimulatedRuntime, type Agent } from '../src/agent/index.js';
import { simulatedAgent } from './agent/helpers.js';
import { assertScaledOutThenIn, ecsServiceTarget, trackCpuAt50, untilService } from './helpers/autoscaling.js';
import { credentials, startDockyard, type TestDockyard } from './helpers/dockyard.js';

const CLUSTER = 'tracking';

describe('target tracking on ECS service CPU', () => {
  let d: TestDockyard;
  let agent: Agent;
  let stateDir: string;
  let aas: ApplicationAutoScalingClient;
  /** Percent of one core each `web` container keeps busy: the knob the test turns. */
  let cpuPercent = 2;
  const target = ecsServiceTarget(CLUSTER, 'web');
  const until = (pred: (s: Service) => boolean, what: string) => untilService(d.ecs, CLUSTER, 'web', pred, what, 45_000);

  before(async () => {
    d = await startDockyard({
      serviceControllerIdleMs: 500,
      agentHeartbeatIntervalMs: 500,
      metrics: { alarmEvaluationIntervalMs: 200, scheduledActionIntervalMs: 0, containerInsightsIntervalMs: 0, targetTrackingHighPeriods: 1, targetTrackingLowPeriods: 1 },
    } as never);
    stateDir = mkdtempSync(join(tmpdir(), 'dockyard-tt-cpu-'));
    await d.ecs.send(new CreateClusterCommand({ clusterName: CLUSTER }));
    const runtime = new SimulatedRuntime({ cpus: 4, memoryMiB: 8192, usage: (c) => (c.family === 'web' ? { cpuPercent, memoryMiB: 64 } : undefined) });
    agent = await simulatedAgent(d, { cluster: CLUSTER, stateDir, runtime, pollWaitMs: 5000, cleanupDelayMs: 100, statsIntervalMs: 100 });
    await agent.start();
    // 256 CPU units per task: 25 % of a core is 100 % utilization.
    await d.ecs.send(new RegisterTaskDefinitionCommand({ family: 'web', cpu: '256', memory: '512', containerDefinitions: [{ name: 'app', image: 'simulated/web:1' }] }));
    await d.ecs.send(new CreateServiceCommand({ cluster: CLUSTER, serviceName: 'web', taskDefinition: 'web:1', desiredCount: 1 }));
    aas = new ApplicationAutoScalingClient({ endpoint: d.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
  });
  after(async () => {
    aas?.destroy();
    await agent?.close();
    await d?.stop();
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  it('scales out while CPU is above the target and back in when it drops', async () => {
    await until((s) => s.runningCount === 1, 'one running task');
    await trackCpuAt50(aas, target);
    // 22.5 % of a core = 90 % of the task's 256 units: above the 50 % target.
    cpuPercent = 22.5;
    const out = await until((s) => s.desiredCount === 2 && s.runningCount === 2, 'two running tasks');
    assert.equal(out.desiredCount, 2);
    // The load stops: the minute's average falls below the low alarm's threshold and the service scales in.
    cpuPercent = 0;
    const back = await until((s) => s.desiredCount === 1, 'scale-in to one task');
    assert.equal(back.desiredCount, 1);

    await assertScaledOutThenIn(aas, target);
  });
});
