/**
 * ECS capacity providers: Create / Describe / Update / DeleteCapacityProvider, and the lookups
 * the cluster and placement code share (which providers exist, which instances belong to one).
 *
 * Dockyard has no Auto Scaling groups. A provider of type EC2_AUTOSCALING is created with an
 * autoScalingGroupProvider whose ARN is accepted (any ARN-shaped value) and stored with its
 * managed scaling / termination protection / draining settings, which Dockyard keeps but does
 * not act on. Its capacity is the container instances that carry the attribute
 * `dockyard.capacity-provider=<name>` (`dockyard agent --capacity-provider NAME`, or the attribute
 * given to RegisterContainerInstance / PutAttributes); DescribeContainerInstances shows it as
 * the instance's capacityProviderName. FARGATE and FARGATE_SPOT are built in: their capacity is
 * the instances Dockyard manages itself (`dockyard.capacity.fargate`, the embedded agent of `up`
 * and agents started with `--fargate-capacity`).
 */
import type { CreateCapacityProviderRequest, DescribeCapacityProvidersRequest, ManagedScaling, UpdateCapacityProviderRequest } from '../../aws/generated/ecs.js';
import type { Clock } from '../../core/clock.js';
import { paginate } from '../../core/pagination.js';
import * as c from '../../store/collections.js';
import type { CapacityProviderDoc } from '../../store/collections.js';
import type { Row, Store, StoreTx } from '../../store/store.js';
import { parseArn, type Scope } from './arns.js';
import { AwsError } from '../../aws/errors.js';
import * as err from './errors.js';
import { checkTags, type Tag } from './tags.js';
import { pageSize } from './validation.js';

/** The providers every account has, backed by the capacity Dockyard manages itself. */
export const FARGATE_PROVIDERS: ReadonlySet<string> = new Set(['FARGATE', 'FARGATE_SPOT']);
/** Instances carrying this attribute provide the capacity FARGATE and FARGATE_SPOT tasks run on. */
export const FARGATE_CAPACITY_ATTRIBUTE = 'dockyard.capacity.fargate';
/** An instance with this attribute belongs to the EC2_AUTOSCALING provider it names. */
export const CAPACITY_PROVIDER_ATTRIBUTE = 'dockyard.capacity-provider';

const NAME = /^[a-zA-Z0-9_-]{1,255}$/;
const RESERVED_PREFIX = /^(aws|ecs|fargate)/i;
/** ARN-shaped: partition, service, region, account, resource (Auto Scaling group ARNs in practice). */
const ARN = /^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:[0-9]{0,12}:\S{1,1500}$/;
const MAX_PROVIDERS_PER_ACCOUNT = 500;

export interface CapacityProviderRecord extends CapacityProviderDoc {
  type: 'EC2_AUTOSCALING';
  autoScalingGroupProvider: {
    autoScalingGroupArn: string;
    managedScaling: Required<ManagedScaling>;
    managedTerminationProtection: string;
    managedDraining: string;
  };
  updateStatus?: string;
  tags: Tag[];
}

/** A provider a strategy or a cluster names: built in (FARGATE, FARGATE_SPOT) or the account's own. */
export interface ProviderRef {
  name: string;
  type: 'FARGATE' | 'FARGATE_SPOT' | 'EC2_AUTOSCALING';
}

export const capacityProviderArn = (s: Scope, name: string) => `arn:aws:ecs:${s.region}:${s.accountId}:capacity-provider/${name}`;

/** The provider's name from a name or its ARN. */
export function providerNameOf(ref: string): string {
  const arn = parseArn(ref);
  return arn && arn.type === 'capacity-provider' ? arn.rest : ref;
}

const notFound = () => err.clientException('The specified capacity provider does not exist. Specify a valid name or ARN and try again.');
const inUse = (why: string) => err.clientException(`The specified capacity provider is in use and cannot be removed: ${why}.`);

/** An ACTIVE provider by name or ARN, or undefined. */
export async function findProvider(tx: StoreTx, scope: Scope, ref: string): Promise<ProviderRef | undefined> {
  const name = providerNameOf(ref);
  if (FARGATE_PROVIDERS.has(name)) return { name, type: name as 'FARGATE' | 'FARGATE_SPOT' };
  const row = await tx.get(c.capacityProviders, capacityProviderArn(scope, name));
  return row && row.data.status === 'ACTIVE' ? { name, type: 'EC2_AUTOSCALING' } : undefined;
}

/** Whether an instance (its attributes as the scheduler sees them) provides capacity for `provider`. */
export function instanceProvides(provider: ProviderRef, attributes: Readonly<Record<string, string | undefined>>): boolean {
  if (provider.type === 'EC2_AUTOSCALING') return attributes[CAPACITY_PROVIDER_ATTRIBUTE] === provider.name;
  return FARGATE_CAPACITY_ATTRIBUTE in attributes;
}

