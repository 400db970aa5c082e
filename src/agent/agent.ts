/**
 * The host agent: registers this host as a container instance, heartbeats, long-polls its
 * assignments, runs them through the supervisor and sends reports from the outbox. Talks to the
 * control plane only through protocol v1 (client.ts).
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { PROTOCOL_VERSION, type RegisterRequest, type RegisterResponse, type RoleCredentials, type TaskAssignment } from '../protocol/index.js';
import { AgentClient, ProtocolHttpError, type AgentClientOptions } from './client.js';
import { hostAttributes, hostResources, localHostname, type HostOptions } from './host.js';
import { LogShipper } from './logs/shipper.js';
import { Outbox } from './outbox.js';
import { StatsCollector } from './stats.js';
import type { Runtime } from './runtime/runtime.js';
import { Supervisor, type AgentLogger } from './supervisor.js';
import { TaskEndpoint, type TaskEndpointOptions } from './task-endpoint/server.js';

export const AGENT_VERSION = '0.1.0';

export interface AgentOptions {
  endpoint: string;
  cluster: string;
  /** Where the agent keeps its instance id and its credential (the rest is re-read from Docker). */
  stateDir: string;
  /** Join token for the first registration, used when the state dir holds no credential yet. */
  joinToken?: string;
  /** A credential handed over in-process (the embedded agent); never written to the state dir. */
  credential?: string;
  /** How to trust an https endpoint. */
  tls?: AgentClientOptions;
  runtime: Runtime;
  log: AgentLogger;
  host?: Partial<HostOptions>;
  cleanupDelayMs?: number;
  /** Assignments long-poll length. */
  pollWaitMs?: number;
  /** How often running containers are re-inspected in case an event was missed. */
  resyncIntervalMs?: number;
  /** Serve the task metadata (v4) and task credentials endpoints to this agent's tasks (absent: none). */
  taskEndpoint?: TaskEndpointOptions;
  /** How often running tasks' stats are sampled and sent (default 20 000, as the ECS agent; 0: never). */
  statsIntervalMs?: number;
}

/** Exponential backoff with jitter (half fixed, half random), so agents that lost the control plane together do not return together. */
export const backoffMs = (attempt: number, baseMs: number, capMs = 5000): number => {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 20));
  return ceiling / 2 + Math.random() * (ceiling / 2);
};

/** Registration problems that retrying cannot fix. */
export class AgentSetupError extends Error {}

const TLS_TRUST_ERRORS = new Set(['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_UNTRUSTED']);

