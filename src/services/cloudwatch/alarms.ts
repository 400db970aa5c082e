/**
 * CloudWatch metric alarms: their configuration and state in the store (one writer: this class),
 * their history, tags, and their actions. Evaluation (the state a metric puts an alarm in) is the
 * alarm evaluator controller's; it reports results through `applyEvaluation`.
 */
import { randomUUID } from 'node:crypto';
import { AwsError } from '../../aws/errors.js';
import type * as cw from '../../aws/generated/cloudwatch.js';
import type { Clock } from '../../core/clock.js';
import * as c from '../../store/collections.js';
import type { CloudWatchAlarmDoc, CloudWatchAlarmHistoryDoc } from '../../store/collections.js';
import type { Store, StoreTx } from '../../store/store.js';
import { dimensionsOf, scopeKey, type Scope } from './metrics.js';

export type AlarmState = CloudWatchAlarmDoc['StateValue'];

/**
 * Runs one alarm action (an ARN from AlarmActions, OKActions or InsufficientDataActions): returns
 * the history summary, or throws to record a failed action. Application Auto Scaling policy ARNs
 * are wired to their policies in the composition root.
 */
export type AlarmActionInvoker = (action: string, alarm: CloudWatchAlarmDoc, value: number | undefined) => Promise<string>;

const invalid = (message: string) => new AwsError('InvalidParameterValueException', message);
const notFound = (message: string) => new AwsError('ResourceNotFound', message, 404);
const OPERATORS = new Set(['GreaterThanOrEqualToThreshold', 'GreaterThanThreshold', 'LessThanThreshold', 'LessThanOrEqualToThreshold']);
const MAX_HISTORY_PER_ALARM = 100;
const ACTION_ARN = /^arn:aws[a-z-]*:(autoscaling|sns|ec2|ssm|ssm-incidents|lambda|automate|swf):[^\s]{0,1500}$/;

export const alarmKey = (scope: Scope, name: string) => `${scopeKey(scope)}:${name}`;
const historyKey = (alarmKey: string, t: number) => `${alarmKey}|${String(Math.floor(t * 1000)).padStart(15, '0')}|${randomUUID()}`;

/** The members of a MetricAlarm a caller sees (the document has internal ones besides). */
function wire(doc: CloudWatchAlarmDoc): Record<string, unknown> {
  const { accountId: _a, region: _r, tags: _t, ...rest } = doc;
  return rest;
}

export class Alarms {
  private invoker: AlarmActionInvoker | undefined;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  /** Where alarm actions go (set once by the composition root). */
  setActionInvoker(invoker: AlarmActionInvoker): void {
    this.invoker = invoker;
  }

  async put(scope: Scope, input: cw.PutMetricAlarmInput): Promise<void> {
    this.check(input);
    const now = this.clock.now();
    const key = alarmKey(scope, input.AlarmName);
    await this.store.write(async (tx) => {
      const existing = await tx.get(c.cloudwatchAlarms, key);
      const doc: CloudWatchAlarmDoc = {
        accountId: scope.accountId,
        region: scope.region,
        AlarmName: input.AlarmName,
        AlarmArn: `arn:aws:cloudwatch:${scope.region}:${scope.accountId}:alarm:${input.AlarmName}`,
        AlarmDescription: input.AlarmDescription,
        AlarmConfigurationUpdatedTimestamp: now,
        ActionsEnabled: input.ActionsEnabled ?? true,
        OKActions: input.OKActions ?? [],
        AlarmActions: input.AlarmActions ?? [],
        InsufficientDataActions: input.InsufficientDataActions ?? [],
        // An update keeps the alarm's state, as CloudWatch does.
        StateValue: existing?.data.StateValue ?? 'INSUFFICIENT_DATA',
        StateReason: existing?.data.StateReason ?? 'Unchecked: Initial alarm creation',
        StateReasonData: existing?.data.StateReasonData,
        StateUpdatedTimestamp: existing?.data.StateUpdatedTimestamp ?? now,
        StateTransitionedTimestamp: existing?.data.StateTransitionedTimestamp ?? now,
        MetricName: input.MetricName,
        Namespace: input.Namespace,
        Statistic: input.Statistic,
        ExtendedStatistic: input.ExtendedStatistic,
        Dimensions: input.Dimensions ?? (input.Metrics ? undefined : []),
        Period: input.Period,
        Unit: input.Unit,
        EvaluationPeriods: input.EvaluationPeriods,
        DatapointsToAlarm: input.DatapointsToAlarm,
        Threshold: input.Threshold,
        ComparisonOperator: input.ComparisonOperator,
        TreatMissingData: input.TreatMissingData ?? 'missing',
        EvaluateLowSampleCountPercentile: input.EvaluateLowSampleCountPercentile,
        Metrics: input.Metrics,
        ThresholdMetricId: input.ThresholdMetricId,
        // Tags given to PutMetricAlarm apply at creation only; later use TagResource.
        tags: existing?.data.tags ?? (input.Tags ?? []).map((t) => ({ Key: t.Key, Value: t.Value })),
      };
      if (existing) await tx.update(c.cloudwatchAlarms, existing, doc);
      else await tx.insert(c.cloudwatchAlarms, key, doc);
      await this.addHistory(tx, doc, now, 'ConfigurationUpdate', `Alarm "${input.AlarmName}" ${existing ? 'updated' : 'created'}`, {
        version: '1.0',
        type: existing ? 'Update' : 'Create',
        [existing ? 'updatedAlarm' : 'createdAlarm']: wire(doc),
      });
    });
  }

