/**
 * Scheduler benchmark: places 100,000 tasks on 5,000 simulated container instances, the way
 * the control plane would call schedule(): service reconciliations asking for hundreds of
 * tasks at a time and RunTask calls asking for 1–10, each call seeing the tasks placed by the
 * calls before it. Then it times RunTask-sized calls (count 10) against the full cluster.
 *
 * The fill and the count10* figures call schedule() alone, with a SnapshotMemo kept across calls
 * (count10NoMemo*: without one). The production* figures are what RunTask pays: the full cluster
 * is written into a SQLite store, and each call is one write transaction that builds the snapshot
 * from the store, schedules 10 tasks and inserts them, timed wall-clock:
 *   - productionKeptSnapshot*: the snapshot kept current by write notifications plus the cluster's
 *     memo (src/services/ecs/cluster-snapshots.ts, what RunTask does now);
 *   - productionFullRead*: every live task's columns read on each call and no memo (RunTask before).
 * The two alternate call by call.
 *
 *   node --import tsx bench/scheduler.ts [--instances 5000] [--tasks 100000] [--deadline-s 120]
 *                                        [--service-share 0.8] [--probe-calls 300] [--store-calls 60]
 *
 * Human-readable progress goes to stderr; the last line on stdout is one JSON object.
 * Bounded: it stops at the deadline and reports completed: false.
 */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import {
  schedule,
  SnapshotMemo,
  taskReservation,
  type InstanceView,
  type PlacementRequest,
  type PlacementStrategyView,
  type TaskDefinitionView,
  type TaskView,
} from '../src/scheduler/index.js';
import { percentile, round } from './lib/stats.js';
import { ClusterSnapshots } from '../src/services/ecs/cluster-snapshots.js';
import * as c from '../src/store/collections.js';
import { SqliteStore } from '../src/store/sqlite.js';

const { values: args } = parseArgs({
  options: {
    instances: { type: 'string', default: '5000' },
    tasks: { type: 'string', default: '100000' },
    'deadline-s': { type: 'string', default: '120' },
    'probe-calls': { type: 'string', default: '300' },
    'store-calls': { type: 'string', default: '60' },
    'service-share': { type: 'string', default: '0.8' },
  },
});
const INSTANCES = Number(args.instances);
const TASKS = Number(args.tasks);
const DEADLINE_MS = Number(args['deadline-s']) * 1000;
const PROBE_CALLS = Number(args['probe-calls']);

/** A small seeded generator for the workload (the scheduler gets its own seeds per call). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}
const rand = lcg(42);
const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;

// --- the cluster: a mix of instance types over three Availability Zones ---------------------
const INSTANCE_TYPES = [
  { type: 't3.medium', cpu: 2048, memory: 3840 },
  { type: 'm5.large', cpu: 2048, memory: 7680 },
  { type: 'm5.xlarge', cpu: 4096, memory: 15360 },
  { type: 'c5.2xlarge', cpu: 8192, memory: 15360 },
  { type: 'r5.large', cpu: 2048, memory: 15360 },
];
const AZS = ['us-east-1a', 'us-east-1b', 'us-east-1c'];

interface SimInstance extends InstanceView {
  readonly tasks: readonly TaskView[];
  readonly nextDynamicPort: number;
}

const instances: SimInstance[] = Array.from({ length: INSTANCES }, (_, n) => {
  const shape = pick(INSTANCE_TYPES);
  return {
    arn: `arn:aws:ecs:us-east-1:123456789012:container-instance/bench/${n.toString(16).padStart(32, '0')}`,
    ec2InstanceId: `i-${n.toString(16).padStart(17, '0')}`,
    status: rand() < 0.01 ? 'DRAINING' : 'ACTIVE',
    agentConnected: rand() > 0.005,
    attributes: {
      'ecs.os-type': 'linux',
      'ecs.cpu-architecture': 'x86_64',
      'ecs.instance-type': shape.type,
      'ecs.availability-zone': AZS[n % AZS.length],
      stack: rand() < 0.7 ? 'prod' : 'dev',
      'com.amazonaws.ecs.capability.docker-remote-api.1.41': undefined,
    },
    registered: { cpu: shape.cpu, memory: shape.memory, ports: [22, 2375, 2376, 51678, 51679], portsUdp: [] },
    tasks: [],
    nextDynamicPort: 32768,
  };
});

// --- the workload ----------------------------------------------------------------------------
function td(family: string, cpu: number, memory: number, ports: { containerPort: number; hostPort?: number }[]): TaskDefinitionView {
  return {
    taskDefinitionArn: `arn:aws:ecs:us-east-1:123456789012:task-definition/${family}:1`,
    family,
    networkMode: 'bridge',
    containerDefinitions: [
      { name: 'app', cpu, memoryReservation: memory, memory: memory * 2, portMappings: ports },
      { name: 'log-router', cpu: 0, memoryReservation: 32 },
    ],
  };
}

/** The share of tasks placed by service reconciliation; the rest come from RunTask calls. */
const SERVICE_SHARE = Number(args['service-share']);

