/**
 * Task definitions: register (the checks ECS performs, revisions per family from 1, the
 * fields ECS computes), describe, list, families, deregister and delete.
 *
 * The definition is stored as the caller sent it (after model validation) plus the computed
 * fields, so every member the caller sends comes back from Describe. Task-level cpu and memory
 * are normalised to units the way ECS does ("1 vCPU" → "1024", "3GB" → "3072").
 */
import type { ContainerDefinition, RegisterTaskDefinitionRequest, Volume } from '../../aws/generated/ecs.js';
import type { Clock } from '../../core/clock.js';
import { cpuUnits, memoryMiB } from '../../scheduler/index.js';
import { keysetPage, positionToken, tokenPosition, type Position } from '../../core/pagination.js';
import * as c from '../../store/collections.js';
import type { TaskDefinitionDoc } from '../../store/collections.js';
import type { Row, Store, StoreTx } from '../../store/store.js';
import { parseArn, principalArn, taskDefinitionArn, type Scope } from './arns.js';
import * as err from './errors.js';
import { checkTags, type Tag } from './tags.js';
import { pageSize } from './validation.js';

const FAMILY = /^[a-zA-Z0-9_-]{1,255}$/;
const CONTAINER_NAME = /^[a-zA-Z0-9_-]{1,255}$/;
/** ECS's documented limits for a task definition and its containers. */
const MAX_CONTAINERS = 10;
const MAX_TASK_DEFINITION_BYTES = 65536;
const MAX_IMAGE_LENGTH = 255;
/** Letters, numbers, hyphens, underscores, colons, periods, slashes and number signs (and @ for digests). */
const IMAGE = /^[a-zA-Z0-9_\-:./#@]+$/;
const MAX_PORT_RANGES = 100;
const MAX_ENVIRONMENT_FILES = 10;
/** healthCheck's documented ranges (seconds, except retries). */
const HEALTH_CHECK_RANGES = { interval: [5, 300], timeout: [2, 120], retries: [1, 10], startPeriod: [0, 300] } as const;
const EPHEMERAL_STORAGE_GIB = [21, 200] as const;
/** Revisions ListTaskDefinitionFamilies reads per statement while it collects a page of families. */
const FAMILY_SCAN_CHUNK = 500;

/** Fargate's valid task cpu → memory (MiB) combinations. */
const FARGATE_SIZES: Record<number, (mem: number) => boolean> = {
  256: (m) => [512, 1024, 2048].includes(m),
  512: (m) => m >= 1024 && m <= 4096 && m % 1024 === 0,
  1024: (m) => m >= 2048 && m <= 8192 && m % 1024 === 0,
  2048: (m) => m >= 4096 && m <= 16384 && m % 1024 === 0,
  4096: (m) => m >= 8192 && m <= 30720 && m % 1024 === 0,
  8192: (m) => m >= 16384 && m <= 61440 && m % 4096 === 0,
  16384: (m) => m >= 32768 && m <= 122880 && m % 8192 === 0,
};

/** Whether task-level cpu and memory (units or "1 vCPU" / "2GB" forms) are one of Fargate's combinations. */
export function isFargateSize(cpu: string, memory: string): boolean {
  const units = cpuUnits(cpu);
  const mib = memoryMiB(memory);
  return units !== undefined && mib !== undefined && (FARGATE_SIZES[units]?.(mib) ?? false);
}

// RegisterTaskDefinition's shapes as the model defines them (src/aws/generated/ecs.ts).
export type { ContainerDefinition, PortMapping, Volume } from '../../aws/generated/ecs.js';
/** What RegisterTaskDefinition accepts (after model validation). */
export type TaskDefinitionInput = RegisterTaskDefinitionRequest;

type Normalised = TaskDefinitionInput & {
  volumes: Volume[];
  placementConstraints: { type?: string; expression?: string }[];
};

export type TaskDefinitionRecord = TaskDefinitionDoc &
  Normalised & {
    compatibilities: string[];
    requiresAttributes: { name: string }[];
    registeredAt: number;
    registeredBy: string;
    deregisteredAt?: number;
    deleteRequestedAt?: number;
    tags: Tag[];
  };

export class TaskDefinitions {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  async register(scope: Scope, input: TaskDefinitionInput) {
    const def = checkAndNormalise(input);
    checkTags(input.tags);
    const record = await this.store.write(async (tx) => {
      // Only the highest revision number is needed: read the column, not the document.
      const latest = await tx.select(c.taskDefinitions, ['revision'], {
        where: { account_region: `${scope.accountId}:${scope.region}`, family: def.family },
        orderBy: [['revision', 'desc']],
        limit: 1,
      });
      const revision = Number(latest[0]?.revision ?? 0) + 1;
      const arn = taskDefinitionArn(scope, def.family, revision);
      const doc: TaskDefinitionRecord = {
        ...def,
        accountId: scope.accountId,
        region: scope.region,
        taskDefinitionArn: arn,
        revision,
        status: 'ACTIVE',
        compatibilities: compatibilities(def),
        requiresAttributes: requiredAttributes(def),
        registeredAt: this.clock.now(),
        registeredBy: principalArn(scope),
        tags: input.tags ?? [],
      };
      await tx.insert(c.taskDefinitions, arn, doc);
      return doc;
    });
    return { taskDefinition: record, tags: record.tags.length ? record.tags : undefined };
  }

  /**
   * Key and version of the definition `ref` names, without reading the document.
   * DescribeTaskDefinition goes through TaskDefinitionWireCache, which uses this and load().
   */
  locate(scope: Scope, ref: string): Promise<{ pk: string; version: number } | undefined> {
    return this.store.read((tx) => locateTaskDefinition(tx, scope, ref));
  }

  /** The stored row for a key from locate(). */
  load(pk: string): Promise<Row<TaskDefinitionRecord> | undefined> {
    return this.store.read(async (tx) => (await tx.get(c.taskDefinitions, pk)) as Row<TaskDefinitionRecord> | undefined);
  }

  async list(scope: Scope, input: { familyPrefix?: string; status?: string; sort?: string; maxResults?: number; nextToken?: string }) {
    const where: Record<string, string> = { account_region: `${scope.accountId}:${scope.region}`, status: input.status ?? 'ACTIVE' };
    // Despite its name, ListTaskDefinitions' familyPrefix matches the full family name.
    if (input.familyPrefix) where.family = input.familyPrefix;
    const dir = input.sort === 'DESC' ? 'desc' : 'asc';
    const size = pageSize(input.maxResults, 100);
    // Keys only, one page at a time through the (account_region, status, family, revision) index.
    const page = await keysetPage(
      (after, limit) => this.store.read((tx) => tx.select(c.taskDefinitions, ['family', 'revision'], { where, orderBy: [['family', dir], ['revision', dir]], after, limit })),
      (r) => [String(r.family), Number(r.revision)],
      size,
      tokenPosition(input.nextToken, ['string', 'number']),
    );
    return { taskDefinitionArns: page.items.map((r) => r.pk), nextToken: page.nextToken };
  }

  async listFamilies(scope: Scope, input: { familyPrefix?: string; status?: string; maxResults?: number; nextToken?: string }) {
    const where: Record<string, unknown> = { account_region: `${scope.accountId}:${scope.region}` };
    if (input.familyPrefix) where.family = { prefix: input.familyPrefix };
    const status = input.status ?? 'ALL';
    const size = pageSize(input.maxResults, 100);
    const start = tokenPosition(input.nextToken, ['string']);
    // Revisions in (family, revision) order from the token's family on, a chunk at a time, until
    // the page has one family more than it returns; only the indexed columns are read.
    const families = await this.store.read(async (tx) => {
      const found: string[] = [];
      let after: Position | undefined = start && [start[0]!, Number.MAX_SAFE_INTEGER];
      let current: { family: string; active: boolean; listed: boolean } | undefined;
      const finish = () => {
        if (current?.listed && (status === 'ALL' || (status === 'ACTIVE') === current.active)) found.push(current.family);
      };
      for (;;) {
        const rows = await tx.select(c.taskDefinitions, ['family', 'revision', 'status'], {
          where: where as never,
          orderBy: [['family', 'asc'], ['revision', 'asc']],
          after,
          limit: FAMILY_SCAN_CHUNK,
        });
        for (const r of rows) {
          const family = String(r.family);
          if (family !== current?.family) {
            finish();
            if (found.length > size) return found;
            current = { family, active: false, listed: false };
          }
          // A family whose revisions are all being deleted is no longer listed.
          if (r.status !== 'DELETE_IN_PROGRESS') current.listed = true;
          if (r.status === 'ACTIVE') current.active = true;
        }
        if (rows.length < FAMILY_SCAN_CHUNK) break;
        const last = rows[rows.length - 1]!;
        after = [String(last.family), Number(last.revision)];
      }
      finish();
      return found;
    });
    const page = families.slice(0, size);
    return { families: page, nextToken: families.length > size ? positionToken([page[page.length - 1]!]) : undefined };
  }

  async deregister(scope: Scope, input: { taskDefinition: string }) {
    if (!revisionPinned(input.taskDefinition)) {
      throw err.clientException('The specified task definition identifier is invalid. Specify a valid name or ARN.');
    }
    const doc = await this.store.write(async (tx) => {
      const row = await findTaskDefinition(tx, scope, input.taskDefinition);
      if (!row || row.data.status === 'DELETE_IN_PROGRESS') throw err.clientException('The specified task definition does not exist.');
      if (row.data.status === 'INACTIVE') return row.data;
      const next = { ...row.data, status: 'INACTIVE', deregisteredAt: this.clock.now() };
      await tx.update(c.taskDefinitions, row, next);
      return next;
    });
    return { taskDefinition: doc };
  }

  async delete(scope: Scope, input: { taskDefinitions: string[] }) {
    if (input.taskDefinitions.length === 0 || input.taskDefinitions.length > 10) {
      throw err.invalidParameter('You can specify between 1 and 10 task definitions.');
    }
    return this.store.write(async (tx) => {
      const taskDefinitions: TaskDefinitionRecord[] = [];
      const failures: { arn: string; reason: string }[] = [];
      for (const ref of input.taskDefinitions) {
        const row = revisionPinned(ref) ? await findTaskDefinition(tx, scope, ref) : undefined;
        if (!row) {
          failures.push({ arn: ref, reason: 'The specified task definition does not exist. Specify a valid account, family, revision and try again.' });
        } else if (row.data.status === 'ACTIVE') {
          failures.push({ arn: row.pk, reason: 'The specified task definition is still in ACTIVE status. Please deregister the target and try again.' });
        } else {
          const next = row.data.status === 'DELETE_IN_PROGRESS' ? row.data : { ...row.data, status: 'DELETE_IN_PROGRESS', deleteRequestedAt: this.clock.now() };
          if (next !== row.data) await tx.update(c.taskDefinitions, row, next);
          taskDefinitions.push(next);
        }
      }
      return { taskDefinitions, failures };
    });
  }
}

/** family, family:revision or a full ARN → the stored definition (family alone: latest ACTIVE). */
export async function findTaskDefinition(tx: StoreTx, scope: Scope, ref: string): Promise<Row<TaskDefinitionRecord> | undefined> {
  const target = parseReference(scope, ref);
  if (!target) return undefined;
  if ('latestOf' in target) {
    const rows = await tx.find(c.taskDefinitions, latestActive(target.latestOf));
    return rows[0] as Row<TaskDefinitionRecord> | undefined;
  }
  return (await tx.get(c.taskDefinitions, target.pk)) as Row<TaskDefinitionRecord> | undefined;
}

/** Like findTaskDefinition, but only the row's key and version: no document is read or parsed. */
export async function locateTaskDefinition(tx: StoreTx, scope: Scope, ref: string): Promise<{ pk: string; version: number } | undefined> {
  const target = parseReference(scope, ref);
  if (!target) return undefined;
  const query = 'latestOf' in target ? latestActive(target.latestOf) : { where: { pk: target.pk } };
  const [row] = await tx.select(c.taskDefinitions, [], query);
  return row && { pk: row.pk, version: row.version };
}

type Reference = { pk: string } | { latestOf: { accountRegion: string; family: string } };

function parseReference(scope: Scope, ref: string): Reference | undefined {
  const arn = parseArn(ref);
  if (arn && arn.type !== 'task-definition') return undefined;
  const s = arn ? { accountId: arn.accountId, region: arn.region } : scope;
  const [family, revision] = splitRevision(arn ? arn.rest : ref);
  return revision === undefined ? { latestOf: { accountRegion: `${s.accountId}:${s.region}`, family } } : { pk: taskDefinitionArn(s, family, revision) };
}

function latestActive(of: { accountRegion: string; family: string }) {
  return { where: { account_region: of.accountRegion, family: of.family, status: 'ACTIVE' }, orderBy: [['revision', 'desc']] as const, limit: 1 };
}

function splitRevision(ref: string): [string, number | undefined] {
  const m = /^(.+):(\d+)$/.exec(ref);
  return m ? [m[1]!, Number(m[2])] : [ref, undefined];
}

function revisionPinned(ref: string): boolean {
  const arn = parseArn(ref);
  return splitRevision(arn ? arn.rest : ref)[1] !== undefined;
}

/** The checks RegisterTaskDefinition performs, in ECS's words where they are known. */
export function checkAndNormalise(input: TaskDefinitionInput): Normalised {
  const { tags: _tags, ...def } = input;
  // ECS measures the definition as sent (tags are the resource's, not the definition's).
  const size = Buffer.byteLength(JSON.stringify(def));
  if (size > MAX_TASK_DEFINITION_BYTES) throw err.clientException(`Actual length: '${size}'. Max allowed length is '${MAX_TASK_DEFINITION_BYTES}' bytes.`);
  if (!FAMILY.test(def.family)) {
    throw err.clientException('Family name can be up to 255 letters (uppercase and lowercase), numbers, hyphens, and underscores.');
  }
  const containers = def.containerDefinitions;
  if (containers.length === 0) throw err.clientException('Container list cannot be empty.');
  if (containers.length > MAX_CONTAINERS) throw err.clientException(`Too many containers. A task definition can contain at most ${MAX_CONTAINERS}.`);
  const networkMode = def.networkMode;
  const fargate = def.requiresCompatibilities?.includes('FARGATE') ?? false;

  let cpu: string | undefined;
  let memory: string | undefined;
  if (def.cpu !== undefined) {
    const units = cpuUnits(def.cpu);
    if (units === undefined || units < 128) throw err.clientException(`Invalid 'cpu' setting for task: ${def.cpu}. Specify CPU units (for example 1024) or vCPUs (for example 1 vCPU).`);
    cpu = String(units);
  }
  if (def.memory !== undefined) {
    const mib = memoryMiB(def.memory);
    if (mib === undefined || mib < 6) throw err.clientException(`Invalid 'memory' setting for task: ${def.memory}. Specify memory in MiB (for example 1024) or GB (for example 1GB).`);
    memory = String(mib);
  }

  const volumes = def.volumes ?? [];
  const volumeNames = new Set<string>();
  for (const v of volumes) {
    if (!v.name) throw err.clientException('Volume name should not be null or empty.');
    if (!/^[a-zA-Z0-9_-]{1,255}$/.test(v.name)) throw err.clientException(`Invalid volume name: ${v.name}. Up to 255 letters, numbers, hyphens and underscores are allowed.`);
    if (volumeNames.has(v.name)) throw err.clientException(`Duplicate volume name: ${v.name}.`);
    if (v.host?.sourcePath !== undefined && v.dockerVolumeConfiguration) {
      throw err.clientException(`Volume ${v.name} cannot specify both host and dockerVolumeConfiguration.`);
    }
    if (v.dockerVolumeConfiguration?.autoprovision && v.dockerVolumeConfiguration.scope !== 'shared') {
      throw err.clientException(`Volume ${v.name}: autoprovision is only supported for shared volumes.`);
    }
    volumeNames.add(v.name);
  }

  const names = new Set<string>();
  for (const ct of containers) {
    if (!ct.name) throw err.clientException('Container.name should not be null or empty.');
    if (!CONTAINER_NAME.test(ct.name)) throw err.clientException(`Container.name contains invalid characters: ${ct.name}. Up to 255 letters, numbers, hyphens and underscores are allowed.`);
    if (!ct.image) throw err.clientException('Container.image should not be null or empty.');
    if (ct.image.length > MAX_IMAGE_LENGTH) throw err.clientException(`Container.image should be ${MAX_IMAGE_LENGTH} characters or less`);
    if (!IMAGE.test(ct.image)) throw err.clientException('Container.image contains invalid characters.');
    if (names.has(ct.name)) throw err.clientException('Duplicate container names are not allowed.');
    names.add(ct.name);
  }
  if (!containers.some((ct) => ct.essential !== false)) {
    throw err.clientException('Task definition does not have any essential container.');
  }
  // Secrets are read as the execution role: ECS refuses them (even an empty list) without one.
  if (containers.some((ct) => ct.secrets !== undefined) && !input.executionRoleArn) {
    throw err.clientException("When you are specifying container secrets, you must also specify a value for 'executionRoleArn'.");
  }

  for (const ct of containers) {
    const where = `Invalid setting for container '${ct.name}'.`;
    if (memory === undefined && ct.memory === undefined && ct.memoryReservation === undefined && !fargate) {
      throw err.clientException(`${where} At least one of 'memory' or 'memoryReservation' must be specified.`);
    }
    if (ct.memory !== undefined && ct.memory < 6) throw err.clientException(`${where} The 'memory' value must be at least 6 MiB.`);
    if (ct.memoryReservation !== undefined && ct.memoryReservation < 6) throw err.clientException(`${where} The 'memoryReservation' value must be at least 6 MiB.`);
    if (ct.memory !== undefined && ct.memoryReservation !== undefined && ct.memoryReservation > ct.memory) {
      throw err.clientException(`${where} 'memory' must be greater than or equal to 'memoryReservation'.`);
    }
    if (memory !== undefined && ct.memory !== undefined && ct.memory > Number(memory)) {
      throw err.clientException(`${where} The container memory (${ct.memory}) must not exceed the task memory (${memory}).`);
    }
    if (ct.cpu !== undefined && (ct.cpu < 0 || ct.cpu > 10240 * 16)) throw err.clientException(`${where} Invalid 'cpu' value ${ct.cpu}.`);
    if (cpu !== undefined && ct.cpu !== undefined && ct.cpu > Number(cpu)) {
      throw err.clientException(`${where} The container cpu (${ct.cpu}) must not exceed the task cpu (${cpu}).`);
    }
    if (networkMode === 'none' && ct.portMappings?.length) {
      throw err.clientException('Port mappings are not supported when networkMode=none.');
    }
    const seenPorts = new Set<string>();
    for (const pm of ct.portMappings ?? []) {
      if (pm.containerPort === undefined && !pm.containerPortRange) throw err.clientException(`${where} Port mappings need a containerPort.`);
      for (const port of [pm.containerPort, pm.hostPort]) {
        if (port !== undefined && (port < 0 || port > 65535)) {
          throw err.clientException(`${where} Port ${port} is out of range (1-65535).`);
        }
      }
      if (pm.containerPort === 0) throw err.clientException(`${where} containerPort must be between 1 and 65535.`);
      if ((networkMode === 'awsvpc' || networkMode === 'host') && pm.hostPort !== undefined && pm.hostPort !== pm.containerPort) {
        throw err.clientException(`When networkMode=${networkMode}, the host ports and container ports in port mappings must match.`);
      }
      const key = `${pm.containerPort}/${pm.protocol ?? 'tcp'}`;
      if (pm.containerPort !== undefined && seenPorts.has(key)) throw err.clientException(`${where} Duplicate port mapping for container port ${key}.`);
      seenPorts.add(key);
    }
    if (ct.links?.length && networkMode !== undefined && networkMode !== 'bridge') {
      throw err.clientException(`Links are not supported when networkMode=${networkMode}.`);
    }
    for (const link of ct.links ?? []) {
      const target = link.split(':')[0]!;
      if (!names.has(target) || target === ct.name) throw err.clientException(`${where} Link target '${target}' is not a container in this task definition.`);
    }
    if (ct.hostname && networkMode === 'awsvpc') throw err.clientException(`${where} The hostname parameter is not supported in the awsvpc network mode.`);
    for (const dep of ct.dependsOn ?? []) {
      if (!names.has(dep.containerName) || dep.containerName === ct.name) {
        throw err.clientException(`${where} dependsOn references an unknown container: ${dep.containerName}.`);
      }
      if (dep.condition === 'HEALTHY') {
        const target = containers.find((x) => x.name === dep.containerName)!;
        if (!target.healthCheck) throw err.clientException(`${where} dependsOn condition HEALTHY requires container '${dep.containerName}' to define a healthCheck.`);
      }
    }
    for (const mp of ct.mountPoints ?? []) {
      if (!mp.sourceVolume || !volumeNames.has(mp.sourceVolume)) {
        throw err.clientException(`${where} mountPoints references an unknown volume: ${mp.sourceVolume ?? '(none)'}.`);
      }
      if (!mp.containerPath) throw err.clientException(`${where} mountPoints need a containerPath.`);
    }
    for (const vf of ct.volumesFrom ?? []) {
      if (!vf.sourceContainer || !names.has(vf.sourceContainer) || vf.sourceContainer === ct.name) {
        throw err.clientException(`${where} volumesFrom references an unknown container: ${vf.sourceContainer ?? '(none)'}.`);
      }
    }
    if (ct.privileged && fargate) throw err.clientException(`${where} Fargate does not support privileged containers.`);
    checkContainerLimits(ct, where);
  }
  checkDependencyCycle(containers);

  if (fargate) {
    if (networkMode !== 'awsvpc') throw err.clientException("Fargate only supports network mode 'awsvpc'.");
    if (cpu === undefined) throw err.clientException("Fargate requires that 'cpu' be defined at the task level.");
    if (memory === undefined) throw err.clientException("Fargate requires that 'memory' be defined at the task level.");
    if (!FARGATE_SIZES[Number(cpu)]?.(Number(memory))) {
      throw err.clientException(`No Fargate configuration exists for given values: ${cpu} CPU, ${memory} memory. See the Amazon ECS documentation for the valid combinations.`);
    }
    for (const v of volumes) {
      if (v.host?.sourcePath) throw err.clientException(`Fargate does not support host volumes with a sourcePath (volume ${v.name}).`);
      if (v.dockerVolumeConfiguration) throw err.clientException(`Fargate does not support dockerVolumeConfiguration (volume ${v.name}).`);
    }
    if (def.pidMode === 'host') throw err.clientException("Fargate does not support pidMode 'host'.");
    if (def.ipcMode) throw err.clientException('Fargate does not support ipcMode.');
  }

  const storage = (def.ephemeralStorage as { sizeInGiB?: number } | undefined)?.sizeInGiB;
  if (storage !== undefined && (storage < EPHEMERAL_STORAGE_GIB[0] || storage > EPHEMERAL_STORAGE_GIB[1])) {
    throw err.clientException(`The ephemeral storage size must be between ${EPHEMERAL_STORAGE_GIB[0]} and ${EPHEMERAL_STORAGE_GIB[1]} GiB.`);
  }

  const out: Normalised = { ...def, volumes, placementConstraints: def.placementConstraints ?? [] } as Normalised;
  if (cpu !== undefined) out.cpu = cpu;
  if (memory !== undefined) out.memory = memory;
  out.containerDefinitions = containers.map(withContainerDefaults);
  return out;
}

/** The per-container limits ECS documents (port ranges, environment files, health check timings). */
function checkContainerLimits(ct: ContainerDefinition, where: string) {
  const ranges = (ct.portMappings ?? []).filter((pm) => pm.containerPortRange !== undefined).length;
  if (ranges > MAX_PORT_RANGES) throw err.clientException(`${where} A container can have at most ${MAX_PORT_RANGES} port ranges.`);
  if ((ct.environmentFiles?.length ?? 0) > MAX_ENVIRONMENT_FILES) {
    throw err.clientException(`${where} A container can have at most ${MAX_ENVIRONMENT_FILES} environment files.`);
  }
  const health = ct.healthCheck as Partial<Record<keyof typeof HEALTH_CHECK_RANGES, number>> | undefined;
  for (const [name, [min, max]] of Object.entries(HEALTH_CHECK_RANGES)) {
    const value = health?.[name as keyof typeof HEALTH_CHECK_RANGES];
    if (value !== undefined && (value < min || value > max)) {
      throw err.clientException(`${where} healthCheck.${name} must be between ${min} and ${max}.`);
    }
  }
}

/** ECS fills these in every container it returns. */
function withContainerDefaults(ct: ContainerDefinition): ContainerDefinition {
  return {
    ...ct,
    cpu: ct.cpu ?? 0,
    essential: ct.essential ?? true,
    portMappings: (ct.portMappings ?? []).map((pm) => ({ ...pm, protocol: pm.protocol ?? 'tcp' })),
    environment: ct.environment ?? [],
    mountPoints: ct.mountPoints ?? [],
    volumesFrom: ct.volumesFrom ?? [],
    systemControls: ct.systemControls ?? [],
  };
}

function checkDependencyCycle(containers: ContainerDefinition[]) {
  const deps = new Map(containers.map((ct) => [ct.name!, (ct.dependsOn ?? []).map((d) => d.containerName)]));
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string) => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') throw err.clientException(`Container dependency cycle detected involving '${name}'.`);
    state.set(name, 'visiting');
    for (const d of deps.get(name) ?? []) visit(d);
    state.set(name, 'done');
  };
  for (const name of deps.keys()) visit(name);
}