  /** Throws the AwsError PutMetricAlarm would answer for `input`; writes nothing. */
  check(input: cw.PutMetricAlarmInput): void {
    if (input.EvaluationPeriods === undefined) throw new AwsError('MissingRequiredParameterException', 'The parameter EvaluationPeriods is required.');
    if (input.ComparisonOperator === undefined) throw new AwsError('MissingRequiredParameterException', 'The parameter ComparisonOperator is required.');
    const single = input.MetricName !== undefined || input.Namespace !== undefined || input.Statistic !== undefined || input.Period !== undefined;
    if (input.Metrics?.length && single) throw new AwsError('InvalidParameterCombinationException', 'The parameters MetricName, Namespace, Statistic, Period and Metrics: use either a single metric or Metrics, not both.');
    if (!input.Metrics?.length) {
      if (!input.MetricName || !input.Namespace) throw new AwsError('MissingRequiredParameterException', 'The parameters MetricName and Namespace are required unless Metrics is given.');
      if (!input.Statistic) throw new AwsError('MissingRequiredParameterException', 'The parameter Statistic is required (Dockyard keeps no percentiles for ExtendedStatistic).');
      if (input.Period === undefined) throw new AwsError('MissingRequiredParameterException', 'The parameter Period is required.');
      if (input.Period % 60 !== 0) throw invalid('The parameter Period must be a multiple of 60 (Dockyard keeps one-minute data).');
      if (input.Period * input.EvaluationPeriods > 7 * 86400) throw invalid('The product of EvaluationPeriods and Period must not exceed 7 days.');
      dimensionsOf(input.Dimensions, 'Dimensions');
    } else {
      const returned = input.Metrics.filter((m) => m.ReturnData !== false);
      if (returned.length !== 1) throw invalid('Exactly one element of the Metrics array must have ReturnData set to true.');
      for (const m of input.Metrics) if (m.MetricStat && m.MetricStat.Period % 60 !== 0) throw invalid('The parameter Period must be a multiple of 60 (Dockyard keeps one-minute data).');
    }
    if (!OPERATORS.has(input.ComparisonOperator)) throw invalid(`The value ${input.ComparisonOperator} for parameter ComparisonOperator is not supported by Dockyard (anomaly detection bands are not).`);
    if (input.Threshold === undefined) throw new AwsError('MissingRequiredParameterException', 'The parameter Threshold is required.');
    if (input.DatapointsToAlarm !== undefined && input.DatapointsToAlarm > input.EvaluationPeriods) {
      throw invalid('DatapointsToAlarm must be less than or equal to EvaluationPeriods.');
    }
    if (input.TreatMissingData !== undefined && !['breaching', 'notBreaching', 'ignore', 'missing'].includes(input.TreatMissingData)) {
      throw invalid(`The value ${input.TreatMissingData} for parameter TreatMissingData is invalid. Valid values: breaching, notBreaching, ignore, missing.`);
    }
    for (const [name, list] of [['AlarmActions', input.AlarmActions], ['OKActions', input.OKActions], ['InsufficientDataActions', input.InsufficientDataActions]] as const) {
      for (const a of list ?? []) if (!ACTION_ARN.test(a)) throw invalid(`Invalid arn syntax: ${a.slice(0, 256)} (${name})`);
    }
  }

