/**
 * The control-plane side of agent protocol v1 (docs/agent-protocol.md), mounted on the same
 * fastify server as the AWS APIs under /agent/v1/.
 *
 * Every call is authenticated (auth.ts): `Authorization: Bearer <credential>`, or a join token
 * on the first registration of a new instance. A credential speaks only for its own container
 * instance and the tasks placed on it.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { Clock } from '../core/clock.js';
import { ConflictError } from '../core/errors.js';
import {
  AGENT_API_PREFIX,
  HeartbeatRequest,
  PROTOCOL_MAJOR,
  PROTOCOL_VERSION,
  RegisterRequest,
  ReportsRequest,
  majorOf,
  type AssignmentsResponse,
  type ErrorResponse,
  type RegistryAuth,
  type RegisterResponse,
  type ReportsResponse,
  type RoleCredentials,
  type TaskAssignment,
  type TaskSecretsResponse,
} from '../protocol/index.js';
import { AwsError } from '../aws/errors.js';
import type { ContainerInstances } from '../services/ecs/container-instances.js';
import { recordReport } from '../services/ecs/task-state.js';
import * as c from '../store/collections.js';
import type { AgentCredentialDoc, AgentResourceLimits, ContainerInstanceDoc, TaskDefinitionDoc, TaskDoc } from '../store/collections.js';
import type { Row, Store } from '../store/store.js';
import { assignmentsDigest, toAssignment } from './assignments.js';
import { AgentAuthError, isJoinToken, type AgentAuth } from './auth.js';
import type { AgentLiveness } from './liveness.js';
import { assumedRoleArn, taskIdOf, type RoleCredentialsVendor } from './role-credentials.js';

/**
 * Hook for registry credentials: given an image in a task, the `{username, password}` the
 * agent should pull it with, or undefined. Wired to ECR's credential minter for images whose
 * host is this Dockyard's registry (see server/app.ts). `principal` is the execution role's
 * session ARN when the task has an execution role (the pull happens as that role), else the
 * account pulls.
 */
export type RegistryCredentialsHook = (image: string, scope: { accountId: string; region: string; principal?: string }) => Promise<RegistryAuth | undefined>;

/**
 * Hook for GET task-secrets: the values of a task's container `secrets` and registry credentials,
 * read as `principal` (the execution role's session ARN; undefined: the account; null: STS
 * refused the execution role). Wired to SSM and Secrets Manager in server/task-secrets.ts.
 */
export type TaskSecretsHook = (task: TaskDoc, def: TaskDefinitionDoc, principal: string | undefined | null) => Promise<TaskSecretsResponse>;

export interface AgentApiDeps {
  store: Store;
  clock: Clock;
  instances: ContainerInstances;
  liveness: AgentLiveness;
  auth: AgentAuth;
  scope: { accountId: string; region: string };
  /** Creates the cluster when an agent joins `default` and it does not exist (ECS agent behaviour). */
  ensureDefaultCluster: () => Promise<void>;
  registryCredentials?: RegistryCredentialsHook;
  /** Mints task-role and execution-role credentials (absent: tasks get no role credentials). */
  roleCredentials?: RoleCredentialsVendor;
  /** Resolves task secrets for the agent a task is placed on (absent: tasks with secrets fail to start). */
  taskSecrets?: TaskSecretsHook;
  /** Upper bound on one assignments long-poll. */
  maxWaitMs?: number;
}

const DEFAULT_WAIT_MS = 30_000;

export class ProtocolError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorResponse['error'],
    message: string,
  ) {
    super(message);
  }
}

export function parse<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  let value: unknown = body;
  if (Buffer.isBuffer(body)) {
    try {
      value = JSON.parse(body.toString('utf8'));
    } catch {
      throw new ProtocolError(400, 'BadRequest', 'The body is not valid JSON.');
    }
  }
  const result = schema.safeParse(value);
  if (!result.success) throw new ProtocolError(400, 'BadRequest', result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  return result.data;
}

