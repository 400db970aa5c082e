/** Task secrets on the agent: the pure decision (fetch before pull and setup, fail the task on a failure) and the in-memory holder. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContainerSpec, TaskAssignment, TaskSecretsResponse } from '../protocol/index.js';
import { actionKey, nextActions } from './next-action.js';
import { TaskSecrets } from './task-secrets.js';
import { newLocalTask, type LocalTask } from './task-state.js';
import { containerSpec as spec } from './testing.js';

function task(containers: ContainerSpec[]): LocalTask {
  const a: TaskAssignment = { taskArn: 'arn:aws:ecs:us-east-1:0:task/default/abc', clusterArn: 'c', taskDefinitionArn: 'td', family: 'f', desiredStatus: 'RUNNING', networkMode: 'bridge', volumes: [], containers };
  return newLocalTask(a);
}
const NOW = 1000;
const withSecrets = () => task([spec('app', { secrets: [{ name: 'DB', valueFrom: '/db' }] }), spec('side')]);

describe('task secrets: next action', () => {
  it('fetches secrets once, alongside setup and pulls; no container is created before they are in', () => {
    const t = withSecrets();
    assert.deepEqual(nextActions(t, new Set(), NOW).map(actionKey).sort(), ['pull:app', 'pull:side', 'secrets', 'setup']);
    assert.deepEqual(nextActions(t, new Set(['secrets', 'setup', 'pull:app', 'pull:side']), NOW), []);
    t.setup = 'DONE';
    for (const c of Object.values(t.containers)) c.known = 'PULLED';
    assert.deepEqual(nextActions(t, new Set(['secrets']), NOW), [], 'creates wait for the secrets');
    t.secrets = 'DONE';
    assert.deepEqual(nextActions(t, new Set(), NOW).map(actionKey).sort(), ['create:app', 'create:side']);
  });

  it('a pull with registry credentials waits for them; a task without secrets or registry credentials does not ask', () => {
    assert.ok(!nextActions(task([spec('a')]), new Set(), NOW).some((a) => a.type === 'secrets'));
    const t = task([spec('a', { repositoryCredentialsParameter: 'arn:x' }), spec('b')]);
    assert.deepEqual(nextActions(t, new Set(), NOW).map(actionKey).sort(), ['pull:b', 'secrets', 'setup']);
    t.secrets = 'DONE';
    assert.deepEqual(nextActions(t, new Set(['setup', 'pull:b']), NOW).map(actionKey), ['pull:a']);
  });

  it('a failure stops the task with its reason; containers that already exist need no secrets', () => {
    const t = withSecrets();
    t.secrets = 'FAILED';
    t.secretsFailure = 'ResourceInitializationError: unable to pull secrets or registry auth: x';
    assert.deepEqual(nextActions(t, new Set(), NOW), [{ type: 'stopTask', stopCode: 'TaskFailedToStart', reason: t.secretsFailure }]);
    const adopted = withSecrets();
    adopted.setup = 'DONE';
    for (const c of Object.values(adopted.containers)) c.known = 'RUNNING';
    assert.ok(!nextActions(adopted, new Set(), NOW).some((a) => a.type === 'secrets'));
  });
});

describe('task secrets: the holder', () => {
  const answer: TaskSecretsResponse = { taskArn: 'arn:aws:ecs:us-east-1:0:task/default/abc', containers: [{ name: 'app', environment: [{ name: 'DB', value: 's3cret' }], registryAuth: { username: 'u', password: 'reg-pass-1' } }] };

  it('keeps the values until every container exists, outside the task state', async () => {
    const holder = new TaskSecrets();
    const t = withSecrets();
    await holder.fetch(t, async () => answer, () => true);
    assert.equal(t.secrets, 'DONE');
    assert.ok(!JSON.stringify(t).includes('s3cret'), 'the reported task state holds no value');
    assert.deepEqual(holder.environment(t.arn, 'app'), [{ name: 'DB', value: 's3cret' }]);
    assert.deepEqual(holder.registryAuth(t.arn, 'app'), { username: 'u', password: 'reg-pass-1' });
    assert.deepEqual(holder.environment(t.arn, 'side'), []);
    assert.equal(holder.redact(t.arn, 'invalid environment variable: DB=s3cret (password reg-pass-1)'), 'invalid environment variable: DB=*** (password ***)');
    t.containers.app!.known = 'CREATED';
    holder.forgetWhenCreated(t);
    assert.equal(holder.environment(t.arn, 'app').length, 1, 'side is still to be created');
    t.containers.side!.known = 'RUNNING';
    holder.forgetWhenCreated(t);
    assert.deepEqual(holder.environment(t.arn, 'app'), []);
  });

  it('retries an unreachable control plane, then fails the task; a failure answer fails it at once', async () => {
    const holder = new TaskSecrets();
    let calls = 0;
    const t = withSecrets();
    await holder.fetch(t, async () => {
      calls++;
      throw new Error('ECONNREFUSED with a body that must not be kept');
    }, () => true);
    assert.equal(calls, 3);
    assert.equal(t.secrets, 'FAILED');
    assert.match(t.secretsFailure!, /^ResourceInitializationError: unable to pull secrets or registry auth: /);
    assert.ok(!t.secretsFailure!.includes('body'));
    const t2 = withSecrets();
    await holder.fetch(t2, async () => ({ taskArn: t2.arn, containers: [], failure: 'ResourceInitializationError: no' }), () => true);
    assert.deepEqual([t2.secrets, t2.secretsFailure], ['FAILED', 'ResourceInitializationError: no']);
    const gone = withSecrets();
    await holder.fetch(gone, async () => answer, () => false);
    assert.equal(gone.secrets, undefined, 'a task removed meanwhile is left alone');
    assert.deepEqual(holder.environment(gone.arn, 'app'), []);
  });
});
