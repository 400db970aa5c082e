/**
 * ECS container instances: one per host agent. Registration (through the ECS API or the
 * agent protocol, both idempotent), describe with registered and remaining resources and task
 * counts, list with status and cluster-query filters, draining, deregistration (force), and
 * custom attributes (Put/Delete/ListAttributes).
 *
 * `agentConnected` is written by the agent API's liveness tracker; everything else here.
 */
import { AwsError } from '../../aws/errors.js';
import type { Clock } from '../../core/clock.js';
import { hexId } from '../../core/ids.js';
import { keysetPage, paginate, tokenPosition } from '../../core/pagination.js';
import * as c from '../../store/collections.js';
import type { ContainerInstanceDoc, TaskDoc } from '../../store/collections.js';
import type { Row, Store, StoreTx } from '../../store/store.js';
import { compileClusterQuery, parseClusterQuery, type InstanceView } from '../../scheduler/index.js';
import { clusterNameOf, containerInstanceArn, parseArn, type Scope } from './arns.js';
import { activeCluster, resolveArn as resolveClusterArn } from './clusters.js';
import * as err from './errors.js';
import type { EcsOperations } from './index.js';
import { checkTags, type Tag } from './tags.js';
import { pageSize } from './validation.js';

export interface Attribute {
  name: string;
  value?: string;
  targetType?: string;
  targetId?: string;
}

export interface Resource {
  name: string;
  type: string;
  integerValue?: number;
  doubleValue?: number;
  longValue?: number;
  stringSetValue?: string[];
}

export interface VersionInfo {
  agentVersion?: string;
  agentHash?: string;
  dockerVersion?: string;
}

export interface ContainerInstanceRecord extends ContainerInstanceDoc {
  registeredResources: Resource[];
  versionInfo: VersionInfo;
  registeredAt: number;
  /** ECS's version counter for the instance: up on every change. */
  version: number;
  tags: Tag[];
  /** The id the Dockyard agent persists; absent for instances registered through the ECS API. */
  agentInstanceId?: string;
  hostname?: string;
  statusReason?: string;
}

export interface RegistrationInput {
  cluster?: string;
  /** Re-register this instance (ECS API) or the agent's persisted id (agent protocol). */
  containerInstanceId?: string;
  ec2InstanceId?: string;
  totalResources: Resource[];
  attributes: Attribute[];
  versionInfo: VersionInfo;
  tags?: Tag[];
  agentInstanceId?: string;
  hostname?: string;
}

/** Task statuses that still hold resources on their instance. */
const LIVE = { not: 'STOPPED' } as const;

