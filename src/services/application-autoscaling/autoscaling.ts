/**
 * Application Auto Scaling: scalable targets, scaling policies (step and target tracking, the
 * latter owning their CloudWatch alarms), scheduled actions and scaling activities, in the store.
 * Capacity is read and changed through a ScalableTargetDriver per service namespace, and alarms
 * are made through an AlarmsPort, both wired in the composition root.
 */
import { randomUUID } from 'node:crypto';
import { AwsError } from '../../aws/errors.js';
import type * as aas from '../../aws/generated/application-autoscaling.js';
import type { Clock } from '../../core/clock.js';
import * as c from '../../store/collections.js';
import type { ScalableTargetDoc, ScalingActivityDoc, ScalingPolicyDoc, ScheduledActionDoc } from '../../store/collections.js';
import type { Collection, Store, StoreTx } from '../../store/store.js';
import { stepDecision, targetTrackingDecision, type Decision, type StepConfig, type TargetState, type TargetTrackingConfig } from './decisions.js';
import { checkSchedule, nextRun, ScheduleError } from './schedule.js';

export interface Scope {
  accountId: string;
  region: string;
}

/** How Application Auto Scaling reaches one kind of resource (ECS services: their desiredCount). */
export interface ScalableTargetDriver {
  /** Throws the AwsError to answer (ValidationException, AWS's wording) when the resource does not exist. */
  validate(scope: Scope, resourceId: string): Promise<void>;
  current(scope: Scope, resourceId: string): Promise<number>;
  setCapacity(scope: Scope, resourceId: string, capacity: number): Promise<void>;
}

/** The CloudWatch alarms target tracking policies own. */
export interface AlarmsPort {
  /** Throws when CloudWatch would refuse the alarm (checked before anything is written). */
  check(alarm: Record<string, unknown> & { AlarmName: string }): void;
  put(scope: Scope, alarm: Record<string, unknown> & { AlarmName: string }): Promise<void>;
  delete(scope: Scope, names: readonly string[]): Promise<void>;
}

export interface AutoScalingOptions {
  /** Evaluation periods of target tracking's high and low alarms (AWS: 3 and 15). */
  targetTrackingHighPeriods?: number;
  targetTrackingLowPeriods?: number;
}

const validation = (message: string) => new AwsError('ValidationException', message);
const DIMENSIONS: Record<string, string[]> = { ecs: ['ecs:service:DesiredCount'] };
const SERVICE_LINKED_ROLE: Record<string, string> = { ecs: 'aws-service-role/ecs.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_ECSService' };
const MAX_ACTIVITIES_PER_TARGET = 500;

const targetKey = (scope: Scope, ns: string, resourceId: string, dim: string) => `${scope.accountId}:${scope.region}:${ns}|${resourceId}|${dim}`;
const timeKey = (t: number) => String(Math.floor(t * 1000)).padStart(15, '0');
/** Orders activities recorded within one millisecond (keys sort by time, then by this). */
let activitySeq = 0;
const seqKey = () => String(++activitySeq % 1e9).padStart(9, '0');
const what = (ns: string, resourceId: string, dim: string) => `service namespace: ${ns}, resource ID: ${resourceId}, scalable dimension: ${dim}`;

function page<T>(items: T[], max: number | undefined, token: string | undefined): { items: T[]; next?: string } {
  const size = Math.min(max ?? 50, 50);
  let start = 0;
  if (token) {
    start = Number(Buffer.from(token, 'base64url').toString());
    if (!Number.isSafeInteger(start) || start < 0) throw new AwsError('InvalidNextTokenException', 'Invalid token');
  }
  return { items: items.slice(start, start + size), next: start + size < items.length ? Buffer.from(String(start + size)).toString('base64url') : undefined };
}

/** The alarm that invoked a policy, as the alarm evaluator describes it. */
export interface AlarmTrigger {
  AlarmName: string;
  Threshold?: number;
  StateValue: string;
}

