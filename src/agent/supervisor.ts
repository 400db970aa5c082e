/**
 * Runs tasks: keeps the agent's view of each task, asks the pure `nextActions` what to do,
 * executes those actions through the runtime and feeds the results back. JavaScript's single
 * thread is the only lock: an action's result is applied in its completion callback, and each
 * (task, action) runs at most once at a time.
 */
import { taskStatusRank, type ContainerSpec, type NetworkBinding, type TaskAssignment, type TaskSecretsResponse } from '../protocol/index.js';
import { HostSafetyError } from './host-safety.js';
import { actionKey, nextActions, type Action } from './next-action.js';
import { OOM_REASON } from './runtime/docker.js';
import { TaskSecrets } from './task-secrets.js';
import type { Runtime, RuntimeContainer, RuntimeEvent } from './runtime/runtime.js';
import { allStopped, knownRank, newLocalTask, taskLastStatus, toReport, type Known, type LocalContainer, type LocalTask } from './task-state.js';

export interface AgentLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

export interface SupervisorOptions {
  runtime: Runtime;
  instanceId: string;
  /** How long a STOPPED task's containers stay before removal (ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION). */
  cleanupDelayMs: number;
  log: AgentLogger;
  /** Publishes a task's full state (to the outbox). */
  publish: (report: ReturnType<typeof toReport>) => void;
  /** Whether the control plane has acknowledged everything reported for the task. */
  acknowledged: (taskArn: string) => boolean;
  /** Epoch seconds. */
  now?: () => number;
  /** Variables the agent injects into each container (task metadata and credentials endpoints). */
  containerEnv?: (task: TaskAssignment, container: string) => { name: string; value: string }[];
  /** GET task-secrets for a task whose containers have `secrets` or registry credentials (task-secrets.ts). */
  fetchSecrets?: (task: TaskAssignment) => Promise<TaskSecretsResponse>;
  /** Runs before a container starts (awslogs opens its log stream); a throw fails the start with its message. */
  beforeStart?: (task: TaskAssignment, spec: ContainerSpec, runtimeId: string) => Promise<void>;
}

const MAX_TOMBSTONES = 10_000;
export const CONTAINER_MISSING = 'DockerStateError: the container no longer exists (removed while no agent was running)';

export class Supervisor {
  readonly tasks = new Map<string, LocalTask>();
  private readonly inFlight = new Map<string, Set<string>>();
  private readonly byRuntimeId = new Map<string, { taskArn: string; name: string }>();
  private readonly lastPublished = new Map<string, string>();
  /** Containers found at start-up, by task, until the first assignment claims them. */
  private adopted = new Map<string, RuntimeContainer[]>();
  /** Tasks already cleaned up: a stale assignment must not bring them back. */
  private readonly finished = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Resolved task secrets, in memory only, until the task's containers exist. */
  private readonly secrets = new TaskSecrets();
  private readonly now: () => number;
  private closed = false;

  constructor(private readonly o: SupervisorOptions) {
    this.now = o.now ?? (() => Date.now() / 1000);
  }

  /** Reads back the containers this agent instance left running (agent restart). */
  async adopt(): Promise<number> {
    const found = await this.o.runtime.list();
    for (const c of found) {
      if (!c.taskArn) continue;
      const list = this.adopted.get(c.taskArn) ?? [];
      list.push(c);
      this.adopted.set(c.taskArn, list);
    }
    return found.length;
  }

