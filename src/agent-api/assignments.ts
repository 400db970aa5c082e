/**
 * A task document plus its task definition → the agent's TaskAssignment: the definition with
 * the RunTask overrides merged in and ECS's defaults made explicit, so the agent needs no
 * knowledge of ECS defaults. PURE; the routes do the reading.
 */
import { createHash } from 'node:crypto';
import { TASK_STATUSES, type ContainerSpec, type LinuxParametersSpec, type RegistryAuth, type TaskAssignment, type TaskStatus, type VolumeSpec } from '../protocol/index.js';
import type { TaskDefinitionDoc, TaskDoc } from '../store/collections.js';

/** ECS_CONTAINER_STOP_TIMEOUT's default. */
export const DEFAULT_STOP_TIMEOUT_SEC = 30;

type Json = Record<string, unknown>;
const arr = <T = Json>(v: unknown): T[] => (Array.isArray(v) ? (v as T[]) : []);
const num = (v: unknown): number | undefined => {
  const n = typeof v === 'string' ? Number(v) : typeof v === 'number' ? v : NaN;
  return Number.isFinite(n) && n > 0 ? Math.floor(n) : undefined;
};
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const bool = (v: unknown, dflt: boolean): boolean => (typeof v === 'boolean' ? v : dflt);

export function toAssignment(task: TaskDoc, def: TaskDefinitionDoc, auth: (image: string) => RegistryAuth | undefined = () => undefined): TaskAssignment {
  const networkMode = (str(def.networkMode) ?? 'bridge') as TaskAssignment['networkMode'];
  const overrides = arr(task.overrides?.containerOverrides);
  const containers = arr(def.containerDefinitions).map((cd) => {
    const name = String(cd.name);
    const o = overrides.find((x) => x.name === name) ?? {};
    const taskContainer = task.containers.find((x) => x.name === name) ?? {};
    return containerSpec(cd, o, String(taskContainer.containerArn ?? ''), networkMode, auth);
  });
  const awsvpc = (task.networkConfiguration as { awsvpcConfiguration?: { subnets?: string[] } } | undefined)?.awsvpcConfiguration;
  return {
    taskArn: task.taskArn,
    clusterArn: task.clusterArn,
    taskDefinitionArn: task.taskDefinitionArn,
    family: task.family,
    desiredStatus: task.desiredStatus,
    lastStatus: TASK_STATUSES.includes(task.lastStatus as TaskStatus) ? (task.lastStatus as TaskStatus) : undefined,
    launchType: task.launchType,
    networkMode,
    cpu: num(task.overrides?.cpu) ?? num(task.cpu) ?? num(def.cpu),
    memory: num(task.overrides?.memory) ?? num(task.memory) ?? num(def.memory),
    subnetId: awsvpc?.subnets?.[0],
    // RunTask's overrides win over the definition's roles (ECS behaviour).
    taskRoleArn: str(task.overrides?.taskRoleArn) ?? str(def.taskRoleArn),
    executionRoleArn: str(task.overrides?.executionRoleArn) ?? str(def.executionRoleArn),
    pidMode: def.pidMode === 'host' || def.pidMode === 'task' ? def.pidMode : undefined,
    ipcMode: def.ipcMode === 'host' || def.ipcMode === 'task' || def.ipcMode === 'none' ? def.ipcMode : undefined,
    volumes: arr(def.volumes).map(volumeSpec),
    containers,
  };
}

function containerSpec(cd: Json, o: Json, containerArn: string, networkMode: string, auth: (image: string) => RegistryAuth | undefined): ContainerSpec {
  const image = String(cd.image);
  // Override environment merges by name; the override wins (ECS behaviour).
  const env = new Map<string, string | undefined>();
  for (const e of [...arr(cd.environment), ...arr(o.environment)]) env.set(String(e.name), str(e.value));
  const hc = cd.healthCheck as Json | undefined;
  const linux = (cd.linuxParameters ?? {}) as Json;
  const fixedPorts = networkMode === 'host' || networkMode === 'awsvpc';
  return {
    name: String(cd.name),
    containerArn,
    image,
    registryAuth: auth(image),
    ...secretRefs(cd),
    essential: bool(cd.essential, true),
    command: (o.command as string[] | undefined) ?? (cd.command as string[] | undefined),
    entryPoint: cd.entryPoint as string[] | undefined,
    environment: [...env].map(([name, value]) => ({ name, value })),
    workingDirectory: str(cd.workingDirectory),
    user: str(cd.user),
    hostname: str(cd.hostname),
    extraHosts: arr<{ hostname: string; ipAddress: string }>(cd.extraHosts),
    dnsServers: arr<string>(cd.dnsServers),
    dnsSearchDomains: arr<string>(cd.dnsSearchDomains),
    links: arr<string>(cd.links),
    ulimits: arr<{ name: string; softLimit: number; hardLimit: number }>(cd.ulimits),
    dockerLabels: (cd.dockerLabels as Record<string, string> | undefined) ?? {},
    privileged: bool(cd.privileged, false),
    readonlyRootFilesystem: bool(cd.readonlyRootFilesystem, false),
    initProcessEnabled: bool(linux.initProcessEnabled, false),
    linuxParameters: linuxParameters(linux),
    cpu: num(o.cpu) ?? num(cd.cpu) ?? 0,
    memory: num(o.memory) ?? num(cd.memory),
    memoryReservation: num(o.memoryReservation) ?? num(cd.memoryReservation),
    portMappings: arr(cd.portMappings)
      .filter((p) => num(p.containerPort))
      .map((p) => ({
        containerPort: num(p.containerPort)!,
        hostPort: fixedPorts ? num(p.containerPort)! : (num(p.hostPort) ?? 0),
        protocol: p.protocol === 'udp' ? ('udp' as const) : ('tcp' as const),
      })),
    mountPoints: arr(cd.mountPoints).map((m) => ({ sourceVolume: String(m.sourceVolume), containerPath: String(m.containerPath), readOnly: bool(m.readOnly, false) })),
    volumesFrom: arr(cd.volumesFrom).map((v) => ({ sourceContainer: String(v.sourceContainer), readOnly: bool(v.readOnly, false) })),
    healthCheck: hc
      ? {
          command: arr<string>(hc.command),
          intervalSec: num(hc.interval) ?? 30,
          timeoutSec: num(hc.timeout) ?? 5,
          retries: num(hc.retries) ?? 3,
          startPeriodSec: typeof hc.startPeriod === 'number' ? hc.startPeriod : 0,
        }
      : undefined,
    stopTimeoutSec: num(cd.stopTimeout) ?? DEFAULT_STOP_TIMEOUT_SEC,
    startTimeoutSec: num(cd.startTimeout),
    dependsOn: arr<{ containerName: string; condition: 'START' | 'COMPLETE' | 'SUCCESS' | 'HEALTHY' }>(cd.dependsOn),
    logConfiguration: logConfiguration(cd.logConfiguration),
  };
}

