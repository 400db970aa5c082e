/**
 * ECS clusters: create (idempotent by name), describe with the optional include sections,
 * list, update, capacity providers, delete (refused while services, tasks or instances remain).
 * A deleted cluster stays describable as INACTIVE, as in ECS; creating it again reactivates it.
 */
import type {
  ClusterConfiguration,
  ClusterSetting,
  CreateClusterRequest,
  PutClusterCapacityProvidersRequest,
  UpdateClusterRequest,
  UpdateClusterSettingsRequest,
} from '../../aws/generated/ecs.js';
import type { Clock } from '../../core/clock.js';
import { keysetPage, tokenPosition } from '../../core/pagination.js';
import * as c from '../../store/collections.js';
import type { ClusterDoc } from '../../store/collections.js';
import type { Row, Store, StoreTx } from '../../store/store.js';
import { SchedulerInputError, validateStrategy } from '../../scheduler/index.js';
import { clusterArn, parseArn, type Scope } from './arns.js';
import { findProvider, FARGATE_PROVIDERS, providerNameOf, usesProvider } from './capacity-providers.js';
import * as err from './errors.js';
import { AwsError } from '../../aws/errors.js';
import { checkTags, type Tag } from './tags.js';
import { pageSize } from './validation.js';

const CLUSTER_NAME = /^[a-zA-Z0-9_-]{1,255}$/;
export const DEFAULT_CLUSTER = 'default';

interface Setting {
  name: string;
  value: string;
}
interface StrategyItem {
  capacityProvider: string;
  weight?: number;
  base?: number;
}

export interface ClusterRecord extends ClusterDoc {
  settings: Setting[];
  configuration?: ClusterConfiguration;
  serviceConnectDefaults?: { namespace: string };
  capacityProviders: string[];
  defaultCapacityProviderStrategy: StrategyItem[];
  tags: Tag[];
  createdAt: number;
}

export class Clusters {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  async create(scope: Scope, input: CreateClusterRequest) {
    const name = input.clusterName ?? DEFAULT_CLUSTER;
    if (!CLUSTER_NAME.test(name)) {
      throw err.invalidParameter('Cluster name can only contain letters, numbers, hyphens and underscores, and be up to 255 characters long.');
    }
    checkTags(input.tags);
    const settings = mergeSettings([{ name: 'containerInsights', value: 'disabled' }], input.settings);
    const arn = clusterArn(scope, name);
    const cluster = await this.store.write(async (tx) => {
      const existing = await tx.get(c.clusters, arn);
      if (existing && existing.data.status === 'ACTIVE') return existing.data as ClusterRecord;
      const providers = await checkCapacityProviders(tx, scope, input.capacityProviders ?? [], input.defaultCapacityProviderStrategy ?? []);
      const doc: ClusterRecord = {
        accountId: scope.accountId,
        region: scope.region,
        clusterArn: arn,
        clusterName: name,
        status: 'ACTIVE',
        settings,
        configuration: input.configuration,
        serviceConnectDefaults: input.serviceConnectDefaults,
        capacityProviders: providers,
        defaultCapacityProviderStrategy: withDefaults(input.defaultCapacityProviderStrategy ?? []),
        tags: input.tags ?? [],
        createdAt: this.clock.now(),
      };
      if (existing) await tx.update(c.clusters, existing, doc);
      else await tx.insert(c.clusters, arn, doc);
      return doc;
    });
    return this.store.read(async (tx) => ({ cluster: await view(tx, cluster, new Set(['SETTINGS', 'CONFIGURATIONS', 'TAGS'])) }));
  }

  async describe(scope: Scope, input: { clusters?: string[]; include?: string[] }) {
    const refs = input.clusters?.length ? input.clusters : [DEFAULT_CLUSTER];
    if (refs.length > 100) throw err.invalidParameter('A maximum of 100 clusters can be described at once.');
    const include = new Set(input.include ?? []);
    return this.store.read(async (tx) => {
      const clusters = [];
      const failures = [];
      for (const ref of refs) {
        const arn = resolveArn(scope, ref);
        const row = await tx.get(c.clusters, arn);
        if (row) clusters.push(await view(tx, row.data as ClusterRecord, include));
        else failures.push({ arn, reason: 'MISSING' });
      }
      return { clusters, failures };
    });
  }