export type ClusterFilter = (instance: InstanceView) => boolean;
/** Compiles an ECS cluster query (`attribute:ecs.os-type == linux and ...`); throws on bad syntax. */
export type ClusterQueryCompiler = (expression: string) => ClusterFilter;

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
  async register(
    scope: Scope,
    input: {
      cluster?: string;
      instanceIdentityDocument?: string;
      totalResources?: Resource[];
      versionInfo?: VersionInfo;
      containerInstanceArn?: string;
      attributes?: Attribute[];
      tags?: Tag[];
    },
  ) {
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
      const row = await this.get(tx, scope, clusterArn, input.containerInstance);
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
        const row = await this.get(tx, scope, clusterArn, ref);
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
        const row = await this.get(tx, scope, clusterArn, ref);
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

  async putAttributes(scope: Scope, input: { cluster?: string; attributes: Attribute[] }) {
    if (input.attributes.length > 10) throw err.invalidParameter('A maximum of 10 attributes can be put at once.');
    for (const a of input.attributes) checkAttribute(a);
    await this.changeAttributes(scope, input.cluster, input.attributes, (current, a) => mergeAttributes(current, [{ name: a.name, value: a.value }]));
    return { attributes: input.attributes };
  }

  async deleteAttributes(scope: Scope, input: { cluster?: string; attributes: Attribute[] }) {
    await this.changeAttributes(scope, input.cluster, input.attributes, (current, a) => {
      if (!current.some((x) => x.name === a.name)) throw err.resourceNotFound(`The attribute ${a.name} was not found on the target.`);
      return current.filter((x) => x.name !== a.name);
    });
    return { attributes: input.attributes };
  }

  async listAttributes(
    scope: Scope,
    input: { cluster?: string; targetType: string; attributeName?: string; attributeValue?: string; maxResults?: number; nextToken?: string },
  ) {
    if (input.targetType !== 'container-instance') throw err.invalidParameter('targetType must be container-instance.');
    if (input.attributeValue !== undefined && input.attributeName === undefined) {
      throw err.invalidParameter('attributeName must be specified when attributeValue is.');
    }
    const clusterArn = resolveClusterArn(scope, input.cluster);
    const rows = await this.store.read(async (tx) => {
      await activeCluster(tx, clusterArn);
      return tx.find(c.containerInstances, { where: { cluster: clusterArn, status: { in: ['ACTIVE', 'DRAINING'] } }, orderBy: [['pk', 'asc']] });
    });
    const all: Attribute[] = [];
    for (const r of rows) {
      for (const a of r.data.attributes) {
        if (input.attributeName !== undefined && a.name !== input.attributeName) continue;
        if (input.attributeValue !== undefined && a.value !== input.attributeValue) continue;
        all.push({ name: a.name, value: a.value, targetType: 'container-instance', targetId: r.pk });
      }
    }
    const page = paginate(all, (a) => `${a.targetId} ${a.name}`, pageSize(input.maxResults, 100), input.nextToken);
    return { attributes: page.items, nextToken: page.nextToken };
  }

  private compile(expression: string): ClusterFilter {
    try {
      return this.compileQuery(expression);
    } catch (e) {
      throw err.invalidParameter(`The filter expression is not valid: ${(e as Error).message}`);
    }
  }

  private async changeAttributes(
    scope: Scope,
    cluster: string | undefined,
    attributes: Attribute[],
    change: (current: { name: string; value?: string }[], a: Attribute) => { name: string; value?: string }[],
  ) {
    const clusterArn = resolveClusterArn(scope, cluster);
    await this.store.write(async (tx) => {
      await activeCluster(tx, clusterArn);
      // Several attributes may target one instance: apply them to one evolving copy each.
      const pending = new Map<string, { row: Row<ContainerInstanceRecord>; doc: ContainerInstanceRecord }>();
      for (const a of attributes) {
        if (a.targetType !== undefined && a.targetType !== 'container-instance') throw err.invalidParameter('targetType must be container-instance.');
        if (!a.targetId) throw err.invalidParameter('Attribute targetId is required.');
        const row = await this.get(tx, scope, clusterArn, a.targetId);
        if (!row || row.data.status === 'INACTIVE') throw new TargetNotFound(a.targetId);
        const entry = pending.get(row.pk) ?? { row, doc: structuredClone(row.data) };
        entry.doc.attributes = change(entry.doc.attributes, a);
        pending.set(row.pk, entry);
      }
      for (const { row, doc } of pending.values()) await tx.update(c.containerInstances, row, { ...doc, version: doc.version + 1 });
    });
  }

  /** An instance by ARN or bare id, within the cluster. */
  private async get(tx: StoreTx, scope: Scope, clusterArn: string, ref: string): Promise<Row<ContainerInstanceRecord> | undefined> {
    const parsed = parseArn(ref);
    let arn = ref;
    if (!parsed) arn = containerInstanceArn(scope, clusterNameOf(clusterArn), ref);
    else if (parsed.type !== 'container-instance') return undefined;
    else if (parsed.rest.split('/').length === 1) arn = containerInstanceArn(scope, clusterNameOf(clusterArn), parsed.rest); // old ARN format
    const row = (await tx.get(c.containerInstances, arn)) as Row<ContainerInstanceRecord> | undefined;
    return row && row.data.clusterArn === clusterArn ? row : undefined;
  }
}

class TargetNotFound extends Error {
  readonly code = 'TargetNotFoundException';
  constructor(target: string) {
    super(`Could not find ${target}. Verify the target exists and try again.`);
  }
}

