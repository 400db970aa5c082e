/**
 * The Store conformance suite: the contract of src/store/store.ts, run against every
 * implementation (SQLite file and ':memory:' today; PostgreSQL later passes its own factory).
 * It uses the real collections, since a store's schema comes from src/store/migrations.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ConflictError } from '../src/core/errors.js';
import * as c from '../src/store/collections.js';
import type { Collection, Store } from '../src/store/store.js';

export interface StoreFactory {
  /** A fresh, empty store. */
  open(): Promise<Store>;
  /** Closes `store` and opens the same data again; undefined when the store is not durable. */
  reopen?(store: Store): Promise<Store>;
  /** Called once after the suite. */
  cleanup?(): Promise<void>;
}

const scope = { accountId: '000000000000', region: 'us-east-1' };

function cluster(name: string, status = 'ACTIVE', region = scope.region): c.ClusterDoc {
  return { ...scope, region, clusterArn: `arn:aws:ecs:${region}:000000000000:cluster/${name}`, clusterName: name, status };
}

function taskDef(family: string, revision: number, status = 'ACTIVE'): c.TaskDefinitionDoc {
  return { ...scope, family, revision, status, taskDefinitionArn: `arn:aws:ecs:us-east-1:000000000000:task-definition/${family}:${revision}` };
}

function task(id: string, startedBy?: string): c.TaskDoc {
  return {
    ...scope,
    taskArn: `arn:aws:ecs:us-east-1:000000000000:task/default/${id}`,
    clusterArn: 'arn:aws:ecs:us-east-1:000000000000:cluster/default',
    taskDefinitionArn: 'arn:aws:ecs:us-east-1:000000000000:task-definition/f:1',
    lastStatus: 'RUNNING',
    desiredStatus: 'RUNNING',
    family: 'f',
    startedBy,
    containers: [],
    overrides: {},
    version: 1,
    createdAt: 0,
  };
}

class Boom extends Error {}