const SPREAD_AZ_BINPACK_MEMORY: PlacementStrategyView[] = [
  { type: 'spread', field: 'attribute:ecs.availability-zone' },
  { type: 'binpack', field: 'memory' },
];

interface ServiceSpec {
  request: Omit<PlacementRequest, 'count'>;
  desired: number;
  running: number;
}

/** SERVICE_SHARE (80%) of the tasks come from 40 services, placed by a reconciler in batches of up to 500. */
const services: ServiceSpec[] = Array.from({ length: 40 }, (_, n) => {
  const staticPort = n % 10 === 0; // a few services bind a fixed host port (one task per instance)
  const constrained = n % 4 === 1; // some only run on prod instances of the m5/c5 families
  return {
    desired: Math.round((TASKS * SERVICE_SHARE) / 40),
    running: 0,
    request: {
      taskDefinition: td(`svc-${n}`, pick([64, 128, 128, 256]), pick([256, 384, 512]), [{ containerPort: 8080, hostPort: staticPort ? 8000 + n : 0 }]),
      group: `service:svc-${n}`,
      placementStrategy: SPREAD_AZ_BINPACK_MEMORY,
      placementConstraints: constrained
        ? [{ type: 'memberOf', expression: 'attribute:ecs.instance-type =~ (m5|c5)\\..* and attribute:stack == prod' }]
        : [],
    },
  };
});

/** The rest come from RunTask calls of 1–10 tasks with assorted strategies and constraints. */
const RUN_TASK_SHAPES: Omit<PlacementRequest, 'count'>[] = [
  { taskDefinition: td('batch', 64, 256, []) },
  { taskDefinition: td('batch', 64, 256, []), placementStrategy: [{ type: 'binpack', field: 'memory' }] },
  { taskDefinition: td('report', 128, 512, [{ containerPort: 9000 }]), placementStrategy: [{ type: 'spread', field: 'instanceId' }] },
  {
    taskDefinition: td('etl', 64, 384, []),
    placementStrategy: SPREAD_AZ_BINPACK_MEMORY,
    placementConstraints: [{ type: 'memberOf', expression: 'attribute:ecs.availability-zone in [us-east-1a, us-east-1b]' }],
  },
  { taskDefinition: td('cron', 64, 128, []), placementConstraints: [{ type: 'distinctInstance' }] },
];

/** How often each RunTask shape comes up: mostly plain batch jobs, a few one-per-host jobs. */
const RUN_TASK_WEIGHTS = [0, 0, 0, 1, 1, 2, 2, 3, 3, 4];

// --- the simulated control plane ---------------------------------------------------------------
// Copy-on-write, as a store-backed snapshot would be: a changed instance is a new object, so
// the memo's per-instance sums stay valid for all the others.
const indexByArn = new Map(instances.map((i, n) => [i.arn, n]));
const memo = new SnapshotMemo();
let taskSeq = 0;
let callSeq = 0;
let scheduleMs = 0;
/** CPU time (user + system) spent inside schedule(): steadier than wall time on a shared machine. */
let scheduleCpuUs = 0;
let calls = 0;
let placed = 0;
let failedTasks = 0;
let peakHeap = 0;
const callMs: number[] = [];

