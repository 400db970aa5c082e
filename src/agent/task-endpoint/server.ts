/**
 * The agent's task endpoints, one HTTP server per agent on 169.254.170.2 (an ephemeral port,
 * kept across agent restarts, so several agents share one host): the task metadata endpoint v4
 * (`ECS_CONTAINER_METADATA_URI_V4`) and the task credentials endpoint
 * (`AWS_CONTAINER_CREDENTIALS_FULL_URI` + `AWS_CONTAINER_AUTHORIZATION_TOKEN`, or ECS's
 * `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` when it listens on port 80), for this agent's own
 * tasks only.
 *
 * Every id a container is given (its metadata endpoint id, its task's credentials id and
 * authorization token) is an HMAC of the task ARN under a secret kept in the agent's state dir,
 * so a restarted agent recognises the ids baked into the containers it re-adopts without a
 * table. A request must also come from the task itself: from one of its containers' addresses
 * (bridge), its network namespace's address (awsvpc), or this host (host network mode).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { RoleCredentials, TaskAssignment } from '../../protocol/index.js';
import type { Runtime } from '../runtime/runtime.js';
import type { AgentLogger } from '../supervisor.js';
import { taskLastStatus, type LocalTask } from '../task-state.js';
import { TASK_ENDPOINT_ADDRESS, ensureAddress, hostAddresses } from './address.js';
import { containerMetadata, networkRates, taskMetadata, type V4ClockDrift } from './metadata.js';

export interface TaskEndpointOptions {
  /** Address to serve on: 169.254.170.2 (default; added to `lo` when missing) or 127.0.0.1 (host-network tasks only). */
  host?: string;
  /** Port; default: the one this agent used before, else an ephemeral one. 80 on 169.254.170.2 gives ECS's relative credentials URI. */
  port?: number;
}

export interface TaskEndpointDeps {
  stateDir: string;
  /** The supervisor's tasks: the only tasks served. */
  tasks: ReadonlyMap<string, LocalTask>;
  runtime: Runtime;
  log: AgentLogger;
  availabilityZone?: string;
}

type Env = { name: string; value: string }[];

const CREDENTIALS_PATH = '/v2/credentials';
const MAX_NET_SAMPLES = 10_000;
/** Ids of finished tasks linger in the maps until this many, then the maps are rebuilt from the live tasks. */
const MAX_INDEXED_IDS = 10_000;

export class TaskEndpoint {
  private server: Server | undefined;
  private secret!: Buffer;
  private baseUrl = '';
  private relativeUri = false;
  /** Task-role credentials, by task ARN, as the control plane last sent them. */
  private readonly credentials = new Map<string, RoleCredentials>();
  private readonly endpointIds = new Map<string, { taskArn: string; name: string }>();
  private readonly credentialsIds = new Map<string, string>();
  /** The previous network counters per container, for network_rate_stats. */
  private readonly netSamples = new Map<string, { readAt: number; rx: number; tx: number }>();

  constructor(
    private readonly o: TaskEndpointOptions,
    private readonly deps: TaskEndpointDeps,
  ) {}

  get listening(): boolean {
    return this.server !== undefined;
  }

  /** The base URL containers are given (http://169.254.170.2:<port>). */
  get url(): string {
    return this.baseUrl;
  }

