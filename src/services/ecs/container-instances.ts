/**
 * ECS container instances: one per host agent. Registration (through the ECS API or the agent
 * protocol, both idempotent), describe with registered and remaining resources and task counts,
 * list with status and cluster-query filters, draining and deregistration (force).
 *
 * Custom attributes are in instance-attributes.ts, the scheduler's view of an instance in
 * instance-views.ts, resource accounting in instance-resources.ts, the ECS handlers in
 * container-instance-operations.ts. `agentConnected` is written by the agent API's liveness
 * tracker; everything else here.
 */
import type { RegisterContainerInstanceRequest, Resource as ResourceInput } from '../../aws/generated/ecs.js';
import type { Clock } from '../../core/clock.js';
import { hexId } from '../../core/ids.js';
import { keysetPage, tokenPosition } from '../../core/pagination.js';
import * as c from '../../store/collections.js';
import type { Row, Store, StoreTx } from '../../store/store.js';
import { clusterNameOf, containerInstanceArn, parseArn, type Scope } from './arns.js';
import { CAPACITY_PROVIDER_ATTRIBUTE } from './capacity-providers.js';
import { activeCluster, resolveArn as resolveClusterArn } from './clusters.js';
import * as err from './errors.js';
import { isAgentAttribute, mergeAttributes, type Attribute } from './instance-attributes.js';
import { findInstance, LIVE, type ContainerInstanceRecord, type Resource, type VersionInfo } from './instance-records.js';
import { instanceUsage, remainingResources } from './instance-resources.js';
import { instanceQuery, InstanceViewCache, type ClusterFilter, type ClusterQueryCompiler } from './instance-views.js';
import { checkTags, type Tag } from './tags.js';
import { pageSize } from './validation.js';

export type { ContainerInstanceRecord, Resource, VersionInfo } from './instance-records.js';

export interface RegistrationInput {
  cluster?: string;
  /** Re-register this instance (ECS API) or the agent's persisted id (agent protocol). */
  containerInstanceId?: string;
  ec2InstanceId?: string;
  totalResources: ResourceInput[];
  attributes: Attribute[];
  versionInfo: VersionInfo;
  tags?: Tag[];
  agentInstanceId?: string;
  hostname?: string;
}

