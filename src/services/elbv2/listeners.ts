/**
 * Listeners and their rules. The default rule is the listener's default actions (DescribeRules
 * shows it with IsDefault and Priority "default"); other rules are rows of elbRules, unique by
 * priority within their listener.
 */
import type { CreateListenerInput, CreateRuleInput, DescribeListenersInput, DescribeRulesInput, ModifyListenerInput, ModifyRuleInput, RulePriorityPair } from '../../aws/generated/elbv2.js';
import type { Clock } from '../../core/clock.js';
import * as c from '../../store/collections.js';
import type { ElbListenerDoc, ElbRuleDoc } from '../../store/collections.js';
import type { Store, StoreTx } from '../../store/store.js';
import { forwardedGroups, normalizeActions, normalizeConditions, type StoredAction } from './actions.js';
import { defaultRuleArn, elbId, listenerArn, ownArn, ruleArn, type Scope } from './arns.js';
import { defaultAttributes, describeAttributes, modifyAttributes } from './attributes.js';
import { DEFAULT_SSL_POLICY, LIMITS, sslPolicyNamed } from './catalog.js';
import { elbPage, getOwn, mergeTags } from './common.js';
import * as err from './errors.js';
import { AwsError } from '../../aws/errors.js';

/** Whether an ACM certificate ARN names a certificate the caller's account has (the ACM slice answers). */
export type CertificateCheck = (scope: Scope, arn: string) => Promise<boolean>;

export function describeListener(d: ElbListenerDoc) {
  return {
    ListenerArn: d.arn,
    LoadBalancerArn: d.loadBalancerArn,
    Port: d.port,
    Protocol: d.protocol,
    ...(d.protocol === 'HTTPS' ? { Certificates: d.certificates, SslPolicy: d.sslPolicy } : {}),
    DefaultActions: d.defaultActions,
    ...(d.alpnPolicy ? { AlpnPolicy: d.alpnPolicy } : {}),
  };
}

const describeRule = (r: ElbRuleDoc) => ({ RuleArn: r.arn, Priority: String(r.priority), Conditions: r.conditions, Actions: r.actions, IsDefault: false });
const describeDefaultRule = (l: ElbListenerDoc) => ({ RuleArn: defaultRuleArn(l.arn), Priority: 'default', Conditions: [], Actions: l.defaultActions, IsDefault: true });

/** The listener ARN a rule ARN belongs to. */
const listenerOfRule = (arn: string) => arn.replace(':listener-rule/', ':listener/').replace(/\/[^/]+$/, '');

