import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideShift, initialShift, readyCount, rollbackShift, trafficOf, weightsFor, type ShiftPlan, type ShiftState } from './deployment-strategies.js';
import { decideService, type ServiceInput, type ServiceTaskInput } from './service-decisions.js';

const route = { production: 'rule/prod', test: 'rule/test', blue: 'tg/blue', green: 'tg/green' };
const plan = (over: Partial<ShiftPlan> = {}): ShiftPlan => ({ strategy: 'BLUE_GREEN', bakeSeconds: 60, stepPercent: 10, stepBakeSeconds: 30, canaryPercent: 5, canaryBakeSeconds: 100, hooks: [], ...over });

/** Runs decisions until the stage stops moving (bounded), at time `now`; answers the last decision. */
function settle(state: ShiftState, p: ShiftPlan, now: number, ready = 2) {
  let d = decideShift({ service: 's', deploymentId: 'd2', state, plan: p, desiredCount: 2, readyCount: ready, now });
  for (let i = 0; i < 20; i++) {
    const next = decideShift({ service: 's', deploymentId: 'd2', state: d.state, plan: p, desiredCount: 2, readyCount: ready, now });
    if (JSON.stringify(next.state) === JSON.stringify(d.state)) return next;
    d = next;
  }
  return d;
}
const prodWeights = (s: ShiftState) => trafficOf(s).find((t) => t.rule === 'rule/prod')!.groups.map((g) => `${g.targetGroupArn}=${g.weight}`).join(',');
const testWeights = (s: ShiftState) => trafficOf(s).find((t) => t.rule === 'rule/test')!.groups.map((g) => `${g.targetGroupArn}=${g.weight}`).join(',');

