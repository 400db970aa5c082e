/**
 * The CloudWatch Logs service module (awsJson1_1, `Logs_20140328`): thin handlers over the
 * LogsDomain. Log data lives in its own SQLite file (event-store.ts), not the control-plane store.
 */
import { join } from 'node:path';
import { AwsError } from '../../aws/errors.js';
import { loadModel } from '../../aws/model.js';
import type { Operations } from '../../aws/generated/logs.js';
import { translatingErrors, type OperationHandlers, type ServiceModule } from '../../aws/service.js';
import type { Clock } from '../../core/clock.js';
import { InvalidTokenError } from '../../core/pagination.js';
import { LogEventStore } from './event-store.js';
import { LogsDomain } from './logs.js';
import { RetentionSweeper } from './retention.js';
import { startLiveTail } from './live-tail.js';

export { LogsDomain } from './logs.js';
export { LogEventStore } from './event-store.js';
export { RetentionSweeper } from './retention.js';

export interface LogsDeps {
  /** The data dir (':memory:' keeps log data in memory). */
  dataDir: string;
  clock: Clock;
}

export interface Logs {
  domain: LogsDomain;
  retention: RetentionSweeper;
  close(): void;
}

export function createLogs(deps: LogsDeps): Logs {
  const store = new LogEventStore(deps.dataDir === ':memory:' ? ':memory:' : join(deps.dataDir, 'logs', 'logs.db'));
  let retention: RetentionSweeper | undefined;
  const domain = new LogsDomain(store, deps.clock, (groupId) => retention?.soon(groupId));
  retention = new RetentionSweeper(domain);
  return {
    domain,
    retention,
    close: () => {
      retention!.stop();
      store.close();
    },
  };
}

export function logsService(d: LogsDomain): ServiceModule {
  const operations: OperationHandlers<Operations> = {
    CreateLogGroup: (ctx, input) => d.createGroup(ctx, input),
    DeleteLogGroup: (ctx, input) => d.deleteGroup(ctx, input.logGroupName),
    DescribeLogGroups: (ctx, input) => d.describeGroups(ctx, input),
    CreateLogStream: (ctx, input) => d.createStream(ctx, input.logGroupName, input.logStreamName),
    DeleteLogStream: (ctx, input) => d.deleteStream(ctx, input.logGroupName, input.logStreamName),
    DescribeLogStreams: (ctx, input) => d.describeStreams(ctx, input),
    PutLogEvents: (ctx, input) => d.putEvents(ctx, input),
    GetLogEvents: (ctx, input) => d.getEvents(ctx, input),
    FilterLogEvents: (ctx, input) => d.filterEvents(ctx, input),
    PutRetentionPolicy: (ctx, input) => d.putRetention(ctx, input.logGroupName, input.retentionInDays),
    DeleteRetentionPolicy: (ctx, input) => d.deleteRetention(ctx, input.logGroupName),
    TagLogGroup: (ctx, input) => d.tagGroup(d.groupByName(ctx, input.logGroupName), input.tags),
    UntagLogGroup: (ctx, input) => d.untagGroup(d.groupByName(ctx, input.logGroupName), input.tags),
    ListTagsLogGroup: (ctx, input) => d.listTags(d.groupByName(ctx, input.logGroupName)),
    TagResource: (ctx, input) => d.tagGroup(d.groupByArn(ctx, input.resourceArn), input.tags, input.resourceArn),
    UntagResource: (ctx, input) => d.untagGroup(d.groupByArn(ctx, input.resourceArn), input.tagKeys),
    ListTagsForResource: (ctx, input) => d.listTags(d.groupByArn(ctx, input.resourceArn)),
    // An event stream, not a shaped output (see aws/event-stream.ts).
    StartLiveTail: ((ctx, input) => startLiveTail(d, ctx, input)) as OperationHandlers<Operations>['StartLiveTail'],
  };
  return {
    name: 'logs',
    model: loadModel('logs'),
    protocol: 'awsJson1_1',
    validationErrorCode: 'InvalidParameterException',
    operations: translatingErrors(operations, (e) => (e instanceof InvalidTokenError ? new AwsError('InvalidParameterException', 'The specified nextToken is invalid.') : undefined)),
  };
}
