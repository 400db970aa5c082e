/**
 * ECS Express Mode: one call turns an image and a port into a running, load-balanced,
 * auto-scaled web service with a URL, through the ECS, ELBv2 and Application Auto Scaling
 * domains (the same functions their APIs use).
 *
 * What CreateExpressGatewayService makes, in order, undone in reverse when a later step fails:
 * a task definition (family = the service name; one container `Main`, bridge networking with a
 * dynamic host port on the agent's bind address, so the load balancer reaches it on any Docker,
 * Docker Desktop included), the cluster's shared Express load balancer (`ecs-express-<hash>-<n>`,
 * up to 25 services each, as AWS shares one ALB), a target group health-checking
 * `healthCheckPath`, a listener of its own on a free port of the listeners' bind address
 * (127.0.0.1) with a 404 default and one rule forwarding to the target group, the ECS service
 * with the target group attached, and the scalable target with a target-tracking policy.
 *
 * Why a listener port per service: AWS routes by Host header to `<name>.ecs.<region>.on.aws`
 * over one shared HTTPS listener; a laptop has no such DNS, so the endpoint is
 * `http://127.0.0.1:<port>`, which plain `curl URL`, browsers and every SDK reach.
 */
import { createHash, randomBytes } from 'node:crypto';
import { AwsError } from '../../aws/errors.js';
import type {
  CreateExpressGatewayServiceRequest,
  DeleteExpressGatewayServiceRequest,
  DescribeExpressGatewayServiceRequest,
  ExpressGatewayContainer,
  ExpressGatewayScalingTarget,
  ExpressGatewayServiceNetworkConfiguration,
  RegisterTaskDefinitionRequest,
  UpdateExpressGatewayServiceRequest,
} from '../../aws/generated/ecs.js';
import type { Clock } from '../../core/clock.js';
import * as c from '../../store/collections.js';
import type { ExpressServiceDoc } from '../../store/collections.js';
import type { Store } from '../../store/store.js';
import type { AutoScaling } from '../application-autoscaling/index.js';
import { clusterNameOf, parseArn, serviceArn as ecsServiceArn, type Scope } from '../ecs/arns.js';
import { DEFAULT_CLUSTER, resolveArn } from '../ecs/clusters.js';
import * as err from '../ecs/errors.js';
import type { EcsDomain } from '../ecs/index.js';
import { checkServiceName, MAX_DESIRED_COUNT, serviceNotActive, serviceNotFound } from '../ecs/services.js';
import { checkTags, type Tag } from '../ecs/tags.js';
import { checkAndNormalise, isFargateSize } from '../ecs/task-definitions.js';
import type { Elbv2Domain } from '../elbv2/index.js';

export interface ExpressDeps {
  store: Store;
  clock: Clock;
  ecs: EcsDomain;
  elbv2: Elbv2Domain;
  autoscaling: AutoScaling;
  /** Where the load balancer's listeners listen: the endpoint URL names it (loopback when they bind every interface). */
  bindHost: string;
  /** The ports Express listeners are given, lowest free first. */
  ports: { from: number; to: number };
  /** Whether nothing listens on `port` of the bind host now (the composition root probes). */
  portFree(port: number): Promise<boolean>;
}

/** One configuration (what Create or an Update asked for, with defaults filled in). */
export interface ExpressConfig {
  serviceRevisionArn?: string;
  taskDefinitionArn: string;
  createdAt: number;
  executionRoleArn: string;
  taskRoleArn?: string;
  cpu: string;
  memory: string;
  healthCheckPath: string;
  primaryContainer: ExpressGatewayContainer & { containerPort: number; awsLogsConfiguration: { logGroup: string; logStreamPrefix: string } };
  scalingTarget: Required<ExpressGatewayScalingTarget>;
  networkConfiguration?: ExpressGatewayServiceNetworkConfiguration;
}

export interface ExpressRecord extends ExpressServiceDoc {
  infrastructureRoleArn: string;
  createdAt: number;
  updatedAt: number;
  tags: Tag[];
  /** Set by DeleteExpressGatewayService (the ECS service then drains to INACTIVE). */
  deleted?: boolean;
  endpoint: string;
  port: number;
  loadBalancerArn: string;
  listenerArn: string;
  ruleArn: string;
  targetGroupArn: string;
  scalableTargetArn?: string;
  policyArn?: string;
  /** Newest first; the last 10. */
  configurations: ExpressConfig[];
}

