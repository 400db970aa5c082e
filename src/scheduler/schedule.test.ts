import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClusterQueryError, NoContainerInstancesError, SchedulerInputError } from './errors.js';
import { SnapshotMemo } from './snapshot-memo.js';
import { schedule, SERVICE_DEFAULT_STRATEGY } from './schedule.js';
import { Fixtures, request, taskDefinition } from './testing.js';
import type { ClusterSnapshot, InstanceView, PlacementRequest, PlacementResult } from './types.js';

const seed = { seed: 'test-seed' };

/** Freezes the snapshot so that any mutation by the scheduler throws. */
function frozen<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const key of Object.keys(value)) frozen((value as Record<string, unknown>)[key]);
    Object.freeze(value);
  }
  return value;
}

function run(instances: InstanceView[], req: PlacementRequest, env = seed): PlacementResult {
  return schedule(frozen({ instances }), req, env);
}

function countsByInstance(result: PlacementResult): Map<string, number> {
  const counts = new Map<string, number>();
  for (const p of result.placements) counts.set(p.instanceArn, (counts.get(p.instanceArn) ?? 0) + 1);
  return counts;
}

const staticPortTd = (hostPort: number, protocol = 'tcp', networkMode?: string) =>
  taskDefinition({
    ...(networkMode ? { networkMode } : {}),
    containerDefinitions: [{ name: 'app', cpu: 128, memory: 128, portMappings: [{ containerPort: 8080, hostPort, protocol }] }],
  });

