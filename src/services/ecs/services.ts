/**
 * ECS services: CreateService, UpdateService, DeleteService, DescribeServices, ListServices,
 * ListServicesByNamespace, and the deployment history (ListServiceDeployments,
 * DescribeServiceDeployments, DescribeServiceRevisions, StopServiceDeployment).
 *
 * A service document holds ECS's `Service` shape: its live deployments (PRIMARY first, ECS's
 * `Deployment` shape) and its last 100 events, newest first. Every configuration change that ECS
 * deploys (task definition, network, capacity, load balancers, forceNewDeployment …) adds a
 * deployment, with a service revision (what it deploys) and a service deployment (its history
 * record). The API only records intent; the service controller (src/controllers/) makes the
 * tasks follow it through ServiceScheduler (service-scheduler.ts), the other writer of these
 * documents, always inside one write transaction per service.
 */
import { randomInt } from 'node:crypto';
import type {
  ContinueServiceDeploymentRequest,
  CreateServiceRequest,
  DeleteServiceRequest,
  DeploymentConfiguration,
  DescribeServiceDeploymentsRequest,
  DescribeServiceRevisionsRequest,
  DescribeServicesRequest,
  ListServiceDeploymentsRequest,
  ListServicesByNamespaceRequest,
  ListServicesRequest,
  StopServiceDeploymentRequest,
  UpdateServiceRequest,
} from '../../aws/generated/ecs.js';
import { AwsError } from '../../aws/errors.js';
import type { Clock } from '../../core/clock.js';
import { hexId } from '../../core/ids.js';
import { keysetPage, tokenPosition } from '../../core/pagination.js';
import * as c from '../../store/collections.js';
import type { ServiceDeploymentDoc, ServiceDoc, ServiceRevisionDoc } from '../../store/collections.js';
import type { Row, Store, StoreTx } from '../../store/store.js';
import { clusterNameOf, parseArn, serviceArn, type Scope } from './arns.js';
import { checkClientToken, requestHash } from './client-tokens.js';
import { activeCluster, resolveArn, type ClusterRecord } from './clusters.js';
import * as err from './errors.js';
import { checkTags, type Tag } from './tags.js';
import type { TaskDefinitionRecord } from './task-definitions.js';
import { checkRunnable, launchTypeOf, usableTaskDefinition } from './tasks.js';
import { checkDeploymentController, checkExternalUpdate, externalServiceFields, isExternal, taskSetsOf, type TaskSetRecord } from './task-set-records.js';
import { pageSize } from './validation.js';
import type { ShiftState } from '../../scheduler/index.js';
import { checkAdvanced, checkStrategy, dropStaleStrategySettings, continueDeployment, planShift, rollBackShift, type ListenerRuleLookup, type ShiftRef } from './traffic-shift.js';

const SERVICE_NAME = /^[a-zA-Z0-9_-]{1,255}$/;
/** ECS's quota is 5,000 tasks per service (adjustable); Dockyard allows up to this many. */
export const MAX_DESIRED_COUNT = 10_000;
const MAX_EVENTS = 100;
const MAX_GRACE_SECONDS = 2_147_483_647;

/** What a deployment deploys: the service revision's content. */
export interface DeploymentConfig {
  taskDefinition: string;
  launchType?: string;
  capacityProviderStrategy?: { capacityProvider: string; weight?: number; base?: number }[];
  platformVersion?: string;
  networkConfiguration?: unknown;
  loadBalancers?: unknown[];
  serviceRegistries?: unknown[];
  serviceConnectConfiguration?: unknown;
  volumeConfigurations?: unknown[];
  vpcLatticeConfigurations?: unknown[];
}

/** ECS's `Deployment`, plus what the scheduler keeps with it. */
export interface DeploymentRecord extends DeploymentConfig {
  id: string;
  status: 'PRIMARY' | 'ACTIVE';
  desiredCount: number;
  pendingCount: number;
  runningCount: number;
  failedTasks: number;
  createdAt: number;
  updatedAt: number;
  rolloutState: 'IN_PROGRESS' | 'COMPLETED' | 'FAILED';
  rolloutStateReason: string;
  /** Internal: its service revision and the service deployment (history record) it belongs to. */
  serviceRevisionArn: string;
  serviceDeploymentArn: string;
  /** Internal: its task definition has a container health check. */
  healthChecked: boolean;
  /** Internal: the deployment id this one rolls back (circuit breaker or StopServiceDeployment). */
  rollbackOf?: string;
  /** Internal: where its tasks register (loadBalancers with the target group it deploys behind; traffic-shift.ts). */
  lbRefs?: unknown[];
  /** Internal: a BLUE_GREEN, LINEAR or CANARY deployment's progress (deployment-strategies.ts). */
  shift?: ShiftState;
}

export interface ServiceEventRecord {
  id: string;
  createdAt: number;
  message: string;
}

export interface ServiceRecord extends ServiceDoc {
  desiredCount: number;
  runningCount: number;
  pendingCount: number;
  /** Undefined for an EXTERNAL service (its task sets carry task definitions). */
  taskDefinition?: string;
  deploymentConfiguration: DeploymentConfiguration & { minimumHealthyPercent: number; maximumPercent: number };
  deploymentController: { type: string };
  deployments: DeploymentRecord[];
  events: ServiceEventRecord[];
  placementConstraints: { type?: string; expression?: string }[];
  placementStrategy: { type?: string; field?: string }[];
  healthCheckGracePeriodSeconds?: number;
  schedulingStrategy: 'REPLICA' | 'DAEMON';
  tags: Tag[];
  createdAt: number;
  createdBy?: string;
  enableECSManagedTags: boolean;
  propagateTags: string;
  enableExecuteCommand: boolean;
  /** Internal: the last COMPLETED deployment (what a rollback returns to). */
  lastCompleted?: DeploymentRecord;
  /** Internal: steady state reached (so the event is said once per arrival). */
  steady: boolean;
  /** Internal: placement back-off after failures (epoch seconds; attempts so far). */
  placementRetryAt?: number;
  placementAttempts?: number;
  /** Internal: CreateService's client token and request digest. */
  clientToken?: string;
  requestHash?: string;
}