function isFatal(e: unknown): boolean {
  if (e instanceof AgentSetupError) return true;
  // A version or input problem, a refused token or credential, a cluster that does not exist.
  if (e instanceof ProtocolHttpError) return e.status === 400 || e.status === 401 || e.status === 403 || e.code === 'ClusterNotFound';
  // A control plane whose certificate is not the one trusted: retrying would not change that.
  const code = (e as { code?: string; cause?: { code?: string } }).code ?? (e as { cause?: { code?: string } }).cause?.code;
  return code !== undefined && TLS_TRUST_ERRORS.has(code);
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
  /** The task metadata and credentials endpoints, when configured. */
  readonly taskEndpoint: TaskEndpoint | undefined;
  /** Ships awslogs containers' output to the control plane. */
  readonly logs: LogShipper;
  /** Samples running tasks' resource use and sends it (protocol 1.3). */
  readonly stats: StatsCollector;
  private readonly client: AgentClient;
  private readonly outbox = new Outbox();
  private readonly stop = new AbortController();
  private readonly loops: Promise<void>[] = [];
  private unwatch: (() => void) | undefined;
  private heartbeatMs = 10_000;
  private flushWake: (() => void) | undefined;
  private checkpointsPruned = false;
  /** The control plane answered task-stats with 404: it speaks a protocol before 1.3. Reset on registering. */
  private statsUnsupported = false;
  /** Set when the control plane deregistered this instance. */
  inactive = false;

  constructor(private readonly o: AgentOptions) {
    this.instanceId = loadInstanceId(o.stateDir);
    this.client = new AgentClient(o.endpoint.replace(/\/$/, ''), o.tls);
    this.client.credential = o.credential ?? loadCredential(o.stateDir);
    this.supervisor = new Supervisor({
      runtime: o.runtime,
      instanceId: this.instanceId,
      cleanupDelayMs: o.cleanupDelayMs ?? 60 * 60_000,
      log: o.log,
      publish: (r) => {
        this.outbox.put(r);
        this.logs.sync(this.supervisor.tasks);
        this.flushWake?.();
      },
      acknowledged: (arn) => !this.outbox.has(arn),
      containerEnv: (task, name) => this.taskEndpoint?.containerEnv(task, name) ?? [],
      fetchSecrets: (task) => this.client.taskSecrets(this.containerInstanceArn!, task.taskArn),
      beforeStart: (task, spec, runtimeId) => this.logs.prepare(task, spec, runtimeId),
    });
    this.logs = new LogShipper({
      client: this.client,
      runtime: o.runtime,
      stateDir: o.stateDir,
      instanceArn: () => this.containerInstanceArn,
      log: o.log,
      onDrained: () => this.flushWake?.(),
    });
    this.stats = new StatsCollector({
      runtime: o.runtime,
      tasks: this.supervisor.tasks,
      log: o.log,
      send: async (samples) => {
        if (!this.containerInstanceArn || this.statsUnsupported) return;
        try {
          await this.client.taskStats(this.containerInstanceArn, samples);
        } catch (e) {
          // A control plane before protocol 1.3 has no task-stats call (a 404 that is not the protocol's UnknownInstance): drop the samples, stop sending.
          if (!(e instanceof ProtocolHttpError && e.status === 404 && e.code !== 'UnknownInstance')) throw e;
          this.statsUnsupported = true;
          o.log.warn({}, 'the control plane does not take task stats (agent protocol before 1.3); not sending them');
        }
      },
    });
    this.taskEndpoint = o.taskEndpoint
      ? new TaskEndpoint(o.taskEndpoint, { stateDir: o.stateDir, tasks: this.supervisor.tasks, runtime: o.runtime, log: o.log, availabilityZone: o.host?.availabilityZone ?? 'local-1a' })
      : undefined;
  }

  /** Adopts what is running, registers, and starts the loops. Resolves once registered. */
  async start(): Promise<void> {
    if (this.taskEndpoint) {
      try {
        await this.taskEndpoint.start();
      } catch (e) {
        // Tasks still run; they get no metadata or credentials endpoint (and the instance does not offer task roles).
        this.o.log.error({ err: String(e) }, 'the task metadata and credentials endpoints could not start; tasks run without them');
      }
    }
    const found = await this.supervisor.adopt();
    if (found) this.o.log.info({ containers: found }, 'found containers from a previous run');
    this.unwatch = this.o.runtime.watch((e) => this.supervisor.onRuntimeEvent(e));
    await this.register();
    this.loops.push(this.heartbeatLoop(), this.assignmentsLoop(), this.flushLoop(), this.resyncLoop(), this.statsLoop());
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
    await this.logs.close();
    await this.taskEndpoint?.close();
    await this.client.close();
  }

  private async register(): Promise<void> {
    const info = await this.o.runtime.info();
    const host: HostOptions = { fargateCapacity: false, ...this.o.host, taskRoles: this.taskEndpoint?.listening ?? false };
    for (let attempt = 0; !this.stop.signal.aborted; attempt++) {
      try {
        const res = await this.registerOnce({
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
        this.statsUnsupported = false;
        this.inactive = false;
        this.o.log.info({ containerInstanceArn: res.containerInstanceArn }, 'registered');
        return;
      } catch (e) {
        if (isFatal(e)) throw e;
        this.o.log.warn({ err: String(e) }, 'register failed; retrying');
        await sleep(backoffMs(attempt, 200), this.stop.signal);
      }
    }
  }

  /** With the saved credential if there is one; else (or if this control plane does not know it) with the join token. */
  private async registerOnce(body: RegisterRequest): Promise<RegisterResponse> {
    if (this.client.credential) {
      try {
        return await this.client.register(body);
      } catch (e) {
        const refused = e instanceof ProtocolHttpError && (e.status === 401 || e.status === 403);
        if (!refused || !this.o.joinToken || this.o.credential) throw e;
        this.o.log.warn({ err: e.message }, 'the saved credential was refused; joining again with the join token');
      }
    }
    if (!this.o.joinToken) {
      throw new AgentSetupError(`No agent credential in ${this.o.stateDir} and no join token: join with --token (or DOCKYARD_JOIN_TOKEN), created by 'dockyard join-token create'.`);
    }
    const res = await this.client.register(body, this.o.joinToken);
    if (!res.credential) throw new AgentSetupError('The control plane accepted the join token but issued no credential.');
    this.client.credential = res.credential;
    saveCredential(this.o.stateDir, res.credential, res.containerInstanceArn);
    return res;
  }

  private async handleLoopError(e: unknown, attempt: number): Promise<void> {
    if (e instanceof ProtocolHttpError && e.code === 'UnknownInstance') {
      await this.register().catch((err: unknown) => this.o.log.error({ err: String(err) }, 'registering again failed'));
    }
    else if (e instanceof ProtocolHttpError && e.code === 'InstanceInactive') {
      if (!this.inactive) this.o.log.error({}, 'this container instance was deregistered; stopping its tasks');
      this.inactive = true;
      this.supervisor.applyAssignments([]);
      this.taskEndpoint?.setCredentials([], []);
    } else if (e instanceof ProtocolHttpError && (e.status === 401 || e.status === 403)) {
      this.o.log.error({ err: e.message }, 'the control plane refused this agent\'s credential');
    }
    await sleep(backoffMs(attempt, 100), this.stop.signal);
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
        this.applyAssignments(res.tasks, res.roleCredentials ?? []);
      } catch (e) {
        if (this.stop.signal.aborted) return;
        digest = '';
        await this.handleLoopError(e, failures++);
      }
    }
  }

  /** Exposed for the latency benchmark's timestamps. */
  onAssignments: ((tasks: readonly TaskAssignment[]) => void) | undefined;

  private applyAssignments(tasks: TaskAssignment[], roleCredentials: RoleCredentials[]): void {
    this.onAssignments?.(tasks);
    this.taskEndpoint?.setCredentials(tasks, roleCredentials);
    this.supervisor.applyAssignments(tasks);
    this.logs.sync(this.supervisor.tasks);
    if (!this.checkpointsPruned) {
      // Once the first assignments claimed what was adopted: checkpoints of containers gone meanwhile go too.
      this.checkpointsPruned = true;
      this.logs.pruneCheckpoints(new Set([...this.supervisor.tasks.values()].flatMap((t) => Object.values(t.containers).flatMap((c) => (c.runtimeId ? [c.runtimeId] : [])))));
    }
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
      // A task's STOPPED report waits until its awslogs output is shipped (bounded; see LogShipper.holdReport).
      const batch = this.outbox.batch(500).filter((r) => !this.logs.holdReport(r)).slice(0, 200);
      if (batch.length === 0) {
        await sleep(250, this.stop.signal);
        continue;
      }
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

  private async statsLoop(): Promise<void> {
    const interval = this.o.statsIntervalMs ?? 20_000;
    if (interval <= 0) return;
    while (!this.stop.signal.aborted) {
      await sleep(interval, this.stop.signal);
      if (this.stop.signal.aborted || this.inactive) continue;
      await this.stats.round().catch((e) => this.o.log.warn({ err: String(e) }, 'sampling task stats failed'));
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

/** The agent's credential, kept owner-readable only (0600) in the state dir; undefined before the first join. */
export function loadCredential(stateDir: string): string | undefined {
  try {
    const saved = JSON.parse(readFileSync(join(stateDir, 'credential.json'), 'utf8')) as { credential?: string };
    return saved.credential || undefined;
  } catch {
    return undefined;
  }
}

function saveCredential(stateDir: string, credential: string, containerInstanceArn: string): void {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const file = join(stateDir, 'credential.json');
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify({ containerInstanceArn, credential }) + '\n', { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}