export class AutoScaling {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly drivers: Readonly<Record<string, ScalableTargetDriver>>,
    private readonly alarms: AlarmsPort,
    private readonly options: AutoScalingOptions = {},
  ) {}

  private driver(ns: string, dim: string): ScalableTargetDriver {
    const driver = Object.hasOwn(this.drivers, ns) ? this.drivers[ns] : undefined;
    if (!driver) throw validation(`Dockyard does not scale resources of service namespace ${ns}: only ${Object.keys(this.drivers).join(', ') || 'none'}.`);
    if (!DIMENSIONS[ns]?.includes(dim)) throw validation(`Unsupported scalable dimension '${dim}' for service namespace '${ns}'.`);
    return driver;
  }

  private checkResourceId(ns: string, resourceId: string): void {
    if (ns === 'ecs' && !/^service\/[A-Za-z0-9_-]{1,255}\/[A-Za-z0-9_-]{1,255}$/.test(resourceId)) {
      throw validation(`Unsupported resource ID: ${resourceId.slice(0, 256)}. The resource ID of an ECS service is service/<cluster-name>/<service-name>.`);
    }
  }

  private async requireTarget(tx: StoreTx, scope: Scope, ns: string, resourceId: string, dim: string) {
    const row = await tx.get(c.scalableTargets, targetKey(scope, ns, resourceId, dim));
    if (!row) throw new AwsError('ObjectNotFoundException', `No scalable target registered for ${what(ns, resourceId, dim)}`);
    return row;
  }

  // ---- scalable targets

  async register(scope: Scope, input: aas.RegisterScalableTargetRequest) {
    const driver = this.driver(input.ServiceNamespace, input.ScalableDimension);
    this.checkResourceId(input.ServiceNamespace, input.ResourceId);
    // RegisterScalableTarget does not model TooManyTagsException (TagResource does).
    if (Object.keys(input.Tags ?? {}).length > 50) throw validation('A scalable target may have at most 50 tags.');
    await driver.validate(scope, input.ResourceId);
    const key = targetKey(scope, input.ServiceNamespace, input.ResourceId, input.ScalableDimension);
    const now = this.clock.now();
    const doc = await this.store.write(async (tx) => {
      const existing = await tx.get(c.scalableTargets, key);
      if (!existing && (input.MinCapacity === undefined || input.MaxCapacity === undefined)) {
        throw validation('MinCapacity and MaxCapacity are required to register a new scalable target.');
      }
      const min = input.MinCapacity ?? existing!.data.MinCapacity;
      const max = input.MaxCapacity ?? existing!.data.MaxCapacity;
      if (min < 0 || max < 0) throw validation('Capacity values must be zero or greater.');
      if (min > max) throw validation(`Minimum capacity cannot be greater than maximum capacity`);
      const prev = existing?.data.SuspendedState ?? { DynamicScalingInSuspended: false, DynamicScalingOutSuspended: false, ScheduledScalingSuspended: false };
      const doc: ScalableTargetDoc = {
        ...(existing?.data ?? {}),
        accountId: scope.accountId,
        region: scope.region,
        ServiceNamespace: input.ServiceNamespace,
        ResourceId: input.ResourceId,
        ScalableDimension: input.ScalableDimension,
        MinCapacity: min,
        MaxCapacity: max,
        RoleARN: `arn:aws:iam::${scope.accountId}:role/${SERVICE_LINKED_ROLE[input.ServiceNamespace]}`,
        CreationTime: existing?.data.CreationTime ?? now,
        SuspendedState: {
          DynamicScalingInSuspended: input.SuspendedState?.DynamicScalingInSuspended ?? prev.DynamicScalingInSuspended,
          DynamicScalingOutSuspended: input.SuspendedState?.DynamicScalingOutSuspended ?? prev.DynamicScalingOutSuspended,
          ScheduledScalingSuspended: input.SuspendedState?.ScheduledScalingSuspended ?? prev.ScheduledScalingSuspended,
        },
        ScalableTargetARN: existing?.data.ScalableTargetARN ?? `arn:aws:application-autoscaling:${scope.region}:${scope.accountId}:scalable-target/${randomUUID().replace(/-/g, '')}`,
        tags: existing?.data.tags ?? Object.entries(input.Tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
      };
      if (existing) await tx.update(c.scalableTargets, existing, doc);
      else await tx.insert(c.scalableTargets, key, doc);
      return doc;
    });
    // A capacity outside the new range is brought into it.
    await this.bringIntoRange(doc, `a user request to register the scalable target with min capacity ${doc.MinCapacity} and max capacity ${doc.MaxCapacity}`);
    return { ScalableTargetARN: doc.ScalableTargetARN };
  }

  private async bringIntoRange(target: ScalableTargetDoc, cause: string): Promise<void> {
    const driver = this.drivers[target.ServiceNamespace]!;
    const current = await driver.current(target, target.ResourceId).catch(() => undefined);
    if (current === undefined) return;
    const wanted = Math.min(target.MaxCapacity, Math.max(target.MinCapacity, current));
    if (wanted !== current) await this.scale(target, wanted, cause, undefined);
  }

  async describeTargets(scope: Scope, input: aas.DescribeScalableTargetsRequest) {
    const rows = await this.store.read((tx) => tx.find(c.scalableTargets, { where: { account_region: `${scope.accountId}:${scope.region}`, namespace: input.ServiceNamespace }, orderBy: [['pk', 'asc']] }));
    const ids = input.ResourceIds && new Set(input.ResourceIds);
    const items = rows.map((r) => r.data).filter((t) => (!ids || ids.has(t.ResourceId)) && (!input.ScalableDimension || t.ScalableDimension === input.ScalableDimension));
    const p = page(items, input.MaxResults, input.NextToken);
    return { ScalableTargets: p.items.map(({ accountId: _a, region: _r, tags: _t, lastScaledAt: _l, lastScaleDirection: _d, ...t }) => t), NextToken: p.next };
  }

  async deregister(scope: Scope, input: aas.DeregisterScalableTargetRequest) {
    const alarms: string[] = [];
    await this.store.write(async (tx) => {
      const row = await this.requireTarget(tx, scope, input.ServiceNamespace, input.ResourceId, input.ScalableDimension);
      for (const p of await tx.find(c.scalingPolicies, { where: { target: row.pk } })) {
        alarms.push(...((p.data.Alarms as { AlarmName: string }[] | undefined) ?? []).map((a) => a.AlarmName));
        await tx.delete(c.scalingPolicies, p.pk);
      }
      for (const a of await tx.find(c.scheduledActions, { where: { target: row.pk } })) await tx.delete(c.scheduledActions, a.pk);
      await tx.delete(c.scalableTargets, row.pk);
    });
    if (alarms.length) await this.alarms.delete(scope, alarms);
    return {};
  }

  // ---- scaling policies

  async putPolicy(scope: Scope, input: aas.PutScalingPolicyRequest) {
    const type = input.PolicyType ?? 'StepScaling';
    if (type !== 'StepScaling' && type !== 'TargetTrackingScaling') throw validation(`Dockyard does not support ${type} policies (StepScaling, TargetTrackingScaling).`);
    if (type === 'StepScaling') this.checkStep(input.StepScalingPolicyConfiguration);
    else if (!input.TargetTrackingScalingPolicyConfiguration) throw validation('TargetTrackingScalingPolicyConfiguration is required for a policy of type TargetTrackingScaling.');
    const alarmSpecs = type === 'TargetTrackingScaling' ? this.trackingAlarms(input) : undefined;
    for (const spec of alarmSpecs ?? []) {
      try {
        this.alarms.check({ ...spec, AlarmActions: [] });
      } catch (e) {
        // A customized metric CloudWatch would refuse: the policy is refused, in this service's words.
        if (e instanceof AwsError) throw validation(`The customized metric cannot be alarmed on: ${e.message}`);
        throw e;
      }
    }
    const now = this.clock.now();
    const { doc, oldAlarms } = await this.store.write(async (tx) => {
      const target = await this.requireTarget(tx, scope, input.ServiceNamespace, input.ResourceId, input.ScalableDimension);
      const existing = (await tx.find(c.scalingPolicies, { where: { name: `${target.pk}|${input.PolicyName}` }, limit: 1 }))[0];
      const arn =
        existing?.data.PolicyARN ??
        `arn:aws:autoscaling:${scope.region}:${scope.accountId}:scalingPolicy:${randomUUID()}:resource/${input.ServiceNamespace}/${input.ResourceId}:policyName/${input.PolicyName}`;
      const doc: ScalingPolicyDoc = {
        accountId: scope.accountId,
        region: scope.region,
        targetKey: target.pk,
        PolicyARN: arn,
        PolicyName: input.PolicyName,
        ServiceNamespace: input.ServiceNamespace,
        ResourceId: input.ResourceId,
        ScalableDimension: input.ScalableDimension,
        PolicyType: type,
        StepScalingPolicyConfiguration: type === 'StepScaling' ? input.StepScalingPolicyConfiguration : undefined,
        TargetTrackingScalingPolicyConfiguration: type === 'TargetTrackingScaling' ? input.TargetTrackingScalingPolicyConfiguration : undefined,
        Alarms: alarmSpecs?.map((a) => ({ AlarmName: a.AlarmName, AlarmARN: `arn:aws:cloudwatch:${scope.region}:${scope.accountId}:alarm:${a.AlarmName}` })) ?? existing?.data.Alarms ?? [],
        CreationTime: existing?.data.CreationTime ?? now,
        lastScaledAt: existing?.data.lastScaledAt,
      };
      if (existing) await tx.update(c.scalingPolicies, existing, doc);
      else await tx.insert(c.scalingPolicies, doc.PolicyARN, doc);
      const oldAlarms = alarmSpecs ? ((existing?.data.Alarms as { AlarmName: string }[] | undefined) ?? []).map((a) => a.AlarmName) : [];
      return { doc, oldAlarms };
    });
    if (alarmSpecs) {
      if (oldAlarms.length) await this.alarms.delete(scope, oldAlarms);
      for (const a of alarmSpecs) await this.alarms.put(scope, { ...a, AlarmActions: [doc.PolicyARN], AlarmDescription: `DO NOT EDIT OR DELETE. For TargetTrackingScaling policy ${doc.PolicyARN}.` });
    }
    return { PolicyARN: doc.PolicyARN, Alarms: doc.Alarms as { AlarmName: string; AlarmARN: string }[] };
  }

  private checkStep(cfg: aas.StepScalingPolicyConfiguration | undefined): void {
    if (!cfg) throw validation('StepScalingPolicyConfiguration is required for a policy of type StepScaling.');
    const steps = [...(cfg.StepAdjustments ?? [])];
    if (steps.length === 0) throw validation('StepAdjustments must contain at least one step adjustment.');
    if (cfg.AdjustmentType && !['ChangeInCapacity', 'PercentChangeInCapacity', 'ExactCapacity'].includes(cfg.AdjustmentType)) throw validation(`Invalid AdjustmentType: ${cfg.AdjustmentType}`);
    for (const s of steps) {
      if (s.MetricIntervalLowerBound === undefined && s.MetricIntervalUpperBound === undefined && steps.length > 1) throw validation('Only one step adjustment may have both bounds null.');
      if (s.MetricIntervalLowerBound !== undefined && s.MetricIntervalUpperBound !== undefined && s.MetricIntervalLowerBound >= s.MetricIntervalUpperBound) {
        throw validation('The upper bound of a step adjustment must be greater than its lower bound.');
      }
    }
    steps.sort((a, b) => (a.MetricIntervalLowerBound ?? -Infinity) - (b.MetricIntervalLowerBound ?? -Infinity));
    for (let i = 1; i < steps.length; i++) {
      if ((steps[i - 1]!.MetricIntervalUpperBound ?? Infinity) > (steps[i]!.MetricIntervalLowerBound ?? -Infinity)) throw validation('Step adjustment intervals must not overlap.');
    }
  }

  /** Target tracking's two alarms, named and shaped as AWS makes them. */
  private trackingAlarms(input: aas.PutScalingPolicyRequest): (Record<string, unknown> & { AlarmName: string })[] {
    const cfg = input.TargetTrackingScalingPolicyConfiguration!;
    let metric: Record<string, unknown>;
    const predefined = cfg.PredefinedMetricSpecification;
    const custom = cfg.CustomizedMetricSpecification;
    if (!predefined === !custom) throw validation('Exactly one of PredefinedMetricSpecification and CustomizedMetricSpecification must be specified.');
    if (predefined) {
      const [, cluster, service] = input.ResourceId.split('/');
      switch (predefined.PredefinedMetricType) {
        case 'ECSServiceAverageCPUUtilization':
        case 'ECSServiceAverageMemoryUtilization':
          metric = {
            Namespace: 'AWS/ECS',
            MetricName: predefined.PredefinedMetricType === 'ECSServiceAverageCPUUtilization' ? 'CPUUtilization' : 'MemoryUtilization',
            Dimensions: [
              { Name: 'ClusterName', Value: cluster },
              { Name: 'ServiceName', Value: service },
            ],
            Statistic: 'Average',
            Period: 60,
          };
          break;
        case 'ALBRequestCountPerTarget': {
          const label = predefined.ResourceLabel ?? '';
          const m = /^app\/[^/]+\/[^/]+\/(targetgroup\/[^/]+\/[^/]+)$/.exec(label);
          if (!m) throw validation('ResourceLabel must be app/<load-balancer-name>/<load-balancer-id>/targetgroup/<target-group-name>/<target-group-id> for ALBRequestCountPerTarget.');
          metric = { Namespace: 'AWS/ApplicationELB', MetricName: 'RequestCountPerTarget', Dimensions: [{ Name: 'TargetGroup', Value: m[1] }], Statistic: 'Sum', Period: 60 };
          break;
        }
        default:
          throw validation(`Dockyard does not support the predefined metric ${predefined.PredefinedMetricType} (ECSServiceAverageCPUUtilization, ECSServiceAverageMemoryUtilization, ALBRequestCountPerTarget).`);
      }
    } else if (custom!.Metrics?.length) {
      metric = { Metrics: custom!.Metrics.map((q) => ({ ...q, ...(q.MetricStat ? { MetricStat: { ...q.MetricStat, Period: 60 } } : {}), ...(q.Expression ? { Period: 60 } : {}) })) };
    } else {
      if (!custom!.MetricName || !custom!.Namespace || !custom!.Statistic) throw validation('A customized metric needs MetricName, Namespace and Statistic, or Metrics.');
      metric = { Namespace: custom!.Namespace, MetricName: custom!.MetricName, Dimensions: custom!.Dimensions ?? [], Statistic: custom!.Statistic, Unit: custom!.Unit, Period: 60 };
    }
    const id = randomUUID();
    const high = {
      ...metric,
      AlarmName: `TargetTracking-${input.ResourceId}-AlarmHigh-${id}`,
      EvaluationPeriods: this.options.targetTrackingHighPeriods ?? 3,
      DatapointsToAlarm: this.options.targetTrackingHighPeriods ?? 3,
      Threshold: cfg.TargetValue,
      ComparisonOperator: 'GreaterThanThreshold',
    };
    if (cfg.DisableScaleIn) return [high];
    const lowPeriods = this.options.targetTrackingLowPeriods ?? 15;
    return [
      high,
      { ...metric, AlarmName: `TargetTracking-${input.ResourceId}-AlarmLow-${id}`, EvaluationPeriods: lowPeriods, DatapointsToAlarm: lowPeriods, Threshold: cfg.TargetValue * 0.9, ComparisonOperator: 'LessThanThreshold' },
    ];
  }

  async describePolicies(scope: Scope, input: aas.DescribeScalingPoliciesRequest) {
    const p = page(await this.listed(c.scalingPolicies, scope, input, input.PolicyNames, (d) => d.PolicyName), input.MaxResults, input.NextToken);
    return { ScalingPolicies: p.items.map(({ accountId: _a, region: _r, targetKey: _t, lastScaledAt: _l, ...rest }) => rest), NextToken: p.next };
  }

  /**
   * A collection's documents in this scope for a Describe*: those of the namespace, optionally
   * of one resource and dimension, and named in `names` when given.
   */
  private async listed<T extends { ServiceNamespace: string; ResourceId: string; ScalableDimension: string }>(
    collection: Collection<T>,
    scope: Scope,
    input: { ServiceNamespace: string; ResourceId?: string; ScalableDimension?: string },
    names: readonly string[] | undefined,
    nameOf: (doc: T) => string,
  ) {
    const rows = await this.store.read((tx) => tx.find(collection, { where: { account_region: `${scope.accountId}:${scope.region}` }, orderBy: [['pk', 'asc']] }));
    const wanted = names && new Set(names);
    return rows
      .map((r) => r.data)
      .filter(
        (d) =>
          d.ServiceNamespace === input.ServiceNamespace &&
          (!wanted || wanted.has(nameOf(d))) &&
          (!input.ResourceId || d.ResourceId === input.ResourceId) &&
          (!input.ScalableDimension || d.ScalableDimension === input.ScalableDimension),
      );
  }

  async deletePolicy(scope: Scope, input: aas.DeleteScalingPolicyRequest) {
    const alarms = await this.store.write(async (tx) => {
      const key = targetKey(scope, input.ServiceNamespace, input.ResourceId, input.ScalableDimension);
      const row = (await tx.find(c.scalingPolicies, { where: { name: `${key}|${input.PolicyName}` }, limit: 1 }))[0];
      if (!row) throw new AwsError('ObjectNotFoundException', `No scaling policy found for ${what(input.ServiceNamespace, input.ResourceId, input.ScalableDimension)}, policy name: ${input.PolicyName}`);
      await tx.delete(c.scalingPolicies, row.pk);
      return ((row.data.Alarms as { AlarmName: string }[] | undefined) ?? []).map((a) => a.AlarmName);
    });
    if (alarms.length) await this.alarms.delete(scope, alarms);
    return {};
  }

  /** An alarm action naming a policy: asks the policy's decision and applies it. Returns the history summary. */
  async executePolicy(policyArn: string, alarm: AlarmTrigger, value: number | undefined): Promise<string> {
    const policy = (await this.store.read((tx) => tx.get(c.scalingPolicies, policyArn)))?.data;
    if (!policy) throw new Error(`The scaling policy ${policyArn} does not exist`);
    const target = (await this.store.read((tx) => tx.get(c.scalableTargets, policy.targetKey)))?.data;
    if (!target) throw new Error(`The scalable target of ${policyArn} is not registered`);
    const driver = this.drivers[target.ServiceNamespace]!;
    const state: TargetState = {
      current: await driver.current(target, target.ResourceId),
      min: target.MinCapacity,
      max: target.MaxCapacity,
      lastScaledAt: target.lastScaledAt,
      lastScaleDirection: target.lastScaleDirection,
      scaleInSuspended: target.SuspendedState.DynamicScalingInSuspended,
      scaleOutSuspended: target.SuspendedState.DynamicScalingOutSuspended,
    };
    const now = this.clock.now();
    const decision: Decision =
      policy.PolicyType === 'StepScaling'
        ? stepDecision(policy.StepScalingPolicyConfiguration as StepConfig, state, value, alarm.Threshold ?? 0, policy.lastScaledAt, now)
        : targetTrackingDecision(policy.TargetTrackingScalingPolicyConfiguration as TargetTrackingConfig, state, value, alarm.AlarmName.includes('-AlarmHigh-'), now);
    if (decision.kind === 'none') return `Successfully executed action ${policyArn} (no scaling: ${decision.why})`;
    await this.scale(target, decision.capacity, `monitor alarm ${alarm.AlarmName} in state ${alarm.StateValue} triggered policy ${policy.PolicyName}`, policy.PolicyARN);
    return `Successfully executed action ${policyArn}`;
  }

  /** Sets the capacity through the driver and records the activity, with AWS's wording. */
  private async scale(target: ScalableTargetDoc, capacity: number, cause: string, policyArn: string | undefined): Promise<void> {
    const driver = this.drivers[target.ServiceNamespace]!;
    const started = this.clock.now();
    const before = await driver.current(target, target.ResourceId).catch(() => undefined);
    let status: Pick<ScalingActivityDoc, 'StatusCode' | 'StatusMessage'>;
    try {
      await driver.setCapacity(target, target.ResourceId, capacity);
      status = { StatusCode: 'Successful', StatusMessage: `Successfully set desired count to ${capacity}. Change successfully fulfilled by ${target.ServiceNamespace}.` };
    } catch (e) {
      status = { StatusCode: 'Failed', StatusMessage: `Failed to set desired count to ${capacity}. Reason: ${e instanceof Error ? e.message : String(e)}` };
    }
    const now = this.clock.now();
    await this.store.write(async (tx) => {
      await this.recordActivity(tx, target, { Description: `Setting desired count to ${capacity}.`, Cause: cause, StartTime: started, EndTime: now, ...status });
      if (status.StatusCode !== 'Successful') return;
      const row = await tx.get(c.scalableTargets, targetKey(target, target.ServiceNamespace, target.ResourceId, target.ScalableDimension));
      if (row) await tx.update(c.scalableTargets, row, { ...row.data, lastScaledAt: now, lastScaleDirection: before !== undefined && capacity < before ? 'in' : 'out' });
      if (policyArn) {
        const p = await tx.get(c.scalingPolicies, policyArn);
        if (p) await tx.update(c.scalingPolicies, p, { ...p.data, lastScaledAt: now });
      }
    });
  }

  private async recordActivity(tx: StoreTx, target: ScalableTargetDoc, a: Pick<ScalingActivityDoc, 'Description' | 'Cause' | 'StartTime' | 'EndTime' | 'StatusCode' | 'StatusMessage'>): Promise<void> {
    const key = targetKey(target, target.ServiceNamespace, target.ResourceId, target.ScalableDimension);
    const id = randomUUID();
    await tx.insert(c.scalingActivities, `${key}|${timeKey(a.StartTime)}|${seqKey()}|${id}`, {
      accountId: target.accountId,
      region: target.region,
      targetKey: key,
      ActivityId: id,
      ServiceNamespace: target.ServiceNamespace,
      ResourceId: target.ResourceId,
      ScalableDimension: target.ScalableDimension,
      ...a,
    });
    const count = await tx.count(c.scalingActivities, { target: key });
    if (count > MAX_ACTIVITIES_PER_TARGET) {
      for (const old of await tx.find(c.scalingActivities, { where: { target: key }, orderBy: [['pk', 'asc']], limit: count - MAX_ACTIVITIES_PER_TARGET })) await tx.delete(c.scalingActivities, old.pk);
    }
  }

  async activities(scope: Scope, input: aas.DescribeScalingActivitiesRequest) {
    // Newest first: by start time, then (within a millisecond) by the order they were recorded.
    const rows = (await this.listed(c.scalingActivities, scope, input, undefined, () => '')).map((d, i) => ({ d, i }));
    const items = rows.sort((a, b) => b.d.StartTime - a.d.StartTime || b.i - a.i).map((r) => r.d);
    const p = page(items, input.MaxResults, input.NextToken);
    return { ScalingActivities: p.items.map(({ accountId: _a, region: _r, targetKey: _t, ...rest }) => rest), NextToken: p.next };
  }

  // ---- scheduled actions

  async putScheduled(scope: Scope, input: aas.PutScheduledActionRequest) {
    const now = this.clock.now();
    const key = targetKey(scope, input.ServiceNamespace, input.ResourceId, input.ScalableDimension);
    await this.store.write(async (tx) => {
      const target = await this.requireTarget(tx, scope, input.ServiceNamespace, input.ResourceId, input.ScalableDimension);
      const existing = (await tx.find(c.scheduledActions, { where: { name: `${key}|${input.ScheduledActionName}` }, limit: 1 }))[0];
      const schedule = input.Schedule ?? (existing?.data.Schedule as string | undefined);
      if (!schedule) throw validation('Schedule is required to create a scheduled action.');
      const spec = { schedule, timezone: input.Timezone ?? (existing?.data.Timezone as string | undefined), startTime: input.StartTime === undefined ? undefined : Number(input.StartTime), endTime: input.EndTime === undefined ? undefined : Number(input.EndTime) };
      try {
        checkSchedule(spec);
      } catch (e) {
        if (e instanceof ScheduleError) throw validation(e.message);
        throw e;
      }
      const action = input.ScalableTargetAction ?? (existing?.data.ScalableTargetAction as aas.ScalableTargetAction | undefined) ?? {};
      if (action.MinCapacity !== undefined && action.MaxCapacity !== undefined && action.MinCapacity > action.MaxCapacity) throw validation('Minimum capacity cannot be greater than maximum capacity');
      const doc: ScheduledActionDoc = {
        accountId: scope.accountId,
        region: scope.region,
        targetKey: target.pk,
        ScheduledActionName: input.ScheduledActionName,
        ScheduledActionARN:
          existing?.data.ScheduledActionARN ??
          `arn:aws:autoscaling:${scope.region}:${scope.accountId}:scheduledAction:${randomUUID()}:resource/${input.ServiceNamespace}/${input.ResourceId}:scheduledActionName/${input.ScheduledActionName}`,
        ServiceNamespace: input.ServiceNamespace,
        Schedule: schedule,
        Timezone: spec.timezone,
        ResourceId: input.ResourceId,
        ScalableDimension: input.ScalableDimension,
        StartTime: spec.startTime,
        EndTime: spec.endTime,
        ScalableTargetAction: action,
        CreationTime: existing?.data.CreationTime ?? now,
        nextRunAt: nextRun(spec, now),
      };
      if (existing) await tx.update(c.scheduledActions, existing, doc);
      else await tx.insert(c.scheduledActions, doc.ScheduledActionARN, doc);
    });
    return {};
  }

  async describeScheduled(scope: Scope, input: aas.DescribeScheduledActionsRequest) {
    const p = page(await this.listed(c.scheduledActions, scope, input, input.ScheduledActionNames, (d) => d.ScheduledActionName), input.MaxResults, input.NextToken);
    return { ScheduledActions: p.items.map(({ accountId: _a, region: _r, targetKey: _t, nextRunAt: _n, ...rest }) => rest), NextToken: p.next };
  }

  async deleteScheduled(scope: Scope, input: aas.DeleteScheduledActionRequest) {
    await this.store.write(async (tx) => {
      const key = targetKey(scope, input.ServiceNamespace, input.ResourceId, input.ScalableDimension);
      const row = (await tx.find(c.scheduledActions, { where: { name: `${key}|${input.ScheduledActionName}` }, limit: 1 }))[0];
      if (!row) throw new AwsError('ObjectNotFoundException', `No scheduled action found for ${what(input.ServiceNamespace, input.ResourceId, input.ScalableDimension)}, scheduled action name: ${input.ScheduledActionName}`);
      await tx.delete(c.scheduledActions, row.pk);
    });
    return {};
  }

  /** Runs every scheduled action that is due at `now` (the scheduled-actions controller calls this). Returns how many ran. */
  async runDueScheduledActions(now = this.clock.now()): Promise<number> {
    const due = await this.store.read((tx) => tx.find(c.scheduledActions));
    let ran = 0;
    for (const { data: action } of due) {
      if (action.nextRunAt === undefined || action.nextRunAt > now) continue;
      const target = (await this.store.read((tx) => tx.get(c.scalableTargets, action.targetKey)))?.data;
      const next = nextRun({ schedule: action.Schedule, timezone: action.Timezone as string | undefined, startTime: action.StartTime as number | undefined, endTime: action.EndTime as number | undefined }, now);
      await this.store.write(async (tx) => {
        const row = await tx.get(c.scheduledActions, action.ScheduledActionARN);
        if (row) await tx.update(c.scheduledActions, row, { ...row.data, nextRunAt: next });
      });
      if (!target || target.SuspendedState.ScheduledScalingSuspended) continue;
      await this.applyScheduled(target, action);
      ran++;
    }
    return ran;
  }

  private async applyScheduled(target: ScalableTargetDoc, action: ScheduledActionDoc): Promise<void> {
    const a = (action.ScalableTargetAction ?? {}) as aas.ScalableTargetAction;
    const min = a.MinCapacity ?? target.MinCapacity;
    const max = a.MaxCapacity ?? target.MaxCapacity;
    const cause = `scheduled action name ${action.ScheduledActionName} was triggered`;
    const now = this.clock.now();
    const updated = await this.store.write(async (tx) => {
      const row = await tx.get(c.scalableTargets, action.targetKey);
      if (!row) return undefined;
      const doc = { ...row.data, MinCapacity: min, MaxCapacity: Math.max(min, max) };
      await tx.update(c.scalableTargets, row, doc);
      const parts = [a.MinCapacity !== undefined ? `min capacity to ${min}` : '', a.MaxCapacity !== undefined ? `max capacity to ${max}` : ''].filter(Boolean).join(' and ');
      await this.recordActivity(tx, doc, { Description: `Setting ${parts || 'capacity limits'}`, Cause: cause, StartTime: now, EndTime: now, StatusCode: 'Successful', StatusMessage: `Successfully set ${parts || 'capacity limits'}` });
      return doc;
    });
    if (updated) await this.bringIntoRange(updated, cause);
  }

  // ---- tags (on scalable targets, by ARN)

  private async taggedTarget<T>(arn: string, fn: (tx: StoreTx, row: NonNullable<Awaited<ReturnType<typeof findTarget>>>) => Promise<T>): Promise<T> {
    return this.store.write(async (tx) => {
      const row = await findTarget(tx, arn);
      if (!row) throw new AwsError('ResourceNotFoundException', `Resource not found: ${arn.slice(0, 256)}`, 400, { ResourceName: arn });
      return fn(tx, row);
    });
  }

  async tag(arn: string, tags: Record<string, string>) {
    return this.taggedTarget(arn, async (tx, row) => {
      const merged = new Map(row.data.tags.map((t) => [t.Key, t.Value]));
      for (const [k, v] of Object.entries(tags)) merged.set(k, v);
      if (merged.size > 50) throw new AwsError('TooManyTagsException', 'A scalable target may have at most 50 tags.', 400, { ResourceName: arn });
      await tx.update(c.scalableTargets, row, { ...row.data, tags: [...merged].map(([Key, Value]) => ({ Key, Value })) });
      return {};
    });
  }

  async untag(arn: string, keys: readonly string[]) {
    return this.taggedTarget(arn, async (tx, row) => {
      const drop = new Set(keys);
      if (row.data.tags.some((t) => drop.has(t.Key))) await tx.update(c.scalableTargets, row, { ...row.data, tags: row.data.tags.filter((t) => !drop.has(t.Key)) });
      return {};
    });
  }

  async tags(arn: string) {
    const row = await this.store.read((tx) => findTarget(tx, arn));
    if (!row) throw new AwsError('ResourceNotFoundException', `Resource not found: ${arn.slice(0, 256)}`, 400, { ResourceName: arn });
    return { Tags: Object.fromEntries(row.data.tags.map((t) => [t.Key, t.Value])) };
  }
}

async function findTarget(tx: StoreTx, arn: string) {
  return (await tx.find(c.scalableTargets, { where: { arn }, limit: 1 }))[0];
}