  async describe(scope: Scope, input: cw.DescribeAlarmsInput) {
    if (input.AlarmNames?.length && input.AlarmNamePrefix !== undefined) throw new AwsError('InvalidParameterCombinationException', 'AlarmNames and AlarmNamePrefix cannot be specified together.');
    if (input.AlarmTypes?.length && !input.AlarmTypes.includes('MetricAlarm')) return { MetricAlarms: [], CompositeAlarms: [] };
    const max = input.MaxRecords ?? 50;
    const after = input.NextToken ? this.tokenKey(input.NextToken) : undefined;
    const rows = await this.store.read((tx) =>
      tx.find(c.cloudwatchAlarms, {
        where: { account_region: scopeKey(scope), ...(after ? { pk: { gt: after } } : {}) },
        orderBy: [['pk', 'asc']],
      }),
    );
    const names = input.AlarmNames && new Set(input.AlarmNames);
    const matching = rows
      .map((r) => r.data)
      .filter(
        (a) =>
          (!names || names.has(a.AlarmName)) &&
          (input.AlarmNamePrefix === undefined || a.AlarmName.startsWith(input.AlarmNamePrefix)) &&
          (input.StateValue === undefined || a.StateValue === input.StateValue) &&
          (input.ActionPrefix === undefined || [...(a.AlarmActions as string[]), ...(a.OKActions as string[]), ...(a.InsufficientDataActions as string[])].some((x) => x.startsWith(input.ActionPrefix!))),
      );
    const page = matching.slice(0, max);
    const more = matching.length > max;
    return {
      MetricAlarms: page.map(wire),
      CompositeAlarms: [],
      NextToken: more ? Buffer.from(alarmKey({ accountId: page.at(-1)!.accountId, region: page.at(-1)!.region }, page.at(-1)!.AlarmName)).toString('base64url') : undefined,
    };
  }

  private tokenKey(token: string): string {
    const key = Buffer.from(token, 'base64url').toString();
    if (!/^\d{12}:[a-z0-9-]+:/.test(key)) throw new AwsError('InvalidNextToken', 'The service cannot complete the request: the next token is not valid.');
    return key;
  }

  /** Every alarm on one metric (Namespace, MetricName, optionally exact dimensions, statistic, period, unit). */
  async forMetric(scope: Scope, input: cw.DescribeAlarmsForMetricInput) {
    const rows = await this.store.read((tx) => tx.find(c.cloudwatchAlarms, { where: { account_region: scopeKey(scope), metric: `${input.Namespace}|${input.MetricName}` } }));
    const dims = input.Dimensions && JSON.stringify(dimensionsOf(input.Dimensions, 'Dimensions').sort((a, b) => a.Name.localeCompare(b.Name)));
    const alarms = rows
      .map((r) => r.data)
      .filter(
        (a) =>
          (!dims || JSON.stringify([...((a.Dimensions as cw.Dimension[]) ?? [])].sort((x, y) => x.Name.localeCompare(y.Name))) === dims) &&
          (input.Statistic === undefined || a.Statistic === input.Statistic) &&
          (input.Period === undefined || a.Period === input.Period) &&
          (input.Unit === undefined || a.Unit === input.Unit),
      );
    return { MetricAlarms: alarms.map(wire) };
  }

  async all(): Promise<CloudWatchAlarmDoc[]> {
    return (await this.store.read((tx) => tx.find(c.cloudwatchAlarms))).map((r) => r.data);
  }

  async get(scope: Scope, name: string): Promise<CloudWatchAlarmDoc | undefined> {
    return (await this.store.read((tx) => tx.get(c.cloudwatchAlarms, alarmKey(scope, name))))?.data;
  }

  async delete(scope: Scope, names: readonly string[]): Promise<void> {
    await this.store.write(async (tx) => {
      const keys = names.map((n) => alarmKey(scope, n));
      for (const [i, key] of keys.entries()) if (!(await tx.get(c.cloudwatchAlarms, key))) throw notFound(`The following alarms were not found: ${names[i]}`);
      for (const key of keys) {
        await tx.delete(c.cloudwatchAlarms, key);
        for (const h of await tx.find(c.cloudwatchAlarmHistory, { where: { alarm: key } })) await tx.delete(c.cloudwatchAlarmHistory, h.pk);
      }
    });
  }

  /** DeleteAlarms for alarms another service owns (target tracking): missing ones are skipped. */
  async deleteIfPresent(scope: Scope, names: readonly string[]): Promise<void> {
    const present = [];
    for (const n of names) if (await this.get(scope, n)) present.push(n);
    if (present.length) await this.delete(scope, present);
  }

  async setActionsEnabled(scope: Scope, names: readonly string[], enabled: boolean): Promise<void> {
    await this.store.write(async (tx) => {
      for (const n of names) {
        const row = await tx.get(c.cloudwatchAlarms, alarmKey(scope, n));
        if (row && row.data.ActionsEnabled !== enabled) await tx.update(c.cloudwatchAlarms, row, { ...row.data, ActionsEnabled: enabled });
      }
    });
  }

