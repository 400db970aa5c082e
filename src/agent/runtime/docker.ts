/**
 * The Docker Engine runtime (API 1.41 over the unix socket, through dockerode). Maps an ECS
 * container definition onto Docker's create options the way the ECS container agent does.
 * Every call goes through `withTimeout` with its limit from timeouts.ts, and passes on the
 * AbortSignal it gets, so a call that passes its limit is cancelled rather than left running.
 */
import Docker from 'dockerode';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import type { ContainerSpec, NetworkBinding, RegistryAuth, TaskAssignment } from '../../protocol/index.js';
import { HostSafety, type ResolvedHostAccess } from '../host-safety.js';
import type { Health, TaskSetupInfo } from '../task-state.js';
import { buildTar } from './tar.js';
import { DOCKER_TIMEOUTS_MS, withTimeout, type DockerTimeouts } from './timeouts.js';
import { LABELS, PullError, type ContainerContext, type Runtime, type RuntimeContainer, type RuntimeEvent, type RuntimeInfo } from './runtime.js';

export interface DockerRuntimeOptions {
  socketPath?: string;
  /** The agent instance id: labels every container and scopes adoption. */
  instanceId: string;
  /** Host address published ports bind to (127.0.0.1 by default: nothing is exposed beyond the host). */
  bindIp?: string;
  /** ECS_IMAGE_PULL_BEHAVIOR: `prefer-cached` uses a local image when present (the default here: nothing can reach Docker Hub); `always` pulls. */
  pullBehavior?: 'always' | 'prefer-cached';
  /** A static busybox binary for the pause image (built locally on first use). */
  busyboxPath?: string;
  /** Shorter limits than timeouts.ts (tests). */
  timeouts?: Partial<DockerTimeouts>;
  /** What tasks may take from this host; the safe defaults (nothing protected beyond the Docker socket) when absent. */
  hostSafety?: HostSafety;
}

export const PAUSE_IMAGE = 'dockyard/pause:1';
/** How long a locally present image is trusted without re-inspecting it (prefer-cached). */
const LOCAL_IMAGE_TTL_MS = 60_000;
export const OOM_REASON = 'OutOfMemoryError: Container killed due to memory usage';

const MiB = 1024 * 1024;
const NS = 1_000_000_000;
const epoch = (iso: string | undefined): number | undefined => {
  if (!iso || iso.startsWith('0001-')) return undefined;
  const t = Date.parse(iso);
  return Number.isFinite(t) ? t / 1000 : undefined;
};
const shortId = (taskArn: string) => taskArn.split('/').pop()!;

export class DockerRuntime implements Runtime {
  readonly docker: Docker;
  private readonly bindIp: string;
  private readonly pullBehavior: 'always' | 'prefer-cached';
  private pauseImageReady: Promise<void> | undefined;
  /** prefer-cached: images seen locally, with when (ms). Saves an inspect per container start. */
  private readonly localImages = new Map<string, { digest: string; at: number }>();
  private networkReady: Promise<string> | undefined;
  private readonly T: DockerTimeouts;
  readonly safety: HostSafety;

  constructor(private readonly opts: DockerRuntimeOptions) {
    const socketPath = opts.socketPath ?? '/var/run/docker.sock';
    this.docker = new Docker({ socketPath });
    this.T = { ...DOCKER_TIMEOUTS_MS, ...opts.timeouts };
    this.bindIp = opts.bindIp ?? '127.0.0.1';
    this.pullBehavior = opts.pullBehavior ?? 'prefer-cached';
    this.safety = opts.hostSafety ?? new HostSafety({}, { protectedPaths: [], dockerSocket: socketPath });
  }

  /** The host-safety policy over the whole task, before anything of it exists. Throws HostSafetyError. */
  admit(task: TaskAssignment): void {
    this.safety.checkTask(task);
  }

  /** The per-agent Docker network awsvpc tasks join (named after the instance so agents on one daemon never share it). */
  get awsvpcNetworkName(): string {
    return `dockyard-awsvpc-${this.opts.instanceId.slice(0, 12)}`;
  }

