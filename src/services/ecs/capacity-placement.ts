/**
 * Where new tasks go: the one placement path RunTask and the service scheduler share.
 *
 *   resolveCapacity: launchType | capacityProviderStrategy | the cluster's default strategy | EC2,
 *                    checked as ECS checks them (providers exist, are associated, rules hold)
 *   placeTasks:      a launch type → the scheduler over the instances that launch type may use;
 *                    a strategy → splitAcrossProviders (pure, src/scheduler) says how many tasks
 *                    each provider gets, then the scheduler places each provider's share on the
 *                    instances that provide it. Tasks placed for one provider are added to the
 *                    snapshot before the next provider's turn (FARGATE and FARGATE_SPOT share
 *                    the same hosts), all inside the caller's write transaction.
 *
 * A provider's share is not moved to another provider when it does not fit (ECS does not
 * either): what does not fit is reported as failures.
 */
import type { CapacityProviderStrategyItem } from '../../aws/generated/ecs.js';
import {
  schedule,
  SchedulerInputError,
  splitAcrossProviders,
  type InstanceView,
  type Placement,
  type PlacementFailure,
  type PlacementRequest,
  type SnapshotMemo,
  type TaskView,
} from '../../scheduler/index.js';
import * as c from '../../store/collections.js';
import type { TaskDoc } from '../../store/collections.js';
import type { StoreTx } from '../../store/store.js';
import type { Scope } from './arns.js';
import { capacityProviderArn, FARGATE_CAPACITY_ATTRIBUTE, FARGATE_PROVIDERS, findProvider, instanceProvides, providerNameOf, type ProviderRef } from './capacity-providers.js';
import { checkStrategy, type ClusterRecord } from './clusters.js';
import { liveTaskView, type ClusterSnapshots } from './cluster-snapshots.js';
import * as err from './errors.js';

/** How a task was launched, as the task document records it. */
export interface Launch {
  launchType: string;
  capacityProviderName?: string;
}

/** The capacity a request resolved to: a launch type alone, or a strategy whose providers all launch as `launchType`. */
export interface ResolvedCapacity {
  launchType: string;
  strategy?: { item: CapacityProviderStrategyItem; provider: ProviderRef }[];
}

/**
 * What RunTask / CreateService asked for, resolved against the cluster (inside `tx`): an explicit
 * launch type, else the request's strategy, else the cluster's default strategy, else EC2.
 */
export async function resolveCapacity(
  tx: StoreTx,
  scope: Scope,
  cluster: ClusterRecord,
  input: { launchType?: string; capacityProviderStrategy?: CapacityProviderStrategyItem[] },
): Promise<ResolvedCapacity> {
  if (input.launchType && input.capacityProviderStrategy?.length) {
    throw err.invalidParameter('Specifying both a launchType and capacityProviderStrategy is not supported.');
  }
  if (input.launchType) return { launchType: input.launchType };
  const items = input.capacityProviderStrategy?.length ? input.capacityProviderStrategy : cluster.defaultCapacityProviderStrategy;
  if (items.length === 0) return { launchType: 'EC2' };
  checkStrategy(items);
  const strategy = [];
  for (const item of items) {
    const provider = await findProvider(tx, scope, item.capacityProvider);
    if (!provider) throw err.capacityProviderNotFound(item.capacityProvider);
    if (!cluster.capacityProviders.includes(provider.name)) throw err.capacityProviderNotAssociated();
    strategy.push({ item, provider });
  }
  return { launchType: strategy[0]!.provider.type === 'EC2_AUTOSCALING' ? 'EC2' : 'FARGATE', strategy };
}

/**
 * The launch type a request's tasks will have, without checking the providers (resolveCapacity
 * does): for checks made before placing, such as the task definition's compatibilities.
 */
export function launchTypeOf(input: { launchType?: string; capacityProviderStrategy?: CapacityProviderStrategyItem[] }, cluster: ClusterRecord): { launchType: string } {
  if (input.launchType) return { launchType: input.launchType };
  const items = input.capacityProviderStrategy?.length ? input.capacityProviderStrategy : cluster.defaultCapacityProviderStrategy;
  if (items.length === 0) return { launchType: 'EC2' };
  return { launchType: FARGATE_PROVIDERS.has(providerNameOf(items[0]!.capacityProvider)) ? 'FARGATE' : 'EC2' };
}

export interface PlaceTasksOptions {
  /** Seeds the scheduler's choices. */
  seed: string;
  /** Only this container instance is a candidate (a DAEMON service's task for one instance). */
  onInstance?: string;
  /** Tasks of the request's group already running per capacity provider (a service's; RunTask: none). */
  running?: Readonly<Record<string, number>>;
  /** Creates one placed task (the caller's task writer) and returns its document. */
  create: (placement: Placement, launch: Launch) => Promise<TaskDoc>;
}

