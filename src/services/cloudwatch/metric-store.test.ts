import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { MetricStore, type PointInput } from './metric-store.js';

const dir = mkdtempSync(join(tmpdir(), 'metric-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const key = (dims: { Name: string; Value: string }[] = [{ Name: 'B', Value: '2' }, { Name: 'A', Value: '1' }]) => ({ scope: '000000000000:us-east-1', namespace: 'N', metricName: 'M', dimensions: dims });
const point = (timestamp: number, v: number, dims?: { Name: string; Value: string }[]): PointInput => ({ key: key(dims), timestamp, count: 1, sum: v, min: v, max: v });
const DAY = 86400;
const T0 = 20_000 * DAY;

describe('MetricStore', () => {
  it('aggregates points per minute (single samples and merged ones), whatever the order of dimensions', () => {
    const s = new MetricStore(dir, undefined, 'a.sqlite');
    s.put([point(T0 + 5, 10), point(T0 + 30, 4, [{ Name: 'A', Value: '1' }, { Name: 'B', Value: '2' }]), point(T0 + 65, 7)]);
    s.put([{ key: key(), timestamp: T0 + 70, count: 3, sum: 30, min: 1, max: 20 }]);
    const series = s.series(key())!;
    assert.deepEqual(s.read(series.id, T0, T0 + 120, 60, T0), [
      { t: T0, count: 2, sum: 14, min: 4, max: 10 },
      { t: T0 + 60, count: 4, sum: 37, min: 1, max: 20 },
    ]);
    assert.deepEqual(s.read(series.id, T0, T0 + 120, 120, T0), [{ t: T0, count: 6, sum: 51, min: 1, max: 20 }]);
    // Whole hours come from the rollups, with the same totals.
    assert.deepEqual(s.read(series.id, T0, T0 + 3600, 3600, T0), [{ t: T0, count: 6, sum: 51, min: 1, max: 20 }]);
    assert.equal(s.findSeries({ scope: '000000000000:us-east-1', limit: 10 }).length, 1);
    s.close();
  });

  it('drops whole day tables past retention, keeping the hourly rollups longer', () => {
    const s = new MetricStore(dir, { minuteRetentionSeconds: 2 * DAY, hourRetentionSeconds: 100 * DAY }, 'b.sqlite');
    for (let d = 0; d < 5; d++) s.put([point(T0 + d * DAY + 10, d)]);
    const id = s.series(key())!.id;
    assert.equal(s.enforceRetention(T0 + 5 * DAY), 2, 'days 0 and 1 go');
    assert.deepEqual(s.read(id, T0 + 3 * DAY, T0 + 5 * DAY, 60, T0 + 3 * DAY).map((a) => a.sum), [3, 4]);
    assert.deepEqual(s.read(id, T0, T0 + 5 * DAY, 3600, T0 + 5 * DAY).map((a) => a.sum), [0, 1, 2, 3, 4], 'hourly rollups stay');
    assert.equal(s.read(id, -1e12, 1e12, 3600, T0).length, 5, 'a huge range reads only the tables that exist');
    s.clear();
    assert.equal(s.series(key()), undefined);
    s.close();
    assert.ok(readdirSync(dir).includes('b.sqlite'));
  });
});
