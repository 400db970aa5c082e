/** CloudWatch Logs over the wire with the AWS SDK v3: groups, streams, events, filters, retention, tags. */
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  DeleteLogGroupCommand,
  DeleteLogStreamCommand,
  DeleteRetentionPolicyCommand,
  DescribeLogGroupsCommand,
  DescribeLogStreamsCommand,
  FilterLogEventsCommand,
  GetLogEventsCommand,
  ListTagsForResourceCommand,
  ListTagsLogGroupCommand,
  PutLogEventsCommand,
  PutRetentionPolicyCommand,
  TagLogGroupCommand,
  TagResourceCommand,
  UntagLogGroupCommand,
  UntagResourceCommand,
  paginateDescribeLogGroups,
  paginateFilterLogEvents,
  paginateGetLogEvents,
  StartLiveTailCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { credentials, startDockyard, type TestDockyard } from './helpers/dockyard.js';

let d: TestDockyard;
let logs: CloudWatchLogsClient;

const rejects = async (p: Promise<unknown>, name: string, message?: RegExp) => {
  await assert.rejects(p, (e: Error) => {
    assert.equal(e.name, name, e.message);
    if (message) assert.match(e.message, message);
    return true;
  });
};

before(async () => {
  d = await startDockyard();
  logs = new CloudWatchLogsClient({ endpoint: d.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
});
after(async () => {
  logs.destroy();
  await d.stop();
});

describe('log groups', () => {
  it('creates, refuses duplicates, describes with prefix, pattern and pagination, deletes', async () => {
    for (const n of ['/app/a', '/app/b', '/app/c', '/other/x', '/ecs/web']) await logs.send(new CreateLogGroupCommand({ logGroupName: n }));
    await rejects(logs.send(new CreateLogGroupCommand({ logGroupName: '/app/a' })), 'ResourceAlreadyExistsException');
    await rejects(logs.send(new CreateLogGroupCommand({ logGroupName: 'bad name!' })), 'InvalidParameterException');
    const byPrefix = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/app/' }));
    assert.deepEqual(byPrefix.logGroups!.map((g) => g.logGroupName), ['/app/a', '/app/b', '/app/c']);
    const g = byPrefix.logGroups![0]!;
    assert.equal(g.arn, 'arn:aws:logs:us-east-1:000000000000:log-group:/app/a:*'.replace('000000000000', g.arn!.split(':')[4]!));
    assert.equal(g.logGroupArn, g.arn!.slice(0, -2));
    assert.equal(typeof g.creationTime, 'number');
    const byPattern = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePattern: 'WEB' }));
    assert.deepEqual(byPattern.logGroups!.map((x) => x.logGroupName), ['/ecs/web']);
    await rejects(logs.send(new DescribeLogGroupsCommand({ logGroupNamePattern: 'a', logGroupNamePrefix: '/' })), 'InvalidParameterException');
    const names: string[] = [];
    let pages = 0;
    for await (const page of paginateDescribeLogGroups({ client: logs, pageSize: 2 }, {})) {
      pages++;
      names.push(...page.logGroups!.map((x) => x.logGroupName!));
    }
    assert.deepEqual(names, ['/app/a', '/app/b', '/app/c', '/ecs/web', '/other/x']);
    assert.equal(pages, 3);
    await logs.send(new DeleteLogGroupCommand({ logGroupName: '/other/x' }));
    await rejects(logs.send(new DeleteLogGroupCommand({ logGroupName: '/other/x' })), 'ResourceNotFoundException', /log group does not exist/);
  });
});