let lastFailures: Map<string, number> = new Map();
function call(request: PlacementRequest): number {
  const seed = `bench-${++callSeq}`;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const result = schedule({ instances }, request, { seed, memo });
  const elapsed = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  scheduleCpuUs += cpu.user + cpu.system;
  scheduleMs += elapsed;
  calls++;
  callMs.push(elapsed);
  // Apply the plan the way the control plane would record the new tasks.
  const reservation = taskReservation(request.taskDefinition, request.overrides);
  const group = request.group ?? `family:${request.taskDefinition.family}`;
  for (const placement of result.placements) {
    const n = indexByArn.get(placement.instanceArn)!;
    const instance = instances[n]!;
    let nextDynamicPort = instance.nextDynamicPort;
    const task: TaskView = {
      arn: `arn:aws:ecs:us-east-1:123456789012:task/bench/${(++taskSeq).toString(16)}`,
      family: request.taskDefinition.family,
      group,
      taskDefinitionArn: request.taskDefinition.taskDefinitionArn,
      cpu: reservation.cpu,
      memory: reservation.memory,
      // Docker picks dynamic host ports; they are then taken on that host.
      hostPorts: placement.hostPorts.map((b) => ({ port: b.hostPort === 0 ? nextDynamicPort++ : b.hostPort, protocol: b.protocol })),
      lastStatus: 'RUNNING',
    };
    instances[n] = { ...instance, tasks: [...instance.tasks, task], nextDynamicPort };
  }
  lastFailures = new Map();
  for (const f of result.failures) lastFailures.set(f.reason, (lastFailures.get(f.reason) ?? 0) + 1);
  placed += result.placements.length;
  failedTasks += request.count - result.placements.length;
  if (calls % 50 === 0) peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  return result.placements.length;
}

const LOAD_AT_START = loadavg()[0]!;
const started = performance.now();
const deadline = started + DEADLINE_MS;
let completed = true;
let runTaskShare = TASKS - services.reduce((s, svc) => s + svc.desired, 0);

// Interleave: each round reconciles one service batch or issues a few RunTask calls.
while (placed + failedTasks < TASKS) {
  if (performance.now() > deadline) {
    completed = false;
    break;
  }
  const pending = services.filter((s) => s.running < s.desired);
  if (pending.length > 0 && (runTaskShare <= 0 || rand() < 0.05)) {
    const service = pick(pending);
    const want = Math.min(500, service.desired - service.running);
    const got = call({ ...service.request, count: want });
    service.running += want; // a reconciler would retry shortfalls later; the benchmark moves on
    if (got < want) process.stderr.write(`service ${service.request.group}: placed ${got}/${want}; instances rejected: ${JSON.stringify(Object.fromEntries(lastFailures))}\n`);
  } else if (runTaskShare > 0) {
    const count = Math.min(runTaskShare, 1 + Math.floor(rand() * 10));
    runTaskShare -= count;
    call({ ...RUN_TASK_SHAPES[pick(RUN_TASK_WEIGHTS)]!, count });
  } else {
    break;
  }
}
const totalMs = performance.now() - started;
const fillCalls = calls;
const fillScheduleMs = scheduleMs;
const fillScheduleCpuMs = scheduleCpuUs / 1000;
const fillCallMs = [...callMs];

// --- RunTask-sized calls against the full cluster -----------------------------------------------
const probeMs: number[] = [];
const probeMsByShape: number[][] = RUN_TASK_SHAPES.map(() => []);
const probeCpu0 = process.cpuUsage();
for (let n = 0; n < PROBE_CALLS && performance.now() < deadline + 10_000; n++) {
  const shape = RUN_TASK_SHAPES[n % RUN_TASK_SHAPES.length]!;
  const t0 = performance.now();
  schedule({ instances }, { ...shape, count: 10 }, { seed: `probe-${n}`, memo });
  probeMs.push(performance.now() - t0);
  probeMsByShape[n % RUN_TASK_SHAPES.length]!.push(performance.now() - t0);
}
const probeCpu = process.cpuUsage(probeCpu0);
// The same calls without a memo: what a caller that rebuilds its snapshot every time pays.
const coldMs: number[] = [];
for (let n = 0; n < Math.min(PROBE_CALLS, 50) && performance.now() < deadline + 20_000; n++) {
  const shape = RUN_TASK_SHAPES[n % RUN_TASK_SHAPES.length]!;
  const t0 = performance.now();
  schedule({ instances }, { ...shape, count: 10 }, { seed: `cold-${n}` });
  coldMs.push(performance.now() - t0);
}

