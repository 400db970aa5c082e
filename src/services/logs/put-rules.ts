/**
 * PutLogEvents' batch rules, as CloudWatch Logs applies them (PURE). A batch that breaks a hard
 * rule is refused whole; events too old, too new or past the group's retention are left out and
 * named in rejectedLogEventsInfo, and the rest are stored.
 */
import { EVENT_OVERHEAD_BYTES } from './event-store.js';

export const MAX_BATCH_BYTES = 1_048_576;
export const MAX_BATCH_EVENTS = 10_000;
/** An event may be at most this many bytes (message plus the 26 bytes of overhead). */
export const MAX_EVENT_BYTES = 1_048_576;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
export const TOO_NEW_MS = 2 * HOUR;
export const TOO_OLD_MS = 14 * DAY;
export const MAX_BATCH_SPAN_MS = DAY;

/** The retention periods PutRetentionPolicy accepts, in days. */
export const RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

export interface RejectedInfo {
  tooNewLogEventStartIndex?: number;
  tooOldLogEventEndIndex?: number;
  expiredLogEventEndIndex?: number;
}

export type BatchVerdict =
  | { ok: false; message: string }
  | { ok: true; accepted: { from: number; to: number }; rejected: RejectedInfo | undefined };

/**
 * Checks a batch at `nowMs` for a group with `retentionDays` (null: kept forever). `accepted` is
 * the index range [from, to) of the events to store (the batch is in time order, so the
 * rejected ones are a prefix and a suffix).
 */
export function checkBatch(events: readonly { timestamp: number; message: string }[], nowMs: number, retentionDays: number | null): BatchVerdict {
  if (events.length > MAX_BATCH_EVENTS) return { ok: false, message: `1 validation error detected: Value at 'logEvents' failed to satisfy constraint: Member must have length less than or equal to ${MAX_BATCH_EVENTS}` };
  let bytes = 0;
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    const size = Buffer.byteLength(e.message) + EVENT_OVERHEAD_BYTES;
    if (size > MAX_EVENT_BYTES) return { ok: false, message: `Log event too large: ${size} bytes exceeds limit of ${MAX_EVENT_BYTES}` };
    bytes += size;
    if (i > 0 && e.timestamp < events[i - 1]!.timestamp) return { ok: false, message: 'Log events in a single PutLogEvents request must be in chronological order.' };
  }
  if (bytes > MAX_BATCH_BYTES) return { ok: false, message: `Upload too large: ${bytes} bytes exceeds limit of ${MAX_BATCH_BYTES}` };
  if (events.length > 1 && events[events.length - 1]!.timestamp - events[0]!.timestamp > MAX_BATCH_SPAN_MS) {
    return { ok: false, message: 'The batch of log events in a single PutLogEvents request cannot span more than 24 hours.' };
  }
  const rejected: RejectedInfo = {};
  let from = 0;
  let to = events.length;
  const oldest = nowMs - TOO_OLD_MS;
  const expiredBefore = retentionDays === null ? -Infinity : nowMs - retentionDays * DAY;
  for (let i = 0; i < events.length; i++) {
    const ts = events[i]!.timestamp;
    if (ts < oldest) {
      rejected.tooOldLogEventEndIndex = i;
      from = i + 1;
    } else if (ts < expiredBefore) {
      rejected.expiredLogEventEndIndex = i;
      from = i + 1;
    } else if (ts > nowMs + TOO_NEW_MS) {
      rejected.tooNewLogEventStartIndex = i;
      to = i;
      break;
    }
  }
  return { ok: true, accepted: { from, to: Math.max(from, to) }, rejected: Object.keys(rejected).length ? rejected : undefined };
}
