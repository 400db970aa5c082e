/**
 * Tasks: RunTask, StartTask, StopTask, DescribeTasks, ListTasks.
 *
 * RunTask reads a snapshot of the cluster's container instances and the resources their tasks
 * hold, asks the pure scheduler for placements, and inserts the placed tasks — all inside one
 * write transaction, so two concurrent RunTasks cannot over-commit an instance (the store
 * serialises writers; a PostgreSQL store must re-check per instance, as Nomad's plan applier
 * does). Agents then pick the tasks up through the agent protocol and report their progress.
Every task document is written by task-state.ts (the one writer, shared with the agent API).
 * RunTask's clientToken is recalled and remembered in that same transaction (client-tokens.ts).
 */
import type { ListTasksRequest, RunTaskRequest, StartTaskRequest, StopTaskRequest, DescribeTasksRequest } from '../../aws/generated/ecs.js';
import type { Clock } from '../../core/clock.js';
import { hexId } from '../../core/ids.js';
import { keysetPage, tokenPosition } from '../../core/pagination.js';
import type { PlacementRequest, TaskDefinitionView } from '../../scheduler/index.js';
import * as c from '../../store/collections.js';
import type { TaskDoc } from '../../store/collections.js';
import type { Row, StoreTx, Store } from '../../store/store.js';
import { clusterNameOf, containerInstanceArn, parseArn, taskArn, type Scope } from './arns.js';
import { checkClientToken, recallClientToken, rememberClientToken, requestHash } from './client-tokens.js';
import { placeTasks, resolveCapacity, scheduleOrThrow, tasksPerProvider } from './capacity-placement.js';
import { activeCluster, resolveArn, type ClusterRecord } from './clusters.js';
import { ClusterSnapshots, liveTaskView } from './cluster-snapshots.js';
import { createTask, requestStop } from './task-state.js';
import * as err from './errors.js';
import { checkTags, type Tag } from './tags.js';
import { findTaskDefinition, type TaskDefinitionRecord } from './task-definitions.js';
import { pageSize } from './validation.js';

/** For checks made before placing (the services module's): the launch type a request resolves to. */
export { launchTypeOf } from './capacity-placement.js';

/** RunTask's input as the model defines it (src/aws/generated/ecs.ts). */
export type RunTaskInput = RunTaskRequest;
/** What Tasks.place needs: RunTask's parameters, any count, and what a service adds to its tasks. */
export type PlaceInput = Omit<RunTaskInput, 'count'> & {
  count: number;
  /** Only this container instance is a candidate (a DAEMON service's task for one instance). */
  onInstance?: string;
  /** The service the task belongs to (tasks' `service` column); its tasks per capacity provider count toward its strategy's base and weights. */
  serviceName?: string;
};
/** ECS's StartTask takes no clientToken (unlike RunTask): a retried StartTask starts another task, in ECS as here. */
export type StartTaskInput = StartTaskRequest;

/** A task as the ECS API shows it: internal fields are dropped by the model's output shape. */
export function taskView(doc: TaskDoc, includeTags = false): Record<string, unknown> {
  const view: Record<string, unknown> = { ...doc, tags: includeTags ? doc.tags ?? [] : undefined };
  if (doc.launchType === 'FARGATE') delete view.containerInstanceArn;
  return view;
}

