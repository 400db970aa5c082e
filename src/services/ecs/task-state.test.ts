/**
 * The task writer against a real store: what each transition writes, and the rules that hold
 * whichever API comes first (a user's stop and an agent's stop, stale and backward reports).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { TaskReport } from '../../protocol/index.js';
import * as c from '../../store/collections.js';
import type { TaskDoc } from '../../store/collections.js';
import type { Row } from '../../store/store.js';
import { SqliteStore } from '../../store/sqlite.js';
import type { ClusterRecord } from './clusters.js';
import { createTask, recordReport, REPORT_SEQ_FIELD, requestStop } from './task-state.js';
import type { TaskDefinitionRecord } from './task-definitions.js';

const store = new SqliteStore(':memory:');
after(() => store.close());

const SCOPE = { accountId: '000000000000', region: 'us-east-1' };
const NOW = 1_800_000_000;
const INSTANCE = 'arn:aws:ecs:us-east-1:000000000000:container-instance/w/abc';
const cluster = {
  ...SCOPE,
  clusterArn: 'arn:aws:ecs:us-east-1:000000000000:cluster/w',
  clusterName: 'w',
  status: 'ACTIVE',
} as ClusterRecord;

function definition(networkMode = 'bridge'): TaskDefinitionRecord {
  return {
    ...SCOPE,
    taskDefinitionArn: 'arn:aws:ecs:us-east-1:000000000000:task-definition/web:1',
    family: 'web',
    revision: 1,
    status: 'ACTIVE',
    networkMode,
    compatibilities: ['EC2'],
    containerDefinitions: [
      { name: 'web', image: 'nginx', cpu: 256, memory: 512, essential: true, portMappings: [{ containerPort: 80, hostPort: 8080, protocol: 'tcp' }] },
      { name: 'side', image: 'busybox', memoryReservation: 64, essential: false },
    ],
  } as unknown as TaskDefinitionRecord;
}

async function created(networkMode = 'bridge', input: Parameters<typeof createTask>[4] = { taskDefinition: 'web:1' }): Promise<TaskDoc> {
  return store.write((tx) => createTask(tx, SCOPE, cluster, definition(networkMode), input, INSTANCE, { launchType: 'EC2' }, NOW));
}

async function row(arn: string): Promise<Row<TaskDoc>> {
  const r = await store.read((tx) => tx.get(c.tasks, arn));
  assert.ok(r, `task ${arn} is stored`);
  return r;
}

const report = (taskArn: string, over: Partial<TaskReport>): TaskReport => ({ taskArn, seq: 1, lastStatus: 'PENDING', containers: [], ...over });

describe('task writer', () => {
  it('creates a task placed on its instance with what it reserves there', async () => {
    const doc = await created('bridge', { taskDefinition: 'web:1', overrides: { containerOverrides: [{ name: 'web', memory: 1024 }] }, group: 'g1' });
    const stored = (await row(doc.taskArn)).data;
    assert.deepEqual(stored, JSON.parse(JSON.stringify(doc)), 'the document returned is the one stored');
    assert.match(doc.taskArn, /^arn:aws:ecs:us-east-1:000000000000:task\/w\/[0-9a-f]{32}$/);
    assert.equal(doc.lastStatus, 'PENDING');
    assert.equal(doc.desiredStatus, 'RUNNING');
    assert.equal(doc.placedOn, INSTANCE);
    assert.equal(doc.group, 'g1');
    assert.equal(doc.createdAt, NOW);
    assert.equal(doc.version, 1);
    // 256 + 0 CPU units; the override's hard limit (1024) plus the sidecar's soft limit (64).
    assert.equal(doc.reservedCpu, 256);
    assert.equal(doc.reservedMemory, 1024 + 64);
    assert.deepEqual(doc.reservedPorts, ['8080/tcp']);
    assert.deepEqual(doc.containers.map((x) => [x.name, x.lastStatus, x.memory]), [['web', 'PENDING', '1024'], ['side', 'PENDING', undefined]]);
  });

  it('creates awsvpc tasks PROVISIONING', async () => {
    assert.equal((await created('awsvpc')).lastStatus, 'PROVISIONING');
  });

  it("StopTask's stop: desiredStatus STOPPED, UserInitiated with the user's reason, written once", async () => {
    const doc = await created();
    const stopped = await store.write(async (tx) => requestStop(tx, (await tx.get(c.tasks, doc.taskArn))!, 'maintenance', NOW + 5));
    assert.deepEqual([stopped.desiredStatus, stopped.stopCode, stopped.stoppedReason, stopped.stoppingAt, stopped.version], ['STOPPED', 'UserInitiated', 'maintenance', NOW + 5, 2]);
    assert.deepEqual((await row(doc.taskArn)).data, stopped);
    const again = await store.write(async (tx) => requestStop(tx, (await tx.get(c.tasks, doc.taskArn))!, 'other', NOW + 9));
    assert.deepEqual(again, stopped, 'a second StopTask changes nothing');
    assert.equal((await row(doc.taskArn)).data.version, 2);
  });

  it("an agent's stop that came first keeps its code and reason when the user stops too", async () => {
    const doc = await created();
    const changed = await store.write(async (tx) =>
      recordReport(tx, (await tx.get(c.tasks, doc.taskArn))!, report(doc.taskArn, { lastStatus: 'STOPPED', stopCode: 'EssentialContainerExited', stoppedReason: 'Essential container in task exited' }), NOW + 3),
    );
    assert.equal(changed, true);
    const afterAgent = (await row(doc.taskArn)).data;
    assert.deepEqual([afterAgent.desiredStatus, afterAgent.stopCode, afterAgent.stoppedReason, afterAgent.stoppedAt], ['STOPPED', 'EssentialContainerExited', 'Essential container in task exited', NOW + 3]);
    const afterUser = await store.write(async (tx) => requestStop(tx, (await tx.get(c.tasks, doc.taskArn))!, 'too late', NOW + 4));
    assert.equal(afterUser.stopCode, 'EssentialContainerExited');
    assert.equal(afterUser.stoppedReason, 'Essential container in task exited');
  });

  it("a user's stop keeps its reason when the agent then reports the task stopped", async () => {
    const doc = await created();
    await store.write(async (tx) => requestStop(tx, (await tx.get(c.tasks, doc.taskArn))!, 'scale in', NOW + 1));
    await store.write(async (tx) =>
      recordReport(tx, (await tx.get(c.tasks, doc.taskArn))!, report(doc.taskArn, { lastStatus: 'STOPPED', stopCode: 'TaskFailedToStart', stoppedReason: 'agent says' }), NOW + 2),
    );
    const stored = (await row(doc.taskArn)).data;
    assert.deepEqual([stored.lastStatus, stored.stopCode, stored.stoppedReason, stored.stoppingAt], ['STOPPED', 'UserInitiated', 'scale in', NOW + 1]);
  });

  it('stale and backward reports write nothing; statuses only move forward', async () => {
    const doc = await created();
    const apply = (r: TaskReport) => store.write(async (tx) => recordReport(tx, (await tx.get(c.tasks, doc.taskArn))!, r, NOW + 1));
    assert.equal(await apply(report(doc.taskArn, { seq: 5, lastStatus: 'RUNNING', containers: [{ name: 'web', lastStatus: 'RUNNING' }] })), true);
    const running = await row(doc.taskArn);
    assert.equal(running.data[REPORT_SEQ_FIELD], 5);
    assert.equal(await apply(report(doc.taskArn, { seq: 4, lastStatus: 'STOPPED' })), false, 'an older sequence number is stale');
    assert.equal(await apply(report(doc.taskArn, { seq: 6, lastStatus: 'PENDING', containers: [{ name: 'web', lastStatus: 'PENDING' }] })), false, 'a report that would move statuses back changes nothing');
    const stored = (await row(doc.taskArn)).data;
    assert.equal(stored.lastStatus, 'RUNNING');
    assert.equal(stored.containers.find((x) => x.name === 'web')!.lastStatus, 'RUNNING');
    assert.equal(stored.desiredStatus, 'RUNNING');
    assert.equal((await row(doc.taskArn)).version, running.version);
    assert.equal(await apply(report(doc.taskArn, { seq: 7, lastStatus: 'RUNNING', healthStatus: 'HEALTHY' })), true);
    assert.equal((await row(doc.taskArn)).data.healthStatus, 'HEALTHY');
  });
});