  async start(): Promise<void> {
    const host = this.o.host ?? TASK_ENDPOINT_ADDRESS;
    await ensureAddress(host, this.deps.log);
    const stateFile = join(this.deps.stateDir, 'task-endpoint.json');
    const saved = readState(stateFile);
    this.secret = saved?.secret ?? randomBytes(32);
    const server = createServer((req, res) => {
      this.handle(req, res).catch((e) => {
        this.deps.log.error({ err: String(e) }, 'task endpoint request failed');
        if (!res.headersSent) json(res, 500, 'internal error');
      });
    });
    const wanted = this.o.port ?? saved?.port ?? 0;
    let port: number;
    try {
      port = await listen(server, host, wanted);
    } catch (e) {
      if (this.o.port !== undefined || (e as { code?: string }).code !== 'EADDRINUSE') throw e;
      // Our old port is taken: containers from before the restart lose their endpoints, new ones work.
      this.deps.log.warn({ port: wanted }, 'the task endpoint port used before is taken; listening on a new one');
      port = await listen(server, host, 0);
    }
    this.server = server;
    this.baseUrl = `http://${host}:${port}`;
    this.relativeUri = host === TASK_ENDPOINT_ADDRESS && port === 80;
    writeState(stateFile, { secret: this.secret, port });
    this.deps.log.info({ url: this.baseUrl }, 'task metadata and credentials endpoints listening');
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  /** The variables every container of `task` gets (none while not listening). */
  containerEnv(task: TaskAssignment, name: string): Env {
    if (!this.server) return [];
    if (this.endpointIds.size > MAX_INDEXED_IDS) this.reindex();
    const env: Env = [{ name: 'ECS_CONTAINER_METADATA_URI_V4', value: `${this.baseUrl}/v4/${this.endpointId(task.taskArn, name)}` }];
    if (task.taskRoleArn) {
      const path = `${CREDENTIALS_PATH}/${this.credentialsId(task.taskArn)}`;
      // The SDKs send no token with the relative form: there the unguessable id and the source check are the lock.
      if (this.relativeUri) env.push({ name: 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', value: path });
      else env.push({ name: 'AWS_CONTAINER_CREDENTIALS_FULL_URI', value: `${this.baseUrl}${path}` }, { name: 'AWS_CONTAINER_AUTHORIZATION_TOKEN', value: this.token(task.taskArn) });
    }
    return env;
  }

  /** The control plane's latest credentials for the host's tasks; tasks no longer assigned lose theirs. */
  setCredentials(tasks: readonly TaskAssignment[], creds: readonly RoleCredentials[]): void {
    const assigned = new Set(tasks.map((t) => t.taskArn));
    for (const arn of this.credentials.keys()) if (!assigned.has(arn)) this.credentials.delete(arn);
    for (const c of creds) if (c.roleType === 'TaskApplication' && assigned.has(c.taskArn)) this.credentials.set(c.taskArn, c);
  }

  private endpointId(taskArn: string, name: string): string {
    const id = uuidOf(this.mac('endpoint', taskArn, name));
    this.endpointIds.set(id, { taskArn, name });
    return id;
  }

  private credentialsId(taskArn: string): string {
    const id = uuidOf(this.mac('credentials', taskArn));
    this.credentialsIds.set(id, taskArn);
    return id;
  }

  private token(taskArn: string): string {
    return this.mac('token', taskArn).toString('base64url');
  }

  private mac(...parts: string[]): Buffer {
    return createHmac('sha256', this.secret).update(parts.join('\0')).digest();
  }

  /**
   * Rebuilds the id maps from the supervisor's tasks: after a restart (they start empty; the
   * re-adopted tasks' ids are recomputed), and to drop the ids of tasks that are gone.
   */
  private reindex(): void {
    this.endpointIds.clear();
    this.credentialsIds.clear();
    for (const task of this.deps.tasks.values()) {
      for (const s of task.spec.containers) this.endpointId(task.arn, s.name);
      if (task.spec.taskRoleArn) this.credentialsId(task.arn);
    }
  }

  private lookup<T>(index: Map<string, T>, id: string): T | undefined {
    if (!index.has(id)) this.reindex();
    return index.get(id);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    if (req.method !== 'GET') return json(res, 405, 'method not allowed');
    if (path === CREDENTIALS_PATH || path.startsWith(`${CREDENTIALS_PATH}/`)) return this.serveCredentials(req, res, path.slice(CREDENTIALS_PATH.length + 1));
    const m = /^\/v4\/([^/]+)(\/task)?(\/stats)?$/.exec(path);
    if (m) return this.serveMetadata(req, res, m[1]!, Boolean(m[2]), Boolean(m[3]));
    return json(res, 404, '404 page not found');
  }

  private async serveMetadata(req: IncomingMessage, res: ServerResponse, id: string, wholeTask: boolean, stats: boolean): Promise<void> {
    const prefix = `V4 ${wholeTask ? 'task' : 'container'} ${stats ? 'stats' : 'metadata'} handler`;
    const notFound = () => json(res, 404, `${prefix}: unable to get ${wholeTask ? 'task arn' : 'container ID'} from request: unable to get ${wholeTask ? 'task Arn' : 'docker ID'} from v3 endpoint ID: ${id}`);
    const ref = this.lookup(this.endpointIds, id);
    const task = ref && this.deps.tasks.get(ref.taskArn);
    // Another task (or anyone else) asking gets the same answer as for an id that does not exist.
    if (!ref || !task || !(await this.fromTask(task, req))) return notFound();
    if (!stats) return json(res, 200, wholeTask ? taskMetadata(task, { availabilityZone: this.deps.availabilityZone, clockDrift: clockDrift() }) : containerMetadata(task, ref.name));
    if (!this.deps.runtime.stats) return json(res, 500, `${prefix}: stats are not available from this runtime`);
    if (!wholeTask) {
      const runtimeId = task.containers[ref.name]?.runtimeId;
      if (!runtimeId) return notFound();
      try {
        return json(res, 200, await this.statsOf(runtimeId));
      } catch {
        return json(res, 500, `Unable to get container stats for: ${runtimeId}`);
      }
    }
    // Docker takes about a second per sample: read the containers side by side. As the ECS agent
    // does, a container whose stats cannot be read gets an empty object.
    const ids = Object.values(task.containers).flatMap((c) => (c.runtimeId ? [c.runtimeId] : []));
    const samples = await Promise.all(ids.map((id) => this.statsOf(id).catch(() => ({}))));
    return json(res, 200, Object.fromEntries(ids.map((id, i) => [id, samples[i]])));
  }

  /** Docker's stats JSON as ECS passes it through, plus ECS's network_rate_stats. */
  private async statsOf(runtimeId: string): Promise<Record<string, unknown>> {
    const stats = await this.deps.runtime.stats!(runtimeId);
    const nets = Object.values((stats.networks ?? {}) as Record<string, { rx_bytes?: number; tx_bytes?: number }>);
    if (nets.length === 0) return stats;
    const sample = { readAt: Date.parse(String(stats.read)) || Date.now(), rx: sum(nets.map((n) => n.rx_bytes ?? 0)), tx: sum(nets.map((n) => n.tx_bytes ?? 0)) };
    const rates = networkRates(this.netSamples.get(runtimeId), sample);
    if (this.netSamples.size >= MAX_NET_SAMPLES) this.netSamples.clear();
    this.netSamples.set(runtimeId, sample);
    return rates ? { ...stats, network_rate_stats: rates } : stats;
  }

  private async serveCredentials(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    const fail = (status: number, code: string, message: string) => json(res, status, { code, message: `CredentialsV2Request: ${message}`, HTTPErrorCode: status });
    if (!id) return fail(400, 'NoIdInRequest', 'No Credential ID in the request');
    const taskArn = this.lookup(this.credentialsIds, id);
    const task = taskArn ? this.deps.tasks.get(taskArn) : undefined;
    if (!taskArn || !task || taskLastStatus(task) === 'STOPPED') return fail(400, 'InvalidIdInRequest', 'Credentials not found');
    if (!this.relativeUri && !sameSecret(headerOf(req, 'authorization'), this.token(taskArn))) {
      this.deps.log.warn({ taskArn, source: req.socket.remoteAddress }, 'task credentials refused: wrong or missing authorization token');
      return fail(403, 'AccessDenied', 'The authorization token is not valid for these credentials');
    }
    if (!(await this.fromTask(task, req))) {
      this.deps.log.warn({ taskArn, source: req.socket.remoteAddress }, 'task credentials refused: the request does not come from the task');
      return fail(403, 'AccessDenied', 'The request does not come from the task these credentials belong to');
    }
    const c = this.credentials.get(taskArn);
    if (!c || Date.parse(c.expiration) <= Date.now()) return fail(503, 'CredentialsUninitialized', 'Credentials uninitialized for ID');
    this.deps.log.debug({ taskArn, roleArn: c.roleArn }, 'served task role credentials');
    return json(res, 200, { RoleArn: c.roleArn, AccessKeyId: c.accessKeyId, SecretAccessKey: c.secretAccessKey, Token: c.sessionToken, Expiration: c.expiration });
  }

  /** Whether the request comes from the task's own network: its containers (bridge), its namespace (awsvpc) or this host (host mode). */
  private async fromTask(task: LocalTask, req: IncomingMessage): Promise<boolean> {
    const source = req.socket.remoteAddress ?? '';
    switch (task.spec.networkMode) {
      case 'host':
        return hostAddresses().has(source);
      case 'awsvpc':
        return source === task.setupInfo?.privateIp;
      case 'bridge': {
        const containers = Object.values(task.containers);
        if (containers.some((c) => c.ipAddress === source)) return true;
        // A container that asks the moment it starts may be quicker than the agent's own inspect.
        for (const c of containers) {
          if (!c.runtimeId || c.ipAddress) continue;
          const seen = await this.deps.runtime.inspect(c.runtimeId).catch(() => undefined);
          if (seen?.ipAddress) c.ipAddress = seen.ipAddress;
        }
        return containers.some((c) => c.ipAddress === source);
      }
      default:
        return false;
    }
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function headerOf(req: IncomingMessage, name: string): string {
  const v = req.headers[name];
  return Array.isArray(v) ? (v[0] ?? '') : (v ?? '');
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** 16 bytes of a MAC, formatted as a UUID (the form ECS's endpoint and credentials ids have). */
function uuidOf(mac: Buffer): string {
  const h = mac.subarray(0, 16).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/**
 * Whether the host clock is synchronised, as far as can be told without privileges:
 * systemd-timesyncd's flag file. Without it the status is NOT_SYNCHRONIZED (unknown).
 */
function clockDrift(): V4ClockDrift {
  return {
    ReferenceTimestamp: new Date().toISOString(),
    ClockSynchronizationStatus: existsSync('/run/systemd/timesync/synchronized') ? 'SYNCHRONIZED' : 'NOT_SYNCHRONIZED',
  };
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => reject(e);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : port);
    });
  });
}

function readState(file: string): { secret: Buffer; port: number } | undefined {
  try {
    const s = JSON.parse(readFileSync(file, 'utf8')) as { secret?: string; port?: number };
    const secret = Buffer.from(s.secret ?? '', 'base64');
    if (secret.length < 32) return undefined;
    return { secret, port: Number.isInteger(s.port) ? s.port! : 0 };
  } catch {
    return undefined;
  }
}

function writeState(file: string, s: { secret: Buffer; port: number }): void {
  mkdirSync(join(file, '..'), { recursive: true });
  // Owner-only: the secret derives every task's credentials token.
  writeFileSync(file, JSON.stringify({ secret: s.secret.toString('base64'), port: s.port }) + '\n', { mode: 0o600 });
}