export class Tasks {
  /** The clusters as RunTask's scheduler sees them, kept current by the store's write notifications. */
  private readonly snapshots: ClusterSnapshots;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly seed: () => string = hexId,
  ) {
    this.snapshots = new ClusterSnapshots(store);
  }

  async run(scope: Scope, input: RunTaskInput) {
    const count = input.count ?? 1;
    if (count < 1 || count > 10) throw err.invalidParameter('count must be between 1 and 10.');
    if (input.launchType && input.capacityProviderStrategy?.length) {
      throw err.invalidParameter('Specifying both a launchType and capacityProviderStrategy is not supported.');
    }
    checkTags(input.tags);
    if ((input.placementConstraints?.length ?? 0) > 10) throw err.invalidParameter('A maximum of 10 placement constraints may be specified.');
    if ((input.placementStrategy?.length ?? 0) > 5) throw err.invalidParameter('A maximum of 5 placement strategies may be specified.');
    const clusterArn = resolveArn(scope, input.cluster);
    const token = input.clientToken;
    if (token !== undefined) checkClientToken(token);
    const hash = token === undefined ? '' : requestHash({ ...input, cluster: clusterArn, count });

    const result = await this.store.write(async (tx) => {
      if (token !== undefined) {
        // A retry: the tasks the first request started, as they are now; nothing new starts.
        const earlier = await recallClientToken(tx, clusterArn, token, hash, this.clock.now());
        if (earlier) return { tasks: await tasksByArn(tx, earlier.taskArns), failures: earlier.failures };
      }
      const cluster = (await activeCluster(tx, clusterArn)).data as ClusterRecord;
      const td = await usableTaskDefinition(tx, scope, input.taskDefinition);
      const { tasks, failures } = await this.place(tx, scope, cluster, td, { ...input, count });
      if (token !== undefined) {
        const doc = { accountId: scope.accountId, region: scope.region, clusterArn, token, requestHash: hash, taskArns: tasks.map((t) => t.taskArn), failures };
        await rememberClientToken(tx, doc, this.clock.now());
      }
      return { tasks, failures };
    });
    return { tasks: result.tasks.map((t) => taskView(t, true)), failures: result.failures };
  }

  /**
   * The one placement path, RunTask's and the service scheduler's (capacity-placement.ts): launch
   * type or capacity provider strategy (the cluster's default when neither is given), split across
   * providers by base and weight, candidate instances (`onInstance` narrows them to one, for DAEMON
   * tasks), the pure scheduler, and the placed tasks written in `tx`.
   */
  async place(tx: StoreTx, scope: Scope, cluster: ClusterRecord, td: TaskDefinitionRecord, input: PlaceInput) {
    const capacity = await resolveCapacity(tx, scope, cluster, input);
    checkRunnable(td, capacity.launchType, input);
    const request: PlacementRequest = {
      count: input.count,
      taskDefinition: td as unknown as TaskDefinitionView,
      overrides: input.overrides,
      group: input.group ?? `family:${td.family}`,
      placementConstraints: input.placementConstraints,
      placementStrategy: input.placementStrategy,
    };
    // A service's base and weights count the tasks it already runs per provider (RunTask's apply per call).
    const running = capacity.strategy && input.serviceName !== undefined ? await tasksPerProvider(tx, cluster.clusterArn, request.group!) : undefined;
    return placeTasks(tx, this.snapshots, scope, cluster.clusterArn, capacity, request, {
      seed: this.seed(),
      onInstance: input.onInstance,
      running,
      create: (placement, launch) => createTask(tx, scope, cluster, td, input, placement.instanceArn, launch, this.clock.now()),
    });
  }

  async start(scope: Scope, input: StartTaskInput) {
    if (input.containerInstances.length < 1 || input.containerInstances.length > 10) {
      throw err.invalidParameter('containerInstances must list between 1 and 10 container instances.');
    }
    checkTags(input.tags);
    const clusterArn = resolveArn(scope, input.cluster);
    const result = await this.store.write(async (tx) => {
      const cluster = (await activeCluster(tx, clusterArn)).data as ClusterRecord;
      const td = await usableTaskDefinition(tx, scope, input.taskDefinition);
      checkRunnable(td, 'EC2', input);
      const all = await this.snapshots.instances(tx, clusterArn);
      const tasks: TaskDoc[] = [];
      const failures: { arn?: string; reason: string; detail?: string }[] = [];
      for (const ref of input.containerInstances) {
        const arn = parseArn(ref) ? ref : containerInstanceArn(scope, cluster.clusterName, ref);
        const at = all.findIndex((i) => i.arn === arn);
        const instance = all[at];
        if (!instance) {
          failures.push({ arn, reason: 'MISSING' });
          continue;
        }
        // StartTask names the instance: the scheduler only checks that the task fits there.
        const plan = scheduleOrThrow(
          [instance],
          { count: 1, taskDefinition: td as unknown as TaskDefinitionView, overrides: input.overrides, group: input.group ?? `family:${td.family}` },
          this.seed(),
        );
        failures.push(...plan.failures);
        for (const p of plan.placements) {
          const doc = await createTask(tx, scope, cluster, td, input, p.instanceArn, { launchType: 'EC2' }, this.clock.now());
          tasks.push(doc);
          // The same instance may be named again: it now holds this task too.
          all[at] = { ...instance, tasks: [...instance.tasks, liveTaskView(doc)] };
        }
      }
      return { tasks, failures };
    });
    return { tasks: result.tasks.map((t) => taskView(t, true)), failures: result.failures };
  }

  async stop(scope: Scope, input: StopTaskRequest) {
    if (input.reason !== undefined && input.reason.length > MAX_STOP_REASON_LENGTH) {
      throw err.invalidParameter(`reason must be at most ${MAX_STOP_REASON_LENGTH} characters.`);
    }
    const clusterArn = resolveArn(scope, input.cluster);
    const doc = await this.store.write(async (tx) => {
      await activeCluster(tx, clusterArn);
      const row = await findTask(tx, scope, clusterArn, input.task);
      if (!row) throw err.invalidParameter('The referenced task was not found.');
      return requestStop(tx, row, input.reason, this.clock.now());
    });
    return { task: taskView(doc) };
  }

  async describe(scope: Scope, input: DescribeTasksRequest) {
    if (input.tasks.length === 0) throw err.invalidParameter('Tasks cannot be empty.');
    if (input.tasks.length > 100) throw err.invalidParameter('A maximum of 100 tasks can be described at once.');
    const clusterArn = resolveArn(scope, input.cluster);
    const includeTags = input.include?.includes('TAGS') ?? false;
    return this.store.read(async (tx) => {
      await activeCluster(tx, clusterArn);
      const tasks = [];
      const failures = [];
      for (const ref of input.tasks) {
        const row = await findTask(tx, scope, clusterArn, ref);
        if (row) tasks.push(taskView(row.data, includeTags));
        else failures.push({ arn: ref, reason: 'MISSING' });
      }
      return { tasks, failures };
    });
  }

  async list(scope: Scope, input: ListTasksRequest) {
    const clusterArn = resolveArn(scope, input.cluster);
    const clusterName = clusterNameOf(clusterArn);
    const where: Record<string, string> = { cluster: clusterArn, desired_status: input.desiredStatus ?? 'RUNNING' };
    if (input.containerInstance) {
      where.instance = parseArn(input.containerInstance) ? input.containerInstance : containerInstanceArn(scope, clusterName, input.containerInstance);
    }
    if (input.family) where.family = input.family;
    if (input.startedBy) where.started_by = input.startedBy;
    if (input.serviceName) where.task_group = `service:${input.serviceName}`;
    if (input.launchType) where.launch_type = input.launchType;
    const size = pageSize(input.maxResults, 100);
    const start = tokenPosition(input.nextToken, ['string']);
    const page = await this.store.read(async (tx) => {
      await activeCluster(tx, clusterArn);
      // PENDING is accepted for compatibility; ECS itself never reports it as a desired status.
      if (input.desiredStatus === 'PENDING') return { items: [] };
      // Keys only, one page through the (cluster, desired_status, pk) index.
      return keysetPage((after, limit) => tx.select(c.tasks, [], { where, orderBy: [['pk', 'asc']], after, limit }), (r) => [r.pk], size, start);
    });
    return { taskArns: page.items.map((r) => r.pk), nextToken: page.nextToken };
  }
}

