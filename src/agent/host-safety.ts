/**
 * The host-safety policy of one agent: what a task may take from the host it runs on. The ECS
 * agent's ECS_DISABLE_PRIVILEGED, extended to the other ways a container escapes onto its host:
 * host bind mounts, the Docker socket, host namespaces, added capabilities and devices.
 *
 * Host paths are resolved (symlinks and `..`, through the longest existing prefix) before they
 * are checked, and the resolved path is what Docker is given, so a path that only looks harmless
 * cannot reach a forbidden place. Dockyard's data dir and the agent's state dir (and anything
 * holding them, such as `/`) are never mountable, whatever the settings say.
 *
 * Known limit: a symlink swapped into a checked path between the check and Docker's mount is not
 * seen (Docker resolves again); only directories tasks can write to need an allow-list entry's care.
 */
import { realpathSync, statSync } from 'node:fs';
import { isAbsolute, posix, sep } from 'node:path';
import type { ContainerSpec, TaskAssignment } from '../protocol/index.js';

/** What an operator may loosen. Every default is the safe choice that ordinary task definitions still pass. */
export interface HostSafetySettings {
  /** Privileged containers (default false; ECS_DISABLE_PRIVILEGED). */
  allowPrivileged: boolean;
  /** Mounting the Docker socket (default false). */
  allowDockerSocket: boolean;
  /** Host path prefixes bind mounts may use (default none: only Docker-managed volumes). */
  allowHostPaths: string[];
  /** networkMode `host` (default true: common and not an escape by itself). */
  allowHostNetwork: boolean;
  /** pidMode / ipcMode `host` (default false). */
  allowHostPid: boolean;
  allowHostIpc: boolean;
  /** Capabilities linuxParameters.capabilities.add may add beyond Docker's default set; `ALL` allows any (default none). */
  allowCapabilities: string[];
  /** Host device path prefixes linuxParameters.devices may map (default none). */
  allowDevices: string[];
}

export const DEFAULT_HOST_SAFETY: HostSafetySettings = {
  allowPrivileged: false,
  allowDockerSocket: false,
  allowHostPaths: [],
  allowHostNetwork: true,
  allowHostPid: false,
  allowHostIpc: false,
  allowCapabilities: [],
  allowDevices: [],
};

/** Docker's default capability set (moby oci/caps/defaults.go): adding one of these grants nothing new. */
export const DOCKER_DEFAULT_CAPABILITIES = new Set([
  'CHOWN', 'DAC_OVERRIDE', 'FSETID', 'FOWNER', 'MKNOD', 'NET_RAW', 'SETGID', 'SETUID', 'SETFCAP', 'SETPCAP', 'NET_BIND_SERVICE', 'SYS_CHROOT', 'KILL', 'AUDIT_WRITE',
]);

/** Sockets that hand out root on the host: Docker's default path and containerd's (which can start privileged containers too). */
const RUNTIME_SOCKETS = ['/var/run/docker.sock', '/run/containerd/containerd.sock'];

const normCap = (c: string): string => c.toUpperCase().replace(/^CAP_/, '');

/** Why a task may not run here: the container to blame and a message naming the setting. */
export class HostSafetyError extends Error {
  constructor(readonly container: string, message: string) {
    super(message);
  }
}

/** What the checks need from the filesystem (swapped out by unit tests). */
export interface PathOps {
  /** The canonical path, or undefined when it does not exist. */
  realpath(path: string): string | undefined;
  /** Device and inode, for recognising the Docker socket under another name. */
  identity(path: string): string | undefined;
}

export const hostPathOps: PathOps = {
  realpath: (p) => {
    try {
      return realpathSync.native(p);
    } catch {
      return undefined;
    }
  },
  identity: (p) => {
    try {
      const s = statSync(p);
      return `${s.dev}:${s.ino}`;
    } catch {
      return undefined;
    }
  },
};