export class ContainerInstances {
  private readonly views = new InstanceViewCache();

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly compileQuery: ClusterQueryCompiler = instanceQuery,
  ) {}

  /** Registers (or re-registers) an instance; returns the stored record. */
  async registerInstance(scope: Scope, input: RegistrationInput): Promise<ContainerInstanceRecord> {
    return this.store.write((tx) => this.registerInstanceIn(tx, scope, input));
  }

  /** The ARN an instance id gets in a cluster (a name or an ARN). */
  instanceArn(scope: Scope, cluster: string | undefined, containerInstanceId: string): string {
    return containerInstanceArn(scope, clusterNameOf(resolveClusterArn(scope, cluster)), containerInstanceId);
  }

  /** registerInstance inside the caller's transaction (the agent API also issues a credential in it). */
  async registerInstanceIn(tx: StoreTx, scope: Scope, input: RegistrationInput): Promise<ContainerInstanceRecord> {
    checkTags(input.tags);
    const clusterArn = resolveClusterArn(scope, input.cluster);
    const id = input.containerInstanceId ?? hexId();
    const arn = containerInstanceArn(scope, clusterNameOf(clusterArn), id);
    await activeCluster(tx, clusterArn);
    const existing = (await tx.get(c.containerInstances, arn)) as Row<ContainerInstanceRecord> | undefined;
    // A Dockyard agent's instance is changed only by that agent (its credential, agent API).
    if (existing?.data.agentInstanceId && !input.agentInstanceId) {
      throw err.clientException('This container instance is managed by a Dockyard agent; only its own agent can register it again.');
    }
    const now = this.clock.now();
    const doc: ContainerInstanceRecord = {
      accountId: scope.accountId,
      region: scope.region,
      containerInstanceArn: arn,
      clusterArn,
      ec2InstanceId: input.ec2InstanceId ?? existing?.data.ec2InstanceId ?? `i-${id.replace(/[^0-9a-f]/g, '').slice(0, 17).padEnd(17, '0')}`,
      // A re-registration keeps a DRAINING instance draining; an INACTIVE one comes back.
      status: existing?.data.status === 'DRAINING' ? 'DRAINING' : 'ACTIVE',
      agentConnected: true,
      lastHeartbeatAt: now,
      registeredResources: normaliseResources(input.totalResources),
      // Custom attributes survive re-registration; the agent's own are replaced.
      attributes: mergeAttributes(existing?.data.attributes.filter((a) => !isAgentAttribute(a.name)) ?? [], input.attributes),
      versionInfo: input.versionInfo,
      registeredAt: existing && existing.data.status !== 'INACTIVE' ? existing.data.registeredAt : now,
      version: (existing?.data.version ?? 0) + 1,
      tags: input.tags ?? existing?.data.tags ?? [],
      agentInstanceId: input.agentInstanceId,
      hostname: input.hostname,
    };
    if (existing) await tx.update(c.containerInstances, existing, doc);
    else await tx.insert(c.containerInstances, arn, doc);
    return doc;
  }

  /** ECS RegisterContainerInstance. */
  async register(scope: Scope, input: RegisterContainerInstanceRequest) {
    let identity: { instanceId?: string; instanceType?: string; availabilityZone?: string } = {};
    if (input.instanceIdentityDocument) {
      try {
        identity = JSON.parse(input.instanceIdentityDocument) as typeof identity;
      } catch {
        throw err.invalidParameter('instanceIdentityDocument is not valid JSON.');
      }
    }
    let id: string | undefined;
    if (input.containerInstanceArn) {
      const parsed = parseArn(input.containerInstanceArn);
      if (!parsed || parsed.type !== 'container-instance') throw err.invalidParameter('containerInstanceArn is not a valid container instance ARN.');
      id = parsed.rest.split('/').pop();
    }
    const attributes = [...(input.attributes ?? [])];
    if (identity.instanceType && !attributes.some((a) => a.name === 'ecs.instance-type')) attributes.push({ name: 'ecs.instance-type', value: identity.instanceType });
    if (identity.availabilityZone && !attributes.some((a) => a.name === 'ecs.availability-zone')) {
      attributes.push({ name: 'ecs.availability-zone', value: identity.availabilityZone });
    }
    const doc = await this.registerInstance(scope, {
      cluster: input.cluster,
      containerInstanceId: id,
      ec2InstanceId: identity.instanceId,
      totalResources: input.totalResources ?? [],
      attributes,
      versionInfo: input.versionInfo ?? {},
      tags: input.tags,
    });
    return { containerInstance: await this.store.read((tx) => view(tx, doc, new Set(['TAGS']))) };
  }

  async deregister(scope: Scope, input: { cluster?: string; containerInstance: string; force?: boolean }) {
    const clusterArn = resolveClusterArn(scope, input.cluster);
    const doc = await this.store.write(async (tx) => {
      await activeCluster(tx, clusterArn);
      const row = await findInstance(tx, scope, clusterArn, input.containerInstance);
      if (!row || row.data.status === 'INACTIVE') throw err.invalidParameter('The referenced container instance was not found.');
      const live = await tx.count(c.tasks, { instance: row.data.containerInstanceArn, last_status: LIVE });
      if (live > 0 && !input.force) {
        throw err.invalidParameter('Found running tasks on the instance. Use force to deregister the container instance anyway.');
      }
      const next: ContainerInstanceRecord = { ...row.data, status: 'INACTIVE', agentConnected: false, version: row.data.version + 1 };
      await tx.update(c.containerInstances, row, next);
      return next;
    });
    return { containerInstance: await this.store.read((tx) => view(tx, doc, new Set(['TAGS']))) };
  }

  async describe(scope: Scope, input: { cluster?: string; containerInstances: string[]; include?: string[] }) {
    // ECS's wording (singular), as its SDKs report it.
    if (input.containerInstances.length === 0) throw err.invalidParameter('Container instance cannot be empty.');
    if (input.containerInstances.length > 100) throw err.invalidParameter('A maximum of 100 container instances can be described at once.');
    const clusterArn = resolveClusterArn(scope, input.cluster);
    const include = new Set(input.include ?? []);
    return this.store.read(async (tx) => {
      await activeCluster(tx, clusterArn);
      const containerInstances = [];
      const failures = [];
      for (const ref of input.containerInstances) {
        const row = await findInstance(tx, scope, clusterArn, ref);
        if (row) containerInstances.push(await view(tx, row.data, include));
        else failures.push({ arn: ref, reason: 'MISSING' });
      }
      return { containerInstances, failures };
    });
  }

  async list(scope: Scope, input: { cluster?: string; status?: string; filter?: string; maxResults?: number; nextToken?: string }) {
    const clusterArn = resolveClusterArn(scope, input.cluster);
    const filter = input.filter ? this.compile(input.filter) : undefined;
    const size = pageSize(input.maxResults, 100);
    const start = tokenPosition(input.nextToken, ['string']);
    // ECS lists ACTIVE and DRAINING instances when no status is given.
    const where = { cluster: clusterArn, status: input.status ? input.status : { in: ['ACTIVE', 'DRAINING'] } };
    const page = await this.store.read(async (tx) => {
      await activeCluster(tx, clusterArn);
      // Keys in pk order through the (cluster, status, pk) index; a filter sees the cached views
      // (documents are parsed only when their row version changed), a chunk at a time.
      return keysetPage(
        async (after, limit) => {
          if (!filter) return tx.select(c.containerInstances, [], { where, orderBy: [['pk', 'asc']], after, limit });
          const matched: { pk: string }[] = [];
          for (;;) {
            const rows = await tx.select(c.containerInstances, [], { where, orderBy: [['pk', 'asc']], after, limit: FILTER_CHUNK });
            const views = await this.views.of(tx, rows);
            for (const v of views) if (filter(v)) matched.push({ pk: v.arn });
            if (matched.length >= limit || rows.length < FILTER_CHUNK) return matched.slice(0, limit);
            after = [rows[rows.length - 1]!.pk];
          }
        },
        (r) => [r.pk],
        size,
        start,
      );
    });
    return { containerInstanceArns: page.items.map((r) => r.pk), nextToken: page.nextToken };
  }

  async updateState(scope: Scope, input: { cluster?: string; containerInstances: string[]; status: string }) {
    if (input.status !== 'ACTIVE' && input.status !== 'DRAINING') {
      throw err.invalidParameter('Container instance status can only be updated to ACTIVE or DRAINING.');
    }
    const clusterArn = resolveClusterArn(scope, input.cluster);
    const changed = await this.store.write(async (tx) => {
      await activeCluster(tx, clusterArn);
      const out: { doc?: ContainerInstanceRecord; failure?: { arn: string; reason: string } }[] = [];
      for (const ref of input.containerInstances) {
        const row = await findInstance(tx, scope, clusterArn, ref);
        if (!row || row.data.status === 'INACTIVE') {
          out.push({ failure: { arn: ref, reason: 'MISSING' } });
          continue;
        }
        if (row.data.status === input.status) {
          out.push({ doc: row.data });
          continue;
        }
        const next = { ...row.data, status: input.status, version: row.data.version + 1 };
        await tx.update(c.containerInstances, row, next);
        out.push({ doc: next });
      }
      return out;
    });
    return this.store.read(async (tx) => ({
      containerInstances: await Promise.all(changed.filter((x) => x.doc).map((x) => view(tx, x.doc!, new Set()))),
      failures: changed.filter((x) => x.failure).map((x) => x.failure!),
    }));
  }

  private compile(expression: string): ClusterFilter {
    try {
      return this.compileQuery(expression);
    } catch (e) {
      throw err.invalidParameter(`The filter expression is not valid: ${(e as Error).message}`);
    }
  }
}