describe('log streams and events', () => {
  const group = '/events/g';
  const now = Date.now();

  it('creates streams and orders them by last event time', async () => {
    await logs.send(new CreateLogGroupCommand({ logGroupName: group }));
    for (const s of ['s1', 's2', 's3']) await logs.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: s }));
    await rejects(logs.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: 's1' })), 'ResourceAlreadyExistsException');
    await rejects(logs.send(new CreateLogStreamCommand({ logGroupName: '/nope', logStreamName: 's1' })), 'ResourceNotFoundException');
    await logs.send(new PutLogEventsCommand({ logGroupName: group, logStreamName: 's2', logEvents: [{ timestamp: now - 5000, message: 'two' }] }));
    await logs.send(new PutLogEventsCommand({ logGroupName: group, logStreamName: 's1', logEvents: [{ timestamp: now - 1000, message: 'one' }] }));
    const r = await logs.send(new DescribeLogStreamsCommand({ logGroupName: group, orderBy: 'LastEventTime', descending: true }));
    assert.deepEqual(r.logStreams!.map((s) => s.logStreamName), ['s1', 's2', 's3']);
    assert.equal(r.logStreams![0]!.lastEventTimestamp, now - 1000);
    assert.ok(r.logStreams![0]!.arn!.endsWith(`:log-group:${group}:log-stream:s1`));
    const prefix = await logs.send(new DescribeLogStreamsCommand({ logGroupIdentifier: group, logStreamNamePrefix: 's', limit: 2 }));
    assert.deepEqual(prefix.logStreams!.map((s) => s.logStreamName), ['s1', 's2']);
    const rest = await logs.send(new DescribeLogStreamsCommand({ logGroupName: group, logStreamNamePrefix: 's', limit: 2, nextToken: prefix.nextToken }));
    assert.deepEqual(rest.logStreams!.map((s) => s.logStreamName), ['s3']);
    await rejects(logs.send(new DescribeLogStreamsCommand({ logGroupName: group, orderBy: 'LastEventTime', logStreamNamePrefix: 's' })), 'InvalidParameterException');
    await logs.send(new DeleteLogStreamCommand({ logGroupName: group, logStreamName: 's3' }));
    await rejects(logs.send(new DeleteLogStreamCommand({ logGroupName: group, logStreamName: 's3' })), 'ResourceNotFoundException', /log stream does not exist/);
  });

  it('PutLogEvents applies AWS batch rules and reports rejected events', async () => {
    const base = { logGroupName: group, logStreamName: 's3x' };
    await logs.send(new CreateLogStreamCommand(base));
    await rejects(logs.send(new PutLogEventsCommand({ ...base, logEvents: [{ timestamp: now, message: 'b' }, { timestamp: now - 1, message: 'a' }] })), 'InvalidParameterException', /chronological/);
    await rejects(
      logs.send(new PutLogEventsCommand({ ...base, logEvents: Array.from({ length: 11 }, () => ({ timestamp: now, message: 'x'.repeat(100_000) })) })),
      'InvalidParameterException',
      /Upload too large/,
    );
    await rejects(logs.send(new PutLogEventsCommand({ ...base, logEvents: [] })), 'InvalidParameterException');
    await rejects(logs.send(new PutLogEventsCommand({ ...base, logStreamName: 'nope', logEvents: [{ timestamp: now, message: 'x' }] })), 'ResourceNotFoundException');
    const r = await logs.send(
      new PutLogEventsCommand({ ...base, logEvents: [{ timestamp: now - 1000, message: 'kept' }, { timestamp: now + 3 * 3_600_000, message: 'future' }] }),
    );
    assert.deepEqual(r.rejectedLogEventsInfo, { tooNewLogEventStartIndex: 1 });
    assert.ok(r.nextSequenceToken);
    const got = await logs.send(new GetLogEventsCommand({ ...base, startFromHead: true }));
    assert.deepEqual(got.events!.map((e) => e.message), ['kept']);
  });

  it('GetLogEvents pages forward and backward with stable tokens', async () => {
    const base = { logGroupName: group, logStreamName: 'numbers' };
    await logs.send(new CreateLogStreamCommand(base));
    const lines = Array.from({ length: 25 }, (_, i) => ({ timestamp: now - 100_000 + Math.floor(i / 2), message: `line ${i}` }));
    await logs.send(new PutLogEventsCommand({ ...base, logEvents: lines }));
    // Default: the newest events.
    const latest = await logs.send(new GetLogEventsCommand({ ...base, limit: 10 }));
    assert.deepEqual(latest.events!.map((e) => e.message), lines.slice(15).map((l) => l.message));
    const older = await logs.send(new GetLogEventsCommand({ ...base, limit: 10, nextToken: latest.nextBackwardToken }));
    assert.deepEqual(older.events!.map((e) => e.message), lines.slice(5, 15).map((l) => l.message));
    // Forward from the head, through the SDK's paginator, which stops when the token repeats.
    const seen: string[] = [];
    for await (const page of paginateGetLogEvents({ client: logs, pageSize: 7, stopOnSameToken: true }, { ...base, startFromHead: true })) seen.push(...page.events!.map((e) => e.message!));
    assert.deepEqual(seen, lines.map((l) => l.message));
    // At the end the forward token stays put; more events appear behind it.
    const head = await logs.send(new GetLogEventsCommand({ ...base, startFromHead: true }));
    const end = await logs.send(new GetLogEventsCommand({ ...base, nextToken: head.nextForwardToken }));
    assert.equal(end.events!.length, 0);
    assert.equal(end.nextForwardToken, head.nextForwardToken);
    await logs.send(new PutLogEventsCommand({ ...base, logEvents: [{ timestamp: now, message: 'late' }] }));
    const more = await logs.send(new GetLogEventsCommand({ ...base, nextToken: end.nextForwardToken }));
    assert.deepEqual(more.events!.map((e) => e.message), ['late']);
    // Time bounds: start inclusive, end exclusive.
    const window = await logs.send(new GetLogEventsCommand({ ...base, startFromHead: true, startTime: lines[2]!.timestamp, endTime: lines[6]!.timestamp }));
    assert.deepEqual(window.events!.map((e) => e.message), ['line 2', 'line 3', 'line 4', 'line 5']);
    await rejects(logs.send(new GetLogEventsCommand({ ...base, nextToken: 'garbage' })), 'InvalidParameterException');
  });

  it('FilterLogEvents interleaves streams and applies each kind of filter pattern', async () => {
    const g = '/filter/g';
    await logs.send(new CreateLogGroupCommand({ logGroupName: g }));
    await logs.send(new CreateLogStreamCommand({ logGroupName: g, logStreamName: 'web/1' }));
    await logs.send(new CreateLogStreamCommand({ logGroupName: g, logStreamName: 'web/2' }));
    await logs.send(new CreateLogStreamCommand({ logGroupName: g, logStreamName: 'worker/1' }));
    const t = now - 60_000;
    await logs.send(new PutLogEventsCommand({ logGroupName: g, logStreamName: 'web/1', logEvents: [
      { timestamp: t, message: 'ERROR disk full' },
      { timestamp: t + 2, message: '{"level":"error","latency":250}' },
      { timestamp: t + 4, message: '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /a.gif HTTP/1.0" 404 1534' },
    ] }));
    await logs.send(new PutLogEventsCommand({ logGroupName: g, logStreamName: 'web/2', logEvents: [
      { timestamp: t + 1, message: 'WARN low memory' },
      { timestamp: t + 3, message: '{"level":"info","latency":20}' },
      { timestamp: t + 5, message: '10.0.0.1 - bob [10/Oct/2000:13:25:16 -0700] "GET /b.gif HTTP/1.0" 200 99' },
    ] }));
    await logs.send(new PutLogEventsCommand({ logGroupName: g, logStreamName: 'worker/1', logEvents: [{ timestamp: t + 6, message: 'ERROR Exiting' }] }));
    const filter = async (filterPattern: string, extra: object = {}) =>
      (await logs.send(new FilterLogEventsCommand({ logGroupName: g, filterPattern, ...extra }))).events!.map((e) => `${e.logStreamName}:${e.message}`);
    const all = await logs.send(new FilterLogEventsCommand({ logGroupName: g }));
    assert.deepEqual(all.events!.map((e) => e.timestamp! - t), [0, 1, 2, 3, 4, 5, 6]);
    assert.equal(new Set(all.events!.map((e) => e.eventId)).size, 7);
    assert.deepEqual(await filter('ERROR'), ['web/1:ERROR disk full', 'worker/1:ERROR Exiting']);
    assert.deepEqual(await filter('ERROR -Exiting'), ['web/1:ERROR disk full']);
    assert.deepEqual(await filter('?WARN ?disk'), ['web/1:ERROR disk full', 'web/2:WARN low memory']);
    assert.deepEqual(await filter('"low memory"'), ['web/2:WARN low memory']);
    assert.deepEqual(await filter('{ $.latency > 100 }'), ['web/1:{"level":"error","latency":250}']);
    assert.deepEqual(await filter('{ $.level = "info" || $.latency > 100 }'), ['web/1:{"level":"error","latency":250}', 'web/2:{"level":"info","latency":20}']);
    assert.deepEqual((await filter('[ip, user, username, timestamp, request, status = 4*, bytes]')).length, 1);
    assert.deepEqual(await filter('[..., status = 200, bytes < 100]'), ['web/2:10.0.0.1 - bob [10/Oct/2000:13:25:16 -0700] "GET /b.gif HTTP/1.0" 200 99']);
    assert.deepEqual(await filter('ERROR', { logStreamNamePrefix: 'web/' }), ['web/1:ERROR disk full']);
    assert.deepEqual(await filter('', { logStreamNames: ['worker/1'] }), ['worker/1:ERROR Exiting']);
    assert.deepEqual((await filter('', { startTime: t + 2, endTime: t + 4 })).length, 3);
    await rejects(logs.send(new FilterLogEventsCommand({ logGroupName: g, filterPattern: '{ $.a = ' })), 'InvalidParameterException', /Invalid filter pattern/);
    await rejects(logs.send(new FilterLogEventsCommand({ logGroupName: g, logStreamNames: ['a'], logStreamNamePrefix: 'a' })), 'InvalidParameterException');
    // Paged by limit, through the SDK paginator.
    const paged: string[] = [];
    for await (const page of paginateFilterLogEvents({ client: logs, pageSize: 2 }, { logGroupName: g })) paged.push(...page.events!.map((e) => e.message!));
    assert.equal(paged.length, 7);
    assert.deepEqual(paged, all.events!.map((e) => e.message));
  });
});

