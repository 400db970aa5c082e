/**
 * Task sets, for services with the EXTERNAL deployment controller (tools that drive blue/green
 * themselves): CreateTaskSet, DescribeTaskSets, UpdateTaskSet, DeleteTaskSet and
 * UpdateServicePrimaryTaskSet.
 *
 * A task set is what a deployment is for an ECS-controlled service: a task definition with its
 * launch type, network configuration and load balancers, scaled to a percentage of the service's
 * desiredCount (computedDesiredCount, rounded up). The API only records intent; the service
 * controller's task-set scheduler (task-set-scheduler.ts) starts and stops the tasks, registers
 * them in the task set's target groups, and removes a deleted (DRAINING) task set once its
 * tasks have stopped. Every call is one write transaction; a refused call writes nothing.
 */
import type {
  CreateTaskSetRequest,
  DeleteTaskSetRequest,
  DescribeTaskSetsRequest,
  UpdateServicePrimaryTaskSetRequest,
  UpdateTaskSetRequest,
} from '../../aws/generated/ecs.js';
import { AwsError } from '../../aws/errors.js';
import type { Clock } from '../../core/clock.js';
import * as c from '../../store/collections.js';
import type { Row, Store, StoreTx } from '../../store/store.js';
import { clusterNameOf, parseArn, type Scope } from './arns.js';
import { checkClientToken, requestHash } from './client-tokens.js';
import { activeCluster, resolveArn, type ClusterRecord } from './clusters.js';
import * as err from './errors.js';
import { checkDeployable, checkLaunch, checkLoadBalancers, findService, launchOf, newDeploymentId, serviceNotActive, serviceNotFound, type DeploymentConfig, type ServiceRecord, type Services } from './services.js';
import { checkTags } from './tags.js';
import { computedDesiredCount, isExternal, taskSetArn, taskSetView, type TaskSetRecord } from './task-set-records.js';
import { usableTaskDefinition } from './tasks.js';

/** ECS's quota: task sets per service. */
const MAX_TASK_SETS = 5;

export const taskSetNotFound = () => new AwsError('TaskSetNotFoundException', 'The specified task set does not exist.');

function checkScale(scale: { value?: number; unit?: string } | undefined): { value: number; unit: 'PERCENT' } {
  if (scale === undefined) return { value: 100, unit: 'PERCENT' };
  if (scale.unit !== undefined && scale.unit !== 'PERCENT') throw err.invalidParameter('Scale unit must be PERCENT.');
  const value = scale.value ?? 0;
  if (!Number.isFinite(value) || value < 0 || value > 100) throw err.invalidParameter('Scale value must be between 0 and 100.');
  return { value, unit: 'PERCENT' };
}

