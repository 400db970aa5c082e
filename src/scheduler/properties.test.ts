/**
 * Property tests: random clusters and requests, checked against an independent account of
 * what the plan must respect (recomputed here from the snapshot, not from scheduler state).
 * What one task reserves is the generator's own bookkeeping (the numbers it rendered into the
 * request), not reservation.ts, so a wrong reservation rule fails these properties.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { compileClusterQuery } from './cluster-query-eval.js';
import { parseClusterQuery } from './cluster-query.js';
import { NoContainerInstancesError } from './errors.js';
import { SnapshotMemo } from './snapshot-memo.js';
import { taskGroupOf } from './task-group.js';
import { schedule } from './schedule.js';
import type { ClusterSnapshot, InstanceView, PlacementRequest, PlacementResult, TaskView } from './types.js';

const AZS = ['us-east-1a', 'us-east-1b', 'us-east-1c'];
const TYPES = ['t2.small', 't3.medium', 'm5.large', 'g2.2xlarge'];
const GROUPS = ['family:web', 'databases', 'service:api'];
const PORTS = [80, 443, 8080];
const EXPRESSIONS = [
  'attribute:ecs.instance-type =~ t.*',
  'attribute:ecs.availability-zone in [us-east-1a, us-east-1b]',
  'attribute:stack != prod',
  'task:group == databases',
  'not(task:group == databases) and attribute:ecs.instance-type != g2.2xlarge',
  'runningTasksCount <= 2 or attribute:stack exists',
];
const STRATEGIES = [
  { type: 'random' },
  { type: 'binpack', field: 'cpu' },
  { type: 'binpack', field: 'memory' },
  { type: 'spread', field: 'instanceId' },
  { type: 'spread', field: 'host' },
  { type: 'spread', field: 'attribute:ecs.availability-zone' },
  { type: 'spread', field: 'attribute:stack' },
];

const portArb = fc.record({ port: fc.constantFrom(...PORTS, 53), protocol: fc.constantFrom<'tcp' | 'udp'>('tcp', 'udp') });

const taskArb = (n: number): fc.Arbitrary<TaskView> =>
  fc.record({
    group: fc.constantFrom(...GROUPS, undefined),
    cpu: fc.integer({ min: 0, max: 1024 }),
    memory: fc.integer({ min: 0, max: 1024 }),
    hostPorts: fc.array(portArb, { maxLength: 2 }),
    lastStatus: fc.constantFrom('RUNNING', 'PENDING', undefined),
  }).map((t) => ({
    arn: `task-${n}`,
    family: 'web',
    ...(t.group !== undefined ? { group: t.group } : {}),
    taskDefinitionArn: 'td',
    cpu: t.cpu,
    memory: t.memory,
    hostPorts: t.hostPorts,
    ...(t.lastStatus !== undefined ? { lastStatus: t.lastStatus } : {}),
  }));

const instanceArb = (n: number): fc.Arbitrary<InstanceView> =>
  fc.record({
    status: fc.constantFrom('ACTIVE', 'ACTIVE', 'ACTIVE', 'DRAINING'),
    agentConnected: fc.integer({ min: 0, max: 4 }).map((n) => n > 0),
    az: fc.constantFrom(...AZS),
    type: fc.constantFrom(...TYPES),
    stack: fc.constantFrom('prod', 'dev', undefined),
    capability: fc.boolean(),
    cpu: fc.integer({ min: 256, max: 4096 }),
    memory: fc.integer({ min: 256, max: 8192 }),
    ports: fc.subarray([22, 80, 443]),
    portsUdp: fc.subarray([53]),
    tasks: fc.array(taskArb(n), { maxLength: 4 }),
  }).map((i) => ({
    arn: `instance-${n}`,
    ec2InstanceId: `i-${n}`,
    status: i.status,
    agentConnected: i.agentConnected,
    attributes: {
      'ecs.availability-zone': i.az,
      'ecs.instance-type': i.type,
      ...(i.stack !== undefined ? { stack: i.stack } : {}),
      ...(i.capability ? { 'ecs.capability.task-eni': undefined } : {}),
    },
    registered: { cpu: i.cpu, memory: i.memory, ports: i.ports, portsUdp: i.portsUdp },
    tasks: i.tasks.map((t, k) => ({ ...t, arn: `task-${n}-${k}` })),
  }));

const snapshotArb: fc.Arbitrary<ClusterSnapshot> = fc
  .integer({ min: 0, max: 12 })
  .chain((size): fc.Arbitrary<InstanceView[]> => (size === 0 ? fc.constant([]) : fc.tuple(...Array.from({ length: size }, (_, n) => instanceArb(n)))))
  .map((instances) => ({ instances }));

/** What a task of a generated request reserves, known from the values the generator picked. */
interface Expected {
  cpu: number;
  memory: number;
  /** Static host ports (0 = dynamic, reserves nothing). */
  hostPorts: { hostPort: number; protocol: 'tcp' | 'udp' }[];
}
const expected = new WeakMap<PlacementRequest, Expected>();
function expectedOf(request: PlacementRequest): Expected {
  const e = expected.get(request);
  if (!e) throw new Error('request not from requestArb');
  return e;
}

