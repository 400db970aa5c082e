import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ServiceScheduler } from '../services/ecs/service-scheduler.js';
import * as c from '../store/collections.js';
import { SqliteStore } from '../store/sqlite.js';
import { ServiceController } from './service-controller.js';

let dir: string;
let store: SqliteStore;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'dockyard-controller-'));
  store = new SqliteStore(dir);
});
after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const svc = (name: string) => ({ arn: `arn:aws:ecs:us-east-1:1:service/c/${name}`, cluster: 'arn:aws:ecs:us-east-1:1:cluster/c', name });

function fakeScheduler(calls: string[], wakeAt?: number) {
  return {
    services: async () => [svc('a'), svc('b')],
    reconcile: async (arn: string) => {
      calls.push(arn.split('/').at(-1)!);
      return { wakeAt };
    },
  } as unknown as ServiceScheduler;
}

describe('service controller', () => {
  it('acts only while leader', async () => {
    const calls: string[] = [];
    let leader = false;
    const ctl = new ServiceController(store, fakeScheduler(calls), { isLeader: () => leader }, { now: () => 0 });
    await ctl.pass();
    assert.deepEqual(calls, []);
    leader = true;
    await ctl.pass();
    assert.deepEqual(calls, ['a', 'b'], 'the first pass sweeps every service');
  });

  it('after the first sweep, looks only at services whose rows, tasks or instances changed', async () => {
    const calls: string[] = [];
    const ctl = new ServiceController(store, fakeScheduler(calls), { isLeader: () => true }, { now: () => 0 }, { sweepMs: 3_600_000 });
    await ctl.pass();
    calls.length = 0;
    await ctl.pass();
    assert.deepEqual(calls, [], 'nothing changed');
    // A task of service b changes (its service_open column names it).
    await store.write((tx) =>
      tx.insert(c.tasks, 't1', { accountId: '1', region: 'us-east-1', taskArn: 't1', clusterArn: svc('b').cluster, serviceName: 'b', lastStatus: 'PENDING', desiredStatus: 'RUNNING' } as never),
    );
    await ctl.pass();
    assert.deepEqual(calls, ['b']);
    calls.length = 0;
    // An instance of the cluster changes: every service of the cluster is looked at.
    await store.write((tx) => tx.insert(c.containerInstances, 'ci1', { accountId: '1', region: 'us-east-1', containerInstanceArn: 'ci1', clusterArn: svc('a').cluster, status: 'DRAINING' } as never));
    await ctl.pass();
    assert.deepEqual(calls, ['a', 'b']);
  });

  it('a requested wake-up brings the service back when due', async () => {
    const calls: string[] = [];
    let now = 100;
    const ctl = new ServiceController(store, fakeScheduler(calls, 105), { isLeader: () => true }, { now: () => now }, { sweepMs: 3_600_000 });
    assert.equal(await ctl.pass(), 105);
    calls.length = 0;
    await ctl.pass();
    assert.deepEqual(calls, []);
    now = 106;
    await ctl.pass();
    assert.deepEqual(calls, ['a', 'b']);
  });
});
