/**
 * The serving half of the data plane in worker processes (node:cluster), one per CPU by default:
 * one Node thread proxying spends most of its time in socket writes, so a second process doubles
 * what a two-core host can serve. Each worker runs a ListenerRuntime (src/lb/worker.ts); their
 * listening sockets are shared through the cluster primary (this process) with SCHED_NONE, so
 * every worker accepts on the same socket and the kernel spreads the connections, as with nginx's
 * workers. Configuration snapshots and health changes go to every worker over IPC; workers report
 * what they have applied, their bound ports and the in-flight requests of draining targets every
 * half second, and send their counters when asked. A worker that dies is replaced.
 *
 * Workers start with the first listener, so a Dockyard without load balancers forks nothing.
 */
import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { ServingHalf } from './index.js';
import type { DataPlaneLog, DataPlaneSnapshot, HealthMap } from './listeners.js';
import { mergeStats, type PeriodStats } from './stats.js';

/** Primary → worker. */
export type ToWorker = { type: 'apply'; snapshot: DataPlaneSnapshot } | { type: 'health'; health: HealthMap } | { type: 'elsewhere'; inflight: Record<string, number> } | { type: 'stats'; id: number } | { type: 'close' };
/** Worker → primary. */
export type FromWorker =
  | { type: 'ready' }
  | { type: 'report'; version: number; bound: number[]; inflight: Record<string, number> }
  | { type: 'stats'; id: number; stats: PeriodStats }
  | { type: 'log'; level: 'info' | 'error'; obj: object; msg: string };

interface Member {
  worker: Worker;
  /** Listening for messages (those sent before are lost). */
  ready: boolean;
  version: number;
  bound: number[];
  inflight: Record<string, number>;
  /** The last 'elsewhere' sent to it (JSON), to send only changes. */
  elsewhere: string;
}

const WAIT_MS = 10_000;

/** How a worker is started: the compiled worker.js, or worker.ts through tsx when running the sources. */
function workerSetup(): { exec: string; execArgv: string[] } {
  const ts = import.meta.url.endsWith('.ts');
  const exec = fileURLToPath(new URL(ts ? './worker.ts' : './worker.js', import.meta.url));
  // The parent's node flags minus the test runner's and inspector's (profiling flags stay: --cpu-prof covers the workers too).
  const execArgv = process.execArgv.filter((a) => !/^--(test|inspect|watch)/.test(a));
  if (ts && !execArgv.some((a) => a.includes('tsx'))) execArgv.push('--import', import.meta.resolve('tsx'));
  return { exec, execArgv };
}

export class WorkerPool implements ServingHalf {
  private readonly members = new Set<Member>();
  private latest: DataPlaneSnapshot | undefined;
  private started = false;
  private closing = false;
  private statsId = 0;
  private readonly statsWaiters = new Map<number, { pending: Set<Member>; stats: PeriodStats; resolve: () => void }>();
  private readonly changed = new Set<() => void>();

  static defaultSize(): number {
    return availableParallelism();
  }

  /** Workers that exited before they were ready, in a row. */
  private failedStarts = 0;

  constructor(
    private readonly size: number,
    private readonly log: DataPlaneLog,
    /** Workers cannot start (three in a row died before they were ready): the caller serves otherwise. */
    private readonly unusable: () => void,
  ) {}

  private startWorkers(): void {
    this.started = true;
    // Every worker accepts on the shared socket itself (the default, round robin, would accept here and pass each connection on).
    cluster.schedulingPolicy = cluster.SCHED_NONE;
    cluster.setupPrimary({ ...workerSetup(), silent: false });
    for (let i = 0; i < this.size; i++) this.fork();
  }

  private fork(): void {
    const m: Member = { worker: cluster.fork(), ready: false, version: 0, bound: [], inflight: {}, elsewhere: '{}' };
    this.members.add(m);
    m.worker.on('message', (msg: FromWorker) => this.received(m, msg));
    m.worker.on('exit', (code, signal) => {
      this.members.delete(m);
      for (const w of this.statsWaiters.values()) if (w.pending.delete(m) && w.pending.size === 0) w.resolve();
      this.notify();
      if (this.closing) return;
      this.failedStarts = m.ready ? 0 : this.failedStarts + 1;
      if (this.failedStarts >= 3) {
        this.log.error({ code, signal }, 'load balancer workers cannot start; serving listeners in the Dockyard process');
        void this.close().then(this.unusable);
        return;
      }
      this.log.error({ pid: m.worker.process.pid, code, signal }, 'load balancer worker exited; starting another');
      setTimeout(() => !this.closing && this.fork(), 1_000).unref();
    });
  }

