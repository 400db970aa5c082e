/** Target groups: create (idempotent), describe with the load balancers that use them, health check settings, attributes, delete. */
import type { CreateTargetGroupInput, DescribeTargetGroupsInput, ModifyTargetGroupInput } from '../../aws/generated/elbv2.js';
import type { Clock } from '../../core/clock.js';
import * as c from '../../store/collections.js';
import type { ElbHealthCheck, ElbTargetGroupDoc } from '../../store/collections.js';
import type { Store, StoreTx } from '../../store/store.js';
import { forwardedGroups } from './actions.js';
import { elbId, ownArn, targetGroupArn, type Scope } from './arns.js';
import { defaultAttributes, describeAttributes, modifyAttributes } from './attributes.js';
import { LIMITS } from './catalog.js';
import { accountRegion, checkName, elbPage, getOwn, mergeTags } from './common.js';
import * as err from './errors.js';

const DEFAULT_VPC = 'vpc-00000000000000000';

export function describeTargetGroup(d: ElbTargetGroupDoc, loadBalancerArns: readonly string[]) {
  const h = d.healthCheck;
  return {
    TargetGroupArn: d.arn,
    TargetGroupName: d.name,
    Protocol: d.protocol,
    Port: d.port,
    VpcId: d.vpcId,
    HealthCheckProtocol: h.protocol,
    HealthCheckPort: h.port,
    HealthCheckEnabled: h.enabled,
    HealthCheckIntervalSeconds: h.intervalSeconds,
    HealthCheckTimeoutSeconds: h.timeoutSeconds,
    HealthyThresholdCount: h.healthyThreshold,
    UnhealthyThresholdCount: h.unhealthyThreshold,
    HealthCheckPath: h.path,
    Matcher: { HttpCode: h.matcher },
    LoadBalancerArns: [...loadBalancerArns],
    TargetType: d.targetType,
    ProtocolVersion: d.protocolVersion,
    IpAddressType: d.ipAddressType,
  };
}

/** Health check settings from a create or modify input over `base`, checked as ELBv2 checks them. */
export function healthCheckFrom(input: Partial<ModifyTargetGroupInput>, base: ElbHealthCheck): ElbHealthCheck {
  const h: ElbHealthCheck = {
    enabled: input.HealthCheckEnabled ?? base.enabled,
    protocol: input.HealthCheckProtocol ?? base.protocol,
    port: input.HealthCheckPort ?? base.port,
    path: input.HealthCheckPath ?? base.path,
    intervalSeconds: input.HealthCheckIntervalSeconds ?? base.intervalSeconds,
    timeoutSeconds: input.HealthCheckTimeoutSeconds ?? base.timeoutSeconds,
    healthyThreshold: input.HealthyThresholdCount ?? base.healthyThreshold,
    unhealthyThreshold: input.UnhealthyThresholdCount ?? base.unhealthyThreshold,
    matcher: input.Matcher?.HttpCode ?? base.matcher,
  };
  if (input.Matcher?.GrpcCode !== undefined) throw err.validationError('gRPC matchers are not supported by Dockyard');
  if (h.protocol !== 'HTTP' && h.protocol !== 'HTTPS') throw err.validationError(`Health check protocol '${h.protocol}' must be HTTP or HTTPS for this target group`);
  if (h.port !== 'traffic-port' && !(/^[0-9]{1,5}$/.test(h.port) && Number(h.port) >= 1 && Number(h.port) <= 65535)) throw err.validationError(`Health check port '${h.port.slice(0, 32)}' must be 'traffic-port' or 1 to 65535`);
  if (!h.path.startsWith('/') || h.path.length > 1024 || /[\s]/.test(h.path)) throw err.validationError("Health check path must begin with '/' and be at most 1024 characters");
  if (h.intervalSeconds < 5 || h.intervalSeconds > 300) throw err.validationError('Health check interval must be between 5 and 300 seconds');
  if (h.timeoutSeconds < 2 || h.timeoutSeconds > 120) throw err.validationError('Health check timeout must be between 2 and 120 seconds');
  if (h.timeoutSeconds >= h.intervalSeconds) throw err.validationError('Health check interval must be greater than the timeout');
  if (h.healthyThreshold < 2 || h.healthyThreshold > 10) throw err.validationError('Healthy threshold count must be between 2 and 10');
  if (h.unhealthyThreshold < 2 || h.unhealthyThreshold > 10) throw err.validationError('Unhealthy threshold count must be between 2 and 10');
  if (!/^[0-9]{3}(-[0-9]{3})?(,[0-9]{3}(-[0-9]{3})?){0,19}$/.test(h.matcher) || h.matcher.split(/[,-]/).some((code) => Number(code) < 200 || Number(code) > 499)) {
    throw err.validationError(`Health check matcher HTTP code '${h.matcher.slice(0, 64)}' must be codes or ranges between 200 and 499`);
  }
  return h;
}