export class CapacityProviders {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  async create(scope: Scope, input: CreateCapacityProviderRequest) {
    const name = input.name;
    if (!NAME.test(name)) {
      throw err.invalidParameter('The capacity provider name can only contain letters, numbers, underscores and hyphens, and be up to 255 characters long.');
    }
    if (RESERVED_PREFIX.test(name)) throw err.invalidParameter("The capacity provider name cannot begin with 'aws', 'ecs' or 'fargate'.");
    if (input.managedInstancesProvider) {
      throw new AwsError('UnsupportedFeatureException', 'Managed instances capacity providers are not supported by Dockyard: use an autoScalingGroupProvider.');
    }
    if (input.cluster !== undefined) throw err.invalidParameter('cluster can be given only for a managed instances capacity provider.');
    const asg = input.autoScalingGroupProvider;
    if (!asg) throw err.invalidParameter('autoScalingGroupProvider is required.');
    if (!ARN.test(asg.autoScalingGroupArn)) throw err.invalidParameter('The Auto Scaling group ARN is not valid: it must be an ARN.');
    checkTags(input.tags);
    const arn = capacityProviderArn(scope, name);
    const doc: CapacityProviderRecord = {
      accountId: scope.accountId,
      region: scope.region,
      capacityProviderArn: arn,
      name,
      status: 'ACTIVE',
      type: 'EC2_AUTOSCALING',
      autoScalingGroupProvider: {
        autoScalingGroupArn: asg.autoScalingGroupArn,
        managedScaling: managedScaling(undefined, asg.managedScaling),
        managedTerminationProtection: asg.managedTerminationProtection ?? 'DISABLED',
        managedDraining: asg.managedDraining ?? 'ENABLED',
      },
      tags: input.tags ?? [],
      createdAt: this.clock.now(),
    };
    await this.store.write(async (tx) => {
      const existing = await tx.get(c.capacityProviders, arn);
      if (existing?.data.status === 'ACTIVE') {
        throw err.clientException('The specified capacity provider already exists. To change the configuration of an existing capacity provider, update the capacity provider.');
      }
      const active = await tx.find(c.capacityProviders, { where: { account_region: `${scope.accountId}:${scope.region}`, status: 'ACTIVE' } });
      if (active.length >= MAX_PROVIDERS_PER_ACCOUNT) throw new AwsError('LimitExceededException', `An account can have at most ${MAX_PROVIDERS_PER_ACCOUNT} capacity providers.`);
      const sameGroup = active.find((r) => (r.data as CapacityProviderRecord).autoScalingGroupProvider.autoScalingGroupArn === asg.autoScalingGroupArn);
      if (sameGroup) throw err.invalidParameter(`The specified Auto Scaling group is already used by the capacity provider ${sameGroup.data.name}.`);
      if (existing) await tx.update(c.capacityProviders, existing, doc);
      else await tx.insert(c.capacityProviders, arn, doc);
    });
    return { capacityProvider: view(doc, true) };
  }

  async describe(scope: Scope, input: DescribeCapacityProvidersRequest) {
    const refs = input.capacityProviders;
    if (refs && refs.length > 100) throw err.invalidParameter('A maximum of 100 capacity providers can be described at once.');
    const size = pageSize(input.maxResults, 10);
    const tags = input.include?.includes('TAGS') ?? false;
    const { found, failures } = await this.store.read(async (tx) => {
      if (!refs?.length) {
        const rows = await tx.find(c.capacityProviders, { where: { account_region: `${scope.accountId}:${scope.region}`, status: 'ACTIVE' } });
        // In name order, the pages' order (FARGATE and FARGATE_SPOT among them).
        const all = [...fargateViews(scope), ...rows.map((r) => view(r.data as CapacityProviderRecord, tags))];
        return { found: all.sort((a, b) => (String(a.name) < String(b.name) ? -1 : 1)), failures: [] };
      }
      const found: Record<string, unknown>[] = [];
      const failures: { arn: string; reason: string }[] = [];
      for (const ref of refs) {
        const name = providerNameOf(ref);
        if (FARGATE_PROVIDERS.has(name)) {
          found.push(fargateView(scope, name));
          continue;
        }
        const row = await tx.get(c.capacityProviders, capacityProviderArn(scope, name));
        if (row) found.push(view(row.data as CapacityProviderRecord, tags));
        else failures.push({ arn: capacityProviderArn(scope, name), reason: 'MISSING' });
      }
      return { found, failures };
    });
    const page = paginate(found, (p) => String(p.name), size, input.nextToken);
    return { capacityProviders: page.items.map((p) => (tags ? { ...p, tags: p.tags ?? [] } : p)), failures, nextToken: page.nextToken };
  }