export async function usableTaskDefinition(tx: StoreTx, scope: Scope, ref: string): Promise<TaskDefinitionRecord> {
  const row = await findTaskDefinition(tx, scope, ref);
  if (!row || row.data.status === 'DELETE_IN_PROGRESS') throw err.clientException('Unable to find task definition.');
  if (row.data.status !== 'ACTIVE') throw err.clientException(`TaskDefinition is inactive: ${row.pk}`);
  return row.data;
}

const MAX_OVERRIDES_LENGTH = 8192;
const MAX_STOP_REASON_LENGTH = 255;

/** The launch-type and network checks RunTask/StartTask make before placement. */
export function checkRunnable(td: TaskDefinitionRecord, launchType: string, input: PlaceInput | StartTaskInput) {
  if (!td.compatibilities.includes(launchType)) {
    throw err.invalidParameter(`Task definition does not support launch_type ${launchType}.`);
  }
  const vpc = input.networkConfiguration?.awsvpcConfiguration;
  if (td.networkMode === 'awsvpc') {
    if (!vpc) throw err.invalidParameter("Network Configuration must be provided when networkMode 'awsvpc' is specified.");
    if (!vpc.subnets?.length) throw err.invalidParameter('subnets can not be empty.');
  } else if (vpc) {
    throw err.invalidParameter('Network Configuration is not valid for the given networkMode of this task definition.');
  }
  const names = new Set(td.containerDefinitions.map((ct) => ct.name));
  for (const o of input.overrides?.containerOverrides ?? []) {
    if (!o.name || !names.has(o.name)) {
      throw err.invalidParameter(`Override for container named ${o.name ?? '(none)'} is not a container in the TaskDefinition.`);
    }
  }
  // ECS counts the overrides' JSON, formatting characters included.
  if (input.overrides && JSON.stringify(input.overrides).length > MAX_OVERRIDES_LENGTH) {
    throw err.invalidParameter(`Container Overrides length must be at most ${MAX_OVERRIDES_LENGTH}`);
  }
  if (input.startedBy !== undefined && input.startedBy.length > 128) throw err.invalidParameter('startedBy must be at most 128 characters.');
  if (input.group !== undefined && input.group.length > 255) throw err.invalidParameter('group must be at most 255 characters.');
}

async function tasksByArn(tx: StoreTx, arns: readonly string[]): Promise<TaskDoc[]> {
  const out: TaskDoc[] = [];
  for (const arn of arns) {
    const row = await tx.get(c.tasks, arn);
    if (row) out.push(row.data);
  }
  return out;
}

/** A task of the cluster by ARN or id. */
export async function findTask(tx: StoreTx, scope: Scope, clusterArn: string, ref: string): Promise<Row<TaskDoc> | undefined> {
  const arn = parseArn(ref) ? ref : taskArn(scope, clusterNameOf(clusterArn), ref);
  const row = await tx.get(c.tasks, arn);
  return row && row.data.clusterArn === clusterArn ? row : undefined;
}
