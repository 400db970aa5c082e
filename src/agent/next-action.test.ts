/** The pure next-action decision, without Docker. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContainerSpec, TaskAssignment } from '../protocol/index.js';
import { ESSENTIAL_EXITED, actionKey, nextActions, type Action } from './next-action.js';
import { newLocalTask, taskLastStatus, type LocalTask } from './task-state.js';
import { containerSpec as spec } from './testing.js';


function task(containers: ContainerSpec[], over: Partial<TaskAssignment> = {}): LocalTask {
  return newLocalTask({
    taskArn: 'arn:aws:ecs:us-east-1:0:task/default/abc',
    clusterArn: 'arn:c',
    taskDefinitionArn: 'arn:td',
    family: 'f',
    desiredStatus: 'RUNNING',
    networkMode: 'bridge',
    volumes: [],
    containers,
    ...over,
  });
}

const keys = (actions: Action[]) => actions.map(actionKey).sort();
const NOW = 1000;

describe('nextActions', () => {
  it('sets the task up and pulls every image first, all at once', () => {
    const t = task([spec('a'), spec('b')]);
    assert.deepEqual(keys(nextActions(t, new Set(), NOW)), ['pull:a', 'pull:b', 'setup']);
    assert.equal(taskLastStatus(t), 'PENDING');
  });

  it('does not repeat actions already in flight', () => {
    const t = task([spec('a')]);
    assert.deepEqual(nextActions(t, new Set(['setup', 'pull:a']), NOW), []);
  });

  it('creates only after setup, then starts containers whose dependencies hold', () => {
    const t = task([spec('db'), spec('app', { dependsOn: [{ containerName: 'db', condition: 'HEALTHY' }] })]);
    t.containers.db!.known = 'PULLED';
    t.containers.app!.known = 'PULLED';
    assert.deepEqual(keys(nextActions(t, new Set(['setup']), NOW)), []);
    t.setup = 'DONE';
    assert.deepEqual(keys(nextActions(t, new Set(), NOW)), ['create:app', 'create:db']);
    t.containers.db!.known = 'CREATED';
    t.containers.app!.known = 'CREATED';
    assert.deepEqual(keys(nextActions(t, new Set(), NOW)), ['start:db']);
    t.containers.db!.known = 'RUNNING';
    t.containers.db!.startedAt = NOW;
    assert.deepEqual(keys(nextActions(t, new Set(), NOW)), [], 'HEALTHY waits for the health check');
    t.containers.db!.health = 'HEALTHY';
    assert.deepEqual(keys(nextActions(t, new Set(), NOW)), ['start:app']);
  });

  it('resolves START, COMPLETE and SUCCESS like ECS', () => {
    const t = task([
      spec('init', { essential: false }),
      spec('s', { dependsOn: [{ containerName: 'init', condition: 'START' }] }),
      spec('c', { dependsOn: [{ containerName: 'init', condition: 'COMPLETE' }] }),
      spec('ok', { dependsOn: [{ containerName: 'init', condition: 'SUCCESS' }] }),
    ]);
    t.setup = 'DONE';
    for (const c of Object.values(t.containers)) c.known = 'CREATED';
    t.containers.init!.known = 'RUNNING';
    t.containers.init!.startedAt = NOW;
    assert.deepEqual(keys(nextActions(t, new Set(), NOW)), ['start:s']);
    t.containers.init!.known = 'STOPPED';
    t.containers.init!.exitCode = 0;
    assert.deepEqual(keys(nextActions(t, new Set(['start:s']), NOW)), ['start:c', 'start:ok']);
  });

  it('stops the task when a SUCCESS dependency of an essential container exits non-zero', () => {
    const t = task([spec('init', { essential: false }), spec('app', { dependsOn: [{ containerName: 'init', condition: 'SUCCESS' }] })]);
    t.setup = 'DONE';
    t.containers.init!.known = 'STOPPED';
    t.containers.init!.startedAt = NOW;
    t.containers.init!.exitCode = 1;
    t.containers.app!.known = 'CREATED';
    const [a] = nextActions(t, new Set(), NOW);
    assert.equal(a!.type, 'stopTask');
    assert.equal((a as { stopCode: string }).stopCode, 'TaskFailedToStart');
  });

  it('gives up on a dependency after its startTimeout', () => {
    const t = task([spec('db', { startTimeoutSec: 10 }), spec('app', { essential: false, dependsOn: [{ containerName: 'db', condition: 'HEALTHY' }] })]);
    t.setup = 'DONE';
    t.containers.db!.known = 'RUNNING';
    t.containers.db!.startedAt = NOW;
    t.containers.app!.known = 'CREATED';
    assert.deepEqual(nextActions(t, new Set(), NOW + 5), []);
    assert.deepEqual(keys(nextActions(t, new Set(), NOW + 11)), ['markStopped:app']);
  });

  it('waits for volumesFrom sources to exist and link targets to run before creating', () => {
    const t = task([spec('data'), spec('app', { volumesFrom: [{ sourceContainer: 'data', readOnly: true }], links: ['data:d'] })]);
    t.setup = 'DONE';
    t.containers.data!.known = 'PULLED';
    t.containers.app!.known = 'PULLED';
    assert.deepEqual(keys(nextActions(t, new Set(), NOW)), ['create:data']);
    t.containers.data!.known = 'RUNNING';
    assert.deepEqual(keys(nextActions(t, new Set(), NOW)), ['create:app']);
  });

  it('stops the task when an essential container exits, not when a non-essential one does', () => {
    const t = task([spec('web'), spec('side', { essential: false })]);
    t.setup = 'DONE';
    for (const c of Object.values(t.containers)) {
      c.known = 'RUNNING';
      c.startedAt = NOW;
    }
    t.containers.side!.known = 'STOPPED';
    assert.deepEqual(nextActions(t, new Set(), NOW), []);
    assert.equal(taskLastStatus(t), 'RUNNING');
    t.containers.web!.known = 'STOPPED';
    assert.deepEqual(nextActions(t, new Set(), NOW), [{ type: 'stopTask', stopCode: 'EssentialContainerExited', reason: ESSENTIAL_EXITED }]);
  });

  it('turns a pull failure into CannotPullContainerError', () => {
    const t = task([spec('web')]);
    t.containers.web!.failure = { kind: 'pull', message: 'manifest unknown' };
    assert.deepEqual(nextActions(t, new Set(), NOW), [{ type: 'stopTask', stopCode: 'TaskFailedToStart', reason: 'CannotPullContainerError: manifest unknown' }]);
  });

  it('when stopping: stops dependents first, marks never-started containers stopped, then tears down', () => {
    const t = task([spec('db', { stopTimeoutSec: 7 }), spec('app', { dependsOn: [{ containerName: 'db', condition: 'START' }] }), spec('late')]);
    t.setup = 'DONE';
    t.containers.db!.known = 'RUNNING';
    t.containers.app!.known = 'RUNNING';
    t.containers.late!.known = 'PULLED';
    t.desired = 'STOPPED';
    assert.deepEqual(keys(nextActions(t, new Set(), NOW)), ['markStopped:late', 'stop:app']);
    assert.equal(taskLastStatus(t), 'STOPPING');
    t.containers.late!.known = 'STOPPED';
    t.containers.app!.known = 'STOPPED';
    assert.deepEqual(nextActions(t, new Set(), NOW), [{ type: 'stop', container: 'db', timeoutSec: 7 }]);
    t.containers.db!.known = 'STOPPED';
    assert.deepEqual(keys(nextActions(t, new Set(), NOW)), ['teardown']);
    t.tornDown = true;
    assert.deepEqual(nextActions(t, new Set(), NOW), []);
    assert.equal(taskLastStatus(t), 'STOPPED');
  });

  it('reports awsvpc tasks PROVISIONING before their namespace exists and DEPROVISIONING while it is removed', () => {
    const t = task([spec('web')], { networkMode: 'awsvpc' });
    assert.equal(taskLastStatus(t), 'PROVISIONING');
    t.setup = 'DONE';
    t.containers.web!.known = 'STOPPED';
    t.desired = 'STOPPED';
    assert.equal(taskLastStatus(t), 'DEPROVISIONING');
    t.tornDown = true;
    assert.equal(taskLastStatus(t), 'STOPPED');
  });
});
