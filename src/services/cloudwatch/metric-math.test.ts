import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluate, MathError, parseExpression, type MathValue, type Series } from './metric-math.js';

const grid = [0, 60, 120, 180];
const series = (...pairs: [number, number][]): MathValue => ({ kind: 'series', series: new Map(pairs) });
const values: Record<string, MathValue> = {
  a: series([0, 1], [60, 2], [180, 4]),
  b: series([0, 10], [60, 20], [120, 30]),
};
const run = (expr: string) => evaluate(parseExpression(expr), { lookup: (id) => values[id], metricIds: ['a', 'b'], grid });
const points = (v: MathValue) => [...(v as { series: Series }).series].sort((x, y) => x[0] - y[0]);

describe('metric math', () => {
  it('does arithmetic with precedence, on timestamps both series have', () => {
    assert.deepEqual(points(run('a + b * 2')), [[0, 21], [60, 42]]);
    assert.deepEqual(points(run('(a + 1) ^ 2 - -1')), [[0, 5], [60, 10], [180, 26]]);
    assert.deepEqual(points(run('b / (a - 1)')), [[60, 20]]);
  });
  it('reduces arrays point by point and single series to scalars', () => {
    assert.deepEqual(points(run('SUM(METRICS())')), [[0, 11], [60, 22], [120, 30], [180, 4]]);
    assert.deepEqual(points(run('MAX([a, b])')), [[0, 10], [60, 20], [120, 30], [180, 4]]);
    assert.deepEqual(run('AVG(a)'), { kind: 'scalar', value: 7 / 3 });
    assert.deepEqual(run('MIN(b)'), { kind: 'scalar', value: 10 });
    assert.deepEqual(points(run("SUM(METRICS('b'))")), [[0, 10], [60, 20], [120, 30]]);
  });
  it('fills gaps with a value, the previous value, or a line', () => {
    assert.deepEqual(points(run('FILL(a, 0)')), [[0, 1], [60, 2], [120, 0], [180, 4]]);
    assert.deepEqual(points(run('FILL(a, REPEAT)')), [[0, 1], [60, 2], [120, 2], [180, 4]]);
    assert.deepEqual(points(run('FILL(a, LINEAR)')), [[0, 1], [60, 2], [120, 3], [180, 4]]);
  });
  it('takes a few unary minuses', () => assert.deepEqual(points(run('---a')), [[0, -1], [60, -2], [180, -4]]));
  it('rejects what it does not know, without throwing anything but MathError', () => {
    for (const bad of ['a +', 'FOO(a)', 'c', '((a)', 'a $ b', 'FILL(a)', "'x'", '-'.repeat(5000) + 'a', 'a' + '^a'.repeat(5000), '('.repeat(100) + 'a' + ')'.repeat(100)]) {
      assert.throws(() => run(bad), MathError, bad);
    }
  });
});