  async info(): Promise<RuntimeInfo> {
    // @types/dockerode lacks the options argument of info() and version(); dockerode takes it.
    type WithOptions<R> = (this: Docker, opts: { abortSignal: AbortSignal }) => Promise<R>;
    const getInfo = this.docker.info as unknown as WithOptions<Awaited<ReturnType<Docker['info']>>>;
    const getVersion = this.docker.version as unknown as WithOptions<Docker.DockerVersion>;
    const [info, version] = await withTimeout(this.T.info, 'info', (abortSignal) =>
      Promise.all([getInfo.call(this.docker, { abortSignal }), getVersion.call(this.docker, { abortSignal })]),
    );
    return {
      cpus: info.NCPU,
      memoryMiB: Math.floor(info.MemTotal / MiB),
      serverVersion: version.Version,
      apiVersion: version.ApiVersion,
      architecture: info.Architecture,
      os: info.OSType,
    };
  }

  async pull(image: string, auth: RegistryAuth | undefined): Promise<{ imageDigest?: string }> {
    if (this.pullBehavior === 'prefer-cached') {
      const seen = this.localImages.get(image);
      if (seen && Date.now() - seen.at < LOCAL_IMAGE_TTL_MS) return { imageDigest: seen.digest };
      const local = await this.imageDigest(image);
      if (local) {
        if (this.localImages.size > 1000) this.localImages.clear();
        this.localImages.set(image, { digest: local, at: Date.now() });
        return { imageDigest: local };
      }
    }
    try {
      const authconfig = auth ? { username: auth.username, password: auth.password, serveraddress: auth.serverAddress ?? image.split('/')[0] } : undefined;
      // One limit for the whole pull; aborting it closes the stream, which stops the daemon's pull.
      await withTimeout(this.T.pull, 'pull', async (abortSignal) => {
        const stream = (await this.docker.pull(image, { authconfig, abortSignal })) as NodeJS.ReadableStream;
        await this.followProgress(stream, abortSignal);
      });
    } catch (e) {
      // Never echo credentials: Docker's messages name the image and registry only.
      throw new PullError(`pull image manifest has been retried 1 time(s): failed to resolve ref ${image}: ${cleanDockerMessage(e)}`);
    }
    return { imageDigest: await this.imageDigest(image) };
  }

  private async imageDigest(image: string): Promise<string | undefined> {
    try {
      const info = await this.inspectImage(image);
      // The manifest digest when the image came from a registry; the image id for local builds.
      const repoDigest = info.RepoDigests?.[0]?.split('@')[1];
      return repoDigest ?? info.Id;
    } catch {
      return undefined;
    }
  }