describe('feasibility and failure reasons', () => {
  it('places on the one instance that fits and reports why each other ACTIVE instance was rejected', () => {
    const f = new Fixtures();
    const fits = f.instance({ attributes: { 'ecs.capability.task-eni': undefined, stack: 'prod' } });
    const disconnected = f.instance({ agentConnected: false, attributes: { 'ecs.capability.task-eni': undefined, stack: 'prod' } });
    const noAttribute = f.instance({ attributes: { stack: 'prod' } });
    const wrongValue = f.instance({ attributes: { 'ecs.capability.task-eni': undefined, stack: 'dev' } });
    const draining = f.instance({ status: 'DRAINING', attributes: { 'ecs.capability.task-eni': undefined, stack: 'prod' } });
    const td = taskDefinition({ requiresAttributes: [{ name: 'ecs.capability.task-eni' }, { name: 'stack', value: 'prod' }] });
    const result = run([disconnected, noAttribute, fits, wrongValue, draining], request(td, { count: 2 }));
    assert.deepEqual(
      result.placements.map((p) => p.instanceArn),
      [fits.arn, fits.arn],
    );
    assert.deepEqual(result.failures, []);

    const third = run([disconnected, noAttribute, wrongValue, draining], request(td));
    assert.deepEqual(third.placements, []);
    assert.deepEqual(third.failures, [
      { arn: disconnected.arn, reason: 'AGENT' },
      { arn: noAttribute.arn, reason: 'ATTRIBUTE' },
      { arn: wrongValue.arn, reason: 'ATTRIBUTE' },
    ]);
  });

  it('reports RESOURCE:CPU and RESOURCE:MEMORY counting the tasks already on the instance', () => {
    const f = new Fixtures();
    const busyCpu = f.instance({ cpu: 1024, memory: 4096, tasks: [f.task({ cpu: 900, memory: 100 })] });
    const busyMemory = f.instance({ cpu: 4096, memory: 1024, tasks: [f.task({ cpu: 100, memory: 700 })] });
    const td = taskDefinition({ containerDefinitions: [{ name: 'app', cpu: 256, memory: 512 }] });
    const result = run([busyCpu, busyMemory], request(td));
    assert.deepEqual(result.failures, [
      { arn: busyCpu.arn, reason: 'RESOURCE:CPU' },
      { arn: busyMemory.arn, reason: 'RESOURCE:MEMORY' },
    ]);
    // Exactly full is still a fit.
    const exact = f.instance({ cpu: 256, memory: 512 });
    assert.equal(run([exact], request(td)).placements[0]?.instanceArn, exact.arn);
  });

  it('reports RESOURCE:PORTS for host-reserved ports and ports bound by existing tasks, RESOURCE:PORTS_UDP for UDP', () => {
    const f = new Fixtures();
    const reserved = f.instance({ ports: [22, 80] });
    const boundByTask = f.instance({ tasks: [f.task({ hostPorts: [{ port: 80, protocol: 'tcp' }] })] });
    const udpOnly = f.instance({ tasks: [f.task({ hostPorts: [{ port: 80, protocol: 'udp' }] })] });
    const result = run([reserved, boundByTask], request(staticPortTd(80)));
    assert.deepEqual(result.failures, [
      { arn: reserved.arn, reason: 'RESOURCE:PORTS' },
      { arn: boundByTask.arn, reason: 'RESOURCE:PORTS' },
    ]);
    assert.equal(run([reserved, udpOnly], request(staticPortTd(80))).placements[0]?.instanceArn, udpOnly.arn, 'udp 80 does not block tcp 80');
    const udpReserved = f.instance({ portsUdp: [53] });
    assert.deepEqual(run([udpReserved, udpOnly], request(staticPortTd(53, 'udp'))).placements[0]?.instanceArn, udpOnly.arn);
    assert.deepEqual(run([udpReserved], request(staticPortTd(53, 'udp'))).failures, [{ arn: udpReserved.arn, reason: 'RESOURCE:PORTS_UDP' }]);
  });

  it('never places two tasks with the same static port on one instance in one call', () => {
    const f = new Fixtures();
    const a = f.instance({ cpu: 8192, memory: 16384 });
    const result = run([a], request(staticPortTd(80), { count: 3 }));
    assert.equal(result.placements.length, 1);
    assert.deepEqual(result.placements[0]!.hostPorts, [{ containerName: 'app', containerPort: 8080, hostPort: 80, protocol: 'tcp' }]);
    assert.deepEqual(result.failures, [{ arn: a.arn, reason: 'RESOURCE:PORTS' }]);
  });

  it('lets dynamic ports (hostPort 0 or absent) share an instance, and returns hostPort 0', () => {
    const f = new Fixtures();
    const a = f.instance({ cpu: 8192, memory: 16384 });
    const result = run([a], request(staticPortTd(0), { count: 4 }));
    assert.equal(result.placements.length, 4);
    assert.ok(result.placements.every((p) => p.hostPorts[0]?.hostPort === 0));
  });

  it('binds containerPort in host mode and no host ports in awsvpc mode', () => {
    const f = new Fixtures();
    const a = f.instance({ cpu: 8192, memory: 16384, ports: [8080] });
    assert.deepEqual(run([a], request(staticPortTd(0, 'tcp', 'host'))).failures, [{ arn: a.arn, reason: 'RESOURCE:PORTS' }]);
    const b = f.instance({ cpu: 8192, memory: 16384 });
    const host = run([b], request(staticPortTd(0, 'tcp', 'host'), { count: 2 }));
    assert.equal(host.placements.length, 1);
    assert.equal(host.placements[0]!.hostPorts[0]!.hostPort, 8080);
    const awsvpc = run([a], request(staticPortTd(8080, 'tcp', 'awsvpc'), { count: 3 }));
    assert.equal(awsvpc.placements.length, 3);
    assert.deepEqual(awsvpc.placements[0]!.hostPorts, []);
  });

  it('a task binding one host port twice fits nowhere', () => {
    const f = new Fixtures();
    const a = f.instance();
    const td = taskDefinition({
      containerDefinitions: [
        { name: 'a', memory: 64, portMappings: [{ containerPort: 1, hostPort: 9000 }] },
        { name: 'b', memory: 64, portMappings: [{ containerPort: 2, hostPort: 9000 }] },
      ],
    });
    assert.deepEqual(run([a], request(td)).failures, [{ arn: a.arn, reason: 'RESOURCE:PORTS' }]);
  });

  it('places what fits and reports the rest (count 5, room for 3)', () => {
    const f = new Fixtures();
    const a = f.instance({ cpu: 4096, memory: 1024 });
    const b = f.instance({ cpu: 4096, memory: 512 });
    const result = run([a, b], request(taskDefinition(), { count: 5 }));
    assert.deepEqual(countsByInstance(result), new Map([[a.arn, 2], [b.arn, 1]]));
    assert.deepEqual(result.failures, [
      { arn: a.arn, reason: 'RESOURCE:MEMORY' },
      { arn: b.arn, reason: 'RESOURCE:MEMORY' },
    ]);
  });

  it('throws NoContainerInstancesError (ECS\'s exact message) when no instance is ACTIVE', () => {
    const f = new Fixtures();
    for (const instances of [[], [f.instance({ status: 'DRAINING' }), f.instance({ status: 'INACTIVE' })]]) {
      assert.throws(
        () => run(instances, request(taskDefinition())),
        (e: unknown) => e instanceof NoContainerInstancesError && e instanceof SchedulerInputError && e.message === 'No Container Instances were found in your cluster.',
      );
    }
    assert.deepEqual(run([], request(taskDefinition(), { count: 0 })), { placements: [], failures: [] });
  });
});