const CONFIG_FIELDS = ['taskDefinition', 'launchType', 'capacityProviderStrategy', 'platformVersion', 'networkConfiguration', 'loadBalancers', 'serviceRegistries', 'serviceConnectConfiguration', 'volumeConfigurations', 'vpcLatticeConfigurations'] as const;
/** Only what a deployment deploys (a DeploymentRecord carries its bookkeeping too). */
export function configOf(d: DeploymentConfig): DeploymentConfig {
  const out: Record<string, unknown> = {};
  for (const k of CONFIG_FIELDS) if (d[k] !== undefined) out[k] = d[k];
  return out as unknown as DeploymentConfig;
}

const digits = (n: number) => Array.from({ length: n }, (_, i) => (i === 0 ? randomInt(1, 10) : randomInt(0, 10))).join('');
export const newDeploymentId = () => `ecs-svc/${digits(19)}`;

export const serviceDeploymentArn = (s: Scope, cluster: string, service: string) =>
  `arn:aws:ecs:${s.region}:${s.accountId}:service-deployment/${cluster}/${service}/${hexId().slice(0, 22)}`;
export const serviceRevisionArn = (s: Scope, cluster: string, service: string) =>
  `arn:aws:ecs:${s.region}:${s.accountId}:service-revision/${cluster}/${service}/${digits(19)}`;

/** ECS's rule for service names (CreateService, and Express Mode's generated or given names). */
export function checkServiceName(name: string): void {
  if (!SERVICE_NAME.test(name)) throw err.invalidParameter('Service name can only contain letters, numbers, hyphens and underscores, and be up to 255 characters long.');
}

export const serviceNotFound = () => new AwsError('ServiceNotFoundException', 'Service not found.');
export const serviceNotActive = () => new AwsError('ServiceNotActiveException', 'Service was not ACTIVE.');

/** Adds an event (newest first; ECS keeps the latest 100). */
export function addEvents(doc: ServiceRecord, messages: readonly string[], now: number): void {
  if (messages.length === 0) return;
  const added = messages.map((message) => ({ id: crypto.randomUUID(), createdAt: now, message })).reverse();
  doc.events = [...added, ...doc.events].slice(0, MAX_EVENTS);
}

const hasHealthCheck = (td: TaskDefinitionRecord) => td.containerDefinitions.some((ct) => (ct as { healthCheck?: unknown }).healthCheck !== undefined);

/**
 * Starts a deployment of `config` for the service (in `tx`): a service revision, a service
 * deployment record (`serviceDeploymentArn` given: a rollback inside that one), and the new
 * PRIMARY; the former PRIMARY becomes ACTIVE.
 */
export async function startDeployment(
  tx: StoreTx,
  doc: ServiceRecord,
  td: TaskDefinitionRecord,
  config: DeploymentConfig,
  now: number,
  rollbackOf?: { serviceDeploymentArn: string; reason: string },
): Promise<DeploymentRecord> {
  config = configOf(config);
  const scope = { accountId: doc.accountId, region: doc.region };
  const cluster = clusterNameOf(doc.clusterArn);
  const id = newDeploymentId();
  const revisionArn = serviceRevisionArn(scope, cluster, doc.serviceName);
  const revision: ServiceRevisionDoc = {
    accountId: doc.accountId,
    region: doc.region,
    serviceRevisionArn: revisionArn,
    serviceArn: doc.serviceArn,
    clusterArn: doc.clusterArn,
    createdAt: now,
    ...config,
    taskDefinition: td.taskDefinitionArn,
    containerImages: td.containerDefinitions.map((ct) => ({ containerName: ct.name, image: ct.image })),
    guardDutyEnabled: false,
  };
  await tx.insert(c.serviceRevisions, revisionArn, revision);
  let deploymentArn: string;
  const previous = doc.deployments[0];
  if (rollbackOf) {
    deploymentArn = rollbackOf.serviceDeploymentArn;
    const row = await tx.get(c.serviceDeployments, deploymentArn);
    if (row) {
      await tx.update(c.serviceDeployments, row, {
        ...row.data,
        status: 'ROLLBACK_IN_PROGRESS',
        statusReason: rollbackOf.reason,
        rollback: { reason: rollbackOf.reason, startedAt: now, serviceRevisionArn: revisionArn },
        updatedAt: now,
      });
    }
  } else {
    deploymentArn = serviceDeploymentArn(scope, cluster, doc.serviceName);
    // A deployment still under way when another starts is superseded.
    for (const d of doc.deployments) await finishServiceDeployment(tx, d.serviceDeploymentArn, 'STOPPED', now, 'Superseded by a newer service deployment.');
    const history: ServiceDeploymentDoc = {
      accountId: doc.accountId,
      region: doc.region,
      serviceDeploymentArn: deploymentArn,
      serviceArn: doc.serviceArn,
      clusterArn: doc.clusterArn,
      createdAt: now,
      startedAt: now,
      updatedAt: now,
      status: 'IN_PROGRESS',
      sourceServiceRevisions: previous ? [{ arn: previous.serviceRevisionArn }] : [],
      targetServiceRevision: { arn: revisionArn, requestedTaskCount: doc.desiredCount },
      deploymentConfiguration: doc.deploymentConfiguration,
      deploymentCircuitBreaker: circuitBreakerView(doc),
      alarms: { status: doc.deploymentConfiguration.alarms?.enable ? 'MONITORING' : 'DISABLED' },
      lifecycleStage: 'RECONCILE_SERVICE',
    };
    await tx.insert(c.serviceDeployments, deploymentArn, history);
  }
  const deployment: DeploymentRecord = {
    ...config,
    taskDefinition: td.taskDefinitionArn,
    id,
    status: 'PRIMARY',
    desiredCount: doc.desiredCount,
    pendingCount: 0,
    runningCount: 0,
    failedTasks: 0,
    createdAt: now,
    updatedAt: now,
    rolloutState: 'IN_PROGRESS',
    rolloutStateReason: rollbackOf ? rollbackOf.reason : `ECS deployment ${id} in progress.`,
    serviceRevisionArn: revisionArn,
    serviceDeploymentArn: deploymentArn,
    healthChecked: hasHealthCheck(td),
    platformFamily: config.launchType === 'FARGATE' ? 'Linux' : undefined,
  } as DeploymentRecord;
  planShift(doc, deployment, previous, now, rollbackOf !== undefined);
  doc.deployments = [deployment, ...doc.deployments.map((d) => ({ ...d, status: 'ACTIVE' as const, updatedAt: now }))];
  doc.taskDefinition = td.taskDefinitionArn;
  doc.steady = false;
  doc.placementRetryAt = undefined;
  doc.placementAttempts = 0;
  return deployment;
}