/** Places `request.count` tasks with `capacity` on the cluster's instances, creating each through `create`. */
export async function placeTasks(
  tx: StoreTx,
  snapshots: ClusterSnapshots,
  scope: Scope,
  clusterArn: string,
  capacity: ResolvedCapacity,
  request: PlacementRequest,
  o: PlaceTasksOptions,
): Promise<{ tasks: TaskDoc[]; failures: PlacementFailure[] }> {
  const tasks: TaskDoc[] = [];
  const failures: PlacementFailure[] = [];
  const candidate = (i: InstanceView) => o.onInstance === undefined || i.arn === o.onInstance;
  // A memo pays off for the same instance set call after call, not for one instance.
  const memo = (kind: string) => (o.onInstance === undefined ? snapshots.memo(clusterArn, kind) : undefined);
  if (!capacity.strategy) {
    const fargate = capacity.launchType === 'FARGATE';
    const instances = await snapshots.instances(tx, clusterArn, (i) => (!fargate || i.attributes[FARGATE_CAPACITY_ATTRIBUTE] !== undefined) && candidate(i));
    if (instances.length === 0) throw noCapacity(fargate);
    const plan = scheduleOrThrow(instances, request, o.seed, memo(fargate ? 'FARGATE' : 'all'));
    for (const p of plan.placements) tasks.push(await o.create(p, { launchType: capacity.launchType }));
    return { tasks, failures: plan.failures };
  }

  const shares = splitAcrossProviders(
    capacity.strategy.map((s) => s.item),
    request.count,
    o.running,
  );
  // One read of the cluster's instances; each provider's are picked from it.
  const all = await snapshots.instances(tx, clusterArn, candidate);
  // Tasks this call placed, by instance: later providers' snapshots must see them.
  const placed = new Map<string, TaskView[]>();
  for (const [i, share] of shares.entries()) {
    if (share.count === 0) continue;
    const provider = capacity.strategy[i]!.provider;
    const instances = all.filter((inst) => instanceProvides(provider, inst.attributes)).map((inst) => withPlaced(inst, placed));
    if (!instances.some((inst) => inst.status === 'ACTIVE')) {
      if (provider.type !== 'EC2_AUTOSCALING') throw noCapacity(true);
      failures.push({ arn: capacityProviderArn(scope, provider.name), reason: 'Capacity is unavailable at this time.', detail: `No ACTIVE container instance provides the capacity provider ${provider.name}.` });
      continue;
    }
    const kind = provider.type === 'EC2_AUTOSCALING' ? `provider ${provider.name}` : 'FARGATE';
    const plan = scheduleOrThrow(instances, { ...request, count: share.count }, `${o.seed}:${provider.name}`, memo(kind));
    failures.push(...plan.failures);
    const launch = { launchType: capacity.launchType, capacityProviderName: provider.name };
    for (const p of plan.placements) {
      const doc = await o.create(p, launch);
      tasks.push(doc);
      placed.set(p.instanceArn, [...(placed.get(p.instanceArn) ?? []), liveTaskView(doc)]);
    }
  }
  return { tasks, failures };
}

/**
 * How many tasks of `group` (e.g. `service:web`) the cluster runs per capacity provider, not
 * counting those being stopped: what placeTasks' `running` wants for a service's next placements.
 */
export async function tasksPerProvider(tx: StoreTx, clusterArn: string, group: string): Promise<Record<string, number>> {
  const rows = await tx.find(c.tasks, { where: { cluster: clusterArn, task_group: group, desired_status: 'RUNNING' } });
  const out: Record<string, number> = {};
  for (const r of rows) {
    const provider = r.data.capacityProviderName;
    if (provider) out[provider] = (out[provider] ?? 0) + 1;
  }
  return out;
}

/** The scheduler's plan; its input errors are ECS's InvalidParameterException. */
export function scheduleOrThrow(instances: readonly InstanceView[], request: PlacementRequest, seed: string, memo?: SnapshotMemo) {
  try {
    return schedule({ instances }, request, { seed, memo });
  } catch (e) {
    if (e instanceof SchedulerInputError) throw err.invalidParameter(e.message);
    throw e;
  }
}

function withPlaced(instance: InstanceView, placed: Map<string, TaskView[]>): InstanceView {
  const extra = placed.get(instance.arn);
  return extra ? { ...instance, tasks: [...instance.tasks, ...extra] } : instance;
}

function noCapacity(fargate: boolean) {
  return err.invalidParameter(fargate ? 'No Fargate capacity is available: no agent in this cluster offers it.' : 'No Container Instances were found in your cluster.');
}
