/**
 * Scheduled action expressions, pure: `at(yyyy-mm-ddThh:mm:ss)`, `rate(N minute|minutes|hour|hours|day|days)`
 * and `cron(min hour day-of-month month day-of-week year)` (AWS's six fields), in an IANA time zone.
 * `nextRun` says when an action runs next after a moment, within its StartTime/EndTime.
 */
import { Cron } from 'croner';

export class ScheduleError extends Error {}

export interface ScheduleSpec {
  schedule: string;
  timezone?: string;
  /** Epoch seconds. */
  startTime?: number;
  endTime?: number;
}

const RATE_UNITS: Record<string, number> = { minute: 60, minutes: 60, hour: 3600, hours: 3600, day: 86400, days: 86400 };

export function checkTimezone(tz: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
  } catch {
    throw new ScheduleError(`Invalid timezone: ${tz}`);
  }
}

/** Epoch seconds of a wall-clock time in `tz` (what `at(...)` names). */
function wallClock(text: string, tz: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/.exec(text);
  if (!m) throw new ScheduleError(`The at expression must be at(yyyy-mm-ddThh:mm:ss): ${text}`);
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const guess = Date.UTC(y, mo - 1, d, h, mi, s);
  if (Number.isNaN(guess) || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) throw new ScheduleError(`Invalid date in the at expression: ${text}`);
  // The zone's offset at that moment, from how Intl shows the guess there.
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })
      .formatToParts(new Date(guess))
      .map((p) => [p.type, p.value]),
  );
  const shown = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
  return (guess - (shown - guess)) / 1000;
}

function cronOf(fields: string, tz: string): Cron {
  const parts = fields.trim().split(/\s+/);
  if (parts.length !== 6) throw new ScheduleError(`A cron expression has six fields (minutes hours day-of-month month day-of-week year): cron(${fields})`);
  try {
    // croner's seven fields: seconds first, year last.
    return new Cron(`0 ${parts.join(' ')}`, { timezone: tz, paused: true, legacyMode: false });
  } catch (e) {
    throw new ScheduleError(`Invalid cron expression cron(${fields}): ${(e as Error).message}`);
  }
}

/** Checks the expression; throws ScheduleError with what is wrong. */
export function checkSchedule(spec: ScheduleSpec): void {
  nextRun(spec, 0);
}

/** Epoch seconds of the first run strictly after `after`, or undefined when none is left. */
export function nextRun(spec: ScheduleSpec, after: number): number | undefined {
  const tz = spec.timezone ?? 'UTC';
  checkTimezone(tz);
  const expr = spec.schedule.trim();
  const from = Math.max(after, (spec.startTime ?? -Infinity) - 1);
  let next: number | undefined;
  let m: RegExpExecArray | null;
  if ((m = /^at\((.*)\)$/.exec(expr))) {
    const at = wallClock(m[1]!.trim(), tz);
    next = at > from ? at : undefined;
  } else if ((m = /^rate\((\d{1,6})\s+([a-z]+)\)$/.exec(expr))) {
    const unit = RATE_UNITS[m[2]!];
    const n = Number(m[1]);
    if (!unit || n < 1) throw new ScheduleError(`Invalid rate expression: ${expr}`);
    const step = n * unit;
    // Rates count from the StartTime when there is one, else from the epoch.
    const origin = spec.startTime ?? 0;
    next = origin + (Math.floor((from - origin) / step) + 1) * step;
  } else if ((m = /^cron\((.*)\)$/.exec(expr))) {
    const found = cronOf(m[1]!, tz).nextRun(new Date(Math.max(from, 0) * 1000));
    next = found ? found.getTime() / 1000 : undefined;
  } else {
    throw new ScheduleError(`The schedule must be an at, rate or cron expression: ${expr.slice(0, 256)}`);
  }
  if (next !== undefined && spec.endTime !== undefined && next > spec.endTime) return undefined;
  return next;
}