/** Instances a filtered ListContainerInstances reads per statement. */
const FILTER_CHUNK = 500;

/**
 * Scheduler views of container instances, built once per row version. RunTask's snapshot and
 * ListContainerInstances' filter read keys and versions from an index and parse only the
 * documents that changed since they were last seen. Only a cache: the store is the truth.
 */
export class InstanceViewCache {
  private readonly views = new Map<string, { version: number; view: InstanceView }>();

  /** The views of `rows` (keys and versions just read in `tx`), in their order; rows gone since are skipped. */
  async of(tx: StoreTx, rows: readonly { pk: string; version: number }[]): Promise<InstanceView[]> {
    const out: InstanceView[] = [];
    for (const { pk, version } of rows) {
      let cached = this.views.get(pk);
      if (!cached || cached.version !== version) {
        const row = await tx.get(c.containerInstances, pk);
        if (!row) continue;
        cached = { version: row.version, view: instanceView(row.data as ContainerInstanceRecord, []) };
        this.views.set(pk, cached);
      }
      out.push(cached.view);
    }
    return out;
  }
}

/**
 * A container instance as the scheduler sees it: RunTask's snapshot and ListContainerInstances'
 * filter both use this. `tasks` are what the caller knows to be on the instance.
 */
export function instanceView(doc: ContainerInstanceRecord, tasks: InstanceView['tasks']): InstanceView {
  const res = (name: string) => doc.registeredResources.find((r) => r.name === name);
  return {
    arn: doc.containerInstanceArn,
    ec2InstanceId: doc.ec2InstanceId,
    status: doc.status,
    agentConnected: doc.agentConnected,
    // An attribute without a value maps to undefined, as the scheduler's InstanceView expects.
    attributes: Object.fromEntries(doc.attributes.map((a) => [a.name, a.value])),
    registered: {
      cpu: res('CPU')?.integerValue ?? 0,
      memory: res('MEMORY')?.integerValue ?? 0,
      ports: (res('PORTS')?.stringSetValue ?? []).map(Number),
      portsUdp: (res('PORTS_UDP')?.stringSetValue ?? []).map(Number),
    },
    tasks,
    agentVersion: doc.versionInfo.agentVersion,
    registeredAt: doc.registeredAt,
  };
}

/** The scheduler's cluster query language over an instance document (task-based subjects see no tasks here). */
export function instanceQuery(expression: string): ClusterFilter {
  const predicate = compileClusterQuery(parseClusterQuery(expression));
  return (instance) => predicate({ instance, taskGroups: () => new Set(), runningTasksCount: () => 0 });
}

/** ECS's agent-reserved attribute names: replaced on each registration. */
function isAgentAttribute(name: string): boolean {
  return name.startsWith('ecs.') || name.startsWith('com.amazonaws.ecs.') || name.startsWith('dockyard.');
}

function checkAttribute(a: Attribute): void {
  if (!/^[a-zA-Z0-9_.\-/@]{1,128}$/.test(a.name)) throw err.invalidParameter(`Attribute name ${a.name} is not valid.`);
  if (a.value !== undefined && !/^[a-zA-Z0-9_.\-/@: ]{1,128}$/.test(a.value)) throw err.invalidParameter(`Attribute value ${a.value} is not valid.`);
  if (a.name.startsWith('ecs.')) throw err.invalidParameter(`Attribute names beginning with ecs. are reserved: ${a.name}`);
}

function mergeAttributes(current: { name: string; value?: string }[], changes: { name: string; value?: string }[]) {
  const out = new Map(current.map((a) => [a.name, a.value]));
  for (const a of changes) out.set(a.name, a.value);
  return [...out].map(([name, value]) => (value === undefined ? { name } : { name, value }));
}

function normaliseResources(resources: Resource[]): Resource[] {
  return resources.map((r) =>
    r.type === 'STRINGSET'
      ? { name: r.name, type: 'STRINGSET', stringSetValue: r.stringSetValue ?? [], doubleValue: 0, longValue: 0, integerValue: 0 }
      : { name: r.name, type: r.type, integerValue: r.integerValue ?? 0, doubleValue: r.doubleValue ?? 0, longValue: r.longValue ?? 0 },
  );
}

