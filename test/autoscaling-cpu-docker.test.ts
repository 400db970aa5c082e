/**
 * Autoscaling on real load, with real Docker: a service whose busybox task burns CPU for a while
 * after it starts (then sleeps) scales out on ECSServiceAverageCPUUtilization target tracking and
 * back in once the load stops. The embedded agent samples Docker's stats every second; alarm
 * periods and cooldowns are shortened through configuration. DescribeScalingActivities tells the
 * story. Nothing here is timed: every wait is bounded and only the order of events is asserted.
 */
import { ApplicationAutoScalingClient } from '@aws-sdk/client-application-auto-scaling';
import { CreateServiceCommand, RegisterTaskDefinitionCommand, UpdateServiceCommand, type Service } from '@aws-sdk/client-ecs';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertScaledOutThenIn, ecsServiceTarget, trackCpuAt50, untilService } from './helpers/autoscaling.js';
import { credentials, startDockyard, type TestDockyard } from './helpers/dockyard.js';
import { buildHttpdImage } from './helpers/images.js';

/** Seconds each task keeps one loop busy after it starts. */
const BURN_SECONDS = 12;

describe('autoscaling a CPU-burning service on Docker', { timeout: 300_000 }, () => {
  let d: TestDockyard;
  let aas: ApplicationAutoScalingClient;
  const target = ecsServiceTarget('default', 'burner');
  const until = (pred: (s: Service) => boolean, what: string, ms: number) => untilService(d.ecs, 'default', 'burner', pred, what, ms);

  before(async () => {
    const image = buildHttpdImage();
    d = await startDockyard({
      embeddedAgent: { bindIp: '127.0.0.1', cleanupDelayMs: 60_000, pollWaitMs: 20_000, statsIntervalMs: 1000 },
      serviceControllerIdleMs: 500,
      agentHeartbeatIntervalMs: 500,
      metrics: { alarmEvaluationIntervalMs: 500, scheduledActionIntervalMs: 0, containerInsightsIntervalMs: 0, targetTrackingHighPeriods: 1, targetTrackingLowPeriods: 1 },
    } as never);
    aas = new ApplicationAutoScalingClient({ endpoint: d.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
    // 256 CPU units: a quarter of a core is 100 % utilization, and Docker caps the task there.
    const burnThenSleep = `end=$(( $(date +%s) + ${BURN_SECONDS} )); while [ $(date +%s) -lt $end ]; do :; done; exec sleep 3600`;
    await d.ecs.send(
      new RegisterTaskDefinitionCommand({ family: 'burner', cpu: '256', memory: '64', containerDefinitions: [{ name: 'main', image, essential: true, stopTimeout: 1, entryPoint: ['/bin/sh', '-c'], command: [burnThenSleep] }] }),
    );
    await d.ecs.send(new CreateServiceCommand({ serviceName: 'burner', taskDefinition: 'burner', desiredCount: 1 }));
    await trackCpuAt50(aas, target);
  });
  after(async () => {
    aas?.destroy();
    if (d) await d.ecs.send(new UpdateServiceCommand({ service: 'burner', desiredCount: 0 })).catch(() => undefined);
    await d?.stop();
  });

  it('scales out while the task burns CPU and back in after the load stops', async () => {
    const out = await until((s) => s.desiredCount === 2, 'scale-out to two tasks', 120_000);
    assert.equal(out.desiredCount, 2);
    // Both tasks stop burning BURN_SECONDS after they start: the average falls and the service scales in.
    const back = await until((s) => s.desiredCount === 1, 'scale-in to one task', 150_000);
    assert.equal(back.desiredCount, 1);

    await assertScaledOutThenIn(aas, target);
  });
});
