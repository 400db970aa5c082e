/**
 * CloudWatch through real clients in all three protocols it speaks: SDK v3 and AWS CLI v1
 * (botocore 1.43: JSON 1.0), AWS CLI v2.9 (awsQuery), and botocore driven to Smithy RPC v2 CBOR
 * (its own CBOR serializer and parser): metrics written by one protocol are read by the others,
 * GetMetricData's math, alarms and their errors, and raw CBOR framing errors.
 */
import { CloudWatchClient, DescribeAlarmsCommand, GetMetricDataCommand, GetMetricStatisticsCommand, PutMetricAlarmCommand, PutMetricDataCommand, SetAlarmStateCommand, DescribeAlarmHistoryCommand, DescribeAlarmsForMetricCommand, ListTagsForResourceCommand } from '@aws-sdk/client-cloudwatch';
import { AwsSmithyRpcV2CborProtocol } from '@aws-sdk/core/protocols';
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);
import { after, before, describe, it } from 'node:test';
import { encode, decode } from 'cbor2';
import { request } from 'undici';
import { AWS_CLI_V2, requireCliV1 } from './helpers/aws-cli.js';
import { credentials, startDockyard, type TestDockyard } from './helpers/dockyard.js';
import { postSignedCbor } from './helpers/signed-http.js';

/** botocore made to resolve CloudWatch to smithy-rpc-v2-cbor (1.43 picks JSON 1.0 first); prints the JSON of one call's result. */
const BOTOCORE_CBOR = `
import sys, json, datetime, botocore.session
from botocore import model as bm
bm.ServiceModel.resolved_protocol = property(lambda self: 'smithy-rpc-v2-cbor')
s = botocore.session.get_session()
c = s.create_client('cloudwatch', region_name='us-east-1', endpoint_url=sys.argv[1], aws_access_key_id='${credentials.accessKeyId}', aws_secret_access_key='${credentials.secretAccessKey}')
seen = []
c.meta.events.register('before-send', lambda request, **kw: seen.append((request.url, request.headers.get('smithy-protocol'))))
op, params = sys.argv[2], json.loads(sys.argv[3])
for k in ('StartTime', 'EndTime', 'Timestamp'):
    if k in params: params[k] = datetime.datetime.fromtimestamp(params[k], datetime.timezone.utc)
for d in params.get('MetricData', []):
    if 'Timestamp' in d: d['Timestamp'] = datetime.datetime.fromtimestamp(d['Timestamp'], datetime.timezone.utc)
try:
    out = getattr(c, op)(**params)
    out.pop('ResponseMetadata', None)
    print(json.dumps({'ok': out, 'sent': [seen[-1][0], seen[-1][1].decode()]}, default=lambda o: o.timestamp()))
except c.exceptions.ClientError as e:
    print(json.dumps({'error': e.response['Error'], 'sent': [seen[-1][0], seen[-1][1].decode()]}))
`;