/** Closes a service deployment record that is still open. */
export async function finishServiceDeployment(tx: StoreTx, arn: string, status: string, now: number, reason?: string): Promise<void> {
  const row = await tx.get(c.serviceDeployments, arn);
  if (!row || !['PENDING', 'IN_PROGRESS', 'ROLLBACK_IN_PROGRESS', 'STOP_REQUESTED', 'ROLLBACK_REQUESTED'].includes(row.data.status)) return;
  const next: ServiceDeploymentDoc = { ...row.data, status, updatedAt: now, finishedAt: now };
  if (reason !== undefined) next.statusReason = reason;
  if (status === 'STOPPED') next.stoppedAt = now;
  await tx.update(c.serviceDeployments, row, next);
}

function circuitBreakerView(doc: ServiceRecord) {
  const cb = doc.deploymentConfiguration.deploymentCircuitBreaker;
  return cb?.enable ? { status: 'MONITORING', failureCount: 0, threshold: Math.min(200, Math.max(3, Math.ceil(doc.desiredCount * 0.5))) } : { status: 'DISABLED', failureCount: 0, threshold: 0 };
}

/** The deployment configuration with ECS's defaults (REPLICA 100/200, DAEMON 0/100), validated. */
function deploymentConfiguration(given: DeploymentConfiguration | undefined, strategy: string, controller: string, current?: ServiceRecord['deploymentConfiguration']) {
  const daemon = strategy === 'DAEMON';
  const out = {
    ...current,
    ...given,
    minimumHealthyPercent: given?.minimumHealthyPercent ?? current?.minimumHealthyPercent ?? (daemon ? 0 : 100),
    maximumPercent: given?.maximumPercent ?? current?.maximumPercent ?? (daemon ? 100 : 200),
    deploymentCircuitBreaker: given?.deploymentCircuitBreaker ?? current?.deploymentCircuitBreaker ?? { enable: false, rollback: false },
  };
  if (out.minimumHealthyPercent < 0 || out.minimumHealthyPercent > 100) throw err.invalidParameter('minimumHealthyPercent must be between 0 and 100.');
  if (out.maximumPercent < 100 || out.maximumPercent > 200) throw err.invalidParameter('maximumPercent must be between 100 and 200.');
  if (daemon && out.maximumPercent !== 100) throw err.invalidParameter('The maximumPercent parameter must be 100 for services using the DAEMON scheduling strategy.');
  dropStaleStrategySettings(out, given);
  checkStrategy(out, strategy);
  // With EXTERNAL, the tool driving the task sets shifts traffic itself.
  if (controller === 'EXTERNAL' && out.strategy !== undefined && out.strategy !== 'ROLLING') throw err.invalidParameter(`Deployment strategy ${out.strategy} is not supported for services with the EXTERNAL deployment controller.`);
  if ((out.bakeTimeInMinutes ?? 0) < 0 || (out.bakeTimeInMinutes ?? 0) > 1440) throw err.invalidParameter('bakeTimeInMinutes must be between 0 and 1440.');
  return out;
}

function checkPlacement(input: { placementConstraints?: unknown[]; placementStrategy?: unknown[] }, strategy: string) {
  if ((input.placementConstraints?.length ?? 0) > 10) throw err.invalidParameter('A maximum of 10 placement constraints may be specified.');
  if ((input.placementStrategy?.length ?? 0) > 5) throw err.invalidParameter('A maximum of 5 placement strategies may be specified.');
  if (strategy === 'DAEMON' && input.placementStrategy?.length) throw err.invalidParameter('Placement strategies are not supported with DAEMON scheduling strategy.');
}

function checkGrace(seconds: number | undefined) {
  if (seconds !== undefined && (seconds < 0 || seconds > MAX_GRACE_SECONDS)) throw err.invalidParameter(`healthCheckGracePeriodSeconds must be between 0 and ${MAX_GRACE_SECONDS}.`);
}

function checkDesiredCount(n: number | undefined) {
  if (n !== undefined && (!Number.isInteger(n) || n < 0 || n > MAX_DESIRED_COUNT)) throw err.invalidParameter(`desiredCount must be between 0 and ${MAX_DESIRED_COUNT}.`);
}

/**
 * How a service's (or a task set's) tasks launch: the capacity provider strategy or launch type
 * given, else the cluster's default capacity provider strategy, else EC2; FARGATE's platform
 * version defaults to LATEST.
 */
export function launchOf(input: { launchType?: string; capacityProviderStrategy?: DeploymentConfig['capacityProviderStrategy']; platformVersion?: string }, cluster: ClusterRecord): Pick<DeploymentConfig, 'launchType' | 'capacityProviderStrategy' | 'platformVersion'> {
  const strategy = input.capacityProviderStrategy?.length ? input.capacityProviderStrategy : input.launchType ? undefined : cluster.defaultCapacityProviderStrategy.length ? cluster.defaultCapacityProviderStrategy : undefined;
  const launchType = strategy ? undefined : (input.launchType ?? 'EC2');
  return { launchType, capacityProviderStrategy: strategy, platformVersion: launchType === 'FARGATE' ? (input.platformVersion ?? 'LATEST') : input.platformVersion };
}

