/**
 * ClusterSnapshots against the store it caches: after any sequence of writes (tasks placed,
 * moving through their statuses, stopped, deleted; instances added, changed, drained), the
 * snapshot kept current by write notifications equals one read afresh from the store, and the
 * scheduler with the cluster's kept memo plans exactly what it plans without a memo.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { schedule, type InstanceView, type PlacementRequest } from '../../scheduler/index.js';
import * as c from '../../store/collections.js';
import type { ContainerInstanceDoc, TaskDoc } from '../../store/collections.js';
import { SqliteStore } from '../../store/sqlite.js';
import { ClusterSnapshots } from './cluster-snapshots.js';

const store = new SqliteStore(':memory:');
after(() => store.close());

const CLUSTERS = ['arn:aws:ecs:us-east-1:000000000000:cluster/one', 'arn:aws:ecs:us-east-1:000000000000:cluster/two'];
const STATUSES = ['PROVISIONING', 'PENDING', 'RUNNING', 'DEACTIVATING', 'STOPPING', 'STOPPED'];

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
}

function instanceDoc(cluster: string, n: number, zone: string, status = 'ACTIVE'): ContainerInstanceDoc {
  const arn = `${cluster.replace(':cluster/', ':container-instance/')}/${n}`;
  return {
    accountId: '000000000000',
    region: 'us-east-1',
    containerInstanceArn: arn,
    clusterArn: cluster,
    status,
    agentConnected: true,
    attributes: [{ name: 'ecs.availability-zone', value: zone }],
    registeredResources: [
      { name: 'CPU', type: 'INTEGER', integerValue: 4096 },
      { name: 'MEMORY', type: 'INTEGER', integerValue: 8192 },
      { name: 'PORTS', type: 'STRINGSET', stringSetValue: ['22'] },
      { name: 'PORTS_UDP', type: 'STRINGSET', stringSetValue: [] },
    ],
    versionInfo: {},
    registeredAt: 0,
  };
}

function taskDoc(cluster: string, id: number, instance: string, rand: () => number): TaskDoc {
  const family = ['web', 'worker', 'batch'][Math.floor(rand() * 3)]!;
  return {
    accountId: '000000000000',
    region: 'us-east-1',
    taskArn: `${cluster.replace(':cluster/', ':task/')}/${id}`,
    clusterArn: cluster,
    taskDefinitionArn: `arn:aws:ecs:us-east-1:000000000000:task-definition/${family}:1`,
    placedOn: instance,
    lastStatus: 'PROVISIONING',
    desiredStatus: 'RUNNING',
    family,
    group: rand() < 0.3 ? 'service:api' : `family:${family}`,
    containers: [],
    overrides: {},
    version: 1,
    createdAt: 0,
    reservedCpu: 128 * (1 + Math.floor(rand() * 4)),
    reservedMemory: 256 * (1 + Math.floor(rand() * 4)),
    reservedPorts: rand() < 0.3 ? [`${8000 + Math.floor(rand() * 5)}/tcp`] : [],
  };
}

/** Instances sorted, each with its tasks sorted by ARN: the order of tasks on an instance carries no meaning. */
function normalised(instances: InstanceView[]) {
  return instances.map((i) => ({ ...i, tasks: [...i.tasks].sort((a, b) => a.arn.localeCompare(b.arn)) }));
}

