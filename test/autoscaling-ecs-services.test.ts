/**
 * Application Auto Scaling on real ECS services (simulated agents, no containers): a step scaling
 * policy driven by a user alarm raises the service's desiredCount through UpdateService and the
 * service scheduler runs the tasks; a scheduled action lowers the maximum and the service follows;
 * DescribeScalingActivities tells the story in AWS's words.
 */
import { ApplicationAutoScalingClient, DescribeScalingActivitiesCommand, PutScalingPolicyCommand, PutScheduledActionCommand, RegisterScalableTargetCommand } from '@aws-sdk/client-application-auto-scaling';
import { CloudWatchClient, PutMetricAlarmCommand, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { CreateClusterCommand, CreateServiceCommand, RegisterTaskDefinitionCommand, type Service } from '@aws-sdk/client-ecs';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SimulatedRuntime, type Agent } from '../src/agent/index.js';
import { simulatedAgent } from './agent/helpers.js';
import { ecsServiceTarget, untilService } from './helpers/autoscaling.js';
import { credentials, startDockyard, type TestDockyard } from './helpers/dockyard.js';

const CLUSTER = 'scaling';

describe('Application Auto Scaling on ECS services', () => {
  let d: TestDockyard;
  let agent: Agent;
  let stateDir: string;
  let aas: ApplicationAutoScalingClient;
  let cw: CloudWatchClient;
  const target = ecsServiceTarget(CLUSTER, 'web');

  /** Polls the service (bounded) until `pred` holds. */
  const until = (pred: (s: Service) => boolean, what: string) => untilService(d.ecs, CLUSTER, 'web', pred, what);

  before(async () => {
    d = await startDockyard({ serviceControllerIdleMs: 500, agentHeartbeatIntervalMs: 500, metrics: { alarmEvaluationIntervalMs: 200, scheduledActionIntervalMs: 200 } } as never);
    stateDir = mkdtempSync(join(tmpdir(), 'dockyard-aas-ecs-'));
    await d.ecs.send(new CreateClusterCommand({ clusterName: CLUSTER }));
    agent = await simulatedAgent(d, { cluster: CLUSTER, stateDir, runtime: new SimulatedRuntime({ cpus: 4, memoryMiB: 8192, pullMs: 5, startMs: 10 }), pollWaitMs: 5000, cleanupDelayMs: 100 });
    await agent.start();
    await d.ecs.send(new RegisterTaskDefinitionCommand({ family: 'web', containerDefinitions: [{ name: 'app', image: 'simulated/web:1', cpu: 128, memory: 128 }] }));
    await d.ecs.send(new CreateServiceCommand({ cluster: CLUSTER, serviceName: 'web', taskDefinition: 'web:1', desiredCount: 1 }));
    aas = new ApplicationAutoScalingClient({ endpoint: d.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
    cw = new CloudWatchClient({ endpoint: d.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
  });
  after(async () => {
    aas?.destroy();
    cw?.destroy();
    await agent?.close();
    await d?.stop();
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  it('scales the service out on a user alarm, then in on a schedule', async () => {
    await until((s) => s.runningCount === 1, 'one running task');
    await aas.send(new RegisterScalableTargetCommand({ ...target, MinCapacity: 1, MaxCapacity: 4 }));
    const { PolicyARN } = await aas.send(
      new PutScalingPolicyCommand({
        ...target,
        PolicyName: 'backlog-out',
        PolicyType: 'StepScaling',
        StepScalingPolicyConfiguration: { AdjustmentType: 'ChangeInCapacity', Cooldown: 3600, StepAdjustments: [{ MetricIntervalLowerBound: 0, ScalingAdjustment: 2 }] },
      }),
    );
    await cw.send(new PutMetricAlarmCommand({ AlarmName: 'backlog', Namespace: 'Shop', MetricName: 'Backlog', Statistic: 'Maximum', Period: 60, EvaluationPeriods: 2, DatapointsToAlarm: 1, Threshold: 50, ComparisonOperator: 'GreaterThanThreshold', AlarmActions: [PolicyARN!] }));
    await cw.send(new PutMetricDataCommand({ Namespace: 'Shop', MetricData: [{ MetricName: 'Backlog', Value: 80 }] }));
    const out = await until((s) => s.desiredCount === 3 && s.runningCount === 3, 'three running tasks');
    assert.equal(out.desiredCount, 3);
    const [scaledOut] = (await aas.send(new DescribeScalingActivitiesCommand({ ServiceNamespace: 'ecs', ResourceId: target.ResourceId }))).ScalingActivities!;
    assert.deepEqual([scaledOut!.Description, scaledOut!.Cause, scaledOut!.StatusCode, scaledOut!.StatusMessage], [
      'Setting desired count to 3.',
      'monitor alarm backlog in state ALARM triggered policy backlog-out',
      'Successful',
      'Successfully set desired count to 3. Change successfully fulfilled by ecs.',
    ]);

    const at = new Date(Date.now() + 2000).toISOString().slice(0, 19);
    await aas.send(new PutScheduledActionCommand({ ...target, ScheduledActionName: 'night', Schedule: `at(${at})`, ScalableTargetAction: { MinCapacity: 1, MaxCapacity: 2 } }));
    await until((s) => s.desiredCount === 2 && s.runningCount === 2, 'two running tasks after the schedule');
    const story = (await aas.send(new DescribeScalingActivitiesCommand({ ServiceNamespace: 'ecs', ResourceId: target.ResourceId }))).ScalingActivities!.map((a) => [a.Description, a.Cause]);
    assert.deepEqual(story, [
      ['Setting desired count to 2.', 'scheduled action name night was triggered'],
      ['Setting min capacity to 1 and max capacity to 2', 'scheduled action name night was triggered'],
      ['Setting desired count to 3.', 'monitor alarm backlog in state ALARM triggered policy backlog-out'],
    ]);
  });
});