export class Listeners {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly certificateExists: CertificateCheck,
  ) {}

  private targetGroupCheck(tx: StoreTx, scope: Scope) {
    return async (arn: string) => {
      await getOwn(tx, c.elbTargetGroups, arn, 'targetgroup', scope, () => err.targetGroupNotFound(`Target groups '${arn.slice(0, 256)}' not found`));
    };
  }

  /** Protocol, port, certificates and SSL policy of a new or modified listener, checked. */
  private async tlsSettings(scope: Scope, protocol: string, certificates: { CertificateArn?: string }[] | undefined, sslPolicy: string | undefined) {
    if (protocol !== 'HTTP' && protocol !== 'HTTPS') throw new AwsError('IncompatibleProtocolsException', `Listener protocol '${protocol}' is not supported with a load balancer of type 'application'`);
    if (protocol === 'HTTP') {
      if (certificates?.length) throw err.validationError('Certificates can be specified for HTTPS listeners only');
      return { certificates: [], sslPolicy: undefined };
    }
    if (!certificates?.length) throw err.validationError('A certificate must be specified for HTTPS listeners');
    if (certificates.length > 1) throw err.tooManyCertificates();
    const arn = certificates[0]!.CertificateArn;
    if (!arn || !(await this.certificateExists(scope, arn))) throw err.certificateNotFound();
    const policy = sslPolicy ?? DEFAULT_SSL_POLICY;
    if (!sslPolicyNamed(policy)) throw err.sslPolicyNotFound(policy);
    return { certificates: [{ CertificateArn: arn }], sslPolicy: policy };
  }

  async create(scope: Scope, input: CreateListenerInput) {
    const protocol = input.Protocol ?? 'HTTP';
    if (input.Port === undefined) throw err.validationError('A listener port must be specified');
    if (input.Port < 1 || input.Port > 65535) throw err.validationError('Listener port must be between 1 and 65535');
    if (input.MutualAuthentication && input.MutualAuthentication.Mode !== undefined && input.MutualAuthentication.Mode !== 'off') throw err.validationError('Mutual TLS is not supported by Dockyard');
    const tls = await this.tlsSettings(scope, protocol, input.Certificates, input.SslPolicy);
    const tags = mergeTags([], input.Tags as { Key: string; Value?: string }[] | undefined, 'ValidationError');
    return this.store.write(async (tx) => {
      const lb = await getOwn(tx, c.elbLoadBalancers, input.LoadBalancerArn, 'loadbalancer', scope, () => err.loadBalancerNotFound());
      const defaultActions = await normalizeActions(input.DefaultActions, this.targetGroupCheck(tx, scope));
      const siblings = await tx.find(c.elbListeners, { where: { load_balancer: lb.pk } });
      const existing = siblings.find((l) => l.data.port === input.Port)?.data;
      if (existing) {
        // CreateListener is idempotent: the same settings answer the existing listener.
        const same = existing.protocol === protocol && JSON.stringify(existing.defaultActions) === JSON.stringify(defaultActions) && JSON.stringify(existing.certificates) === JSON.stringify(tls.certificates);
        if (!same) throw err.duplicateListener();
        return { Listeners: [describeListener(existing)] };
      }
      if (siblings.length >= LIMITS['listeners-per-application-load-balancer']) throw err.tooManyListeners();
      const doc: ElbListenerDoc = {
        accountId: scope.accountId,
        region: scope.region,
        arn: listenerArn(lb.pk, elbId()),
        loadBalancerArn: lb.pk,
        port: input.Port!,
        protocol,
        ...(tls.sslPolicy ? { sslPolicy: tls.sslPolicy } : {}),
        certificates: tls.certificates,
        ...(input.AlpnPolicy?.length ? { alpnPolicy: input.AlpnPolicy } : {}),
        defaultActions,
        attributes: defaultAttributes('listener'),
        tags,
        createdTime: this.clock.now(),
      };
      await tx.insert(c.elbListeners, doc.arn, doc);
      return { Listeners: [describeListener(doc)] };
    });
  }

  async describe(scope: Scope, input: DescribeListenersInput) {
    if (input.LoadBalancerArn === undefined && !input.ListenerArns?.length) throw err.validationError('You must specify either listener ARNs or a load balancer ARN');
    if (input.LoadBalancerArn !== undefined && input.ListenerArns?.length) throw err.validationError('Listener ARNs and a load balancer ARN cannot be specified at the same time');
    const docs = await this.store.read(async (tx) => {
      if (input.ListenerArns?.length) {
        return Promise.all([...new Set(input.ListenerArns)].map(async (arn) => (await getOwn(tx, c.elbListeners, arn, 'listener', scope, () => err.listenerNotFound(`Listeners '[${arn}]' not found`))).data));
      }
      await getOwn(tx, c.elbLoadBalancers, input.LoadBalancerArn!, 'loadbalancer', scope, () => err.loadBalancerNotFound());
      return (await tx.find(c.elbListeners, { where: { load_balancer: input.LoadBalancerArn! } })).map((r) => r.data);
    });
    docs.sort((a, b) => a.arn.localeCompare(b.arn));
    const page = elbPage(docs, (d) => d.arn, input);
    return { Listeners: page.items.map(describeListener), NextMarker: page.NextMarker };
  }

  async modify(scope: Scope, input: ModifyListenerInput) {
    return this.store.write(async (tx) => {
      const row = await getOwn(tx, c.elbListeners, input.ListenerArn, 'listener', scope, () => err.listenerNotFound());
      const protocol = input.Protocol ?? row.data.protocol;
      const port = input.Port ?? row.data.port;
      if (port < 1 || port > 65535) throw err.validationError('Listener port must be between 1 and 65535');
      const certificates = input.Certificates ?? (protocol === 'HTTPS' ? row.data.certificates : undefined);
      const tls = await this.tlsSettings(scope, protocol, certificates, input.SslPolicy ?? row.data.sslPolicy);
      if (port !== row.data.port) {
        const siblings = await tx.find(c.elbListeners, { where: { load_balancer: row.data.loadBalancerArn } });
        if (siblings.some((l) => l.data.port === port)) throw err.duplicateListener();
      }
      const defaultActions = input.DefaultActions ? await normalizeActions(input.DefaultActions, this.targetGroupCheck(tx, scope)) : row.data.defaultActions;
      const doc: ElbListenerDoc = { ...row.data, port, protocol, certificates: tls.certificates, sslPolicy: tls.sslPolicy, defaultActions, ...(input.AlpnPolicy ? { alpnPolicy: input.AlpnPolicy } : {}) };
      if (!doc.sslPolicy) delete doc.sslPolicy;
      await tx.update(c.elbListeners, row, doc);
      return { Listeners: [describeListener(doc)] };
    });
  }

  async delete(scope: Scope, arn: string) {
    await this.store.write(async (tx) => {
      const row = await getOwn(tx, c.elbListeners, arn, 'listener', scope, () => err.listenerNotFound());
      for (const r of await tx.select(c.elbRules, [], { where: { listener: arn } })) await tx.delete(c.elbRules, r.pk);
      await tx.delete(c.elbListeners, row.pk);
    });
    return {};
  }

  /** The HTTPS listeners serving an ACM certificate (ACM's InUseBy, and what blocks DeleteCertificate). */
  async usingCertificate(certificateArn: string): Promise<string[]> {
    const listeners = await this.store.read((tx) => tx.find(c.elbListeners));
    return [...new Set(listeners.filter((l) => l.data.certificates.some((x) => x.CertificateArn === certificateArn)).map((l) => l.data.loadBalancerArn))];
  }

  describeAttributes(scope: Scope, arn: string) {
    return describeAttributes(this.store, { collection: c.elbListeners, type: 'listener', kind: 'listener', notFound: () => err.listenerNotFound() }, scope, arn);
  }

  modifyAttributes(scope: Scope, arn: string, pairs: { Key?: string; Value?: string }[]) {
    return modifyAttributes(this.store, { collection: c.elbListeners, type: 'listener', kind: 'listener', notFound: () => err.listenerNotFound() }, scope, arn, pairs);
  }

  // --- rules ---

  async createRule(scope: Scope, input: CreateRuleInput) {
    if (input.Priority < 1 || input.Priority > 50000) throw err.validationError('Rule priority must be between 1 and 50000');
    if (input.Transforms?.length) throw err.validationError('Rule transforms are not supported by Dockyard');
    const conditions = normalizeConditions(input.Conditions);
    const tags = mergeTags([], input.Tags as { Key: string; Value?: string }[] | undefined, 'ValidationError');
    return this.store.write(async (tx) => {
      const listener = await getOwn(tx, c.elbListeners, input.ListenerArn, 'listener', scope, () => err.listenerNotFound());
      const actions = await normalizeActions(input.Actions, this.targetGroupCheck(tx, scope));
      if ((await tx.count(c.elbRules, { listener: listener.pk, priority: input.Priority })) > 0) throw err.priorityInUse(input.Priority);
      if ((await tx.count(c.elbRules, { load_balancer: listener.data.loadBalancerArn })) >= LIMITS['rules-per-application-load-balancer']) throw err.tooManyRules();
      const doc: ElbRuleDoc = { accountId: scope.accountId, region: scope.region, arn: ruleArn(listener.pk, elbId()), listenerArn: listener.pk, loadBalancerArn: listener.data.loadBalancerArn, priority: input.Priority, conditions, actions, tags };
      await tx.insert(c.elbRules, doc.arn, doc);
      return { Rules: [describeRule(doc)] };
    });
  }

  async describeRules(scope: Scope, input: DescribeRulesInput) {
    if (input.ListenerArn === undefined && !input.RuleArns?.length) throw err.validationError('You must specify either listener ARN or rule ARNs');
    if (input.ListenerArn !== undefined && input.RuleArns?.length) throw err.validationError('Rule ARNs and a listener ARN cannot be specified at the same time');
    const rules = await this.store.read(async (tx) => {
      if (input.RuleArns?.length) {
        return Promise.all([...new Set(input.RuleArns)].map(async (arn) => {
          const notFound = () => err.ruleNotFound(`Rules '[${arn.slice(0, 512)}]' not found`);
          if (!ownArn(arn, 'listener-rule', scope)) throw notFound();
          const row = await tx.get(c.elbRules, arn);
          if (row) return describeRule(row.data);
          const listener = await tx.get(c.elbListeners, listenerOfRule(arn));
          if (listener && defaultRuleArn(listener.pk) === arn) return describeDefaultRule(listener.data);
          throw notFound();
        }));
      }
      const listener = await getOwn(tx, c.elbListeners, input.ListenerArn!, 'listener', scope, () => err.listenerNotFound());
      const rows = (await tx.find(c.elbRules, { where: { listener: listener.pk }, orderBy: [['priority', 'asc']] })).map((r) => describeRule(r.data));
      return [...rows, describeDefaultRule(listener.data)];
    });
    const page = elbPage(rules, (r) => (r.IsDefault ? '~default' : r.Priority.padStart(5, '0')), input);
    return { Rules: page.items, NextMarker: page.NextMarker };
  }

  async modifyRule(scope: Scope, input: ModifyRuleInput) {
    if (input.Transforms?.length) throw err.validationError('Rule transforms are not supported by Dockyard');
    return this.store.write(async (tx) => {
      if (!ownArn(input.RuleArn, 'listener-rule', scope)) throw err.ruleNotFound();
      const row = await tx.get(c.elbRules, input.RuleArn);
      if (!row) {
        const listener = await tx.get(c.elbListeners, listenerOfRule(input.RuleArn));
        if (!listener || defaultRuleArn(listener.pk) !== input.RuleArn) throw err.ruleNotFound();
        // The default rule is the listener's default actions; it has no conditions.
        if (input.Conditions?.length) throw err.operationNotPermitted('The conditions of a default rule cannot be modified');
        const defaultActions = input.Actions ? await normalizeActions(input.Actions, this.targetGroupCheck(tx, scope)) : listener.data.defaultActions;
        const doc = { ...listener.data, defaultActions };
        await tx.update(c.elbListeners, listener, doc);
        return { Rules: [describeDefaultRule(doc)] };
      }
      const conditions = input.Conditions ? normalizeConditions(input.Conditions) : row.data.conditions;
      const actions = input.Actions ? await normalizeActions(input.Actions, this.targetGroupCheck(tx, scope)) : row.data.actions;
      const doc = { ...row.data, conditions, actions };
      await tx.update(c.elbRules, row, doc);
      return { Rules: [describeRule(doc)] };
    });
  }

  /** The listener (for a listener or default rule ARN) or rule whose actions `arn` names, in `tx`. */
  private async actionsOf(tx: StoreTx, scope: Scope, arn: string) {
    if (ownArn(arn, 'listener', scope)) {
      const listener = await tx.get(c.elbListeners, arn);
      return listener && { listener, actions: listener.data.defaultActions as StoredAction[] };
    }
    if (!ownArn(arn, 'listener-rule', scope)) return undefined;
    const rule = await tx.get(c.elbRules, arn);
    if (rule) return { rule, actions: rule.data.actions as StoredAction[] };
    const listener = await tx.get(c.elbListeners, listenerOfRule(arn));
    return listener && defaultRuleArn(listener.pk) === arn ? { listener, actions: listener.data.defaultActions as StoredAction[] } : undefined;
  }

  /** The target groups a listener or rule forwards to, and whether it has other actions; undefined when there is no such listener or rule (ECS checks a productionListenerRule with it). */
  async forwardTargets(scope: Scope, arn: string): Promise<{ groups: string[]; otherActions: boolean } | undefined> {
    const found = await this.store.read((tx) => this.actionsOf(tx, scope, arn));
    return found && { groups: forwardedGroups(found.actions), otherActions: found.actions.some((a) => a.Type !== 'forward') };
  }

  /**
   * Sets the weights of a listener's or rule's forward action (what ECS blue/green, linear and
   * canary deployments do to their listener rules); no write when they are already so.
   */
  async setForwardWeights(scope: Scope, arn: string, groups: readonly { targetGroupArn: string; weight: number }[]): Promise<void> {
    await this.store.write(async (tx) => {
      const found = await this.actionsOf(tx, scope, arn);
      if (!found) throw err.ruleNotFound();
      const actions = found.actions.map((a) => {
        if (a.Type !== 'forward') return a;
        const cfg = (a.ForwardConfig ?? {}) as { TargetGroupStickinessConfig?: unknown };
        const { TargetGroupArn: _single, ...rest } = a;
        void _single;
        return { ...rest, ForwardConfig: { ...cfg, TargetGroups: groups.map((g) => ({ TargetGroupArn: g.targetGroupArn, Weight: g.weight })) } };
      });
      if (JSON.stringify(actions) === JSON.stringify(found.actions)) return;
      if (found.rule) await tx.update(c.elbRules, found.rule, { ...found.rule.data, actions });
      else await tx.update(c.elbListeners, found.listener!, { ...found.listener!.data, defaultActions: actions });
    });
  }

  async deleteRule(scope: Scope, arn: string) {
    await this.store.write(async (tx) => {
      if (!ownArn(arn, 'listener-rule', scope)) throw err.ruleNotFound();
      const row = await tx.get(c.elbRules, arn);
      if (!row) {
        const listener = await tx.get(c.elbListeners, listenerOfRule(arn));
        if (listener && defaultRuleArn(listener.pk) === arn) throw err.operationNotPermitted('Default rule cannot be deleted');
        throw err.ruleNotFound();
      }
      await tx.delete(c.elbRules, arn);
    });
    return {};
  }

  async setPriorities(scope: Scope, pairs: readonly RulePriorityPair[]) {
    if (pairs.length === 0) throw err.validationError('At least one rule priority must be specified');
    return this.store.write(async (tx) => {
      const changed = new Map<string, { row: Awaited<ReturnType<StoreTx['get']>>; priority: number }>();
      for (const p of pairs) {
        if (!p.RuleArn || p.Priority === undefined) throw err.validationError('Each pair must name a rule ARN and a priority');
        if (p.Priority < 1 || p.Priority > 50000) throw err.validationError('Rule priority must be between 1 and 50000');
        if (changed.has(p.RuleArn)) throw err.validationError(`Rule '${p.RuleArn.slice(0, 512)}' is specified more than once`);
        if (!ownArn(p.RuleArn, 'listener-rule', scope)) throw err.ruleNotFound();
        const row = await tx.get(c.elbRules, p.RuleArn);
        if (!row) {
          const listener = await tx.get(c.elbListeners, listenerOfRule(p.RuleArn));
          if (listener && defaultRuleArn(listener.pk) === p.RuleArn) throw err.operationNotPermitted('The priority of a default rule cannot be changed');
          throw err.ruleNotFound();
        }
        changed.set(p.RuleArn, { row, priority: p.Priority });
      }
      // Priorities must stay unique per listener once every change is applied.
      const listeners = new Set([...changed.values()].map((x) => (x.row!.data as ElbRuleDoc).listenerArn));
      for (const listener of listeners) {
        const taken = new Map<number, string>();
        for (const r of await tx.find(c.elbRules, { where: { listener } })) {
          const priority = changed.get(r.pk)?.priority ?? r.data.priority;
          if (taken.has(priority)) throw err.priorityInUse(priority);
          taken.set(priority, r.pk);
        }
      }
      const out = [];
      for (const { row, priority } of changed.values()) {
        const doc = { ...(row!.data as ElbRuleDoc), priority };
        await tx.update(c.elbRules, row as { pk: string; version: number; data: ElbRuleDoc }, doc);
        out.push(describeRule(doc));
      }
      return { Rules: out };
    });
  }
}