  /** SetAlarmState: the state until the next evaluation says otherwise; actions run on a change. */
  async setState(scope: Scope, input: cw.SetAlarmStateInput): Promise<void> {
    if (input.StateReasonData !== undefined) {
      try {
        JSON.parse(input.StateReasonData);
      } catch {
        throw new AwsError('InvalidFormatFault', 'The StateReasonData parameter is not valid JSON.');
      }
    }
    const alarm = await this.get(scope, input.AlarmName);
    if (!alarm) throw notFound(`Alarm ${input.AlarmName} not found`);
    await this.applyState(alarm, input.StateValue as AlarmState, input.StateReason, input.StateReasonData, undefined);
  }

  /**
   * Records the evaluator's result: a state change (with its history item) and, when the alarm
   * is (still) in a state with actions, the actions. Auto Scaling actions run on every evaluation
   * in ALARM, as CloudWatch invokes them again each period while the alarm stays in that state.
   */
  async applyEvaluation(alarm: CloudWatchAlarmDoc, state: AlarmState, reason: string, reasonData: string, latest: number | undefined): Promise<boolean> {
    return this.applyState(alarm, state, reason, reasonData, latest);
  }

  private async applyState(alarm: CloudWatchAlarmDoc, state: AlarmState, reason: string, reasonData: string | undefined, latest: number | undefined): Promise<boolean> {
    const now = this.clock.now();
    const key = alarmKey(alarm, alarm.AlarmName);
    // Nothing is written while the state holds (the evaluator calls this every interval).
    const current = await this.store.read((tx) => tx.get(c.cloudwatchAlarms, key));
    if (!current) return false;
    const changed = current.data.StateValue === state ? { doc: current.data, changed: false } : await this.store.write(async (tx) => {
      const row = await tx.get(c.cloudwatchAlarms, key);
      if (!row) return undefined;
      const old = row.data;
      if (old.StateValue === state) return { doc: old, changed: false };
      const doc: CloudWatchAlarmDoc = { ...old, StateValue: state, StateReason: reason, StateReasonData: reasonData, StateUpdatedTimestamp: now, StateTransitionedTimestamp: now };
      await tx.update(c.cloudwatchAlarms, row, doc);
      await this.addHistory(tx, doc, now, 'StateUpdate', `Alarm updated from ${old.StateValue} to ${state}`, {
        version: '1.0',
        oldState: { stateValue: old.StateValue, stateReason: old.StateReason },
        newState: { stateValue: state, stateReason: reason, ...(reasonData ? { stateReasonData: safeJson(reasonData) } : {}) },
      });
      return { doc, changed: true };
    });
    if (!changed) return false;
    const repeats = (a: string) => /^arn:aws[a-z-]*:autoscaling:/.test(a);
    const actions = this.actionsFor(changed.doc, state).filter((a) => changed.changed || repeats(a));
    // Repeated invocations while the state holds are not history (CloudWatch records actions on transitions).
    if (changed.doc.ActionsEnabled && actions.length) await this.runActions(changed.doc, actions, latest, changed.changed);
    return changed.changed;
  }

  private actionsFor(doc: CloudWatchAlarmDoc, state: AlarmState): string[] {
    return ((state === 'ALARM' ? doc.AlarmActions : state === 'OK' ? doc.OKActions : doc.InsufficientDataActions) as string[] | undefined) ?? [];
  }

  private async runActions(doc: CloudWatchAlarmDoc, actions: readonly string[], latest: number | undefined, record: boolean): Promise<void> {
    for (const action of actions) {
      let summary: string;
      try {
        if (!this.invoker) throw new Error('no action invoker');
        summary = await this.invoker(action, doc, latest);
      } catch (e) {
        summary = `Failed to execute action ${action}. Received error: "${e instanceof Error ? e.message : String(e)}"`;
      }
      if (record) await this.store.write((tx) => this.addHistory(tx, doc, this.clock.now(), 'Action', summary, { actionState: summary.startsWith('Failed') ? 'Failed' : 'Succeeded', notificationResource: action }));
    }
  }

