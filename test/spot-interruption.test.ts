/**
 * FARGATE_SPOT interruptions end to end on the simulated runtime: tasks placed with a
 * FARGATE / FARGATE_SPOT strategy run on the Dockyard-managed host; `dockyard spot interrupt`
 * (and its signed API) stops the spot ones with ECS's SpotInterruption stop code and wording,
 * and leaves the on-demand task running.
 */
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { CreateClusterCommand, PutClusterCapacityProvidersCommand, RegisterTaskDefinitionCommand, RunTaskCommand, type Task } from '@aws-sdk/client-ecs';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { SimulatedRuntime } from '../src/agent/index.js';
import { AdminApiError, AdminClient } from '../src/cli/admin-client.js';
import { isRunning, isStopped, waitTask } from './agent/helpers.js';
import { credentials, startDockyard, type TestDockyard } from './helpers/dockyard.js';

const BIN = new URL('../bin/dockyard.mjs', import.meta.url).pathname;
const network = { awsvpcConfiguration: { subnets: ['subnet-local'] } };

describe('FARGATE_SPOT interruption (simulated runtime)', () => {
  let t: TestDockyard;
  let admin: AdminClient;
  let spot: Task[];
  let onDemand: Task;
  before(async () => {
    t = await startDockyard(
      { embeddedAgent: { cleanupDelayMs: 60_000, pollWaitMs: 1000 }, agentHeartbeatIntervalMs: 500 },
      undefined,
      { agentRuntime: new SimulatedRuntime({ cpus: 8, memoryMiB: 16384 }) },
    );
    admin = new AdminClient({ endpoint: t.endpoint, region: 'us-east-1', credentials });
    await t.ecs.send(new PutClusterCapacityProvidersCommand({ cluster: 'default', capacityProviders: ['FARGATE', 'FARGATE_SPOT'], defaultCapacityProviderStrategy: [] }));
    await t.ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'spot-worker',
        requiresCompatibilities: ['FARGATE'],
        networkMode: 'awsvpc',
        cpu: '256',
        memory: '512',
        containerDefinitions: [{ name: 'worker', image: 'busybox', stopTimeout: 2 }],
      }),
    );
    const res = await t.ecs.send(
      new RunTaskCommand({
        taskDefinition: 'spot-worker',
        count: 4,
        capacityProviderStrategy: [{ capacityProvider: 'FARGATE', base: 1 }, { capacityProvider: 'FARGATE_SPOT', weight: 1 }],
        networkConfiguration: network,
      }),
    );
    assert.deepEqual(res.failures, []);
    spot = res.tasks!.filter((x) => x.capacityProviderName === 'FARGATE_SPOT');
    onDemand = res.tasks!.find((x) => x.capacityProviderName === 'FARGATE')!;
    assert.equal(spot.length, 3);
    for (const task of res.tasks!) await waitTask(t, task.taskArn!, isRunning, 30_000);
  });
  after(async () => {
    await admin.close();
    await t.stop();
  });

  test('`dockyard spot interrupt --task` stops that spot task with stopCode SpotInterruption', async () => {
    const out = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [BIN, 'spot', 'interrupt', '--endpoint', t.endpoint, '--task', spot[0]!.taskArn!], { env: t.cliEnv, timeout: 60_000 }, (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
    assert.equal(out.code, 0, out.stderr);
    assert.deepEqual(JSON.parse(out.stdout), {
      interrupted: [{ taskArn: spot[0]!.taskArn, stopCode: 'SpotInterruption', stoppedReason: 'Your Spot Task was interrupted.' }],
      failures: [],
    });
    const stopped = await waitTask(t, spot[0]!.taskArn!, isStopped, 30_000);
    assert.equal(stopped.stopCode, 'SpotInterruption');
    assert.equal(stopped.stoppedReason, 'Your Spot Task was interrupted.');
    assert.equal(stopped.desiredStatus, 'STOPPED');
  });

  test('naming an on-demand, an unknown or an already interrupted task is a failure, not an interruption', async () => {
    const res = await admin.interruptSpotTasks({ taskArns: [onDemand.taskArn!, 'no-such-task', spot[0]!.taskArn!] });
    assert.deepEqual(res.interrupted, []);
    assert.deepEqual(
      res.failures.map((f) => f.reason),
      ['The task does not run on the FARGATE_SPOT capacity provider.', 'MISSING', 'The task is already stopping.'],
    );
    assert.equal((await waitTask(t, onDemand.taskArn!, isRunning)).lastStatus, 'RUNNING');
  });

  test('--all interrupts every remaining spot task of the cluster; the FARGATE task keeps running', async () => {
    const res = await admin.interruptSpotTasks({ all: true });
    assert.deepEqual(res.interrupted.map((i) => i.taskArn).sort(), [spot[1]!.taskArn, spot[2]!.taskArn].sort());
    for (const task of spot.slice(1)) {
      const stopped = await waitTask(t, task.taskArn!, isStopped, 30_000);
      assert.equal(stopped.stopCode, 'SpotInterruption');
    }
    assert.equal((await waitTask(t, onDemand.taskArn!, isRunning)).lastStatus, 'RUNNING');
    assert.deepEqual((await admin.interruptSpotTasks({ all: true })).interrupted, []);
  });

  test('the API wants a signature, exactly one of taskArns and all, and an existing cluster', async () => {
    const unsigned = await fetch(`${t.endpoint}/_dockyard/spot-interruptions`, { method: 'POST', body: '{"all":true}' });
    assert.ok(unsigned.status >= 400 && unsigned.status < 500);
    assert.equal(unsigned.headers.get('x-amzn-errortype'), 'MissingAuthenticationTokenException');
    const invalid = async (body: unknown) => {
      await assert.rejects(admin['send']('POST', '/_dockyard/spot-interruptions', body), (e: unknown) => e instanceof AdminApiError && e.status === 400 && e.code === 'ValidationException');
    };
    await invalid({});
    await invalid({ all: true, taskArns: ['x'] });
    await invalid({ all: false });
    await invalid({ taskArns: [] });
    await invalid({ taskArns: Array.from({ length: 101 }, (_, i) => `t${i}`) });
    await invalid({ all: true, extra: 1 });
    await assert.rejects(admin.interruptSpotTasks({ cluster: 'nope', all: true }), (e: unknown) => e instanceof AdminApiError && e.code === 'ClusterNotFoundException');
    await t.ecs.send(new CreateClusterCommand({ clusterName: 'empty' }));
    assert.deepEqual(await admin.interruptSpotTasks({ cluster: 'empty', all: true }), { interrupted: [], failures: [] });
  });

  test('an IAM user needs dockyard:InterruptSpotTasks', async () => {
    const iam = new IAMClient({ endpoint: t.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
    await iam.send(new CreateUserCommand({ UserName: 'chaos' }));
    const key = (await iam.send(new CreateAccessKeyCommand({ UserName: 'chaos' }))).AccessKey!;
    const user = new AdminClient({ endpoint: t.endpoint, region: 'us-east-1', credentials: { accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! } });
    try {
      await assert.rejects(user.interruptSpotTasks({ cluster: 'empty', all: true }), (e: unknown) => e instanceof AdminApiError && e.code === 'AccessDeniedException' && /dockyard:InterruptSpotTasks/.test(e.message));
      const policy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'dockyard:InterruptSpotTasks', Resource: '*' }] };
      await iam.send(new PutUserPolicyCommand({ UserName: 'chaos', PolicyName: 'chaos', PolicyDocument: JSON.stringify(policy) }));
      assert.deepEqual(await user.interruptSpotTasks({ cluster: 'empty', all: true }), { interrupted: [], failures: [] });
    } finally {
      await user.close();
      iam.destroy();
    }
  });
});