export function checkLaunch(input: { launchType?: string; capacityProviderStrategy?: unknown[] }) {
  if (input.launchType && input.capacityProviderStrategy?.length) {
    throw err.invalidParameter('Specifying both a launchType and capacityProviderStrategy is not supported.');
  }
  if ((input.capacityProviderStrategy?.length ?? 0) > 20) throw err.invalidParameter('A capacity provider strategy can have at most 20 items.');
}

/** ECS accepts a role name or ARN and shows the ARN. */
const roleArnOf = (scope: Scope, role: string | undefined) => (role === undefined ? undefined : role.startsWith('arn:') ? role : `arn:aws:iam::${scope.accountId}:role/${role}`);

/** What ECS needs to know about a target group (from the ELBv2 domain, wired by the composition root). */
export interface TargetGroupInfo {
  targetType: string;
  loadBalancerArns: readonly string[];
}
export type TargetGroupLookup = (scope: Scope, targetGroupArn: string) => Promise<TargetGroupInfo | undefined>;

interface LoadBalancerRef {
  targetGroupArn?: string;
  loadBalancerName?: string;
  containerName?: string;
  containerPort?: number;
}

/** CreateService's / UpdateService's checks of loadBalancers, in ECS's words (InvalidParameterException). */
export async function checkLoadBalancers(scope: Scope, refs: readonly LoadBalancerRef[] | undefined, td: TaskDefinitionRecord, lookup: TargetGroupLookup | undefined): Promise<void> {
  if (!refs?.length) return;
  if (refs.length > 5) throw err.invalidParameter('A maximum of 5 load balancers may be specified for a service.');
  const networkMode = (td.networkMode as string | undefined) ?? 'bridge';
  const containers = (td.containerDefinitions as { name?: string; portMappings?: { containerPort?: number; hostPort?: number }[] }[] | undefined) ?? [];
  for (const ref of refs) {
    if (ref.loadBalancerName !== undefined && ref.targetGroupArn === undefined) throw err.invalidParameter('Classic Load Balancers are not supported: specify a targetGroupArn.');
    if (!ref.targetGroupArn) throw err.invalidParameter('targetGroupArn can not be blank.');
    if (!ref.containerName) throw err.invalidParameter('Container Name can not be blank.');
    if (ref.containerPort === undefined) throw err.invalidParameter('Container Port can not be blank.');
    const container = containers.find((ct) => ct.name === ref.containerName);
    if (!container) throw err.invalidParameter(`The container ${ref.containerName.slice(0, 255)} does not exist in the task definition.`);
    if (!(container.portMappings ?? []).some((pm) => pm.containerPort === ref.containerPort)) {
      throw err.invalidParameter(`The container ${ref.containerName.slice(0, 255)} did not have a container port ${ref.containerPort} defined.`);
    }
    const arn = ref.targetGroupArn.slice(0, 2048);
    const tg = lookup ? await lookup(scope, arn) : undefined;
    if (!tg) throw err.invalidParameter(`Unable to find target group with targetGroupArn ${arn}.`);
    if (tg.loadBalancerArns.length === 0) throw err.invalidParameter(`The target group with targetGroupArn ${arn} does not have an associated load balancer.`);
    if (networkMode === 'awsvpc' && tg.targetType !== 'ip') {
      throw err.invalidParameter(`The provided target group ${arn} has target type ${tg.targetType}, which is incompatible with the awsvpc network mode specified in the task definition.`);
    }
    if (networkMode !== 'awsvpc' && tg.targetType === 'ip') {
      throw err.invalidParameter(`The provided target group ${arn} has target type ip, which is incompatible with the ${networkMode} network mode specified in the task definition.`);
    }
  }
}

export class Services {
  /** Set by the composition root: how CreateService / UpdateService look up target groups. */
  targetGroups: TargetGroupLookup | undefined;
  /** Set by the composition root: the target groups a listener or listener rule forwards to (blue/green validation). */
  listenerRules: ListenerRuleLookup | undefined;

  private shiftLookups() {
    const tgs = this.targetGroups;
    return { targetGroupExists: async (s: Scope, arn: string) => (tgs ? (await tgs(s, arn)) !== undefined : false), listenerRule: this.listenerRules };
  }

