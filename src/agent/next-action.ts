/**
 * PURE: what the agent should do next for one task, given its known state, desired state, the
 * actions already in flight and the time. The supervisor executes the actions and feeds the
 * results back; nothing here does I/O. (The decision half of ECS's containerNextState.)
 */
import { needsSecrets, type ContainerSpec } from '../protocol/index.js';
import { allStopped, type LocalContainer, type LocalTask } from './task-state.js';

export type Action =
  | { type: 'setup' }
  /** Fetch the task's secrets (GET task-secrets): before any container is created, and before pulls that need registry credentials. */
  | { type: 'secrets' }
  | { type: 'pull'; container: string }
  | { type: 'create'; container: string }
  | { type: 'start'; container: string }
  | { type: 'stop'; container: string; timeoutSec: number }
  /** No I/O: a container that never started is STOPPED once its task stops. */
  | { type: 'markStopped'; container: string; reason?: string }
  /** No I/O: the task must stop (an essential container exited, a step failed). */
  | { type: 'stopTask'; stopCode: 'TaskFailedToStart' | 'EssentialContainerExited'; reason: string }
  | { type: 'teardown' };

export const actionKey = (a: Action): string => ('container' in a ? `${a.type}:${a.container}` : a.type);

export const ESSENTIAL_EXITED = 'Essential container in task exited';

type Verdict = 'ok' | 'wait' | 'never';

/** Whether `dep` satisfies `condition` (ECS dependsOn), now. */
export function dependencyVerdict(condition: string, dep: LocalContainer, depSpec: ContainerSpec | undefined, now: number): Verdict {
  let v: Verdict;
  switch (condition) {
    case 'START':
      v = dep.startedAt !== undefined ? 'ok' : dep.known === 'STOPPED' ? 'never' : 'wait';
      break;
    case 'COMPLETE':
      v = dep.known === 'STOPPED' ? (dep.startedAt !== undefined ? 'ok' : 'never') : 'wait';
      break;
    case 'SUCCESS':
      v = dep.known === 'STOPPED' ? (dep.startedAt !== undefined && dep.exitCode === 0 ? 'ok' : 'never') : 'wait';
      break;
    case 'HEALTHY':
      v = dep.health === 'HEALTHY' && dep.known === 'RUNNING' ? 'ok' : dep.known === 'STOPPED' ? 'never' : 'wait';
      break;
    default:
      v = 'never';
  }
  // startTimeout belongs to the dependency: past it, dependents give up.
  if (v === 'wait' && depSpec?.startTimeoutSec && dep.startedAt !== undefined && now - dep.startedAt > depSpec.startTimeoutSec) v = 'never';
  return v;
}

export function nextActions(task: LocalTask, inFlight: ReadonlySet<string>, now: number): Action[] {
  const out: Action[] = [];
  const push = (a: Action) => {
    if (!inFlight.has(actionKey(a))) out.push(a);
  };
  const specs = new Map(task.spec.containers.map((s) => [s.name, s]));
  const containers = Object.values(task.containers);

  if (task.desired === 'STOPPED') {
    for (const c of containers) {
      if (c.known === 'STOPPED') continue;
      if (c.known !== 'RUNNING') {
        // Never started: nothing to stop. Wait for an in-flight create so its id is not lost.
        if (!inFlight.has(`create:${c.name}`) && !inFlight.has(`start:${c.name}`)) push({ type: 'markStopped', container: c.name });
        continue;
      }
      if (c.stopIssued) continue;
      // Stop dependents before what they depend on (reverse dependsOn order).
      const dependentsUp = containers.some(
        (o) => o.known === 'RUNNING' && (specs.get(o.name)?.dependsOn ?? []).some((d) => d.containerName === c.name),
      );
      if (!dependentsUp) push({ type: 'stop', container: c.name, timeoutSec: specs.get(c.name)?.stopTimeoutSec ?? 30 });
    }
    if (allStopped(task) && task.setup !== 'NONE' && !task.tornDown && inFlight.size === 0) push({ type: 'teardown' });
    return out;
  }

  // Desired RUNNING.
  for (const c of containers) {
    if (c.failure) {
      const prefix = c.failure.kind === 'pull' ? 'CannotPullContainerError' : c.failure.kind === 'create' ? 'CannotCreateContainerError' : 'CannotStartContainerError';
      return [{ type: 'stopTask', stopCode: 'TaskFailedToStart', reason: `${prefix}: ${c.failure.message}` }];
    }
    if (c.known === 'STOPPED' && specs.get(c.name)?.essential) {
      return [{ type: 'stopTask', stopCode: 'EssentialContainerExited', reason: ESSENTIAL_EXITED }];
    }
  }
  if (task.secrets === 'FAILED') return [{ type: 'stopTask', stopCode: 'TaskFailedToStart', reason: task.secretsFailure ?? 'ResourceInitializationError: unable to pull secrets or registry auth' }];
  // Secrets are fetched alongside setup and the other pulls: only creates, and pulls with registry credentials, wait for them.
  const awaitingSecrets = task.secrets !== 'DONE' && needsSecrets(task.spec) && containers.some((c) => c.known === 'NONE' || c.known === 'PULLED');
  if (awaitingSecrets) push({ type: 'secrets' });
  if (task.setup === 'FAILED') return [{ type: 'stopTask', stopCode: 'TaskFailedToStart', reason: 'ResourceInitializationError: failed to set up the task network or volumes' }];
  if (task.setup === 'NONE') push({ type: 'setup' });

  for (const c of containers) {
    const spec = specs.get(c.name);
    if (!spec) continue;
    if (c.known === 'NONE') {
      if (!(awaitingSecrets && spec.repositoryCredentialsParameter !== undefined)) push({ type: 'pull', container: c.name });
    } else if (c.known === 'PULLED' && task.setup === 'DONE' && !awaitingSecrets) {
      // volumesFrom needs its sources to exist; links need their targets running.
      const sourcesReady = spec.volumesFrom.every((v) => {
        const s = task.containers[v.sourceContainer];
        return s && s.known !== 'NONE' && s.known !== 'PULLED';
      });
      const linksReady = spec.links.every((l) => task.containers[l.split(':')[0]!]?.known === 'RUNNING');
      if (sourcesReady && linksReady) push({ type: 'create', container: c.name });
    } else if (c.known === 'CREATED') {
      let verdict: Verdict = 'ok';
      let blocking = '';
      for (const d of spec.dependsOn) {
        const dep = task.containers[d.containerName];
        const v = dep ? dependencyVerdict(d.condition, dep, specs.get(d.containerName), now) : 'never';
        if (v === 'never') {
          verdict = 'never';
          blocking = `${d.containerName} (${d.condition})`;
          break;
        }
        if (v === 'wait') verdict = 'wait';
      }
      if (verdict === 'ok') push({ type: 'start', container: c.name });
      else if (verdict === 'never') {
        const reason = `DependencyConditionNotResolvable: dependency ${blocking} of container ${c.name} can not be resolved`;
        if (spec.essential) return [{ type: 'stopTask', stopCode: 'TaskFailedToStart', reason }];
        push({ type: 'markStopped', container: c.name, reason });
      }
    }
  }
  return out;
}
