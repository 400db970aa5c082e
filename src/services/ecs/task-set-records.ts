/**
 * Task sets as stored and shown, and the rules a service with the EXTERNAL deployment controller
 * follows in CreateService / UpdateService / DescribeServices. Kept apart from task-sets.ts (the
 * API) so that services.ts can use them without an import cycle.
 *
 * An EXTERNAL service carries only what schedules its tasks (desired count, placement, health
 * check grace period, tags); what runs (task definition, launch type or capacity provider
 * strategy, network configuration, load balancers, service registries) belongs to each task set.
 * DescribeServices shows the PRIMARY task set's values on the service, and no deployments.
 */
import type { CreateServiceRequest, UpdateServiceRequest } from '../../aws/generated/ecs.js';
import * as c from '../../store/collections.js';
import type { TaskSetDoc } from '../../store/collections.js';
import type { StoreTx } from '../../store/store.js';
import type { Scope } from './arns.js';
import * as err from './errors.js';
import type { Tag } from './tags.js';

export interface TaskSetRecord extends TaskSetDoc {
  status: 'PRIMARY' | 'ACTIVE' | 'DRAINING';
  externalId?: string;
  startedBy?: string;
  taskDefinition: string;
  computedDesiredCount: number;
  pendingCount: number;
  runningCount: number;
  updatedAt: number;
  launchType?: string;
  capacityProviderStrategy?: { capacityProvider: string; weight?: number; base?: number }[];
  platformVersion?: string;
  platformFamily?: string;
  networkConfiguration?: unknown;
  loadBalancers: unknown[];
  serviceRegistries: unknown[];
  scale: { value: number; unit: 'PERCENT' };
  stabilityStatus: 'STEADY_STATE' | 'STABILIZING';
  stabilityStatusAt: number;
  tags: Tag[];
  /** Internal: CreateTaskSet's client token and request digest. */
  clientToken?: string;
  requestHash?: string;
}

export const taskSetArn = (s: Scope, cluster: string, service: string, id: string) => `arn:aws:ecs:${s.region}:${s.accountId}:task-set/${cluster}/${service}/${id}`;

export const isExternal = (doc: { deploymentController?: { type?: string } }) => doc.deploymentController?.type === 'EXTERNAL';

/** The service's desiredCount times the task set's scale, rounded up (ECS's computedDesiredCount); 0 while draining. */
export function computedDesiredCount(service: { desiredCount: number; status: string }, set: Pick<TaskSetRecord, 'status' | 'scale'>): number {
  if (service.status !== 'ACTIVE' || set.status === 'DRAINING') return 0;
  // 1e-9: 3 × 33.3% is 0.999, not 1.0000000001.
  return Math.ceil((service.desiredCount * set.scale.value) / 100 - 1e-9);
}

/**
 * A task set as ECS shows it (the model's output shape drops the internal fields), its
 * computedDesiredCount from the service's current desiredCount.
 */
export function taskSetView(set: TaskSetRecord, includeTags: boolean, service: { desiredCount: number; status: string }): Record<string, unknown> {
  return { ...set, computedDesiredCount: computedDesiredCount(service, set), tags: includeTags ? set.tags : undefined };
}

/** The service's task sets, PRIMARY first, then newest first. */
export async function taskSetsOf(tx: StoreTx, serviceArn: string): Promise<TaskSetRecord[]> {
  const rows = await tx.find(c.taskSets, { where: { service: serviceArn } });
  const rank = (s: TaskSetRecord) => (s.status === 'PRIMARY' ? 0 : s.status === 'ACTIVE' ? 1 : 2);
  return rows.map((r) => r.data as TaskSetRecord).sort((a, b) => rank(a) - rank(b) || b.createdAt - a.createdAt || (a.id < b.id ? -1 : 1));
}

/** What DescribeServices shows of an EXTERNAL service: its task sets, the PRIMARY's configuration, no deployments. */
export function externalServiceFields(service: { desiredCount: number; status: string }, taskSets: readonly TaskSetRecord[]): Record<string, unknown> {
  const primary = taskSets.find((s) => s.status === 'PRIMARY');
  return {
    taskSets: taskSets.map((s) => taskSetView(s, false, service)),
    deployments: undefined,
    currentServiceDeployment: undefined,
    currentServiceRevisions: undefined,
    taskDefinition: primary?.taskDefinition,
    launchType: primary?.launchType,
    capacityProviderStrategy: primary?.capacityProviderStrategy,
    platformVersion: primary?.platformVersion,
    platformFamily: primary?.platformFamily,
    networkConfiguration: primary?.networkConfiguration,
    loadBalancers: primary?.loadBalancers,
    serviceRegistries: primary?.serviceRegistries,
  };
}

/** What a task set carries and an EXTERNAL service therefore refuses (CreateService, UpdateService). */
const TASK_SET_FIELDS = [
  'taskDefinition',
  'launchType',
  'capacityProviderStrategy',
  'platformVersion',
  'networkConfiguration',
  'loadBalancers',
  'serviceRegistries',
  'serviceConnectConfiguration',
  'volumeConfigurations',
  'vpcLatticeConfigurations',
] as const;

function refuseTaskSetFields(input: Partial<Record<(typeof TASK_SET_FIELDS)[number], unknown>>, verb: string): void {
  for (const f of TASK_SET_FIELDS) {
    const v = input[f];
    if (v === undefined || (Array.isArray(v) && v.length === 0)) continue;
    throw err.invalidParameter(`${f} cannot be ${verb} a service with the EXTERNAL deployment controller: it belongs to the task set (CreateTaskSet).`);
  }
}

/** CreateService's checks for the EXTERNAL and CODE_DEPLOY controllers (the ECS controller needs none). */
export function checkDeploymentController(input: CreateServiceRequest): void {
  const type = input.deploymentController?.type ?? 'ECS';
  if (type === 'CODE_DEPLOY') {
    throw err.invalidParameter('The CODE_DEPLOY deployment controller is not supported: use the ECS deployment controller, or EXTERNAL with task sets (CreateTaskSet) to drive deployments yourself.');
  }
  if (type !== 'EXTERNAL') return;
  if (input.schedulingStrategy === 'DAEMON') throw err.invalidParameter('The EXTERNAL deployment controller does not support the DAEMON scheduling strategy.');
  refuseTaskSetFields(input, 'specified for');
}

/** UpdateService of an EXTERNAL service: the desired count and the scheduling parameters change; what runs changes through a new task set. */
export function checkExternalUpdate(input: UpdateServiceRequest): void {
  refuseTaskSetFields(input, 'updated on');
  if (input.forceNewDeployment) throw err.invalidParameter('forceNewDeployment is not supported for a service with the EXTERNAL deployment controller: create a new task set.');
}
