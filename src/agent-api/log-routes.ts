/**
 * The log calls of agent protocol 1.2 (docs/agent-protocol.md "Logs"): an agent opens the log
 * stream of an awslogs container and ships its output in batches. The group and stream come
 * from the task definition of a task placed on the caller's own instance, never from the agent.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AGENT_API_PREFIX, LogEventsRequest, LogStreamRequest, type LogEventsResponse, type LogStreamResponse } from '../protocol/index.js';
import * as c from '../store/collections.js';
import type { Store } from '../store/store.js';
import type { AgentAuth } from './auth.js';
import { bearerOf, ownInstance, parse, ProtocolError, sendError } from './routes.js';

/** Where an awslogs container's output goes. */
export interface AwslogsTarget {
  region: string;
  logGroupName: string;
  logStreamName: string;
  createGroup: boolean;
}

/** CloudWatch Logs as the log calls need it (wired to the logs service in server/app.ts). */
export interface LogSink {
  /** Creates the stream (and the group when `createGroup`); throws ResourceNotFoundException for a missing group. */
  open(target: AwslogsTarget): { cursor: string | undefined };
  ingest(target: AwslogsTarget, events: LogEventsRequest['events']): { accepted: number; cursor: string | undefined };
}

/**
 * PURE: ECS's awslogs naming. With awslogs-stream-prefix the stream is `prefix/container/task-id`;
 * without one, the container's Docker id (ECS on EC2). Undefined when the container does not use awslogs.
 */
export function awslogsTarget(
  logConfiguration: { logDriver?: unknown; options?: Record<string, unknown> } | undefined,
  container: string,
  taskArn: string,
  runtimeId: string,
  defaultRegion: string,
): AwslogsTarget | undefined {
  if (logConfiguration?.logDriver !== 'awslogs') return undefined;
  const o = logConfiguration.options ?? {};
  const group = typeof o['awslogs-group'] === 'string' ? o['awslogs-group'] : undefined;
  if (!group) return undefined;
  const prefix = typeof o['awslogs-stream-prefix'] === 'string' && o['awslogs-stream-prefix'] !== '' ? o['awslogs-stream-prefix'] : undefined;
  const taskId = taskArn.split('/').pop()!;
  const region = typeof o['awslogs-region'] === 'string' && /^[a-z]{2}(-[a-z]+)+-\d$/.test(o['awslogs-region']) ? o['awslogs-region'] : defaultRegion;
  return { region, logGroupName: group, logStreamName: prefix ? `${prefix}/${container}/${taskId}` : runtimeId, createGroup: o['awslogs-create-group'] === 'true' };
}

export interface LogRoutesDeps {
  store: Store;
  auth: AgentAuth;
  logs: LogSink;
}

const MAX_CACHED = 10_000;

export function registerLogRoutes(http: FastifyInstance, deps: LogRoutesDeps): void {
  // A task's placement and definition never change: the target of (instance, task, container, id) is cached.
  const targets = new Map<string, AwslogsTarget>();
  deps.store.onClear(() => targets.clear());

  const targetOf = async (req: FastifyRequest, input: LogStreamRequest): Promise<AwslogsTarget> => {
    const credential = await deps.auth.authenticate(bearerOf(req));
    ownInstance(credential, input.containerInstanceArn);
    const key = JSON.stringify([input.containerInstanceArn, input.taskArn, input.container, input.runtimeId]);
    const cached = targets.get(key);
    if (cached) return cached;
    const target = await deps.store.read(async (tx) => {
      const task = await tx.get(c.tasks, input.taskArn);
      if (!task || task.data.placedOn !== input.containerInstanceArn) {
        throw new ProtocolError(403, 'AccessDenied', `Task ${input.taskArn} is not placed on ${input.containerInstanceArn}.`);
      }
      const def = await tx.get(c.taskDefinitions, task.data.taskDefinitionArn);
      const cd = (def?.data.containerDefinitions as { name?: string; logConfiguration?: { logDriver?: unknown; options?: Record<string, unknown> } }[] | undefined)?.find(
        (x) => x.name === input.container,
      );
      const t = awslogsTarget(cd?.logConfiguration, input.container, input.taskArn, input.runtimeId, task.data.region);
      if (!t) throw new ProtocolError(400, 'BadRequest', `Container ${input.container} of ${input.taskArn} does not log with awslogs.`);
      return t;
    });
    if (targets.size >= MAX_CACHED) targets.clear();
    targets.set(key, target);
    return target;
  };

  http.post(`${AGENT_API_PREFIX}/logs/stream`, async (req, reply) => {
    try {
      // Authenticated before the body is looked at.
      bearerOf(req);
      const input = parse(LogStreamRequest, req.body);
      const target = await targetOf(req, input);
      const { cursor } = deps.logs.open(target);
      return { logGroupName: target.logGroupName, logStreamName: target.logStreamName, cursor } satisfies LogStreamResponse;
    } catch (e) {
      return sendError(reply, e);
    }
  });

  http.post(`${AGENT_API_PREFIX}/logs/events`, async (req, reply) => {
    try {
      bearerOf(req);
      const input = parse(LogEventsRequest, req.body);
      const bytes = input.events.reduce((n, e) => n + Buffer.byteLength(e.message) + 26, 0);
      if (bytes > 1_048_576) throw new ProtocolError(400, 'BadRequest', `The batch is ${bytes} bytes; at most 1048576 (PutLogEvents' limit).`);
      const target = await targetOf(req, input);
      return deps.logs.ingest(target, input.events) satisfies LogEventsResponse;
    } catch (e) {
      return sendError(reply, e);
    }
  });
}
