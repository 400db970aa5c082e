/** Application load balancers: create (idempotent, as ELBv2's is), describe, attributes, delete with their listeners and rules. */
import type { CreateLoadBalancerInput, DescribeLoadBalancersInput } from '../../aws/generated/elbv2.js';
import type { Clock } from '../../core/clock.js';
import * as c from '../../store/collections.js';
import type { ElbLoadBalancerDoc } from '../../store/collections.js';
import type { Store } from '../../store/store.js';
import { dnsName, elbId, loadBalancerArn, type Scope } from './arns.js';
import { defaultAttributes, describeAttributes, modifyAttributes } from './attributes.js';
import { LIMITS } from './catalog.js';
import { accountRegion, checkName, elbPage, getOwn, mergeTags } from './common.js';
import * as err from './errors.js';

export interface LoadBalancerSettings {
  /** The DNS suffix of DNSName (default `elb.localhost`, which curl resolves to 127.0.0.1). */
  dnsSuffix: string;
}

/** us-east-1's hosted zone id for ALBs; other regions get it too (nothing resolves it here). */
const HOSTED_ZONE_ID = 'Z35SXDOTRQ7X7K';
const VPC_ID = 'vpc-00000000000000000';

export function describeLoadBalancer(d: ElbLoadBalancerDoc) {
  return {
    LoadBalancerArn: d.arn,
    DNSName: d.dnsName,
    CanonicalHostedZoneId: HOSTED_ZONE_ID,
    CreatedTime: d.createdTime,
    LoadBalancerName: d.name,
    Scheme: d.scheme,
    VpcId: d.vpcId,
    State: { Code: 'active' },
    Type: d.type,
    AvailabilityZones: d.subnets.map((SubnetId, i) => ({ ZoneName: `${d.region}${'abcdef'[i % 6]}`, SubnetId, LoadBalancerAddresses: [] })),
    SecurityGroups: d.securityGroups,
    IpAddressType: d.ipAddressType,
  };
}