describe('constraints', () => {
  it('distinctInstance: one task of the group per instance, counting tasks already running in the group', () => {
    const f = new Fixtures();
    const hasWeb = f.instance({ tasks: [f.task({ family: 'web' })] });
    const hasOther = f.instance({ tasks: [f.task({ family: 'db' }), f.task({ family: 'web', group: 'service:api' })] });
    const empty = f.instance();
    const result = run([hasWeb, hasOther, empty], request(taskDefinition(), { count: 3, placementConstraints: [{ type: 'distinctInstance' }] }));
    assert.deepEqual(new Set(result.placements.map((p) => p.instanceArn)), new Set([hasOther.arn, empty.arn]));
    assert.equal(result.placements.length, 2);
    assert.deepEqual(result.failures.map((x) => x.reason), [
      'DistinctInstance placement constraint unsatisfied.',
      'DistinctInstance placement constraint unsatisfied.',
      'DistinctInstance placement constraint unsatisfied.',
    ]);
    // In another group, the family:web task does not count.
    const api = run([hasWeb], request(taskDefinition(), { group: 'service:other', placementConstraints: [{ type: 'distinctInstance' }] }));
    assert.equal(api.placements.length, 1);
  });

  it('memberOf: attribute expressions filter instances; task-definition and request constraints both apply', () => {
    const f = new Fixtures();
    const t2a = f.instance({ instanceType: 't2.small', az: 'us-east-1a' });
    const t2d = f.instance({ instanceType: 't2.small', az: 'us-east-1d' });
    const m5a = f.instance({ instanceType: 'm5.large', az: 'us-east-1a' });
    const td = taskDefinition({ placementConstraints: [{ type: 'memberOf', expression: 'attribute:ecs.instance-type =~ t2.*' }] });
    const req = request(td, {
      count: 4,
      placementConstraints: [{ type: 'memberOf', expression: 'attribute:ecs.availability-zone in [us-east-1a, us-east-1b]' }],
    });
    const result = run([t2a, t2d, m5a], req);
    assert.deepEqual(countsByInstance(result), new Map([[t2a.arn, 4]]));
    const none = run([t2d, m5a], req);
    assert.deepEqual(none.failures, [
      { arn: t2d.arn, reason: 'MemberOf placement constraint unsatisfied.' },
      { arn: m5a.arn, reason: 'MemberOf placement constraint unsatisfied.' },
    ]);
  });

  it('memberOf task:group: affinity to another group, anti-affinity to its own (placements in the call count)', () => {
    const f = new Fixtures();
    const withDb = f.instance({ tasks: [f.task({ family: 'db', group: 'databases' })] });
    const plain = f.instance();
    const plain2 = f.instance();
    const affinity = run(
      [plain, withDb, plain2],
      request(taskDefinition(), { count: 3, placementConstraints: [{ type: 'memberOf', expression: 'task:group == databases' }] }),
    );
    assert.deepEqual(countsByInstance(affinity), new Map([[withDb.arn, 3]]));
    const anti = run(
      [plain, withDb, plain2],
      request(taskDefinition(), { count: 4, group: 'cache', placementConstraints: [{ type: 'memberOf', expression: 'not(task:group == cache)' }] }),
    );
    assert.equal(anti.placements.length, 3);
    assert.equal(new Set(anti.placements.map((p) => p.instanceArn)).size, 3);
    assert.equal(anti.failures.length, 3);
  });

  it('memberOf runningTasksCount sees RUNNING tasks only', () => {
    const f = new Fixtures();
    const idle = f.instance({ tasks: [f.task({ lastStatus: 'PENDING' })] });
    const busy = f.instance({ tasks: [f.task({ lastStatus: 'RUNNING' })] });
    const result = run([busy, idle], request(taskDefinition(), { placementConstraints: [{ type: 'memberOf', expression: 'runningTasksCount == 0' }] }));
    assert.equal(result.placements[0]?.instanceArn, idle.arn);
  });
});

