/**
 * What a scaling policy does when its alarm fires, pure: the capacity it asks for, or why it
 * does nothing (cooldown, suspended, already there). The domain applies the answer.
 */
export interface StepAdjustment {
  MetricIntervalLowerBound?: number;
  MetricIntervalUpperBound?: number;
  ScalingAdjustment: number;
}

export interface StepConfig {
  AdjustmentType?: string;
  StepAdjustments?: StepAdjustment[];
  MinAdjustmentMagnitude?: number;
  Cooldown?: number;
}

export interface TargetTrackingConfig {
  TargetValue: number;
  ScaleOutCooldown?: number;
  ScaleInCooldown?: number;
  DisableScaleIn?: boolean;
}

export interface TargetState {
  current: number;
  min: number;
  max: number;
  /** Epoch seconds of the target's last scaling activity and its direction. */
  lastScaledAt?: number;
  lastScaleDirection?: 'out' | 'in';
  scaleInSuspended: boolean;
  scaleOutSuspended: boolean;
}

export type Decision = { kind: 'scale'; capacity: number } | { kind: 'none'; why: string };

const clamp = (n: number, s: TargetState) => Math.min(s.max, Math.max(s.min, n));

function finish(desired: number, s: TargetState): Decision {
  const capacity = clamp(desired, s);
  if (capacity === s.current) return { kind: 'none', why: desired > s.max ? 'already at the maximum capacity' : desired < s.min ? 'already at the minimum capacity' : 'no change in capacity' };
  if (capacity > s.current && s.scaleOutSuspended) return { kind: 'none', why: 'dynamic scale-out is suspended' };
  if (capacity < s.current && s.scaleInSuspended) return { kind: 'none', why: 'dynamic scale-in is suspended' };
  return { kind: 'scale', capacity };
}

/**
 * Step scaling: the step whose interval holds (value - threshold) gives the adjustment; within the
 * policy's cooldown after its own last activity, nothing happens.
 */
export function stepDecision(cfg: StepConfig, s: TargetState, value: number | undefined, threshold: number, policyLastScaledAt: number | undefined, now: number): Decision {
  if (policyLastScaledAt !== undefined && now - policyLastScaledAt < (cfg.Cooldown ?? 0)) return { kind: 'none', why: 'the policy is in its cooldown period' };
  const diff = (value ?? threshold) - threshold;
  const step = (cfg.StepAdjustments ?? []).find((a) => (a.MetricIntervalLowerBound ?? -Infinity) <= diff && diff < (a.MetricIntervalUpperBound ?? Infinity))
    // A breach exactly at an upper bound of +0 (LessThan alarms) belongs to the step ending there.
    ?? (cfg.StepAdjustments ?? []).find((a) => (a.MetricIntervalLowerBound ?? -Infinity) <= diff && diff <= (a.MetricIntervalUpperBound ?? Infinity));
  if (!step) return { kind: 'none', why: 'no step adjustment covers the metric value' };
  const adj = step.ScalingAdjustment;
  let desired: number;
  switch (cfg.AdjustmentType ?? 'ChangeInCapacity') {
    case 'ExactCapacity':
      desired = adj;
      break;
    case 'PercentChangeInCapacity': {
      let change = Math.trunc((s.current * adj) / 100);
      const magnitude = cfg.MinAdjustmentMagnitude ?? 0;
      if (Math.abs(change) < magnitude) change = Math.sign(adj) * magnitude;
      desired = s.current + change;
      break;
    }
    default:
      desired = s.current + adj;
  }
  return finish(desired, s);
}

/**
 * Target tracking: capacity proportional to how far the metric is from the target
 * (ceil(current × value / target)); the high alarm only scales out, the low alarm only in, each
 * with its cooldown (scale-in also waits out a recent scale-out).
 */
export function targetTrackingDecision(cfg: TargetTrackingConfig, s: TargetState, value: number | undefined, high: boolean, now: number): Decision {
  if (value === undefined) return { kind: 'none', why: 'no metric value to track' };
  const since = s.lastScaledAt === undefined ? Infinity : now - s.lastScaledAt;
  if (high) {
    if (s.lastScaleDirection === 'out' && since < (cfg.ScaleOutCooldown ?? 300)) return { kind: 'none', why: 'the scale-out cooldown is in effect' };
    const desired = Math.max(s.current === 0 ? 1 : 0, Math.ceil((s.current * value) / cfg.TargetValue - 1e-9));
    return desired > s.current ? finish(desired, s) : { kind: 'none', why: 'no change in capacity' };
  }
  if (cfg.DisableScaleIn) return { kind: 'none', why: 'scale-in is disabled' };
  if (since < (cfg.ScaleInCooldown ?? 300)) return { kind: 'none', why: 'the scale-in cooldown is in effect' };
  const desired = Math.ceil((s.current * value) / cfg.TargetValue - 1e-9);
  return desired < s.current ? finish(desired, s) : { kind: 'none', why: 'no change in capacity' };
}