/** The container's secret references and private registry credentials parameter (values come from GET task-secrets). */
function secretRefs(cd: Json): Pick<ContainerSpec, 'secrets' | 'repositoryCredentialsParameter'> {
  const secrets = arr(cd.secrets).map((x) => ({ name: String(x.name), valueFrom: String(x.valueFrom) }));
  const parameter = str((cd.repositoryCredentials as Json | undefined)?.credentialsParameter);
  return { ...(secrets.length ? { secrets } : {}), ...(parameter ? { repositoryCredentialsParameter: parameter } : {}) };
}

const PERMISSIONS = ['read', 'write', 'mknod'] as const;

function linuxParameters(linux: Json): LinuxParametersSpec {
  const caps = (linux.capabilities ?? {}) as Json;
  const swappiness = typeof linux.swappiness === 'number' ? linux.swappiness : undefined;
  return {
    capabilities: { add: arr<string>(caps.add), drop: arr<string>(caps.drop) },
    devices: arr(linux.devices).map((d) => ({
      hostPath: String(d.hostPath),
      containerPath: str(d.containerPath),
      permissions: d.permissions === undefined ? undefined : arr<string>(d.permissions).filter((p): p is (typeof PERMISSIONS)[number] => (PERMISSIONS as readonly string[]).includes(p)),
    })),
    sharedMemorySize: num(linux.sharedMemorySize),
    tmpfs: arr(linux.tmpfs).map((t) => ({ containerPath: String(t.containerPath), size: num(t.size) ?? 1, mountOptions: t.mountOptions === undefined ? undefined : arr<string>(t.mountOptions) })),
    // 0 is meaningful for maxSwap (no swap at all).
    maxSwap: typeof linux.maxSwap === 'number' && linux.maxSwap >= 0 ? Math.floor(linux.maxSwap) : undefined,
    swappiness: swappiness !== undefined && swappiness >= 0 && swappiness <= 100 ? Math.floor(swappiness) : undefined,
  };
}

function volumeSpec(v: Json): VolumeSpec {
  const dvc = v.dockerVolumeConfiguration as Json | undefined;
  const host = v.host as Json | undefined;
  return {
    name: String(v.name),
    host: host ? { sourcePath: str(host.sourcePath) } : undefined,
    dockerVolumeConfiguration: dvc
      ? {
          scope: dvc.scope === 'shared' ? 'shared' : 'task',
          autoprovision: bool(dvc.autoprovision, false),
          driver: str(dvc.driver) ?? 'local',
          driverOpts: (dvc.driverOpts as Record<string, string> | undefined) ?? {},
          labels: (dvc.labels as Record<string, string> | undefined) ?? {},
        }
      : undefined,
  };
}

/**
 * Digest of a host's desired state. Credentials are left out (they may be re-minted on every
 * read), and so is lastStatus (the agent's own reports move it; they must not wake its poll).
 */
export function assignmentsDigest(tasks: readonly TaskAssignment[]): string {
  const stable = tasks.map((t) => ({ ...t, lastStatus: undefined, containers: t.containers.map((c) => ({ ...c, registryAuth: c.registryAuth ? true : undefined })) }));
  return createHash('sha256').update(JSON.stringify(stable)).digest('hex').slice(0, 32);
}

function logConfiguration(v: unknown): ContainerSpec['logConfiguration'] {
  const lc = v as { logDriver?: unknown; options?: Record<string, unknown> } | undefined;
  if (!lc || typeof lc.logDriver !== 'string') return undefined;
  const options = Object.fromEntries(Object.entries(lc.options ?? {}).filter((e): e is [string, string] => typeof e[1] === 'string'));
  return { logDriver: lc.logDriver, options };
}
