/** The host-safety flags of `dockyard up` (its embedded agent) and `dockyard agent`, and how they meet the environment. */
import type { Command } from 'commander';
import { hostSafetyFromEnv, mergeHostSafety, type HostSafetySettings } from '../agent/host-safety.js';

export const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** The host-safety flags, shared by `up` (its embedded agent) and `agent`; README "Host safety" lists the defaults. */
export function withHostSafetyOptions(cmd: Command): Command {
  return cmd
    .option('--allow-privileged', 'let tasks run privileged containers (env DOCKYARD_AGENT_ALLOW_PRIVILEGED, or ECS_DISABLE_PRIVILEGED=false)')
    .option('--allow-docker-socket', 'let tasks mount the Docker socket (env DOCKYARD_AGENT_ALLOW_DOCKER_SOCKET)')
    .option('--allow-host-path <prefix>', 'let tasks bind-mount host paths under PREFIX; repeatable (env DOCKYARD_AGENT_ALLOW_HOST_PATHS, comma-separated)', collect)
    .option('--deny-host-network', 'refuse tasks with networkMode host (env DOCKYARD_AGENT_DENY_HOST_NETWORK)')
    .option('--allow-host-pid', 'let tasks use pidMode host (env DOCKYARD_AGENT_ALLOW_HOST_PID)')
    .option('--allow-host-ipc', 'let tasks use ipcMode host (env DOCKYARD_AGENT_ALLOW_HOST_IPC)')
    .option('--allow-capability <cap>', 'let tasks add this Linux capability beyond Docker\'s defaults, or ALL; repeatable (env DOCKYARD_AGENT_ALLOW_CAPABILITIES)', collect)
    .option('--allow-device <path>', 'let tasks map host devices under PATH; repeatable (env DOCKYARD_AGENT_ALLOW_DEVICES)', collect);
}

export interface HostSafetyFlags {
  allowPrivileged?: boolean;
  allowDockerSocket?: boolean;
  allowHostPath?: string[];
  denyHostNetwork?: boolean;
  allowHostPid?: boolean;
  allowHostIpc?: boolean;
  allowCapability?: string[];
  allowDevice?: string[];
}

/** Flags win over the environment, which wins over the defaults. */
export function hostSafetySettings(f: HostSafetyFlags, env: NodeJS.ProcessEnv = process.env): Partial<HostSafetySettings> {
  return mergeHostSafety(hostSafetyFromEnv(env), {
    allowPrivileged: f.allowPrivileged,
    allowDockerSocket: f.allowDockerSocket,
    allowHostPaths: f.allowHostPath,
    allowHostNetwork: f.denyHostNetwork ? false : undefined,
    allowHostPid: f.allowHostPid,
    allowHostIpc: f.allowHostIpc,
    allowCapabilities: f.allowCapability,
    allowDevices: f.allowDevice,
  });
}