  async setupTask(task: TaskAssignment): Promise<TaskSetupInfo> {
    this.safety.checkTask(task);
    for (const v of task.volumes) {
      const dvc = v.dockerVolumeConfiguration;
      if (v.host?.sourcePath) continue;
      if (dvc?.scope === 'shared') {
        const existing = await withTimeout(this.T.volume, 'volume inspect', (abortSignal) =>
          this.docker.getVolume(v.name).inspect({ abortSignal }).then((i) => i, () => undefined),
        );
        if (existing) {
          // An existing shared volume may be a bind mount in disguise, whatever this task declares.
          const user = task.containers.find((c) => c.mountPoints.some((m) => m.sourceVolume === v.name))?.name ?? task.containers[0]?.name ?? '';
          this.safety.checkVolumeOptions(user, v.name, existing.Driver, existing.Options ?? undefined);
        } else {
          if (!dvc.autoprovision) throw new Error(`shared volume ${v.name} does not exist and autoprovision is false`);
          await withTimeout(this.T.volume, 'volume create', (abortSignal) =>
            this.docker.createVolume({ Name: v.name, Driver: dvc.driver, DriverOpts: dvc.driverOpts, Labels: dvc.labels, abortSignal }),
          );
        }
        continue;
      }
      // Task scope (and plain empty volumes): one Docker volume per task, removed with the task.
      await withTimeout(this.T.volume, 'volume create', (abortSignal) =>
        this.docker.createVolume({
          Name: taskVolumeName(task.taskArn, v.name),
          Driver: dvc?.driver ?? 'local',
          DriverOpts: dvc?.driverOpts ?? {},
          Labels: { ...(dvc?.labels ?? {}), [LABELS.instance]: this.opts.instanceId, [LABELS.taskArn]: task.taskArn },
          abortSignal,
        }),
      );
    }
    // One pause container holds what the task's containers share: the awsvpc network namespace,
    // and the PID / IPC namespaces of pidMode / ipcMode `task` (as the ECS agent's namespace pause container).
    const awsvpc = task.networkMode === 'awsvpc';
    if (!awsvpc && task.pidMode !== 'task' && task.ipcMode !== 'task') return {};
    await this.ensurePauseImage();
    const network = awsvpc ? await this.ensureNetwork() : 'none';
    const ports = awsvpc ? task.containers.flatMap((c) => c.portMappings) : [];
    const shm = Math.max(0, ...task.containers.map((c) => c.linuxParameters?.sharedMemorySize ?? 0));
    const pause = await withTimeout(this.T.create, 'create (pause)', (abortSignal) =>
      this.docker.createContainer({
        name: `dockyard-${shortId(task.taskArn)}-pause`,
        Image: PAUSE_IMAGE,
        Labels: this.labels(task, '', 'pause'),
        ExposedPorts: Object.fromEntries(ports.map((p) => [`${p.containerPort}/${p.protocol}`, {}])),
        HostConfig: {
          NetworkMode: network,
          PortBindings: Object.fromEntries(ports.map((p) => [`${p.containerPort}/${p.protocol}`, [{ HostIp: this.bindIp, HostPort: String(p.hostPort ?? p.containerPort) }]])),
          IpcMode: task.ipcMode === 'task' ? 'shareable' : undefined,
          // A shared /dev/shm is the pause container's: sized for the largest request.
          ShmSize: task.ipcMode === 'task' && shm ? shm * MiB : undefined,
        },
        abortSignal,
      }),
    );
    await withTimeout(this.T.start, 'start (pause)', (abortSignal) => pause.start({ abortSignal }));
    if (!awsvpc) return { pauseId: pause.id };
    const state = await this.inspect(pause.id);
    return { pauseId: pause.id, privateIp: state?.ipAddress, macAddress: state?.macAddress, networkBindings: state?.networkBindings ?? [] };
  }

  async create(spec: ContainerSpec, ctx: ContainerContext): Promise<string> {
    // Checked again here, not only at admission (a re-adopted task skips it): Docker gets the host paths as resolved now.
    this.safety.checkTaskModes(ctx.task);
    const hostAccess = this.safety.checkContainer(ctx.task, spec);
    const options = containerCreateOptions(spec, ctx, { bindIp: this.bindIp, instanceId: this.opts.instanceId, hostAccess });
    try {
      const container = await withTimeout(this.T.create, 'create', (abortSignal) => this.docker.createContainer({ ...options, abortSignal }));
      return container.id;
    } catch (e) {
      // The image went away since we last saw it: forget it, so the next attempt pulls.
      if ((e as { statusCode?: number }).statusCode === 404) this.localImages.delete(spec.image);
      throw e;
    }
  }

  async start(runtimeId: string): Promise<RuntimeContainer> {
    await withTimeout(this.T.start, 'start', (abortSignal) => this.docker.getContainer(runtimeId).start({ abortSignal }));
    const state = await this.inspect(runtimeId);
    if (!state) throw new Error(`container ${runtimeId} disappeared after start`);
    return state;
  }

  async stop(runtimeId: string, timeoutSec: number): Promise<void> {
    try {
      await withTimeout(timeoutSec * 1000 + this.T.stopMargin, 'stop', (abortSignal) => this.docker.getContainer(runtimeId).stop({ t: timeoutSec, abortSignal }));
    } catch (e) {
      const status = (e as { statusCode?: number }).statusCode;
      if (status === 304 || status === 404) return; // already stopped / gone
      throw e;
    }
  }