describe('strategies', () => {
  it('binpack memory picks the instance with the least memory left that still fits', () => {
    const f = new Fixtures();
    const roomy = f.instance({ memory: 8192 });
    const tight = f.instance({ memory: 2048, tasks: [f.task({ memory: 1024 })] });
    const tooTight = f.instance({ memory: 2048, tasks: [f.task({ memory: 1800 })] });
    const result = run([roomy, tooTight, tight], request(taskDefinition(), { count: 3, placementStrategy: [{ type: 'binpack', field: 'memory' }] }));
    assert.deepEqual(result.placements.map((p) => p.instanceArn), [tight.arn, tight.arn, roomy.arn]);
  });

  it('binpack cpu packs by remaining cpu', () => {
    const f = new Fixtures();
    const a = f.instance({ cpu: 4096 });
    const b = f.instance({ cpu: 1024 });
    const result = run([a, b], request(taskDefinition(), { count: 5, placementStrategy: [{ type: 'binpack', field: 'cpu' }] }));
    assert.deepEqual(result.placements.map((p) => p.instanceArn), [b.arn, b.arn, b.arn, b.arn, a.arn]);
  });

  it('spread instanceId (and host) evens out the group, counting its existing tasks', () => {
    const f = new Fixtures();
    const a = f.instance({ tasks: [f.task(), f.task()] });
    const b = f.instance();
    const c = f.instance({ tasks: [f.task({ family: 'other' }), f.task({ family: 'other' })] });
    for (const field of ['instanceId', 'host']) {
      const result = run([a, b, c], request(taskDefinition(), { count: 4, placementStrategy: [{ type: 'spread', field }] }));
      assert.deepEqual(countsByInstance(result), new Map([[b.arn, 2], [c.arn, 2]]), field);
    }
  });

  it('spread by attribute balances values, counting tasks of the group on every instance', () => {
    const f = new Fixtures();
    const a1 = f.instance({ az: 'a', tasks: [f.task({ group: 'service:api' }), f.task({ group: 'service:api' })] });
    const a2 = f.instance({ az: 'a' });
    const b1 = f.instance({ az: 'b', tasks: [f.task({ group: 'service:api' })] });
    const c1 = f.instance({ az: 'c' });
    const result = run(
      [a1, a2, b1, c1],
      request(taskDefinition(), { count: 3, group: 'service:api', placementStrategy: [...SERVICE_DEFAULT_STRATEGY] }),
    );
    // Tally before: a=2, b=1, c=0 → c, then b or c, then the third; ends a=2, b=2, c=2.
    const perAz = new Map<string, number>();
    for (const p of result.placements) {
      const az = [a1, a2, b1, c1].find((i) => i.arn === p.instanceArn)!.attributes['ecs.availability-zone']!;
      perAz.set(az, (perAz.get(az) ?? 0) + 1);
    }
    assert.deepEqual(perAz, new Map([['c', 2], ['b', 1]]));
  });

  it('spread by AZ then binpack memory: the fullest instance of the emptiest zone', () => {
    const f = new Fixtures();
    const a = f.instance({ az: 'a', memory: 1024 });
    const bRoomy = f.instance({ az: 'b', memory: 8192 });
    const bTight = f.instance({ az: 'b', memory: 2048 });
    const result = run(
      [a, bRoomy, bTight],
      request(taskDefinition(), {
        count: 4,
        placementStrategy: [
          { type: 'spread', field: 'attribute:ecs.availability-zone' },
          { type: 'binpack', field: 'memory' },
        ],
      }),
    );
    const inB = result.placements.filter((p) => p.instanceArn !== a.arn);
    assert.equal(inB.length, 2);
    assert.equal(result.placements.length - inB.length, 2);
    assert.ok(inB.every((p) => p.instanceArn === bTight.arn), 'binpack breaks ties inside the zone');
  });

  it('random (and no strategy) spread choices over instances, deterministically per seed', () => {
    const f = new Fixtures();
    const instances = [f.instance(), f.instance(), f.instance(), f.instance()];
    for (const placementStrategy of [[{ type: 'random' }], undefined]) {
      const chosen = new Set<string>();
      for (let i = 0; i < 40; i++) {
        const req = request(taskDefinition(), placementStrategy ? { placementStrategy } : {});
        const first = run(instances, req, { seed: `seed-${i}` });
        assert.deepEqual(run(instances, req, { seed: `seed-${i}` }), first);
        chosen.add(first.placements[0]!.instanceArn);
      }
      assert.equal(chosen.size, 4, 'every instance gets picked for some seed');
    }
  });

  it('applies strategies in order: later ones only break ties, and nothing after random matters', () => {
    const f = new Fixtures();
    const small = f.instance({ memory: 2048, tasks: [f.task({ family: 'x' })] });
    const big = f.instance({ memory: 8192 });
    // spread first: both have zero web tasks → tie → binpack picks the smaller.
    const spreadThenPack = run([big, small], request(taskDefinition(), {
      placementStrategy: [{ type: 'spread', field: 'instanceId' }, { type: 'binpack', field: 'memory' }],
    }));
    assert.equal(spreadThenPack.placements[0]?.instanceArn, small.arn);
    // binpack then random: the binpack winner is unique, random has nothing to choose from.
    for (let i = 0; i < 10; i++) {
      const r = run([big, small], request(taskDefinition(), { placementStrategy: [{ type: 'binpack', field: 'memory' }, { type: 'random' }] }), {
        seed: `s${i}`,
      });
      assert.equal(r.placements[0]?.instanceArn, small.arn);
    }
  });

  it('same snapshot, request and seed give the same plan; a different seed may break ties differently', () => {
    const f = new Fixtures();
    const instances = Array.from({ length: 20 }, () => f.instance());
    const req = request(taskDefinition(), { count: 10, placementStrategy: [{ type: 'spread', field: 'instanceId' }] });
    const first = run(instances, req, { seed: 'a' });
    assert.deepEqual(run(instances, req, { seed: 'a' }), first);
    assert.equal(new Set(first.placements.map((p) => p.instanceArn)).size, 10);
    const others = ['b', 'c', 'd'].map((s) => run(instances, req, { seed: s }));
    assert.ok(others.some((o) => JSON.stringify(o) !== JSON.stringify(first)));
  });
});