/** Task sizes as [the number, how it is written], in the forms ECS documents. */
const TASK_CPU: [number, string][] = [[256, '256'], [512, '0.5 vCPU'], [1024, '1 vcpu'], [2048, '2 vCPU']];
const TASK_MEMORY: [number, string][] = [[512, '512'], [512, '0.5 GB'], [1024, '1GB'], [3072, '3 GB']];

const requestArb: fc.Arbitrary<PlacementRequest> = fc
  .record({
    count: fc.integer({ min: 1, max: 12 }),
    networkMode: fc.constantFrom('bridge', 'host', 'awsvpc', undefined),
    taskCpu: fc.option(fc.constantFrom(...TASK_CPU), { nil: undefined }),
    taskMemory: fc.option(fc.constantFrom(...TASK_MEMORY), { nil: undefined }),
    containers: fc.array(
      fc.record({
        cpu: fc.integer({ min: 0, max: 1024 }),
        memory: fc.integer({ min: 1, max: 1024 }),
        memoryReservation: fc.option(fc.integer({ min: 1, max: 1024 }), { nil: undefined }),
        mappings: fc.array(
          fc.record({ hostPort: fc.constantFrom(0, ...PORTS, undefined), protocol: fc.constantFrom('tcp', 'udp') }),
          { maxLength: 2 },
        ),
      }),
      { minLength: 1, maxLength: 3 },
    ),
    requiresEni: fc.boolean(),
    group: fc.constantFrom(undefined, 'service:api'),
    distinct: fc.boolean(),
    expressions: fc.subarray(EXPRESSIONS, { maxLength: 2 }),
    strategies: fc.array(fc.constantFrom(...STRATEGIES), { maxLength: 3 }),
  })
  .map((r) => {
    const request: PlacementRequest = {
    count: r.count,
    taskDefinition: {
      taskDefinitionArn: 'td',
      family: 'web',
      ...(r.networkMode !== undefined ? { networkMode: r.networkMode } : {}),
      ...(r.taskCpu ? { cpu: r.taskCpu[1] } : {}),
      ...(r.taskMemory ? { memory: r.taskMemory[1] } : {}),
      ...(r.requiresEni ? { requiresAttributes: [{ name: 'ecs.capability.task-eni' }] } : {}),
      containerDefinitions: r.containers.map((c, k) => ({
        name: `c${k}`,
        cpu: c.cpu,
        memory: c.memory,
        ...(c.memoryReservation !== undefined ? { memoryReservation: c.memoryReservation } : {}),
        portMappings: c.mappings.map((m, j) => ({
          containerPort: 1000 + 10 * k + j,
          ...(m.hostPort !== undefined ? { hostPort: m.hostPort } : {}),
          protocol: m.protocol,
        })),
      })),
    },
    ...(r.group !== undefined ? { group: r.group } : {}),
    placementConstraints: [
      ...(r.distinct ? [{ type: 'distinctInstance' }] : []),
      ...r.expressions.map((expression) => ({ type: 'memberOf', expression })),
    ],
    placementStrategy: r.strategies,
    };
    // ECS's documented rule, from the picked numbers: task-level sizes when set; else the sum of
    // container cpu, and of memoryReservation where set, else memory. Host ports: none under
    // awsvpc, the container port under host, else the host port (0 or absent: dynamic).
    expected.set(request, {
      cpu: r.taskCpu ? r.taskCpu[0] : r.containers.reduce((n, c) => n + c.cpu, 0),
      memory: r.taskMemory ? r.taskMemory[0] : r.containers.reduce((n, c) => n + (c.memoryReservation ?? c.memory), 0),
      hostPorts:
        r.networkMode === 'awsvpc'
          ? []
          : r.containers.flatMap((c, k) =>
              c.mappings.map((m, j) => ({ hostPort: r.networkMode === 'host' ? 1000 + 10 * k + j : (m.hostPort ?? 0), protocol: m.protocol as 'tcp' | 'udp' })),
            ),
    });
    return request;
  });

