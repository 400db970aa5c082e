/**
 * The host agent: registers this host as a container instance, heartbeats, long-polls its
 * assignments, runs them through the supervisor and sends reports from the outbox. Talks to the
 * control plane only through protocol v1 (client.ts).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { PROTOCOL_VERSION, type TaskAssignment } from '../protocol/index.js';
import { AgentClient, ProtocolHttpError } from './client.js';
import { hostAttributes, hostResources, localHostname, type HostOptions } from './host.js';
import { Outbox } from './outbox.js';
import type { Runtime } from './runtime/runtime.js';
import { Supervisor, type AgentLogger } from './supervisor.js';

export const AGENT_VERSION = '0.1.0';

export interface AgentOptions {
  endpoint: string;
  cluster: string;
  /** Where the agent keeps its instance id (and nothing else: the rest is re-read from Docker). */
  stateDir: string;
  runtime: Runtime;
  log: AgentLogger;
  host?: Partial<HostOptions>;
  cleanupDelayMs?: number;
  /** Assignments long-poll length. */
  pollWaitMs?: number;
  /** How often running containers are re-inspected in case an event was missed. */
  resyncIntervalMs?: number;
}

/** Sleeps `ms`, or less if `signal` aborts; removes its abort listener either way (loops call this forever). */
const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener('abort', done);
  });

export class Agent {
  readonly instanceId: string;
  containerInstanceArn: string | undefined;
  readonly supervisor: Supervisor;
  private readonly client: AgentClient;
  private readonly outbox = new Outbox();
  private readonly stop = new AbortController();
  private readonly loops: Promise<void>[] = [];
  private unwatch: (() => void) | undefined;
  private heartbeatMs = 10_000;
  private flushWake: (() => void) | undefined;
  /** Set when the control plane deregistered this instance. */
  inactive = false;

  constructor(private readonly o: AgentOptions) {
    this.instanceId = loadInstanceId(o.stateDir);
    this.client = new AgentClient(o.endpoint.replace(/\/$/, ''));
    this.supervisor = new Supervisor({
      runtime: o.runtime,
      instanceId: this.instanceId,
      cleanupDelayMs: o.cleanupDelayMs ?? 60 * 60_000,
      log: o.log,
      publish: (r) => {
        this.outbox.put(r);
        this.flushWake?.();
      },
      acknowledged: (arn) => !this.outbox.has(arn),
    });
  }

  /** Adopts what is running, registers, and starts the loops. Resolves once registered. */
  async start(): Promise<void> {
    const found = await this.supervisor.adopt();
    if (found) this.o.log.info({ containers: found }, 'found containers from a previous run');
    this.unwatch = this.o.runtime.watch((e) => this.supervisor.onRuntimeEvent(e));
    await this.register();
    this.loops.push(this.heartbeatLoop(), this.assignmentsLoop(), this.flushLoop(), this.resyncLoop());
  }

  /**
   * The control plane's state was reset: remove every task's containers now (no stop timeout, no
   * cleanup delay) and register again, so the host is a container instance at once. Only the
   * embedded agent is told directly; an agent elsewhere finds its instance gone at its next call.
   */
  async reset(): Promise<number> {
    // The store is already empty: registering need not wait for the containers to go.
    const [removed] = await Promise.all([this.supervisor.removeAll(), this.register()]);
    return removed;
  }

  /** Stops the loops. Containers keep running: the next agent start re-adopts them. */
  async close(): Promise<void> {
    this.stop.abort();
    this.flushWake?.();
    this.unwatch?.();
    this.supervisor.close();
    await Promise.allSettled(this.loops);
    await this.client.close();
  }