export function sendError(reply: FastifyReply, e: unknown) {
  if (e instanceof AgentAuthError) e = new ProtocolError(401, 'Unauthorized', e.message);
  if (e instanceof ProtocolError) {
    if (e.status === 401) reply.header('www-authenticate', 'Bearer realm="dockyard-agent"');
    return reply.code(e.status).send({ error: e.code, message: e.message } satisfies ErrorResponse);
  }
  const code = (e as { code?: string }).code;
  if (code === 'ClusterNotFoundException') return reply.code(404).send({ error: 'ClusterNotFound', message: 'Cluster not found.' } satisfies ErrorResponse);
  if (code === 'ResourceNotFoundException' && e instanceof AwsError) return reply.code(404).send({ error: 'ResourceNotFound', message: `ResourceNotFoundException: ${e.message}` } satisfies ErrorResponse);
  if (e instanceof AwsError && e.status < 500) return reply.code(400).send({ error: 'BadRequest', message: e.message } satisfies ErrorResponse);
  throw e;
}

/** The bearer secret of a request; 401 without one. */
export function bearerOf(req: FastifyRequest): string {
  const m = /^Bearer +(\S+)$/.exec(req.headers.authorization ?? '');
  if (!m) throw new ProtocolError(401, 'Unauthorized', "This call needs the agent's credential (Authorization: Bearer …), or a join token to register.");
  return m[1]!;
}

/** A credential speaks for its own container instance only. */
export function ownInstance(credential: AgentCredentialDoc, containerInstanceArn: string): void {
  if (credential.containerInstanceArn !== containerInstanceArn) {
    throw new ProtocolError(403, 'AccessDenied', `This agent's credential is for ${credential.containerInstanceArn}; it cannot act for another container instance.`);
  }
}

/** The bounds a join token put on what its hosts may declare. */
function checkLimits(resources: RegisterRequest['resources'], limits: AgentResourceLimits | undefined): void {
  if (limits?.maxCpu !== undefined && resources.cpu > limits.maxCpu) {
    throw new ProtocolError(403, 'AccessDenied', `The host declares ${resources.cpu} CPU units; its join token allows at most ${limits.maxCpu}.`);
  }
  if (limits?.maxMemoryMiB !== undefined && resources.memory > limits.maxMemoryMiB) {
    throw new ProtocolError(403, 'AccessDenied', `The host declares ${resources.memory} MiB of memory; its join token allows at most ${limits.maxMemoryMiB}.`);
  }
}