describe('CloudWatch API over JSON 1.0, awsQuery and RPC v2 CBOR', () => {
  let t: TestDockyard;
  let cw: CloudWatchClient;
  let cliV1: string;
  const now = Math.floor(Date.now() / 1000);
  const minute = Math.floor(now / 60) * 60;

  before(async () => {
    cliV1 = requireCliV1();
    t = await startDockyard({ metrics: { alarmEvaluationIntervalMs: 0 } });
    cw = new CloudWatchClient({ endpoint: t.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
  });
  after(async () => {
    cw?.destroy();
    await t?.stop();
  });

  // The server runs in this process: the clients run asynchronously, never blocking its event loop.
  const cli = async (bin: string, args: string[]) => JSON.parse((await run(bin, ['cloudwatch', ...args, '--endpoint-url', t.endpoint, '--output', 'json'], { env: t.cliEnv, encoding: 'utf8' })).stdout || '{}');
  const cliError = async (bin: string, args: string[]) => {
    try {
      await run(bin, ['cloudwatch', ...args, '--endpoint-url', t.endpoint], { env: t.cliEnv, encoding: 'utf8' });
    } catch (e) {
      return String((e as { stderr: string }).stderr);
    }
    assert.fail(`${args[0]} succeeded`);
  };
  const cbor = async (op: string, params: object) => JSON.parse((await run('python3', ['-c', BOTOCORE_CBOR, t.endpoint, op, JSON.stringify(params)], { encoding: 'utf8' })).stdout);

  it('takes points from SDK v3, CLI v1, CLI v2 and CBOR and aggregates them per minute for every client', async () => {
    const dims = [{ Name: 'Service', Value: 'web' }];
    await cw.send(new PutMetricDataCommand({ Namespace: 'Shop', MetricData: [{ MetricName: 'Latency', Dimensions: dims, Value: 10, Unit: 'Milliseconds', Timestamp: new Date((minute - 120) * 1000) }] }));
    (await cli(cliV1, ['put-metric-data', '--namespace', 'Shop', '--metric-name', 'Latency', '--dimensions', 'Service=web', '--value', '20', '--unit', 'Milliseconds', '--timestamp', String(minute - 110)]));
    (await cli(AWS_CLI_V2, ['put-metric-data', '--namespace', 'Shop', '--metric-name', 'Latency', '--dimensions', 'Service=web', '--value', '30', '--unit', 'Milliseconds', '--timestamp', new Date((minute - 100) * 1000).toISOString()]));
    const put = (await cbor('put_metric_data', { Namespace: 'Shop', MetricData: [{ MetricName: 'Latency', Dimensions: dims, StatisticValues: { SampleCount: 2, Sum: 100, Minimum: 40, Maximum: 60 }, Unit: 'Milliseconds', Timestamp: minute - 60 }] }));
    assert.deepEqual(put.sent, [`${t.endpoint}/service/GraniteServiceVersion20100801/operation/PutMetricData`, 'rpc-v2-cbor']);

    const range = { StartTime: minute - 600, EndTime: minute + 60, Period: 60 };
    const sdk = await cw.send(new GetMetricStatisticsCommand({ Namespace: 'Shop', MetricName: 'Latency', Dimensions: dims, StartTime: new Date(range.StartTime * 1000), EndTime: new Date(range.EndTime * 1000), Period: 60, Statistics: ['Sum', 'SampleCount', 'Average', 'Minimum', 'Maximum'] }));
    const byTime = (points: { Timestamp?: Date | number | string }[]) => points.map((p) => ({ ...p, Timestamp: new Date(typeof p.Timestamp === 'number' ? p.Timestamp * 1000 : p.Timestamp!).getTime() / 1000 })).sort((a, b) => a.Timestamp - b.Timestamp);
    const expected = [
      { Timestamp: minute - 120, SampleCount: 3, Sum: 60, Average: 20, Minimum: 10, Maximum: 30, Unit: 'Milliseconds' },
      { Timestamp: minute - 60, SampleCount: 2, Sum: 100, Average: 50, Minimum: 40, Maximum: 60, Unit: 'Milliseconds' },
    ];
    assert.deepEqual(byTime(sdk.Datapoints!), expected);
    const args = ['get-metric-statistics', '--namespace', 'Shop', '--metric-name', 'Latency', '--dimensions', 'Name=Service,Value=web', '--start-time', String(range.StartTime), '--end-time', String(range.EndTime), '--period', '60', '--statistics', 'Sum', 'SampleCount', 'Average', 'Minimum', 'Maximum'];
    assert.deepEqual(byTime((await cli(cliV1, args)).Datapoints), expected);
    assert.deepEqual(byTime((await cli(AWS_CLI_V2, args)).Datapoints), expected);
    const viaCbor = (await cbor('get_metric_statistics', { Namespace: 'Shop', MetricName: 'Latency', Dimensions: dims, ...range, Statistics: ['Sum', 'SampleCount', 'Average', 'Minimum', 'Maximum'] }));
    assert.deepEqual(byTime(viaCbor.ok.Datapoints), expected);
  });

  it('evaluates GetMetricData math: arithmetic, SUM over METRICS(), FILL, for SDK v3, CLI v1, CLI v2 and CBOR', async () => {
    for (const [i, svc] of ['a', 'b'].entries()) {
      await cw.send(new PutMetricDataCommand({ Namespace: 'Math', MetricData: [0, 1, 3].map((k) => ({ MetricName: 'Req', Dimensions: [{ Name: 'Svc', Value: svc }], Value: (i + 1) * (k + 1), Timestamp: new Date((minute - 300 + k * 60) * 1000) })) }));
    }
    const q = (id: string, svc: string) => ({ Id: id, MetricStat: { Metric: { Namespace: 'Math', MetricName: 'Req', Dimensions: [{ Name: 'Svc', Value: svc }] }, Period: 60, Stat: 'Sum' }, ReturnData: false });
    const queries = [q('ma', 'a'), q('mb', 'b'), { Id: 'total', Expression: 'SUM(METRICS())' }, { Id: 'filled', Expression: 'FILL(ma, 0) * 10 + 1' }, { Id: 'ratio', Expression: 'mb / ma' }, { Id: 'peak', Expression: 'MAX(ma)' }];
    const start = minute - 300;
    const end = minute - 60;
    const expect = {
      total: [[start, 3], [start + 60, 6], [start + 180, 12]],
      filled: [[start, 11], [start + 60, 21], [start + 120, 1], [start + 180, 41]],
      ratio: [[start, 2], [start + 60, 2], [start + 180, 2]],
      peak: [[start, 4], [start + 60, 4], [start + 120, 4], [start + 180, 4]],
    } as Record<string, number[][]>;
    const check = (results: { Id?: string; Timestamps?: (Date | number | string)[]; Values?: number[] }[], who: string) => {
      assert.deepEqual(results.map((r) => r.Id).sort(), Object.keys(expect).sort(), who);
      for (const r of results) {
        const pairs = r.Timestamps!.map((ts, k) => [new Date(typeof ts === 'number' ? ts * 1000 : ts).getTime() / 1000, r.Values![k]!]).sort((x, y) => x[0]! - y[0]!);
        assert.deepEqual(pairs, expect[r.Id!], `${who} ${r.Id}`);
      }
    };
    const sdk = await cw.send(new GetMetricDataCommand({ MetricDataQueries: queries, StartTime: new Date(start * 1000), EndTime: new Date(end * 1000) }));
    check(sdk.MetricDataResults!, 'SDK v3');
    const args = ['get-metric-data', '--metric-data-queries', JSON.stringify(queries), '--start-time', String(start), '--end-time', String(end)];
    check((await cli(cliV1, args)).MetricDataResults, 'CLI v1');
    check((await cli(AWS_CLI_V2, args)).MetricDataResults, 'CLI v2');
    check((await cbor('get_metric_data', { MetricDataQueries: queries, StartTime: start, EndTime: end })).ok.MetricDataResults, 'CBOR');
    // Newest first by default, as CloudWatch returns them.
    const ts = sdk.MetricDataResults!.find((r) => r.Id === 'filled')!.Timestamps!.map((d) => d.getTime());
    assert.deepEqual(ts, [...ts].sort((a, b) => b - a));
    await assert.rejects(cw.send(new GetMetricDataCommand({ MetricDataQueries: [q('ma', 'a'), { Id: 'bad', Expression: 'ma +* 2' }], StartTime: new Date(start * 1000), EndTime: new Date(end * 1000) })), /Error in expression bad/);
  });

  it('keeps alarms: put, describe, set state, history and tags in every protocol, with query-compatible error codes', async () => {
    await cw.send(
      new PutMetricAlarmCommand({
        AlarmName: 'latency-high',
        Namespace: 'Shop',
        MetricName: 'Latency',
        Dimensions: [{ Name: 'Service', Value: 'web' }],
        Statistic: 'Average',
        Period: 60,
        EvaluationPeriods: 3,
        DatapointsToAlarm: 2,
        Threshold: 100,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
        Tags: [{ Key: 'team', Value: 'shop' }],
      }),
    );
    const v1 = (await cli(cliV1, ['describe-alarms', '--alarm-names', 'latency-high'])).MetricAlarms[0];
    assert.equal(v1.StateValue, 'INSUFFICIENT_DATA');
    assert.equal(v1.StateReason, 'Unchecked: Initial alarm creation');
    assert.equal(v1.AlarmArn, 'arn:aws:cloudwatch:us-east-1:000000000000:alarm:latency-high');
    const v2 = (await cli(AWS_CLI_V2, ['describe-alarms', '--alarm-name-prefix', 'latency'])).MetricAlarms;
    assert.deepEqual(v2.map((a: { AlarmName: string; DatapointsToAlarm: number }) => [a.AlarmName, a.DatapointsToAlarm]), [['latency-high', 2]]);
    const viaCbor = (await cbor('describe_alarms', { AlarmNames: ['latency-high'] }));
    assert.equal(viaCbor.ok.MetricAlarms[0].Threshold, 100);

    (await cli(AWS_CLI_V2, ['set-alarm-state', '--alarm-name', 'latency-high', '--state-value', 'ALARM', '--state-reason', 'testing']));
    const described = await cw.send(new DescribeAlarmsCommand({ StateValue: 'ALARM' }));
    assert.deepEqual(described.MetricAlarms!.map((a) => a.AlarmName), ['latency-high']);
    const history = await cw.send(new DescribeAlarmHistoryCommand({ AlarmName: 'latency-high', HistoryItemType: 'StateUpdate' }));
    assert.equal(history.AlarmHistoryItems![0]!.HistorySummary, 'Alarm updated from INSUFFICIENT_DATA to ALARM');
    const forMetric = await cw.send(new DescribeAlarmsForMetricCommand({ Namespace: 'Shop', MetricName: 'Latency', Dimensions: [{ Name: 'Service', Value: 'web' }] }));
    assert.deepEqual(forMetric.MetricAlarms!.map((a) => a.AlarmName), ['latency-high']);
    const otherDims = await cw.send(new DescribeAlarmsForMetricCommand({ Namespace: 'Shop', MetricName: 'Latency', Dimensions: [{ Name: 'Service', Value: 'api' }] }));
    assert.deepEqual(otherDims.MetricAlarms, []);
    const tags = await cw.send(new ListTagsForResourceCommand({ ResourceARN: v1.AlarmArn }));
    assert.deepEqual(tags.Tags, [{ Key: 'team', Value: 'shop' }]);

    // Errors carry the awsQuery code in every protocol (x-amzn-query-error for JSON and CBOR).
    assert.match((await cliError(cliV1, ['set-alarm-state', '--alarm-name', 'nope', '--state-value', 'OK', '--state-reason', 'x'])), /\(ResourceNotFound\).*Alarm nope not found/);
    assert.match((await cliError(AWS_CLI_V2, ['set-alarm-state', '--alarm-name', 'nope', '--state-value', 'OK', '--state-reason', 'x'])), /\(ResourceNotFound\)/);
    assert.equal((await cbor('set_alarm_state', { AlarmName: 'nope', StateValue: 'OK', StateReason: 'x' })).error.Code, 'ResourceNotFound');
    await assert.rejects(cw.send(new SetAlarmStateCommand({ AlarmName: 'nope', StateValue: 'OK', StateReason: 'x' })), (e: Error & { Code?: string }) => e.name === 'ResourceNotFound');
    assert.match((await cliError(AWS_CLI_V2, ['put-metric-data', '--namespace', 'AWS/ECS', '--metric-name', 'x', '--value', '1'])), /\(InvalidParameterValue\).*AWS\/ECS/);
    assert.equal((await cbor('put_metric_data', { Namespace: 'AWS/ECS', MetricData: [{ MetricName: 'x', Value: 1 }] })).error.Code, 'InvalidParameterValue');
  });

  it('serves SDK v3 switched to Smithy RPC v2 CBOR (its own CBOR codec), errors included', async () => {
    const sent: string[] = [];
    const cborClient = new CloudWatchClient({ endpoint: t.endpoint, region: 'us-east-1', credentials, maxAttempts: 1, protocol: AwsSmithyRpcV2CborProtocol });
    cborClient.middlewareStack.add((next) => async (args) => {
      const req = args.request as { path: string; headers: Record<string, string> };
      sent.push(`${req.path} ${req.headers['smithy-protocol']}`);
      return next(args);
    }, { step: 'finalizeRequest' });
    try {
      await cborClient.send(new PutMetricDataCommand({ Namespace: 'Sdk', MetricData: [{ MetricName: 'Hits', Value: 5, Timestamp: new Date((minute - 60) * 1000) }, { MetricName: 'Hits', Value: 7, Timestamp: new Date((minute - 60) * 1000) }] }));
      const stats = await cborClient.send(new GetMetricStatisticsCommand({ Namespace: 'Sdk', MetricName: 'Hits', StartTime: new Date((minute - 300) * 1000), EndTime: new Date((minute + 60) * 1000), Period: 60, Statistics: ['Sum', 'Maximum'] }));
      assert.deepEqual(stats.Datapoints, [{ Timestamp: new Date((minute - 60) * 1000), Sum: 12, Maximum: 7, Unit: 'None' }]);
      await assert.rejects(cborClient.send(new SetAlarmStateCommand({ AlarmName: 'nope', StateValue: 'OK', StateReason: 'x' })), (e: Error) => e.name === 'ResourceNotFound');
      assert.deepEqual(sent.slice(0, 2), ['/service/GraniteServiceVersion20100801/operation/PutMetricData rpc-v2-cbor', '/service/GraniteServiceVersion20100801/operation/GetMetricStatistics rpc-v2-cbor']);
    } finally {
      cborClient.destroy();
    }
  });

  it('asks IAM for cloudwatch:<Operation>, in JSON and in CBOR', async () => {
    const iam = new IAMClient({ endpoint: t.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
    await iam.send(new CreateUserCommand({ UserName: 'publisher' }));
    await iam.send(new PutUserPolicyCommand({ UserName: 'publisher', PolicyName: 'put', PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'cloudwatch:PutMetricData', Resource: '*' }] }) }));
    const key = (await iam.send(new CreateAccessKeyCommand({ UserName: 'publisher' }))).AccessKey!;
    iam.destroy();
    const as = { accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! };
    const publisher = new CloudWatchClient({ endpoint: t.endpoint, region: 'us-east-1', credentials: as, maxAttempts: 1 });
    try {
      await publisher.send(new PutMetricDataCommand({ Namespace: 'Iam', MetricData: [{ MetricName: 'x', Value: 1 }] }));
      await assert.rejects(publisher.send(new DescribeAlarmsCommand({})), (e: Error) => e.name === 'AccessDeniedException' && /not authorized to perform: cloudwatch:DescribeAlarms/.test(e.message));
      const denied = await postSignedCbor(t.endpoint, { service: 'monitoring', targetPrefix: 'GraniteServiceVersion20100801', operation: 'ListMetrics', body: encode({}), credentials: as });
      assert.equal(denied.status, 400);
      assert.equal(denied.json?.__type, 'AccessDeniedException');
    } finally {
      publisher.destroy();
    }
  });

  it('keeps metrics and alarms across a restart (metrics.sqlite beside the store)', async () => {
    t = await t.restart();
    cw.destroy();
    cw = new CloudWatchClient({ endpoint: t.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
    const stats = await cw.send(new GetMetricStatisticsCommand({ Namespace: 'Shop', MetricName: 'Latency', Dimensions: [{ Name: 'Service', Value: 'web' }], StartTime: new Date((minute - 600) * 1000), EndTime: new Date((minute + 60) * 1000), Period: 600, Statistics: ['SampleCount'] }));
    assert.deepEqual(stats.Datapoints!.map((d) => d.SampleCount), [5]);
    assert.deepEqual((await cw.send(new DescribeAlarmsCommand({ AlarmNames: ['latency-high'] }))).MetricAlarms!.map((a) => a.StateValue), ['ALARM']);
  });

  it('answers broken CBOR framing with AWS-shaped 4xx errors in CBOR', async () => {
    const url = `${t.endpoint}/service/GraniteServiceVersion20100801/operation/ListMetrics`;
    const send = async (body: Buffer, headers: Record<string, string>, operation = 'ListMetrics') => {
      const res = await postSignedCbor(t.endpoint, { service: 'monitoring', targetPrefix: 'GraniteServiceVersion20100801', operation, body, headers });
      return { status: res.status, headers: res.headers, doc: (res.json ?? {}) as Record<string, string> };
    };
    const ok = await send(Buffer.from(encode({})), { 'smithy-protocol': 'rpc-v2-cbor' });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers['smithy-protocol'], 'rpc-v2-cbor');
    assert.ok(Array.isArray(ok.doc.Metrics));
    const garbage = await send(Buffer.from([0xa1, 0x61]), { 'smithy-protocol': 'rpc-v2-cbor' });
    assert.equal(garbage.status, 400);
    assert.equal(garbage.doc.__type, 'SerializationException');
    const deep = await send(Buffer.concat([Buffer.alloc(200, 0x81), Buffer.from([0xa0])]), { 'smithy-protocol': 'rpc-v2-cbor' });
    assert.equal(deep.status, 400);
    const noHeader = await send(Buffer.from(encode({})), { 'smithy-protocol': 'json' });
    assert.equal(noHeader.status, 400);
    const unknown = await send(Buffer.from(encode({})), { 'smithy-protocol': 'rpc-v2-cbor' }, 'constructor');
    assert.equal(unknown.status, 400);
    assert.equal(unknown.doc.__type, 'UnknownOperationException');
    const wrongType = await send(Buffer.from(encode({ Namespace: 5 })), { 'smithy-protocol': 'rpc-v2-cbor' });
    assert.equal(wrongType.status, 400);
    assert.equal(wrongType.doc.__type, 'SerializationException');
    // Unsigned: refused before anything is decoded.
    const unsigned = await request(url, { method: 'POST', headers: { 'smithy-protocol': 'rpc-v2-cbor', 'content-type': 'application/cbor' }, body: Buffer.from(encode({})) });
    assert.equal(unsigned.statusCode, 400);
    assert.equal((decode(Buffer.from(await unsigned.body.arrayBuffer())) as { __type: string }).__type, 'MissingAuthenticationTokenException');
  });
});
