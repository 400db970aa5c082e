/**
 * SIMULATED runtime — for scale tests and benchmarks ONLY (Nomad's mock driver idea). It runs no
 * containers: pulls, creates and starts succeed after configurable delays, and "containers" run
 * until stopped (or for `runForMs`, then exit with `exitCode`). Never wire it into `up`.
 */
import type { ContainerSpec, RegistryAuth, TaskAssignment } from '../../protocol/index.js';
import type { TaskSetupInfo } from '../task-state.js';
import type { ContainerContext, Runtime, RuntimeContainer, RuntimeEvent, RuntimeInfo } from './runtime.js';

export interface SimulatedRuntimeOptions {
  cpus?: number;
  memoryMiB?: number;
  /** Per-step latency, ms. */
  pullMs?: number;
  createMs?: number;
  startMs?: number;
  /** If set, every container exits on its own after this long. */
  runForMs?: number;
  exitCode?: number;
  /** Images whose pull fails. */
  failPulls?: readonly string[];
  /** Synthetic resource use of each running container (see SimulatedRuntime.usage). */
  usage?: SimulatedUsage;
}

/** Who a simulated container is, for deciding its synthetic resource use. */
export interface SimulatedContainerInfo {
  taskArn: string;
  family: string;
  name: string;
  environment: ReadonlyMap<string, string>;
}

/**
 * A container's synthetic use: `cpuPercent` of one core (100 = one core busy), memory in MiB,
 * network and block I/O bytes per second. Undefined fields fall back to the container's
 * DOCKYARD_SIM_CPU_PERCENT / DOCKYARD_SIM_MEMORY_MIB environment variables, then to 0 (memory: 16 MiB).
 */
export type SimulatedUsage = (c: SimulatedContainerInfo) => { cpuPercent?: number; memoryMiB?: number; networkBytesPerSec?: number; diskBytesPerSec?: number } | undefined;

interface SimCounters {
  info: SimulatedContainerInfo;
  at: number;
  cpuNs: number;
  systemNs: number;
  netBytes: number;
  diskBytes: number;
}

const sleep = (ms: number) => (ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve());

export class SimulatedRuntime implements Runtime {
  private readonly containers = new Map<string, RuntimeContainer>();
  private readonly listeners = new Set<(e: RuntimeEvent) => void>();
  private readonly counters = new Map<string, SimCounters>();
  private seq = 0;
  private nextPort = 32768;
  /** Changeable at any time: the next stats reading uses it for the time since the previous one. */
  usage: SimulatedUsage | undefined;

  constructor(private readonly o: SimulatedRuntimeOptions = {}) {
    this.usage = o.usage;
  }

  async info(): Promise<RuntimeInfo> {
    return { cpus: this.o.cpus ?? 4, memoryMiB: this.o.memoryMiB ?? 16384, serverVersion: 'simulated', apiVersion: '1.41', architecture: 'x86_64', os: 'linux' };
  }

  async pull(image: string, _auth: RegistryAuth | undefined): Promise<{ imageDigest?: string }> {
    await sleep(this.o.pullMs ?? 0);
    if (this.o.failPulls?.includes(image)) throw new Error(`simulated pull failure for ${image}`);
    return { imageDigest: 'sha256:' + '0'.repeat(64) };
  }

  async setupTask(task: TaskAssignment): Promise<TaskSetupInfo> {
    return task.networkMode === 'awsvpc' ? { privateIp: `10.0.${(this.seq >> 8) & 255}.${this.seq++ & 255}`, macAddress: '02:42:ac:11:00:02', networkBindings: [] } : {};
  }

  async create(spec: ContainerSpec, ctx: ContainerContext): Promise<string> {
    await sleep(this.o.createMs ?? 0);
    const id = `sim${(this.seq++).toString(16).padStart(12, '0')}`;
    this.containers.set(id, {
      runtimeId: id,
      taskArn: ctx.task.taskArn,
      name: spec.name,
      role: 'container',
      state: 'created',
      health: spec.healthCheck ? 'HEALTHY' : 'UNKNOWN',
      networkBindings: spec.portMappings.map((p) => ({ bindIP: '127.0.0.1', containerPort: p.containerPort, hostPort: p.hostPort || this.nextPort++, protocol: p.protocol })),
    });
    const info = { taskArn: ctx.task.taskArn, family: ctx.task.family, name: spec.name, environment: new Map(spec.environment.map((e) => [e.name, e.value ?? ''])) };
    // The host's CPU counter starts where a booted host's would be, never at 0 (Docker's "not running").
    this.counters.set(id, { info, at: Date.now(), cpuNs: 0, systemNs: 1e12, netBytes: 0, diskBytes: 0 });
    return id;
  }