  async inspect(runtimeId: string): Promise<RuntimeContainer | undefined> {
    let info: Docker.ContainerInspectInfo;
    try {
      info = await withTimeout(this.T.inspect, 'inspect', (abortSignal) => this.docker.getContainer(runtimeId).inspect({ abortSignal }));
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode === 404) return undefined;
      throw e;
    }
    const labels = info.Config.Labels ?? {};
    const s = info.State;
    const health = (s as { Health?: { Status?: string } }).Health?.Status;
    const nets = Object.values(info.NetworkSettings.Networks ?? {});
    return {
      runtimeId: info.Id,
      taskArn: labels[LABELS.taskArn] ?? '',
      name: labels[LABELS.containerName] ?? '',
      role: labels[LABELS.role] === 'pause' ? 'pause' : 'container',
      state: s.Running || s.Restarting || s.Paused ? 'running' : s.Status === 'created' ? 'created' : 'exited',
      exitCode: s.Running || s.Status === 'created' ? undefined : s.ExitCode,
      oomKilled: s.OOMKilled,
      health: toHealth(health),
      createdAt: epoch(info.Created),
      startedAt: epoch(s.StartedAt),
      finishedAt: s.Running ? undefined : epoch(s.FinishedAt),
      networkBindings: bindingsOf(info.NetworkSettings.Ports as PortMap | undefined),
      ipAddress: nets[0]?.IPAddress || undefined,
      macAddress: nets[0]?.MacAddress || undefined,
    };
  }

  async stats(runtimeId: string, opts: { oneShot?: boolean } = {}): Promise<Record<string, unknown>> {
    // one-shot (API 1.41): no wait for a second reading; an older daemon ignores it and answers after ~1 s.
    const query = opts.oneShot ? { stream: false as const, 'one-shot': true } : { stream: false as const };
    return (await withTimeout(this.T.stats, 'stats', (abortSignal) => this.docker.getContainer(runtimeId).stats({ ...query, abortSignal } as unknown as { stream: false }))) as unknown as Record<string, unknown>;
  }

  /** The container's output as a stream (not timed: following lasts as long as the container; `signal` ends it). */
  logs(runtimeId: string, since: string, signal: AbortSignal, follow: boolean): Promise<NodeJS.ReadableStream> {
    // Through the modem: dockerode's logs() buffers the whole answer unless following.
    return new Promise((resolve, reject) =>
      this.docker.modem.dial(
        {
          path: `/containers/${runtimeId}/logs?`,
          method: 'GET',
          abortSignal: signal,
          isStream: true,
          statusCodes: { 200: true, 404: 'no such container', 500: 'server error' },
          options: { follow, stdout: true, stderr: true, timestamps: true, since },
        } as never,
        (err: unknown, data: unknown) => (err ? reject(err) : resolve(data as NodeJS.ReadableStream)),
      ),
    );
  }

  async teardownTask(_task: TaskAssignment, setup: TaskSetupInfo | undefined): Promise<void> {
    if (!setup?.pauseId) return;
    await this.removeContainer(setup.pauseId);
  }

  async cleanupTask(task: TaskAssignment | undefined, taskArn: string, runtimeIds: readonly string[]): Promise<void> {
    for (const id of runtimeIds) await this.removeContainer(id);
    const volumes = task ? task.volumes.filter((v) => !v.host?.sourcePath && v.dockerVolumeConfiguration?.scope !== 'shared').map((v) => taskVolumeName(taskArn, v.name)) : [];
    for (const name of volumes) {
      await withTimeout(this.T.remove, 'volume remove', (abortSignal) => this.docker.getVolume(name).remove({ abortSignal })).catch((e: { statusCode?: number }) => {
        if (e.statusCode !== 404) throw e;
      });
    }
  }

  private async removeContainer(id: string): Promise<void> {
    await withTimeout(this.T.remove, 'remove', (abortSignal) => this.docker.getContainer(id).remove({ force: true, abortSignal })).catch((e: { statusCode?: number }) => {
      if (e.statusCode !== 404) throw e;
    });
  }

  async list(): Promise<RuntimeContainer[]> {
    const rows = await withTimeout(this.T.list, 'list', (abortSignal) =>
      this.docker.listContainers({ all: true, filters: { label: [`${LABELS.instance}=${this.opts.instanceId}`] }, abortSignal }),
    );
    const out: RuntimeContainer[] = [];
    for (const r of rows) {
      const c = await this.inspect(r.Id);
      if (c) out.push(c);
    }
    return out;
  }

  watch(onEvent: (e: RuntimeEvent) => void): () => void {
    let closed = false;
    let current: NodeJS.ReadableStream | undefined;
    let idle: NodeJS.Timeout | undefined;
    const open = async () => {
      while (!closed) {
        try {
          const stream = (await this.docker.getEvents({
            filters: { type: ['container'], label: [`${LABELS.instance}=${this.opts.instanceId}`], event: ['die', 'start', 'health_status', 'oom'] },
          })) as NodeJS.ReadableStream;
          current = stream;
          await new Promise<void>((resolve) => {
            let buf = '';
            const resetIdle = () => {
              clearTimeout(idle);
              idle = setTimeout(() => (stream as unknown as { destroy(): void }).destroy(), this.T.eventsIdle);
              idle.unref();
            };
            resetIdle();
            stream.on('data', (chunk: Buffer) => {
              resetIdle();
              buf += chunk.toString('utf8');
              let nl: number;
              while ((nl = buf.indexOf('\n')) >= 0) {
                const line = buf.slice(0, nl).trim();
                buf = buf.slice(nl + 1);
                if (!line) continue;
                try {
                  const ev = JSON.parse(line) as { id?: string; Action?: string; status?: string };
                  const action = ev.Action ?? ev.status ?? '';
                  if (!ev.id) continue;
                  if (action === 'die' || action === 'oom') onEvent({ runtimeId: ev.id, kind: 'exited' });
                  else if (action === 'start') onEvent({ runtimeId: ev.id, kind: 'started' });
                  else if (action.startsWith('health_status')) onEvent({ runtimeId: ev.id, kind: 'health' });
                } catch {
                  // A partial or foreign line: ignore.
                }
              }
            });
            stream.on('end', () => resolve());
            stream.on('close', () => resolve());
            stream.on('error', () => resolve());
          });
        } catch {
          // Daemon unreachable: retry below.
        }
        clearTimeout(idle);
        if (!closed) await new Promise((r) => setTimeout(r, 1000).unref());
      }
    };
    void open();
    return () => {
      closed = true;
      clearTimeout(idle);
      (current as unknown as { destroy?: () => void } | undefined)?.destroy?.();
    };
  }

  /** Removes this agent's awsvpc network (tests and `agent --cleanup`); fails while tasks use it. */
  async removeNetwork(): Promise<void> {
    const nets = await withTimeout(this.T.network, 'network list', (abortSignal) => this.docker.listNetworks({ filters: { name: [this.awsvpcNetworkName] }, abortSignal }));
    for (const n of nets) {
      if (n.Name === this.awsvpcNetworkName) await withTimeout(this.T.network, 'network remove', (abortSignal) => this.docker.getNetwork(n.Id).remove({ abortSignal }));
    }
    this.networkReady = undefined;
  }

  /** Waits for a pull/import progress stream to end; an abort destroys the stream (and so the request). */
  private followProgress(stream: NodeJS.ReadableStream, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const abort = () => (stream as unknown as { destroy(e?: Error): void }).destroy(signal.reason as Error);
      signal.addEventListener('abort', abort, { once: true });
      this.docker.modem.followProgress(stream, (err: Error | null) => {
        signal.removeEventListener('abort', abort);
        if (err) reject(err);
        else resolve();
      });
    });
  }

  /**
   * GET /images/{name}/json through the modem: dockerode's Image.inspect drops the abortSignal
   * option, so this call could not be cancelled otherwise.
   */
  private inspectImage(name: string): Promise<Docker.ImageInspectInfo> {
    return withTimeout(this.T.imageInspect, 'image inspect', (abortSignal) =>
      new Promise((resolve, reject) =>
        this.docker.modem.dial(
          { path: `/images/${name}/json`, method: 'GET', options: {}, abortSignal, statusCodes: { 200: true, 404: 'no such image', 500: 'server error' } } as never,
          (err: unknown, data: unknown) => (err ? reject(err) : resolve(data as Docker.ImageInspectInfo)),
        ),
      ),
    );
  }

  private labels(task: TaskAssignment, name: string, role: 'container' | 'pause'): Record<string, string> {
    return taskLabels(task, name, role, this.opts.instanceId);
  }

  private ensureNetwork(): Promise<string> {
    this.networkReady ??= (async () => {
      const name = this.awsvpcNetworkName;
      const nets = await withTimeout(this.T.network, 'network list', (abortSignal) => this.docker.listNetworks({ filters: { name: [name] }, abortSignal }));
      const found = nets.find((n) => n.Name === name);
      if (found) return name;
      try {
        await withTimeout(this.T.network, 'network create', (abortSignal) =>
          this.docker.createNetwork({ Name: name, Driver: 'bridge', CheckDuplicate: true, Labels: { [LABELS.instance]: this.opts.instanceId }, abortSignal }),
        );
      } catch (e) {
        if ((e as { statusCode?: number }).statusCode !== 409) throw e;
      }
      return name;
    })().catch((e) => {
      this.networkReady = undefined;
      throw e;
    });
    return this.networkReady;
  }

  /** Builds the pause image locally (FROM scratch + static busybox, sleeping forever) on first use. */
  private ensurePauseImage(): Promise<void> {
    this.pauseImageReady ??= (async () => {
      const present = await this.inspectImage(PAUSE_IMAGE).then(() => true, () => false);
      if (present) return;
      const busybox = readFileSync(this.opts.busyboxPath ?? '/bin/busybox');
      const tar = buildTar([{ path: 'bin/', dir: true }, { path: 'bin/busybox', content: busybox, mode: 0o755 }]);
      const [repo, tag] = PAUSE_IMAGE.split(':');
      await withTimeout(this.T.imageImport, 'image import', async (abortSignal) => {
        const options = { repo, tag, changes: ['ENTRYPOINT ["/bin/busybox", "sleep", "2147483647"]'], abortSignal };
        const stream = (await (this.docker.importImage(Readable.from([tar]) as never, options as never) as unknown as Promise<NodeJS.ReadableStream>)) as NodeJS.ReadableStream;
        await this.followProgress(stream, abortSignal);
      });
    })().catch((e) => {
      this.pauseImageReady = undefined;
      throw e;
    });
    return this.pauseImageReady;
  }
}