describe('invalid input', () => {
  const f = new Fixtures();
  const snapshot: ClusterSnapshot = { instances: [f.instance()] };
  const cases: [string, Partial<PlacementRequest>, RegExp][] = [
    ['unknown strategy type', { placementStrategy: [{ type: 'fastest' }] }, /Invalid placement strategy type: 'fastest'/],
    ['missing strategy type', { placementStrategy: [{ field: 'cpu' }] }, /Invalid placement strategy type: \(none\)/],
    ['binpack on disk', { placementStrategy: [{ type: 'binpack', field: 'disk' }] }, /binpack.*'disk'.*cpu and memory/],
    ['spread without field', { placementStrategy: [{ type: 'spread' }] }, /spread.*\(none\)/],
    ['spread on empty attribute', { placementStrategy: [{ type: 'spread', field: 'attribute:' }] }, /spread/],
    ['six strategies', { placementStrategy: Array.from({ length: 6 }, () => ({ type: 'random' })) }, /maximum of 5/],
    ['unknown constraint type', { placementConstraints: [{ type: 'sameZone' }] }, /Invalid placement constraint type: 'sameZone'/],
    ['memberOf without expression', { placementConstraints: [{ type: 'memberOf' }] }, /requires an expression/],
    ['distinctInstance with expression', { placementConstraints: [{ type: 'distinctInstance', expression: 'x' }] }, /takes no expression/],
    ['eleven constraints', { placementConstraints: Array.from({ length: 11 }, () => ({ type: 'distinctInstance' })) }, /maximum of 10/],
    ['negative count', { count: -1 }, /Invalid count/],
    ['fractional count', { count: 1.5 }, /Invalid count/],
    ['empty group', { group: '' }, /group/],
  ];
  for (const [name, overrides, message] of cases) {
    it(`rejects ${name}`, () => {
      assert.throws(
        () => schedule(snapshot, request(taskDefinition(), overrides), seed),
        (e: unknown) => e instanceof SchedulerInputError && message.test(e.message),
      );
    });
  }

  it('rejects a bad memberOf expression with a ClusterQueryError, even from the task definition', () => {
    const td = taskDefinition({ placementConstraints: [{ type: 'memberOf', expression: 'attribute:ecs.instance-type = t2.small' }] });
    assert.throws(() => schedule(snapshot, request(td), seed), ClusterQueryError);
  });

  it('counts task-definition constraints toward the limit of 10', () => {
    const td = taskDefinition({ placementConstraints: Array.from({ length: 6 }, () => ({ type: 'memberOf', expression: 'attribute:a exists' })) });
    assert.throws(
      () => schedule(snapshot, request(td, { placementConstraints: Array.from({ length: 5 }, () => ({ type: 'distinctInstance' })) }), seed),
      /maximum of 10/,
    );
  });
});