export function runStoreConformance(name: string, factory: StoreFactory): void {
  describe(`Store conformance: ${name}`, () => {
    let store: Store;
    before(async () => {
      store = await factory.open();
    });
    after(async () => {
      await store.close();
      await factory.cleanup?.();
    });

    test('insert, get, and ConflictError on a duplicate key', async () => {
      const row = await store.write((tx) => tx.insert(c.clusters, 'k1', cluster('one')));
      assert.deepEqual(row, { pk: 'k1', version: 1, data: cluster('one') });
      assert.deepEqual(await store.read((tx) => tx.get(c.clusters, 'k1')), row);
      assert.equal(await store.read((tx) => tx.get(c.clusters, 'missing')), undefined);
      await assert.rejects(store.write((tx) => tx.insert(c.clusters, 'k1', cluster('dup'))), ConflictError);
      assert.equal((await store.read((tx) => tx.get(c.clusters, 'k1')))!.data.clusterName, 'one');
    });

    test('documents round-trip exactly (nested values, unicode, numbers)', async () => {
      const doc = { ...cluster('doc'), nested: { list: [1, 2.5, 'x', null, { deep: true }], emoji: 'zażółć 🐳', big: 2 ** 52 } };
      await store.write((tx) => tx.insert(c.clusters, 'doc', doc));
      assert.deepEqual((await store.read((tx) => tx.get(c.clusters, 'doc')))!.data, doc);
    });

    test('update is optimistic: the current version wins once, a stale version is a ConflictError', async () => {
      const v1 = await store.write((tx) => tx.insert(c.clusters, 'opt', cluster('opt')));
      const v2 = await store.write((tx) => tx.update(c.clusters, v1, { ...v1.data, status: 'INACTIVE' }));
      assert.equal(v2.version, 2);
      await assert.rejects(store.write((tx) => tx.update(c.clusters, v1, { ...v1.data, status: 'STALE' })), ConflictError);
      const now = (await store.read((tx) => tx.get(c.clusters, 'opt')))!;
      assert.equal(now.version, 2);
      assert.equal(now.data.status, 'INACTIVE');
      // Indexed columns follow the document.
      assert.equal(await store.read((tx) => tx.count(c.clusters, { name: 'opt', status: 'INACTIVE' })), 1);
      await assert.rejects(store.write((tx) => tx.update(c.clusters, { pk: 'never-inserted', version: 1, data: cluster('x') }, cluster('x'))), ConflictError);
    });

    test('delete reports whether a row was removed', async () => {
      await store.write((tx) => tx.insert(c.clusters, 'del', cluster('del')));
      assert.equal(await store.write((tx) => tx.delete(c.clusters, 'del')), true);
      assert.equal(await store.write((tx) => tx.delete(c.clusters, 'del')), false);
      assert.equal(await store.read((tx) => tx.get(c.clusters, 'del')), undefined);
    });

    describe('queries', () => {
      before(async () => {
        await store.write(async (tx) => {
          for (const [family, revisions] of [['app', 3], ['app-worker', 2], ['a%b', 1], ['a_b', 1], ['axb', 1], ['a%bc', 1], ['b', 1]] as const) {
            for (let r = 1; r <= revisions; r++) await tx.insert(c.taskDefinitions, `${family}:${r}`, taskDef(family, r, r === 2 ? 'INACTIVE' : 'ACTIVE'));
          }
          await tx.insert(c.tasks, 'with', task('with', 'deployer'));
          await tx.insert(c.tasks, 'without', task('without'));
        });
      });
      const pks = (rows: { pk: string }[]) => rows.map((r) => r.pk);

      test('equality, in, not, null and gt conditions', async () => {
        await store.read(async (tx) => {
          assert.deepEqual(pks(await tx.find(c.taskDefinitions, { where: { family: 'app' }, orderBy: [['revision', 'asc']] })), ['app:1', 'app:2', 'app:3']);
          assert.deepEqual(pks(await tx.find(c.taskDefinitions, { where: { family: 'app', status: 'INACTIVE' } })), ['app:2']);
          assert.deepEqual(
            pks(await tx.find(c.taskDefinitions, { where: { family: { in: ['b', 'axb'] } }, orderBy: [['family', 'asc']] })),
            ['axb:1', 'b:1'],
          );
          assert.deepEqual(await tx.find(c.taskDefinitions, { where: { family: { in: [] } } }), []);
          assert.deepEqual(pks(await tx.find(c.taskDefinitions, { where: { family: 'app', revision: { gt: 1 } }, orderBy: [['revision', 'asc']] })), ['app:2', 'app:3']);
          assert.equal(await tx.count(c.taskDefinitions, { status: { not: 'ACTIVE' } }), 2);
          // `not` keeps rows whose column is NULL; `null` and `not null` test for it.
          assert.deepEqual(pks(await tx.find(c.tasks, { where: { started_by: { not: 'deployer' } } })), ['without']);
          assert.deepEqual(pks(await tx.find(c.tasks, { where: { started_by: null } })), ['without']);
          assert.deepEqual(pks(await tx.find(c.tasks, { where: { started_by: { not: null } } })), ['with']);
        });
      });

      test('prefix matches literally, even with % and _ in the prefix', async () => {
        await store.read(async (tx) => {
          const prefixed = async (prefix: string) =>
            pks(await tx.find(c.taskDefinitions, { where: { family: { prefix } }, orderBy: [['family', 'asc'], ['revision', 'asc']] }));
          assert.deepEqual(await prefixed('a%b'), ['a%b:1', 'a%bc:1']);
          assert.deepEqual(await prefixed('a_'), ['a_b:1']);
          assert.deepEqual(await prefixed('app-'), ['app-worker:1', 'app-worker:2']);
          assert.deepEqual(await prefixed('zzz'), []);
          assert.equal((await prefixed('')).length, 10);
        });
      });

      test('ordering on several columns, limit, and count', async () => {
        await store.read(async (tx) => {
          const rows = await tx.find(c.taskDefinitions, { where: { family: { in: ['app', 'app-worker'] } }, orderBy: [['family', 'desc'], ['revision', 'asc']] });
          assert.deepEqual(pks(rows), ['app-worker:1', 'app-worker:2', 'app:1', 'app:2', 'app:3']);
          const top = await tx.find(c.taskDefinitions, { where: { family: 'app' }, orderBy: [['revision', 'desc']], limit: 1 });
          assert.deepEqual(pks(top), ['app:3']);
          assert.equal((await tx.find(c.taskDefinitions, { limit: 0 })).length, 0);
          assert.equal(await tx.count(c.taskDefinitions), 10);
          assert.equal(await tx.count(c.taskDefinitions, { family: 'app' }), 3);
        });
      });

      test('select returns the pk, the version and the named indexed columns only', async () => {
        const rows = await store.read((tx) => tx.select(c.taskDefinitions, ['family', 'revision'], { where: { family: 'app' }, orderBy: [['revision', 'asc']] }));
        assert.deepEqual(rows.map((r) => ({ ...r })), [
          { pk: 'app:1', version: 1, family: 'app', revision: 1 },
          { pk: 'app:2', version: 1, family: 'app', revision: 2 },
          { pk: 'app:3', version: 1, family: 'app', revision: 3 },
        ]);
      });

      test('after: keyset pages in either direction, on one or several columns, with where and limit', async () => {
        await store.read(async (tx) => {
          const order = [['family', 'asc'], ['revision', 'asc']] as const;
          const all = pks(await tx.find(c.taskDefinitions, { orderBy: order }));
          // Walking two at a time from each page's last position visits every row once, in order.
          const walked: string[] = [];
          let after: (string | number)[] | undefined;
          for (let n = 0; n < 20; n++) {
            const page = await tx.select(c.taskDefinitions, ['family', 'revision'], { orderBy: order, after, limit: 2 });
            walked.push(...pks(page));
            if (page.length < 2) break;
            after = [String(page[1]!.family), Number(page[1]!.revision)];
          }
          assert.deepEqual(walked, all);
          assert.deepEqual(pks(await tx.find(c.taskDefinitions, { where: { family: 'app' }, orderBy: [['family', 'desc'], ['revision', 'desc']], after: ['app', 3] })), ['app:2', 'app:1']);
          assert.deepEqual(pks(await tx.select(c.tasks, [], { orderBy: [['pk', 'asc']], after: ['w'] })), ['with', 'without']);
          assert.deepEqual(pks(await tx.select(c.tasks, [], { orderBy: [['pk', 'asc']], after: ['with'] })), ['without']);
        });
        // A position needs one value per ordering column, all in one direction.
        await assert.rejects(store.read((tx) => tx.find(c.taskDefinitions, { orderBy: [['family', 'asc']], after: ['a', 1] })));
        await assert.rejects(store.read((tx) => tx.find(c.taskDefinitions, { orderBy: [['family', 'asc'], ['revision', 'desc']], after: ['a', 1] })));
        await assert.rejects(store.read((tx) => tx.find(c.taskDefinitions, { after: ['a'] })));
      });

      test('an undeclared column is refused rather than interpolated', async () => {
        await assert.rejects(store.read((tx) => tx.find(c.taskDefinitions, { where: { 'family; DROP TABLE x': 'a' } })));
        await assert.rejects(store.read((tx) => tx.find(c.taskDefinitions, { orderBy: [['nope', 'asc']] })));
      });
    });

    test('a failing write rolls back everything it did', async () => {
      await store.write((tx) => tx.insert(c.clusters, 'rb-existing', cluster('rb-existing')));
      const index = store.changeIndex();
      await assert.rejects(
        store.write(async (tx) => {
          await tx.insert(c.clusters, 'rb-1', cluster('rb-1'));
          const row = (await tx.get(c.clusters, 'rb-existing'))!;
          await tx.update(c.clusters, row, { ...row.data, status: 'CHANGED' });
          await tx.delete(c.clusters, 'k1');
          throw new Boom('after three writes');
        }),
        Boom,
      );
      // A conflict in the middle of a transaction rolls back the earlier statements too.
      await assert.rejects(
        store.write(async (tx) => {
          await tx.insert(c.clusters, 'rb-2', cluster('rb-2'));
          await tx.insert(c.clusters, 'rb-existing', cluster('rb-existing'));
        }),
        ConflictError,
      );
      await store.read(async (tx) => {
        assert.equal(await tx.get(c.clusters, 'rb-1'), undefined);
        assert.equal(await tx.get(c.clusters, 'rb-2'), undefined);
        assert.equal((await tx.get(c.clusters, 'rb-existing'))!.data.status, 'ACTIVE');
        assert.equal((await tx.get(c.clusters, 'rb-existing'))!.version, 1);
        assert.ok(await tx.get(c.clusters, 'k1'));
      });
      assert.equal(store.changeIndex(), index, 'failed writes do not move the change index');
      // The store is still usable afterwards.
      await store.write((tx) => tx.insert(c.clusters, 'rb-after', cluster('rb-after')));
    });

    test('a read is one snapshot: writes committed while it awaits are not seen, the next read sees them', async () => {
      await store.write((tx) => tx.insert(c.clusters, 'snap-a', cluster('snap-a')));
      let release!: () => void;
      const paused = new Promise<void>((r) => (release = r));
      let firstSeen!: () => void;
      const seenFirst = new Promise<void>((r) => (firstSeen = r));
      const reading = store.read(async (tx) => {
        const before = await tx.count(c.clusters, { name: { prefix: 'snap-' } });
        const a = await tx.get(c.clusters, 'snap-a');
        firstSeen();
        await paused;
        // The same statements again, after other transactions committed.
        return { before, after: await tx.count(c.clusters, { name: { prefix: 'snap-' } }), a, aAgain: await tx.get(c.clusters, 'snap-a'), b: await tx.get(c.clusters, 'snap-b') };
      });
      await seenFirst;
      await store.write(async (tx) => {
        await tx.insert(c.clusters, 'snap-b', cluster('snap-b'));
        const a = (await tx.get(c.clusters, 'snap-a'))!;
        await tx.update(c.clusters, a, { ...a.data, status: 'INACTIVE' });
      });
      // Another read meanwhile sees the new state.
      assert.equal((await store.read((tx) => tx.get(c.clusters, 'snap-a')))!.data.status, 'INACTIVE');
      release();
      const seen = await reading;
      assert.equal(seen.before, 1);
      assert.equal(seen.after, 1);
      assert.deepEqual(seen.aAgain, seen.a);
      assert.equal(seen.aAgain!.data.status, 'ACTIVE');
      assert.equal(seen.b, undefined);
      assert.equal(await store.read((tx) => tx.count(c.clusters, { name: { prefix: 'snap-' } })), 2);
    });

    test('many reads at once each complete (more than the store keeps connections for)', async () => {
      const reads = Array.from({ length: 40 }, (_, i) =>
        store.read(async (tx) => {
          await new Promise((r) => setTimeout(r, i % 5));
          return (await tx.get(c.clusters, 'k1'))?.pk;
        }),
      );
      assert.deepEqual(await Promise.all(reads), Array(40).fill('k1'));
    });

    test('write observers see each write, old and new columns, before the next write runs', async () => {
      const seen: { phase: string; pk: unknown; status: unknown }[][] = [];
      store.observeWrites({ written: (rows) => seen.push(rows.filter((r) => r.collection === 'clusters').map((r) => ({ phase: r.phase, pk: r.columns.pk, status: r.columns.status }))), lost: () => undefined });
      await Promise.all([
        store.write((tx) => tx.insert(c.clusters, 'obs-1', cluster('obs-1'))),
        store.write(async (tx) => {
          // The previous write is already reported when this one starts.
          assert.deepEqual(seen.at(-1), [{ phase: 'new', pk: 'obs-1', status: 'ACTIVE' }]);
          const row = (await tx.get(c.clusters, 'obs-1'))!;
          await tx.update(c.clusters, row, { ...row.data, status: 'INACTIVE' });
          await tx.delete(c.clusters, 'obs-1');
        }),
        store.write(async (tx) => {
          await tx.insert(c.clusters, 'obs-2', cluster('obs-2'));
          throw new Boom('rolled back: never reported');
        }).catch(() => undefined),
      ]);
      assert.deepEqual(seen.slice(-2), [
        [{ phase: 'new', pk: 'obs-1', status: 'ACTIVE' }],
        [
          { phase: 'old', pk: 'obs-1', status: 'ACTIVE' },
          { phase: 'new', pk: 'obs-1', status: 'INACTIVE' },
          { phase: 'old', pk: 'obs-1', status: 'INACTIVE' },
        ],
      ]);
    });

    test('a read transaction cannot write', async () => {
      await assert.rejects(store.read((tx) => tx.insert(c.clusters, 'from-read', cluster('from-read'))));
      assert.equal(await store.read((tx) => tx.get(c.clusters, 'from-read')), undefined);
    });

    test('concurrent read-modify-write transactions do not lose updates', async () => {
      await store.write((tx) => tx.insert(c.clusters, 'counter', { ...cluster('counter'), n: 0 }));
      const bump = () =>
        store.write(async (tx) => {
          const row = (await tx.get(c.clusters, 'counter'))!;
          await new Promise((r) => setImmediate(r)); // yield between read and write
          await tx.update(c.clusters, row, { ...row.data, n: (row.data.n as number) + 1 });
        });
      await Promise.all(Array.from({ length: 25 }, bump));
      assert.equal((await store.read((tx) => tx.get(c.clusters, 'counter')))!.data.n, 25);
    });

    test('concurrent writes settle independently: failures leave nothing, the others commit', async () => {
      const index = store.changeIndex();
      const results = await Promise.allSettled([
        store.write((tx) => tx.insert(c.clusters, 'grp-1', cluster('grp-1'))),
        store.write(async (tx) => {
          await tx.insert(c.clusters, 'grp-2', cluster('grp-2'));
          throw new Boom('second write fails after inserting');
        }),
        store.write((tx) => tx.insert(c.clusters, 'grp-3', cluster('grp-3'))),
        store.write((tx) => tx.insert(c.clusters, 'grp-1', cluster('duplicate'))),
      ]);
      assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled', 'rejected']);
      assert.ok((results[1] as PromiseRejectedResult).reason instanceof Boom);
      assert.ok((results[3] as PromiseRejectedResult).reason instanceof ConflictError);
      await store.read(async (tx) => {
        assert.equal((await tx.get(c.clusters, 'grp-1'))!.data.clusterName, 'grp-1');
        assert.equal(await tx.get(c.clusters, 'grp-2'), undefined);
        assert.ok(await tx.get(c.clusters, 'grp-3'));
      });
      assert.equal(store.changeIndex(), index + 2);
    });

    test('a write resolves only once it is visible to reads', async () => {
      const writes = Array.from({ length: 40 }, (_, i) =>
        store.write((tx) => tx.insert(c.clusters, `vis-${i}`, cluster(`vis-${i}`))).then(() => store.read((tx) => tx.get(c.clusters, `vis-${i}`))),
      );
      for (const row of await Promise.all(writes)) assert.ok(row, 'read after write sees the row');
    });

    test('the change index moves once per committed write that changed something', async () => {
      const start = store.changeIndex();
      await store.write(async (tx) => {
        await tx.insert(c.clusters, 'ci-1', cluster('ci-1'));
        await tx.insert(c.clusters, 'ci-2', cluster('ci-2'));
      });
      assert.equal(store.changeIndex(), start + 1);
      await store.write((tx) => tx.get(c.clusters, 'ci-1'));
      await store.write((tx) => tx.delete(c.clusters, 'not-there'));
      assert.equal(store.changeIndex(), start + 1, 'writes that change nothing do not count');
    });

    test('waitForChange wakes on a later commit, returns at once when already past, and times out', async () => {
      const now = store.changeIndex();
      assert.equal(await store.waitForChange(now - 1, 10_000), now);
      const waiting = store.waitForChange(now, 10_000);
      await store.write((tx) => tx.insert(c.clusters, 'wake', cluster('wake')));
      assert.equal(await waiting, now + 1);
      assert.equal(await store.waitForChange(now + 1, 20), now + 1, 'timeout resolves with the current index');
      const controller = new AbortController();
      const aborted = store.waitForChange(now + 1, 10_000, controller.signal);
      controller.abort();
      assert.equal(await aborted, now + 1);
    });

    if (factory.reopen) {
      test('committed data and the change index survive closing and reopening', async () => {
        await store.write((tx) => tx.insert(c.clusters, 'durable', cluster('durable')));
        const index = store.changeIndex();
        store = await factory.reopen!(store);
        assert.equal(store.changeIndex(), index);
        assert.equal((await store.read((tx) => tx.get(c.clusters, 'durable')))!.data.clusterName, 'durable');
        assert.equal(await store.read((tx) => tx.count(c.taskDefinitions, { family: 'app' })), 3);
      });
    }

    // Last: it empties the suite's store.
    test('clear() deletes every row of every collection in one write, wakes filtered waiters and tells onClear listeners', async () => {
      await store.write(async (tx) => {
        await tx.insert(c.clusters, 'a', cluster('a'));
        await tx.insert(c.taskDefinitions, 'td', taskDef('td', 1));
        await tx.insert(c.tasks, 't1', task('t1'));
        await tx.insert(c.agentCredentials, 'cred', { containerInstanceArn: 'arn:aws:ecs:us-east-1:1:container-instance/x/y', createdAt: 1 });
      });
      let cleared = 0;
      store.onClear(() => (cleared += 1));
      const before = store.changeIndex();
      // A long-poll that only cares about task t1 wakes: the delete touched it.
      const waiting = store.waitForChange(before, 5_000, undefined, [{ collection: c.tasks, column: 'pk', value: 't1' }]);
      await store.clear();
      assert.equal(await waiting, before + 1, 'one write, and the filtered waiter woke');
      assert.equal(cleared, 1);
      for (const collection of [c.clusters, c.taskDefinitions, c.tasks] as Collection<unknown>[]) {
        assert.equal(await store.read((tx) => tx.count(collection)), 0, collection.name);
      }
      // Hosts' identities are the installation's, not an account's: agents register again after a reset.
      assert.equal(await store.read((tx) => tx.count(c.agentCredentials)), 1);
      // Keys can be used again, from version 1.
      const again = await store.write((tx) => tx.insert(c.clusters, 'a', cluster('a')));
      assert.equal(again.version, 1);
    });
  });
}
