/**
 * The agent protocol's log calls (1.2): authenticated, only for tasks placed on the caller's own
 * instance, group and stream taken from the task definition, batches resent after a crash
 * stored once. On the simulated runtime (no Docker).
 */
import { CloudWatchLogsClient, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { SimulatedRuntime } from '../../src/agent/index.js';
import { credentials, type TestDockyard } from '../helpers/dockyard.js';
import { isRunning, register, run, startWithAgent, waitTask } from './helpers.js';

describe('agent protocol log calls', () => {
  let d: TestDockyard;
  let logs: CloudWatchLogsClient;

  before(async () => {
    d = await startWithAgent({ app: { agentRuntime: new SimulatedRuntime({ cpus: 2, memoryMiB: 4096 }) } });
    logs = new CloudWatchLogsClient({ endpoint: d.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
  });
  after(async () => {
    logs.destroy();
    await d.stop();
  });

  const post = async (path: string, body: unknown, bearer?: string) => {
    const res = await request(`${d.endpoint}/agent/v1/logs/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
      body: JSON.stringify(body),
    });
    return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
  };

  it('writes only to the streams of the caller\'s own tasks, once per line', async () => {
    const family = await register(d, [
      { name: 'web', image: 'sim', memory: 32, logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': '/ecs/api', 'awslogs-stream-prefix': 'p', 'awslogs-create-group': 'true' } } },
      { name: 'plain', image: 'sim', memory: 32 },
    ]);
    const taskArn = await run(d, family);
    await waitTask(d, taskArn, isRunning);
    const instance = d.app.agent!.containerInstanceArn!;
    const ref = { containerInstanceArn: instance, taskArn, container: 'web', runtimeId: 'abcdef123456' };
    const own = await d.app.agentAuth.issueInternalCredential(instance);

    assert.equal((await post('stream', ref)).status, 401);
    const opened = await post('stream', ref, own);
    assert.equal(opened.status, 200);
    assert.deepEqual(opened.body, { logGroupName: '/ecs/api', logStreamName: `p/web/${taskArn.split('/').pop()}` });

    const now = BigInt(Date.now()) * 1_000_000n;
    const events = [1, 2, 3].map((i) => ({ timestamp: Date.now(), message: `m${i}`, cursor: `${now + BigInt(i)}.0` }));
    assert.deepEqual((await post('events', { ...ref, events }, own)).body, { accepted: 3, cursor: events[2]!.cursor });
    // Resent (the answer was lost, or the agent crashed before its checkpoint): stored once.
    assert.deepEqual((await post('events', { ...ref, events: [...events, { timestamp: Date.now(), message: 'm4', cursor: `${now + 4n}.0` }] }, own)).body, { accepted: 1, cursor: `${now + 4n}.0` });
    assert.deepEqual((await post('stream', ref, own)).body.cursor, `${now + 4n}.0`);
    const got = await logs.send(new GetLogEventsCommand({ logGroupName: '/ecs/api', logStreamName: opened.body.logStreamName as string, startFromHead: true }));
    assert.deepEqual(got.events!.map((e) => e.message), ['m1', 'm2', 'm3', 'm4']);

    // Another instance's credential: refused, nothing written.
    const other = await d.app.agentAuth.issueInternalCredential(instance.replace(/[0-9a-f]{8}$/, '00000000'));
    assert.equal((await post('events', { ...ref, events }, other)).status, 403);
    assert.equal((await post('events', { ...ref, containerInstanceArn: instance.replace(/[0-9a-f]{8}$/, '00000000'), events: [{ ...events[0]!, cursor: `${now + 9n}.0` }] }, other)).status, 403);
    // A container without awslogs, bad bodies.
    assert.equal((await post('stream', { ...ref, container: 'plain' }, own)).status, 400);
    assert.equal((await post('events', { ...ref, events: [] }, own)).status, 400);
    assert.equal((await post('events', { ...ref, events: [{ timestamp: 1, message: 'x', cursor: 'nope' }] }, own)).status, 400);
    const big = Array.from({ length: 5 }, (_, i) => ({ timestamp: Date.now(), message: 'y'.repeat(250_000), cursor: `${now + 100n + BigInt(i)}.0` }));
    assert.equal((await post('events', { ...ref, events: big }, own)).status, 400);
    const after = await logs.send(new GetLogEventsCommand({ logGroupName: '/ecs/api', logStreamName: opened.body.logStreamName as string, startFromHead: true }));
    assert.equal(after.events!.length, 4);
  });

  it('a missing group without awslogs-create-group is ResourceNotFound', async () => {
    const family = await register(d, [{ name: 'web', image: 'sim', memory: 32, logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': '/ecs/none', 'awslogs-stream-prefix': 'p' } } }]);
    const taskArn = await run(d, family);
    const instance = d.app.agent!.containerInstanceArn!;
    const own = await d.app.agentAuth.issueInternalCredential(instance);
    const r = await post('stream', { containerInstanceArn: instance, taskArn, container: 'web', runtimeId: 'abcdef123456' }, own);
    assert.equal(r.status, 404);
    assert.equal(r.body.error, 'ResourceNotFound');
    assert.match(String(r.body.message), /ResourceNotFoundException: The specified log group does not exist\./);
  });
});