  async list(scope: Scope, input: { maxResults?: number; nextToken?: string }) {
    const where = { account_region: `${scope.accountId}:${scope.region}`, status: 'ACTIVE' };
    // Keys only, one page through the (account_region, status, pk) index: no document is parsed.
    const page = await keysetPage(
      (after, limit) => this.store.read((tx) => tx.select(c.clusters, [], { where, orderBy: [['pk', 'asc']], after, limit })),
      (r) => [r.pk],
      pageSize(input.maxResults, 100),
      tokenPosition(input.nextToken, ['string']),
    );
    return { clusterArns: page.items.map((r) => r.pk), nextToken: page.nextToken };
  }

  async update(scope: Scope, input: UpdateClusterRequest) {
    return this.mutate(scope, input.cluster, (doc) => {
      if (input.settings) doc.settings = mergeSettings(doc.settings, input.settings);
      if (input.configuration !== undefined) doc.configuration = input.configuration;
      if (input.serviceConnectDefaults !== undefined) doc.serviceConnectDefaults = input.serviceConnectDefaults;
    });
  }

  async updateSettings(scope: Scope, input: UpdateClusterSettingsRequest) {
    return this.mutate(scope, input.cluster, (doc) => {
      doc.settings = mergeSettings(doc.settings, input.settings);
    });
  }

  async putCapacityProviders(scope: Scope, input: PutClusterCapacityProvidersRequest) {
    const arn = resolveArn(scope, input.cluster);
    const doc = await this.store.write(async (tx) => {
      const row = await activeCluster(tx, arn);
      const providers = await checkCapacityProviders(tx, scope, input.capacityProviders, input.defaultCapacityProviderStrategy);
      const current = row.data as ClusterRecord;
      // As ECS: a provider a service's strategy or a live task uses stays associated.
      const removed = current.capacityProviders.filter((p) => !providers.includes(p));
      if (removed.length > 0) {
        const services = await tx.find(c.services, { where: { cluster: arn, status: { in: ['ACTIVE', 'DRAINING'] } } });
        const tasks = await tx.find(c.tasks, { where: { cluster: arn, last_status: { not: 'STOPPED' } } });
        for (const p of removed) {
          if (services.some((s) => usesProvider(s.data, p)) || tasks.some((t) => t.data.capacityProviderName === p)) {
            throw new AwsError('ResourceInUseException', `The specified capacity provider is in use and cannot be removed: ${p}.`);
          }
        }
      }
      const next: ClusterRecord = { ...structuredClone(current), capacityProviders: providers, defaultCapacityProviderStrategy: withDefaults(input.defaultCapacityProviderStrategy) };
      await tx.update(c.clusters, row, next);
      return next;
    });
    return this.store.read(async (tx) => ({ cluster: await view(tx, doc, new Set(['SETTINGS', 'CONFIGURATIONS', 'TAGS'])) }));
  }

  async delete(scope: Scope, input: { cluster: string }) {
    const arn = resolveArn(scope, input.cluster);
    const doc = await this.store.write(async (tx) => {
      const row = await activeCluster(tx, arn);
      if ((await tx.count(c.services, { cluster: arn, status: { in: ['ACTIVE', 'DRAINING'] } })) > 0) throw err.clusterContainsServices();
      if ((await tx.count(c.tasks, { cluster: arn, last_status: { not: 'STOPPED' } })) > 0) throw err.clusterContainsTasks();
      if ((await tx.count(c.containerInstances, { cluster: arn, status: { in: ['ACTIVE', 'DRAINING', 'REGISTERING'] } })) > 0) {
        throw err.clusterContainsInstances();
      }
      const next = { ...(row.data as ClusterRecord), status: 'INACTIVE' };
      await tx.update(c.clusters, row, next);
      return next;
    });
    return this.store.read(async (tx) => ({ cluster: await view(tx, doc, new Set(['SETTINGS', 'CONFIGURATIONS', 'TAGS'])) }));
  }

