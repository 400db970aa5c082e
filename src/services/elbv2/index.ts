/**
 * The ELBv2 service module (awsQuery, Version 2015-12-01): the model and one thin handler per
 * operation over the domain classes. The data plane (src/lb) reads the same collections and
 * reports target health through `targets.healthSource`.
 */
import { loadModel } from '../../aws/model.js';
import type { Operations } from '../../aws/generated/elbv2.js';
import { translatingErrors, type OperationHandlers, type ServiceModule } from '../../aws/service.js';
import type { Clock } from '../../core/clock.js';
import { ConflictError } from '../../core/errors.js';
import { InvalidTokenError } from '../../core/pagination.js';
import type { Store } from '../../store/store.js';
import { describeSslPolicy, LIMITS, SSL_POLICIES } from './catalog.js';
import { concurrentModification, sslPolicyNotFound, validationError, VALIDATION_ERROR } from './errors.js';
import { Listeners, type CertificateCheck } from './listeners.js';
import { LoadBalancers } from './load-balancers.js';
import { ElbTags } from './tags.js';
import { TargetGroups } from './target-groups.js';
import { Targets } from './targets.js';

export { targetKey, type CheckedHealth, type TargetHealthSource, type TargetHealthView } from './targets.js';
export { sslPolicyNamed } from './catalog.js';
export type { Targets } from './targets.js';

export interface Elbv2Domain {
  loadBalancers: LoadBalancers;
  targetGroups: TargetGroups;
  targets: Targets;
  listeners: Listeners;
  tags: ElbTags;
}

export function createElbv2Domain(deps: { store: Store; clock: Clock; certificateExists: CertificateCheck; dnsSuffix?: string }): Elbv2Domain {
  const { store, clock } = deps;
  return {
    loadBalancers: new LoadBalancers(store, clock, { dnsSuffix: deps.dnsSuffix ?? 'elb.localhost' }),
    targetGroups: new TargetGroups(store, clock),
    targets: new Targets(store, clock),
    listeners: new Listeners(store, clock, deps.certificateExists),
    tags: new ElbTags(store),
  };
}

export function elbv2Service(d: Elbv2Domain): ServiceModule {
  const operations: OperationHandlers<Operations> = {
    CreateLoadBalancer: (ctx, input) => d.loadBalancers.create(ctx, input),
    DescribeLoadBalancers: (ctx, input) => d.loadBalancers.describe(ctx, input),
    DeleteLoadBalancer: (ctx, input) => d.loadBalancers.delete(ctx, input.LoadBalancerArn),
    DescribeLoadBalancerAttributes: (ctx, input) => d.loadBalancers.describeAttributes(ctx, input.LoadBalancerArn),
    ModifyLoadBalancerAttributes: (ctx, input) => d.loadBalancers.modifyAttributes(ctx, input.LoadBalancerArn, input.Attributes),
    SetSecurityGroups: (ctx, input) => d.loadBalancers.setSecurityGroups(ctx, input.LoadBalancerArn, input.SecurityGroups),
    SetSubnets: (ctx, input) => d.loadBalancers.setSubnets(ctx, input.LoadBalancerArn, [...(input.Subnets ?? []), ...(input.SubnetMappings ?? []).flatMap((m) => (m.SubnetId ? [m.SubnetId] : []))]),

    CreateTargetGroup: (ctx, input) => d.targetGroups.create(ctx, input),
    DescribeTargetGroups: (ctx, input) => d.targetGroups.describe(ctx, input),
    ModifyTargetGroup: (ctx, input) => d.targetGroups.modify(ctx, input),
    DeleteTargetGroup: (ctx, input) => d.targetGroups.delete(ctx, input.TargetGroupArn),
    DescribeTargetGroupAttributes: (ctx, input) => d.targetGroups.describeAttributes(ctx, input.TargetGroupArn),
    ModifyTargetGroupAttributes: (ctx, input) => d.targetGroups.modifyAttributes(ctx, input.TargetGroupArn, input.Attributes),

    RegisterTargets: (ctx, input) => d.targets.register(ctx, input.TargetGroupArn, input.Targets),
    DeregisterTargets: (ctx, input) => d.targets.deregister(ctx, input.TargetGroupArn, input.Targets),
    DescribeTargetHealth: (ctx, input) => d.targets.describeHealth(ctx, input.TargetGroupArn, input.Targets),

    CreateListener: (ctx, input) => d.listeners.create(ctx, input),
    DescribeListeners: (ctx, input) => d.listeners.describe(ctx, input),
    ModifyListener: (ctx, input) => d.listeners.modify(ctx, input),
    DeleteListener: (ctx, input) => d.listeners.delete(ctx, input.ListenerArn),
    DescribeListenerAttributes: (ctx, input) => d.listeners.describeAttributes(ctx, input.ListenerArn),
    ModifyListenerAttributes: (ctx, input) => d.listeners.modifyAttributes(ctx, input.ListenerArn, input.Attributes),

    CreateRule: (ctx, input) => d.listeners.createRule(ctx, input),
    DescribeRules: (ctx, input) => d.listeners.describeRules(ctx, input),
    ModifyRule: (ctx, input) => d.listeners.modifyRule(ctx, input),
    DeleteRule: (ctx, input) => d.listeners.deleteRule(ctx, input.RuleArn),
    SetRulePriorities: (ctx, input) => d.listeners.setPriorities(ctx, input.RulePriorities),

    AddTags: (ctx, input) => d.tags.add(ctx, input.ResourceArns, input.Tags as { Key: string; Value?: string }[]),
    RemoveTags: (ctx, input) => d.tags.remove(ctx, input.ResourceArns, input.TagKeys),
    DescribeTags: (ctx, input) => d.tags.describe(ctx, input.ResourceArns),

    // No capacity reservations here (Terraform reads this for every aws_lb): none, nothing pending.
    DescribeCapacityReservation: async (ctx, input) => {
      await d.loadBalancers.describeAttributes(ctx, input.LoadBalancerArn);
      return { CapacityReservationState: [], DecreaseRequestsRemaining: 3 };
    },
    DescribeAccountLimits: (_ctx, input) => {
      const limits = Object.entries(LIMITS).map(([Name, Max]) => ({ Name, Max: String(Max) }));
      const size = input.PageSize ?? 400;
      if (size < 1 || size > 400) throw validationError('Page size must be between 1 and 400');
      const start = input.Marker === undefined ? 0 : Number(input.Marker);
      if (!Number.isInteger(start) || start < 0 || start > limits.length) throw validationError('Invalid Marker');
      const next = start + size < limits.length ? String(start + size) : undefined;
      return { Limits: limits.slice(start, start + size), NextMarker: next };
    },
    DescribeSSLPolicies: (_ctx, input) => {
      const names = input.Names ?? [];
      for (const n of names) if (!SSL_POLICIES.some((p) => p.name === n)) throw sslPolicyNotFound(n);
      const chosen = SSL_POLICIES.filter((p) => names.length === 0 || names.includes(p.name));
      return { SslPolicies: chosen.map(describeSslPolicy) };
    },
  };
  return {
    name: 'elasticloadbalancing',
    model: loadModel('elbv2'),
    protocol: 'awsQuery',
    validationErrorCode: VALIDATION_ERROR,
    operations: translatingErrors(operations, (e) => {
      if (e instanceof InvalidTokenError) return validationError('Invalid Marker');
      if (e instanceof ConflictError) return concurrentModification();
      return undefined;
    }),
  };
}