  private async register(): Promise<void> {
    const info = await this.o.runtime.info();
    const host: HostOptions = { fargateCapacity: false, ...this.o.host };
    for (let attempt = 0; !this.stop.signal.aborted; attempt++) {
      try {
        const res = await this.client.register({
          protocolVersion: PROTOCOL_VERSION,
          instanceId: this.instanceId,
          cluster: this.o.cluster,
          hostname: localHostname(),
          resources: hostResources(info, host),
          attributes: hostAttributes(info, host),
          versionInfo: { agentVersion: AGENT_VERSION, dockerVersion: `DockerVersion: ${info.serverVersion}` },
        });
        this.containerInstanceArn = res.containerInstanceArn;
        this.heartbeatMs = res.heartbeatIntervalMs;
        this.inactive = false;
        this.o.log.info({ containerInstanceArn: res.containerInstanceArn }, 'registered');
        return;
      } catch (e) {
        // A version or input problem, or a cluster that does not exist: retrying cannot fix them.
        if (e instanceof ProtocolHttpError && (e.status === 400 || e.code === 'ClusterNotFound')) throw e;
        this.o.log.warn({ err: String(e) }, 'register failed; retrying');
        await sleep(Math.min(5000, 200 * 2 ** attempt), this.stop.signal);
      }
    }
  }

  private async handleLoopError(e: unknown, attempt: number): Promise<void> {
    if (e instanceof ProtocolHttpError && e.code === 'UnknownInstance') await this.register();
    else if (e instanceof ProtocolHttpError && e.code === 'InstanceInactive') {
      if (!this.inactive) this.o.log.error({}, 'this container instance was deregistered; stopping its tasks');
      this.inactive = true;
      this.supervisor.applyAssignments([]);
    }
    await sleep(Math.min(5000, 100 * 2 ** Math.min(attempt, 6)), this.stop.signal);
  }

  private async heartbeatLoop(): Promise<void> {
    let failures = 0;
    while (!this.stop.signal.aborted) {
      try {
        await this.client.heartbeat(this.containerInstanceArn!);
        failures = 0;
        await sleep(this.heartbeatMs, this.stop.signal);
      } catch (e) {
        if (this.stop.signal.aborted) return;
        await this.handleLoopError(e, failures++);
      }
    }
  }

  private async assignmentsLoop(): Promise<void> {
    let index = 0;
    let digest = '';
    let failures = 0;
    while (!this.stop.signal.aborted) {
      try {
        const res = await this.client.assignments(
          { containerInstanceArn: this.containerInstanceArn!, index, digest, waitMs: this.o.pollWaitMs ?? 30_000 },
          this.stop.signal,
        );
        failures = 0;
        index = res.index;
        digest = res.digest;
        this.applyAssignments(res.tasks);
      } catch (e) {
        if (this.stop.signal.aborted) return;
        digest = '';
        await this.handleLoopError(e, failures++);
      }
    }
  }

  /** Exposed for the latency benchmark's timestamps. */
  onAssignments: ((tasks: readonly TaskAssignment[]) => void) | undefined;

  private applyAssignments(tasks: TaskAssignment[]): void {
    this.onAssignments?.(tasks);
    this.supervisor.applyAssignments(tasks);
  }

  private async flushLoop(): Promise<void> {
    let failures = 0;
    while (!this.stop.signal.aborted) {
      if (this.outbox.size === 0) {
        await new Promise<void>((resolve) => {
          this.flushWake = resolve;
          const t = setTimeout(resolve, 5000);
          t.unref();
        });
        this.flushWake = undefined;
        continue;
      }
      const batch = this.outbox.batch(200);
      try {
        const res = await this.client.reports(this.containerInstanceArn!, batch);
        this.outbox.acknowledge(batch, [...res.acknowledged, ...res.unknown]);
        failures = 0;
      } catch (e) {
        if (this.stop.signal.aborted) return;
        this.o.log.warn({ err: String(e), reports: batch.length }, 'sending reports failed; will retry');
        await this.handleLoopError(e, failures++);
      }
    }
  }

  private async resyncLoop(): Promise<void> {
    while (!this.stop.signal.aborted) {
      await sleep(this.o.resyncIntervalMs ?? 15_000, this.stop.signal);
      if (this.stop.signal.aborted) return;
      await this.supervisor.resync().catch((e) => this.o.log.warn({ err: String(e) }, 'resync failed'));
    }
  }
}

/** The instance id this agent registers with, created once and kept in the state dir. */
export function loadInstanceId(stateDir: string): string {
  const file = join(stateDir, 'instance.json');
  try {
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { instanceId?: string };
    if (saved.instanceId) return saved.instanceId;
  } catch {
    // first start
  }
  mkdirSync(stateDir, { recursive: true });
  const instanceId = randomUUID().replaceAll('-', '');
  writeFileSync(file, JSON.stringify({ instanceId }) + '\n');
  return instanceId;
}