export class LoadBalancers {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly settings: LoadBalancerSettings,
  ) {}

  async create(scope: Scope, input: CreateLoadBalancerInput) {
    checkName(input.Name, 'load balancer');
    const type = input.Type ?? 'application';
    if (type !== 'application') throw err.invalidConfiguration(`Load balancers of type '${type}' are not supported by Dockyard (application load balancers are)`);
    const subnets = [...(input.Subnets ?? []), ...(input.SubnetMappings ?? []).flatMap((m) => (m.SubnetId ? [m.SubnetId] : []))];
    for (const s of subnets) if (!/^subnet-[0-9A-Za-z]{1,32}$/.test(s)) throw err.invalidSubnet(s);
    if (new Set(subnets).size !== subnets.length) throw err.validationError('Subnets must be unique');
    const securityGroups = input.SecurityGroups ?? [];
    for (const g of securityGroups) if (!/^sg-[0-9A-Za-z]{1,32}$/.test(g)) throw err.invalidSecurityGroup(g);
    const scheme = input.Scheme ?? 'internet-facing';
    const ipAddressType = input.IpAddressType ?? 'ipv4';
    const tags = mergeTags([], input.Tags as { Key: string; Value?: string }[] | undefined);
    return this.store.write(async (tx) => {
      const same = await tx.find(c.elbLoadBalancers, { where: { account_region: accountRegion(scope), name: input.Name } });
      const existing = same[0]?.data;
      if (existing) {
        // CreateLoadBalancer is idempotent: the same settings answer the existing load balancer.
        const unchanged = existing.scheme === scheme && existing.ipAddressType === ipAddressType && sameSet(existing.subnets, subnets) && sameSet(existing.securityGroups, securityGroups);
        if (!unchanged) throw err.duplicateLoadBalancerName(input.Name);
        return { LoadBalancers: [describeLoadBalancer(existing)] };
      }
      if ((await tx.count(c.elbLoadBalancers, { account_region: accountRegion(scope) })) >= LIMITS['application-load-balancers']) throw err.tooManyLoadBalancers();
      const id = elbId();
      const doc: ElbLoadBalancerDoc = {
        accountId: scope.accountId,
        region: scope.region,
        arn: loadBalancerArn(scope, input.Name, id),
        name: input.Name,
        id,
        dnsName: dnsName(scheme === 'internal' ? `internal-${input.Name}` : input.Name, scope.region, this.settings.dnsSuffix),
        scheme,
        type,
        ipAddressType,
        vpcId: VPC_ID,
        subnets,
        securityGroups,
        createdTime: this.clock.now(),
        attributes: defaultAttributes('load balancer'),
        tags,
      };
      await tx.insert(c.elbLoadBalancers, doc.arn, doc);
      return { LoadBalancers: [describeLoadBalancer(doc)] };
    });
  }

  async describe(scope: Scope, input: DescribeLoadBalancersInput) {
    if (input.LoadBalancerArns?.length && input.Names?.length) throw err.validationError('Load balancer names and load balancer ARNs cannot be specified at the same time');
    const docs = await this.store.read(async (tx) => {
      if (input.LoadBalancerArns?.length) {
        return Promise.all([...new Set(input.LoadBalancerArns)].map(async (arn) => (await getOwn(tx, c.elbLoadBalancers, arn, 'loadbalancer', scope, () => err.loadBalancerNotFound(`Load balancers '[${arn}]' not found`))).data));
      }
      const all = (await tx.find(c.elbLoadBalancers, { where: { account_region: accountRegion(scope) } })).map((r) => r.data);
      if (input.Names?.length) {
        const missing = input.Names.filter((n) => !all.some((d) => d.name === n));
        if (missing.length) throw err.loadBalancerNotFound(`Load balancers '[${missing.join(', ')}]' not found`);
        return all.filter((d) => input.Names!.includes(d.name));
      }
      return all;
    });
    docs.sort((a, b) => a.arn.localeCompare(b.arn));
    const page = elbPage(docs, (d) => d.arn, input);
    return { LoadBalancers: page.items.map(describeLoadBalancer), NextMarker: page.NextMarker };
  }

  async delete(scope: Scope, arn: string) {
    await this.store.write(async (tx) => {
      let row;
      try {
        row = await getOwn(tx, c.elbLoadBalancers, arn, 'loadbalancer', scope, () => err.loadBalancerNotFound());
      } catch {
        // Deleting a load balancer that does not exist (any more) succeeds, as in ELBv2.
        return;
      }
      if (row.data.attributes['deletion_protection.enabled'] === 'true') throw err.operationNotPermitted(`Load balancer '${arn}' cannot be deleted because deletion protection is enabled`);
      for (const r of await tx.find(c.elbRules, { where: { load_balancer: arn } })) await tx.delete(c.elbRules, r.pk);
      for (const l of await tx.find(c.elbListeners, { where: { load_balancer: arn } })) await tx.delete(c.elbListeners, l.pk);
      await tx.delete(c.elbLoadBalancers, arn);
    });
    return {};
  }

  describeAttributes(scope: Scope, arn: string) {
    return describeAttributes(this.store, { collection: c.elbLoadBalancers, type: 'loadbalancer', kind: 'load balancer', notFound: () => err.loadBalancerNotFound() }, scope, arn);
  }

  modifyAttributes(scope: Scope, arn: string, pairs: { Key?: string; Value?: string }[]) {
    return modifyAttributes(this.store, { collection: c.elbLoadBalancers, type: 'loadbalancer', kind: 'load balancer', notFound: () => err.loadBalancerNotFound() }, scope, arn, pairs);
  }

  async setSecurityGroups(scope: Scope, arn: string, groups: string[]) {
    for (const g of groups) if (!/^sg-[0-9A-Za-z]{1,32}$/.test(g)) throw err.invalidSecurityGroup(g);
    return this.store.write(async (tx) => {
      const row = await getOwn(tx, c.elbLoadBalancers, arn, 'loadbalancer', scope, () => err.loadBalancerNotFound());
      await tx.update(c.elbLoadBalancers, row, { ...row.data, securityGroups: groups });
      return { SecurityGroupIds: groups };
    });
  }

  async setSubnets(scope: Scope, arn: string, subnets: string[]) {
    for (const s of subnets) if (!/^subnet-[0-9A-Za-z]{1,32}$/.test(s)) throw err.invalidSubnet(s);
    return this.store.write(async (tx) => {
      const row = await getOwn(tx, c.elbLoadBalancers, arn, 'loadbalancer', scope, () => err.loadBalancerNotFound());
      const doc = { ...row.data, subnets: [...new Set(subnets)] };
      await tx.update(c.elbLoadBalancers, row, doc);
      return { AvailabilityZones: describeLoadBalancer(doc).AvailabilityZones, IpAddressType: doc.ipAddressType };
    });
  }
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}