  /** ContinueServiceDeployment (PAUSE lifecycle hooks; traffic-shift.ts). */
  async continueDeployment(scope: Scope, input: ContinueServiceDeploymentRequest) {
    const now = this.clock.now();
    const arn = await this.store.write((tx) => continueDeployment(tx, scope, input, now));
    return { serviceDeploymentArn: arn };
  }

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  /** `managedByEcs`: an Express Mode service (resourceManagementType ECS). */
  async create(scope: Scope & { caller?: { arn: string } }, input: CreateServiceRequest, opts: { managedByEcs?: boolean } = {}) {
    checkServiceName(input.serviceName);
    const strategy = input.schedulingStrategy ?? 'REPLICA';
    const controller = input.deploymentController?.type ?? 'ECS';
    checkDeploymentController(input);
    const external = controller === 'EXTERNAL';
    if (!external && !input.taskDefinition) throw err.invalidParameter('TaskDefinition is required.');
    checkDesiredCount(input.desiredCount);
    if (strategy === 'DAEMON' && (input.desiredCount ?? 0) !== 0) throw err.invalidParameter('The daemon scheduling strategy does not support a desired count for services.');
    checkLaunch(input);
    checkPlacement(input, strategy);
    checkGrace(input.healthCheckGracePeriodSeconds);
    checkTags(input.tags);
    const depConfig = deploymentConfiguration(input.deploymentConfiguration, strategy, controller);
    const clusterArn = resolveArn(scope, input.cluster);
    const arn = serviceArn(scope, clusterNameOf(clusterArn), input.serviceName);
    const token = input.clientToken;
    if (token !== undefined) checkClientToken(token);
    const hash = requestHash({ ...input, cluster: clusterArn });
    const now = this.clock.now();
    const doc = await this.store.write(async (tx) => {
      const cluster = (await activeCluster(tx, clusterArn)).data as ClusterRecord;
      const existing = await tx.get(c.services, arn);
      if (existing && existing.data.status !== 'INACTIVE') {
        const was = existing.data as ServiceRecord;
        // A retry of the same request (same client token, same parameters) gets the service back.
        if (token !== undefined && was.clientToken === token && was.requestHash === hash) return was;
        throw err.invalidParameter('Creation of service was not idempotent.');
      }
      // An EXTERNAL service has no task definition: its task sets have.
      const td = external ? undefined : await usableTaskDefinition(tx, scope, input.taskDefinition!);
      const config: DeploymentConfig = {
        taskDefinition: td?.taskDefinitionArn ?? '',
        ...launchOf(input, cluster),
        networkConfiguration: input.networkConfiguration,
        loadBalancers: input.loadBalancers ?? [],
        serviceRegistries: input.serviceRegistries ?? [],
        serviceConnectConfiguration: input.serviceConnectConfiguration,
        volumeConfigurations: input.volumeConfigurations,
        vpcLatticeConfigurations: input.vpcLatticeConfigurations,
      };
      // The checks RunTask makes (launch type support, awsvpc network configuration) hold here too.
      if (td) {
        checkDeployable(td, config, cluster);
        await checkLoadBalancers(scope, config.loadBalancers as LoadBalancerRef[], td, this.targetGroups);
        await checkAdvanced(scope, depConfig, config.loadBalancers as ShiftRef[], this.shiftLookups());
      }
      const record: ServiceRecord = {
        accountId: scope.accountId,
        region: scope.region,
        serviceArn: arn,
        serviceName: input.serviceName,
        clusterArn,
        status: 'ACTIVE',
        launchType: config.launchType,
        capacityProviderStrategy: config.capacityProviderStrategy,
        platformVersion: config.platformVersion,
        platformFamily: config.launchType === 'FARGATE' ? 'Linux' : undefined,
        loadBalancers: config.loadBalancers,
        serviceRegistries: config.serviceRegistries,
        serviceConnectConfiguration: input.serviceConnectConfiguration,
        serviceConnectNamespace: namespaceOf(input.serviceConnectConfiguration, cluster),
        volumeConfigurations: input.volumeConfigurations,
        vpcLatticeConfigurations: input.vpcLatticeConfigurations,
        networkConfiguration: input.networkConfiguration,
        desiredCount: input.desiredCount ?? 0,
        runningCount: 0,
        pendingCount: 0,
        taskDefinition: td?.taskDefinitionArn,
        deploymentConfiguration: depConfig,
        deploymentController: { type: controller },
        deployments: [],
        events: [],
        placementConstraints: input.placementConstraints ?? [],
        placementStrategy: input.placementStrategy ?? [],
        healthCheckGracePeriodSeconds: input.healthCheckGracePeriodSeconds ?? (input.loadBalancers?.length ? 0 : undefined),
        schedulingStrategy: strategy,
        roleArn: roleArnOf(scope, input.role),
        tags: input.tags ?? [],
        createdAt: now,
        createdBy: scope.caller?.arn,
        enableECSManagedTags: input.enableECSManagedTags ?? false,
        propagateTags: input.propagateTags ?? 'NONE',
        enableExecuteCommand: input.enableExecuteCommand ?? false,
        availabilityZoneRebalancing: input.availabilityZoneRebalancing ?? (strategy === 'DAEMON' ? 'DISABLED' : 'ENABLED'),
        resourceManagementType: opts.managedByEcs ? 'ECS' : 'CUSTOMER',
        steady: false,
        clientToken: token,
        requestHash: hash,
      };
      // An EXTERNAL service's launch type and strategy are its PRIMARY task set's.
      if (external) Object.assign(record, { launchType: undefined, capacityProviderStrategy: undefined, platformVersion: undefined, platformFamily: undefined });
      if (td) await startDeployment(tx, record, td, config, now);
      if (existing) await tx.update(c.services, existing, record);
      else await tx.insert(c.services, arn, record);
      return record;
    });
    return { service: serviceView(doc, true) };
  }