describe('decideShift', () => {
  it('blue/green: holds starts until SCALE_UP, waits for green to be ready, shifts test then production traffic, bakes, then cleans up', () => {
    const s0 = initialShift('BLUE_GREEN', [route], 1000);
    const d1 = decideShift({ service: 's', deploymentId: 'd2', state: s0, plan: plan(), desiredCount: 2, readyCount: 0, now: 1000 });
    assert.equal(d1.state.stage, 'SCALE_UP');
    assert.equal(d1.holdStarts, false);
    assert.equal(d1.holdRetired, true);
    assert.equal(prodWeights(d1.state), 'tg/blue=100,tg/green=0');
    assert.equal(testWeights(d1.state), 'tg/blue=100,tg/green=0');
    // Not all green tasks ready: it stays.
    const d2 = decideShift({ service: 's', deploymentId: 'd2', state: d1.state, plan: plan(), desiredCount: 2, readyCount: 1, now: 1001 });
    assert.equal(d2.state.stage, 'SCALE_UP');
    // Ready: test traffic moves first, and the pass stops there.
    const d3 = decideShift({ service: 's', deploymentId: 'd2', state: d2.state, plan: plan(), desiredCount: 2, readyCount: 2, now: 1002 });
    assert.equal(d3.state.stage, 'TEST_TRAFFIC_SHIFT');
    assert.equal(testWeights(d3.state), 'tg/blue=0,tg/green=100');
    assert.equal(prodWeights(d3.state), 'tg/blue=100,tg/green=0');
    // Next pass: production flips all at once.
    const d4 = decideShift({ service: 's', deploymentId: 'd2', state: d3.state, plan: plan(), desiredCount: 2, readyCount: 2, now: 1003 });
    assert.equal(d4.state.stage, 'PRODUCTION_TRAFFIC_SHIFT');
    assert.equal(prodWeights(d4.state), 'tg/blue=0,tg/green=100');
    assert.ok(d4.events.some((e) => e.includes('shifted 100% of production traffic')));
    // Then the bake: the old tasks are kept until it ends.
    const d5 = decideShift({ service: 's', deploymentId: 'd2', state: d4.state, plan: plan(), desiredCount: 2, readyCount: 2, now: 1004 });
    assert.equal(d5.state.stage, 'BAKE_TIME');
    assert.equal(d5.holdRetired, true);
    assert.equal(d5.wakeAt, 1064);
    const d6 = settle(d5.state, plan(), 1063);
    assert.equal(d6.state.stage, 'BAKE_TIME');
    const d7 = settle(d5.state, plan(), 1064);
    assert.equal(d7.state.stage, 'CLEAN_UP');
    assert.equal(d7.holdRetired, false);
    assert.equal(prodWeights(d7.state), 'tg/blue=0,tg/green=100');
  });

  it('linear: stepPercent every stepBakeTime, one weight change per pass', () => {
    let s = settle(initialShift('LINEAR', [route], 0), plan({ strategy: 'LINEAR', stepPercent: 25, stepBakeSeconds: 30 }), 0).state;
    assert.equal(s.stage, 'PRODUCTION_TRAFFIC_SHIFT');
    assert.equal(s.percent, 25);
    const seen: number[] = [s.percent];
    for (let t = 1; t <= 200 && s.stage === 'PRODUCTION_TRAFFIC_SHIFT'; t++) {
      const d = decideShift({ service: 's', deploymentId: 'd2', state: s, plan: plan({ strategy: 'LINEAR', stepPercent: 25, stepBakeSeconds: 30 }), desiredCount: 2, readyCount: 2, now: t });
      if (d.state.percent !== s.percent) seen.push(d.state.percent);
      s = d.state;
    }
    assert.deepEqual(seen, [25, 50, 75, 100]);
    assert.equal(s.stage, 'BAKE_TIME');
  });

  it('canary: canaryPercent, then the rest after canaryBakeTime; fractional percents become weights out of 1000', () => {
    const p = plan({ strategy: 'CANARY', canaryPercent: 12.5, canaryBakeSeconds: 100 });
    const s = settle(initialShift('CANARY', [route], 0), p, 0).state;
    assert.equal(s.percent, 12.5);
    assert.equal(prodWeights(s), 'tg/blue=875,tg/green=125');
    assert.equal(settle(s, p, 99).state.percent, 12.5);
    const after = decideShift({ service: 's', deploymentId: 'd2', state: s, plan: p, desiredCount: 2, readyCount: 2, now: 100 });
    assert.equal(after.state.percent, 100);
    assert.equal(after.state.stage, 'PRODUCTION_TRAFFIC_SHIFT', 'the weight change is applied before the stage is left');
  });

  it('a PAUSE hook holds the stage until continued; a timeout takes its action', () => {
    const p = plan({ hooks: [{ index: 0, stages: ['POST_TEST_TRAFFIC_SHIFT'], timeoutSeconds: 50, timeoutAction: 'ROLLBACK' }] });
    const paused = settle(initialShift('BLUE_GREEN', [route], 0), p, 10).state;
    assert.equal(paused.stage, 'POST_TEST_TRAFFIC_SHIFT');
    assert.deepEqual(paused.hooks.map((h) => [h.stage, h.status, h.expiresAt]), [['POST_TEST_TRAFFIC_SHIFT', 'AWAITING_ACTION', 60]]);
    assert.equal(prodWeights(paused), 'tg/blue=100,tg/green=0');
    // Continued (ContinueServiceDeployment sets SUCCEEDED): production shifts.
    const continued = { ...paused, hooks: paused.hooks.map((h) => ({ ...h, status: 'SUCCEEDED' as const })) };
    assert.equal(settle(continued, p, 20).state.percent, 100);
    // Timed out: rollback.
    const timedOut = decideShift({ service: 's', deploymentId: 'd2', state: paused, plan: p, desiredCount: 2, readyCount: 2, now: 60 });
    assert.match(timedOut.rollback ?? '', /timed out at lifecycle stage POST_TEST_TRAFFIC_SHIFT/);
    assert.equal(timedOut.state.hooks[0]!.status, 'TIMED_OUT');
    // CONTINUE as the timeout action goes on instead.
    const goOn = plan({ hooks: [{ index: 0, stages: ['POST_TEST_TRAFFIC_SHIFT'], timeoutSeconds: 50, timeoutAction: 'CONTINUE' }] });
    const d = settle(paused, goOn, 60);
    assert.equal(d.rollback, undefined);
    assert.equal(d.state.percent, 100);
  });

  it('a PRE_PRODUCTION_TRAFFIC_SHIFT hook holds after test traffic, before production moves', () => {
    const p = plan({ hooks: [{ index: 0, stages: ['PRE_PRODUCTION_TRAFFIC_SHIFT'], timeoutAction: 'ROLLBACK' }] });
    const d = settle(initialShift('BLUE_GREEN', [route], 0), p, 5);
    assert.equal(d.state.stage, 'POST_TEST_TRAFFIC_SHIFT');
    assert.equal(testWeights(d.state), 'tg/blue=0,tg/green=100');
    assert.equal(prodWeights(d.state), 'tg/blue=100,tg/green=0');
  });

  it('a PAUSE hook on RECONCILE_SERVICE holds before anything starts', () => {
    const p = plan({ hooks: [{ index: 0, stages: ['RECONCILE_SERVICE'], timeoutAction: 'ROLLBACK' }] });
    const d = settle(initialShift('BLUE_GREEN', [route], 0), p, 5);
    assert.equal(d.state.stage, 'RECONCILE_SERVICE');
    assert.equal(d.holdStarts, true);
    assert.deepEqual(d.state.hooks.map((h) => h.status), ['AWAITING_ACTION']);
    const continued = { ...d.state, hooks: d.state.hooks.map((h) => ({ ...h, status: 'SUCCEEDED' as const })) };
    assert.equal(settle(continued, p, 6, 0).state.stage, 'SCALE_UP');
  });

  it('a rollback puts traffic back on the old revision before the new tasks go', () => {
    const during = settle(initialShift('BLUE_GREEN', [route], 0), plan({ bakeSeconds: 1000 }), 5).state;
    assert.equal(during.stage, 'BAKE_TIME');
    const back = rollbackShift(during, 10);
    assert.equal(prodWeights(back), 'tg/green=0,tg/blue=100');
    assert.equal(testWeights(back), 'tg/green=0,tg/blue=100');
    // The first pass only applies the weights (old tasks kept)…
    const d1 = decideShift({ service: 's', deploymentId: 'd1', state: back, plan: plan({ bakeSeconds: 1000 }), desiredCount: 2, readyCount: 2, now: 10 });
    assert.equal(d1.state.stage, 'PRODUCTION_TRAFFIC_SHIFT');
    assert.equal(d1.holdRetired, true);
    // …the next cleans up without the bake.
    const d2 = decideShift({ service: 's', deploymentId: 'd1', state: d1.state, plan: plan({ bakeSeconds: 1000 }), desiredCount: 2, readyCount: 2, now: 11 });
    assert.equal(d2.state.stage, 'CLEAN_UP');
    assert.equal(d2.holdRetired, false);
  });

  it('weightsFor keeps ALB weights within 0..999', () => {
    assert.deepEqual(weightsFor(0), { blue: 100, green: 0 });
    assert.deepEqual(weightsFor(100), { blue: 0, green: 100 });
    assert.deepEqual(weightsFor(0.1), { blue: 999, green: 1 });
    assert.deepEqual(weightsFor(99.9), { blue: 1, green: 999 });
  });
});

