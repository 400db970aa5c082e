/**
 * ECS deployments that shift traffic between two target groups: BLUE_GREEN, LINEAR and CANARY
 * (deploymentConfiguration.strategy), with PAUSE lifecycle hooks and ContinueServiceDeployment.
 *
 * Each load balancer of such a service names a primary target group and, in its
 * advancedConfiguration, an alternate one, a production listener rule and optionally a test
 * listener rule. A deployment's new tasks (green) register in whichever of the two target
 * groups is not taking production traffic; its `lbRefs` (internal) say where its tasks register,
 * so the roles of the two groups swap from one deployment to the next, as ECS does. The stages
 * themselves are decided by the pure decideShift (src/scheduler/deployment-strategies.ts); this
 * module holds validation, the deployment's initial state, rollback and the history record.
 */
import { randomBytes } from 'node:crypto';
import type { ContinueServiceDeploymentRequest, DeploymentConfiguration } from '../../aws/generated/ecs.js';
import { AwsError } from '../../aws/errors.js';
import { initialShift, rollbackShift, type PauseHookPlan, type ShiftDecision, type ShiftPlan, type ShiftRoute, type ShiftStrategy } from '../../scheduler/index.js';
import * as c from '../../store/collections.js';
import type { StoreTx } from '../../store/store.js';
import type { Scope } from './arns.js';
import * as err from './errors.js';
import { addEvents, type DeploymentRecord, type ServiceRecord } from './services.js';

export const SHIFT_STRATEGIES: readonly string[] = ['BLUE_GREEN', 'LINEAR', 'CANARY'];
const HOOK_STAGES = new Set(['RECONCILE_SERVICE', 'PRE_SCALE_UP', 'POST_SCALE_UP', 'TEST_TRAFFIC_SHIFT', 'POST_TEST_TRAFFIC_SHIFT', 'PRE_PRODUCTION_TRAFFIC_SHIFT', 'PRODUCTION_TRAFFIC_SHIFT', 'POST_PRODUCTION_TRAFFIC_SHIFT']);

export interface AdvancedConfiguration {
  alternateTargetGroupArn?: string;
  productionListenerRule?: string;
  testListenerRule?: string;
  roleArn?: string;
}

export interface ShiftRef {
  targetGroupArn?: string;
  containerName?: string;
  containerPort?: number;
  advancedConfiguration?: AdvancedConfiguration;
}

type Hook = NonNullable<DeploymentConfiguration['lifecycleHooks']>[number];

const isTenth = (n: number) => Math.abs(n * 10 - Math.round(n * 10)) < 1e-9;

/** A strategy change drops the former strategy's own settings (kept from the current configuration, not given again). */
export function dropStaleStrategySettings(out: DeploymentConfiguration, given: DeploymentConfiguration | undefined): void {
  if (out.strategy !== 'LINEAR' && given?.linearConfiguration === undefined) delete out.linearConfiguration;
  if (out.strategy !== 'CANARY' && given?.canaryConfiguration === undefined) delete out.canaryConfiguration;
  if (!SHIFT_STRATEGIES.includes(out.strategy ?? 'ROLLING') && given?.lifecycleHooks === undefined) delete out.lifecycleHooks;
}

