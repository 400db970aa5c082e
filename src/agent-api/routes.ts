/**
 * The control-plane side of agent protocol v1 (docs/agent-protocol.md), mounted on the same
 * fastify server as the AWS APIs under /agent/v1/.
 *
 * Agents are not authenticated yet: anyone who can reach the port can register a host. A
 * per-instance token (minted at register, checked on every call) is the planned next step.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
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
  type ReportsResponse,
  type TaskAssignment,
} from '../protocol/index.js';
import type { ContainerInstances } from '../services/ecs/container-instances.js';
import * as c from '../store/collections.js';
import type { ContainerInstanceDoc, TaskDefinitionDoc, TaskDoc } from '../store/collections.js';
import type { Store } from '../store/store.js';
import { applyReport } from './apply-report.js';
import { assignmentsDigest, toAssignment } from './assignments.js';
import type { AgentLiveness } from './liveness.js';

/**
 * Hook for registry credentials: given an image in a task, the `{username, password}` the
 * agent should pull it with, or undefined. Wired to ECR's credential minter for images whose
 * host is this Dockyard's registry (see server/app.ts).
 */
export type RegistryCredentialsHook = (image: string, scope: { accountId: string; region: string }) => Promise<RegistryAuth | undefined>;

export interface AgentApiDeps {
  store: Store;
  clock: Clock;
  instances: ContainerInstances;
  liveness: AgentLiveness;
  scope: { accountId: string; region: string };
  /** Creates the cluster when an agent joins `default` and it does not exist (ECS agent behaviour). */
  ensureDefaultCluster: () => Promise<void>;
  registryCredentials?: RegistryCredentialsHook;
  /** Upper bound on one assignments long-poll. */
  maxWaitMs?: number;
}

const DEFAULT_WAIT_MS = 30_000;

class ProtocolError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorResponse['error'],
    message: string,
  ) {
    super(message);
  }
}

function parse<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
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

function sendError(reply: FastifyReply, e: unknown) {
  if (e instanceof ProtocolError) return reply.code(e.status).send({ error: e.code, message: e.message } satisfies ErrorResponse);
  const code = (e as { code?: string }).code;
  if (code === 'ClusterNotFoundException') return reply.code(404).send({ error: 'ClusterNotFound', message: 'Cluster not found.' } satisfies ErrorResponse);
  throw e;
}

export function registerAgentApi(http: FastifyInstance, deps: AgentApiDeps): void {
  const { store, liveness } = deps;
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

  const readAssignments = async (instanceArn: string): Promise<TaskAssignment[]> => {
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
    for (const task of tasks) {
      const def = definitions.get(task.taskDefinitionArn);
      if (!def) continue;
      const auth = new Map<string, RegistryAuth | undefined>();
      if (deps.registryCredentials) {
        for (const cd of (def.containerDefinitions as { image?: string }[] | undefined) ?? []) {
          if (cd.image && !auth.has(cd.image)) auth.set(cd.image, await deps.registryCredentials(cd.image, { accountId: task.accountId, region: task.region }));
        }
      }
      out.push(toAssignment(task, def, (image) => auth.get(image)));
    }
    return out;
  };

  http.post(`${AGENT_API_PREFIX}/register`, async (req, reply) => {
    try {
      const raw = parse(RegisterRequest.pick({ protocolVersion: true }).passthrough(), req.body);
      if (majorOf(raw.protocolVersion) !== PROTOCOL_MAJOR) {
        throw new ProtocolError(400, 'UnsupportedProtocolVersion', `This control plane speaks agent protocol ${PROTOCOL_VERSION}; got ${raw.protocolVersion}.`);
      }
      const input = parse(RegisterRequest, req.body);
      if (input.cluster === 'default') await deps.ensureDefaultCluster();
      const doc = await deps.instances.registerInstance(deps.scope, {
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
      await liveness.beat(doc.containerInstanceArn);
      return {
        protocolVersion: PROTOCOL_VERSION,
        containerInstanceArn: doc.containerInstanceArn,
        clusterArn: doc.clusterArn,
        heartbeatIntervalMs: liveness.options.heartbeatIntervalMs,
        heartbeatTtlMs: liveness.options.ttlMs,
      };
    } catch (e) {
      return sendError(reply, e);
    }
  });

  http.post(`${AGENT_API_PREFIX}/heartbeat`, async (req, reply) => {
    try {
      const input = parse(HeartbeatRequest, req.body);
      const doc = await instanceOrThrow(input.containerInstanceArn);
      await liveness.beat(input.containerInstanceArn);
      return { status: doc.status, agentConnected: true };
    } catch (e) {
      return sendError(reply, e);
    }
  });

  http.get(`${AGENT_API_PREFIX}/assignments`, async (req, reply) => {
    try {
      const q = req.query as Record<string, string | undefined>;
      const instanceArn = q.containerInstanceArn ?? '';
      const knownDigest = q.digest ?? '';
      let index = Number(q.index ?? 0) || 0;
      const waitMs = Math.min(maxWait, Math.max(0, Number(q.waitMs ?? DEFAULT_WAIT_MS) || 0));
      const deadline = Date.now() + waitMs;
      const closed = new AbortController();
      req.raw.once('close', () => closed.abort());
      for (;;) {
        const doc = await instanceOrThrow(instanceArn);
        const at = store.changeIndex();
        const tasks = await readAssignments(instanceArn);
        const digest = assignmentsDigest(tasks);
        const remaining = deadline - Date.now();
        if (digest !== knownDigest || remaining <= 0 || closed.signal.aborted) {
          return { index: at, digest, containerInstanceArn: instanceArn, instanceStatus: doc.status, tasks } satisfies AssignmentsResponse;
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

  http.post(`${AGENT_API_PREFIX}/reports`, async (req, reply) => {
    try {
      const input = parse(ReportsRequest, req.body);
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
              const next = applyReport(row.data as TaskDoc, report, deps.clock.now());
              if (next) await tx.update(c.tasks, row, next);
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