/** The host paths a container will use, resolved, for the Docker mapping. */
export interface ResolvedHostAccess {
  /** volume name → resolved host path of its bind mount. */
  volumes: Map<string, string>;
  /** device hostPath as written → resolved host path. */
  devices: Map<string, string>;
}

const within = (path: string, prefix: string): boolean => path === prefix || prefix === '/' || path.startsWith(prefix.endsWith(sep) ? prefix : prefix + sep);

export class HostSafety {
  readonly settings: HostSafetySettings;
  private readonly protectedPaths: string[];
  private readonly socketPaths: string[];
  private readonly socketIdentity: string | undefined;
  private readonly allowedHostPaths: string[];
  private readonly allowedDevices: string[];

  /**
   * `protectedPaths`: Dockyard's data dir and the agent's state dir. `dockerSocket`: the socket
   * the agent drives (covered with /var/run/docker.sock and containerd's socket).
   */
  constructor(
    settings: Partial<HostSafetySettings>,
    o: { protectedPaths: string[]; dockerSocket?: string },
    private readonly fs: PathOps = hostPathOps,
  ) {
    this.settings = { ...DEFAULT_HOST_SAFETY, ...stripUndefined(settings) };
    this.protectedPaths = unique(o.protectedPaths.map((p) => this.resolve(p)));
    const socket = o.dockerSocket ?? '/var/run/docker.sock';
    this.socketPaths = unique([socket, ...RUNTIME_SOCKETS].flatMap((p) => [posix.normalize(p), this.resolve(p)]));
    this.socketIdentity = fs.identity(socket);
    this.allowedHostPaths = this.settings.allowHostPaths.map((p) => this.resolve(p));
    this.allowedDevices = this.settings.allowDevices.map((p) => this.resolve(p));
  }

  /** Advertised to the scheduler as ECS does: the privileged-container capability attribute. */
  get privilegedAllowed(): boolean {
    return this.settings.allowPrivileged;
  }

  /**
   * Symlinks and `..` resolved the way the kernel walks a path: one component at a time, each
   * existing prefix replaced by its canonical form (so `..` after a symlink leaves the link's
   * target, not the link); components past the first missing one are taken as written.
   */
  resolve(path: string): string {
    let current = '/';
    // Relative paths come only from settings (a relative --data-dir); task paths are refused unless absolute.
    const abs = path.startsWith('/') ? path : `${process.cwd()}/${path}`;
    for (const part of abs.split('/').slice(0, 4096)) {
      if (part === '' || part === '.') continue;
      if (part === '..') {
        current = posix.dirname(current);
        continue;
      }
      const next = posix.join(current, part);
      current = this.fs.realpath(next) ?? next;
    }
    return current;
  }

  /** Every check for the whole task, before anything of it is created. Throws HostSafetyError. */
  checkTask(task: TaskAssignment): void {
    this.checkTaskModes(task);
    for (const spec of task.containers) this.checkContainer(task, spec);
    // Docker volumes the task provisions with the local driver's device options mount host things too.
    for (const v of task.volumes) {
      const dvc = v.dockerVolumeConfiguration;
      if (!dvc) continue;
      const user = task.containers.find((c) => c.mountPoints.some((m) => m.sourceVolume === v.name))?.name ?? task.containers[0]?.name ?? '';
      this.checkVolumeOptions(user, v.name, dvc.driver, dvc.driverOpts);
    }
  }

  /** The task's network, PID and IPC modes. Throws HostSafetyError (blaming the first container). */
  checkTaskModes(task: TaskAssignment): void {
    const first = task.containers[0]?.name ?? '';
    if (task.networkMode === 'host' && !this.settings.allowHostNetwork) {
      throw new HostSafetyError(first, 'host network mode is disabled on this container instance (unset --deny-host-network)');
    }
    if (task.pidMode === 'host' && !this.settings.allowHostPid) {
      throw new HostSafetyError(first, 'host PID mode is disabled on this container instance (set --allow-host-pid)');
    }
    if (task.ipcMode === 'host' && !this.settings.allowHostIpc) {
      throw new HostSafetyError(first, 'host IPC mode is disabled on this container instance (set --allow-host-ipc)');
    }
  }