/** Docker's cgroup device permissions from ECS's words; all three when none are given (docker run's default). */
const devicePermissions = (p: readonly string[] | undefined): string =>
  p?.length ? [p.includes('read') ? 'r' : '', p.includes('write') ? 'w' : '', p.includes('mknod') ? 'm' : ''].join('') : 'rwm';

/**
 * PURE: the Engine API create options for one container of a task, mapped the way the ECS agent
 * maps a container definition. `hostAccess` carries the host paths as the host-safety check
 * resolved them (Docker mounts exactly what was checked). Exported for unit tests.
 */
export function containerCreateOptions(
  spec: ContainerSpec,
  ctx: ContainerContext,
  o: { bindIp: string; instanceId: string; hostAccess?: ResolvedHostAccess },
): Docker.ContainerCreateOptions {
  const { task, setup, siblings } = ctx;
  const binds: string[] = [];
  const mounts: Docker.MountSettings[] = [];
  for (const m of spec.mountPoints) {
    const v = task.volumes.find((x) => x.name === m.sourceVolume);
    if (!v) throw new Error(`mount point refers to unknown volume ${m.sourceVolume}`);
    const hostPath = v.host?.sourcePath ? (o.hostAccess?.volumes.get(v.name) ?? v.host.sourcePath) : undefined;
    const source = hostPath ?? (v.dockerVolumeConfiguration?.scope === 'shared' ? v.name : taskVolumeName(task.taskArn, v.name));
    if (v.host?.sourcePath) binds.push(`${source}:${m.containerPath}${m.readOnly ? ':ro' : ''}`);
    else mounts.push({ Type: 'volume', Source: source, Target: m.containerPath, ReadOnly: m.readOnly });
  }
  const taskCpuShare = task.cpu ? Math.floor(task.cpu / Math.max(1, task.containers.length)) : 0;
  const awsvpc = task.networkMode === 'awsvpc';
  const networkMode = awsvpc ? `container:${setup?.pauseId}` : task.networkMode === 'bridge' ? 'bridge' : task.networkMode;
  const publish = task.networkMode === 'bridge';
  const linux = spec.linuxParameters;
  const memory = (spec.memory ?? task.memory ?? 0) * MiB || undefined;
  // pidMode / ipcMode `task`: join the pause container's namespaces.
  const shared = (mode: string | undefined) => (mode === 'host' ? 'host' : mode === 'task' && setup?.pauseId ? `container:${setup.pauseId}` : mode === 'none' ? 'none' : undefined);
  const healthCheck = spec.healthCheck
    ? {
        Test: spec.healthCheck.command,
        Interval: spec.healthCheck.intervalSec * NS,
        Timeout: spec.healthCheck.timeoutSec * NS,
        Retries: spec.healthCheck.retries,
        StartPeriod: spec.healthCheck.startPeriodSec * NS,
      }
    : undefined;
  return {
      name: containerName(task.taskArn, spec.name),
      Image: spec.image,
      Cmd: spec.command,
      Entrypoint: spec.entryPoint,
      Env: [...spec.environment.filter((e) => !ctx.agentEnv?.some((a) => a.name === e.name)), ...(ctx.agentEnv ?? [])].map((e) => `${e.name}=${e.value ?? ''}`),
      WorkingDir: spec.workingDirectory,
      User: spec.user,
      // Docker refuses a hostname for containers that join another's network namespace.
      Hostname: awsvpc || task.networkMode === 'host' ? undefined : spec.hostname,
      Labels: { ...spec.dockerLabels, ...taskLabels(task, spec.name, 'container', o.instanceId) },
      ExposedPorts: publish ? Object.fromEntries(spec.portMappings.map((p) => [`${p.containerPort}/${p.protocol}`, {}])) : undefined,
      Healthcheck: healthCheck,
      StopTimeout: spec.stopTimeoutSec,
      HostConfig: {
        NetworkMode: networkMode,
        PortBindings: publish
          ? Object.fromEntries(spec.portMappings.map((p) => [`${p.containerPort}/${p.protocol}`, [{ HostIp: o.bindIp, HostPort: p.hostPort ? String(p.hostPort) : '' }]]))
          : undefined,
        // Hard limit: the container's own, else the task's (an upper bound per container).
        Memory: memory,
        MemoryReservation: spec.memoryReservation ? spec.memoryReservation * MiB : undefined,
        // ECS maps CPU units to CPU shares, at least 2 (the kernel's minimum).
        CpuShares: Math.max(2, spec.cpu || taskCpuShare),
        // Task-level CPU is enforced as a quota (Fargate semantics): 1024 units = one core.
        NanoCpus: task.cpu ? Math.floor((task.cpu / 1024) * NS) : undefined,
        Binds: binds.length ? binds : undefined,
        Mounts: mounts.length ? mounts : undefined,
        VolumesFrom: spec.volumesFrom.map((v) => `${siblings.get(v.sourceContainer)}${v.readOnly ? ':ro' : ''}`),
        Links: publish ? spec.links.map((l) => {
          const [target, alias] = l.split(':');
          return `${containerName(task.taskArn, target!)}:${alias ?? target}`;
        }) : undefined,
        Ulimits: spec.ulimits.map((u) => ({ Name: u.name, Soft: u.softLimit, Hard: u.hardLimit })),
        Privileged: spec.privileged,
        ReadonlyRootfs: spec.readonlyRootFilesystem,
        Dns: awsvpc ? undefined : spec.dnsServers,
        DnsSearch: awsvpc ? undefined : spec.dnsSearchDomains,
        ExtraHosts: awsvpc ? undefined : spec.extraHosts.map((h) => `${h.hostname}:${h.ipAddress}`),
        Init: spec.initProcessEnabled || undefined,
        PidMode: shared(task.pidMode),
        IpcMode: shared(task.ipcMode),
        // A private /dev/shm only: a shared one is sized on the pause container.
        ShmSize: linux?.sharedMemorySize && !task.ipcMode ? linux.sharedMemorySize * MiB : undefined,
        CapAdd: linux?.capabilities.add.length ? linux.capabilities.add : undefined,
        CapDrop: linux?.capabilities.drop.length ? linux.capabilities.drop : undefined,
        Devices: linux?.devices.length
          ? linux.devices.map((d) => {
              const host = o.hostAccess?.devices.get(d.hostPath) ?? d.hostPath;
              return { PathOnHost: host, PathInContainer: d.containerPath ?? d.hostPath, CgroupPermissions: devicePermissions(d.permissions) };
            })
          : undefined,
        Tmpfs: linux?.tmpfs.length
          ? Object.fromEntries(linux.tmpfs.map((t) => [t.containerPath, [`size=${t.size}m`, ...(t.mountOptions ?? [])].join(',')]))
          : undefined,
        // ECS: maxSwap is swap on top of the memory limit (0: none); swappiness only counts with it (default 60).
        MemorySwap: linux?.maxSwap !== undefined && memory ? memory + linux.maxSwap * MiB : undefined,
        MemorySwappiness: linux?.maxSwap !== undefined && memory ? (linux.swappiness ?? 60) : undefined,
      },
  };
}