/** Instances a filtered ListContainerInstances reads per statement. */
const FILTER_CHUNK = 500;

/** Every resource gets all of ECS's value members; one without a name or type is refused. */
function normaliseResources(resources: ResourceInput[]): Resource[] {
  return resources.map(({ name, type, ...r }) => {
    if (!name || !type) throw err.invalidParameter('totalResources: each resource needs a name and a type.');
    return type === 'STRINGSET'
      ? { name, type: 'STRINGSET', stringSetValue: r.stringSetValue ?? [], doubleValue: 0, longValue: 0, integerValue: 0 }
      : { name, type, integerValue: r.integerValue ?? 0, doubleValue: r.doubleValue ?? 0, longValue: r.longValue ?? 0 };
  });
}

/** ECS's ContainerInstance shape, with the resources and task counts of its live tasks. */
async function view(tx: StoreTx, doc: ContainerInstanceRecord, include: Set<string>) {
  const tasks = await tx.find(c.tasks, { where: { instance: doc.containerInstanceArn, last_status: LIVE } });
  const usage = instanceUsage(tasks.map((t) => t.data));
  return {
    containerInstanceArn: doc.containerInstanceArn,
    ec2InstanceId: doc.ec2InstanceId,
    version: doc.version,
    versionInfo: doc.versionInfo,
    status: doc.status,
    statusReason: doc.statusReason,
    agentConnected: doc.agentConnected,
    registeredResources: doc.registeredResources,
    remainingResources: remainingResources(doc.registeredResources, usage),
    runningTasksCount: usage.running,
    pendingTasksCount: tasks.length - usage.running,
    attributes: doc.attributes,
    capacityProviderName: doc.attributes.find((a) => a.name === CAPACITY_PROVIDER_ATTRIBUTE)?.value,
    registeredAt: doc.registeredAt,
    attachments: [],
    tags: include.has('TAGS') ? doc.tags : undefined,
    healthStatus: include.has('CONTAINER_INSTANCE_HEALTH')
      ? {
          overallStatus: doc.agentConnected ? 'OK' : 'IMPAIRED',
          details: [{ type: 'CONTAINER_RUNTIME', status: doc.agentConnected ? 'OK' : 'IMPAIRED', lastUpdated: doc.lastHeartbeatAt, lastStatusChange: doc.lastHeartbeatAt }],
        }
      : undefined,
  };
}

