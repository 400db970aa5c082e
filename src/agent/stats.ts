/**
 * Task stats (agent protocol 1.3): every interval the agent reads each running task container's
 * counters from the runtime (Docker's stats JSON, one-shot), turns two consecutive readings into
 * what the container used over the interval, sums a task's containers, and sends the samples to
 * the control plane in bounded batches.
 */
import { MAX_STATS_SAMPLES, type TaskStatsSample } from '../protocol/index.js';
import type { Runtime } from './runtime/runtime.js';
import type { AgentLogger } from './supervisor.js';
import type { LocalTask } from './task-state.js';

/** The counters of one container at one instant, from Docker's stats JSON. Cumulative except memory. */
export interface ContainerReading {
  /** Epoch ms of the reading. */
  at: number;
  /** ns of CPU the container used, and ns of CPU the whole host spent (all CPUs), since boot. */
  cpuTotalNs: number;
  systemCpuNs: number;
  onlineCpus: number;
  memoryBytes: number;
  rxBytes: number;
  txBytes: number;
  readBytes: number;
  writeBytes: number;
}

interface DockerStats {
  read?: string;
  cpu_stats?: { cpu_usage?: { total_usage?: number; percpu_usage?: number[] | null }; system_cpu_usage?: number; online_cpus?: number };
  memory_stats?: { usage?: number; stats?: Record<string, number> };
  networks?: Record<string, { rx_bytes?: number; tx_bytes?: number }>;
  blkio_stats?: { io_service_bytes_recursive?: { op?: string; value?: number }[] | null };
}

/**
 * Memory in use as `docker stats` shows it: usage minus the inactive page cache, which the kernel
 * reclaims first (cgroup v2 `inactive_file`, cgroup v1 `total_inactive_file`).
 */
export function memoryInUse(memory: DockerStats['memory_stats']): number {
  const usage = memory?.usage ?? 0;
  const s = memory?.stats ?? {};
  const inactive = s.total_inactive_file !== undefined && s.total_inactive_file < usage ? s.total_inactive_file : s.inactive_file !== undefined && s.inactive_file < usage ? s.inactive_file : 0;
  return usage - inactive;
}

/** A reading from Docker's stats JSON; undefined when the container is not running (Docker answers zeros). */
export function readingOf(json: Record<string, unknown>, fallbackAt = Date.now()): ContainerReading | undefined {
  const s = json as DockerStats;
  const cpu = s.cpu_stats;
  if (!cpu?.system_cpu_usage) return undefined;
  const at = Date.parse(s.read ?? '');
  const nets = Object.values(s.networks ?? {});
  const blk = s.blkio_stats?.io_service_bytes_recursive ?? [];
  const op = (name: string) => blk.filter((e) => e.op?.toLowerCase() === name).reduce((n, e) => n + (e.value ?? 0), 0);
  return {
    at: at > 0 ? at : fallbackAt,
    cpuTotalNs: cpu.cpu_usage?.total_usage ?? 0,
    systemCpuNs: cpu.system_cpu_usage,
    onlineCpus: cpu.online_cpus || cpu.cpu_usage?.percpu_usage?.length || 1,
    memoryBytes: memoryInUse(s.memory_stats),
    rxBytes: nets.reduce((n, x) => n + (x.rx_bytes ?? 0), 0),
    txBytes: nets.reduce((n, x) => n + (x.tx_bytes ?? 0), 0),
    readBytes: op('read'),
    writeBytes: op('write'),
  };
}

/** What a container used between two readings. Counters that went backwards (a restart) count as 0. */
export interface Usage {
  /** CPU units (1024 = one core busy) on average over the interval. */
  cpuUnits: number;
  memoryMiB: number;
  rxBytes: number;
  txBytes: number;
  readBytes: number;
  writeBytes: number;
  intervalSec: number;
}

/**
 * As the ECS agent and `docker stats`: the container's share of the host's CPU time over the
 * interval (Δ container ns / Δ host ns, where the host counts every CPU), times the online CPUs,
 * is the number of cores it kept busy; × 1024 gives CPU units.
 */
export function usageBetween(prev: ContainerReading, cur: ContainerReading): Usage | undefined {
  const dSystem = cur.systemCpuNs - prev.systemCpuNs;
  if (dSystem <= 0) return undefined;
  const dCpu = Math.max(0, cur.cpuTotalNs - prev.cpuTotalNs);
  const delta = (a: number, b: number) => Math.max(0, b - a);
  return {
    cpuUnits: Math.min((dCpu / dSystem) * cur.onlineCpus, cur.onlineCpus) * 1024,
    memoryMiB: cur.memoryBytes / 1048576,
    rxBytes: delta(prev.rxBytes, cur.rxBytes),
    txBytes: delta(prev.txBytes, cur.txBytes),
    readBytes: delta(prev.readBytes, cur.readBytes),
    writeBytes: delta(prev.writeBytes, cur.writeBytes),
    intervalSec: Math.max(0.001, (cur.at - prev.at) / 1000),
  };
}

