/**
 * Task roles through the agent protocol, with two agents on the SIMULATED runtime serving their
 * task endpoints on 127.0.0.1 (host-network tasks, so the test process is the task's host):
 * the execution role pulls, and the task role's credentials reach only the agent that runs the
 * task, only for its assigned tasks, and never show in DescribeTasks.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateClusterCommand, DescribeContainerInstancesCommand, DescribeTasksCommand, RunTaskCommand, StartTaskCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { Agent } from '../../src/agent/index.js';
import { credentials, startDockyard, type TestDockyard } from '../helpers/dockyard.js';
import { isRunning, isStopped, quiet, register, simulatedAgent, sleep, TRUST_ECS_TASKS, waitTask } from './helpers.js';

const CLUSTER = 'roles';
const ACCOUNT = '000000000000';
const TRUST_NOBODY = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }] });

async function until<T>(what: string, get: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = get();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe('task roles over the agent protocol (simulated runtime)', () => {
  let d: TestDockyard;
  const dir = mkdtempSync(join(tmpdir(), 'dockyard-roles-'));
  const agents: Agent[] = [];

  const newAgent = async (name: string) => {
    const a = await simulatedAgent(d, { cluster: CLUSTER, stateDir: join(dir, name), pollWaitMs: 2000, taskEndpoint: { host: '127.0.0.1' } });
    agents.push(a);
    await a.start();
    return a;
  };

  let execRole: string;
  let taskRole: string;
  let untrustedRole: string;
  let iam: IAMClient;
  const createRole = async (name: string, trust: string, path = '/') =>
    (await iam.send(new CreateRoleCommand({ RoleName: `${name}-${process.pid}`, Path: path, AssumeRolePolicyDocument: trust }))).Role!.Arn!;

  before(async () => {
    d = await startDockyard({});
    await d.ecs.send(new CreateClusterCommand({ clusterName: CLUSTER }));
    iam = new IAMClient({ endpoint: d.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
    execRole = await createRole('exec-role', TRUST_ECS_TASKS, '/service/');
    taskRole = await createRole('app-role', TRUST_ECS_TASKS);
    untrustedRole = await createRole('ec2-only', TRUST_NOBODY);
  });

  after(async () => {
    for (const a of agents) await a.close();
    iam?.destroy();
    await d?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the agent registers the task-role capabilities; the execution role pulls from this registry', async () => {
    const a = await newAgent('a');
    const ci = await d.ecs.send(new DescribeContainerInstancesCommand({ cluster: CLUSTER, containerInstances: [a.containerInstanceArn!] }));
    const attrs = new Set(ci.containerInstances![0]!.attributes!.map((x) => x.name));
    assert.ok(attrs.has('com.amazonaws.ecs.capability.task-iam-role'));
    assert.ok(attrs.has('ecs.capability.execution-role-ecr-pull'));

    const image = `127.0.0.1:${d.port}/app:1`;
    const family = await register(d, [{ name: 'app', image, memory: 32 }], { networkMode: 'host', executionRoleArn: execRole, taskRoleArn: taskRole });
    const started = await d.ecs.send(new StartTaskCommand({ cluster: CLUSTER, taskDefinition: family, containerInstances: [a.containerInstanceArn!] }));
    const arn = started.tasks![0]!.taskArn!;
    const task = await until('the task on agent a', () => a.supervisor.tasks.get(arn));
    assert.equal(task.spec.taskRoleArn, taskRole);
    assert.equal(task.spec.executionRoleArn, execRole);
    const auth = task.spec.containers[0]!.registryAuth!;
    assert.equal(auth.username, 'AWS');
    const claims = JSON.parse(Buffer.from(auth.password.split('.')[1]!, 'base64url').toString('utf8'));
    assert.equal(claims.p, `arn:aws:sts::${ACCOUNT}:assumed-role/exec-role-${process.pid}/${arn.split('/').pop()}`, 'the registry token acts for the execution role session');
    await waitTask(d, arn, isRunning);
    await d.ecs.send(new StopTaskCommand({ cluster: CLUSTER, task: arn }));
    await waitTask(d, arn, isStopped);
  });

  it('an execution role that does not trust ecs-tasks.amazonaws.com gets no registry credentials: the pull fails', async () => {
    const a = agents[0]!;
    const family = await register(d, [{ name: 'app', image: `127.0.0.1:${d.port}/app:1`, memory: 32 }], { networkMode: 'host', executionRoleArn: untrustedRole });
    const started = await d.ecs.send(new StartTaskCommand({ cluster: CLUSTER, taskDefinition: family, containerInstances: [a.containerInstanceArn!] }));
    const arn = started.tasks![0]!.taskArn!;
    const task = await until('the task on agent a', () => a.supervisor.tasks.get(arn));
    assert.equal(task.spec.containers[0]!.registryAuth, undefined);
    await d.ecs.send(new StopTaskCommand({ cluster: CLUSTER, task: arn }));
    await waitTask(d, arn, isStopped);
  });

  it('an agent whose endpoints cannot start still runs, but does not offer task roles: a task with a role is not placed on it', async () => {
    const cluster = `no-endpoint-${process.pid}`;
    await d.ecs.send(new CreateClusterCommand({ clusterName: cluster }));
    const errors: string[] = [];
    const a = await simulatedAgent(d, {
      cluster,
      stateDir: join(dir, 'no-endpoint'),
      log: { ...quiet, error: (o: object, msg?: string) => errors.push(`${msg} ${JSON.stringify(o)}`) },
      pollWaitMs: 2000,
      taskEndpoint: { host: '198.51.100.7' }, // not an address of this host
    });
    agents.push(a);
    await a.start();
    assert.match(errors.join('\n'), /task metadata and credentials endpoints could not start/);
    assert.equal(a.taskEndpoint!.listening, false);
    const ci = await d.ecs.send(new DescribeContainerInstancesCommand({ cluster, containerInstances: [a.containerInstanceArn!] }));
    assert.equal(ci.containerInstances![0]!.attributes!.some((x) => x.name === 'com.amazonaws.ecs.capability.task-iam-role'), false);
    const family = await register(d, [{ name: 'app', image: 'local/app:1', memory: 32 }], { taskRoleArn: taskRole });
    const res = await d.ecs.send(new RunTaskCommand({ cluster, taskDefinition: family }));
    assert.equal(res.tasks!.length, 0);
    assert.equal(res.failures![0]!.reason, 'ATTRIBUTE');
  });

  it('task-role credentials reach only the agent that runs the task; they work as the role session; never in DescribeTasks', async () => {
    const a = agents[0]!;
    const b = await newAgent('b');
    const family = await register(d, [{ name: 'app', image: 'local/app:1', memory: 32 }], { networkMode: 'host', taskRoleArn: taskRole });
    const started = await d.ecs.send(new StartTaskCommand({ cluster: CLUSTER, taskDefinition: family, containerInstances: [a.containerInstanceArn!] }));
    const arn = started.tasks![0]!.taskArn!;
    const task = await until('the task on agent a', () => a.supervisor.tasks.get(arn));
    await waitTask(d, arn, isRunning);
    const env = Object.fromEntries(a.taskEndpoint!.containerEnv(task.spec, 'app').map((e) => [e.name, e.value]));
    const ask = async (url: string) => {
      const res = await fetch(url, { headers: { authorization: env.AWS_CONTAINER_AUTHORIZATION_TOKEN! } });
      return { status: res.status, body: (await res.json()) as Record<string, string> };
    };
    let got = await ask(env.AWS_CONTAINER_CREDENTIALS_FULL_URI!);
    for (let i = 0; i < 50 && got.status === 503; i++) got = await sleep(100).then(() => ask(env.AWS_CONTAINER_CREDENTIALS_FULL_URI!));
    assert.equal(got.status, 200);
    assert.equal(got.body.RoleArn, taskRole);
    assert.match(got.body.AccessKeyId!, /^ASIA/);

    // The credentials sign as the task role's session, named after the task.
    const sts = new STSClient({
      endpoint: d.endpoint,
      region: 'us-east-1',
      maxAttempts: 1,
      credentials: { accessKeyId: got.body.AccessKeyId!, secretAccessKey: got.body.SecretAccessKey!, sessionToken: got.body.Token! },
    });
    const me = await sts.send(new GetCallerIdentityCommand({}));
    sts.destroy();
    assert.equal(me.Arn, `arn:aws:sts::${ACCOUNT}:assumed-role/app-role-${process.pid}/${arn.split('/').pop()}`);

    // Agent b does not run the task: it knows neither the id nor the credentials.
    const path = new URL(env.AWS_CONTAINER_CREDENTIALS_FULL_URI!).pathname;
    assert.equal((await ask(`${b.taskEndpoint!.url}${path}`)).status, 400);
    assert.equal(b.supervisor.tasks.has(arn), false);

    const described = JSON.stringify((await d.ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: [arn] }))).tasks);
    assert.equal(described.includes(got.body.SecretAccessKey!) || described.includes(got.body.Token!), false);

    await d.ecs.send(new StopTaskCommand({ cluster: CLUSTER, task: arn }));
    await waitTask(d, arn, isStopped);
    assert.equal((await ask(env.AWS_CONTAINER_CREDENTIALS_FULL_URI!)).status, 400, 'a stopped task has no credentials');
  });
});