  /** The checks for one container; resolves its host paths for the Docker mapping. Throws HostSafetyError. */
  checkContainer(task: TaskAssignment, spec: ContainerSpec): ResolvedHostAccess {
    const refuse = (message: string): never => {
      throw new HostSafetyError(spec.name, message);
    };
    if (spec.privileged && !this.settings.allowPrivileged) refuse('privileged containers are disabled on this container instance (set --allow-privileged)');
    const allowedCaps = new Set(this.settings.allowCapabilities.map(normCap));
    for (const raw of spec.linuxParameters?.capabilities.add ?? []) {
      const cap = normCap(raw);
      if (DOCKER_DEFAULT_CAPABILITIES.has(cap) || allowedCaps.has('ALL') || allowedCaps.has(cap)) continue;
      refuse(`adding the ${cap} capability is disabled on this container instance (set --allow-capability ${cap})`);
    }
    const access: ResolvedHostAccess = { volumes: new Map(), devices: new Map() };
    for (const m of spec.mountPoints) {
      const source = task.volumes.find((v) => v.name === m.sourceVolume)?.host?.sourcePath;
      if (!source) continue;
      access.volumes.set(m.sourceVolume, this.checkHostPath(spec.name, source, `volume ${m.sourceVolume}`));
    }
    for (const d of spec.linuxParameters?.devices ?? []) {
      if (!isAbsolute(d.hostPath)) refuse(`device ${d.hostPath} is not an absolute path`);
      access.devices.set(d.hostPath, this.checkDevice(spec.name, d.hostPath, 'linuxParameters.devices'));
    }
    return access;
  }

  /**
   * The local driver mounts its `device` option as root on the host: a bind (`o=bind`,
   * `type=none`) is checked like a host path, any other absolute device (a disk) like a device.
   * Network and tmpfs devices are not paths; other drivers are the operator's plugins: trusted.
   */
  checkVolumeOptions(container: string, volume: string, driver: string | undefined, opts: Record<string, string> | undefined): void {
    const device = opts?.device;
    if ((driver ?? 'local') !== 'local' || !device?.startsWith('/')) return;
    const o = (opts!.o ?? '').split(',');
    if (o.includes('bind') || o.includes('rbind') || opts!.type === 'none' || opts!.type === 'bind') {
      this.checkHostPath(container, device, `volume ${volume}`);
      return;
    }
    this.checkDevice(container, device, `volume ${volume}`);
  }

  private checkDevice(container: string, device: string, what: string): string {
    const real = this.resolve(device);
    this.checkForbidden(container, device, real, what);
    if (!this.allowedDevices.some((p) => within(real, p))) {
      throw new HostSafetyError(container, `device ${describe(device, real)} of ${what} is not allowed on this container instance (set --allow-device ${real})`);
    }
    return real;
  }

  /** Returns the resolved path a bind mount of `source` may use, or throws. */
  private checkHostPath(container: string, source: string, what: string): string {
    if (!isAbsolute(source)) throw new HostSafetyError(container, `host path ${source} of ${what} is not an absolute path`);
    const real = this.resolve(source);
    this.checkForbidden(container, source, real, what);
    const socket = this.isDockerSocket(real);
    if (socket && this.settings.allowDockerSocket) return real;
    if (!this.allowedHostPaths.some((p) => within(real, p))) {
      throw new HostSafetyError(container, `host path ${describe(source, real)} of ${what} is outside the host paths allowed on this container instance (set --allow-host-path ${real})`);
    }
    return real;
  }

