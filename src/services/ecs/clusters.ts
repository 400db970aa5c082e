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
import { clusterArn, parseArn, type Scope } from './arns.js';
import * as err from './errors.js';
import { checkTags, type Tag } from './tags.js';
import { pageSize } from './validation.js';

const CLUSTER_NAME = /^[a-zA-Z0-9_-]{1,255}$/;
/** The capacity providers Dockyard offers (it has no CreateCapacityProvider yet). */
export const FARGATE_PROVIDERS: ReadonlySet<string> = new Set(['FARGATE', 'FARGATE_SPOT']);
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
    const providers = input.capacityProviders ?? [];
    checkCapacityProviders(providers, input.defaultCapacityProviderStrategy ?? []);
    const arn = clusterArn(scope, name);
    const cluster = await this.store.write(async (tx) => {
      const existing = await tx.get(c.clusters, arn);
      if (existing && existing.data.status === 'ACTIVE') return existing.data as ClusterRecord;
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
        defaultCapacityProviderStrategy: input.defaultCapacityProviderStrategy ?? [],
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
    checkCapacityProviders(input.capacityProviders, input.defaultCapacityProviderStrategy);
    return this.mutate(scope, input.cluster, (doc) => {
      doc.capacityProviders = input.capacityProviders;
      doc.defaultCapacityProviderStrategy = input.defaultCapacityProviderStrategy;
    });
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

function checkCapacityProviders(providers: string[], strategy: StrategyItem[]) {
  for (const p of providers) {
    if (!FARGATE_PROVIDERS.has(p)) throw err.capacityProviderNotFound(p);
  }
  let bases = 0;
  for (const item of strategy) {
    if (!providers.includes(item.capacityProvider)) throw err.capacityProviderNotAssociated();
    if ((item.base ?? 0) > 0) bases += 1;
  }
  if (bases > 1) throw err.invalidParameter('Only one capacity provider in a strategy can have a base defined.');
}