/** schedule(), or undefined when the cluster has no ACTIVE instance (checked separately). */
function plan(snapshot: ClusterSnapshot, request: PlacementRequest, seed: string): PlacementResult | undefined {
  try {
    return schedule(snapshot, request, { seed });
  } catch (error) {
    if (error instanceof NoContainerInstancesError) {
      assert.ok(snapshot.instances.every((i) => i.status !== 'ACTIVE'));
      return undefined;
    }
    throw error;
  }
}

/** Per instance: what it holds after the plan, recomputed from the snapshot. */
function finalState(snapshot: ClusterSnapshot, request: PlacementRequest, result: PlacementResult) {
  const reservation = expectedOf(request);
  const group = request.group ?? `family:${request.taskDefinition.family}`;
  return snapshot.instances.map((instance) => {
    const placed = result.placements.filter((p) => p.instanceArn === instance.arn).length;
    const tcp = [...instance.registered.ports];
    const udp = [...instance.registered.portsUdp];
    for (const task of instance.tasks) for (const b of task.hostPorts) (b.protocol === 'tcp' ? tcp : udp).push(b.port);
    const placedTcp: number[] = [];
    const placedUdp: number[] = [];
    for (let k = 0; k < placed; k++) {
      for (const b of reservation.hostPorts) if (b.hostPort !== 0) (b.protocol === 'tcp' ? placedTcp : placedUdp).push(b.hostPort);
    }
    return {
      instance,
      placed,
      cpuBefore: instance.tasks.reduce((s, t) => s + t.cpu, 0),
      memoryBefore: instance.tasks.reduce((s, t) => s + t.memory, 0),
      groupBefore: instance.tasks.filter((t) => taskGroupOf(t) === group).length,
      tcpBefore: new Set(tcp),
      udpBefore: new Set(udp),
      placedTcp,
      placedUdp,
      reservation,
      group,
    };
  });
}

/** A plain copy that keeps undefined values (fast-check builds some objects without a prototype). */
function deepCopy<T>(value: T): T {
  if (Array.isArray(value)) return value.map(deepCopy) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, deepCopy(v)])) as T;
  }
  return value;
}

const runs = { numRuns: 300, seed: 20261122 };