type PortMap = Record<string, { HostIp: string; HostPort: string }[] | null>;

function bindingsOf(ports: PortMap | undefined): NetworkBinding[] {
  const out: NetworkBinding[] = [];
  for (const [key, binds] of Object.entries(ports ?? {})) {
    const [port, proto] = key.split('/');
    for (const b of binds ?? []) {
      // Docker lists an IPv6 twin for each binding on some setups; report each address once.
      if (out.some((o) => o.containerPort === Number(port) && o.hostPort === Number(b.HostPort) && o.protocol === proto)) continue;
      out.push({ bindIP: b.HostIp, containerPort: Number(port), hostPort: Number(b.HostPort), protocol: proto === 'udp' ? 'udp' : 'tcp' });
    }
  }
  return out;
}

function toHealth(status: string | undefined): Health {
  return status === 'healthy' ? 'HEALTHY' : status === 'unhealthy' ? 'UNHEALTHY' : 'UNKNOWN';
}

function cleanDockerMessage(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.replace(/^\(HTTP code \d+\)[^-]*- /, '').replace(/\s+/g, ' ').trim();
}

function taskLabels(task: TaskAssignment, name: string, role: 'container' | 'pause', instanceId: string): Record<string, string> {
  return {
    [LABELS.cluster]: task.clusterArn,
    [LABELS.taskArn]: task.taskArn,
    [LABELS.containerName]: name,
    [LABELS.family]: task.family,
    [LABELS.instance]: instanceId,
    [LABELS.role]: role,
  };
}

export function containerName(taskArn: string, name: string): string {
  return `dockyard-${shortId(taskArn)}-${name}`;
}

export function taskVolumeName(taskArn: string, volume: string): string {
  return `dockyard-${shortId(taskArn)}-${volume}`;
}
