/**
 * ECS's traffic-shifting deployment strategies (BLUE_GREEN, LINEAR, CANARY) as a pure function:
 * (a deployment's shift state, its plan, how many of its tasks are ready, now) → the next state,
 * whether the scheduler must hold (no starts yet, keep the old tasks), the listener weights to
 * apply, the events. The service scheduler calls it before decideService and applies the result;
 * the controller applies the weights after the write commits.
 *
 * The stages are ECS's ServiceDeployment lifecycleStage values, in order ("Amazon ECS blue/green
 * service deployments workflow", "linear deployments", "canary deployments"):
 *   RECONCILE_SERVICE → PRE_SCALE_UP → SCALE_UP (green at full desired count, behind the
 *   alternate target group, until all are healthy) → POST_SCALE_UP → TEST_TRAFFIC_SHIFT (the test
 *   listener rule forwards to green) → POST_TEST_TRAFFIC_SHIFT → PRODUCTION_TRAFFIC_SHIFT
 *   (BLUE_GREEN: all at once; LINEAR: stepPercent every stepBakeTime; CANARY: canaryPercent, then
 *   the rest after canaryBakeTime) → POST_PRODUCTION_TRAFFIC_SHIFT → BAKE_TIME (bakeTimeInMinutes,
 *   blue still running for a rollback) → CLEAN_UP (blue drained and stopped).
 * A PAUSE lifecycle hook on a stage holds the deployment at the end of that stage until
 * ContinueServiceDeployment (or its timeout's action).
 *
 * One pass changes the weights at most once: the weights a stage sets are applied (after this
 * pass) before the next pass can leave it, so old tasks never stop while traffic still reaches them.
 */

import type { ServiceTaskInput } from './service-decisions.js';

export type ShiftStrategy = 'BLUE_GREEN' | 'LINEAR' | 'CANARY';

export const LIFECYCLE_STAGES = [
  'RECONCILE_SERVICE',
  'PRE_SCALE_UP',
  'SCALE_UP',
  'POST_SCALE_UP',
  'TEST_TRAFFIC_SHIFT',
  'POST_TEST_TRAFFIC_SHIFT',
  'PRODUCTION_TRAFFIC_SHIFT',
  'POST_PRODUCTION_TRAFFIC_SHIFT',
  'BAKE_TIME',
  'CLEAN_UP',
] as const;
export type LifecycleStage = (typeof LIFECYCLE_STAGES)[number];

/** One load balancer of the service: the rules that move, the old (blue) and new (green) target groups. */
export interface ShiftRoute {
  production: string;
  test?: string;
  blue: string;
  green: string;
}

/** A PAUSE hook of the deployment configuration (index: its place in lifecycleHooks). */
export interface PauseHookPlan {
  index: number;
  stages: readonly string[];
  timeoutSeconds?: number;
  timeoutAction: 'ROLLBACK' | 'CONTINUE';
}

export interface HookState {
  index: number;
  stage: LifecycleStage;
  status: 'AWAITING_ACTION' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT';
  expiresAt?: number;
  timeoutAction: 'ROLLBACK' | 'CONTINUE';
  /** Given by the applier (ECS's `ecs-pause-…` id). */
  hookId?: string;
}

export interface ShiftState {
  strategy: ShiftStrategy;
  stage: LifecycleStage;
  /** Epoch seconds the stage was entered. */
  stageSince: number;
  /** Production traffic on green, in percent, and when it last changed. */
  percent: number;
  percentSince: number;
  routes: ShiftRoute[];
  hooks: HookState[];
  /** Returning to the old revision: routes already swapped (green is the revision rolled back to). */
  rollback?: boolean;
  /** false when the stage was set outside a decision (a rollback): its weights must be applied once before it is left. */
  settled: boolean;
}

export interface ShiftPlan {
  strategy: ShiftStrategy;
  bakeSeconds: number;
  stepPercent: number;
  stepBakeSeconds: number;
  canaryPercent: number;
  canaryBakeSeconds: number;
  hooks: readonly PauseHookPlan[];
}

export interface ShiftInput {
  service: string;
  deploymentId: string;
  state: ShiftState;
  plan: ShiftPlan;
  desiredCount: number;
  /** The deployment's tasks that are RUNNING and healthy (behind the load balancer too). */
  readyCount: number;
  now: number;
}

export interface ForwardChange {
  /** A listener ARN, or a listener rule ARN (the default rule included). */
  rule: string;
  groups: { targetGroupArn: string; weight: number }[];
}

