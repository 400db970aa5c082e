/**
 * What the agent needs from a container runtime. `docker.ts` is the real one; `simulated.ts`
 * pretends (scale tests and benchmarks only).
 */
import type { ContainerSpec, NetworkBinding, RegistryAuth, TaskAssignment } from '../../protocol/index.js';
import type { Health, TaskSetupInfo } from '../task-state.js';

/** Labels every managed container carries; adoption after a restart reads them back. */
export const LABELS = {
  cluster: 'com.amazonaws.ecs.cluster',
  taskArn: 'com.amazonaws.ecs.task-arn',
  containerName: 'com.amazonaws.ecs.container-name',
  family: 'com.amazonaws.ecs.task-definition-family',
  /** The agent instance that owns the container: agents sharing one Docker daemon never adopt each other's. */
  instance: 'dockyard.instance',
  /** 'container' or 'pause'. */
  role: 'dockyard.role',
} as const;

export interface RuntimeContainer {
  runtimeId: string;
  taskArn: string;
  /** Container name in the task definition; '' for a pause container. */
  name: string;
  role: 'container' | 'pause';
  state: 'created' | 'running' | 'exited';
  exitCode?: number;
  oomKilled?: boolean;
  health: Health;
  /** Epoch seconds. */
  createdAt?: number;
  startedAt?: number;
  finishedAt?: number;
  networkBindings: NetworkBinding[];
  ipAddress?: string;
  macAddress?: string;
}

export interface RuntimeInfo {
  cpus: number;
  memoryMiB: number;
  serverVersion: string;
  apiVersion: string;
  architecture: string;
  os: string;
}

export type RuntimeEvent = { runtimeId: string; kind: 'exited' | 'health' | 'started' };

export class PullError extends Error {}

export interface ContainerContext {
  task: TaskAssignment;
  setup: TaskSetupInfo | undefined;
  /** Runtime ids of the task's containers created so far (volumesFrom, links). */
  siblings: ReadonlyMap<string, string>;
  /** Variables the agent adds (metadata and credentials endpoints); they win over the definition's. */
  agentEnv?: readonly { name: string; value: string }[];
}

export interface Runtime {
  info(): Promise<RuntimeInfo>;
  /** The host-safety policy over a whole new task, before anything of it is pulled or created; throws HostSafetyError. */
  admit?(task: TaskAssignment): void;
  /** Makes the image available; resolves with its digest when known. Throws PullError. */
  pull(image: string, auth: RegistryAuth | undefined): Promise<{ imageDigest?: string }>;
  /** Task-wide resources: the shared namespaces (pause container), task-scoped volumes. Throws HostSafetyError. */
  setupTask(task: TaskAssignment): Promise<TaskSetupInfo>;
  /** Throws HostSafetyError when the policy refuses the container (nothing is created then). */
  create(spec: ContainerSpec, ctx: ContainerContext): Promise<string>;
  /** Starts and returns the container's state (bindings, start time). */
  start(runtimeId: string): Promise<RuntimeContainer>;
  /** SIGTERM (or the image's stop signal), SIGKILL after timeoutSec. Resolves once it exited. */
  stop(runtimeId: string, timeoutSec: number): Promise<void>;
  inspect(runtimeId: string): Promise<RuntimeContainer | undefined>;
  /** Stops the task-wide resources that hold ports (the pause container). */
  teardownTask(task: TaskAssignment, setup: TaskSetupInfo | undefined): Promise<void>;
  /** Removes containers (by id) and task-scoped volumes of a finished task. */
  cleanupTask(task: TaskAssignment | undefined, taskArn: string, runtimeIds: readonly string[]): Promise<void>;
  /** Every container this agent instance manages, for re-adoption. */
  list(): Promise<RuntimeContainer[]>;
  /**
   * Docker's stats JSON for one container, one sample (the metadata endpoint's /stats). `oneShot`:
   * answer at once, without Docker's second reading (`precpu_stats` empty): the stats collector
   * keeps its own previous reading. Absent: not supported.
   */
  stats?(runtimeId: string, opts?: { oneShot?: boolean }): Promise<Record<string, unknown>>;
  /** The container's output from `since` (Docker's seconds.nanoseconds), with timestamps; `follow`: until it stops (awslogs). Absent: not supported. */
  logs?(runtimeId: string, since: string, signal: AbortSignal, follow: boolean): Promise<NodeJS.ReadableStream>;
  /** Subscribes to exits and health changes of managed containers; returns an unsubscribe function. */
  watch(onEvent: (e: RuntimeEvent) => void): () => void;
}