/** The strategy's own settings, checked (InvalidParameterException in ECS's words). */
export function checkStrategy(config: DeploymentConfiguration, schedulingStrategy: string): void {
  const strategy = config.strategy ?? 'ROLLING';
  if (strategy !== 'ROLLING' && !SHIFT_STRATEGIES.includes(strategy)) throw err.invalidParameter(`Invalid deployment strategy ${String(strategy).slice(0, 64)}: valid values are ROLLING, BLUE_GREEN, LINEAR and CANARY.`);
  const shifting = SHIFT_STRATEGIES.includes(strategy);
  if (shifting && schedulingStrategy === 'DAEMON') throw err.invalidParameter(`The ${strategy} deployment strategy is not supported for services using the DAEMON scheduling strategy.`);
  const lin = config.linearConfiguration;
  if (lin) {
    if (strategy !== 'LINEAR') throw err.invalidParameter('linearConfiguration can only be specified when the deployment strategy is LINEAR.');
    if (lin.stepPercent !== undefined && (lin.stepPercent < 3 || lin.stepPercent > 100 || !isTenth(lin.stepPercent))) throw err.invalidParameter('stepPercent must be a multiple of 0.1 between 3.0 and 100.0.');
    if (lin.stepBakeTimeInMinutes !== undefined && (lin.stepBakeTimeInMinutes < 0 || lin.stepBakeTimeInMinutes > 1440)) throw err.invalidParameter('stepBakeTimeInMinutes must be between 0 and 1440.');
  }
  const can = config.canaryConfiguration;
  if (can) {
    if (strategy !== 'CANARY') throw err.invalidParameter('canaryConfiguration can only be specified when the deployment strategy is CANARY.');
    if (can.canaryPercent !== undefined && (can.canaryPercent < 0.1 || can.canaryPercent > 100 || !isTenth(can.canaryPercent))) throw err.invalidParameter('canaryPercent must be a multiple of 0.1 between 0.1 and 100.0.');
    if (can.canaryBakeTimeInMinutes !== undefined && (can.canaryBakeTimeInMinutes < 0 || can.canaryBakeTimeInMinutes > 1440)) throw err.invalidParameter('canaryBakeTimeInMinutes must be between 0 and 1440.');
  }
  const hooks = config.lifecycleHooks ?? [];
  if (hooks.length > 0 && !shifting) throw err.invalidParameter('Lifecycle hooks are only supported with the BLUE_GREEN, LINEAR and CANARY deployment strategies.');
  if (hooks.length > 10) throw err.invalidParameter('A maximum of 10 lifecycle hooks may be specified.');
  for (const h of hooks) checkHook(h);
}

function checkHook(h: Hook): void {
  const type = h.targetType ?? (h.hookTargetArn ? 'AWS_LAMBDA' : undefined);
  if (type === 'AWS_LAMBDA' || h.hookTargetArn?.startsWith('arn:aws:lambda:')) {
    throw err.invalidParameter('Lifecycle hooks of target type AWS_LAMBDA are not supported: Dockyard runs no Lambda functions. Use a lifecycle hook with targetType PAUSE and continue the deployment with ContinueServiceDeployment.');
  }
  if (type !== 'PAUSE') throw err.invalidParameter('A lifecycle hook must have targetType PAUSE or a hookTargetArn.');
  if (h.hookTargetArn !== undefined) throw err.invalidParameter('hookTargetArn can not be specified for a lifecycle hook of target type PAUSE.');
  const stages = h.lifecycleStages ?? [];
  if (stages.length === 0) throw err.invalidParameter('lifecycleStages can not be empty.');
  for (const s of stages) if (!HOOK_STAGES.has(s)) throw err.invalidParameter(`Invalid lifecycle stage ${String(s).slice(0, 64)}.`);
  const t = h.timeoutConfiguration;
  if (t?.timeoutInMinutes !== undefined && (t.timeoutInMinutes < 1 || t.timeoutInMinutes > 20160)) throw err.invalidParameter('timeoutInMinutes must be between 1 and 20160.');
}

/** What the ELBv2 domain answers about a listener or listener rule: the target groups its forward action uses and whether it has other actions (undefined: no such listener or rule). */
export type ListenerRuleLookup = (scope: Scope, arn: string) => Promise<{ groups: string[]; otherActions: boolean } | undefined>;
export type TargetGroupExists = (scope: Scope, arn: string) => Promise<boolean>;