test('the kept snapshot equals a fresh read, and the kept memo plans what no memo plans, after any sequence of writes', async () => {
  const rand = lcg(7);
  const kept = new ClusterSnapshots(store);
  const instances = new Map<string, string[]>(CLUSTERS.map((cl) => [cl, []]));
  let nextId = 0;
  const request: PlacementRequest = {
    count: 5,
    taskDefinition: { taskDefinitionArn: 'td', family: 'web', containerDefinitions: [{ name: 'web', cpu: 128, memory: 256, portMappings: [{ containerPort: 80, hostPort: 0 }] }] },
    placementStrategy: [{ type: 'spread', field: 'attribute:ecs.availability-zone' }, { type: 'binpack', field: 'memory' }],
  };
  let compared = 0;
  for (let step = 0; step < 300; step++) {
    const cluster = CLUSTERS[Math.floor(rand() * CLUSTERS.length)]!;
    const onCluster = instances.get(cluster)!;
    // Several writes queue at once, so some share a group commit with the check below.
    const writes: Promise<unknown>[] = [];
    for (let w = 0; w < 1 + Math.floor(rand() * 4); w++) {
      const op = rand();
      if (onCluster.length < 3 || op < 0.05) {
        const doc = instanceDoc(cluster, onCluster.length, `zone-${onCluster.length % 3}`);
        onCluster.push(doc.containerInstanceArn);
        writes.push(store.write((tx) => tx.insert(c.containerInstances, doc.containerInstanceArn, doc)));
      } else if (op < 0.45) {
        const instance = onCluster[Math.floor(rand() * onCluster.length)]!;
        const doc = taskDoc(cluster, nextId++, instance, rand);
        writes.push(store.write((tx) => tx.insert(c.tasks, doc.taskArn, doc)));
      } else if (op < 0.85) {
        // A task moves on through its statuses (the agent's reports), up to STOPPED.
        const pick = rand();
        writes.push(
          store.write(async (tx) => {
            const live = await tx.select(c.tasks, [], { where: { cluster, last_status: { not: 'STOPPED' } }, orderBy: [['pk', 'asc']] });
            const target = live[Math.floor(pick * live.length)];
            if (!target) return;
            const row = (await tx.get(c.tasks, target.pk))!;
            const next = STATUSES[Math.min(STATUSES.length - 1, STATUSES.indexOf(row.data.lastStatus) + 1 + Math.floor(pick * 2))]!;
            await tx.update(c.tasks, row, { ...row.data, lastStatus: next });
          }),
        );
      } else if (op < 0.9) {
        const pick = rand();
        writes.push(
          store.write(async (tx) => {
            const all = await tx.select(c.tasks, [], { where: { cluster }, orderBy: [['pk', 'asc']] });
            const target = all[Math.floor(pick * all.length)];
            if (target) await tx.delete(c.tasks, target.pk);
          }),
        );
      } else if (op < 0.95) {
        // An instance's document changes (attributes, draining and back).
        const arn = onCluster[Math.floor(rand() * onCluster.length)]!;
        const zone = `zone-${Math.floor(rand() * 3)}`;
        const status = rand() < 0.3 ? 'DRAINING' : 'ACTIVE';
        writes.push(
          store.write(async (tx) => {
            const row = (await tx.get(c.containerInstances, arn))!;
            await tx.update(c.containerInstances, row, { ...row.data, status, attributes: [{ name: 'ecs.availability-zone', value: zone }] });
          }),
        );
      } else {
        // A write that fails after touching tasks leaves nothing behind, in the store or the snapshot.
        const instance = onCluster[0]!;
        const doc = taskDoc(cluster, nextId++, instance, rand);
        writes.push(
          store
            .write(async (tx) => {
              await tx.insert(c.tasks, doc.taskArn, doc);
              throw new Error('rolled back');
            })
            .catch(() => undefined),
        );
      }
    }
    writes.push(
      store.write(async (tx) => {
        const cached = await kept.instances(tx, cluster);
        const fresh = await new ClusterSnapshots(store).instances(tx, cluster);
        assert.deepEqual(normalised(cached), normalised(fresh), `step ${step}`);
        const seed = `s${step}`;
        assert.deepEqual(schedule({ instances: cached }, request, { seed, memo: kept.memo(cluster, 'all') }), schedule({ instances: fresh }, request, { seed }), `step ${step}`);
        compared++;
      }),
    );
    await Promise.all(writes);
  }
  assert.equal(compared, 300);
});

test('unchanged instances keep their InstanceView object between calls (what makes the memo pay)', async () => {
  const kept = new ClusterSnapshots(store);
  const cluster = 'arn:aws:ecs:us-east-1:000000000000:cluster/three';
  await store.write(async (tx) => {
    for (let n = 0; n < 3; n++) {
      const doc = instanceDoc(cluster, n, 'zone-a');
      await tx.insert(c.containerInstances, doc.containerInstanceArn, doc);
    }
  });
  const first = await store.write((tx) => kept.instances(tx, cluster));
  const changed = first[0]!;
  const rand = lcg(3);
  await store.write((tx) => {
    const doc = taskDoc(cluster, 1_000_000, changed.arn, rand);
    return tx.insert(c.tasks, doc.taskArn, doc);
  });
  const second = await store.write((tx) => kept.instances(tx, cluster));
  assert.equal(second.length, first.length);
  assert.notEqual(second[0], first[0]);
  assert.equal(second[0]!.tasks.length, first[0]!.tasks.length + 1);
  for (let i = 1; i < first.length; i++) assert.equal(second[i], first[i], `instance ${i} is the same object`);
});
