/**
 * Feasibility checks: can one more task of the request go on this instance? Each check owns
 * the failure reason ECS reports for an instance it rejects ("API failure reasons" in the ECS
 * developer guide; the constraint messages are the ones ECS itself returns).
 */
import type { InstancePredicate } from './cluster-query-eval.js';
import type { ProposedInstance } from './proposed-instance.js';
import type { TaskReservation } from './types.js';

export interface FeasibilityCheck {
  /** The `reason` of the PlacementFailure for an instance this check rejects. */
  readonly reason: string;
  feasible(candidate: ProposedInstance): boolean;
}

export const FAILURE_REASONS = {
  agent: 'AGENT',
  attribute: 'ATTRIBUTE',
  cpu: 'RESOURCE:CPU',
  memory: 'RESOURCE:MEMORY',
  ports: 'RESOURCE:PORTS',
  portsUdp: 'RESOURCE:PORTS_UDP',
  distinctInstance: 'DistinctInstance placement constraint unsatisfied.',
  memberOf: 'MemberOf placement constraint unsatisfied.',
} as const;

export const agentConnected: FeasibilityCheck = {
  reason: FAILURE_REASONS.agent,
  feasible: (c) => c.agentConnected,
};

/** Every `requiresAttributes` entry must be on the instance, with the same value when one is given. */
export function requiredAttributes(required: readonly { name: string; value?: string }[]): FeasibilityCheck {
  return {
    reason: FAILURE_REASONS.attribute,
    feasible: (c) =>
      required.every(
        (r) => Object.hasOwn(c.instance.attributes, r.name) && (r.value === undefined || c.instance.attributes[r.name] === r.value),
      ),
  };
}

export function enoughCpu(reservation: TaskReservation): FeasibilityCheck {
  const need = reservation.cpu;
  return { reason: FAILURE_REASONS.cpu, feasible: (c) => need <= 0 || c.cpuRemaining >= need };
}

export function enoughMemory(reservation: TaskReservation): FeasibilityCheck {
  const need = reservation.memory;
  return { reason: FAILURE_REASONS.memory, feasible: (c) => need <= 0 || c.memoryRemaining >= need };
}

/**
 * The task's static host ports (bridge/host mode) must be free on the instance. Dynamic ports
 * (hostPort 0) never conflict. A task that binds the same host port twice fits nowhere.
 */
export function freeHostPorts(reservation: TaskReservation, protocol: 'tcp' | 'udp'): FeasibilityCheck | undefined {
  const wanted = reservation.hostPorts.filter((b) => b.protocol === protocol && b.hostPort !== 0).map((b) => b.hostPort);
  if (wanted.length === 0) return undefined;
  const clashesWithItself = new Set(wanted).size !== wanted.length;
  return {
    reason: protocol === 'tcp' ? FAILURE_REASONS.ports : FAILURE_REASONS.portsUdp,
    feasible: (c) => !clashesWithItself && wanted.every((port) => !c.portTaken(port, protocol)),
  };
}

/**
 * distinctInstance: "places each task in the group on a different instance" (ECS guide). So an
 * instance already running a task of the request's group is out, and so is one that this call
 * has already used (those tasks are in the group too).
 */
export const distinctInstance: FeasibilityCheck = {
  reason: FAILURE_REASONS.distinctInstance,
  feasible: (c) => c.groupTasks === 0,
};

export function memberOf(predicate: InstancePredicate): FeasibilityCheck {
  return { reason: FAILURE_REASONS.memberOf, feasible: predicate };
}