const DEFAULT_HEALTH_CHECK: ElbHealthCheck = { enabled: true, protocol: 'HTTP', port: 'traffic-port', path: '/', intervalSeconds: 30, timeoutSeconds: 5, healthyThreshold: 5, unhealthyThreshold: 2, matcher: '200' };

/** Which load balancers use each target group (through listeners' default actions and rules), for one account and region. */
export async function targetGroupUsage(tx: StoreTx, scope: Scope): Promise<Map<string, Set<string>>> {
  const usage = new Map<string, Set<string>>();
  const add = (tg: string, lb: string) => (usage.get(tg) ?? usage.set(tg, new Set()).get(tg)!).add(lb);
  for (const lb of await tx.select(c.elbLoadBalancers, [], { where: { account_region: accountRegion(scope) } })) {
    for (const l of await tx.find(c.elbListeners, { where: { load_balancer: lb.pk } })) for (const tg of forwardedGroups(l.data.defaultActions)) add(tg, lb.pk);
    for (const r of await tx.find(c.elbRules, { where: { load_balancer: lb.pk } })) for (const tg of forwardedGroups(r.data.actions)) add(tg, lb.pk);
  }
  return usage;
}

export class TargetGroups {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  async create(scope: Scope, input: CreateTargetGroupInput) {
    checkName(input.Name, 'target group');
    const targetType = input.TargetType ?? 'instance';
    if (targetType !== 'instance' && targetType !== 'ip') throw err.invalidConfiguration(`Target type '${targetType}' is not supported by Dockyard (instance and ip are)`);
    const protocol = input.Protocol;
    if (protocol === undefined) throw err.validationError('A protocol must be specified');
    if (protocol !== 'HTTP' && protocol !== 'HTTPS') throw err.invalidConfiguration(`Protocol '${protocol}' is not supported by Dockyard's application load balancers (HTTP and HTTPS are)`);
    if (input.Port === undefined) throw err.validationError('A port must be specified');
    if (input.Port < 1 || input.Port > 65535) throw err.validationError('Port must be between 1 and 65535');
    const protocolVersion = input.ProtocolVersion || 'HTTP1';
    if (protocolVersion !== 'HTTP1') throw err.validationError(`Protocol version '${protocolVersion.slice(0, 32)}' is not supported by Dockyard (HTTP1 is)`);
    if (input.VpcId !== undefined && !/^vpc-[0-9A-Za-z]{1,32}$/.test(input.VpcId)) throw err.validationError(`The VPC ID '${input.VpcId.slice(0, 64)}' is not valid`);
    if (input.TargetControlPort !== undefined) throw err.validationError('Target control ports are not supported by Dockyard');
    const healthCheck = healthCheckFrom(input, { ...DEFAULT_HEALTH_CHECK, protocol });
    const tags = mergeTags([], input.Tags as { Key: string; Value?: string }[] | undefined, 'ValidationError');
    const ipAddressType = input.IpAddressType ?? 'ipv4';
    return this.store.write(async (tx) => {
      const existing = (await tx.find(c.elbTargetGroups, { where: { account_region: accountRegion(scope), name: input.Name } }))[0]?.data;
      if (existing) {
        const same = existing.protocol === protocol && existing.port === input.Port && existing.targetType === targetType && existing.vpcId === (input.VpcId ?? DEFAULT_VPC) && JSON.stringify(existing.healthCheck) === JSON.stringify(healthCheck);
        if (!same) throw err.duplicateTargetGroupName(input.Name);
        const usage = await targetGroupUsage(tx, scope);
        return { TargetGroups: [describeTargetGroup(existing, [...(usage.get(existing.arn) ?? [])])] };
      }
      if ((await tx.count(c.elbTargetGroups, { account_region: accountRegion(scope) })) >= LIMITS['target-groups']) throw err.tooManyTargetGroups();
      const doc: ElbTargetGroupDoc = {
        accountId: scope.accountId,
        region: scope.region,
        arn: targetGroupArn(scope, input.Name, elbId()),
        name: input.Name,
        protocol,
        protocolVersion,
        port: input.Port!,
        vpcId: input.VpcId ?? DEFAULT_VPC,
        targetType,
        ipAddressType,
        healthCheck,
        createdTime: this.clock.now(),
        attributes: defaultAttributes('target group'),
        tags,
      };
      await tx.insert(c.elbTargetGroups, doc.arn, doc);
      return { TargetGroups: [describeTargetGroup(doc, [])] };
    });
  }

