/** What this host offers, in ECS's terms: resources and the attributes the ECS agent registers. */
import { hostname } from 'node:os';
import type { RegisterRequest } from '../protocol/index.js';
import type { RuntimeInfo } from './runtime/runtime.js';

/** Ports the ECS agent reserves by default (ssh, docker, the agent's own). */
export const DEFAULT_RESERVED_PORTS = ['22', '2375', '2376', '51678', '51679'];

export interface HostOptions {
  /** Marks this instance as Dockyard-managed capacity for the FARGATE launch type. */
  fargateCapacity: boolean;
  /** The EC2_AUTOSCALING capacity provider this instance provides capacity for (attribute `dockyard.capacity-provider`). */
  capacityProvider?: string;
  reservedPorts?: string[];
  reservedPortsUdp?: string[];
  /** MiB kept back for the host itself (ECS_RESERVED_MEMORY). */
  reservedMemoryMiB?: number;
  availabilityZone?: string;
  instanceType?: string;
  extraAttributes?: { name: string; value?: string }[];
  /** The agent serves task credentials: it offers task IAM roles (also to host-network tasks) and execution-role pulls. */
  taskRoles?: boolean;
  /** The host-safety policy allows privileged containers: advertised as ECS_DISABLE_PRIVILEGED=false does. */
  privilegedContainers?: boolean;
}

export function hostResources(info: RuntimeInfo, o: HostOptions): RegisterRequest['resources'] {
  return {
    cpu: info.cpus * 1024,
    memory: Math.max(0, info.memoryMiB - (o.reservedMemoryMiB ?? 0)),
    ports: o.reservedPorts ?? DEFAULT_RESERVED_PORTS,
    portsUdp: o.reservedPortsUdp ?? [],
  };
}

export function hostAttributes(info: RuntimeInfo, o: HostOptions): RegisterRequest['attributes'] {
  const arch = info.architecture === 'aarch64' ? 'arm64' : info.architecture;
  const [major, minor] = info.apiVersion.split('.').map(Number) as [number, number];
  const attrs: { name: string; value?: string }[] = [
    { name: 'ecs.os-type', value: info.os === 'windows' ? 'windows' : 'linux' },
    { name: 'ecs.os-family', value: 'LINUX' },
    { name: 'ecs.cpu-architecture', value: arch },
    { name: 'ecs.instance-type', value: o.instanceType ?? 'dockyard.local' },
    { name: 'ecs.availability-zone', value: o.availabilityZone ?? 'local-1a' },
    { name: 'com.amazonaws.ecs.capability.logging-driver.json-file' },
    { name: 'com.amazonaws.ecs.capability.logging-driver.none' },
    // awslogs: the agent ships the output itself (src/agent/logs/).
    { name: 'com.amazonaws.ecs.capability.logging-driver.awslogs' },
    { name: 'ecs.capability.execution-role-awslogs' },
    { name: 'ecs.capability.container-health-check' },
    { name: 'ecs.capability.container-ordering' },
    { name: 'ecs.capability.task-eni' },
    { name: 'ecs.capability.task-cpu-mem-limit' },
    { name: 'ecs.capability.docker-plugin.local' },
    { name: 'ecs.capability.pid-ipc-namespace-sharing' },
    { name: 'com.amazonaws.ecs.capability.docker-remote-api.1.17' },
    // Container secrets and private registry credentials (GET task-secrets, protocol 1.2).
    { name: 'ecs.capability.secrets.ssm.environment-variables' },
    { name: 'ecs.capability.secrets.asm.environment-variables' },
    { name: 'com.amazonaws.ecs.capability.private-registry-authentication.secretsmanager' },
  ];
  // Every Docker remote API version from 1.18 up to what the daemon speaks, as the ECS agent does.
  for (let v = 18; major === 1 && v <= minor; v++) attrs.push({ name: `com.amazonaws.ecs.capability.docker-remote-api.1.${v}` });
  if (o.taskRoles) {
    attrs.push(
      { name: 'com.amazonaws.ecs.capability.task-iam-role' },
      { name: 'com.amazonaws.ecs.capability.task-iam-role-network-host' },
      { name: 'ecs.capability.execution-role-ecr-pull' },
    );
  }
  if (o.privilegedContainers) attrs.push({ name: 'com.amazonaws.ecs.capability.privileged-container' });
  if (o.fargateCapacity) attrs.push({ name: 'dockyard.capacity.fargate', value: 'true' });
  if (o.capacityProvider) attrs.push({ name: 'dockyard.capacity-provider', value: o.capacityProvider });
  return [...attrs, ...(o.extraAttributes ?? [])];
}

export const localHostname = (): string => hostname();
