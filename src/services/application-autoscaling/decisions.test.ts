import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stepDecision, targetTrackingDecision, type TargetState } from './decisions.js';

const state = (over: Partial<TargetState> = {}): TargetState => ({ current: 2, min: 1, max: 10, scaleInSuspended: false, scaleOutSuspended: false, ...over });
const steps = { AdjustmentType: 'ChangeInCapacity', StepAdjustments: [{ MetricIntervalLowerBound: 0, MetricIntervalUpperBound: 10, ScalingAdjustment: 1 }, { MetricIntervalLowerBound: 10, ScalingAdjustment: 3 }] };
const NOW = 10_000;

describe('step scaling decisions', () => {
  it('picks the step that holds the breach size', () => {
    assert.deepEqual(stepDecision(steps, state(), 85, 80, undefined, NOW), { kind: 'scale', capacity: 3 });
    assert.deepEqual(stepDecision(steps, state(), 95, 80, undefined, NOW), { kind: 'scale', capacity: 5 });
  });
  it('scales by percent (with a minimum magnitude) and to an exact capacity', () => {
    const pct = { AdjustmentType: 'PercentChangeInCapacity', MinAdjustmentMagnitude: 2, StepAdjustments: [{ MetricIntervalLowerBound: 0, ScalingAdjustment: 50 }] };
    assert.deepEqual(stepDecision(pct, state({ current: 8 }), 90, 80, undefined, NOW), { kind: 'scale', capacity: 12 > 10 ? 10 : 12 });
    assert.deepEqual(stepDecision(pct, state({ current: 2 }), 90, 80, undefined, NOW), { kind: 'scale', capacity: 4 });
    assert.deepEqual(stepDecision({ AdjustmentType: 'ExactCapacity', StepAdjustments: [{ MetricIntervalUpperBound: 0, ScalingAdjustment: 1 }] }, state({ current: 6 }), 10, 20, undefined, NOW), { kind: 'scale', capacity: 1 });
  });
  it('respects the cooldown, the bounds and suspension', () => {
    assert.equal(stepDecision({ ...steps, Cooldown: 300 }, state(), 85, 80, NOW - 100, NOW).kind, 'none');
    assert.equal(stepDecision({ ...steps, Cooldown: 300 }, state(), 85, 80, NOW - 400, NOW).kind, 'scale');
    assert.deepEqual(stepDecision(steps, state({ current: 10 }), 95, 80, undefined, NOW), { kind: 'none', why: 'already at the maximum capacity' });
    assert.deepEqual(stepDecision(steps, state({ scaleOutSuspended: true }), 95, 80, undefined, NOW), { kind: 'none', why: 'dynamic scale-out is suspended' });
  });
});

describe('target tracking decisions', () => {
  const cfg = { TargetValue: 40, ScaleOutCooldown: 60, ScaleInCooldown: 300 };
  it('scales out in proportion to the metric, and in the same way', () => {
    assert.deepEqual(targetTrackingDecision(cfg, state({ current: 2 }), 90, true, NOW), { kind: 'scale', capacity: 5 });
    assert.deepEqual(targetTrackingDecision(cfg, state({ current: 4 }), 10, false, NOW), { kind: 'scale', capacity: 1 });
    assert.deepEqual(targetTrackingDecision(cfg, state({ current: 0 }), 90, true, NOW), { kind: 'scale', capacity: 1 });
  });
  it('waits out its cooldowns and honours DisableScaleIn', () => {
    assert.equal(targetTrackingDecision(cfg, state({ lastScaledAt: NOW - 30, lastScaleDirection: 'out' }), 90, true, NOW).kind, 'none');
    assert.equal(targetTrackingDecision(cfg, state({ lastScaledAt: NOW - 120, lastScaleDirection: 'out' }), 90, true, NOW).kind, 'scale');
    assert.equal(targetTrackingDecision(cfg, state({ current: 4, lastScaledAt: NOW - 120, lastScaleDirection: 'out' }), 10, false, NOW).kind, 'none');
    assert.equal(targetTrackingDecision({ ...cfg, DisableScaleIn: true }, state({ current: 4 }), 10, false, NOW).kind, 'none');
  });
});