  private async mutate(scope: Scope, ref: string, change: (doc: ClusterRecord) => void) {
    const arn = resolveArn(scope, ref);
    const doc = await this.store.write(async (tx) => {
      const row = await activeCluster(tx, arn);
      const next = structuredClone(row.data as ClusterRecord);
      change(next);
      await tx.update(c.clusters, row, next);
      return next;
    });
    return this.store.read(async (tx) => ({ cluster: await view(tx, doc, new Set(['SETTINGS', 'CONFIGURATIONS', 'TAGS'])) }));
  }
}

/** The cluster ARN a request names (name or ARN; absent → `default`). */
export function resolveArn(scope: Scope, ref: string | undefined): string {
  if (ref && parseArn(ref)?.type === 'cluster') return ref;
  return clusterArn(scope, ref ?? DEFAULT_CLUSTER);
}

/** Reads an ACTIVE cluster or throws ClusterNotFoundException. */
export async function activeCluster(tx: StoreTx, arn: string): Promise<Row<ClusterDoc>> {
  const row = await tx.get(c.clusters, arn);
  if (!row || row.data.status !== 'ACTIVE') throw err.clusterNotFound();
  return row;
}

async function view(tx: StoreTx, doc: ClusterRecord, include: Set<string>) {
  const arn = doc.clusterArn;
  const live = { cluster: arn, last_status: { not: 'STOPPED' } } as const;
  const running = await tx.count(c.tasks, { cluster: arn, last_status: 'RUNNING' });
  const total = await tx.count(c.tasks, live);
  const activeServices = await tx.count(c.services, { cluster: arn, status: 'ACTIVE' });
  const instances = await tx.count(c.containerInstances, { cluster: arn, status: { in: ['ACTIVE', 'DRAINING'] } });
  return {
    clusterArn: arn,
    clusterName: doc.clusterName,
    status: doc.status,
    registeredContainerInstancesCount: instances,
    runningTasksCount: running,
    pendingTasksCount: total - running,
    activeServicesCount: activeServices,
    statistics: include.has('STATISTICS') ? await statistics(tx, arn) : [],
    tags: include.has('TAGS') ? doc.tags : [],
    settings: include.has('SETTINGS') ? doc.settings : undefined,
    configuration: include.has('CONFIGURATIONS') ? doc.configuration : undefined,
    serviceConnectDefaults: doc.serviceConnectDefaults,
    capacityProviders: doc.capacityProviders,
    defaultCapacityProviderStrategy: doc.defaultCapacityProviderStrategy,
  };
}

/** DescribeClusters' STATISTICS section: task and service counts split by launch type. */
async function statistics(tx: StoreTx, arn: string): Promise<Setting[]> {
  // Indexed columns only: a busy cluster's task documents need not be parsed to count them.
  const tasks = await tx.select(c.tasks, ['launch_type', 'last_status'], { where: { cluster: arn, last_status: { not: 'STOPPED' } } });
  const services = await tx.find(c.services, { where: { cluster: arn, status: { in: ['ACTIVE', 'DRAINING'] } } });
  const n = { runningEC2: 0, runningFargate: 0, runningExternal: 0, pendingEC2: 0, pendingFargate: 0, pendingExternal: 0 };
  for (const t of tasks) {
    const lt = t.launch_type === 'FARGATE' ? 'Fargate' : t.launch_type === 'EXTERNAL' ? 'External' : 'EC2';
    const key = `${t.last_status === 'RUNNING' ? 'running' : 'pending'}${lt}` as keyof typeof n;
    n[key] += 1;
  }
  const svc = { activeEC2: 0, activeFargate: 0, drainingEC2: 0, drainingFargate: 0 };
  for (const s of services) {
    const lt = s.data.launchType === 'FARGATE' ? 'Fargate' : 'EC2';
    svc[`${s.data.status === 'ACTIVE' ? 'active' : 'draining'}${lt}` as keyof typeof svc] += 1;
  }
  return [
    { name: 'runningEC2TasksCount', value: String(n.runningEC2) },
    { name: 'runningFargateTasksCount', value: String(n.runningFargate) },
    { name: 'runningExternalTasksCount', value: String(n.runningExternal) },
    { name: 'pendingEC2TasksCount', value: String(n.pendingEC2) },
    { name: 'pendingFargateTasksCount', value: String(n.pendingFargate) },
    { name: 'pendingExternalTasksCount', value: String(n.pendingExternal) },
    { name: 'activeEC2ServiceCount', value: String(svc.activeEC2) },
    { name: 'activeFargateServiceCount', value: String(svc.activeFargate) },
    { name: 'drainingEC2ServiceCount', value: String(svc.drainingEC2) },
    { name: 'drainingFargateServiceCount', value: String(svc.drainingFargate) },
  ];
}