  async update(scope: Scope, input: UpdateCapacityProviderRequest) {
    const name = providerNameOf(input.name);
    if (FARGATE_PROVIDERS.has(name)) throw err.clientException(`The capacity provider ${name} is managed by Dockyard and cannot be updated.`);
    if (input.managedInstancesProvider) throw new AwsError('UnsupportedFeatureException', 'Managed instances capacity providers are not supported by Dockyard.');
    const change = input.autoScalingGroupProvider;
    if (!change) throw err.invalidParameter('autoScalingGroupProvider is required.');
    const doc = await this.store.write(async (tx) => {
      const row = await activeProvider(tx, scope, name);
      const next = structuredClone(row.data);
      const asg = next.autoScalingGroupProvider;
      if (change.managedScaling) asg.managedScaling = managedScaling(asg.managedScaling, change.managedScaling);
      if (change.managedTerminationProtection) asg.managedTerminationProtection = change.managedTerminationProtection;
      if (change.managedDraining) asg.managedDraining = change.managedDraining;
      next.updateStatus = 'UPDATE_COMPLETE';
      await tx.update(c.capacityProviders, row, next);
      return next;
    });
    return { capacityProvider: view(doc, false) };
  }

  async delete(scope: Scope, input: { capacityProvider: string; cluster?: string }) {
    const name = providerNameOf(input.capacityProvider);
    if (FARGATE_PROVIDERS.has(name)) throw err.clientException(`The capacity provider ${name} is managed by Dockyard and cannot be deleted.`);
    const doc = await this.store.write(async (tx) => {
      const row = await activeProvider(tx, scope, name);
      // As ECS: only a provider that no cluster and no service uses can go.
      const region = `${scope.accountId}:${scope.region}`;
      const clusters = await tx.find(c.clusters, { where: { account_region: region, status: 'ACTIVE' } });
      const cluster = clusters.find((r) => ((r.data.capacityProviders as string[] | undefined) ?? []).includes(name));
      if (cluster) throw inUse(`it is associated with the cluster ${cluster.data.clusterName}; remove it with PutClusterCapacityProviders first`);
      for (const r of clusters) {
        const services = await tx.find(c.services, { where: { cluster: r.pk, status: { in: ['ACTIVE', 'DRAINING'] } } });
        const service = services.find((s) => usesProvider(s.data, name));
        if (service) throw inUse(`the service ${service.data.serviceName} uses it in its capacity provider strategy`);
      }
      const next: CapacityProviderRecord = { ...row.data, status: 'INACTIVE', updateStatus: 'DELETE_COMPLETE' };
      await tx.update(c.capacityProviders, row, next);
      return next;
    });
    return { capacityProvider: view(doc, false) };
  }
}

type WithStrategy = { capacityProviderStrategy?: { capacityProvider?: string }[] };

/** Whether a service document's capacity provider strategy, or one of its deployments' (a rollout still under way), names `provider`. */
export function usesProvider(service: Record<string, unknown>, provider: string): boolean {
  const names = (x: WithStrategy) => x.capacityProviderStrategy?.some((i) => i.capacityProvider === provider) ?? false;
  return names(service as WithStrategy) || ((service.deployments as WithStrategy[] | undefined)?.some(names) ?? false);
}

async function activeProvider(tx: StoreTx, scope: Scope, name: string): Promise<Row<CapacityProviderRecord>> {
  const row = (await tx.get(c.capacityProviders, capacityProviderArn(scope, name))) as Row<CapacityProviderRecord> | undefined;
  if (!row || row.data.status !== 'ACTIVE') throw notFound();
  return row;
}

/** ECS's managed scaling defaults, under what was there and what is given. */
function managedScaling(current: Required<ManagedScaling> | undefined, given: ManagedScaling | undefined): Required<ManagedScaling> {
  const base = current ?? { status: 'DISABLED', targetCapacity: 100, minimumScalingStepSize: 1, maximumScalingStepSize: 10_000, instanceWarmupPeriod: 300 };
  const out = { ...base, ...Object.fromEntries(Object.entries(given ?? {}).filter(([, v]) => v !== undefined)) } as Required<ManagedScaling>;
  if (out.minimumScalingStepSize > out.maximumScalingStepSize) {
    throw err.invalidParameter('minimumScalingStepSize must not be greater than maximumScalingStepSize.');
  }
  return out;
}

function view(doc: CapacityProviderRecord, includeTags: boolean): Record<string, unknown> {
  return {
    capacityProviderArn: doc.capacityProviderArn,
    name: doc.name,
    status: doc.status,
    type: doc.type,
    autoScalingGroupProvider: doc.autoScalingGroupProvider,
    updateStatus: doc.updateStatus,
    tags: includeTags ? doc.tags : undefined,
  };
}

function fargateView(scope: Scope, name: string): Record<string, unknown> {
  return { capacityProviderArn: capacityProviderArn(scope, name), name, status: 'ACTIVE', type: name, tags: undefined };
}

function fargateViews(scope: Scope) {
  return [...FARGATE_PROVIDERS].map((name) => fargateView(scope, name));
}