describe('scheduler properties', () => {
  it('never over-commits cpu, memory or host ports', () => {
    fc.assert(
      fc.property(snapshotArb, requestArb, fc.string(), (snapshot, request, seed) => {
        const result = plan(snapshot, request, seed);
        if (!result) return;
        for (const s of finalState(snapshot, request, result)) {
          if (s.placed === 0) continue;
          const { cpu, memory } = s.reservation;
          if (cpu > 0) assert.ok(s.cpuBefore + s.placed * cpu <= s.instance.registered.cpu, 'cpu over-committed');
          if (memory > 0) assert.ok(s.memoryBefore + s.placed * memory <= s.instance.registered.memory, 'memory over-committed');
          for (const [before, placed] of [
            [s.tcpBefore, s.placedTcp],
            [s.udpBefore, s.placedUdp],
          ] as const) {
            assert.equal(new Set(placed).size, placed.length, 'a static host port placed twice on one instance');
            assert.ok(placed.every((p) => !before.has(p)), 'a static host port already taken');
          }
        }
      }),
      runs,
    );
  });

  it('places only on ACTIVE, connected instances that satisfy every requirement and constraint', () => {
    fc.assert(
      fc.property(snapshotArb, requestArb, fc.string(), (snapshot, request, seed) => {
        const result = plan(snapshot, request, seed);
        if (!result) return;
        const expressions = (request.placementConstraints ?? []).filter((c) => c.type === 'memberOf').map((c) => c.expression!);
        const distinct = (request.placementConstraints ?? []).some((c) => c.type === 'distinctInstance');
        for (const s of finalState(snapshot, request, result)) {
          if (s.placed === 0) continue;
          assert.equal(s.instance.status, 'ACTIVE');
          assert.equal(s.instance.agentConnected, true);
          for (const r of request.taskDefinition.requiresAttributes ?? []) assert.ok(Object.hasOwn(s.instance.attributes, r.name));
          if (distinct) assert.ok(s.placed === 1 && s.groupBefore === 0, 'distinctInstance violated');
          // The expressions used here do not mention the request's own group, so the instance as it
          // was before the call decides them.
          const before = {
            instance: s.instance,
            taskGroups: () => new Set(s.instance.tasks.map(taskGroupOf)),
            runningTasksCount: () => s.instance.tasks.filter((t) => (t.lastStatus ?? 'RUNNING') === 'RUNNING').length,
          };
          for (const expression of expressions) {
            assert.ok(compileClusterQuery(parseClusterQuery(expression))(before), `memberOf ${expression} violated`);
          }
        }
      }),
      runs,
    );
  });

  it('places one task on an empty instance exactly when the task fits by its expected reservation', () => {
    // Catches a reservation rule that is too generous or too strict alike: the instance's size is
    // drawn around the expected reservation, so both sides of the boundary come up.
    const deltas = fc.record({ cpu: fc.integer({ min: -64, max: 64 }), memory: fc.integer({ min: -64, max: 64 }) });
    fc.assert(
      fc.property(requestArb, deltas, (generated, delta) => {
        const request = { ...generated, count: 1, placementConstraints: [], placementStrategy: [] };
        expected.set(request, expectedOf(generated));
        const want = expectedOf(request);
        const size = { cpu: Math.max(0, want.cpu + delta.cpu), memory: Math.max(1, want.memory + delta.memory) };
        const instance: InstanceView = {
          arn: 'only',
          ec2InstanceId: 'i-only',
          status: 'ACTIVE',
          agentConnected: true,
          attributes: { 'ecs.capability.task-eni': undefined },
          registered: { cpu: size.cpu, memory: size.memory, ports: [], portsUdp: [] },
          tasks: [],
        };
        const statics = (protocol: string) => want.hostPorts.filter((b) => b.protocol === protocol && b.hostPort !== 0).map((b) => b.hostPort);
        const portsOk = ['tcp', 'udp'].every((p) => new Set(statics(p)).size === statics(p).length);
        const fits = want.cpu <= size.cpu && want.memory <= size.memory && portsOk;
        const result = schedule({ instances: [instance] }, request, { seed: 's' });
        assert.equal(result.placements.length, fits ? 1 : 0, `expected ${JSON.stringify(want)} on ${JSON.stringify(size)}: ${JSON.stringify(result.failures)}`);
      }),
      runs,
    );
  });

  it('is deterministic: same snapshot, request and seed, same plan', () => {
    fc.assert(
      fc.property(snapshotArb, requestArb, fc.string(), (snapshot, request, seed) => {
        const copy = deepCopy(snapshot);
        assert.deepEqual(plan(copy, deepCopy(request), seed), plan(snapshot, request, seed));
        assert.deepEqual(deepCopy(snapshot), copy, 'the snapshot is not modified');
      }),
      runs,
    );
  });

  it('reports failures exactly when it places fewer than asked, with a reason that really holds', () => {
    fc.assert(
      fc.property(snapshotArb, requestArb, fc.string(), (snapshot, request, seed) => {
        const result = plan(snapshot, request, seed);
        if (!result) return;
        assert.ok(result.placements.length <= request.count);
        const active = snapshot.instances.filter((i) => i.status === 'ACTIVE');
        if (result.placements.length === request.count) {
          assert.deepEqual(result.failures, []);
          return;
        }
        assert.deepEqual(
          result.failures.map((x) => x.arn),
          active.map((i) => i.arn),
          'one failure per ACTIVE instance',
        );
        const states = new Map(finalState(snapshot, request, result).map((s) => [s.instance.arn, s]));
        for (const failure of result.failures) {
          const s = states.get(failure.arn!)!;
          const { cpu, memory, hostPorts } = s.reservation;
          const tcpTaken = new Set([...s.tcpBefore, ...s.placedTcp]);
          const udpTaken = new Set([...s.udpBefore, ...s.placedUdp]);
          const wantTcp = hostPorts.filter((b) => b.protocol === 'tcp' && b.hostPort !== 0).map((b) => b.hostPort);
          const wantUdp = hostPorts.filter((b) => b.protocol === 'udp' && b.hostPort !== 0).map((b) => b.hostPort);
          const holds: Record<string, () => boolean> = {
            AGENT: () => !s.instance.agentConnected,
            ATTRIBUTE: () => (request.taskDefinition.requiresAttributes ?? []).some((r) => !Object.hasOwn(s.instance.attributes, r.name)),
            'RESOURCE:CPU': () => s.instance.registered.cpu - s.cpuBefore - s.placed * cpu < cpu,
            'RESOURCE:MEMORY': () => s.instance.registered.memory - s.memoryBefore - s.placed * memory < memory,
            'RESOURCE:PORTS': () => new Set(wantTcp).size < wantTcp.length || wantTcp.some((p) => tcpTaken.has(p)),
            'RESOURCE:PORTS_UDP': () => new Set(wantUdp).size < wantUdp.length || wantUdp.some((p) => udpTaken.has(p)),
            'DistinctInstance placement constraint unsatisfied.': () => s.groupBefore + s.placed > 0,
            'MemberOf placement constraint unsatisfied.': () => (request.placementConstraints ?? []).some((c) => c.type === 'memberOf'),
          };
          const check = holds[failure.reason];
          assert.ok(check, `unknown reason ${failure.reason}`);
          assert.ok(check(), `${failure.reason} does not hold for ${failure.arn}`);
        }
      }),
      runs,
    );
  });

  it('picks the same instances whether it scans or keeps candidates sorted', () => {
    const scoringRequest = requestArb.chain((request) =>
      fc.record({
        count: fc.integer({ min: 1, max: 40 }),
        strategies: fc.array(fc.constantFrom(...STRATEGIES.filter((s) => s.type !== 'random')), { minLength: 1, maxLength: 3 }),
      }).map(({ count, strategies }) => ({ ...request, count, placementStrategy: strategies })),
    );
    fc.assert(
      fc.property(snapshotArb, scoringRequest, fc.string(), (snapshot, request, seed) => {
        if (!snapshot.instances.some((i) => i.status === 'ACTIVE')) return;
        const scan = schedule(snapshot, request, { seed, selection: 'scan' });
        const indexed = schedule(snapshot, request, { seed, selection: 'indexed' });
        assert.deepEqual(indexed, scan);
      }),
      runs,
    );
  });

  it('gives the same plans with a memo kept across calls as without one', () => {
    // A run of calls; after each, the placed tasks are added copy-on-write, as the contract asks.
    fc.assert(
      fc.property(snapshotArb, fc.array(requestArb, { minLength: 1, maxLength: 5 }), fc.string(), (snapshot, requests, seed) => {
        if (!snapshot.instances.some((i) => i.status === 'ACTIVE')) return;
        const memo = new SnapshotMemo();
        let instances = [...snapshot.instances];
        requests.forEach((request, n) => {
          const withMemo = schedule({ instances }, request, { seed: `${seed}/${n}`, memo });
          const without = schedule({ instances }, request, { seed: `${seed}/${n}` });
          assert.deepEqual(withMemo, without);
          const reservation = expectedOf(request);
          instances = instances.map((instance) => {
            const here = withMemo.placements.filter((p) => p.instanceArn === instance.arn);
            if (here.length === 0) return instance;
            const added = here.map((p, k) => ({
              arn: `${instance.arn}/placed-${n}-${k}`,
              family: request.taskDefinition.family,
              ...(request.group !== undefined ? { group: request.group } : {}),
              taskDefinitionArn: request.taskDefinition.taskDefinitionArn,
              cpu: reservation.cpu,
              memory: reservation.memory,
              hostPorts: p.hostPorts.filter((b) => b.hostPort !== 0).map((b) => ({ port: b.hostPort, protocol: b.protocol })),
            }));
            return { ...instance, tasks: [...instance.tasks, ...added] };
          });
          // Shuffle positions now and then: the memo must follow objects, not slots.
          if (n % 2 === 1) instances.reverse();
        });
      }),
      { ...runs, numRuns: 150 },
    );
  });
});