  /** The full desired state from the control plane. */
  applyAssignments(specs: readonly TaskAssignment[]): void {
    const seen = new Set<string>();
    for (const spec of specs) {
      seen.add(spec.taskArn);
      let task = this.tasks.get(spec.taskArn);
      if (!task) {
        if (this.finished.has(spec.taskArn)) continue;
        task = newLocalTask(spec);
        const adopted = this.fillFromAdopted(task);
        this.markMissing(task);
        if (!adopted && spec.desiredStatus === 'RUNNING' && Object.values(task.containers).every((c) => c.known === 'NONE')) this.admit(task);
        this.tasks.set(spec.taskArn, task);
      } else {
        task.spec = spec;
      }
      if (spec.desiredStatus === 'STOPPED') this.desireStop(task);
      this.reconcile(task);
    }
    for (const task of this.tasks.values()) {
      // Gone from the desired state (stopped or deleted there): make sure nothing keeps running.
      if (!seen.has(task.arn) && task.desired === 'RUNNING') {
        this.desireStop(task);
        this.reconcile(task);
      }
    }
    // Adopted containers no assignment claimed: left over from tasks the control plane no longer runs.
    for (const [taskArn, containers] of this.adopted) {
      if (seen.has(taskArn)) continue;
      this.adopted.delete(taskArn);
      void this.o.runtime
        .cleanupTask(undefined, taskArn, containers.map((c) => c.runtimeId))
        .catch((e) => this.o.log.warn({ taskArn, err: String(e) }, 'removing orphaned containers failed'));
    }
  }

  onRuntimeEvent(e: RuntimeEvent): void {
    const ref = this.byRuntimeId.get(e.runtimeId);
    if (!ref) return;
    void this.refresh(ref.taskArn, ref.name, e.runtimeId);
  }

  /** Re-inspects running containers (heals missed events). */
  async resync(): Promise<void> {
    for (const task of [...this.tasks.values()]) {
      for (const c of Object.values(task.containers)) {
        if (c.runtimeId && (c.known === 'RUNNING' || c.known === 'CREATED')) await this.refresh(task.arn, c.name, c.runtimeId);
      }
    }
  }