export interface ShiftDecision {
  state: ShiftState;
  /** decideService must not start tasks yet (before SCALE_UP). */
  holdStarts: boolean;
  /** decideService must keep the old deployments' tasks (until CLEAN_UP). */
  holdRetired: boolean;
  traffic: ForwardChange[];
  events: string[];
  /** A pause hook timed out with action ROLLBACK: roll back, for this reason. */
  rollback?: string;
  /** Epoch seconds at which a bake or a hook timeout ends. */
  wakeAt?: number;
}

const order = (s: LifecycleStage) => LIFECYCLE_STAGES.indexOf(s);

/** ALB weights for `percent` on green: whole percents out of 100; tenths out of 1000 (weights stay within 0..999). */
export function weightsFor(percent: number): { blue: number; green: number } {
  if (percent <= 0) return { blue: 100, green: 0 };
  if (percent >= 100) return { blue: 0, green: 100 };
  if (Number.isInteger(percent)) return { blue: 100 - percent, green: percent };
  const green = Math.min(999, Math.max(1, Math.round(percent * 10)));
  return { blue: 1000 - green, green };
}

/** The weights a state asks for on each route's production and test rules. */
export function trafficOf(state: ShiftState): ForwardChange[] {
  const out: ForwardChange[] = [];
  const testOnGreen = order(state.stage) >= order('TEST_TRAFFIC_SHIFT');
  for (const r of state.routes) {
    const w = weightsFor(state.percent);
    out.push({ rule: r.production, groups: [{ targetGroupArn: r.blue, weight: w.blue }, { targetGroupArn: r.green, weight: w.green }] });
    if (r.test && r.test !== r.production) {
      const t = weightsFor(testOnGreen ? 100 : 0);
      out.push({ rule: r.test, groups: [{ targetGroupArn: r.blue, weight: t.blue }, { targetGroupArn: r.green, weight: t.green }] });
    }
  }
  return out;
}

/** The state a deployment starts in. */
export function initialShift(strategy: ShiftStrategy, routes: ShiftRoute[], now: number): ShiftState {
  return { strategy, stage: 'RECONCILE_SERVICE', stageSince: now, percent: 0, percentSince: now, routes, hooks: [], settled: true };
}

/**
 * A rollback from wherever the deployment is: production (and test) traffic back on the old
 * revision at once, then its tasks are the ones kept and the new ones drain and stop.
 */
export function rollbackShift(state: ShiftState, now: number): ShiftState {
  return {
    ...state,
    routes: state.routes.map((r) => ({ ...r, blue: r.green, green: r.blue })),
    stage: 'PRODUCTION_TRAFFIC_SHIFT',
    stageSince: now,
    percent: 100,
    percentSince: now,
    hooks: state.hooks.map((h) => (h.status === 'AWAITING_ACTION' ? { ...h, status: 'FAILED' } : h)),
    rollback: true,
    settled: false,
  };
}