/** BLUE_GREEN, LINEAR and CANARY need an advancedConfiguration on every load balancer. */
export async function checkAdvanced(
  scope: Scope,
  config: DeploymentConfiguration,
  refs: readonly ShiftRef[] | undefined,
  lookups: { targetGroupExists?: TargetGroupExists; listenerRule?: ListenerRuleLookup },
): Promise<void> {
  const strategy = config.strategy ?? 'ROLLING';
  if (!SHIFT_STRATEGIES.includes(strategy)) return;
  if (!refs?.length) throw err.invalidParameter(`The ${strategy} deployment strategy requires a load balancer with an advancedConfiguration (alternateTargetGroupArn, productionListenerRule and roleArn).`);
  for (const ref of refs) {
    const adv = ref.advancedConfiguration;
    if (!adv) throw err.invalidParameter(`advancedConfiguration is required for each load balancer when the deployment strategy is ${strategy}.`);
    if (!adv.alternateTargetGroupArn) throw err.invalidParameter('alternateTargetGroupArn can not be blank.');
    if (!adv.productionListenerRule) throw err.invalidParameter('productionListenerRule can not be blank.');
    if (!adv.roleArn) throw err.invalidParameter('roleArn can not be blank.');
    if (adv.alternateTargetGroupArn === ref.targetGroupArn) throw err.invalidParameter('alternateTargetGroupArn must be different from targetGroupArn.');
    const alt = adv.alternateTargetGroupArn.slice(0, 2048);
    if (!(await lookups.targetGroupExists?.(scope, alt))) throw err.invalidParameter(`Unable to find target group with alternateTargetGroupArn ${alt}.`);
    for (const [name, arn] of [['productionListenerRule', adv.productionListenerRule], ['testListenerRule', adv.testListenerRule]] as const) {
      if (arn === undefined) continue;
      const found = await lookups.listenerRule?.(scope, arn);
      if (!found) throw err.invalidParameter(`Unable to find listener or listener rule with ${name} ${arn.slice(0, 2048)}.`);
      // As on ECS: a rule mixing forward with redirect, fixed-response or authentication actions cannot be shifted.
      if (found.otherActions) throw err.invalidParameter(`The ${name} ${arn.slice(0, 2048)} has actions other than forward, which ${strategy} deployments do not support.`);
      const groups = found.groups;
      if (!groups.includes(ref.targetGroupArn!) && !groups.includes(adv.alternateTargetGroupArn)) {
        throw err.invalidParameter(`The ${name} ${arn.slice(0, 2048)} must forward to target group ${ref.targetGroupArn} or ${alt}.`);
      }
    }
  }
}

/** The deployment's plan: the strategy's settings with ECS's defaults, times in seconds (`minuteSeconds` shortens a minute for tests). */
export function shiftPlanOf(config: DeploymentConfiguration, minuteSeconds: number): ShiftPlan {
  const hooks: PauseHookPlan[] = (config.lifecycleHooks ?? []).map((h, index) => ({
    index,
    stages: h.lifecycleStages ?? [],
    timeoutSeconds: h.timeoutConfiguration?.timeoutInMinutes !== undefined ? h.timeoutConfiguration.timeoutInMinutes * minuteSeconds : undefined,
    timeoutAction: h.timeoutConfiguration?.action === 'CONTINUE' ? 'CONTINUE' : 'ROLLBACK',
  }));
  return {
    strategy: config.strategy as ShiftStrategy,
    bakeSeconds: (config.bakeTimeInMinutes ?? 0) * minuteSeconds,
    stepPercent: config.linearConfiguration?.stepPercent ?? 10,
    stepBakeSeconds: (config.linearConfiguration?.stepBakeTimeInMinutes ?? 6) * minuteSeconds,
    canaryPercent: config.canaryConfiguration?.canaryPercent ?? 5,
    canaryBakeSeconds: (config.canaryConfiguration?.canaryBakeTimeInMinutes ?? 10) * minuteSeconds,
    hooks,
  };
}

const refsOf = (d: DeploymentRecord) => ((d.lbRefs ?? d.loadBalancers ?? []) as ShiftRef[]);
const sameTarget = (a: ShiftRef, b: ShiftRef) => a.containerName === b.containerName && a.containerPort === b.containerPort;