  /** Refusals no setting lifts (the protected dirs), and runtime sockets unless allowed. */
  private checkForbidden(container: string, source: string, real: string, what: string): void {
    for (const p of this.protectedPaths) {
      // The dir itself, anything inside it, and anything holding it (`/`).
      if (within(real, p) || within(p, real)) {
        throw new HostSafetyError(container, `host path ${describe(source, real)} of ${what} is or holds Dockyard's data or agent state and can never be mounted`);
      }
    }
    // The socket under any name, or a directory holding it (/var/run, /run).
    const socket = this.isDockerSocket(real) || this.socketPaths.some((s) => within(s, real));
    if (socket && !this.settings.allowDockerSocket) {
      throw new HostSafetyError(container, `mounting the Docker socket (host path ${describe(source, real)} of ${what}) is disabled on this container instance (set --allow-docker-socket)`);
    }
  }

  private isDockerSocket(real: string): boolean {
    if (this.socketPaths.includes(real)) return true;
    return this.socketIdentity !== undefined && this.fs.identity(real) === this.socketIdentity;
  }
}

const describe = (source: string, real: string): string => (source === real ? source : `${source} (resolves to ${real})`);
const unique = <T>(xs: T[]): T[] => [...new Set(xs)];
function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

const TRUE = /^(1|true|yes|on)$/i;
const FALSE = /^(0|false|no|off)$/i;
const flag = (v: string | undefined): boolean | undefined => (v === undefined || v === '' ? undefined : TRUE.test(v) ? true : FALSE.test(v) ? false : undefined);
/** A JSON array (as ECS_RESERVED_PORTS is written) or a comma-separated list. */
const list = (v: string | undefined): string[] | undefined => {
  if (v === undefined || v.trim() === '') return undefined;
  if (v.trim().startsWith('[')) {
    try {
      const parsed = JSON.parse(v) as unknown;
      if (Array.isArray(parsed)) return parsed.map(String);
    } catch {
      // fall through to the comma form
    }
  }
  return v.split(',').map((s) => s.trim()).filter(Boolean);
};

/**
 * The settings from the environment, as the ECS agent reads its ecs.config:
 * DOCKYARD_AGENT_ALLOW_PRIVILEGED (or ECS_DISABLE_PRIVILEGED=false), DOCKYARD_AGENT_ALLOW_DOCKER_SOCKET,
 * DOCKYARD_AGENT_ALLOW_HOST_PATHS, DOCKYARD_AGENT_DENY_HOST_NETWORK, DOCKYARD_AGENT_ALLOW_HOST_PID,
 * DOCKYARD_AGENT_ALLOW_HOST_IPC, DOCKYARD_AGENT_ALLOW_CAPABILITIES, DOCKYARD_AGENT_ALLOW_DEVICES.
 */
export function hostSafetyFromEnv(env: NodeJS.ProcessEnv = process.env): Partial<HostSafetySettings> {
  const ecsDisable = flag(env.ECS_DISABLE_PRIVILEGED);
  const denyNet = flag(env.DOCKYARD_AGENT_DENY_HOST_NETWORK);
  return stripUndefined({
    allowPrivileged: flag(env.DOCKYARD_AGENT_ALLOW_PRIVILEGED) ?? (ecsDisable === undefined ? undefined : !ecsDisable),
    allowDockerSocket: flag(env.DOCKYARD_AGENT_ALLOW_DOCKER_SOCKET),
    allowHostPaths: list(env.DOCKYARD_AGENT_ALLOW_HOST_PATHS),
    allowHostNetwork: denyNet === undefined ? undefined : !denyNet,
    allowHostPid: flag(env.DOCKYARD_AGENT_ALLOW_HOST_PID),
    allowHostIpc: flag(env.DOCKYARD_AGENT_ALLOW_HOST_IPC),
    allowCapabilities: list(env.DOCKYARD_AGENT_ALLOW_CAPABILITIES),
    allowDevices: list(env.DOCKYARD_AGENT_ALLOW_DEVICES),
  });
}

/** Flags win over the environment, which wins over the defaults (lists from flags replace the environment's). */
export function mergeHostSafety(...layers: Partial<HostSafetySettings>[]): Partial<HostSafetySettings> {
  return Object.assign({}, ...layers.map(stripUndefined)) as Partial<HostSafetySettings>;
}
