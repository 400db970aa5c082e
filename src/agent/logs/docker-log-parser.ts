/**
 * Reads the Engine API's container log stream (`GET /containers/{id}/logs?timestamps=1`, no TTY):
 * 8-byte frame headers (stream type, size) around `<RFC3339Nano timestamp> <line>` payloads.
 * Turns it into lines with their timestamp and cursor (PURE, incremental: frames may be split
 * across chunks).
 */

export interface LogLine {
  /** Epoch milliseconds (Docker's timestamp). */
  timestamp: number;
  message: string;
  /** `<ns since the epoch>.<index among the lines of that ns>`: the line's position in the output. */
  cursor: string;
}

export { compareCursors } from '../../core/log-cursor.js';

const HEADER = 8;
const RESUME_MARGIN_NS = 10_000_000n;
/** A frame larger than this is not Docker's (it splits lines at 16 KiB): the stream is not what we expect. */
const MAX_FRAME = 1024 * 1024;

/** Nanoseconds since the epoch of an RFC3339Nano UTC timestamp, or undefined. */
export function parseDockerTimestamp(ts: string): bigint | undefined {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z$/.exec(ts);
  if (!m) return undefined;
  const seconds = Date.parse(`${m[1]}Z`);
  if (!Number.isFinite(seconds)) return undefined;
  return BigInt(seconds / 1000) * 1_000_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

/**
 * Where to ask Docker to resume (`since`: seconds with a nanosecond fraction) for a cursor. A
 * little before it: Docker's two output streams can be out of timestamp order by microseconds,
 * and lines at or before the cursor come again and are skipped.
 */
export function sinceOf(cursor: string | undefined): string {
  if (!cursor) return '0';
  let ns = BigInt(cursor.split('.')[0]!) - RESUME_MARGIN_NS;
  if (ns < 0n) ns = 0n;
  return `${ns / 1_000_000_000n}.${String(ns % 1_000_000_000n).padStart(9, '0')}`;
}

export class DockerLogParser {
  private pending: Buffer = Buffer.alloc(0);
  /** A line Docker split into several frames (over 16 KiB), per output stream. */
  private readonly partial = new Map<number, { ts: string; parts: string[] }>();
  private lastNs = -1n;
  private index = 0;

  /** Lines completed by `chunk`, in order. Throws on a stream that is not Docker's framing. */
  push(chunk: Buffer): LogLine[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const out: LogLine[] = [];
    let off = 0;
    while (this.pending.length - off >= HEADER) {
      const type = this.pending[off]!;
      const size = this.pending.readUInt32BE(off + 4);
      if (type > 2 || size > MAX_FRAME) throw new Error('unexpected data in the container log stream (not Docker\'s multiplexed framing)');
      if (this.pending.length - off - HEADER < size) break;
      const payload = this.pending.toString('utf8', off + HEADER, off + HEADER + size);
      off += HEADER + size;
      const line = this.frame(type, payload);
      if (line) out.push(line);
    }
    this.pending = off === this.pending.length ? Buffer.alloc(0) : Buffer.from(this.pending.subarray(off));
    return out;
  }

  private frame(type: number, payload: string): LogLine | undefined {
    const sp = payload.indexOf(' ');
    const ts = sp > 0 ? payload.slice(0, sp) : payload;
    let text = sp > 0 ? payload.slice(sp + 1) : '';
    const complete = text.endsWith('\n');
    if (complete) text = text.slice(0, -1);
    const part = this.partial.get(type);
    if (!complete) {
      if (part) part.parts.push(text);
      else this.partial.set(type, { ts, parts: [text] });
      return undefined;
    }
    let first = ts;
    if (part) {
      this.partial.delete(type);
      text = part.parts.join('') + text;
      first = part.ts;
    }
    let ns = parseDockerTimestamp(first);
    if (ns === undefined) return undefined;
    // Cursors never go backwards (stdout and stderr lines can be out of timestamp order by microseconds).
    if (ns < this.lastNs) ns = this.lastNs;
    if (ns === this.lastNs) this.index++;
    else {
      this.lastNs = ns;
      this.index = 0;
    }
    return { timestamp: Number(ns / 1_000_000n), message: text, cursor: `${ns}.${this.index}` };
  }
}
