/** The host agent's public surface. */
export { Agent, AGENT_VERSION, AgentSetupError, backoffMs, loadCredential, loadInstanceId, type AgentOptions } from './agent.js';
export { DEFAULT_RESERVED_PORTS, type HostOptions } from './host.js';
export { DEFAULT_HOST_SAFETY, HostSafety, HostSafetyError, hostSafetyFromEnv, mergeHostSafety, type HostSafetySettings } from './host-safety.js';
export { nextActions, actionKey, dependencyVerdict, ESSENTIAL_EXITED, type Action } from './next-action.js';
export { DockerRuntime, OOM_REASON, PAUSE_IMAGE, type DockerRuntimeOptions } from './runtime/docker.js';
export { LABELS, PullError, type Runtime, type RuntimeContainer, type RuntimeEvent, type RuntimeInfo } from './runtime/runtime.js';
export { SimulatedRuntime, type SimulatedRuntimeOptions, type SimulatedUsage, type SimulatedContainerInfo } from './runtime/simulated.js';
export { StatsCollector, DEFAULT_STATS_CONCURRENCY, memoryInUse, readingOf, usageBetween, MAX_PENDING_SAMPLES, type ContainerReading, type Usage } from './stats.js';
export { Supervisor, type AgentLogger } from './supervisor.js';
export { newLocalTask, taskLastStatus, toReport, type LocalTask, type LocalContainer } from './task-state.js';
export { AgentClient, ProtocolHttpError, type AgentClientOptions } from './client.js';
