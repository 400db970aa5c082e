import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TaskAssignment, TaskStatsSample } from '../protocol/index.js';
import { SimulatedRuntime } from './runtime/simulated.js';
import { MAX_PENDING_SAMPLES, memoryInUse, readingOf, StatsCollector, usageBetween } from './stats.js';
import { newLocalTask, type LocalTask } from './task-state.js';
import { containerSpec } from './testing.js';

/** Docker's stats JSON (the fields used), as a 2-CPU host answers it. */
const docker = (o: { read: string; total: number; system: number; usage?: number; inactive?: number; v1?: boolean; rx?: number; tx?: number; r?: number; w?: number }) => ({
  read: o.read,
  cpu_stats: { cpu_usage: { total_usage: o.total }, system_cpu_usage: o.system, online_cpus: 2 },
  memory_stats: { usage: o.usage ?? 0, stats: o.v1 ? { total_inactive_file: o.inactive ?? 0 } : { inactive_file: o.inactive ?? 0 } },
  networks: { eth0: { rx_bytes: o.rx ?? 0, tx_bytes: o.tx ?? 0 }, eth1: { rx_bytes: 1, tx_bytes: 1 } },
  blkio_stats: { io_service_bytes_recursive: [{ op: o.v1 ? 'Read' : 'read', value: o.r ?? 0 }, { op: o.v1 ? 'Write' : 'write', value: o.w ?? 0 }, { op: 'Total', value: 9 }] },
});

describe('task stats computation', () => {
  it('CPU: Δ container ns ÷ Δ host ns × online CPUs, in CPU units', () => {
    // 10 s of wall time on 2 CPUs: the host spent 20e9 ns; the container 5e9 ns = half a core.
    const a = readingOf(docker({ read: '2026-01-01T00:00:00Z', total: 1e9, system: 100e9 }))!;
    const b = readingOf(docker({ read: '2026-01-01T00:00:10Z', total: 6e9, system: 120e9 }))!;
    const u = usageBetween(a, b)!;
    assert.equal(u.cpuUnits, 512);
    assert.equal(u.intervalSec, 10);
    // Two cores busy on a 2-CPU host: 2048 units, never more than the host has.
    assert.equal(usageBetween(a, { ...b, cpuTotalNs: 1e9 + 20e9 })!.cpuUnits, 2048);
    assert.equal(usageBetween(a, { ...b, cpuTotalNs: 1e9 + 30e9 })!.cpuUnits, 2048);
    // No host time passed (same reading twice): no sample.
    assert.equal(usageBetween(a, a), undefined);
    // A counter that went backwards (restarted container) counts as nothing used.
    assert.equal(usageBetween(b, { ...a, systemCpuNs: 130e9 })!.cpuUnits, 0);
  });

  it('memory: usage minus the inactive file cache (cgroup v1 and v2)', () => {
    assert.equal(memoryInUse({ usage: 100, stats: { inactive_file: 30 } }), 70);
    assert.equal(memoryInUse({ usage: 100, stats: { total_inactive_file: 40, inactive_file: 5 } }), 60);
    assert.equal(memoryInUse({ usage: 100, stats: { inactive_file: 300 } }), 100);
    assert.equal(memoryInUse(undefined), 0);
    const r = readingOf(docker({ read: '2026-01-01T00:00:00Z', total: 0, system: 1, usage: 64 * 1048576, inactive: 16 * 1048576, v1: true }))!;
    assert.equal(r.memoryBytes, 48 * 1048576);
  });

  it('network and block I/O: deltas of the summed counters', () => {
    const a = readingOf(docker({ read: '2026-01-01T00:00:00Z', total: 0, system: 1e9, rx: 100, tx: 50, r: 10, w: 20, v1: true }))!;
    const b = readingOf(docker({ read: '2026-01-01T00:00:20Z', total: 0, system: 2e9, rx: 1100, tx: 250, r: 4106, w: 8212, v1: true }))!;
    const u = usageBetween(a, b)!;
    assert.deepEqual([u.rxBytes, u.txBytes, u.readBytes, u.writeBytes], [1000, 200, 4096, 8192]);
  });

  it('a stopped container (Docker answers zeros) gives no reading', () => {
    assert.equal(readingOf({ read: '0001-01-01T00:00:00Z', cpu_stats: { cpu_usage: { total_usage: 0 } }, memory_stats: {} }), undefined);
  });
});