describe('retention and tags', () => {
  it('deletes events older than the retention period', async () => {
    const g = '/retention/g';
    await logs.send(new CreateLogGroupCommand({ logGroupName: g }));
    await logs.send(new CreateLogStreamCommand({ logGroupName: g, logStreamName: 's' }));
    const now = Date.now();
    const old = Array.from({ length: 100 }, (_, i) => ({ timestamp: now - 3 * 86_400_000 + i, message: `old ${i}` }));
    await logs.send(new PutLogEventsCommand({ logGroupName: g, logStreamName: 's', logEvents: old }));
    await logs.send(new PutLogEventsCommand({ logGroupName: g, logStreamName: 's', logEvents: [{ timestamp: now, message: 'new' }] }));
    const before = d.app.services.length && (await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: g }))).logGroups![0]!.storedBytes!;
    await rejects(logs.send(new PutRetentionPolicyCommand({ logGroupName: g, retentionInDays: 2 })), 'InvalidParameterException');
    await logs.send(new PutRetentionPolicyCommand({ logGroupName: g, retentionInDays: 1 }));
    // The sweep runs right after the call; wait for it without a time limit on the assertion.
    for (let i = 0; i < 100; i++) {
      const got = await logs.send(new GetLogEventsCommand({ logGroupName: g, logStreamName: 's', startFromHead: true }));
      if (got.events!.length === 1) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const got = await logs.send(new GetLogEventsCommand({ logGroupName: g, logStreamName: 's', startFromHead: true }));
    assert.deepEqual(got.events!.map((e) => e.message), ['new']);
    const desc = (await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: g }))).logGroups![0]!;
    assert.equal(desc.retentionInDays, 1);
    assert.ok(desc.storedBytes! < before, `${desc.storedBytes} < ${before}`);
    // Events past retention are refused at the door too.
    const r = await logs.send(new PutLogEventsCommand({ logGroupName: g, logStreamName: 's', logEvents: [{ timestamp: now - 86_400_000 - 60_000, message: 'late' }, { timestamp: now - 120_000, message: 'ok' }] }));
    assert.deepEqual(r.rejectedLogEventsInfo, { expiredLogEventEndIndex: 0 });
    await logs.send(new DeleteRetentionPolicyCommand({ logGroupName: g }));
    assert.equal((await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: g }))).logGroups![0]!.retentionInDays, undefined);
  });

  it('tags log groups through both API generations', async () => {
    const g = '/tags/g';
    await logs.send(new CreateLogGroupCommand({ logGroupName: g, tags: { team: 'a' } }));
    const arn = (await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: g }))).logGroups![0]!.logGroupArn!;
    await logs.send(new TagLogGroupCommand({ logGroupName: g, tags: { env: 'dev' } }));
    assert.deepEqual((await logs.send(new ListTagsLogGroupCommand({ logGroupName: g }))).tags, { team: 'a', env: 'dev' });
    await logs.send(new TagResourceCommand({ resourceArn: arn, tags: { cost: '1' } }));
    await logs.send(new UntagLogGroupCommand({ logGroupName: g, tags: ['team'] }));
    await logs.send(new UntagResourceCommand({ resourceArn: arn, tagKeys: ['env'] }));
    assert.deepEqual((await logs.send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags, { cost: '1' });
    await rejects(logs.send(new ListTagsForResourceCommand({ resourceArn: `${arn}-missing` })), 'ResourceNotFoundException');
    await rejects(logs.send(new TagResourceCommand({ resourceArn: 'arn:aws:ecs:us-east-1:1:cluster/x', tags: { a: 'b' } })), 'InvalidParameterException');
    const many = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, 'v']));
    await rejects(logs.send(new TagResourceCommand({ resourceArn: arn, tags: many })), 'TooManyTagsException');
  });
});