describe('SnapshotMemo', () => {
  it('follows replaced instance objects: status, tasks and a shrinking snapshot', () => {
    const f = new Fixtures();
    const a = f.instance({ memory: 1024 });
    const b = f.instance({ memory: 4096 });
    const memo = new SnapshotMemo();
    const req = request(taskDefinition(), { placementStrategy: [{ type: 'binpack', field: 'memory' }] });
    assert.equal(schedule({ instances: [a, b] }, req, { seed: 's', memo }).placements[0]?.instanceArn, a.arn);
    const aFull = { ...a, tasks: [f.task({ memory: 1024 })] };
    assert.equal(schedule({ instances: [aFull, b] }, req, { seed: 's', memo }).placements[0]?.instanceArn, b.arn);
    const bDraining = { ...b, status: 'DRAINING' };
    assert.deepEqual(schedule({ instances: [aFull, bDraining] }, req, { seed: 's', memo }).failures, [
      { arn: a.arn, reason: 'RESOURCE:MEMORY' },
    ]);
    assert.throws(() => schedule({ instances: [bDraining] }, req, { seed: 's', memo }), NoContainerInstancesError);
    assert.equal(schedule({ instances: [b] }, req, { seed: 's', memo }).placements[0]?.instanceArn, b.arn);
  });
});
