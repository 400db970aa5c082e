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
}

const sleep = (ms: number) => (ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve());

export class SimulatedRuntime implements Runtime {
  private readonly containers = new Map<string, RuntimeContainer>();
  private readonly listeners = new Set<(e: RuntimeEvent) => void>();
  private seq = 0;
  private nextPort = 32768;

  constructor(private readonly o: SimulatedRuntimeOptions = {}) {}

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

  async teardownTask(): Promise<void> {}

  async cleanupTask(_task: TaskAssignment | undefined, _taskArn: string, runtimeIds: readonly string[]): Promise<void> {
    for (const id of runtimeIds) this.containers.delete(id);
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