describe('IAM on log groups and streams', () => {
  it('evaluates logs:<Operation> on the log group or stream ARN', async () => {
    const iam = new IAMClient({ endpoint: d.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
    try {
      await iam.send(new CreateUserCommand({ UserName: 'logs-writer' }));
      const account = (await logs.send(new DescribeLogGroupsCommand({ limit: 1 }))).logGroups![0]!.arn!.split(':')[4]!;
      const policy = {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:GetLogEvents'], Resource: `arn:aws:logs:us-east-1:${account}:log-group:/team-a/*` },
          { Effect: 'Allow', Action: 'logs:DescribeLogGroups', Resource: '*' },
        ],
      };
      await iam.send(new PutUserPolicyCommand({ UserName: 'logs-writer', PolicyName: 'p', PolicyDocument: JSON.stringify(policy) }));
      const key = (await iam.send(new CreateAccessKeyCommand({ UserName: 'logs-writer' }))).AccessKey!;
      const user = new CloudWatchLogsClient({ endpoint: d.endpoint, region: 'us-east-1', credentials: { accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! }, maxAttempts: 1 });
      try {
        await user.send(new CreateLogGroupCommand({ logGroupName: '/team-a/app' }));
        await user.send(new CreateLogStreamCommand({ logGroupName: '/team-a/app', logStreamName: 's' }));
        await user.send(new PutLogEventsCommand({ logGroupName: '/team-a/app', logStreamName: 's', logEvents: [{ timestamp: Date.now(), message: 'ok' }] }));
        assert.equal((await user.send(new GetLogEventsCommand({ logGroupName: '/team-a/app', logStreamName: 's' }))).events!.length, 1);
        await user.send(new DescribeLogGroupsCommand({}));
        await rejects(user.send(new CreateLogGroupCommand({ logGroupName: '/team-b/app' })), 'AccessDeniedException', /logs:CreateLogGroup on resource: arn:aws:logs:us-east-1:\d+:log-group:\/team-b\/app/);
        await rejects(user.send(new PutLogEventsCommand({ logGroupName: '/events/g', logStreamName: 's1', logEvents: [{ timestamp: Date.now(), message: 'no' }] })), 'AccessDeniedException', /log-group:\/events\/g:log-stream:s1/);
        await rejects(user.send(new FilterLogEventsCommand({ logGroupName: '/team-a/app' })), 'AccessDeniedException');
      } finally {
        user.destroy();
      }
    } finally {
      iam.destroy();
    }
  });
});

describe('StartLiveTail', () => {
  it('streams the events stored from now on that match, over the event-stream protocol', async () => {
    // The SDK would prefix the host with `streaming-`; against an IP address that prefix must be off.
    const live = new CloudWatchLogsClient({ endpoint: d.endpoint, region: 'us-east-1', credentials, maxAttempts: 1, disableHostPrefix: true });
    const ac = new AbortController();
    try {
      await logs.send(new CreateLogGroupCommand({ logGroupName: '/live/g' }));
      await logs.send(new CreateLogStreamCommand({ logGroupName: '/live/g', logStreamName: 'web/1' }));
      await logs.send(new CreateLogStreamCommand({ logGroupName: '/live/g', logStreamName: 'worker/1' }));
      await logs.send(new PutLogEventsCommand({ logGroupName: '/live/g', logStreamName: 'web/1', logEvents: [{ timestamp: Date.now(), message: 'keep: before the session' }] }));
      const res = await live.send(new StartLiveTailCommand({ logGroupIdentifiers: ['/live/g'], logStreamNamePrefixes: ['web/'], logEventFilterPattern: 'keep' }), { abortSignal: ac.signal });
      const seen: string[] = [];
      let start: { logGroupIdentifiers?: string[]; sessionId?: string } | undefined;
      const put = async () => {
        for (const [stream, message] of [['web/1', 'keep: one'], ['web/1', 'drop: two'], ['worker/1', 'keep: other stream'], ['web/1', 'keep: three']]) {
          await logs.send(new PutLogEventsCommand({ logGroupName: '/live/g', logStreamName: stream!, logEvents: [{ timestamp: Date.now(), message: message! }] }));
        }
      };
      for await (const ev of res.responseStream!) {
        if (ev.sessionStart) {
          start = ev.sessionStart;
          await put();
        }
        for (const r of ev.sessionUpdate?.sessionResults ?? []) {
          assert.equal(r.logGroupIdentifier, '/live/g');
          assert.equal(r.logStreamName, 'web/1');
          seen.push(r.message!);
        }
        if (seen.length >= 2) break;
      }
      assert.deepEqual(start?.logGroupIdentifiers, ['/live/g']);
      assert.ok(start?.sessionId);
      assert.deepEqual(seen, ['keep: one', 'keep: three']);
    } finally {
      ac.abort();
      live.destroy();
    }
  });

  it('answers bad sessions with ordinary errors before any event', async () => {
    const live = new CloudWatchLogsClient({ endpoint: d.endpoint, region: 'us-east-1', credentials, maxAttempts: 1, disableHostPrefix: true });
    try {
      await rejects(live.send(new StartLiveTailCommand({ logGroupIdentifiers: ['/live/missing'] })), 'ResourceNotFoundException');
      await rejects(live.send(new StartLiveTailCommand({ logGroupIdentifiers: ['/live/g', '/app/a'], logStreamNames: ['web/1'] })), 'InvalidParameterException');
      await rejects(live.send(new StartLiveTailCommand({ logGroupIdentifiers: ['/live/g'], logEventFilterPattern: '{ $.a = ' })), 'InvalidParameterException');
    } finally {
      live.destroy();
    }
  });
});