  private send(m: Member, msg: ToWorker): void {
    if (m.ready && m.worker.isConnected()) m.worker.send(msg, (err: Error | null) => err && this.log.error({ err: String(err) }, 'could not reach a load balancer worker'));
  }

  private received(m: Member, msg: FromWorker): void {
    if (msg.type === 'ready') {
      m.ready = true;
      if (this.latest) this.send(m, { type: 'apply', snapshot: this.latest });
    } else if (msg.type === 'report') {
      m.version = msg.version;
      m.bound = msg.bound;
      m.inflight = msg.inflight;
      this.shareInflight();
      this.notify();
    } else if (msg.type === 'stats') {
      const w = this.statsWaiters.get(msg.id);
      if (!w) return;
      mergeStats(w.stats, msg.stats);
      if (w.pending.delete(m) && w.pending.size === 0) w.resolve();
    } else if (msg.type === 'log') {
      this.log[msg.level]({ ...msg.obj, worker: m.worker.process.pid }, msg.msg);
    }
  }

  /** Tells each worker what the others have in flight (least outstanding requests across workers). */
  private shareInflight(): void {
    for (const m of this.members) {
      const others: Record<string, number> = {};
      for (const o of this.members) if (o !== m) for (const [k, n] of Object.entries(o.inflight)) others[k] = (others[k] ?? 0) + n;
      const json = JSON.stringify(others);
      if (json === m.elsewhere) continue;
      m.elsewhere = json;
      this.send(m, { type: 'elsewhere', inflight: others });
    }
  }

  private notify(): void {
    for (const f of [...this.changed]) f();
  }

  /** Resolves when `done()` holds (checked on every report), when closing, or after WAIT_MS. */
  private until(done: () => boolean): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        if (!done() && !this.closing) return;
        finish();
      };
      const finish = () => {
        clearTimeout(timer);
        this.changed.delete(check);
        resolve();
      };
      const timer = setTimeout(finish, WAIT_MS);
      this.changed.add(check);
    });
  }

  async apply(snapshot: DataPlaneSnapshot): Promise<void> {
    this.latest = snapshot;
    if (!this.started) {
      if (snapshot.listeners.length === 0) return;
      this.startWorkers();
    }
    for (const m of this.members) this.send(m, { type: 'apply', snapshot });
    await this.until(() => this.members.size > 0 && [...this.members].every((m) => m.version >= snapshot.version));
  }

  setHealth(health: HealthMap): void {
    if (this.latest) this.latest = { ...this.latest, health };
    for (const m of this.members) this.send(m, { type: 'health', health });
  }

  drainingInflight(version: number): Record<string, number> | undefined {
    if (!this.started) return {};
    if (this.members.size === 0 || [...this.members].some((m) => m.version < version)) return undefined;
    const sum: Record<string, number> = {};
    for (const m of this.members) for (const [k, n] of Object.entries(m.inflight)) sum[k] = (sum[k] ?? 0) + n;
    return sum;
  }

  boundPorts(): number[] {
    if (this.members.size === 0) return [];
    // A port counts as bound once every worker serves it.
    const [first, ...rest] = [...this.members];
    return first!.bound.filter((p) => rest.every((m) => m.bound.includes(p)));
  }

  workerPids(): number[] {
    return [...this.members].filter((m) => m.ready).map((m) => m.worker.process.pid!);
  }

  async takeStats(): Promise<PeriodStats> {
    const stats: PeriodStats = { lbs: {}, groups: {} };
    if (this.members.size === 0) return stats;
    const id = ++this.statsId;
    const pending = new Set([...this.members].filter((m) => m.ready));
    if (pending.size === 0) return stats;
    const done = new Promise<void>((resolve) => this.statsWaiters.set(id, { pending, stats, resolve }));
    for (const m of this.members) this.send(m, { type: 'stats', id });
    await Promise.race([done, new Promise((r) => setTimeout(r, WAIT_MS).unref())]);
    this.statsWaiters.delete(id);
    return stats;
  }

  async close(): Promise<void> {
    this.closing = true;
    this.notify();
    await Promise.all(
      [...this.members].map(
        (m) =>
          new Promise<void>((resolve) => {
            if (m.worker.isDead()) return resolve();
            const timer = setTimeout(() => {
              m.worker.process.kill('SIGKILL');
              resolve();
            }, 5_000);
            m.worker.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            if (m.ready) this.send(m, { type: 'close' });
            else m.worker.process.kill();
          }),
      ),
    );
  }
}
