/**
 * awslogs for the agent: opens each awslogs container's log stream before it starts (a missing
 * group fails the start as ECS's does), follows its output once it runs (ContainerLogFollower),
 * keeps one checkpoint file per container in the state dir, and tells the agent when a stopped
 * task's output is all shipped (its STOPPED report waits for that, within a bound).
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ContainerSpec, LogEventsRequest, LogStreamRequest, LogStreamResponse, TaskAssignment, TaskReport } from '../../protocol/index.js';
import type { Runtime } from '../runtime/runtime.js';
import type { LocalTask } from '../task-state.js';
import { compareCursors } from '../../core/log-cursor.js';
import { ContainerLogFollower } from './follower.js';

/** The two log calls of the agent protocol (AgentClient implements them). */
export interface LogCalls {
  openLogStream(body: LogStreamRequest): Promise<LogStreamResponse>;
  shipLogs(body: LogEventsRequest): Promise<{ accepted: number }>;
}

export interface LogShipperOptions {
  client: LogCalls;
  runtime: Runtime;
  stateDir: string;
  instanceArn: () => string | undefined;
  log: { warn(obj: object, msg?: string): void; error(obj: object, msg?: string): void };
  /** Called when a task's output has all been shipped (wakes the report sender). */
  onDrained?: () => void;
  /** How long a STOPPED report may wait for the task's output (default 15 s). */
  drainTimeoutMs?: number;
}

export const DEFAULT_MAX_BUFFER_BYTES = 1024 * 1024;

/** Docker's size notation (go-units RAMInBytes: 1024-based, k/m/g, optional b). */
export function parseBufferSize(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]?)i?b?$/i.exec(v.trim());
  if (!m) return undefined;
  const n = Number(m[1]) * 1024 ** ' kmg'.indexOf((m[2] || ' ').toLowerCase());
  return n >= 1 && n <= 1024 ** 3 ? Math.floor(n) : undefined;
}

export const usesAwslogs = (spec: ContainerSpec | undefined): boolean =>
  spec?.logConfiguration?.logDriver === 'awslogs' && !!spec.logConfiguration.options['awslogs-group'];

interface Entry {
  follower: ContainerLogFollower;
  taskArn: string;
}

export class LogShipper {
  private readonly followers = new Map<string, Entry>();
  /** When each task was first seen STOPPED with output still to ship (epoch ms). */
  private readonly stoppedAt = new Map<string, number>();
  private readonly dir: string;
  private closed = false;

  constructor(private readonly o: LogShipperOptions) {
    this.dir = join(o.stateDir, 'logs');
  }