// --- what production pays: the snapshot built from the store, inside RunTask's write --------------
const STORE_CALLS = Number(args['store-calls']);
const CLUSTER_ARN = 'arn:aws:ecs:us-east-1:123456789012:cluster/bench';
const store = new SqliteStore(':memory:');
const storeLoad0 = performance.now();
for (let i = 0; i < instances.length; i += 100) {
  await store.write(async (tx) => {
    for (const instance of instances.slice(i, i + 100)) {
      await tx.insert(c.containerInstances, instance.arn, {
        accountId: '123456789012',
        region: 'us-east-1',
        containerInstanceArn: instance.arn,
        clusterArn: CLUSTER_ARN,
        ec2InstanceId: instance.ec2InstanceId,
        status: instance.status,
        agentConnected: instance.agentConnected,
        attributes: Object.entries(instance.attributes).map(([name, value]) => (value === undefined ? { name } : { name, value })),
        registeredResources: [
          { name: 'CPU', type: 'INTEGER', integerValue: instance.registered.cpu },
          { name: 'MEMORY', type: 'INTEGER', integerValue: instance.registered.memory },
          { name: 'PORTS', type: 'STRINGSET', stringSetValue: instance.registered.ports.map(String) },
          { name: 'PORTS_UDP', type: 'STRINGSET', stringSetValue: [] },
        ],
        versionInfo: {},
        registeredAt: 0,
      });
      for (const task of instance.tasks) await tx.insert(c.tasks, task.arn, storedTask(task, instance.arn));
    }
  });
}
const storeLoadMs = performance.now() - storeLoad0;

function storedTask(task: TaskView, instanceArn: string): c.TaskDoc {
  return {
    accountId: '123456789012',
    region: 'us-east-1',
    taskArn: task.arn,
    clusterArn: CLUSTER_ARN,
    taskDefinitionArn: task.taskDefinitionArn,
    placedOn: instanceArn,
    lastStatus: task.lastStatus ?? 'RUNNING',
    desiredStatus: 'RUNNING',
    family: task.family,
    group: task.group,
    containers: [],
    overrides: {},
    version: 1,
    createdAt: 0,
    reservedCpu: task.cpu,
    reservedMemory: task.memory,
    reservedPorts: task.hostPorts.map((p) => `${p.port}/${p.protocol}`),
  };
}

const snapshots = new ClusterSnapshots(store);
/** One RunTask-sized call as a store transaction: snapshot, schedule(count 10), insert the placed tasks. */
async function storeCall(n: number, kept: boolean): Promise<number> {
  const shape = RUN_TASK_SHAPES[n % RUN_TASK_SHAPES.length]!;
  const t0 = performance.now();
  await store.write(async (tx) => {
    if (!kept) snapshots.forget(CLUSTER_ARN);
    const snapshot = await snapshots.instances(tx, CLUSTER_ARN);
    const request = { ...shape, count: 10 };
    const plan = schedule({ instances: snapshot }, request, { seed: `store-${n}`, memo: kept ? snapshots.memo(CLUSTER_ARN, 'all') : undefined });
    const reservation = taskReservation(request.taskDefinition);
    for (const p of plan.placements) {
      const task: TaskView = { arn: `${CLUSTER_ARN}/store-${n}-${++taskSeq}`, family: shape.taskDefinition.family, taskDefinitionArn: shape.taskDefinition.taskDefinitionArn, cpu: reservation.cpu, memory: reservation.memory, hostPorts: [], lastStatus: 'PENDING' };
      await tx.insert(c.tasks, task.arn, storedTask(task, p.instanceArn));
    }
  });
  return performance.now() - t0;
}
const keptFirstMs = await storeCall(0, true); // loads the cluster's tasks once
const keptMs: number[] = [];
const fullReadMs: number[] = [];
for (let n = 1; n <= STORE_CALLS && performance.now() < deadline + 60_000; n++) {
  if (n % 2 === 0) keptMs.push(await storeCall(n, true));
  else fullReadMs.push(await storeCall(n, false));
}
await store.close();