/** The target group taking production traffic for `ref` before `previous`'s successor starts. */
function productionGroup(ref: ShiftRef, previous: DeploymentRecord | undefined): string {
  const pair = [ref.targetGroupArn, ref.advancedConfiguration?.alternateTargetGroupArn];
  if (!previous) return ref.targetGroupArn!;
  const i = refsOf(previous).findIndex((r) => sameTarget(r, ref));
  const route = previous.shift?.routes[i];
  // A deployment superseded before it moved all production traffic: production is still on its blue group.
  const live = route && previous.rolloutState === 'IN_PROGRESS' && previous.shift!.percent < 100 ? route.blue : refsOf(previous)[i]?.targetGroupArn;
  return live && pair.includes(live) ? live : ref.targetGroupArn!;
}

/**
 * A new deployment (called by startDeployment): where its tasks register (`lbRefs`) and, for the
 * traffic-shifting strategies, its initial shift state. The service's first deployment, and a
 * rollback started afresh, just deploy into the production target group.
 */
export function planShift(doc: ServiceRecord, deployment: DeploymentRecord, previous: DeploymentRecord | undefined, now: number, rollback: boolean): void {
  const refs = (deployment.loadBalancers ?? []) as ShiftRef[];
  if (!refs.some((r) => r.advancedConfiguration?.alternateTargetGroupArn)) return;
  const strategy = doc.deploymentConfiguration.strategy ?? 'ROLLING';
  const shifting = SHIFT_STRATEGIES.includes(strategy) && previous !== undefined && !rollback;
  const routes: ShiftRoute[] = [];
  deployment.lbRefs = refs.map((ref) => {
    const adv = ref.advancedConfiguration;
    if (!adv?.alternateTargetGroupArn) return ref;
    const production = productionGroup(ref, previous);
    const green = shifting ? (production === ref.targetGroupArn ? adv.alternateTargetGroupArn : ref.targetGroupArn!) : production;
    if (shifting && adv.productionListenerRule) routes.push({ production: adv.productionListenerRule, test: adv.testListenerRule, blue: production, green });
    return { ...ref, targetGroupArn: green };
  });
  if (shifting) deployment.shift = initialShift(strategy as ShiftStrategy, routes, now);
}

/**
 * Rolls a traffic-shifting PRIMARY back to the deployment it replaces, when that one's tasks are
 * still there (until CLEAN_UP): it becomes PRIMARY again, production traffic returns to it, and
 * the new tasks drain and stop. Answers false when there is nothing to return to this way.
 */
export async function rollBackShift(tx: StoreTx, doc: ServiceRecord, reason: string, now: number): Promise<boolean> {
  const failed = doc.deployments[0];
  const blue = doc.deployments[1];
  if (!failed?.shift || failed.shift.rollback || !blue || failed.shift.stage === 'CLEAN_UP') return false;
  failed.rolloutState = 'FAILED';
  failed.rolloutStateReason = reason;
  failed.status = 'ACTIVE';
  failed.updatedAt = now;
  const back: DeploymentRecord = {
    ...blue,
    status: 'PRIMARY',
    rolloutState: 'IN_PROGRESS',
    rolloutStateReason: reason,
    rollbackOf: failed.id,
    serviceDeploymentArn: failed.serviceDeploymentArn,
    desiredCount: doc.desiredCount,
    updatedAt: now,
    shift: rollbackShift(failed.shift, now),
  };
  doc.deployments = [back, failed, ...doc.deployments.slice(2)];
  doc.taskDefinition = back.taskDefinition;
  doc.steady = false;
  const history = await tx.get(c.serviceDeployments, failed.serviceDeploymentArn);
  if (history) {
    await tx.update(c.serviceDeployments, history, {
      ...history.data,
      status: 'ROLLBACK_IN_PROGRESS',
      statusReason: reason,
      rollback: { reason, startedAt: now, serviceRevisionArn: blue.serviceRevisionArn },
      lifecycleStage: back.shift!.stage,
      lifecycleHookDetails: hookDetails(back.shift!.hooks),
      updatedAt: now,
    });
  }
  return true;
}