  /**
   * Before an awslogs container starts: opens its stream (creating the group when
   * awslogs-create-group is true). Throws with ECS's wording when the group does not exist.
   */
  async prepare(task: TaskAssignment, spec: ContainerSpec, runtimeId: string): Promise<void> {
    if (!usesAwslogs(spec) || !this.o.runtime.logs) return;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.o.client.openLogStream(this.ref(task.taskArn, spec.name, runtimeId));
        return;
      } catch (e) {
        // A refusal (4xx) is final; a control plane out of reach gets two more tries, as the awslogs driver retries.
        const status = (e as { status?: number }).status;
        if ((status === undefined || status >= 500) && attempt < 3) {
          await new Promise((r) => setTimeout(r, 250 * attempt));
          continue;
        }
        const message = e instanceof Error ? e.message.replace(/^POST \/logs\/stream: \d+ /, '') : String(e);
        throw new Error(`Error response from daemon: failed to initialize logging driver: failed to create Cloudwatch log stream: ${message}`);
      }
    }
  }

  /** Starts following the awslogs containers that have started, and forgets tasks that are gone. */
  sync(tasks: ReadonlyMap<string, LocalTask>): void {
    if (this.closed || !this.o.runtime.logs) return;
    for (const task of tasks.values()) {
      for (const c of Object.values(task.containers)) {
        if (!c.runtimeId || c.startedAt === undefined || this.followers.has(c.runtimeId)) continue;
        const spec = task.spec.containers.find((s) => s.name === c.name);
        if (!usesAwslogs(spec)) continue;
        this.follow(task.arn, spec!, c.runtimeId);
      }
    }
    for (const [runtimeId, entry] of this.followers) {
      if (tasks.has(entry.taskArn)) continue;
      // The task was cleaned up (its containers removed): nothing more to read.
      this.followers.delete(runtimeId);
      void entry.follower.close();
      this.forgetCheckpoint(runtimeId);
      this.stoppedAt.delete(entry.taskArn);
    }
  }

  /** Whether a report must wait: the task is STOPPED but its output is not all shipped yet (bounded by drainTimeoutMs). */
  holdReport(report: TaskReport, nowMs = Date.now()): boolean {
    if (report.lastStatus !== 'STOPPED') return false;
    const pending = [...this.followers.values()].some((e) => e.taskArn === report.taskArn && !e.follower.finished);
    if (!pending) {
      this.stoppedAt.delete(report.taskArn);
      return false;
    }
    const since = this.stoppedAt.get(report.taskArn) ?? nowMs;
    this.stoppedAt.set(report.taskArn, since);
    return nowMs - since < (this.o.drainTimeoutMs ?? 15_000);
  }

  /** Stops following (no flush): the checkpoints say where the next agent run resumes. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.followers.values()].map((e) => e.follower.close()));
    this.followers.clear();
  }

  /** Lines shipped and dropped per container (tests, diagnostics). */
  stats(): { runtimeId: string; shipped: number; dropped: number; bufferedBytes: number }[] {
    return [...this.followers].map(([runtimeId, e]) => ({ runtimeId, shipped: e.follower.shipped, dropped: e.follower.dropped, bufferedBytes: e.follower.bufferedBytes }));
  }

  private ref(taskArn: string, container: string, runtimeId: string): LogStreamRequest {
    const containerInstanceArn = this.o.instanceArn();
    if (!containerInstanceArn) throw new Error('not registered yet');
    return { containerInstanceArn, taskArn, container, runtimeId };
  }

  private follow(taskArn: string, spec: ContainerSpec, runtimeId: string): void {
    const options = spec.logConfiguration!.options;
    const runtime = this.o.runtime;
    const follower = new ContainerLogFollower({
      mode: options.mode === 'non-blocking' ? 'non-blocking' : 'blocking',
      maxBufferBytes: parseBufferSize(options['max-buffer-size']) ?? DEFAULT_MAX_BUFFER_BYTES,
      open: (since, signal, follow) => runtime.logs!(runtimeId, since, signal, follow),
      ship: async (events) => {
        await this.o.client.shipLogs({ ...this.ref(taskArn, spec.name, runtimeId), events });
      },
      resumeAfter: async () => {
        // The later of our checkpoint and the control plane's cursor (a batch it stored whose answer we never saw).
        const remote = await this.o.client.openLogStream(this.ref(taskArn, spec.name, runtimeId));
        const local = this.loadCheckpoint(runtimeId);
        return compareCursors(local, remote.cursor) >= 0 ? local : remote.cursor;
      },
      saveCheckpoint: (cursor) => this.saveCheckpoint(runtimeId, cursor),
      exited: async () => {
        const s = await runtime.inspect(runtimeId);
        return !s || s.state === 'exited';
      },
      log: { warn: (obj, msg) => this.o.log.warn({ taskArn, container: spec.name, ...obj }, msg) },
    });
    this.followers.set(runtimeId, { follower, taskArn });
    void follower.done.then(() => {
      if (follower.finished) this.o.onDrained?.();
    });
  }

  private file(runtimeId: string): string {
    return join(this.dir, `${runtimeId.replace(/[^0-9a-zA-Z]/g, '')}.json`);
  }

  private loadCheckpoint(runtimeId: string): string | undefined {
    try {
      const saved = JSON.parse(readFileSync(this.file(runtimeId), 'utf8')) as { cursor?: unknown };
      return typeof saved.cursor === 'string' && /^\d{1,30}\.\d{1,9}$/.test(saved.cursor) ? saved.cursor : undefined;
    } catch {
      return undefined;
    }
  }

  private saveCheckpoint(runtimeId: string, cursor: string): void {
    try {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      const file = this.file(runtimeId);
      writeFileSync(`${file}.tmp`, JSON.stringify({ cursor }) + '\n');
      renameSync(`${file}.tmp`, file);
    } catch (e) {
      // The control plane's cursor still prevents duplicates; only the resume point is older.
      this.o.log.error({ err: String(e) }, 'saving a log checkpoint failed');
    }
  }

  private forgetCheckpoint(runtimeId: string): void {
    rmSync(this.file(runtimeId), { force: true });
  }

  /** Checkpoints of containers no longer known (removed while no agent ran): dropped once the first assignments are applied. */
  pruneCheckpoints(known: ReadonlySet<string>): void {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return;
    }
    for (const n of names) {
      const id = n.replace(/\.json$/, '');
      if (n.endsWith('.json') && !known.has(id) && !this.followers.has(id)) rmSync(join(this.dir, n), { force: true });
    }
  }
}
