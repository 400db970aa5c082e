import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkSchedule, nextRun, ScheduleError } from './schedule.js';

const at = (iso: string) => Date.parse(iso) / 1000;

describe('scheduled action expressions', () => {
  it('runs at() once, in its time zone', () => {
    assert.equal(nextRun({ schedule: 'at(2026-12-01T09:30:00)' }, at('2026-11-30T00:00:00Z')), at('2026-12-01T09:30:00Z'));
    assert.equal(nextRun({ schedule: 'at(2026-12-01T09:30:00)', timezone: 'America/New_York' }, at('2026-11-30T00:00:00Z')), at('2026-12-01T14:30:00Z'));
    assert.equal(nextRun({ schedule: 'at(2026-12-01T09:30:00)' }, at('2026-12-01T09:30:00Z')), undefined);
  });
  it('runs rate() from the start time, and stops at the end time', () => {
    const start = at('2026-11-30T10:00:00Z');
    assert.equal(nextRun({ schedule: 'rate(5 minutes)', startTime: start }, start + 1), start + 300);
    assert.equal(nextRun({ schedule: 'rate(1 hour)', startTime: start }, start - 3600), start);
    assert.equal(nextRun({ schedule: 'rate(1 day)', startTime: start, endTime: start + 3600 }, start + 10), undefined);
  });
  it('runs cron() with AWS six fields, in its time zone', () => {
    assert.equal(nextRun({ schedule: 'cron(0 12 * * ? *)' }, at('2026-11-30T13:00:00Z')), at('2026-12-01T12:00:00Z'));
    assert.equal(nextRun({ schedule: 'cron(0 12 * * ? *)', timezone: 'Europe/Paris' }, at('2026-11-30T00:00:00Z')), at('2026-11-30T11:00:00Z'));
    assert.equal(nextRun({ schedule: 'cron(15 10 ? * MON-FRI *)' }, at('2026-11-28T00:00:00Z')), at('2026-11-30T10:15:00Z'));
  });
  it('refuses malformed expressions and zones', () => {
    for (const schedule of ['cron(0 12 * *)', 'rate(0 minutes)', 'rate(5 fortnights)', 'at(2026-13-01T00:00:00)', 'every day', 'cron(99 * * * ? *)']) {
      assert.throws(() => checkSchedule({ schedule }), ScheduleError, schedule);
    }
    assert.throws(() => checkSchedule({ schedule: 'rate(5 minutes)', timezone: 'Mars/Olympus' }), ScheduleError);
  });
});