/** The launch types the definition is valid for, as ECS reports in `compatibilities`. */
function compatibilities(def: Normalised): string[] {
  const out = ['EC2'];
  const fargateReady =
    def.networkMode === 'awsvpc' &&
    def.cpu !== undefined &&
    def.memory !== undefined &&
    FARGATE_SIZES[Number(def.cpu)]?.(Number(def.memory)) &&
    !def.volumes.some((v) => v.host?.sourcePath || v.dockerVolumeConfiguration) &&
    !def.containerDefinitions.some((ct) => ct.privileged);
  if (fargateReady || def.requiresCompatibilities?.includes('FARGATE')) out.push('FARGATE');
  if (def.requiresCompatibilities?.includes('EXTERNAL')) out.push('EXTERNAL');
  return out;
}

/** Agent capabilities the definition needs (matched against container instance attributes). */
function requiredAttributes(def: Normalised): { name: string }[] {
  const attrs = new Set<string>();
  const docker = (v: string) => attrs.add(`com.amazonaws.ecs.capability.docker-remote-api.${v}`);
  if (def.taskRoleArn) attrs.add('com.amazonaws.ecs.capability.task-iam-role');
  if (def.networkMode === 'awsvpc') attrs.add('ecs.capability.task-eni');
  if (def.networkMode && def.networkMode !== 'bridge') docker('1.18');
  if (def.pidMode || def.ipcMode) docker('1.24');
  for (const ct of def.containerDefinitions) {
    if (ct.dockerLabels) docker('1.18');
    if (ct.memoryReservation !== undefined) docker('1.21');
    if (ct.healthCheck) {
      attrs.add('ecs.capability.container-health-check');
      docker('1.24');
    }
    if (ct.dependsOn?.length) attrs.add('ecs.capability.container-ordering');
    if (ct.repositoryCredentials) attrs.add('com.amazonaws.ecs.capability.private-registry-authentication.secretsmanager');
    if (ct.environmentFiles?.length) attrs.add('ecs.capability.env-files.s3');
    const driver = ct.logConfiguration?.logDriver;
    if (driver) {
      attrs.add(`com.amazonaws.ecs.capability.logging-driver.${driver}`);
      if (driver === 'awslogs' && def.executionRoleArn) attrs.add('ecs.capability.execution-role-awslogs');
    }
    for (const s of ct.secrets ?? []) {
      attrs.add(s.valueFrom.includes(':secretsmanager:') ? 'ecs.capability.secrets.asm.environment-variables' : 'ecs.capability.secrets.ssm.environment-variables');
      if (def.executionRoleArn) attrs.add('ecs.capability.execution-role-ecr-pull');
    }
    if (ct.image?.includes('.dkr.ecr.') && def.executionRoleArn) attrs.add('ecs.capability.execution-role-ecr-pull');
  }
  return [...attrs].sort().map((name) => ({ name }));
}