  /**
   * Forgets every task and removes its containers at once, without the stop timeout or the
   * cleanup delay (the control plane's state reset). Resolves when the containers are gone.
   */
  async removeAll(): Promise<number> {
    const doomed: { spec?: TaskAssignment; arn: string; ids: string[] }[] = [...this.tasks.values()].map((task) => {
      const ids = Object.values(task.containers).flatMap((c) => (c.runtimeId ? [c.runtimeId] : []));
      if (task.setupInfo?.pauseId) ids.push(task.setupInfo.pauseId);
      return { spec: task.spec, arn: task.arn, ids };
    });
    for (const [arn, containers] of this.adopted) doomed.push({ arn, ids: containers.map((c) => c.runtimeId) });
    // Actions still in flight find their task gone; a container they create after this is removed (see execute).
    this.tasks.clear();
    this.inFlight.clear();
    this.byRuntimeId.clear();
    this.lastPublished.clear();
    this.secrets.clear();
    this.adopted.clear();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    const results = await Promise.allSettled(doomed.map((d) => this.o.runtime.cleanupTask(d.spec, d.arn, d.ids)));
    for (const r of results) if (r.status === 'rejected') this.o.log.warn({ err: String(r.reason) }, "removing a task's containers failed");
    return doomed.reduce((n, d) => n + d.ids.length, 0);
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private async refresh(taskArn: string, name: string, runtimeId: string): Promise<void> {
    let state: RuntimeContainer | undefined;
    try {
      state = await this.o.runtime.inspect(runtimeId);
    } catch (e) {
      this.o.log.warn({ taskArn, container: name, err: String(e) }, 'inspect failed');
      return;
    }
    const task = this.tasks.get(taskArn);
    const c = task?.containers[name];
    if (!task || !c) return;
    if (!state) {
      // Removed behind our back: it is not running any more.
      if (c.known === 'RUNNING' || c.known === 'CREATED') this.advance(c, 'STOPPED');
      c.reason ??= 'Container removed outside Dockyard';
    } else {
      this.absorb(task, c, state);
    }
    this.reconcile(task);
  }

  /** Copies a runtime observation into the container's known state (forward only). */
  private absorb(task: LocalTask, c: LocalContainer, s: RuntimeContainer): void {
    c.runtimeId = s.runtimeId;
    this.byRuntimeId.set(s.runtimeId, { taskArn: task.arn, name: c.name });
    if (s.createdAt !== undefined) c.createdAt ??= s.createdAt;
    if (s.startedAt !== undefined) c.startedAt ??= s.startedAt;
    if (s.finishedAt !== undefined) c.finishedAt = s.finishedAt;
    if (s.ipAddress) c.ipAddress = s.ipAddress;
    c.health = s.health;
    if (s.state === 'running') {
      this.advance(c, 'RUNNING');
      c.networkBindings = this.bindingsFor(task, c.name, s.networkBindings);
    } else if (s.state === 'exited') {
      this.advance(c, 'STOPPED');
      if (c.exitCode === undefined) c.exitCode = s.oomKilled ? 137 : s.exitCode;
      if (s.oomKilled) c.reason ??= OOM_REASON;
    } else {
      this.advance(c, 'CREATED');
    }
  }

  private bindingsFor(task: LocalTask, name: string, own: NetworkBinding[]): NetworkBinding[] {
    if (task.spec.networkMode === 'host') {
      // Host networking publishes nothing through Docker: the process binds the host's ports itself.
      const mappings = task.spec.containers.find((s) => s.name === name)?.portMappings ?? [];
      return mappings.map((p) => ({ bindIP: '0.0.0.0', containerPort: p.containerPort, hostPort: p.containerPort, protocol: p.protocol }));
    }
    if (task.spec.networkMode !== 'awsvpc') return own;
    const ports = new Set(task.spec.containers.find((s) => s.name === name)?.portMappings.map((p) => `${p.containerPort}/${p.protocol}`));
    return (task.setupInfo?.networkBindings ?? []).filter((b) => ports.has(`${b.containerPort}/${b.protocol}`));
  }

  private advance(c: LocalContainer, to: Known): void {
    if (knownRank(to) > knownRank(c.known)) c.known = to;
  }

  /**
   * Runs the host-safety policy before anything of a new task is pulled or created: a refused
   * task fails to start, with the reason on the container the policy names.
   */
  private admit(task: LocalTask): void {
    try {
      this.o.runtime.admit?.(task.spec);
    } catch (e) {
      if (!(e instanceof HostSafetyError)) throw e;
      this.refuse(task, e);
    }
  }

  private refuse(task: LocalTask, e: HostSafetyError): void {
    const c = task.containers[e.container] ?? Object.values(task.containers)[0];
    if (!c) return;
    c.failure = { kind: 'start', message: e.message };
    c.reason ??= `CannotStartContainerError: ${e.message}`;
    this.o.log.warn({ taskArn: task.arn, container: c.name, reason: e.message }, 'task refused by the host-safety policy');
  }

  /** Whether any container of the task was found running (or stopped) from a previous agent run. */
  private fillFromAdopted(task: LocalTask): boolean {
    const found = this.adopted.get(task.arn);
    if (!found) return false;
    this.adopted.delete(task.arn);
    for (const s of found) {
      if (s.role === 'pause') {
        task.setupInfo = { pauseId: s.runtimeId, privateIp: s.ipAddress, macAddress: s.macAddress, networkBindings: s.networkBindings };
        task.setup = 'DONE';
      }
    }
    for (const s of found) {
      const c = task.containers[s.name];
      if (s.role !== 'container' || !c) continue;
      this.absorb(task, c, s);
      if (task.spec.networkMode !== 'awsvpc') task.setup = 'DONE';
    }
    const started = Object.values(task.containers).map((c) => c.startedAt).filter((t): t is number => t !== undefined);
    if (started.length) task.startedAt = Math.min(...started);
    this.o.log.info({ taskArn: task.arn, containers: found.length }, 're-adopted running task');
    return true;
  }

  /**
   * A task the control plane saw running, met by an agent that has no container for it (removed
   * while no agent watched): its containers are gone, not to be started a second time.
   */
  private markMissing(task: LocalTask): void {
    if (taskStatusRank(task.spec.lastStatus ?? 'PROVISIONING') < taskStatusRank('RUNNING')) return;
    for (const c of Object.values(task.containers)) {
      if (c.known !== 'NONE') continue;
      c.known = 'STOPPED';
      c.reason ??= CONTAINER_MISSING;
    }
  }

  private desireStop(task: LocalTask, stopCode?: LocalTask['stopCode'], reason?: string): void {
    if (task.desired === 'STOPPED') return;
    task.desired = 'STOPPED';
    task.stoppingAt = this.now();
    task.stopCode = stopCode;
    task.stoppedReason = reason;
  }

  private flights(task: LocalTask): Set<string> {
    let set = this.inFlight.get(task.arn);
    if (!set) this.inFlight.set(task.arn, (set = new Set()));
    return set;
  }

  reconcile(task: LocalTask): void {
    if (this.closed || !this.tasks.has(task.arn)) return;
    const flights = this.flights(task);
    for (let round = 0; round < 20; round++) {
      const actions = nextActions(task, flights, this.now());
      const sync = actions.filter((a) => a.type === 'markStopped' || a.type === 'stopTask');
      for (const a of actions) if (a.type !== 'markStopped' && a.type !== 'stopTask') this.runAsync(task, a, flights);
      if (sync.length === 0) break;
      for (const a of sync) {
        if (a.type === 'markStopped') {
          const c = task.containers[a.container]!;
          this.advance(c, 'STOPPED');
          if (a.reason) c.reason ??= a.reason;
        } else if (a.type === 'stopTask') {
          this.desireStop(task, a.stopCode, a.reason);
        }
      }
    }
    this.bookkeeping(task);
  }

  private bookkeeping(task: LocalTask): void {
    const status = taskLastStatus(task);
    const now = this.now();
    if (status === 'RUNNING' && task.startedAt === undefined) task.startedAt = now;
    const pulling = [...this.flights(task)].some((k) => k.startsWith('pull:'));
    if (task.pullStartedAt !== undefined && task.pullStoppedAt === undefined && !pulling) {
      if (Object.values(task.containers).every((c) => c.known !== 'NONE' || c.failure)) task.pullStoppedAt = now;
    }
    if (allStopped(task) && task.executionStoppedAt === undefined) task.executionStoppedAt = now;
    this.secrets.forgetWhenCreated(task);
    const report = toReport(task, this.o.instanceId);
    const key = JSON.stringify(report);
    if (this.lastPublished.get(task.arn) !== key) {
      this.lastPublished.set(task.arn, key);
      this.o.publish(report);
    }
    if (status === 'STOPPED' && !this.finished.has(task.arn)) this.scheduleCleanup(task);
  }

  private scheduleCleanup(task: LocalTask): void {
    if (task.cleanupScheduled) return;
    task.cleanupScheduled = true;
    const attempt = (delay: number) => {
      const t = setTimeout(async () => {
        this.timers.delete(t);
        if (this.closed) return;
        // Keep the containers until the control plane has the final state.
        if (!this.o.acknowledged(task.arn)) return attempt(1000);
        const ids = Object.values(task.containers).flatMap((c) => (c.runtimeId ? [c.runtimeId] : []));
        if (task.setupInfo?.pauseId) ids.push(task.setupInfo.pauseId);
        try {
          await this.o.runtime.cleanupTask(task.spec, task.arn, ids);
        } catch (e) {
          this.o.log.warn({ taskArn: task.arn, err: String(e) }, 'cleanup failed; retrying');
          return attempt(Math.max(1000, this.o.cleanupDelayMs));
        }
        for (const id of ids) this.byRuntimeId.delete(id);
        this.tasks.delete(task.arn);
        this.inFlight.delete(task.arn);
        this.lastPublished.delete(task.arn);
        this.secrets.forget(task.arn);
        if (this.finished.size >= MAX_TOMBSTONES) this.finished.delete(this.finished.values().next().value!);
        this.finished.add(task.arn);
      }, delay);
      t.unref();
      this.timers.add(t);
    };
    attempt(this.o.cleanupDelayMs);
  }

  private runAsync(task: LocalTask, action: Action, flights: Set<string>): void {
    const key = actionKey(action);
    if (flights.has(key)) return;
    flights.add(key);
    void this.execute(task, action)
      .catch((e) => this.o.log.error({ taskArn: task.arn, action: key, err: String(e) }, 'action failed'))
      .finally(() => {
        flights.delete(key);
        this.reconcile(task);
      });
  }

  private async execute(task: LocalTask, action: Action): Promise<void> {
    const rt = this.o.runtime;
    const spec = 'container' in action ? task.spec.containers.find((s) => s.name === action.container) : undefined;
    const c = 'container' in action ? task.containers[action.container] : undefined;
    switch (action.type) {
      case 'setup':
        try {
          task.setupInfo = await rt.setupTask(task.spec);
          if (this.tasks.get(task.arn) !== task) {
            // Removed meanwhile: take its pause container and volumes with it.
            return void (await rt.cleanupTask(task.spec, task.arn, task.setupInfo.pauseId ? [task.setupInfo.pauseId] : []));
          }
          task.setup = 'DONE';
        } catch (e) {
          // Refused before anything was created: nothing to tear down.
          if (e instanceof HostSafetyError) return this.refuse(task, e);
          this.o.log.error({ taskArn: task.arn, err: String(e) }, 'task setup failed');
          task.setup = 'FAILED';
        }
        return;
      case 'secrets':
        await this.secrets.fetch(task, this.o.fetchSecrets, () => this.tasks.get(task.arn) === task);
        return;
      case 'pull':
        task.pullStartedAt ??= this.now();
        try {
          const { imageDigest } = await rt.pull(spec!.image, this.secrets.registryAuth(task.arn, spec!.name) ?? spec!.registryAuth);
          c!.imageDigest = imageDigest;
          if (c!.known === 'NONE') c!.known = 'PULLED';
        } catch (e) {
          c!.failure = { kind: 'pull', message: e instanceof Error ? e.message : String(e) };
          c!.reason ??= `CannotPullContainerError: ${c!.failure.message}`;
        }
        return;
      case 'create':
        try {
          const siblings = new Map(Object.values(task.containers).flatMap((x) => (x.runtimeId ? [[x.name, x.runtimeId] as const] : [])));
          const id = await rt.create(spec!, { task: task.spec, setup: task.setupInfo, siblings, agentEnv: [...(this.o.containerEnv?.(task.spec, spec!.name) ?? []), ...this.secrets.environment(task.arn, spec!.name)] });
          if (this.tasks.get(task.arn) !== task) return void (await rt.cleanupTask(task.spec, task.arn, [id])); // removed meanwhile
          c!.runtimeId = id;
          this.byRuntimeId.set(id, { taskArn: task.arn, name: c!.name });
          this.advance(c!, 'CREATED');
        } catch (e) {
          if (e instanceof HostSafetyError) return this.refuse(task, e);
          // Docker may quote a malformed variable back: never a secret's value.
          c!.failure = { kind: 'create', message: this.secrets.redact(task.arn, e instanceof Error ? e.message : String(e)) };
          c!.reason ??= `CannotCreateContainerError: ${c!.failure.message}`;
        }
        return;
      case 'start':
        try {
          await this.o.beforeStart?.(task.spec, spec!, c!.runtimeId!);
          const state = await rt.start(c!.runtimeId!);
          this.absorb(task, c!, state);
          c!.startedAt ??= this.now();
        } catch (e) {
          c!.failure = { kind: 'start', message: e instanceof Error ? e.message : String(e) };
          c!.reason ??= `CannotStartContainerError: ${c!.failure.message}`;
          this.advance(c!, 'STOPPED');
        }
        return;
      case 'stop':
        c!.stopIssued = true;
        try {
          await rt.stop(c!.runtimeId!, action.timeoutSec);
        } catch (e) {
          this.o.log.warn({ taskArn: task.arn, container: c!.name, err: String(e) }, 'stop failed');
        }
        {
          const state = await rt.inspect(c!.runtimeId!).catch(() => undefined);
          if (state) this.absorb(task, c!, state);
          else this.advance(c!, 'STOPPED');
          if (c!.known !== 'STOPPED') {
            await new Promise((r) => setTimeout(r, 1000).unref()); // the daemon is struggling: retry, but not in a tight loop
            c!.stopIssued = false;
          }
        }
        return;
      case 'teardown':
        try {
          await rt.teardownTask(task.spec, task.setupInfo);
        } catch (e) {
          this.o.log.warn({ taskArn: task.arn, err: String(e) }, 'teardown failed');
        }
        task.tornDown = true;
        return;
      default:
        return;
    }
  }
}