/** Most samples kept while the control plane cannot be reached; the oldest go first. */
export const MAX_PENDING_SAMPLES = 10_000;
/**
 * Stats requests in flight at once by default. Docker answers a one-shot request at its stats
 * collector's next tick (up to 1 s away) and collects every waiting container in that tick, so
 * many requests in flight cost no more daemon work than few, and a round takes about a second
 * per `concurrency` containers.
 */
export const DEFAULT_STATS_CONCURRENCY = 64;

export interface StatsCollectorDeps {
  runtime: Runtime;
  tasks: ReadonlyMap<string, LocalTask>;
  send: (samples: TaskStatsSample[]) => Promise<void>;
  log: AgentLogger;
  /** Stats requests in flight at once (DEFAULT_STATS_CONCURRENCY). */
  concurrency?: number;
}

export class StatsCollector {
  /** The previous reading of each sampled container, by runtime id. */
  private readonly last = new Map<string, ContainerReading>();
  private pending: TaskStatsSample[] = [];
  dropped = 0;

  constructor(private readonly deps: StatsCollectorDeps) {}

  /** One sampling round: reads every running task container once; returns the tasks' samples (none for a container's first reading). */
  async sample(): Promise<TaskStatsSample[]> {
    const stats = this.deps.runtime.stats;
    if (!stats) return [];
    const jobs: { task: LocalTask; runtimeId: string; networkOnly: boolean }[] = [];
    for (const task of this.deps.tasks.values()) {
      if (task.desired !== 'RUNNING') continue;
      const running = Object.values(task.containers).filter((c) => c.known === 'RUNNING' && c.runtimeId);
      if (running.length === 0) continue;
      for (const c of running) jobs.push({ task, runtimeId: c.runtimeId!, networkOnly: false });
      // Containers that share the pause container's network namespace have no network counters of their own.
      if (task.setupInfo?.pauseId) jobs.push({ task, runtimeId: task.setupInfo.pauseId, networkOnly: true });
    }
    const usages = new Map<LocalTask, { usage: Usage; networkOnly: boolean }[]>();
    const seen = new Set<string>();
    let next = 0;
    const worker = async () => {
      while (next < jobs.length) {
        const job = jobs[next++]!;
        seen.add(job.runtimeId);
        let reading: ContainerReading | undefined;
        try {
          reading = readingOf(await stats.call(this.deps.runtime, job.runtimeId, { oneShot: true }));
        } catch {
          continue; // gone between the listing and the read: the next round forgets it
        }
        if (!reading) continue;
        const prev = this.last.get(job.runtimeId);
        this.last.set(job.runtimeId, reading);
        const usage = prev && usageBetween(prev, reading);
        if (!usage) continue;
        const list = usages.get(job.task) ?? [];
        list.push({ usage, networkOnly: job.networkOnly });
        usages.set(job.task, list);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.deps.concurrency ?? DEFAULT_STATS_CONCURRENCY, jobs.length) }, worker));
    for (const id of this.last.keys()) if (!seen.has(id)) this.last.delete(id);
    const samples: TaskStatsSample[] = [];
    for (const [task, list] of usages) {
      const own = list.filter((u) => !u.networkOnly);
      if (own.length === 0) continue;
      const sum = (f: (u: Usage) => number, from = own) => from.reduce((n, u) => n + f(u.usage), 0);
      samples.push({
        taskArn: task.arn,
        timestamp: Math.floor(Date.now() / 1000),
        cpuUnits: sum((u) => u.cpuUnits),
        memoryMiB: sum((u) => u.memoryMiB),
        networkRxBytes: sum((u) => u.rxBytes, list),
        networkTxBytes: sum((u) => u.txBytes, list),
        storageReadBytes: sum((u) => u.readBytes),
        storageWriteBytes: sum((u) => u.writeBytes),
        intervalSec: Math.max(...own.map((u) => u.usage.intervalSec)),
      });
    }
    return samples;
  }

  /** Samples, queues (bounded) and sends in batches of at most MAX_STATS_SAMPLES; unsent samples wait for the next round. */
  async round(): Promise<void> {
    this.pending.push(...(await this.sample()));
    if (this.pending.length > MAX_PENDING_SAMPLES) {
      this.dropped += this.pending.length - MAX_PENDING_SAMPLES;
      this.pending = this.pending.slice(-MAX_PENDING_SAMPLES);
    }
    while (this.pending.length > 0) {
      const batch = this.pending.slice(0, MAX_STATS_SAMPLES);
      try {
        await this.deps.send(batch);
      } catch (e) {
        this.deps.log.warn({ err: String(e), samples: this.pending.length }, 'sending task stats failed; will retry');
        return;
      }
      this.pending = this.pending.slice(batch.length);
    }
  }
}
