/**
 * Shared steps of the autoscaling tests: waiting (bounded) for an ECS service to reach a state,
 * a CPU target-tracking policy on it, and the scale-out-then-in story DescribeScalingActivities
 * must tell.
 */
import { DescribeScalingActivitiesCommand, PutScalingPolicyCommand, RegisterScalableTargetCommand, type ApplicationAutoScalingClient } from '@aws-sdk/client-application-auto-scaling';
import { DescribeServicesCommand, type ECSClient, type Service } from '@aws-sdk/client-ecs';
import assert from 'node:assert/strict';

export interface EcsScalableTarget {
  ServiceNamespace: 'ecs';
  ResourceId: string;
  ScalableDimension: 'ecs:service:DesiredCount';
}

/** The scalable target of service `name` in `cluster`. */
export function ecsServiceTarget(cluster: string, name: string): EcsScalableTarget {
  return { ServiceNamespace: 'ecs', ResourceId: `service/${cluster}/${name}`, ScalableDimension: 'ecs:service:DesiredCount' };
}

/** Polls the service every 100 ms until `pred` holds; fails after `timeoutMs` with its counts. */
export async function untilService(ecs: ECSClient, cluster: string, name: string, pred: (s: Service) => boolean, what: string, timeoutMs = 60_000): Promise<Service> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = (await ecs.send(new DescribeServicesCommand({ cluster, services: [name] }))).services![0]!;
    if (pred(s)) return s;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}: desired ${s.desiredCount}, running ${s.runningCount}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Registers the target (1…2 tasks) and a target-tracking policy `cpu50` on ECSServiceAverageCPUUtilization with 1 s cooldowns. */
export async function trackCpuAt50(aas: ApplicationAutoScalingClient, target: EcsScalableTarget): Promise<void> {
  await aas.send(new RegisterScalableTargetCommand({ ...target, MinCapacity: 1, MaxCapacity: 2 }));
  await aas.send(
    new PutScalingPolicyCommand({
      ...target,
      PolicyName: 'cpu50',
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: { TargetValue: 50, PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' }, ScaleOutCooldown: 1, ScaleInCooldown: 1 },
    }),
  );
}

/** The two newest activities (newest first): `cpu50`'s low alarm set 1 task, after its high alarm set 2. */
export async function assertScaledOutThenIn(aas: ApplicationAutoScalingClient, target: EcsScalableTarget): Promise<void> {
  const activities = (await aas.send(new DescribeScalingActivitiesCommand({ ServiceNamespace: 'ecs', ResourceId: target.ResourceId }))).ScalingActivities!;
  const [scaledIn, scaledOut] = activities;
  const alarm = (side: string) => new RegExp(`^monitor alarm TargetTracking-${target.ResourceId.replace(/[/\\^$.*+?()[\]{}|-]/g, '\\$&')}-Alarm${side}-[0-9a-f-]+ in state ALARM triggered policy cpu50$`);
  assert.equal(scaledOut!.Description, 'Setting desired count to 2.');
  assert.match(scaledOut!.Cause!, alarm('High'));
  assert.equal(scaledOut!.StatusCode, 'Successful');
  assert.equal(scaledIn!.Description, 'Setting desired count to 1.');
  assert.match(scaledIn!.Cause!, alarm('Low'));
  assert.equal(scaledIn!.StatusCode, 'Successful');
}
