/**
 * The alarm decision, pure: the last `evaluationPeriods` periods' values (oldest first, undefined
 * where no data arrived) and the alarm's rule → the state CloudWatch would put it in, with
 * CloudWatch's reason wording. M of N: ALARM when at least `datapointsToAlarm` of the periods
 * breach; missing periods count as treatMissingData says (breaching, notBreaching, ignore: keep
 * the current state when nothing is known, missing: INSUFFICIENT_DATA when nothing is known).
 */
export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
export type ComparisonOperator = 'GreaterThanOrEqualToThreshold' | 'GreaterThanThreshold' | 'LessThanThreshold' | 'LessThanOrEqualToThreshold';

export interface AlarmRule {
  period: number;
  evaluationPeriods: number;
  datapointsToAlarm?: number;
  threshold: number;
  comparisonOperator: string;
  treatMissingData?: string;
  statistic?: string;
}

export interface Datapoint {
  /** Epoch seconds of the period's start. */
  t: number;
  value: number | undefined;
}

export interface Evaluation {
  state: AlarmState;
  reason: string;
  reasonData: string;
  /** The newest value evaluated (the scaling policies an alarm invokes use it). */
  latest: number | undefined;
}

const WORDS: Record<string, [string, string]> = {
  GreaterThanOrEqualToThreshold: ['greater than or equal to', 'not greater than or equal to'],
  GreaterThanThreshold: ['greater than', 'not greater than'],
  LessThanThreshold: ['less than', 'not less than'],
  LessThanOrEqualToThreshold: ['less than or equal to', 'not less than or equal to'],
};

export function breaches(op: string, value: number, threshold: number): boolean {
  switch (op) {
    case 'GreaterThanOrEqualToThreshold':
      return value >= threshold;
    case 'GreaterThanThreshold':
      return value > threshold;
    case 'LessThanThreshold':
      return value < threshold;
    case 'LessThanOrEqualToThreshold':
      return value <= threshold;
    default:
      return false;
  }
}

/** `30/11/26 21:40:00` as CloudWatch prints datapoint times in reasons. */
function shortDate(t: number): string {
  const d = new Date(t * 1000).toISOString();
  return `${d.slice(8, 10)}/${d.slice(5, 7)}/${d.slice(2, 4)} ${d.slice(11, 19)}`;
}
const num = (v: number) => (Number.isInteger(v) ? v.toFixed(1) : String(v));

/** `now`: epoch seconds of the evaluation (shown as the reason data's queryDate). */
export function evaluateAlarm(rule: AlarmRule, datapoints: readonly Datapoint[], current: AlarmState, now: number): Evaluation {
  const n = rule.evaluationPeriods;
  const m = Math.min(rule.datapointsToAlarm ?? n, n);
  const window = datapoints.slice(-n);
  const known = window.filter((d): d is { t: number; value: number } => d.value !== undefined);
  const missing = window.length - known.length + Math.max(0, n - window.length);
  const treat = rule.treatMissingData ?? 'missing';
  const breachingKnown = known.filter((d) => breaches(rule.comparisonOperator, d.value, rule.threshold)).length;
  const breaching = breachingKnown + (treat === 'breaching' ? missing : 0);
  const newestFirst = [...known].reverse();
  const latest = newestFirst[0]?.value;
  const reasonData = JSON.stringify({
    version: '1.0',
    queryDate: new Date(now * 1000).toISOString().replace('Z', '+0000'),
    statistic: rule.statistic,
    period: rule.period,
    recentDatapoints: known.map((d) => d.value),
    threshold: rule.threshold,
    evaluatedDatapoints: newestFirst.map((d) => ({ timestamp: new Date(d.t * 1000).toISOString().replace('Z', '+0000'), value: d.value })),
  });
  const [yes, no] = WORDS[rule.comparisonOperator] ?? ['beyond', 'not beyond'];

  if (known.length === 0 && (treat === 'missing' || treat === 'ignore')) {
    if (treat === 'ignore' && current !== 'INSUFFICIENT_DATA') {
      return { state: current, reason: `Threshold Crossed: no datapoints were received for ${n} period${n > 1 ? 's' : ''} and ${n} missing datapoint${n > 1 ? 's were' : ' was'} treated as [Ignore].`, reasonData, latest };
    }
    return { state: 'INSUFFICIENT_DATA', reason: `Insufficient Data: ${n} datapoint${n > 1 ? 's were' : ' was'} unknown.`, reasonData, latest };
  }
  const shown = newestFirst.slice(0, 5).map((d) => `${num(d.value)} (${shortDate(d.t)})`).join(', ');
  const considered = treat === 'breaching' || treat === 'notBreaching' ? n : known.length;
  if (breaching >= m) {
    return {
      state: 'ALARM',
      reason: `Threshold Crossed: ${breaching} out of the last ${considered} datapoints [${shown}] ${breaching === 1 ? 'was' : 'were'} ${yes} the threshold (${num(rule.threshold)}) (minimum ${m} datapoint${m > 1 ? 's' : ''} for OK -> ALARM transition).`,
      reasonData,
      latest,
    };
  }
  const ok = considered - breaching;
  return {
    state: 'OK',
    reason: `Threshold Crossed: ${ok} out of the last ${considered} datapoints [${shown}] ${ok === 1 ? 'was' : 'were'} ${no} the threshold (${num(rule.threshold)}) (minimum 1 datapoint for ALARM -> OK transition).`,
    reasonData,
    latest,
  };
}