  async update(scope: Scope, input: UpdateServiceRequest) {
    checkDesiredCount(input.desiredCount);
    checkLaunch(input);
    checkGrace(input.healthCheckGracePeriodSeconds);
    const clusterArn = resolveArn(scope, input.cluster);
    const now = this.clock.now();
    let taskSets: TaskSetRecord[] | undefined;
    const doc = await this.store.write(async (tx) => {
      const cluster = (await activeCluster(tx, clusterArn)).data as ClusterRecord;
      const row = await findService(tx, scope, clusterArn, input.service);
      if (!row) throw serviceNotFound();
      if (row.data.status !== 'ACTIVE') throw serviceNotActive();
      const doc = structuredClone(row.data) as ServiceRecord;
      if (input.deploymentController && input.deploymentController.type !== doc.deploymentController.type) {
        throw err.invalidParameter(`Updating the deployment controller of a service is not supported: this service uses the ${doc.deploymentController.type} deployment controller.`);
      }
      const strategy = doc.schedulingStrategy;
      checkPlacement(input, strategy);
      if (strategy === 'DAEMON' && input.desiredCount !== undefined) throw err.invalidParameter('The daemon scheduling strategy does not support a desired count for services.');
      doc.deploymentConfiguration = deploymentConfiguration(input.deploymentConfiguration, strategy, doc.deploymentController.type, doc.deploymentConfiguration);
      if (isExternal(doc)) {
        // The task-set controller recomputes every task set's computedDesiredCount from desiredCount.
        checkExternalUpdate(input);
        updateSchedulingFields(doc, input);
        doc.steady = false;
        doc.placementRetryAt = undefined;
        await tx.update(c.services, row, doc);
        taskSets = await taskSetsOf(tx, doc.serviceArn);
        return doc;
      }
      const primary = doc.deployments[0]!;
      const config: DeploymentConfig = {
        taskDefinition: primary.taskDefinition,
        launchType: primary.launchType,
        capacityProviderStrategy: primary.capacityProviderStrategy,
        platformVersion: primary.platformVersion,
        networkConfiguration: primary.networkConfiguration,
        loadBalancers: primary.loadBalancers,
        serviceRegistries: primary.serviceRegistries,
        serviceConnectConfiguration: primary.serviceConnectConfiguration,
        volumeConfigurations: primary.volumeConfigurations,
        vpcLatticeConfigurations: primary.vpcLatticeConfigurations,
      };
      let td: TaskDefinitionRecord | undefined;
      if (input.taskDefinition !== undefined) td = await usableTaskDefinition(tx, scope, input.taskDefinition);
      const before = JSON.stringify(config);
      if (td) config.taskDefinition = td.taskDefinitionArn;
      if (input.capacityProviderStrategy !== undefined) {
        config.capacityProviderStrategy = input.capacityProviderStrategy.length ? input.capacityProviderStrategy : undefined;
        if (input.capacityProviderStrategy.length) config.launchType = undefined;
      }
      if (input.platformVersion !== undefined) config.platformVersion = input.platformVersion;
      if (input.networkConfiguration !== undefined) config.networkConfiguration = input.networkConfiguration;
      if (input.loadBalancers !== undefined) config.loadBalancers = input.loadBalancers;
      if (input.serviceRegistries !== undefined) config.serviceRegistries = input.serviceRegistries;
      if (input.serviceConnectConfiguration !== undefined) config.serviceConnectConfiguration = input.serviceConnectConfiguration;
      if (input.volumeConfigurations !== undefined) config.volumeConfigurations = input.volumeConfigurations;
      if (input.vpcLatticeConfigurations !== undefined) config.vpcLatticeConfigurations = input.vpcLatticeConfigurations;
      updateSchedulingFields(doc, input);
      const deployTd = td ?? (await usableTaskDefinitionOrCurrent(tx, scope, config.taskDefinition));
      checkDeployable(deployTd, config, cluster);
      await checkLoadBalancers(scope, config.loadBalancers as LoadBalancerRef[], deployTd, this.targetGroups);
      await checkAdvanced(scope, doc.deploymentConfiguration, config.loadBalancers as ShiftRef[], this.shiftLookups());
      const changed = JSON.stringify(config) !== before;
      if (changed || input.forceNewDeployment) {
        Object.assign(doc, {
          launchType: config.launchType,
          capacityProviderStrategy: config.capacityProviderStrategy,
          platformVersion: config.platformVersion,
          networkConfiguration: config.networkConfiguration,
          loadBalancers: config.loadBalancers,
          serviceRegistries: config.serviceRegistries,
          serviceConnectConfiguration: config.serviceConnectConfiguration,
          serviceConnectNamespace: namespaceOf(config.serviceConnectConfiguration, cluster),
          volumeConfigurations: config.volumeConfigurations,
          vpcLatticeConfigurations: config.vpcLatticeConfigurations,
        });
        await startDeployment(tx, doc, deployTd, config, now);
      } else if (doc.deployments[0]) {
        doc.deployments[0] = { ...doc.deployments[0], desiredCount: doc.desiredCount, updatedAt: now };
        doc.steady = false;
        doc.placementRetryAt = undefined;
      }
      await tx.update(c.services, row, doc);
      return doc;
    });
    return { service: serviceView(doc, false, taskSets) };
  }

  async delete(scope: Scope, input: DeleteServiceRequest) {
    const clusterArn = resolveArn(scope, input.cluster);
    const now = this.clock.now();
    let taskSets: TaskSetRecord[] | undefined;
    const doc = await this.store.write(async (tx) => {
      await activeCluster(tx, clusterArn);
      const row = await findService(tx, scope, clusterArn, input.service);
      if (!row || row.data.status === 'INACTIVE') throw serviceNotFound();
      const doc = structuredClone(row.data) as ServiceRecord;
      if (isExternal(doc)) taskSets = await taskSetsOf(tx, doc.serviceArn);
      if (doc.status === 'DRAINING') return doc;
      if (doc.schedulingStrategy === 'REPLICA' && doc.desiredCount > 0 && !input.force) {
        throw err.invalidParameter('The service cannot be stopped while it is scaled above 0.');
      }
      // An EXTERNAL service's task sets are its deployments: ECS keeps the service while any is left, unless forced.
      if (taskSets?.length && !input.force) throw err.invalidParameter('The service cannot be stopped while deployments are active.');
      doc.status = 'DRAINING';
      doc.desiredCount = 0;
      doc.steady = false;
      for (const d of doc.deployments) await finishServiceDeployment(tx, d.serviceDeploymentArn, 'STOPPED', now, 'Service was deleted.');
      await tx.update(c.services, row, doc);
      return doc;
    });
    return { service: serviceView(doc, false, taskSets) };
  }

  async describe(scope: Scope, input: DescribeServicesRequest) {
    if (input.services.length === 0) throw err.invalidParameter('Services cannot be empty.');
    if (input.services.length > 10) throw err.invalidParameter('Services can have at most 10 items.');
    const clusterArn = resolveArn(scope, input.cluster);
    const includeTags = input.include?.includes('TAGS') ?? false;
    return this.store.read(async (tx) => {
      await activeCluster(tx, clusterArn);
      const services = [];
      const failures = [];
      for (const ref of input.services) {
        const row = await findService(tx, scope, clusterArn, ref);
        if (row) services.push(serviceView(row.data as ServiceRecord, includeTags, isExternal(row.data as ServiceRecord) ? await taskSetsOf(tx, row.pk) : undefined));
        else failures.push({ arn: parseArn(ref) ? ref : serviceArn(scope, clusterNameOf(clusterArn), ref), reason: 'MISSING' });
      }
      return { services, failures };
    });
  }

