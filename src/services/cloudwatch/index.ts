/**
 * The CloudWatch service module: metrics (their own SQLite file) and metric alarms (the store).
 * Served in JSON 1.0 (what botocore 1.43 and SDK v3 send today), awsQuery (AWS CLI v2.9, older
 * SDKs) and Smithy RPC v2 CBOR (the model's preferred protocol); all three reach these handlers.
 */
import { AwsError } from '../../aws/errors.js';
import type { Operations } from '../../aws/generated/cloudwatch.js';
import { loadModel, type ServiceModel } from '../../aws/model.js';
import { translatingErrors, type OperationHandler, type OperationHandlers, type RequestContext, type ServiceModule } from '../../aws/service.js';
import type { Clock } from '../../core/clock.js';
import { InvalidTokenError } from '../../core/pagination.js';
import type { Store } from '../../store/store.js';
import { Alarms } from './alarms.js';
import { DEFAULT_RETENTION, MetricStore, type RetentionSettings } from './metric-store.js';
import { Metrics } from './metrics.js';

export { Alarms, alarmKey, type AlarmActionInvoker } from './alarms.js';
export { MetricStore, type PointInput } from './metric-store.js';
export { Metrics, scopeKey, statisticOf, type Scope } from './metrics.js';

export interface CloudWatchDomain {
  metricStore: MetricStore;
  metrics: Metrics;
  alarms: Alarms;
}

export function createCloudWatchDomain(deps: { store: Store; clock: Clock; dataDir: string; retention?: Partial<RetentionSettings> }): CloudWatchDomain {
  const metricStore = new MetricStore(deps.dataDir, { ...DEFAULT_RETENTION, ...deps.retention });
  deps.store.onClear(() => metricStore.clear());
  return { metricStore, metrics: new Metrics(metricStore, deps.clock), alarms: new Alarms(deps.store, deps.clock) };
}

export function cloudWatchService(d: CloudWatchDomain): ServiceModule {
  const operations: OperationHandlers<Operations> = {
    PutMetricData: (ctx, input) => (d.metrics.put(ctx, input), {}),
    GetMetricStatistics: (ctx, input) => d.metrics.getStatistics(ctx, input),
    GetMetricData: (ctx, input) => d.metrics.getData(ctx, input),
    ListMetrics: (ctx, input) => d.metrics.list(ctx, input),
    PutMetricAlarm: async (ctx, input) => (await d.alarms.put(ctx, input), {}),
    DescribeAlarms: (ctx, input) => d.alarms.describe(ctx, input),
    DescribeAlarmsForMetric: (ctx, input) => d.alarms.forMetric(ctx, input),
    DeleteAlarms: async (ctx, input) => (await d.alarms.delete(ctx, input.AlarmNames), {}),
    SetAlarmState: async (ctx, input) => (await d.alarms.setState(ctx, input), {}),
    DescribeAlarmHistory: (ctx, input) => d.alarms.history(ctx, input),
    EnableAlarmActions: async (ctx, input) => (await d.alarms.setActionsEnabled(ctx, input.AlarmNames, true), {}),
    DisableAlarmActions: async (ctx, input) => (await d.alarms.setActionsEnabled(ctx, input.AlarmNames, false), {}),
    TagResource: async (_ctx, input) => (await d.alarms.tag(input.ResourceARN, input.Tags), {}),
    UntagResource: async (_ctx, input) => (await d.alarms.untag(input.ResourceARN, input.TagKeys), {}),
    ListTagsForResource: (_ctx, input) => d.alarms.tags(input.ResourceARN),
  };
  const model = loadModel('cloudwatch');
  return {
    name: 'monitoring',
    model,
    protocol: 'awsJson1_0',
    alsoServes: ['awsQuery', 'rpcv2Cbor'],
    validationErrorCode: 'InvalidParameterValueException',
    operations: modeledErrorsOnly(model, translatingErrors(operations, (e) => (e instanceof InvalidTokenError ? new AwsError('InvalidNextToken', e.message) : undefined))),
  };
}

/**
 * CloudWatch models few errors per operation (PutMetricAlarm: only LimitExceededFault); the
 * domain's other client errors (a missing or conflicting parameter, a bad token) reach callers of
 * such operations as InvalidParameterValue, the error every CloudWatch operation may answer.
 */
function modeledErrorsOnly(model: ServiceModel, operations: Record<string, OperationHandler>): Record<string, OperationHandler> {
  return Object.fromEntries(
    Object.entries(operations).map(([name, fn]) => {
      const modeled = new Set((model.operations[name]?.errors ?? []).map((e) => e.shape));
      return [
        name,
        async (ctx: RequestContext, input: unknown) => {
          try {
            return await fn(ctx, input);
          } catch (e) {
            if (e instanceof AwsError && e.status < 500 && !modeled.has(e.code) && Object.hasOwn(model.shapes, e.code)) throw new AwsError('InvalidParameterValueException', e.message);
            throw e;
          }
        },
      ];
    }),
  );
}