const assignment = (arn: string, env: { name: string; value: string }[] = []): TaskAssignment => ({
  taskArn: arn,
  clusterArn: 'arn:cluster',
  taskDefinitionArn: 'arn:td',
  family: 'web',
  desiredStatus: 'RUNNING',
  networkMode: 'bridge',
  volumes: [],
  containers: [containerSpec('app', { environment: env }), containerSpec('side')],
});

async function runningTask(rt: SimulatedRuntime, a: TaskAssignment): Promise<LocalTask> {
  const t = newLocalTask(a);
  for (const spec of a.containers) {
    const id = await rt.create(spec, { task: a, setup: undefined, siblings: new Map() });
    await rt.start(id);
    t.containers[spec.name] = { ...t.containers[spec.name]!, known: 'RUNNING', runtimeId: id };
  }
  return t;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('stats collector over the simulated runtime', () => {
  it('samples each task once per round, summing its containers; the CPU knob drives the CPU', async () => {
    const rt = new SimulatedRuntime({ cpus: 2, usage: (c) => (c.name === 'app' ? { cpuPercent: c.family === 'web' ? 50 : 0, memoryMiB: 100 } : { memoryMiB: 28 }) });
    const tasks = new Map<string, LocalTask>();
    tasks.set('t1', await runningTask(rt, assignment('t1')));
    const sent: TaskStatsSample[][] = [];
    const log = { info() {}, warn() {}, error() {}, debug() {} };
    const collector = new StatsCollector({ runtime: rt, tasks, log, send: async (s) => void sent.push(s) });
    assert.deepEqual(await collector.sample(), [], 'the first reading has nothing to compare with');
    await sleep(30);
    const [s] = await collector.sample();
    assert.equal(s!.taskArn, 't1');
    assert.ok(Math.abs(s!.cpuUnits - 512) < 1, `half a core: ${s!.cpuUnits}`);
    assert.equal(s!.memoryMiB, 128);
    // The knob changes at once; the environment variable is the fallback.
    rt.usage = undefined;
    tasks.set('t2', await runningTask(rt, assignment('t2', [{ name: 'DOCKYARD_SIM_CPU_PERCENT', value: '150' }])));
    await collector.sample();
    await sleep(30);
    const byArn = new Map((await collector.sample()).map((x) => [x.taskArn, x]));
    assert.ok(byArn.get('t1')!.cpuUnits < 1);
    assert.ok(Math.abs(byArn.get('t2')!.cpuUnits - 1536) < 2, `1.5 cores: ${byArn.get('t2')!.cpuUnits}`);
    // A task being stopped is not sampled.
    tasks.get('t2')!.desired = 'STOPPED';
    await sleep(5);
    assert.deepEqual((await collector.sample()).map((x) => x.taskArn), ['t1']);
  });

  it('keeps at most MAX_PENDING_SAMPLES while sending fails, and sends them in bounded batches', async () => {
    const rt = new SimulatedRuntime({ usage: () => ({ cpuPercent: 10 }) });
    const tasks = new Map<string, LocalTask>([['t1', await runningTask(rt, assignment('t1'))]]);
    let fail = true;
    const batches: number[] = [];
    const log = { info() {}, warn() {}, error() {}, debug() {} };
    const collector = new StatsCollector({ runtime: rt, tasks, log, send: async (s) => (fail ? Promise.reject(new Error('down')) : void batches.push(s.length)) });
    // Fill the queue directly: one round yields one sample per task.
    (collector as unknown as { pending: TaskStatsSample[] }).pending = Array.from({ length: MAX_PENDING_SAMPLES + 50 }, () => ({ taskArn: 't1', timestamp: 1, cpuUnits: 0, memoryMiB: 0, networkRxBytes: 0, networkTxBytes: 0, storageReadBytes: 0, storageWriteBytes: 0, intervalSec: 1 }));
    await collector.round();
    assert.equal((collector as unknown as { pending: unknown[] }).pending.length, MAX_PENDING_SAMPLES);
    assert.ok(collector.dropped >= 50);
    fail = false;
    await sleep(5);
    await collector.round();
    assert.ok(batches.length >= 10 && batches.every((n) => n <= 1000), `batches ${batches}`);
    assert.equal((collector as unknown as { pending: unknown[] }).pending.length, 0);
  });
});
