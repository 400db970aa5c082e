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
import { CreateClusterCommand, DescribeContainerInstancesCommand, DescribeTasksCommand, StartTaskCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import { Agent, SimulatedRuntime } from '../../src/agent/index.js';
import { startDockyard, type TestDockyard } from '../helpers/dockyard.js';
import { isRunning, isStopped, register, sleep, waitTask } from './helpers.js';

const quiet = { info() {}, warn() {}, error() {}, debug() {} };
const CLUSTER = 'roles';
const ACCOUNT = '000000000000';
const EXEC_ROLE = `arn:aws:iam::${ACCOUNT}:role/service/exec-role`;
const TASK_ROLE = `arn:aws:iam::${ACCOUNT}:role/app-role`;

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
    const a = new Agent({
      endpoint: d.endpoint,
      cluster: CLUSTER,
      stateDir: join(dir, name),
      runtime: new SimulatedRuntime({ cpus: 2, memoryMiB: 4096 }),
      log: quiet,
      pollWaitMs: 2000,
      taskEndpoint: { host: '127.0.0.1' },
    });
    agents.push(a);
    await a.start();
    return a;
  };

  before(async () => {
    d = await startDockyard({});
    await d.ecs.send(new CreateClusterCommand({ clusterName: CLUSTER }));
  });

  after(async () => {
    for (const a of agents) await a.close();
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
    const family = await register(d, [{ name: 'app', image, memory: 32 }], { networkMode: 'host', executionRoleArn: EXEC_ROLE, taskRoleArn: TASK_ROLE });
    const started = await d.ecs.send(new StartTaskCommand({ cluster: CLUSTER, taskDefinition: family, containerInstances: [a.containerInstanceArn!] }));
    const arn = started.tasks![0]!.taskArn!;
    const task = await until('the task on agent a', () => a.supervisor.tasks.get(arn));
    assert.equal(task.spec.taskRoleArn, TASK_ROLE);
    assert.equal(task.spec.executionRoleArn, EXEC_ROLE);
    const auth = task.spec.containers[0]!.registryAuth!;
    assert.equal(auth.username, 'AWS');
    const claims = JSON.parse(Buffer.from(auth.password.split('.')[1]!, 'base64url').toString('utf8'));
    assert.equal(claims.p, `arn:aws:sts::${ACCOUNT}:assumed-role/exec-role/${arn.split('/').pop()}`, 'the registry token acts for the execution role session');
    await waitTask(d, arn, isRunning);
    await d.ecs.send(new StopTaskCommand({ cluster: CLUSTER, task: arn }));
    await waitTask(d, arn, isStopped);
  });
});