/** AWS's defaults for Express services. */
const DEFAULTS = { cpu: '1024', memory: '2048', containerPort: 80, healthCheckPath: '/', minTaskCount: 1, maxTaskCount: 20, metric: 'AVERAGE_CPU', targetValue: 60 } as const;
/** Express services one shared load balancer carries (AWS: 25). */
const SERVICES_PER_LOAD_BALANCER = 25;
const CONTAINER = 'Main';
const MAX_CONFIGURATIONS = 10;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
const LOG_GROUP = /^[.\-_/#A-Za-z0-9]{1,512}$/;
const SCALING_DIMENSION = 'ecs:service:DesiredCount';
const METRICS: Record<string, 'ECSServiceAverageCPUUtilization' | 'ECSServiceAverageMemoryUtilization' | 'ALBRequestCountPerTarget'> = {
  AVERAGE_CPU: 'ECSServiceAverageCPUUtilization',
  AVERAGE_MEMORY: 'ECSServiceAverageMemoryUtilization',
  REQUEST_COUNT_PER_TARGET: 'ALBRequestCountPerTarget',
};

const invalid = err.invalidParameter;
const hex = (bytes: number) => randomBytes(bytes).toString('hex');

function checkRole(name: string, arn: string | undefined, required: boolean): void {
  if (arn === undefined) {
    if (required) throw invalid(`${name} is required.`);
    return;
  }
  if (!ROLE_ARN.test(arn)) throw invalid(`Invalid ${name}: ${arn.slice(0, 256)}. Specify the ARN of an IAM role.`);
}

/** The configuration asked for (`base`: the current one an Update starts from), checked, defaults filled in. */
function configFrom(
  input: Partial<Pick<CreateExpressGatewayServiceRequest, 'executionRoleArn' | 'taskRoleArn' | 'cpu' | 'memory' | 'healthCheckPath' | 'primaryContainer' | 'scalingTarget' | 'networkConfiguration'>>,
  base: ExpressConfig | undefined,
  names: { cluster: string; service: string },
  now: number,
): Omit<ExpressConfig, 'taskDefinitionArn'> {
  const executionRoleArn = input.executionRoleArn ?? base?.executionRoleArn;
  checkRole('executionRoleArn', executionRoleArn, true);
  const taskRoleArn = input.taskRoleArn ?? base?.taskRoleArn;
  checkRole('taskRoleArn', taskRoleArn, false);
  const cpu = input.cpu ?? base?.cpu ?? DEFAULTS.cpu;
  const memory = input.memory ?? base?.memory ?? DEFAULTS.memory;
  if (!isFargateSize(cpu, memory)) throw invalid(`No Fargate configuration exists for given values: ${cpu.slice(0, 32)} CPU, ${memory.slice(0, 32)} memory. See the Amazon ECS documentation for the valid combinations.`);
  const healthCheckPath = input.healthCheckPath ?? base?.healthCheckPath ?? DEFAULTS.healthCheckPath;
  if (!healthCheckPath.startsWith('/') || healthCheckPath.length > 1024) throw invalid('healthCheckPath must start with / and be at most 1024 characters long.');
  const given = input.primaryContainer;
  const container = { ...base?.primaryContainer, ...given };
  if (!container.image?.trim()) throw invalid('primaryContainer.image can not be blank.');
  if (container.image.length > 1024) throw invalid('primaryContainer.image must be at most 1024 characters long.');
  const containerPort = container.containerPort ?? DEFAULTS.containerPort;
  if (!Number.isInteger(containerPort) || containerPort < 1 || containerPort > 65535) throw invalid('containerPort must be between 1 and 65535.');
  const logs = container.awsLogsConfiguration ?? { logGroup: `/aws/ecs/${names.cluster}/${names.service}-${hex(2)}`, logStreamPrefix: 'ecs' };
  if (!LOG_GROUP.test(logs.logGroup)) throw invalid(`Invalid awsLogsConfiguration.logGroup: ${logs.logGroup.slice(0, 512)}.`);
  if (!/^[^:*]{1,512}$/.test(logs.logStreamPrefix)) throw invalid('awsLogsConfiguration.logStreamPrefix must be 1 to 512 characters without : or *.');
  const scaling = { ...base?.scalingTarget, ...input.scalingTarget };
  const scalingTarget = {
    minTaskCount: scaling.minTaskCount ?? DEFAULTS.minTaskCount,
    maxTaskCount: scaling.maxTaskCount ?? DEFAULTS.maxTaskCount,
    autoScalingMetric: scaling.autoScalingMetric ?? DEFAULTS.metric,
    autoScalingTargetValue: scaling.autoScalingTargetValue ?? DEFAULTS.targetValue,
  };
  if (!Number.isInteger(scalingTarget.minTaskCount) || scalingTarget.minTaskCount < 1) throw invalid('minTaskCount must be at least 1.');
  if (!Number.isInteger(scalingTarget.maxTaskCount) || scalingTarget.maxTaskCount > MAX_DESIRED_COUNT) throw invalid(`maxTaskCount must be at most ${MAX_DESIRED_COUNT}.`);
  if (scalingTarget.minTaskCount > scalingTarget.maxTaskCount) throw invalid('minTaskCount must not be greater than maxTaskCount.');
  if (!METRICS[scalingTarget.autoScalingMetric]) throw invalid(`Invalid autoScalingMetric: ${String(scalingTarget.autoScalingMetric).slice(0, 64)}.`);
  const value = scalingTarget.autoScalingTargetValue;
  const percent = scalingTarget.autoScalingMetric !== 'REQUEST_COUNT_PER_TARGET';
  if (!Number.isInteger(value) || value < 1 || (percent && value > 100)) throw invalid(`autoScalingTargetValue must be ${percent ? 'between 1 and 100 (percent)' : 'at least 1'}.`);
  const networkConfiguration = input.networkConfiguration ?? base?.networkConfiguration;
  for (const s of networkConfiguration?.subnets ?? []) if (!/^subnet-[0-9A-Za-z]{1,32}$/.test(s)) throw invalid(`Invalid subnet: ${s.slice(0, 64)}.`);
  for (const g of networkConfiguration?.securityGroups ?? []) if (!/^sg-[0-9A-Za-z]{1,32}$/.test(g)) throw invalid(`Invalid security group: ${g.slice(0, 64)}.`);
  if ((networkConfiguration?.subnets?.length ?? 0) > 16) throw invalid('subnets can have at most 16 items.');
  if ((networkConfiguration?.securityGroups?.length ?? 0) > 5) throw invalid('securityGroups can have at most 5 items.');
  return {
    createdAt: now,
    executionRoleArn: executionRoleArn!,
    taskRoleArn,
    cpu,
    memory,
    healthCheckPath,
    primaryContainer: { ...container, image: container.image, containerPort, awsLogsConfiguration: logs },
    scalingTarget,
    networkConfiguration,
  };
}

/** The task definition a configuration runs (bridge networking, a dynamic host port; see the header). */
function taskDefinitionOf(family: string, region: string, cfg: Omit<ExpressConfig, 'taskDefinitionArn'>, tags: Tag[]): RegisterTaskDefinitionRequest {
  const p = cfg.primaryContainer;
  return {
    family,
    networkMode: 'bridge',
    requiresCompatibilities: ['EC2'],
    cpu: cfg.cpu,
    memory: cfg.memory,
    executionRoleArn: cfg.executionRoleArn,
    taskRoleArn: cfg.taskRoleArn,
    containerDefinitions: [
      {
        name: CONTAINER,
        image: p.image,
        essential: true,
        portMappings: [{ containerPort: p.containerPort, hostPort: 0, protocol: 'tcp' }],
        command: p.command,
        environment: p.environment,
        secrets: p.secrets,
        repositoryCredentials: p.repositoryCredentials?.credentialsParameter ? { credentialsParameter: p.repositoryCredentials.credentialsParameter } : undefined,
        logConfiguration: {
          logDriver: 'awslogs',
          options: { 'awslogs-group': p.awsLogsConfiguration.logGroup, 'awslogs-region': region, 'awslogs-stream-prefix': p.awsLogsConfiguration.logStreamPrefix, 'awslogs-create-group': 'true' },
        },
      },
    ],
    tags: tags.length ? tags : undefined,
  };
}

/** What a configuration change means for the task definition (anything but scaling and the health check path). */
const taskDefinitionKey = (cfg: Omit<ExpressConfig, 'taskDefinitionArn'>) => JSON.stringify([cfg.primaryContainer, cfg.cpu, cfg.memory, cfg.executionRoleArn, cfg.taskRoleArn ?? null]);
const elbTags = (tags: Tag[]) => (tags.length ? tags.map((t) => ({ Key: t.key!, Value: t.value ?? '' })) : undefined);

export class ExpressServices {
  /**
   * Creates, updates and deletes run one at a time in this process: two creates could otherwise
   * pick the same free port (and so the same listener), a delete could remove the shared load
   * balancer a create has just chosen, and an update could race the delete of its service.
   */
  private exclusive: Promise<unknown> = Promise.resolve();

  constructor(private readonly d: ExpressDeps) {}

  private serially<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.exclusive.then(fn, fn);
    this.exclusive = run.catch(() => undefined);
    return run;
  }

  create(ctx: Scope & { caller?: { arn: string } }, input: CreateExpressGatewayServiceRequest) {
    return this.serially(() => this.createNow(ctx, input));
  }

  update(ctx: Scope, input: UpdateExpressGatewayServiceRequest) {
    return this.serially(() => this.updateNow(ctx, input));
  }

  delete(ctx: Scope, input: DeleteExpressGatewayServiceRequest) {
    return this.serially(() => this.deleteNow(ctx, input));
  }

  private async createNow(ctx: Scope & { caller?: { arn: string } }, input: CreateExpressGatewayServiceRequest) {
    const scope: Scope = { accountId: ctx.accountId, region: ctx.region };
    const { ecs, elbv2, autoscaling } = this.d;
    checkRole('infrastructureRoleArn', input.infrastructureRoleArn, true);
    checkTags(input.tags);
    const clusterArn = resolveArn(scope, input.cluster);
    const clusterName = clusterNameOf(clusterArn);
    const serviceName = input.serviceName ?? `${(input.primaryContainer?.image ?? 'svc').replace(/^.*\//, '').replace(/[:@].*$/, '').replace(/[^a-zA-Z0-9_-]/g, '-').slice(0, 40) || 'svc'}-${hex(4)}`;
    checkServiceName(serviceName);
    const now = this.d.clock.now();
    const tags = input.tags ?? [];
    const cfg = configFrom(input, undefined, { cluster: clusterName, service: serviceName }, now);
    const tdInput = taskDefinitionOf(serviceName, scope.region, cfg, tags);
    checkAndNormalise(tdInput);
    // ECS makes the default cluster when it does not exist yet; another missing cluster is an error.
    if (clusterName === DEFAULT_CLUSTER && !(await this.clusterActive(clusterArn))) await ecs.clusters.create(scope, { clusterName: DEFAULT_CLUSTER });
    // DescribeServices answers ClusterNotFoundException for a missing cluster.
    const existing = (await ecs.services.describe(scope, { cluster: clusterArn, services: [serviceName] })).services[0] as { serviceArn: string; status: string } | undefined;
    if (existing && existing.status !== 'INACTIVE') throw invalid('Creation of service was not idempotent.');
    const arn = ecsServiceArn(scope, clusterName, serviceName);

    const undo: (() => Promise<unknown>)[] = [];
    try {
      const td = (await ecs.taskDefinitions.register(scope, tdInput)).taskDefinition;
      undo.push(() => ecs.taskDefinitions.deregister(scope, { taskDefinition: td.taskDefinitionArn }));
      const lb = await this.sharedLoadBalancer(scope, clusterArn);
      undo.push(() => this.deleteLoadBalancerIfUnused(scope, lb.LoadBalancerArn));
      const tg = (
        await elbv2.targetGroups.create(scope, {
          Name: `ecs-express-tg-${hex(6)}`,
          Protocol: 'HTTP',
          Port: cfg.primaryContainer.containerPort,
          TargetType: 'instance',
          HealthCheckPath: cfg.healthCheckPath,
          // Dockyard's choice, so that a deploy is live within seconds on a laptop.
          HealthCheckIntervalSeconds: 5,
          HealthCheckTimeoutSeconds: 4,
          HealthyThresholdCount: 2,
          UnhealthyThresholdCount: 2,
          Tags: elbTags(tags),
        })
      ).TargetGroups[0]!;
      undo.push(() => elbv2.targetGroups.delete(scope, tg.TargetGroupArn!));
      await elbv2.targetGroups.modifyAttributes(scope, tg.TargetGroupArn!, [{ Key: 'deregistration_delay.timeout_seconds', Value: '30' }]);
      const port = await this.freePort();
      const listener = (
        await elbv2.listeners.create(scope, {
          LoadBalancerArn: lb.LoadBalancerArn,
          Protocol: 'HTTP',
          Port: port,
          DefaultActions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '404', ContentType: 'text/plain', MessageBody: 'Not Found' } }],
          Tags: elbTags(tags),
        })
      ).Listeners[0]!;
      undo.push(() => elbv2.listeners.delete(scope, listener.ListenerArn));
      const rule = (
        await elbv2.listeners.createRule(scope, {
          ListenerArn: listener.ListenerArn,
          Priority: 1,
          Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/*'] } }],
          Actions: [{ Type: 'forward', TargetGroupArn: tg.TargetGroupArn }],
          Tags: elbTags(tags),
        })
      ).Rules[0]!;
      const created = await ecs.services.create(ctx, {
        serviceName,
        cluster: clusterArn,
        taskDefinition: td.taskDefinitionArn,
        desiredCount: cfg.scalingTarget.minTaskCount,
        launchType: 'EC2',
        loadBalancers: [{ targetGroupArn: tg.TargetGroupArn, containerName: CONTAINER, containerPort: cfg.primaryContainer.containerPort }],
        healthCheckGracePeriodSeconds: 30,
        deploymentConfiguration: { minimumHealthyPercent: 100, maximumPercent: 200, deploymentCircuitBreaker: { enable: true, rollback: true } },
        tags: tags.length ? tags : undefined,
        propagateTags: 'SERVICE',
        enableECSManagedTags: true,
      }, { managedByEcs: true });
      undo.push(() => ecs.services.delete(scope, { cluster: clusterArn, service: serviceName, force: true }));
      const record: ExpressRecord = {
        accountId: scope.accountId,
        region: scope.region,
        serviceArn: arn,
        serviceName,
        clusterArn,
        infrastructureRoleArn: input.infrastructureRoleArn,
        createdAt: now,
        updatedAt: now,
        tags,
        endpoint: `http://${endpointHost(this.d.bindHost)}:${port}`,
        port,
        loadBalancerArn: lb.LoadBalancerArn!,
        listenerArn: listener.ListenerArn!,
        ruleArn: rule.RuleArn!,
        targetGroupArn: tg.TargetGroupArn!,
        configurations: [{ ...cfg, taskDefinitionArn: td.taskDefinitionArn, serviceRevisionArn: revisionOf(created.service) }],
      };
      undo.push(() => autoscaling.deregister(scope, { ServiceNamespace: 'ecs', ResourceId: resourceIdOf(record), ScalableDimension: SCALING_DIMENSION }));
      await this.applyScaling(scope, record, cfg.scalingTarget);
      // (A service of this name deleted before is replaced.)
      await this.save(record);
      await this.recordManagedResources(record);
      return { service: await this.view(scope, record, true) };
    } catch (e) {
      for (const step of undo.reverse()) await step().catch(() => undefined);
      throw e;
    }
  }

  async describe(ctx: Scope, input: DescribeExpressGatewayServiceRequest) {
    const scope: Scope = { accountId: ctx.accountId, region: ctx.region };
    const record = await this.find(scope, input.serviceArn);
    if (!record) throw err.resourceNotFound('The specified Express service does not exist.');
    return { service: await this.view(scope, record, input.include?.includes('TAGS') ?? false) };
  }

  private async updateNow(ctx: Scope, input: UpdateExpressGatewayServiceRequest) {
    const scope: Scope = { accountId: ctx.accountId, region: ctx.region };
    const { ecs, elbv2 } = this.d;
    const record = await this.active(scope, input.serviceArn);
    const current = record.configurations[0]!;
    const now = this.d.clock.now();
    const next = configFrom(input, current, { cluster: clusterNameOf(record.clusterArn), service: record.serviceName }, now);
    const tdInput = taskDefinitionOf(record.serviceName, scope.region, next, record.tags);
    checkAndNormalise(tdInput);
    const sameTaskDefinition = taskDefinitionKey(next) === taskDefinitionKey(current);
    let registered: string | undefined;
    let updated;
    try {
      const taskDefinitionArn = sameTaskDefinition ? current.taskDefinitionArn : (registered = (await ecs.taskDefinitions.register(scope, tdInput)).taskDefinition.taskDefinitionArn);
      // A new configuration is a new deployment (a new service revision), as in ECS Express Mode.
      updated = await ecs.services.update(scope, {
        cluster: record.clusterArn,
        service: record.serviceArn,
        taskDefinition: taskDefinitionArn,
        loadBalancers: [{ targetGroupArn: record.targetGroupArn, containerName: CONTAINER, containerPort: next.primaryContainer.containerPort }],
        forceNewDeployment: true,
      });
      const cfg: ExpressConfig = { ...next, taskDefinitionArn, serviceRevisionArn: revisionOf(updated.service) };
      if (cfg.healthCheckPath !== current.healthCheckPath) await elbv2.targetGroups.modify(scope, { TargetGroupArn: record.targetGroupArn, HealthCheckPath: cfg.healthCheckPath });
      if (JSON.stringify(cfg.scalingTarget) !== JSON.stringify(current.scalingTarget)) await this.applyScaling(scope, record, cfg.scalingTarget);
      record.configurations = [cfg, ...record.configurations].slice(0, MAX_CONFIGURATIONS);
      record.updatedAt = now;
      await this.save(record);
      await this.recordManagedResources(record);
      return {
        service: {
          serviceArn: record.serviceArn,
          serviceName: record.serviceName,
          cluster: record.clusterArn,
          status: { statusCode: 'ACTIVE' },
          targetConfiguration: configView(record, cfg),
          createdAt: record.createdAt,
          updatedAt: record.updatedAt,
        },
      };
    } catch (e) {
      if (registered && !updated) await ecs.taskDefinitions.deregister(scope, { taskDefinition: registered }).catch(() => undefined);
      throw e;
    }
  }

  private async deleteNow(ctx: Scope, input: DeleteExpressGatewayServiceRequest) {
    const scope: Scope = { accountId: ctx.accountId, region: ctx.region };
    const { ecs, elbv2, autoscaling } = this.d;
    const record = await this.active(scope, input.serviceArn);
    const ignoreMissing = (e: unknown) => {
      if (!(e instanceof AwsError) || !/NotFound/.test(e.code)) throw e;
    };
    // Scaling first (it would otherwise scale the draining service back up), then the service, then its traffic path.
    await autoscaling.deregister(scope, { ServiceNamespace: 'ecs', ResourceId: resourceIdOf(record), ScalableDimension: SCALING_DIMENSION }).catch(ignoreMissing);
    await ecs.services.delete(scope, { cluster: record.clusterArn, service: record.serviceArn, force: true }).catch(ignoreMissing);
    await elbv2.listeners.delete(scope, record.listenerArn).catch(ignoreMissing);
    await elbv2.targetGroups.delete(scope, record.targetGroupArn);
    await this.deleteLoadBalancerIfUnused(scope, record.loadBalancerArn);
    record.deleted = true;
    record.updatedAt = this.d.clock.now();
    await this.save(record);
    return { service: await this.view(scope, record, false) };
  }

  // ---- helpers

  private async clusterActive(clusterArn: string): Promise<boolean> {
    return this.d.store.read(async (tx) => (await tx.get(c.clusters, clusterArn))?.data.status === 'ACTIVE');
  }

  /** The record of an Express service ARN in this scope (InvalidParameterException for what is not a service ARN). */
  private async find(scope: Scope, serviceArn: string): Promise<ExpressRecord | undefined> {
    const parsed = parseArn(serviceArn);
    if (!parsed || parsed.type !== 'service' || !parsed.rest.includes('/')) throw invalid(`Invalid serviceArn: ${serviceArn.slice(0, 256)}. Specify the ARN of an Express service.`);
    if (parsed.accountId !== scope.accountId || parsed.region !== scope.region) return undefined;
    const row = await this.d.store.read((tx) => tx.get(c.expressServices, serviceArn));
    return row ? structuredClone(row.data as ExpressRecord) : undefined;
  }

  /** An Express service that Update and Delete may change: ServiceNotFoundException / ServiceNotActiveException otherwise. */
  private async active(scope: Scope, serviceArn: string): Promise<ExpressRecord> {
    const record = await this.find(scope, serviceArn);
    if (!record) throw serviceNotFound();
    if (record.deleted) throw serviceNotActive();
    return record;
  }

  private async save(record: ExpressRecord): Promise<void> {
    await this.d.store.write(async (tx) => {
      const row = await tx.get(c.expressServices, record.serviceArn);
      if (row) await tx.update(c.expressServices, row, record);
      else await tx.insert(c.expressServices, record.serviceArn, record);
    });
  }

  /** The scalable target (min/max) and the target-tracking policy of a scaling target. */
  private async applyScaling(scope: Scope, record: ExpressRecord, target: ExpressConfig['scalingTarget']): Promise<void> {
    const { autoscaling } = this.d;
    const resourceId = resourceIdOf(record);
    const registered = await autoscaling.register(scope, {
      ServiceNamespace: 'ecs',
      ResourceId: resourceId,
      ScalableDimension: SCALING_DIMENSION,
      MinCapacity: target.minTaskCount,
      MaxCapacity: target.maxTaskCount,
      Tags: record.tags.length ? Object.fromEntries(record.tags.map((t) => [t.key!, t.value ?? ''])) : undefined,
    });
    const metric = METRICS[target.autoScalingMetric]!;
    const policy = await autoscaling.putPolicy(scope, {
      PolicyName: `${record.serviceName}-express-scaling`,
      ServiceNamespace: 'ecs',
      ResourceId: resourceId,
      ScalableDimension: SCALING_DIMENSION,
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: {
        TargetValue: target.autoScalingTargetValue,
        PredefinedMetricSpecification: { PredefinedMetricType: metric, ResourceLabel: metric === 'ALBRequestCountPerTarget' ? resourceLabel(record) : undefined },
      },
    });
    record.scalableTargetArn = registered.ScalableTargetARN;
    record.policyArn = policy.PolicyARN;
  }

  /** The cluster's Express load balancer with room for one more service (made when there is none). */
  private async sharedLoadBalancer(scope: Scope, clusterArn: string) {
    const { elbv2 } = this.d;
    const base = `ecs-express-${createHash('sha256').update(clusterArn).digest('hex').slice(0, 8)}`;
    // ELBv2's quota of load balancers per account and region bounds this (CreateLoadBalancer refuses past it).
    for (let n = 1; n <= 1000; n++) {
      const name = `${base}-${n}`;
      const found = await elbv2.loadBalancers.describe(scope, { Names: [name] }).catch(() => undefined);
      const lb = found?.LoadBalancers?.[0];
      if (!lb) {
        const made = await elbv2.loadBalancers.create(scope, { Name: name, Tags: [{ Key: 'AmazonECSManaged', Value: 'true' }, { Key: 'ecs:cluster', Value: clusterArn }] });
        return made.LoadBalancers[0]!;
      }
      const listeners = await elbv2.listeners.describe(scope, { LoadBalancerArn: lb.LoadBalancerArn });
      if (listeners.Listeners.length < SERVICES_PER_LOAD_BALANCER) return lb;
    }
    throw err.clientException('No Express load balancer of this cluster has room for another service.');
  }

  private async deleteLoadBalancerIfUnused(scope: Scope, arn: string): Promise<void> {
    const listeners = await this.d.elbv2.listeners.describe(scope, { LoadBalancerArn: arn }).catch(() => undefined);
    if (listeners && listeners.Listeners.length === 0) await this.d.elbv2.loadBalancers.delete(scope, arn);
  }

  /** The lowest port of the Express range that no listener has and nothing on this host listens on. */
  private async freePort(): Promise<number> {
    const taken = new Set(await this.d.store.read(async (tx) => (await tx.find(c.elbListeners)).map((r) => r.data.port)));
    for (let p = this.d.ports.from; p <= this.d.ports.to; p++) {
      if (!taken.has(p) && (await this.d.portFree(p))) return p;
    }
    throw err.clientException(`No free port is left for an Express service listener in ${this.d.ports.from}-${this.d.ports.to}.`);
  }

  /** DescribeServiceRevisions' ecsManagedResources for the service's newest revision: where its traffic and scaling come from. */
  private async recordManagedResources(record: ExpressRecord): Promise<void> {
    const cfg = record.configurations[0]!;
    if (!cfg.serviceRevisionArn) return;
    const at = record.updatedAt;
    const active = { status: 'ACTIVE', updatedAt: at };
    await this.d.ecs.services.setManagedResources(cfg.serviceRevisionArn, {
      ingressPaths: [
        {
          accessType: 'PUBLIC',
          endpoint: record.endpoint,
          loadBalancer: { arn: record.loadBalancerArn, scheme: 'internet-facing', subnetIds: cfg.networkConfiguration?.subnets ?? [], securityGroupIds: cfg.networkConfiguration?.securityGroups ?? [], ...active },
          listener: { arn: record.listenerArn, ...active },
          rule: { arn: record.ruleArn, ...active },
          targetGroups: [{ arn: record.targetGroupArn, healthCheckPath: cfg.healthCheckPath, healthCheckPort: cfg.primaryContainer.containerPort, port: cfg.primaryContainer.containerPort, ...active }],
        },
      ],
      autoScaling: {
        scalableTarget: { arn: record.scalableTargetArn, minCapacity: cfg.scalingTarget.minTaskCount, maxCapacity: cfg.scalingTarget.maxTaskCount, ...active },
        applicationAutoScalingPolicies: [{ arn: record.policyArn, policyType: 'TargetTrackingScaling', targetValue: cfg.scalingTarget.autoScalingTargetValue, metric: cfg.scalingTarget.autoScalingMetric, ...active }],
      },
      logGroups: [{ logGroupName: cfg.primaryContainer.awsLogsConfiguration.logGroup, ...active }],
    });
  }

  /** ECSExpressGatewayService: the status and active configurations follow the ECS service's. */
  private async view(scope: Scope, record: ExpressRecord, includeTags: boolean) {
    const found = await this.d.ecs.services.describe(scope, { cluster: record.clusterArn, services: [record.serviceArn] }).catch(() => undefined);
    const svc = found?.services[0] as { status?: string; currentServiceDeployment?: string; deployments?: { serviceRevisionArn?: string; taskDefinition?: string }[] } | undefined;
    const status = svc?.status ?? 'INACTIVE';
    // Each live deployment's configuration: the one it was made for, or (a circuit-breaker rollback
    // is a revision ECS made) the newest one of its task definition.
    const active: ExpressConfig[] = [];
    for (const dep of status === 'ACTIVE' ? (svc?.deployments ?? []) : []) {
      const cfg = record.configurations.find((x) => x.serviceRevisionArn === dep.serviceRevisionArn) ?? record.configurations.find((x) => x.taskDefinitionArn === dep.taskDefinition);
      if (cfg && !active.includes(cfg)) active.push(cfg);
    }
    return {
      serviceArn: record.serviceArn,
      serviceName: record.serviceName,
      cluster: record.clusterArn,
      infrastructureRoleArn: record.infrastructureRoleArn,
      status: { statusCode: status === 'ACTIVE' || status === 'DRAINING' ? status : 'INACTIVE', ...(record.deleted ? { statusReason: 'The Express service was deleted.' } : {}) },
      currentDeployment: svc?.currentServiceDeployment,
      activeConfigurations: active.map((cfg) => configView(record, cfg)),
      tags: includeTags ? record.tags : undefined,
      createdAt: record.createdAt,
      updatedAt: record.updatedAt,
    };
  }
}

/** ExpressGatewayServiceConfiguration (the model's output shape drops taskDefinitionArn). */
const configView = (record: ExpressRecord, cfg: ExpressConfig) => ({ ...cfg, ingressPaths: [{ accessType: 'PUBLIC', endpoint: record.endpoint }] });

const resourceIdOf = (record: ExpressRecord) => `service/${clusterNameOf(record.clusterArn)}/${record.serviceName}`;
/** ALBRequestCountPerTarget's label: app/<lb-name>/<lb-id>/targetgroup/<tg-name>/<tg-id>. */
const resourceLabel = (record: ExpressRecord) => `${record.loadBalancerArn.split(':loadbalancer/')[1]}/${record.targetGroupArn.split(':').pop()}`;
const revisionOf = (service: Record<string, unknown>) => (service.currentServiceRevisions as { arn: string }[] | undefined)?.[0]?.arn;
/** The address the endpoint URL names: the listeners' bind address, loopback when they bind every interface. */
const endpointHost = (bindHost: string) => (bindHost === '0.0.0.0' || bindHost === '::' || bindHost === '' ? '127.0.0.1' : bindHost.includes(':') ? `[${bindHost}]` : bindHost);