  private async addHistory(tx: StoreTx, doc: CloudWatchAlarmDoc, t: number, type: CloudWatchAlarmHistoryDoc['HistoryItemType'], summary: string, data: object): Promise<void> {
    const key = alarmKey(doc, doc.AlarmName);
    await tx.insert(c.cloudwatchAlarmHistory, historyKey(key, t), {
      accountId: doc.accountId,
      region: doc.region,
      alarmKey: key,
      AlarmName: doc.AlarmName,
      AlarmType: 'MetricAlarm',
      Timestamp: t,
      HistoryItemType: type,
      HistorySummary: summary,
      HistoryData: JSON.stringify(data),
    });
    // Bounded per alarm: the oldest items go.
    const count = await tx.count(c.cloudwatchAlarmHistory, { alarm: key });
    if (count > MAX_HISTORY_PER_ALARM) {
      for (const old of await tx.find(c.cloudwatchAlarmHistory, { where: { alarm: key }, orderBy: [['pk', 'asc']], limit: count - MAX_HISTORY_PER_ALARM })) {
        await tx.delete(c.cloudwatchAlarmHistory, old.pk);
      }
    }
  }

  async history(scope: Scope, input: cw.DescribeAlarmHistoryInput) {
    const max = input.MaxRecords ?? 100;
    const where: Record<string, string> = input.AlarmName ? { alarm: alarmKey(scope, input.AlarmName) } : { account_region: scopeKey(scope) };
    let items = (await this.store.read((tx) => tx.find(c.cloudwatchAlarmHistory, { where, orderBy: [['pk', 'asc']] }))).map((r) => r.data);
    items = items.filter(
      (h) =>
        (input.HistoryItemType === undefined || h.HistoryItemType === input.HistoryItemType) &&
        (input.StartDate === undefined || h.Timestamp >= Number(input.StartDate)) &&
        (input.EndDate === undefined || h.Timestamp <= Number(input.EndDate)),
    );
    items.sort((a, b) => (input.ScanBy === 'TimestampAscending' ? a.Timestamp - b.Timestamp : b.Timestamp - a.Timestamp));
    let start = 0;
    if (input.NextToken) {
      start = Number(Buffer.from(input.NextToken, 'base64url').toString());
      if (!Number.isSafeInteger(start) || start < 0) throw new AwsError('InvalidNextToken', 'The service cannot complete the request: the next token is not valid.');
    }
    const page = items.slice(start, start + max);
    return {
      AlarmHistoryItems: page.map((h) => ({ AlarmName: h.AlarmName, AlarmType: h.AlarmType, Timestamp: h.Timestamp, HistoryItemType: h.HistoryItemType, HistorySummary: h.HistorySummary, HistoryData: h.HistoryData })),
      NextToken: start + max < items.length ? Buffer.from(String(start + max)).toString('base64url') : undefined,
    };
  }

  // Tags: CloudWatch tags alarms by ARN (arn:aws:cloudwatch:<region>:<account>:alarm:<name>).
  private async tagged<T>(arn: string, fn: (tx: StoreTx, row: NonNullable<Awaited<ReturnType<StoreTx['get']>>>) => Promise<T>): Promise<T> {
    const m = /^arn:aws:cloudwatch:([a-z0-9-]+):(\d{12}):alarm:(.+)$/.exec(arn);
    if (!m) throw invalid(`The value ${arn.slice(0, 256)} for parameter ResourceARN is invalid: Dockyard tags alarms only.`);
    return this.store.write(async (tx) => {
      const row = await tx.get(c.cloudwatchAlarms, alarmKey({ region: m[1]!, accountId: m[2]! }, m[3]!));
      if (!row) throw new AwsError('ResourceNotFoundException', `The resource ${arn} does not exist.`, 404);
      return fn(tx, row);
    });
  }

  async tag(arn: string, tags: readonly cw.Tag[]): Promise<void> {
    await this.tagged(arn, async (tx, row) => {
      const doc = row.data as CloudWatchAlarmDoc;
      const merged = new Map(doc.tags.map((t) => [t.Key, t.Value]));
      for (const t of tags) merged.set(t.Key, t.Value);
      if (merged.size > 50) throw invalid('An alarm may have at most 50 tags.');
      await tx.update(c.cloudwatchAlarms, row as never, { ...doc, tags: [...merged].map(([Key, Value]) => ({ Key, Value })) });
    });
  }

  async untag(arn: string, keys: readonly string[]): Promise<void> {
    await this.tagged(arn, async (tx, row) => {
      const doc = row.data as CloudWatchAlarmDoc;
      const drop = new Set(keys);
      if (doc.tags.some((t) => drop.has(t.Key))) await tx.update(c.cloudwatchAlarms, row as never, { ...doc, tags: doc.tags.filter((t) => !drop.has(t.Key)) });
    });
  }

  async tags(arn: string) {
    return { Tags: await this.tagged(arn, async (_tx, row) => (row.data as CloudWatchAlarmDoc).tags) };
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