function mergeSettings(current: Setting[], changes: ClusterSetting[] | undefined): Setting[] {
  const out = new Map(current.map((s) => [s.name, s.value]));
  for (const s of changes ?? []) {
    if (s.name !== 'containerInsights') throw err.invalidParameter(`Unsupported cluster setting: ${s.name}`);
    const value = s.value ?? '';
    if (!['enabled', 'disabled', 'enhanced'].includes(value)) {
      throw err.invalidParameter(`Invalid value for cluster setting containerInsights: ${s.value}. Valid values are enabled, disabled and enhanced.`);
    }
    out.set(s.name, value);
  }
  return [...out].map(([name, value]) => ({ name, value }));
}

/**
 * A cluster's capacity providers (names or ARNs → names) and its default strategy, checked as
 * ECS checks them: every provider exists, the strategy names only associated providers, obeys
 * the strategy rules, and does not mix Fargate and Auto Scaling group providers.
 */
async function checkCapacityProviders(tx: StoreTx, scope: Scope, refs: string[], strategy: StrategyItem[]): Promise<string[]> {
  if (refs.length > MAX_CLUSTER_PROVIDERS) throw err.invalidParameter(`A cluster can have at most ${MAX_CLUSTER_PROVIDERS} capacity providers.`);
  const providers: string[] = [];
  for (const ref of refs) {
    const found = await findProvider(tx, scope, ref);
    if (!found) throw err.capacityProviderNotFound(providerNameOf(ref));
    if (!providers.includes(found.name)) providers.push(found.name);
  }
  if (strategy.length === 0) return providers;
  checkStrategy(strategy);
  for (const item of strategy) {
    if (!providers.includes(item.capacityProvider)) throw err.capacityProviderNotAssociated();
  }
  return providers;
}

/** ECS's rules for any capacity provider strategy (the scheduler's validateStrategy), plus: Fargate and Auto Scaling group providers do not mix. */
export function checkStrategy(strategy: readonly StrategyItem[]): void {
  try {
    validateStrategy(strategy);
  } catch (e) {
    if (e instanceof SchedulerInputError) throw err.invalidParameter(e.message);
    throw e;
  }
  const fargate = strategy.filter((i) => FARGATE_PROVIDERS.has(i.capacityProvider)).length;
  if (fargate > 0 && fargate < strategy.length) {
    throw err.invalidParameter('The capacity provider strategy cannot contain a mix of capacity providers using Auto Scaling groups and Fargate providers. Specify one or the other and try again.');
  }
}

const MAX_CLUSTER_PROVIDERS = 20;

/** ECS answers a strategy with base and weight filled in (0 when not given). */
const withDefaults = (strategy: StrategyItem[]): StrategyItem[] => strategy.map((i) => ({ capacityProvider: i.capacityProvider, weight: i.weight ?? 0, base: i.base ?? 0 }));