/**
 * What one live task holds on its instance: the reservation RunTask computed with the scheduler's
 * taskReservation and stored with the task (the one rule; the scheduler's snapshot reads the same
 * fields), plus the host ports Docker bound for its dynamic port mappings once it runs.
 */
export function taskUsage(task: TaskDoc): { cpu: number; memory: number; tcpPorts: string[]; udpPorts: string[] } {
  const tcpPorts: string[] = [];
  const udpPorts: string[] = [];
  for (const entry of (task.reservedPorts as string[] | undefined) ?? []) {
    const [port, protocol] = entry.split('/');
    (protocol === 'udp' ? udpPorts : tcpPorts).push(port!);
  }
  for (const x of task.containers as { networkBindings?: { hostPort?: number; protocol?: string }[] }[]) {
    for (const b of x.networkBindings ?? []) {
      if (b.hostPort === undefined) continue;
      (b.protocol === 'udp' ? udpPorts : tcpPorts).push(String(b.hostPort));
    }
  }
  return { cpu: Number(task.reservedCpu ?? 0), memory: Number(task.reservedMemory ?? 0), tcpPorts, udpPorts };
}

async function view(tx: StoreTx, doc: ContainerInstanceRecord, include: Set<string>) {
  const tasks = await tx.find(c.tasks, { where: { instance: doc.containerInstanceArn, last_status: LIVE } });
  let cpu = 0;
  let memory = 0;
  const tcp = new Set<string>();
  const udp = new Set<string>();
  let running = 0;
  for (const t of tasks) {
    const u = taskUsage(t.data);
    cpu += u.cpu;
    memory += u.memory;
    u.tcpPorts.forEach((p) => tcp.add(p));
    u.udpPorts.forEach((p) => udp.add(p));
    if (t.data.lastStatus === 'RUNNING') running += 1;
  }
  const remaining = doc.registeredResources.map((r) => {
    if (r.name === 'CPU') return { ...r, integerValue: (r.integerValue ?? 0) - cpu };
    if (r.name === 'MEMORY') return { ...r, integerValue: (r.integerValue ?? 0) - memory };
    if (r.name === 'PORTS') return { ...r, stringSetValue: [...new Set([...(r.stringSetValue ?? []), ...tcp])] };
    if (r.name === 'PORTS_UDP') return { ...r, stringSetValue: [...new Set([...(r.stringSetValue ?? []), ...udp])] };
    return r;
  });
  return {
    containerInstanceArn: doc.containerInstanceArn,
    ec2InstanceId: doc.ec2InstanceId,
    version: doc.version,
    versionInfo: doc.versionInfo,
    status: doc.status,
    statusReason: doc.statusReason,
    agentConnected: doc.agentConnected,
    registeredResources: doc.registeredResources,
    remainingResources: remaining,
    runningTasksCount: running,
    pendingTasksCount: tasks.length - running,
    attributes: doc.attributes,
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

/** The ECS operations this module implements, for `ecsService(domain, extra)`. */
export function containerInstanceOperations(d: ContainerInstances): EcsOperations {
  return {
    RegisterContainerInstance: (ctx, input) => d.register(ctx, input),
    DeregisterContainerInstance: (ctx, input) => d.deregister(ctx, input),
    DescribeContainerInstances: (ctx, input) => d.describe(ctx, input),
    ListContainerInstances: (ctx, input) => d.list(ctx, input),
    UpdateContainerInstancesState: (ctx, input) => d.updateState(ctx, input),
    PutAttributes: (ctx, input) => d.putAttributes(ctx, input).catch(targetNotFound),
    DeleteAttributes: (ctx, input) => d.deleteAttributes(ctx, input).catch(targetNotFound),
    ListAttributes: (ctx, input) => d.listAttributes(ctx, input),
  };
}

function targetNotFound(e: unknown): never {
  if (e instanceof TargetNotFound) throw new AwsError('TargetNotFoundException', e.message);
  throw e;
}