  async start(runtimeId: string): Promise<RuntimeContainer> {
    await sleep(this.o.startMs ?? 0);
    const c = this.must(runtimeId);
    c.state = 'running';
    c.startedAt = Date.now() / 1000;
    if (this.o.runForMs !== undefined) {
      setTimeout(() => this.exit(runtimeId, this.o.exitCode ?? 0), this.o.runForMs).unref();
    }
    return { ...c };
  }

  async stop(runtimeId: string): Promise<void> {
    this.exit(runtimeId, 143);
  }

  async inspect(runtimeId: string): Promise<RuntimeContainer | undefined> {
    const c = this.containers.get(runtimeId);
    return c && { ...c };
  }

  /** Docker-shaped stats whose counters advance at the container's synthetic use since the previous reading. */
  async stats(runtimeId: string): Promise<Record<string, unknown>> {
    const c = this.containers.get(runtimeId);
    const k = this.counters.get(runtimeId);
    if (!c || !k) throw new Error(`no such simulated container ${runtimeId}`);
    const cpus = this.o.cpus ?? 4;
    const now = Date.now();
    const running = c.state === 'running';
    const u = (running && this.usage?.(k.info)) || {};
    const env = (name: string) => (k.info.environment.has(name) ? Number(k.info.environment.get(name)) || 0 : undefined);
    const elapsedNs = Math.max(0, now - k.at) * 1e6;
    k.at = now;
    k.systemNs += elapsedNs * cpus;
    if (running) {
      const pct = Math.min(Math.max(u.cpuPercent ?? env('DOCKYARD_SIM_CPU_PERCENT') ?? 0, 0), cpus * 100);
      k.cpuNs += (elapsedNs * pct) / 100;
      k.netBytes += ((u.networkBytesPerSec ?? 0) * elapsedNs) / 1e9;
      k.diskBytes += ((u.diskBytesPerSec ?? 0) * elapsedNs) / 1e9;
    }
    const memory = running ? (u.memoryMiB ?? env('DOCKYARD_SIM_MEMORY_MIB') ?? 16) * 1048576 : 0;
    return {
      read: new Date(now).toISOString(),
      cpu_stats: running ? { cpu_usage: { total_usage: Math.round(k.cpuNs) }, system_cpu_usage: Math.round(k.systemNs), online_cpus: cpus } : { cpu_usage: { total_usage: 0 } },
      memory_stats: running ? { usage: memory, stats: { inactive_file: 0 } } : {},
      networks: { eth0: { rx_bytes: Math.round(k.netBytes), tx_bytes: Math.round(k.netBytes / 2) } },
      blkio_stats: { io_service_bytes_recursive: [{ op: 'read', value: Math.round(k.diskBytes) }, { op: 'write', value: Math.round(k.diskBytes / 2) }] },
    };
  }

  async teardownTask(): Promise<void> {}

  async cleanupTask(_task: TaskAssignment | undefined, _taskArn: string, runtimeIds: readonly string[]): Promise<void> {
    for (const id of runtimeIds) {
      this.containers.delete(id);
      this.counters.delete(id);
    }
  }

  async list(): Promise<RuntimeContainer[]> {
    return [...this.containers.values()].map((c) => ({ ...c }));
  }

  watch(onEvent: (e: RuntimeEvent) => void): () => void {
    this.listeners.add(onEvent);
    return () => this.listeners.delete(onEvent);
  }

  private exit(runtimeId: string, code: number): void {
    const c = this.containers.get(runtimeId);
    if (!c || c.state === 'exited') return;
    c.state = 'exited';
    c.exitCode = code;
    for (const l of this.listeners) l({ runtimeId, kind: 'exited' });
  }

  private must(id: string): RuntimeContainer {
    const c = this.containers.get(id);
    if (!c) throw new Error(`no such simulated container ${id}`);
    return c;
  }
}
