/**
 * Resource accounting of container instances: what each live task holds on its instance and what
 * remains of the instance's registered resources (DescribeContainerInstances). The scheduler's
 * snapshot (cluster-snapshots.ts) reads the same stored reservation columns.
 */
import type { TaskDoc } from '../../store/collections.js';
import type { Resource } from './instance-records.js';

/**
 * What one live task holds on its instance: the reservation stored with the task when it was
 * created (task-state.ts, with the scheduler's taskReservation: the one rule; the scheduler's
 * snapshot reads the same fields), plus the host ports Docker bound for its dynamic port mappings
 * once it runs.
 */
export function taskUsage(task: TaskDoc): { cpu: number; memory: number; tcpPorts: string[]; udpPorts: string[] } {
  const tcpPorts: string[] = [];
  const udpPorts: string[] = [];
  for (const entry of (task.reservedPorts as string[] | undefined) ?? []) {
    const [port, protocol] = entry.split('/');
    (protocol === 'udp' ? udpPorts : tcpPorts).push(port!);
  }
  for (const x of task.containers as { networkBindings?: { hostPort?: number; protocol?: string }[] }[]) {
    for (const b of x.networkBindings ?? []) {
      if (b.hostPort === undefined) continue;
      (b.protocol === 'udp' ? udpPorts : tcpPorts).push(String(b.hostPort));
    }
  }
  return { cpu: Number(task.reservedCpu ?? 0), memory: Number(task.reservedMemory ?? 0), tcpPorts, udpPorts };
}

/** What an instance's live tasks hold together, and how many of them run. */
export function instanceUsage(tasks: readonly TaskDoc[]): { cpu: number; memory: number; tcpPorts: Set<string>; udpPorts: Set<string>; running: number } {
  let cpu = 0;
  let memory = 0;
  const tcp = new Set<string>();
  const udp = new Set<string>();
  let running = 0;
  for (const t of tasks) {
    const u = taskUsage(t);
    cpu += u.cpu;
    memory += u.memory;
    u.tcpPorts.forEach((p) => tcp.add(p));
    u.udpPorts.forEach((p) => udp.add(p));
    if (t.lastStatus === 'RUNNING') running += 1;
  }
  return { cpu, memory, tcpPorts: tcp, udpPorts: udp, running };
}

/** ECS's remainingResources: CPU and memory less what the tasks hold; PORTS list the ports taken (reserved ones included). */
export function remainingResources(registered: readonly Resource[], usage: ReturnType<typeof instanceUsage>): Resource[] {
  return registered.map((r) => {
    if (r.name === 'CPU') return { ...r, integerValue: (r.integerValue ?? 0) - usage.cpu };
    if (r.name === 'MEMORY') return { ...r, integerValue: (r.integerValue ?? 0) - usage.memory };
    if (r.name === 'PORTS') return { ...r, stringSetValue: [...new Set([...(r.stringSetValue ?? []), ...usage.tcpPorts])] };
    if (r.name === 'PORTS_UDP') return { ...r, stringSetValue: [...new Set([...(r.stringSetValue ?? []), ...usage.udpPorts])] };
    return r;
  });
}

/** The CPU units and MiB of memory an instance registered. */
export function registeredCpuMemory(registered: readonly { name: string; integerValue?: number }[]): { cpu: number; memory: number } {
  const value = (name: string) => registered.find((r) => r.name === name)?.integerValue ?? 0;
  return { cpu: value('CPU'), memory: value('MEMORY') };
}