  async describe(scope: Scope, input: DescribeTargetGroupsInput) {
    const given = [input.LoadBalancerArn !== undefined, !!input.TargetGroupArns?.length, !!input.Names?.length].filter(Boolean).length;
    if (given > 1) throw err.validationError('Specify only one of load balancer ARN, target group ARNs or names');
    const { docs, usage } = await this.store.read(async (tx) => {
      const usage = await targetGroupUsage(tx, scope);
      let docs: ElbTargetGroupDoc[];
      if (input.TargetGroupArns?.length) {
        docs = await Promise.all([...new Set(input.TargetGroupArns)].map(async (arn) => (await getOwn(tx, c.elbTargetGroups, arn, 'targetgroup', scope, () => err.targetGroupNotFound(`Target groups '[${arn}]' not found`))).data));
      } else {
        const all = (await tx.find(c.elbTargetGroups, { where: { account_region: accountRegion(scope) } })).map((r) => r.data);
        if (input.LoadBalancerArn !== undefined) {
          await getOwn(tx, c.elbLoadBalancers, input.LoadBalancerArn, 'loadbalancer', scope, () => err.loadBalancerNotFound());
          docs = all.filter((d) => usage.get(d.arn)?.has(input.LoadBalancerArn!));
        } else if (input.Names?.length) {
          const missing = input.Names.filter((n) => !all.some((d) => d.name === n));
          if (missing.length) throw err.targetGroupNotFound(`One or more target groups not found`);
          docs = all.filter((d) => input.Names!.includes(d.name));
        } else docs = all;
      }
      return { docs, usage };
    });
    docs.sort((a, b) => a.arn.localeCompare(b.arn));
    const page = elbPage(docs, (d) => d.arn, input);
    return { TargetGroups: page.items.map((d) => describeTargetGroup(d, [...(usage.get(d.arn) ?? [])])), NextMarker: page.NextMarker };
  }

  async modify(scope: Scope, input: ModifyTargetGroupInput) {
    return this.store.write(async (tx) => {
      const row = await getOwn(tx, c.elbTargetGroups, input.TargetGroupArn, 'targetgroup', scope, () => err.targetGroupNotFound());
      const doc = { ...row.data, healthCheck: healthCheckFrom(input, row.data.healthCheck) };
      await tx.update(c.elbTargetGroups, row, doc);
      const usage = await targetGroupUsage(tx, scope);
      return { TargetGroups: [describeTargetGroup(doc, [...(usage.get(doc.arn) ?? [])])] };
    });
  }

  async delete(scope: Scope, arn: string) {
    await this.store.write(async (tx) => {
      // Deleting a target group that does not exist (any more) succeeds: the model gives DeleteTargetGroup no TargetGroupNotFound.
      const row = ownArn(arn, 'targetgroup', scope) ? await tx.get(c.elbTargetGroups, arn) : undefined;
      if (!row) return;
      if ((await targetGroupUsage(tx, scope)).has(arn)) throw err.resourceInUse(`Target group '${arn}' is currently in use by a listener or a rule`);
      for (const t of await tx.select(c.elbTargets, [], { where: { target_group: arn } })) await tx.delete(c.elbTargets, t.pk);
      await tx.delete(c.elbTargetGroups, row.pk);
    });
    return {};
  }

  describeAttributes(scope: Scope, arn: string) {
    return describeAttributes(this.store, { collection: c.elbTargetGroups, type: 'targetgroup', kind: 'target group', notFound: () => err.targetGroupNotFound() }, scope, arn);
  }

  modifyAttributes(scope: Scope, arn: string, pairs: { Key?: string; Value?: string }[]) {
    return modifyAttributes(this.store, { collection: c.elbTargetGroups, type: 'targetgroup', kind: 'target group', notFound: () => err.targetGroupNotFound() }, scope, arn, pairs);
  }
}
