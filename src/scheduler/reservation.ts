/** What one task reserves on a container instance: CPU units, MiB of memory and host ports. */
import { SchedulerInputError } from './errors.js';
import type { ContainerDefinitionView, HostPortBinding, TaskDefinitionView, TaskOverridesView, TaskReservation } from './types.js';

/**
 * What one task of this definition (with overrides) reserves.
 * - cpu: the task-level value (override first) when set, else the sum of the containers' cpu.
 * - memory: the task-level value when set, else the sum over containers of memoryReservation
 *   when set, else memory. ECS documents it this way: "If you specify memoryReservation, then
 *   that value is subtracted from the available memory resources for the container instance
 *   on which the container is placed. Otherwise, the value of memory is used."
 * - hostPorts: one binding per port mapping; hostPort 0 means dynamic (bridge mode without a
 *   host port). Host mode binds containerPort itself; awsvpc and none use no host ports.
 * The ECS task writer stores the result with the task (reservedCpu/Memory/Ports), and both the scheduler's
 * snapshot and DescribeContainerInstances' remainingResources read that stored reservation.
 */
export function taskReservation(td: TaskDefinitionView, overrides?: TaskOverridesView): TaskReservation {
  const containers = td.containerDefinitions.map((c) => withOverride(c, overrides));
  const taskCpu = overrides?.cpu ?? td.cpu;
  const taskMemory = overrides?.memory ?? td.memory;
  const cpu = taskCpu !== undefined ? parseCpu(taskCpu) : sum(containers, (c) => c.cpu ?? 0);
  const memory = taskMemory !== undefined ? parseMemory(taskMemory) : sum(containers, (c) => c.memoryReservation ?? c.memory ?? 0);
  return { cpu, memory, hostPorts: hostPortBindings(td.networkMode, containers) };
}

function withOverride(container: ContainerDefinitionView, overrides: TaskOverridesView | undefined): ContainerDefinitionView {
  const override = overrides?.containerOverrides?.find((o) => o.name !== undefined && o.name === container.name);
  if (!override) return container;
  return {
    ...container,
    cpu: override.cpu ?? container.cpu,
    memory: override.memory ?? container.memory,
    memoryReservation: override.memoryReservation ?? container.memoryReservation,
  };
}

function hostPortBindings(networkMode: string | undefined, containers: readonly ContainerDefinitionView[]): HostPortBinding[] {
  // awsvpc gives each task its own network interface; none has no networking at all.
  if (networkMode === 'awsvpc' || networkMode === 'none') return [];
  const hostMode = networkMode === 'host';
  const bindings: HostPortBinding[] = [];
  for (const container of containers) {
    for (const mapping of container.portMappings ?? []) {
      if (mapping.containerPort === undefined) continue;
      bindings.push({
        containerName: container.name ?? '',
        containerPort: mapping.containerPort,
        hostPort: hostMode ? mapping.containerPort : (mapping.hostPort ?? 0),
        protocol: mapping.protocol?.toLowerCase() === 'udp' ? 'udp' : 'tcp',
      });
    }
  }
  return bindings;
}

function sum<T>(items: readonly T[], value: (item: T) => number): number {
  let total = 0;
  for (const item of items) total += value(item);
  return total;
}

/**
 * Task-level CPU in the forms ECS documents for RegisterTaskDefinition's `cpu` ("an integer using
 * CPU units, for example 1024, or as a string using vCPUs, for example 1 vCPU or 1 vcpu"): "1024",
 * "1 vCPU", "0.25 vcpu", "2vCPU". Undefined for anything else. The one parser: registration
 * normalises with it and the scheduler reserves with it.
 */
export function cpuUnits(text: string): number | undefined {
  const match = /^\s*(?:(\d+)|(\d+(?:\.\d+)?|\.\d+)\s*vcpu)\s*$/i.exec(text);
  if (!match) return undefined;
  return match[1] !== undefined ? Number(match[1]) : Math.round(Number(match[2]) * 1024);
}

/**
 * Task-level memory in the forms ECS documents ("an integer using MiB, for example 1024, or as a
 * string using GB, for example 1GB or 1 GB"): "2048", "2 GB", "0.5GB". GB here is 1024 MiB, as
 * ECS converts it ("3GB" registers as "3072"). Undefined for anything else (MiB, GiB, MB).
 */
export function memoryMiB(text: string): number | undefined {
  const match = /^\s*(?:(\d+)|(\d+(?:\.\d+)?|\.\d+)\s*gb)\s*$/i.exec(text);
  if (!match) return undefined;
  return match[1] !== undefined ? Number(match[1]) : Math.round(Number(match[2]) * 1024);
}

function parseCpu(text: string): number {
  const units = cpuUnits(text);
  if (units === undefined) throw new SchedulerInputError(`Invalid 'cpu' setting for task: ${JSON.stringify(text)}.`);
  return units;
}

function parseMemory(text: string): number {
  const mib = memoryMiB(text);
  if (mib === undefined) throw new SchedulerInputError(`Invalid 'memory' setting for task: ${JSON.stringify(text)}.`);
  return mib;
}