  async list(scope: Scope, input: ListServicesRequest) {
    const clusterArn = resolveArn(scope, input.cluster);
    const where: Record<string, string> = { cluster: clusterArn, status: 'ACTIVE' };
    if (input.launchType) where.launch_type = input.launchType;
    if (input.schedulingStrategy) where.scheduling = input.schedulingStrategy;
    if (input.resourceManagementType) where.management = input.resourceManagementType;
    const size = pageSize(input.maxResults, 100);
    const start = tokenPosition(input.nextToken, ['string']);
    const page = await this.store.read(async (tx) => {
      await activeCluster(tx, clusterArn);
      return keysetPage((after, limit) => tx.select(c.services, [], { where, orderBy: [['pk', 'asc']], after, limit }), (r) => [r.pk], input.maxResults === undefined ? 10 : size, start);
    });
    return { serviceArns: page.items.map((r) => r.pk), nextToken: page.nextToken };
  }

  async listByNamespace(scope: Scope, input: ListServicesByNamespaceRequest) {
    if (input.namespace.length === 0 || input.namespace.length > 1024) throw err.invalidParameter('namespace must be 1 to 1024 characters.');
    const size = pageSize(input.maxResults, 100);
    const start = tokenPosition(input.nextToken, ['string']);
    const namespace = namespaceName(input.namespace);
    const page = await this.store.read((tx) =>
      keysetPage(
        (after, limit) => tx.select(c.services, ['status'], { where: { namespace, status: 'ACTIVE' }, orderBy: [['pk', 'asc']], after, limit }),
        (r) => [r.pk],
        input.maxResults === undefined ? 10 : size,
        start,
      ),
    );
    // Only this account and region's services.
    const mine = `arn:aws:ecs:${scope.region}:${scope.accountId}:`;
    return { serviceArns: page.items.map((r) => r.pk).filter((a) => a.startsWith(mine)), nextToken: page.nextToken };
  }

  async listDeployments(scope: Scope, input: ListServiceDeploymentsRequest) {
    const clusterArn = resolveArn(scope, input.cluster);
    const size = pageSize(input.maxResults, 100);
    const start = tokenPosition(input.nextToken, ['number', 'string']);
    const statuses = input.status?.length ? new Set(input.status) : undefined;
    const after = input.createdAt?.after === undefined ? undefined : toSeconds(input.createdAt.after);
    const before = input.createdAt?.before === undefined ? undefined : toSeconds(input.createdAt.before);
    return this.store.read(async (tx) => {
      await activeCluster(tx, clusterArn);
      const svc = await findService(tx, scope, clusterArn, input.service);
      if (!svc) throw serviceNotFound();
      const rows = await tx.find(c.serviceDeployments, { where: { service: svc.pk }, orderBy: [['created_at', 'desc']] });
      const matching = rows
        .map((r) => r.data)
        .filter((d) => (!statuses || statuses.has(d.status as never)) && (after === undefined || d.createdAt >= after) && (before === undefined || d.createdAt <= before));
      // Newest first; the token is the position (createdAt, arn) of the last item handed out.
      const from = start ? matching.findIndex((d) => d.createdAt < Number(start[0]) || (d.createdAt === Number(start[0]) && d.serviceDeploymentArn > String(start[1]))) : 0;
      const page = from < 0 ? [] : matching.slice(from, from + size);
      const last = page.at(-1);
      const more = from >= 0 && from + size < matching.length;
      return {
        serviceDeployments: page.map((d) => ({ ...d, targetServiceRevisionArn: (d.targetServiceRevision as { arn?: string } | undefined)?.arn })),
        nextToken: more && last ? Buffer.from(JSON.stringify({ after: [last.createdAt, last.serviceDeploymentArn] })).toString('base64url') : undefined,
      };
    });
  }

  async describeDeployments(scope: Scope, input: DescribeServiceDeploymentsRequest) {
    if (input.serviceDeploymentArns.length === 0 || input.serviceDeploymentArns.length > 20) throw err.invalidParameter('serviceDeploymentArns must list 1 to 20 ARNs.');
    return this.store.read(async (tx) => {
      const serviceDeployments = [];
      const failures = [];
      for (const arn of input.serviceDeploymentArns) {
        const row = await tx.get(c.serviceDeployments, arn);
        if (row && row.data.accountId === scope.accountId && row.data.region === scope.region) serviceDeployments.push(row.data);
        else failures.push({ arn, reason: 'MISSING' });
      }
      return { serviceDeployments, failures };
    });
  }

  async describeRevisions(scope: Scope, input: DescribeServiceRevisionsRequest) {
    if (input.serviceRevisionArns.length === 0 || input.serviceRevisionArns.length > 20) throw err.invalidParameter('serviceRevisionArns must list 1 to 20 ARNs.');
    return this.store.read(async (tx) => {
      const serviceRevisions = [];
      const failures = [];
      for (const arn of input.serviceRevisionArns) {
        const row = await tx.get(c.serviceRevisions, arn);
        if (row && row.data.accountId === scope.accountId && row.data.region === scope.region) serviceRevisions.push(row.data);
        else failures.push({ arn, reason: 'MISSING' });
      }
      return { serviceRevisions, failures };
    });
  }

  /** Express Mode: the resources ECS manages for a service revision (DescribeServiceRevisions' ecsManagedResources). */
  async setManagedResources(serviceRevisionArn: string, ecsManagedResources: Record<string, unknown>): Promise<void> {
    await this.store.write(async (tx) => {
      const row = await tx.get(c.serviceRevisions, serviceRevisionArn);
      if (row) await tx.update(c.serviceRevisions, row, { ...row.data, ecsManagedResources });
    });
  }

