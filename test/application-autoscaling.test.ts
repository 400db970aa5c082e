/**
 * Application Auto Scaling end to end on the API: a step scaling policy driven by a user's alarm
 * (PutMetricData → alarm evaluator → policy → capacity through a test driver), a scheduled
 * action run on time, target tracking's own alarms, scaling activities in AWS's wording, and the
 * ECS driver refusing a service that does not exist. Evaluation intervals are shortened by config.
 */
import {
  ApplicationAutoScalingClient,
  DeleteScalingPolicyCommand,
  DescribeScalableTargetsCommand,
  DescribeScalingActivitiesCommand,
  DescribeScalingPoliciesCommand,
  DescribeScheduledActionsCommand,
  ListTagsForResourceCommand,
  PutScalingPolicyCommand,
  PutScheduledActionCommand,
  RegisterScalableTargetCommand,
  TagResourceCommand,
} from '@aws-sdk/client-application-auto-scaling';
import { CloudWatchClient, DescribeAlarmHistoryCommand, DescribeAlarmsCommand, PutMetricAlarmCommand, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { AwsError } from '../src/aws/errors.js';
import type { ScalableTargetDriver } from '../src/services/application-autoscaling/index.js';
import { AWS_CLI_V2, requireCliV1 } from './helpers/aws-cli.js';
import { credentials, startDockyard, type TestDockyard } from './helpers/dockyard.js';

const run = promisify(execFile);

/** ECS services as a map: what the ECS driver will do once services exist. */
class TestDriver implements ScalableTargetDriver {
  readonly capacity = new Map<string, number>([['service/default/web', 1]]);
  async validate(_scope: unknown, resourceId: string) {
    if (!this.capacity.has(resourceId)) throw new AwsError('ValidationException', `ECS service doesn't exist: ${resourceId}`);
  }
  async current(_scope: unknown, resourceId: string) {
    return this.capacity.get(resourceId)!;
  }
  async setCapacity(_scope: unknown, resourceId: string, n: number) {
    this.capacity.set(resourceId, n);
  }
}

/** Waits (bounded) until `fn` returns something truthy. */
async function eventually<T>(fn: () => Promise<T> | T, what: string, limitMs = 30_000): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe('Application Auto Scaling', () => {
  let t: TestDockyard;
  let aas: ApplicationAutoScalingClient;
  let cw: CloudWatchClient;
  const driver = new TestDriver();
  const target = { ServiceNamespace: 'ecs', ResourceId: 'service/default/web', ScalableDimension: 'ecs:service:DesiredCount' } as const;

  before(async () => {
    t = await startDockyard({ metrics: { alarmEvaluationIntervalMs: 200, scheduledActionIntervalMs: 200 } }, undefined, { scalableTargetDrivers: { ecs: driver } });
    aas = new ApplicationAutoScalingClient({ endpoint: t.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
    cw = new CloudWatchClient({ endpoint: t.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
  });
  after(async () => {
    aas?.destroy();
    cw?.destroy();
    await t?.stop();
  });

  const activities = async () => (await aas.send(new DescribeScalingActivitiesCommand({ ServiceNamespace: 'ecs', ResourceId: target.ResourceId }))).ScalingActivities!;

  it('registers a target, with tags, and refuses an unknown one with ValidationException', async () => {
    const { ScalableTargetARN } = await aas.send(new RegisterScalableTargetCommand({ ...target, MinCapacity: 1, MaxCapacity: 5, Tags: { team: 'shop' } }));
    assert.match(ScalableTargetARN!, /^arn:aws:application-autoscaling:us-east-1:000000000000:scalable-target\/[0-9a-f]{32}$/);
    const [described] = (await aas.send(new DescribeScalableTargetsCommand({ ServiceNamespace: 'ecs' }))).ScalableTargets!;
    assert.equal(described!.MinCapacity, 1);
    assert.equal(described!.MaxCapacity, 5);
    assert.deepEqual(described!.SuspendedState, { DynamicScalingInSuspended: false, DynamicScalingOutSuspended: false, ScheduledScalingSuspended: false });
    await aas.send(new TagResourceCommand({ ResourceARN: ScalableTargetARN!, Tags: { env: 'test' } }));
    assert.deepEqual((await aas.send(new ListTagsForResourceCommand({ ResourceARN: ScalableTargetARN! }))).Tags, { team: 'shop', env: 'test' });
    await assert.rejects(aas.send(new RegisterScalableTargetCommand({ ...target, ResourceId: 'service/default/missing', MinCapacity: 1, MaxCapacity: 2 })), (e: Error) => e.name === 'ValidationException' && /ECS service doesn't exist: service\/default\/missing/.test(e.message));
    await assert.rejects(aas.send(new RegisterScalableTargetCommand({ ...target, MinCapacity: 3, MaxCapacity: 2 })), /Minimum capacity cannot be greater than maximum capacity/);
    const manyTags = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v']));
    await assert.rejects(aas.send(new RegisterScalableTargetCommand({ ...target, ResourceId: 'service/default/missing', MinCapacity: 1, MaxCapacity: 2, Tags: manyTags })), (e: Error) => e.name === 'ValidationException' && /at most 50 tags/.test(e.message));
  });

  it('scales out through a step scaling policy when the user alarm fed by PutMetricData fires', async () => {
    const { PolicyARN } = await aas.send(
      new PutScalingPolicyCommand({
        ...target,
        PolicyName: 'step-out',
        PolicyType: 'StepScaling',
        StepScalingPolicyConfiguration: {
          AdjustmentType: 'ChangeInCapacity',
          Cooldown: 3600,
          StepAdjustments: [
            { MetricIntervalLowerBound: 0, MetricIntervalUpperBound: 20, ScalingAdjustment: 1 },
            { MetricIntervalLowerBound: 20, ScalingAdjustment: 2 },
          ],
        },
      }),
    );
    assert.match(PolicyARN!, /^arn:aws:autoscaling:us-east-1:000000000000:scalingPolicy:[0-9a-f-]{36}:resource\/ecs\/service\/default\/web:policyName\/step-out$/);
    // Two periods, one datapoint to alarm: the point's minute stays in the window if the clock turns a minute.
    await cw.send(new PutMetricAlarmCommand({ AlarmName: 'queue-high', Namespace: 'Shop', MetricName: 'QueueDepth', Statistic: 'Maximum', Period: 60, EvaluationPeriods: 2, DatapointsToAlarm: 1, Threshold: 100, ComparisonOperator: 'GreaterThanThreshold', AlarmActions: [PolicyARN!] }));
    assert.equal(driver.capacity.get(target.ResourceId), 1);
    await cw.send(new PutMetricDataCommand({ Namespace: 'Shop', MetricData: [{ MetricName: 'QueueDepth', Value: 130 }] }));
    // 130 is 30 over the threshold: the second step, +2.
    await eventually(() => driver.capacity.get(target.ResourceId) === 3, 'capacity 3');
    const [activity] = await eventually(activities, 'a scaling activity');
    assert.equal(activity!.Description, 'Setting desired count to 3.');
    assert.equal(activity!.Cause, 'monitor alarm queue-high in state ALARM triggered policy step-out');
    assert.equal(activity!.StatusCode, 'Successful');
    assert.equal(activity!.StatusMessage, 'Successfully set desired count to 3. Change successfully fulfilled by ecs.');
    const [alarm] = (await cw.send(new DescribeAlarmsCommand({ AlarmNames: ['queue-high'] }))).MetricAlarms!;
    assert.equal(alarm!.StateValue, 'ALARM');
    assert.match(alarm!.StateReason!, /^Threshold Crossed: 1 out of the last 1 datapoints \[130\.0 \(.*\)\] was greater than the threshold \(100\.0\)/);
    const history = (await cw.send(new DescribeAlarmHistoryCommand({ AlarmName: 'queue-high', HistoryItemType: 'Action' }))).AlarmHistoryItems!;
    assert.ok(history.some((h) => h.HistorySummary === `Successfully executed action ${PolicyARN}`), JSON.stringify(history));
  });

  it('evaluates an alarm on metric math (the evaluator that drives the policies)', async () => {
    await cw.send(
      new PutMetricAlarmCommand({
        AlarmName: 'error-rate',
        // Two periods: the minute the points are in stays in the window even if the clock turns a minute.
        EvaluationPeriods: 2,
        DatapointsToAlarm: 1,
        Threshold: 0.1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        Metrics: [
          { Id: 'errors', MetricStat: { Metric: { Namespace: 'Shop', MetricName: 'Errors' }, Period: 60, Stat: 'Sum' }, ReturnData: false },
          { Id: 'requests', MetricStat: { Metric: { Namespace: 'Shop', MetricName: 'Requests' }, Period: 60, Stat: 'Sum' }, ReturnData: false },
          { Id: 'rate', Expression: 'errors / requests', ReturnData: true },
        ],
      }),
    );
    const at = new Date();
    await cw.send(new PutMetricDataCommand({ Namespace: 'Shop', MetricData: [{ MetricName: 'Requests', Value: 100, Timestamp: at }, { MetricName: 'Errors', Value: 5, Timestamp: at }] }));
    const stateOf = async () => (await cw.send(new DescribeAlarmsCommand({ AlarmNames: ['error-rate'] }))).MetricAlarms![0]!.StateValue;
    await eventually(async () => (await stateOf()) === 'OK', 'error-rate OK at 5 %');
    await cw.send(new PutMetricDataCommand({ Namespace: 'Shop', MetricData: [{ MetricName: 'Errors', Value: 20, Timestamp: at }] }));
    await eventually(async () => (await stateOf()) === 'ALARM', 'error-rate ALARM at 25 %');
  });

  it('runs a scheduled action on time: new min and max, and capacity brought into range', async () => {
    const at = new Date(Date.now() + 2000).toISOString().slice(0, 19);
    await aas.send(new PutScheduledActionCommand({ ...target, ScheduledActionName: 'morning', Schedule: `at(${at})`, ScalableTargetAction: { MinCapacity: 4, MaxCapacity: 6 } }));
    const [scheduled] = (await aas.send(new DescribeScheduledActionsCommand({ ServiceNamespace: 'ecs' }))).ScheduledActions!;
    assert.equal(scheduled!.Schedule, `at(${at})`);
    assert.match(scheduled!.ScheduledActionARN!, /:scheduledAction:[0-9a-f-]{36}:resource\/ecs\/service\/default\/web:scheduledActionName\/morning$/);
    await eventually(() => driver.capacity.get(target.ResourceId) === 4, 'capacity 4');
    const [described] = (await aas.send(new DescribeScalableTargetsCommand({ ServiceNamespace: 'ecs', ResourceIds: [target.ResourceId] }))).ScalableTargets!;
    assert.deepEqual([described!.MinCapacity, described!.MaxCapacity], [4, 6]);
    const story = (await activities()).map((a) => [a.Description, a.Cause]);
    assert.deepEqual(story.slice(0, 2), [
      ['Setting desired count to 4.', 'scheduled action name morning was triggered'],
      ['Setting min capacity to 4 and max capacity to 6', 'scheduled action name morning was triggered'],
    ]);
    await assert.rejects(aas.send(new PutScheduledActionCommand({ ...target, ScheduledActionName: 'bad', Schedule: 'cron(0 12 * *)' })), (e: Error) => e.name === 'ValidationException');
    await assert.rejects(aas.send(new PutScheduledActionCommand({ ...target, ScheduledActionName: 'bad', Schedule: 'rate(5 minutes)', Timezone: 'Mars/Olympus' })), /Invalid timezone/);
  });

  it('creates target tracking alarms named as AWS names them, and deletes them with the policy', async () => {
    const out = await aas.send(
      new PutScalingPolicyCommand({
        ...target,
        PolicyName: 'cpu40',
        PolicyType: 'TargetTrackingScaling',
        TargetTrackingScalingPolicyConfiguration: { TargetValue: 40, PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' }, ScaleOutCooldown: 60, ScaleInCooldown: 60 },
      }),
    );
    const names = out.Alarms!.map((a) => a.AlarmName!);
    assert.equal(names.length, 2);
    assert.match(names[0]!, /^TargetTracking-service\/default\/web-AlarmHigh-[0-9a-f-]{36}$/);
    assert.match(names[1]!, /^TargetTracking-service\/default\/web-AlarmLow-[0-9a-f-]{36}$/);
    const alarms = (await cw.send(new DescribeAlarmsCommand({ AlarmNames: names }))).MetricAlarms!;
    const high = alarms.find((a) => a.AlarmName === names[0])!;
    const low = alarms.find((a) => a.AlarmName === names[1])!;
    assert.deepEqual([high.Namespace, high.MetricName, high.Statistic, high.Threshold, high.ComparisonOperator, high.EvaluationPeriods], ['AWS/ECS', 'CPUUtilization', 'Average', 40, 'GreaterThanThreshold', 3]);
    assert.deepEqual(high.Dimensions, [{ Name: 'ClusterName', Value: 'default' }, { Name: 'ServiceName', Value: 'web' }]);
    assert.deepEqual([low.Threshold, low.ComparisonOperator, low.EvaluationPeriods], [36, 'LessThanThreshold', 15]);
    assert.deepEqual(high.AlarmActions, [out.PolicyARN]);
    assert.match(high.AlarmDescription!, /^DO NOT EDIT OR DELETE\. For TargetTrackingScaling policy arn:aws:autoscaling:/);
    await aas.send(new DeleteScalingPolicyCommand({ ...target, PolicyName: 'cpu40' }));
    assert.deepEqual((await cw.send(new DescribeAlarmsCommand({ AlarmNames: names }))).MetricAlarms, []);
    await assert.rejects(aas.send(new DeleteScalingPolicyCommand({ ...target, PolicyName: 'cpu40' })), (e: Error) => e.name === 'ObjectNotFoundException');
  });

  it('tracks ALB requests per target and customized metrics, and refuses a metric CloudWatch could not alarm on, writing nothing', async () => {
    const alb = await aas.send(
      new PutScalingPolicyCommand({
        ...target,
        PolicyName: 'rps',
        PolicyType: 'TargetTrackingScaling',
        TargetTrackingScalingPolicyConfiguration: { TargetValue: 100, DisableScaleIn: true, PredefinedMetricSpecification: { PredefinedMetricType: 'ALBRequestCountPerTarget', ResourceLabel: 'app/web/0123456789abcdef/targetgroup/web-tg/fedcba9876543210' } },
      }),
    );
    assert.equal(alb.Alarms!.length, 1, 'DisableScaleIn: no low alarm');
    const [high] = (await cw.send(new DescribeAlarmsCommand({ AlarmNames: [alb.Alarms![0]!.AlarmName!] }))).MetricAlarms!;
    assert.deepEqual([high!.Namespace, high!.MetricName, high!.Statistic, high!.Dimensions], ['AWS/ApplicationELB', 'RequestCountPerTarget', 'Sum', [{ Name: 'TargetGroup', Value: 'targetgroup/web-tg/fedcba9876543210' }]]);
    const custom = await aas.send(
      new PutScalingPolicyCommand({
        ...target,
        PolicyName: 'backlog',
        PolicyType: 'TargetTrackingScaling',
        TargetTrackingScalingPolicyConfiguration: { TargetValue: 10, CustomizedMetricSpecification: { Namespace: 'Shop', MetricName: 'QueueDepth', Statistic: 'Average', Dimensions: [{ Name: 'Queue', Value: 'orders' }] } },
      }),
    );
    assert.equal(custom.Alarms!.length, 2);
    const before = (await aas.send(new DescribeScalingPoliciesCommand({ ServiceNamespace: 'ecs' }))).ScalingPolicies!.map((p) => p.PolicyName).sort();
    assert.deepEqual(before, ['backlog', 'rps', 'step-out']);
    await assert.rejects(
      aas.send(
        new PutScalingPolicyCommand({
          ...target,
          PolicyName: 'broken',
          PolicyType: 'TargetTrackingScaling',
          TargetTrackingScalingPolicyConfiguration: {
            TargetValue: 10,
            CustomizedMetricSpecification: { Metrics: [{ Id: 'a', Expression: '1', ReturnData: true }, { Id: 'b', Expression: '2', ReturnData: true }] },
          },
        }),
      ),
      (e: Error) => e.name === 'ValidationException' && /ReturnData/.test(e.message),
    );
    assert.deepEqual((await aas.send(new DescribeScalingPoliciesCommand({ ServiceNamespace: 'ecs' }))).ScalingPolicies!.map((p) => p.PolicyName).sort(), before);
  });
});

describe('Application Auto Scaling from the AWS CLI (v1 and v2), as the seeds configure it', () => {
  it('registers a target and a CPU target tracking policy, and describes them', async () => {
    const cliV1 = requireCliV1();
    const driver = new TestDriver();
    const t = await startDockyard({ metrics: { alarmEvaluationIntervalMs: 0, scheduledActionIntervalMs: 0 } }, undefined, { scalableTargetDrivers: { ecs: driver } });
    // The server runs in this process: the CLIs run asynchronously.
    const cli = async (bin: string, args: string[]) => JSON.parse((await run(bin, ['application-autoscaling', ...args, '--endpoint-url', t.endpoint, '--output', 'json'], { env: t.cliEnv, encoding: 'utf8' })).stdout || '{}');
    try {
      const target = ['--service-namespace', 'ecs', '--scalable-dimension', 'ecs:service:DesiredCount', '--resource-id', 'service/default/web'];
      await cli(AWS_CLI_V2, ['register-scalable-target', ...target, '--min-capacity', '1', '--max-capacity', '2']);
      const policy = await cli(AWS_CLI_V2, [
        'put-scaling-policy',
        ...target,
        '--policy-name',
        'cpu40',
        '--policy-type',
        'TargetTrackingScaling',
        '--target-tracking-scaling-policy-configuration',
        JSON.stringify({ TargetValue: 40, PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' }, ScaleOutCooldown: 60, ScaleInCooldown: 60 }),
      ]);
      assert.equal(policy.Alarms.length, 2);
      const targets = await cli(cliV1, ['describe-scalable-targets', '--service-namespace', 'ecs']);
      assert.deepEqual(targets.ScalableTargets.map((x: { ResourceId: string; MinCapacity: number; MaxCapacity: number }) => [x.ResourceId, x.MinCapacity, x.MaxCapacity]), [['service/default/web', 1, 2]]);
      const policies = await cli(cliV1, ['describe-scaling-policies', '--service-namespace', 'ecs']);
      assert.equal(policies.ScalingPolicies[0].TargetTrackingScalingPolicyConfiguration.PredefinedMetricSpecification.PredefinedMetricType, 'ECSServiceAverageCPUUtilization');
      assert.deepEqual(policies.ScalingPolicies[0].Alarms, policy.Alarms);
      assert.deepEqual((await cli(AWS_CLI_V2, ['describe-scaling-activities', '--service-namespace', 'ecs'])).ScalingActivities, []);
    } finally {
      await t.stop();
    }
  });
});

describe('Application Auto Scaling over ECS before ECS services exist', () => {
  it('refuses a service the ECS domain does not have, with AWS wording', async () => {
    const t = await startDockyard({ metrics: { alarmEvaluationIntervalMs: 0, scheduledActionIntervalMs: 0 } });
    const aas = new ApplicationAutoScalingClient({ endpoint: t.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
    try {
      await assert.rejects(
        aas.send(new RegisterScalableTargetCommand({ ServiceNamespace: 'ecs', ResourceId: 'service/default/web', ScalableDimension: 'ecs:service:DesiredCount', MinCapacity: 1, MaxCapacity: 2 })),
        (e: Error) => e.name === 'ValidationException' && e.message === "ECS service doesn't exist: service/default/web",
      );
    } finally {
      aas.destroy();
      await t.stop();
    }
  });
});