export function decideShift(input: ShiftInput): ShiftDecision {
  const { plan, now } = input;
  const svc = `(service ${input.service})`;
  const dep = `(deployment ${input.deploymentId})`;
  const events: string[] = [];
  let state: ShiftState = { ...input.state, hooks: input.state.hooks.map((h) => ({ ...h })) };
  let wakeAt: number | undefined;
  const wake = (t: number) => (wakeAt = Math.min(wakeAt ?? Infinity, t));
  let rollback: string | undefined;
  let trafficChanged = false;

  const addHooks = (stage: LifecycleStage) => {
    if (state.rollback) return;
    for (const h of plan.hooks) {
      // PRE_PRODUCTION_TRAFFIC_SHIFT is a hook stage, not a deployment stage: it holds just before production moves.
      if (!h.stages.includes(stage) && !(stage === 'POST_TEST_TRAFFIC_SHIFT' && h.stages.includes('PRE_PRODUCTION_TRAFFIC_SHIFT'))) continue;
      state.hooks.push({ index: h.index, stage, status: 'AWAITING_ACTION', timeoutAction: h.timeoutAction, ...(h.timeoutSeconds !== undefined ? { expiresAt: now + h.timeoutSeconds } : {}) });
      events.push(`${svc} ${dep} is paused at lifecycle stage ${stage}: waiting for ContinueServiceDeployment.`);
    }
  };
  const enter = (stage: LifecycleStage) => {
    const before = JSON.stringify(trafficOf(state));
    state = { ...state, stage, stageSince: now };
    if (stage === 'PRODUCTION_TRAFFIC_SHIFT' && !state.rollback) {
      const first = plan.strategy === 'LINEAR' ? plan.stepPercent : plan.strategy === 'CANARY' ? plan.canaryPercent : 100;
      state = { ...state, percent: Math.min(100, first), percentSince: now };
    }
    addHooks(stage);
    if (JSON.stringify(trafficOf(state)) !== before) {
      trafficChanged = true;
      if (stage === 'TEST_TRAFFIC_SHIFT') events.push(`${svc} ${dep} shifted test traffic to the new service revision.`);
      if (stage === 'PRODUCTION_TRAFFIC_SHIFT') events.push(shifted(state.percent));
    }
  };
  const shifted = (p: number) => `${svc} ${dep} shifted ${p}% of production traffic to ${state.rollback ? 'the previous' : 'the new'} service revision.`;

  /** Whether the stage's own work is done (hooks aside). */
  const workDone = (): boolean => {
    switch (state.stage) {
      case 'SCALE_UP':
        return input.readyCount >= input.desiredCount;
      case 'PRODUCTION_TRAFFIC_SHIFT': {
        if (state.percent >= 100) return true;
        const bake = plan.strategy === 'CANARY' ? plan.canaryBakeSeconds : plan.stepBakeSeconds;
        if (now < state.percentSince + bake) {
          wake(state.percentSince + bake);
          return false;
        }
        const next = plan.strategy === 'CANARY' ? 100 : Math.min(100, Math.round((state.percent + plan.stepPercent) * 10) / 10);
        state = { ...state, percent: next, percentSince: now };
        trafficChanged = true;
        events.push(shifted(next));
        return false; // applied after this pass; the stage is left on a later one
      }
      case 'BAKE_TIME': {
        const bake = state.rollback ? 0 : plan.bakeSeconds;
        if (now < state.stageSince + bake) {
          wake(state.stageSince + bake);
          return false;
        }
        return true;
      }
      case 'CLEAN_UP':
        return false;
      default:
        return true;
    }
  };

  /** Whether the stage's hooks let it be left (expired ones take their timeout action). */
  const hooksDone = (): boolean => {
    let done = true;
    for (const h of state.hooks) {
      if (h.stage !== state.stage || h.status !== 'AWAITING_ACTION') continue;
      if (h.expiresAt !== undefined && now >= h.expiresAt) {
        h.status = 'TIMED_OUT';
        if (h.timeoutAction === 'ROLLBACK') rollback = `Lifecycle hook ${h.hookId ?? h.index} timed out at lifecycle stage ${state.stage}.`;
        continue;
      }
      if (h.expiresAt !== undefined) wake(h.expiresAt);
      done = false;
    }
    return done;
  };

  // The first stage is entered when the deployment starts: its hooks are taken on the first decision.
  if (state.stage === 'RECONCILE_SERVICE' && !state.hooks.some((h) => h.stage === 'RECONCILE_SERVICE')) addHooks('RECONCILE_SERVICE');
  if (!state.settled) {
    state.settled = true;
    if (state.rollback) events.push(shifted(100));
  } else {
    // Leave stages while their work and hooks are done, but never past a weight change in this pass.
    for (let guard = 0; guard < LIFECYCLE_STAGES.length && !trafficChanged && !rollback; guard++) {
      if (!workDone() || trafficChanged) break;
      if (!hooksDone()) break;
      if (rollback) break;
      const next = LIFECYCLE_STAGES[order(state.stage) + 1];
      if (!next) break;
      enter(next);
    }
  }
  const stage = order(state.stage);
  return {
    state,
    holdStarts: !state.rollback && stage < order('SCALE_UP'),
    holdRetired: stage < order('CLEAN_UP'),
    traffic: trafficOf(state),
    events,
    rollback,
    wakeAt,
  };
}

/** How many of a deployment's tasks are ready for traffic: RUNNING, healthy, and healthy behind the load balancer. */
export function readyCount(tasks: readonly ServiceTaskInput[], deploymentId: string, healthChecked: boolean): number {
  return tasks.filter(
    (t) =>
      t.deploymentId === deploymentId &&
      t.desiredStatus === 'RUNNING' &&
      t.lastStatus === 'RUNNING' &&
      !t.lbStopping &&
      (healthChecked ? t.healthStatus === 'HEALTHY' : t.healthStatus !== 'UNHEALTHY') &&
      t.lb?.state === 'healthy',
  ).length;
}