function describeShape(shape: Omit<PlacementRequest, 'count'>): string {
  const strategy = (shape.placementStrategy ?? [{ type: 'random' }]).map((s) => (s.field ? `${s.type}:${s.field}` : s.type)).join('+');
  const constraints = (shape.placementConstraints ?? []).map((c) => c.type).join('+');
  return `${shape.taskDefinition.family} ${strategy}${constraints ? ` ${constraints}` : ''}`;
}

const memory = process.memoryUsage();
peakHeap = Math.max(peakHeap, memory.heapUsed);
const usedCpu = instances.reduce((s, i) => s + i.tasks.reduce((t, task) => t + task.cpu, 0), 0);
const usedMemory = instances.reduce((s, i) => s + i.tasks.reduce((t, task) => t + task.memory, 0), 0);
const capacity = instances.reduce((s, i) => ({ cpu: s.cpu + i.registered.cpu, memory: s.memory + i.registered.memory }), { cpu: 0, memory: 0 });

const results = {
  bench: 'scheduler',
  completed,
  instances: INSTANCES,
  serviceShare: SERVICE_SHARE,
  tasksRequested: TASKS,
  tasksPlaced: placed,
  tasksUnplaced: failedTasks,
  scheduleCalls: fillCalls,
  totalMs: round(totalMs),
  scheduleMs: round(fillScheduleMs),
  scheduleCpuMs: round(fillScheduleCpuMs),
  tasksPerSecond: Math.round(placed / (fillScheduleMs / 1000)),
  tasksPerCpuSecond: Math.round(placed / (fillScheduleCpuMs / 1000)),
  callMsP50: round(percentile(fillCallMs, 50)),
  callMsP99: round(percentile(fillCallMs, 99)),
  callMsMax: round(percentile(fillCallMs, 100)),
  count10OnFullClusterMsP50: round(percentile(probeMs, 50)),
  count10OnFullClusterMsP99: round(percentile(probeMs, 99)),
  count10Calls: probeMs.length,
  count10MsP50ByShape: Object.fromEntries(RUN_TASK_SHAPES.map((shape, k) => [describeShape(shape), round(percentile(probeMsByShape[k]!, 50))])),
  count10CpuMsMean: round(probeCpu.user / 1000 / Math.max(1, probeMs.length) + probeCpu.system / 1000 / Math.max(1, probeMs.length)),
  count10NoMemoMsP50: round(percentile(coldMs, 50)),
  count10NoMemoMsP99: round(percentile(coldMs, 99)),
  storeTasks: placed,
  storeLoadMs: round(storeLoadMs),
  productionKeptSnapshotFirstCallMs: round(keptFirstMs),
  productionKeptSnapshotMsP50: round(percentile(keptMs, 50)),
  productionKeptSnapshotMsP99: round(percentile(keptMs, 99)),
  productionFullReadNoMemoMsP50: round(percentile(fullReadMs, 50)),
  productionFullReadNoMemoMsP99: round(percentile(fullReadMs, 99)),
  productionCalls: keptMs.length + fullReadMs.length,
  loadAverage1mAtStart: round(LOAD_AT_START, 2),
  clusterCpuUsedPct: round((100 * usedCpu) / capacity.cpu, 1),
  clusterMemoryUsedPct: round((100 * usedMemory) / capacity.memory, 1),
  peakRssMB: round(process.resourceUsage().maxRSS / 1024, 1),
  peakHeapMB: round(peakHeap / 1024 / 1024, 1),
  node: process.version,
};
process.stderr.write(
  `placed ${placed}/${TASKS} tasks on ${INSTANCES} instances in ${fillCalls} calls: schedule() ${round(fillScheduleMs / 1000)} s ` +
    `(${results.tasksPerSecond} tasks/s; CPU ${round(fillScheduleCpuMs / 1000)} s), wall ${round(totalMs / 1000)} s; ` +
    `count=10 on the full cluster p50 ${results.count10OnFullClusterMsP50} ms (no memo ${results.count10NoMemoMsP50} ms); ` +
    `as RunTask through the store p50 ${results.productionKeptSnapshotMsP50} ms (full read, no memo ${results.productionFullReadNoMemoMsP50} ms); load ${results.loadAverage1mAtStart}\n`,
);
process.stdout.write(`${JSON.stringify(results)}\n`);