describe('decideService holding for a traffic-shifting deployment', () => {
  const svc = (hold?: ServiceInput['hold']): ServiceInput => ({
    name: 's',
    status: 'ACTIVE',
    schedulingStrategy: 'REPLICA',
    desiredCount: 2,
    minimumHealthyPercent: 100,
    maximumPercent: 100,
    circuitBreaker: { enable: false, rollback: false },
    healthCheckGracePeriodSeconds: 0,
    deployments: [
      { id: 'd2', rolloutState: 'IN_PROGRESS', healthChecked: false, failedTasks: 0 },
      { id: 'd1', rolloutState: 'COMPLETED', healthChecked: false, failedTasks: 0 },
    ],
    steady: false,
    loadBalanced: true,
    hold,
  });
  const task = (arn: string, dep: string): ServiceTaskInput => ({ arn, deploymentId: dep, instanceArn: 'i', lastStatus: 'RUNNING', desiredStatus: 'RUNNING', seen: false, lb: { state: 'healthy' } });
  const blue = [task('a', 'd1'), task('b', 'd1')];
  const instances = [{ arn: 'i', status: 'ACTIVE' }];

  it('starts green at full count beside blue (maximumPercent aside) and keeps blue', () => {
    const d = decideService(svc({ starts: false, retired: true }), blue, instances, 0);
    assert.equal(d.startCount, 2);
    assert.deepEqual(d.stops, []);
  });
  it('starts nothing before SCALE_UP', () => {
    assert.equal(decideService(svc({ starts: true, retired: true }), blue, instances, 0).startCount, 0);
  });
  it('at CLEAN_UP stops blue once green is healthy; without a hold it rolls within maximumPercent', () => {
    const both = [...blue, task('c', 'd2'), task('d', 'd2')];
    assert.deepEqual(decideService(svc({ starts: false, retired: false }), both, instances, 0).stops.map((s) => s.arn).sort(), ['a', 'b']);
    assert.equal(decideService(svc(), blue, instances, 0).startCount, 0, 'rolling at 100% max: no room');
    assert.equal(readyCount(both, 'd2', false), 2);
  });
});
