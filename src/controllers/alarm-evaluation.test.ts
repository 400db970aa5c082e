import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluateAlarm, type AlarmRule, type Datapoint } from './alarm-evaluation.js';

const rule = (over: Partial<AlarmRule> = {}): AlarmRule => ({ period: 60, evaluationPeriods: 3, threshold: 70, comparisonOperator: 'GreaterThanThreshold', ...over });
const points = (...values: (number | undefined)[]): Datapoint[] => values.map((value, i) => ({ t: 1_800_000_000 + i * 60, value }));
const NOW = 1_800_000_200;

describe('evaluateAlarm', () => {
  it('goes to ALARM when every period of the window breaches, with CloudWatch wording', () => {
    const r = evaluateAlarm(rule(), points(80, 90, 75), 'OK', NOW);
    assert.equal(r.state, 'ALARM');
    assert.equal(r.latest, 75);
    assert.match(r.reason, /^Threshold Crossed: 3 out of the last 3 datapoints \[75\.0 \(15\/01\/27 08:02:00\), 90\.0 .*\] were greater than the threshold \(70\.0\) \(minimum 3 datapoints for OK -> ALARM transition\)\.$/);
    assert.equal(JSON.parse(r.reasonData).threshold, 70);
  });

  it('needs datapointsToAlarm of evaluationPeriods (M of N)', () => {
    assert.equal(evaluateAlarm(rule({ datapointsToAlarm: 2 }), points(80, 10, 90), 'OK', NOW).state, 'ALARM');
    assert.equal(evaluateAlarm(rule({ datapointsToAlarm: 2 }), points(80, 10, 20), 'ALARM', NOW).state, 'OK');
    assert.equal(evaluateAlarm(rule(), points(80, 10, 90), 'OK', NOW).state, 'OK');
  });

  it('compares with each operator, the threshold itself included or not', () => {
    const at = points(70, 70, 70);
    assert.equal(evaluateAlarm(rule({ comparisonOperator: 'GreaterThanThreshold' }), at, 'OK', NOW).state, 'OK');
    assert.equal(evaluateAlarm(rule({ comparisonOperator: 'GreaterThanOrEqualToThreshold' }), at, 'OK', NOW).state, 'ALARM');
    assert.equal(evaluateAlarm(rule({ comparisonOperator: 'LessThanThreshold' }), at, 'OK', NOW).state, 'OK');
    assert.equal(evaluateAlarm(rule({ comparisonOperator: 'LessThanOrEqualToThreshold' }), at, 'OK', NOW).state, 'ALARM');
    const low = evaluateAlarm(rule({ comparisonOperator: 'LessThanThreshold' }), points(1, 2, 3), 'OK', NOW);
    assert.equal(low.state, 'ALARM');
    assert.match(low.reason, /were less than the threshold/);
  });

  it('treats missing data as the alarm says', () => {
    const none = points(undefined, undefined, undefined);
    assert.equal(evaluateAlarm(rule(), none, 'OK', NOW).state, 'INSUFFICIENT_DATA');
    assert.equal(evaluateAlarm(rule(), none, 'OK', NOW).reason, 'Insufficient Data: 3 datapoints were unknown.');
    assert.equal(evaluateAlarm(rule({ treatMissingData: 'missing' }), none, 'ALARM', NOW).state, 'INSUFFICIENT_DATA');
    assert.equal(evaluateAlarm(rule({ treatMissingData: 'breaching' }), none, 'OK', NOW).state, 'ALARM');
    assert.equal(evaluateAlarm(rule({ treatMissingData: 'notBreaching' }), none, 'ALARM', NOW).state, 'OK');
    assert.equal(evaluateAlarm(rule({ treatMissingData: 'ignore' }), none, 'ALARM', NOW).state, 'ALARM');
    assert.equal(evaluateAlarm(rule({ treatMissingData: 'ignore' }), none, 'INSUFFICIENT_DATA', NOW).state, 'INSUFFICIENT_DATA');
    // Partly missing: breaching fills the gaps with breaches, notBreaching with good points.
    const partial = points(80, undefined, 90);
    assert.equal(evaluateAlarm(rule({ treatMissingData: 'breaching' }), partial, 'OK', NOW).state, 'ALARM');
    assert.equal(evaluateAlarm(rule({ treatMissingData: 'notBreaching' }), partial, 'OK', NOW).state, 'OK');
    assert.equal(evaluateAlarm(rule({ treatMissingData: 'missing', datapointsToAlarm: 2 }), partial, 'OK', NOW).state, 'ALARM');
  });

  it('looks only at the last evaluationPeriods periods', () => {
    assert.equal(evaluateAlarm(rule({ evaluationPeriods: 2 }), points(99, 10, 10), 'ALARM', NOW).state, 'OK');
    assert.equal(evaluateAlarm(rule({ evaluationPeriods: 2 }), points(10, 99, 99), 'OK', NOW).state, 'ALARM');
  });
});