  /** StopServiceDeployment: ROLLBACK (the default) returns to the last COMPLETED deployment; ABORT stops where it is. */
  async stopDeployment(scope: Scope, input: StopServiceDeploymentRequest) {
    const stopType = input.stopType ?? 'ROLLBACK';
    const now = this.clock.now();
    const arn = await this.store.write(async (tx) => {
      const history = await tx.get(c.serviceDeployments, input.serviceDeploymentArn);
      if (!history || history.data.accountId !== scope.accountId || history.data.region !== scope.region) {
        throw new AwsError('ServiceDeploymentNotFoundException', 'The service deployment does not exist.');
      }
      const row = await tx.get(c.services, history.data.serviceArn);
      const doc = row && (structuredClone(row.data) as ServiceRecord);
      const primary = doc?.deployments[0];
      if (!row || !doc || doc.status !== 'ACTIVE' || !primary || primary.serviceDeploymentArn !== history.pk || primary.rolloutState !== 'IN_PROGRESS' || history.data.status !== 'IN_PROGRESS') {
        throw new AwsError('ConflictException', 'The service deployment is not in progress and cannot be stopped.', 400);
      }
      if (stopType === 'ROLLBACK' && (await rollBackShift(tx, doc, 'Service deployment rolled back by user.', now))) {
        // A traffic-shifting deployment returns to the tasks it was replacing (still there until CLEAN_UP).
        addEvents(doc, [`(service ${doc.serviceName}) rolling back to deployment ${doc.deployments[0]!.id}.`], now);
      } else if (stopType === 'ROLLBACK') {
        const target = doc.lastCompleted;
        if (!target) throw err.invalidParameter('The service has no completed deployment to roll back to.');
        primary.rolloutState = 'FAILED';
        primary.rolloutStateReason = `Service deployment stopped: rolling back to deploymentId ${target.id}.`;
        const td = await usableTaskDefinitionOrCurrent(tx, scope, target.taskDefinition);
        const next = await startDeployment(tx, doc, td, target, now, { serviceDeploymentArn: history.pk, reason: `Service deployment rolled back by user to deploymentId ${target.id}.` });
        next.rollbackOf = primary.id;
        addEvents(doc, [`(service ${doc.serviceName}) rolling back to deployment ${target.id}.`], now);
      } else {
        primary.rolloutState = 'FAILED';
        primary.rolloutStateReason = 'Service deployment stopped by user.';
        await finishServiceDeployment(tx, history.pk, 'STOPPED', now, 'Service deployment stopped by user.');
      }
      await tx.update(c.services, row, doc);
      return history.pk;
    });
    return { serviceDeploymentArn: arn };
  }
}

/** A rollback may return to a task definition deregistered since: ECS still runs it. */
async function usableTaskDefinitionOrCurrent(tx: StoreTx, scope: Scope, ref: string): Promise<TaskDefinitionRecord> {
  const row = await tx.get(c.taskDefinitions, ref);
  if (row && row.data.status !== 'DELETE_IN_PROGRESS') return row.data as TaskDefinitionRecord;
  return usableTaskDefinition(tx, scope, ref);
}

/** The checks RunTask makes before placing (launch type support, awsvpc network configuration), made when a deployment is asked for. */
export function checkDeployable(td: TaskDefinitionRecord, config: DeploymentConfig, cluster: ClusterRecord) {
  const launch = launchTypeOf(config as Parameters<typeof launchTypeOf>[0], cluster);
  checkRunnable(td, launch.launchType, { taskDefinition: td.taskDefinitionArn, count: 1, networkConfiguration: config.networkConfiguration as never });
}

const toSeconds = (t: number | Date) => (t instanceof Date ? t.getTime() / 1000 : t);

function namespaceName(ref: string): string {
  // arn:aws:servicediscovery:region:account:namespace/ns-… or a name: kept as given.
  return ref;
}

function namespaceOf(config: unknown, cluster: ClusterRecord): string | undefined {
  const sc = config as { enabled?: boolean; namespace?: string } | undefined;
  if (!sc?.enabled) return undefined;
  return sc.namespace ?? cluster.serviceConnectDefaults?.namespace;
}

export async function findService(tx: StoreTx, scope: Scope, clusterArn: string, ref: string): Promise<Row<ServiceRecord> | undefined> {
  const parsed = parseArn(ref);
  let arn = ref;
  if (!parsed) arn = serviceArn(scope, clusterNameOf(clusterArn), ref);
  else if (parsed.type !== 'service') return undefined;
  else if (!parsed.rest.includes('/')) arn = serviceArn({ accountId: parsed.accountId, region: parsed.region }, clusterNameOf(clusterArn), parsed.rest); // old-style ARN without the cluster
  const row = (await tx.get(c.services, arn)) as Row<ServiceRecord> | undefined;
  return row && row.data.clusterArn === clusterArn ? row : undefined;
}

/** The scheduling parameters UpdateService changes on any service. */
function updateSchedulingFields(doc: ServiceRecord, input: UpdateServiceRequest): void {
  if (input.desiredCount !== undefined) doc.desiredCount = input.desiredCount;
  if (input.placementConstraints !== undefined) doc.placementConstraints = input.placementConstraints;
  if (input.placementStrategy !== undefined) doc.placementStrategy = input.placementStrategy;
  if (input.healthCheckGracePeriodSeconds !== undefined) doc.healthCheckGracePeriodSeconds = input.healthCheckGracePeriodSeconds;
  if (input.enableECSManagedTags !== undefined) doc.enableECSManagedTags = input.enableECSManagedTags;
  if (input.propagateTags !== undefined) doc.propagateTags = input.propagateTags;
  if (input.enableExecuteCommand !== undefined) doc.enableExecuteCommand = input.enableExecuteCommand;
  if (input.availabilityZoneRebalancing !== undefined) doc.availabilityZoneRebalancing = input.availabilityZoneRebalancing;
}

/** The service as ECS shows it; the model's output shape drops the internal fields. An EXTERNAL service shows its task sets. */
export function serviceView(doc: ServiceRecord, includeTags: boolean, taskSets?: readonly TaskSetRecord[]): Record<string, unknown> {
  if (isExternal(doc)) return { ...doc, tags: includeTags ? doc.tags : undefined, ...externalServiceFields(doc, taskSets ?? []) };
  const primary = doc.deployments[0];
  return {
    ...doc,
    tags: includeTags ? doc.tags : undefined,
    currentServiceDeployment: primary?.serviceDeploymentArn,
    currentServiceRevisions: doc.deployments.map((d) => ({
      arn: d.serviceRevisionArn,
      requestedTaskCount: d.desiredCount,
      runningTaskCount: d.runningCount,
      pendingTaskCount: d.pendingCount,
    })),
    taskSets: [],
  };
}
