import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as c from './collections.js';
import { SqliteStore } from './sqlite.js';

const task = (arn: string, instance: string) =>
  ({ accountId: 'a', region: 'r', taskArn: arn, clusterArn: 'cl', taskDefinitionArn: 'td', lastStatus: 'PENDING', desiredStatus: 'RUNNING', family: 'f', containers: [], overrides: {}, version: 1, createdAt: 0, placedOn: instance }) as c.TaskDoc;

test('a filtered wait wakes for matching rows only, and never misses a change made before it started', async () => {
  const store = new SqliteStore(':memory:');
  try {
    const mine = [{ collection: c.tasks, column: 'instance', value: 'i-1' }];
    const start = store.changeIndex();
    let woke = false;
    const waiting = store.waitForChange(start, 2_000, undefined, mine).then((i) => ((woke = true), i));
    await store.write((tx) => tx.insert(c.tasks, 't-other', task('t-other', 'i-2')));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(woke, false, 'a task on another instance does not wake the waiter');
    await store.write((tx) => tx.insert(c.tasks, 't-mine', task('t-mine', 'i-1')));
    assert.equal(await waiting, start + 2);

    // A change that happened between reading and waiting is found in the recent-commit ring.
    const before = store.changeIndex();
    await store.write(async (tx) => {
      const row = (await tx.get(c.tasks, 't-mine'))!;
      await tx.update(c.tasks, row, { ...row.data, placedOn: 'i-3' });
    });
    assert.equal(await store.waitForChange(before, 2_000, undefined, mine), before + 1, 'moving a task off i-1 concerns i-1');
    const t0 = Date.now();
    assert.equal(await store.waitForChange(store.changeIndex(), 50, undefined, mine), store.changeIndex());
    assert.ok(Date.now() - t0 >= 40, 'nothing matching: waits for the timeout');
  } finally {
    await store.close();
  }
});
