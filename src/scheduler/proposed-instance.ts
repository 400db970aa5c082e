/**
 * One container instance as seen during one schedule() call: the tasks it already runs plus
 * the tasks this call has placed on it so far (Nomad's ProposedAllocs). Every check and
 * ranker reads usage from here, so placing `count` tasks never over-commits an instance.
 *
 * Usage is summed once per call (O(tasks on the instance)) and then updated incrementally on
 * each placement; port and group sets are built only when a check first asks for them.
 */
import type { QueryTarget } from './cluster-query-eval.js';
import type { InstanceView, TaskReservation, TaskView } from './types.js';

/** ECS's default task group: standalone tasks without a group belong to `family:<family>`. */
export function taskGroupOf(task: Pick<TaskView, 'group' | 'family'>): string {
  return task.group ?? `family:${task.family}`;
}

export class ProposedInstance implements QueryTarget {
  cpuUsed = 0;
  memoryUsed = 0;
  /** Tasks of the request's group on this instance, existing and placed by this call. */
  groupTasks = 0;
  /** Tasks this call placed here. */
  placed = 0;
  private tcpPorts: Set<number> | undefined;
  private udpPorts: Set<number> | undefined;
  private groups: Set<string> | undefined;
  private running = -1;
  /** Every placement of one call reserves the same thing; kept for the lazily built port sets. */
  private placedReservation: TaskReservation | undefined;

  constructor(
    readonly instance: InstanceView,
    /** Position in the snapshot: the key for per-call arrays. */
    readonly index: number,
    private readonly requestGroup: string,
  ) {
    for (const task of instance.tasks) {
      this.cpuUsed += task.cpu;
      this.memoryUsed += task.memory;
      if (taskGroupOf(task) === requestGroup) this.groupTasks++;
    }
  }

  get cpuRemaining(): number {
    return this.instance.registered.cpu - this.cpuUsed;
  }

  get memoryRemaining(): number {
    return this.instance.registered.memory - this.memoryUsed;
  }

  /** Host TCP ports taken: reserved by the host, bound by its tasks, or by this call's placements. */
  usedTcpPorts(): ReadonlySet<number> {
    this.tcpPorts ??= this.collectPorts('tcp', this.instance.registered.ports);
    return this.tcpPorts;
  }

  usedUdpPorts(): ReadonlySet<number> {
    this.udpPorts ??= this.collectPorts('udp', this.instance.registered.portsUdp);
    return this.udpPorts;
  }

  taskGroups(): ReadonlySet<string> {
    if (!this.groups) {
      this.groups = new Set(this.instance.tasks.map(taskGroupOf));
      if (this.placed > 0) this.groups.add(this.requestGroup);
    }
    return this.groups;
  }

  runningTasksCount(): number {
    if (this.running < 0) {
      this.running = 0;
      for (const task of this.instance.tasks) if (task.lastStatus === undefined || task.lastStatus === 'RUNNING') this.running++;
    }
    // Tasks placed by this call are not running yet.
    return this.running;
  }

  /** Records one task of the request placed here. */
  place(reservation: TaskReservation): void {
    this.cpuUsed += reservation.cpu;
    this.memoryUsed += reservation.memory;
    this.groupTasks++;
    this.placed++;
    this.placedReservation = reservation;
    this.groups?.add(this.requestGroup);
    for (const binding of reservation.hostPorts) {
      if (binding.hostPort === 0) continue;
      if (binding.protocol === 'udp') this.udpPorts?.add(binding.hostPort);
      else this.tcpPorts?.add(binding.hostPort);
    }
  }

  private collectPorts(protocol: 'tcp' | 'udp', reserved: readonly number[]): Set<number> {
    const ports = new Set(reserved);
    for (const task of this.instance.tasks) {
      for (const bound of task.hostPorts) if (bound.protocol === protocol) ports.add(bound.port);
    }
    for (const binding of this.placedReservation?.hostPorts ?? []) {
      if (binding.hostPort !== 0 && binding.protocol === protocol) ports.add(binding.hostPort);
    }
    return ports;
  }
}