export function registerAgentApi(http: FastifyInstance, deps: AgentApiDeps): void {
  const { store, liveness, auth } = deps;
  const authenticated = async (req: FastifyRequest) => auth.authenticate(bearerOf(req));
  const maxWait = deps.maxWaitMs ?? 60_000;
  // Task definitions never change once registered (only their status): cache by ARN.
  const definitions = new Map<string, TaskDefinitionDoc>();
  // ...except after a state reset, when ARNs start again.
  store.onClear(() => definitions.clear());

  const instanceOrThrow = async (arn: string, allowInactive = false): Promise<ContainerInstanceDoc> => {
    const row = await store.read((tx) => tx.get(c.containerInstances, arn));
    if (!row) throw new ProtocolError(404, 'UnknownInstance', `No container instance ${arn}; register again.`);
    if (row.data.status === 'INACTIVE' && !allowInactive) throw new ProtocolError(410, 'InstanceInactive', `Container instance ${arn} was deregistered.`);
    return row.data;
  };

  const readAssignments = async (instanceArn: string): Promise<{ tasks: TaskAssignment[]; roleCredentials: RoleCredentials[] }> => {
    const tasks = await store.read(async (tx) => {
      const rows = await tx.find(c.tasks, { where: { instance: instanceArn, last_status: { not: 'STOPPED' } }, orderBy: [['pk', 'asc']] });
      for (const r of rows) {
        const arn = r.data.taskDefinitionArn;
        if (!definitions.has(arn)) {
          const def = await tx.get(c.taskDefinitions, arn);
          if (def) {
            if (definitions.size > 1000) definitions.clear();
            definitions.set(arn, def.data);
          }
        }
      }
      return rows.map((r) => r.data);
    });
    const out: TaskAssignment[] = [];
    const roleCredentials: RoleCredentials[] = [];
    for (const task of tasks) {
      const def = definitions.get(task.taskDefinitionArn);
      if (!def) continue;
      const assignment = toAssignment(task, def);
      const principal = await executionPrincipal(task.taskArn, assignment.executionRoleArn);
      const auth = new Map<string, RegistryAuth | undefined>();
      if (deps.registryCredentials && principal !== null) {
        for (const cd of assignment.containers) {
          if (!auth.has(cd.image)) auth.set(cd.image, await deps.registryCredentials(cd.image, { accountId: task.accountId, region: task.region, principal }));
        }
      }
      for (const cd of assignment.containers) cd.registryAuth = auth.get(cd.image);
      out.push(assignment);
      const taskRole = assignment.taskRoleArn && (await deps.roleCredentials?.forTask(task.taskArn, assignment.taskRoleArn));
      if (taskRole) {
        roleCredentials.push({
          taskArn: task.taskArn,
          roleType: 'TaskApplication',
          roleArn: assignment.taskRoleArn!,
          accessKeyId: taskRole.accessKeyId,
          secretAccessKey: taskRole.secretAccessKey,
          sessionToken: taskRole.sessionToken,
          expiration: taskRole.expiration.toISOString().replace(/\.\d{3}Z$/, 'Z'),
        });
      }
    }
    return { tasks: out, roleCredentials };
  };

  /**
   * Who pulls the task's images: its execution role's session when it has one (null when STS
   * refuses that role: then nothing is pulled from this registry for the task), else the account.
   */
  const executionPrincipal = async (taskArn: string, executionRoleArn: string | undefined): Promise<string | undefined | null> => {
    if (!executionRoleArn) return undefined;
    if (deps.roleCredentials && !(await deps.roleCredentials.forTask(taskArn, executionRoleArn))) return null;
    try {
      return assumedRoleArn(executionRoleArn, taskIdOf(taskArn));
    } catch {
      return null;
    }
  };

  http.post(`${AGENT_API_PREFIX}/register`, async (req, reply) => {
    try {
      // Without a bearer secret nothing else is looked at (401 before any 400).
      const bearer = bearerOf(req);
      const raw = parse(RegisterRequest.pick({ protocolVersion: true }).passthrough(), req.body);
      if (majorOf(raw.protocolVersion) !== PROTOCOL_MAJOR) {
        throw new ProtocolError(400, 'UnsupportedProtocolVersion', `This control plane speaks agent protocol ${PROTOCOL_VERSION}; got ${raw.protocolVersion}.`);
      }
      const input = parse(RegisterRequest, req.body);
      const arn = deps.instances.instanceArn(deps.scope, input.cluster, input.instanceId);
      const joining = isJoinToken(bearer);
      if (joining) {
        checkLimits(input.resources, (await auth.checkJoinToken(bearer)).limits);
      } else {
        const credential = await auth.authenticate(bearer);
        ownInstance(credential, arn);
        checkLimits(input.resources, credential.limits);
      }
      if (input.cluster === 'default') await deps.ensureDefaultCluster();
      const { doc, credential } = await store.write(async (tx) => {
        let credential: string | undefined;
        if (joining) {
          // A join token only brings in new hosts: an existing instance is re-registered by its own credential.
          if (await tx.get(c.containerInstances, arn)) {
            throw new ProtocolError(403, 'AccessDenied', `Instance id ${input.instanceId} is already registered in ${input.cluster}; only its own agent's credential can register it again.`);
          }
          credential = await auth.redeemJoinToken(tx, bearer, arn);
        }
        const doc = await deps.instances.registerInstanceIn(tx, deps.scope, {
          cluster: input.cluster,
          containerInstanceId: input.instanceId,
          totalResources: [
            { name: 'CPU', type: 'INTEGER', integerValue: input.resources.cpu },
            { name: 'MEMORY', type: 'INTEGER', integerValue: input.resources.memory },
            { name: 'PORTS', type: 'STRINGSET', stringSetValue: input.resources.ports },
            { name: 'PORTS_UDP', type: 'STRINGSET', stringSetValue: input.resources.portsUdp },
          ],
          attributes: input.attributes,
          versionInfo: input.versionInfo,
          agentInstanceId: input.instanceId,
          hostname: input.hostname,
        });
        return { doc, credential };
      });
      await liveness.beat(doc.containerInstanceArn);
      return {
        protocolVersion: PROTOCOL_VERSION,
        containerInstanceArn: doc.containerInstanceArn,
        clusterArn: doc.clusterArn,
        heartbeatIntervalMs: liveness.options.heartbeatIntervalMs,
        heartbeatTtlMs: liveness.options.ttlMs,
        credential,
      } satisfies RegisterResponse;
    } catch (e) {
      return sendError(reply, e);
    }
  });

  http.post(`${AGENT_API_PREFIX}/heartbeat`, async (req, reply) => {
    try {
      const credential = await authenticated(req);
      const input = parse(HeartbeatRequest, req.body);
      ownInstance(credential, input.containerInstanceArn);
      const doc = await instanceOrThrow(input.containerInstanceArn);
      await liveness.beat(input.containerInstanceArn);
      return { status: doc.status, agentConnected: true };
    } catch (e) {
      return sendError(reply, e);
    }
  });

  http.get(`${AGENT_API_PREFIX}/assignments`, async (req, reply) => {
    try {
      const credential = await authenticated(req);
      const q = req.query as Record<string, string | undefined>;
      const instanceArn = q.containerInstanceArn ?? '';
      ownInstance(credential, instanceArn);
      const knownDigest = q.digest ?? '';
      let index = Number(q.index ?? 0) || 0;
      const waitMs = Math.min(maxWait, Math.max(0, Number(q.waitMs ?? DEFAULT_WAIT_MS) || 0));
      const deadline = Date.now() + waitMs;
      const closed = new AbortController();
      req.raw.once('close', () => closed.abort());
      for (;;) {
        const doc = await instanceOrThrow(instanceArn);
        const at = store.changeIndex();
        const { tasks, roleCredentials } = await readAssignments(instanceArn);
        const digest = assignmentsDigest(tasks);
        const remaining = deadline - Date.now();
        if (digest !== knownDigest || remaining <= 0 || closed.signal.aborted) {
          return { index: at, digest, containerInstanceArn: instanceArn, instanceStatus: doc.status, tasks, roleCredentials } satisfies AssignmentsResponse;
        }
        index = Math.max(index, at);
        // Wake only for this instance's tasks or its own document, not every write in the cluster.
        index = await store.waitForChange(index, remaining, closed.signal, [
          { collection: c.tasks, column: 'instance', value: instanceArn },
          { collection: c.containerInstances, column: 'pk', value: instanceArn },
        ]);
      }
    } catch (e) {
      return sendError(reply, e);
    }
  });

  // The secrets of one task, for the agent it is placed on only; never cached by anyone.
  http.get(`${AGENT_API_PREFIX}/task-secrets`, async (req, reply) => {
    try {
      const credential = await authenticated(req);
      const q = req.query as Record<string, string | undefined>;
      const instanceArn = q.containerInstanceArn ?? '';
      ownInstance(credential, instanceArn);
      const taskArn = q.taskArn ?? '';
      const found = await store.read(async (tx) => {
        const task = await tx.get(c.tasks, taskArn);
        const def = task && (await tx.get(c.taskDefinitions, task.data.taskDefinitionArn));
        return task && def ? { task: task.data, def: def.data } : undefined;
      });
      if (!found || found.task.placedOn !== instanceArn || found.task.lastStatus === 'STOPPED') {
        throw new ProtocolError(404, 'UnknownTask', 'No such task is placed on this container instance.');
      }
      reply.header('cache-control', 'no-store');
      const { task, def } = found;
      if (!deps.taskSecrets) {
        return { taskArn, containers: [], failure: 'ResourceInitializationError: unable to pull secrets or registry auth: this control plane does not serve secrets' } satisfies TaskSecretsResponse;
      }
      const executionRoleArn = (task.overrides?.executionRoleArn as string | undefined) ?? (def.executionRoleArn as string | undefined);
      return await deps.taskSecrets(task, def, await executionPrincipal(taskArn, executionRoleArn));
    } catch (e) {
      return sendError(reply, e);
    }
  });

  http.post(`${AGENT_API_PREFIX}/reports`, async (req, reply) => {
    try {
      const credential = await authenticated(req);
      const input = parse(ReportsRequest, req.body);
      ownInstance(credential, input.containerInstanceArn);
      // A deregistered instance's agent stops its tasks: their final state is still worth recording.
      await instanceOrThrow(input.containerInstanceArn, true);
      const result: ReportsResponse = { acknowledged: [], unknown: [] };
      for (let attempt = 0; ; attempt++) {
        try {
          await store.write(async (tx) => {
            result.acknowledged = [];
            result.unknown = [];
            for (const report of input.reports) {
              const row = await tx.get(c.tasks, report.taskArn);
              if (!row || row.data.placedOn !== input.containerInstanceArn) {
                result.unknown.push(report.taskArn);
                continue;
              }
              await recordReport(tx, row as Row<TaskDoc>, report, deps.clock.now());
              result.acknowledged.push(report.taskArn);
            }
          });
          break;
        } catch (e) {
          if (!(e instanceof ConflictError) || attempt >= 2) throw e;
        }
      }
      return result;
    } catch (e) {
      return sendError(reply, e);
    }
  });
}