export class TaskSets {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    /** Its target-group lookup (set by the composition root) checks a task set's loadBalancers. */
    private readonly services: Services,
  ) {}

  async create(scope: Scope, input: CreateTaskSetRequest) {
    const scale = checkScale(input.scale);
    checkLaunch(input);
    checkTags(input.tags);
    if (input.externalId !== undefined && input.externalId.length > 255) throw err.invalidParameter('externalId must be at most 255 characters.');
    if (!input.taskDefinition) throw err.invalidParameter('TaskDefinition is required.');
    const token = input.clientToken;
    if (token !== undefined) checkClientToken(token);
    const clusterArn = resolveArn(scope, input.cluster);
    const now = this.clock.now();
    let service!: ServiceRecord;
    const set = await this.store.write(async (tx) => {
      const cluster = (await activeCluster(tx, clusterArn)).data as ClusterRecord;
      const { doc } = await externalService(tx, scope, clusterArn, input.service, true);
      service = doc;
      const hash = requestHash({ ...input, cluster: clusterArn, service: doc.serviceArn });
      const existing = (await tx.find(c.taskSets, { where: { service: doc.serviceArn } })).map((r) => r.data as TaskSetRecord);
      if (token !== undefined) {
        // A retry of the same request (same client token, same parameters) gets the task set back.
        const again = existing.find((s) => s.clientToken === token);
        if (again && again.requestHash === hash) return again;
        if (again) throw err.invalidParameter('Creation of task set was not idempotent.');
      }
      if (existing.filter((s) => s.status !== 'DRAINING').length >= MAX_TASK_SETS) throw new AwsError('LimitExceededException', `A service can have at most ${MAX_TASK_SETS} task sets.`);
      const td = await usableTaskDefinition(tx, scope, input.taskDefinition);
      // The same defaults as a service's.
      const launch = launchOf(input, cluster);
      const config: DeploymentConfig = {
        taskDefinition: td.taskDefinitionArn,
        ...launch,
        networkConfiguration: input.networkConfiguration,
        loadBalancers: input.loadBalancers ?? [],
        serviceRegistries: input.serviceRegistries ?? [],
      };
      checkDeployable(td, config, cluster);
      await checkLoadBalancers(scope, config.loadBalancers as never, td, this.services.targetGroups);
      const id = newDeploymentId();
      const arn = taskSetArn(scope, clusterNameOf(clusterArn), doc.serviceName, id);
      const record: TaskSetRecord = {
        accountId: scope.accountId,
        region: scope.region,
        id,
        taskSetArn: arn,
        serviceArn: doc.serviceArn,
        clusterArn,
        externalId: input.externalId,
        status: 'ACTIVE',
        taskDefinition: td.taskDefinitionArn,
        computedDesiredCount: 0,
        pendingCount: 0,
        runningCount: 0,
        createdAt: now,
        updatedAt: now,
        launchType: launch.launchType,
        capacityProviderStrategy: launch.capacityProviderStrategy,
        platformVersion: launch.platformVersion,
        platformFamily: launch.launchType === 'FARGATE' ? 'Linux' : undefined,
        networkConfiguration: input.networkConfiguration,
        loadBalancers: config.loadBalancers!,
        serviceRegistries: config.serviceRegistries!,
        scale,
        stabilityStatus: 'STABILIZING',
        stabilityStatusAt: now,
        tags: input.tags ?? [],
        clientToken: token,
        requestHash: hash,
      };
      record.computedDesiredCount = computedDesiredCount(doc, record);
      if (record.computedDesiredCount === 0) record.stabilityStatus = 'STEADY_STATE';
      await tx.insert(c.taskSets, arn, record);
      return record;
    });
    return { taskSet: taskSetView(set, true, service) };
  }

  async describe(scope: Scope, input: DescribeTaskSetsRequest) {
    if ((input.taskSets?.length ?? 0) > 10) throw err.invalidParameter('taskSets can have at most 10 items.');
    const clusterArn = resolveArn(scope, input.cluster);
    const includeTags = input.include?.includes('TAGS') ?? false;
    return this.store.read(async (tx) => {
      await activeCluster(tx, clusterArn);
      const { doc } = await externalService(tx, scope, clusterArn, input.service, false);
      const all = (await tx.find(c.taskSets, { where: { service: doc.serviceArn } })).map((r) => r.data as TaskSetRecord);
      if (!input.taskSets?.length) return { taskSets: all.sort((a, b) => a.createdAt - b.createdAt).map((s) => taskSetView(s, includeTags, doc)), failures: [] };
      const taskSets = [];
      const failures = [];
      for (const ref of input.taskSets) {
        const arn = refToArn(scope, doc, ref);
        const found = all.find((s) => s.taskSetArn === arn);
        if (found) taskSets.push(taskSetView(found, includeTags, doc));
        else failures.push({ arn: arn ?? ref, reason: 'MISSING' });
      }
      return { taskSets, failures };
    });
  }

  async update(scope: Scope, input: UpdateTaskSetRequest) {
    const scale = checkScale(input.scale);
    return this.change(scope, input, (set, doc) => {
      if (set.status === 'DRAINING') throw err.invalidParameter('The task set is being deleted and cannot be updated.');
      set.scale = scale;
      set.computedDesiredCount = computedDesiredCount(doc, set);
    });
  }

  async delete(scope: Scope, input: DeleteTaskSetRequest) {
    return this.change(
      scope,
      input,
      (set, doc) => {
        if (set.status === 'DRAINING') return;
        if (!input.force && computedDesiredCount(doc, set) > 0) {
          throw err.invalidParameter('The task set cannot be deleted while it is scaled above 0: scale it to 0 first (UpdateTaskSet), or delete it with force.');
        }
        set.status = 'DRAINING';
        set.computedDesiredCount = 0;
      },
      true,
    );
  }

  async updatePrimary(scope: Scope, input: UpdateServicePrimaryTaskSetRequest) {
    return this.change(scope, { ...input, taskSet: input.primaryTaskSet }, async (set, _doc, tx, now) => {
      if (set.status === 'DRAINING') throw err.invalidParameter('A task set being deleted cannot become the primary task set.');
      if (set.status === 'PRIMARY') return;
      // The former PRIMARY keeps serving its tasks as an ACTIVE task set.
      for (const r of await tx.find(c.taskSets, { where: { service: set.serviceArn } })) {
        if (r.pk !== set.taskSetArn && r.data.status === 'PRIMARY') await tx.update(c.taskSets, r, { ...r.data, status: 'ACTIVE', updatedAt: now });
      }
      set.status = 'PRIMARY';
    });
  }

  /** Loads one task set of an ACTIVE EXTERNAL service, applies `fn`, stores it when it changed. */
  private async change(
    scope: Scope,
    input: { cluster: string; service: string; taskSet: string },
    fn: (set: TaskSetRecord, service: ServiceRecord, tx: StoreTx, now: number) => void | Promise<void>,
    allowDraining = false,
  ) {
    const clusterArn = resolveArn(scope, input.cluster);
    const now = this.clock.now();
    let service!: ServiceRecord;
    const set = await this.store.write(async (tx) => {
      await activeCluster(tx, clusterArn);
      const { doc } = await externalService(tx, scope, clusterArn, input.service, !allowDraining);
      service = doc;
      const arn = refToArn(scope, doc, input.taskSet);
      const row = arn === undefined ? undefined : ((await tx.get(c.taskSets, arn)) as Row<TaskSetRecord> | undefined);
      if (!row || row.data.serviceArn !== doc.serviceArn) throw taskSetNotFound();
      const set = structuredClone(row.data);
      const before = JSON.stringify(set);
      await fn(set, doc, tx, now);
      if (JSON.stringify(set) !== before) {
        set.updatedAt = now;
        // Its task counts move: the task-set scheduler says when they have arrived.
        if (set.computedDesiredCount !== set.runningCount || set.pendingCount > 0) set.stabilityStatus = 'STABILIZING';
        set.stabilityStatusAt = set.stabilityStatus === row.data.stabilityStatus ? set.stabilityStatusAt : now;
        await tx.update(c.taskSets, row, set);
      }
      return set;
    });
    return { taskSet: taskSetView(set, false, service) };
  }
}

/** The EXTERNAL service a task-set call names: ServiceNotFoundException, ServiceNotActiveException, or InvalidParameterException for another controller. */
async function externalService(tx: StoreTx, scope: Scope, clusterArn: string, ref: string, mustBeActive: boolean): Promise<{ row: Row<ServiceRecord>; doc: ServiceRecord }> {
  const row = await findService(tx, scope, clusterArn, ref);
  if (!row || row.data.status === 'INACTIVE') throw serviceNotFound();
  if (mustBeActive && row.data.status !== 'ACTIVE') throw serviceNotActive();
  if (!isExternal(row.data)) throw err.invalidParameter('Task sets are only supported for services with the EXTERNAL deployment controller.');
  return { row, doc: row.data };
}

/** A task set ID (ecs-svc/…) or ARN → its ARN in this service (undefined: not one of its task sets). */
function refToArn(scope: Scope, service: ServiceRecord, ref: string): string | undefined {
  const parsed = parseArn(ref);
  if (!parsed) return taskSetArn(scope, clusterNameOf(service.clusterArn), service.serviceName, ref);
  return parsed.type === 'task-set' ? ref : undefined;
}