const newHookId = () => `ecs-pause-${randomBytes(32).toString('base64url').slice(0, 43)}`;

function hookDetails(hooks: NonNullable<DeploymentRecord['shift']>['hooks']) {
  return hooks.map((h) => ({ hookId: h.hookId, targetType: 'PAUSE', status: h.status, ...(h.expiresAt !== undefined ? { expiresAt: h.expiresAt } : {}), timeoutAction: h.timeoutAction }));
}

/** Records decideShift's answer on the PRIMARY and its history record (lifecycleStage, hook details). */
export async function applyShift(tx: StoreTx, primary: DeploymentRecord, decision: ShiftDecision, now: number): Promise<void> {
  const before = JSON.stringify(primary.shift);
  const state = decision.state;
  for (const h of state.hooks) h.hookId ??= newHookId();
  primary.shift = state;
  if (JSON.stringify(state) === before) return;
  primary.updatedAt = now;
  const history = await tx.get(c.serviceDeployments, primary.serviceDeploymentArn);
  if (history) await tx.update(c.serviceDeployments, history, { ...history.data, lifecycleStage: state.stage, lifecycleHookDetails: hookDetails(state.hooks), updatedAt: now });
}

/** ContinueServiceDeployment: CONTINUE (the default) lets a deployment paused at a PAUSE hook go on; ROLLBACK returns to the previous revision. */
export async function continueDeployment(tx: StoreTx, scope: Scope, input: ContinueServiceDeploymentRequest, now: number): Promise<string> {
  const notFound = () => new AwsError('ServiceDeploymentNotFoundException', 'The service deployment does not exist.');
  const history = await tx.get(c.serviceDeployments, input.serviceDeploymentArn);
  if (!history || history.data.accountId !== scope.accountId || history.data.region !== scope.region) throw notFound();
  const row = await tx.get(c.services, history.data.serviceArn);
  const doc = row && (structuredClone(row.data) as ServiceRecord);
  const primary = doc?.deployments[0];
  const hook = primary?.serviceDeploymentArn === history.pk ? primary.shift?.hooks.find((h) => h.hookId === input.hookId) : undefined;
  if (!row || !doc || !primary || history.data.status !== 'IN_PROGRESS' || primary.rolloutState !== 'IN_PROGRESS') {
    throw err.invalidParameter('The service deployment is not in progress and cannot be continued.');
  }
  if (!hook) throw err.invalidParameter(`The lifecycle hook ${String(input.hookId).slice(0, 128)} was not found in the service deployment.`);
  if (hook.status !== 'AWAITING_ACTION') throw err.invalidParameter(`The lifecycle hook ${hook.hookId} is not awaiting action (status ${hook.status}).`);
  const action = input.action ?? 'CONTINUE';
  if (action !== 'CONTINUE' && action !== 'ROLLBACK') throw err.invalidParameter('action must be CONTINUE or ROLLBACK.');
  if (action === 'CONTINUE') {
    hook.status = 'SUCCEEDED';
    primary.updatedAt = now;
    doc.steady = false;
    await tx.update(c.serviceDeployments, history, { ...history.data, lifecycleHookDetails: hookDetails(primary.shift!.hooks), updatedAt: now });
  } else {
    hook.status = 'FAILED';
    const reason = `Service deployment rolled back by lifecycle hook ${hook.hookId}.`;
    if (await rollBackShift(tx, doc, reason, now)) addEvents(doc, [`(service ${doc.serviceName}) rolling back to deployment ${doc.deployments[0]!.id}.`], now);
  }
  await tx.update(c.services, row, doc);
  return history.pk;
}
