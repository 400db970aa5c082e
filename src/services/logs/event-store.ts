/**
 * Where CloudWatch Logs keeps its data: its own SQLite file (`<dataDir>/logs/logs.db`), apart
 * from the control-plane store, so that high-volume appends never queue behind API writes
 * (DESIGN.md "High-volume data"). Groups, streams and events live here together.
 *
 * Events are indexed by (stream, timestamp) for GetLogEvents and by (group, timestamp) for
 * FilterLogEvents and retention; the row id breaks timestamp ties, so (timestamp, id) is a total
 * order and every page token is a position in it. Ids are never reused (AUTOINCREMENT): they are
 * the events' eventIds, and live tails follow them. Writes come in batches, one transaction each.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export interface GroupRow {
  id: number;
  region: string;
  name: string;
  created: number;
  retention_days: number | null;
  kms_key_id: string | null;
  class: string;
  deletion_protection: number;
  tags: string;
  stored_bytes: number;
}

export interface StreamRow {
  id: number;
  group_id: number;
  name: string;
  created: number;
  first_event: number | null;
  last_event: number | null;
  last_ingestion: number | null;
  stored_bytes: number;
  ship_cursor: string | null;
}

export interface EventRow {
  id: number;
  stream_id: number;
  ts: number;
  ingested: number;
  message: string;
}

/** A position in the (timestamp, id) order. */
export type EventPosition = readonly [ts: number, id: number];

/** What AWS counts per event on top of the message's UTF-8 bytes. */
export const EVENT_OVERHEAD_BYTES = 26;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS groups (
  id INTEGER PRIMARY KEY, region TEXT NOT NULL, name TEXT NOT NULL, created INTEGER NOT NULL,
  retention_days INTEGER, kms_key_id TEXT, class TEXT NOT NULL, deletion_protection INTEGER NOT NULL DEFAULT 0,
  tags TEXT NOT NULL DEFAULT '{}', stored_bytes INTEGER NOT NULL DEFAULT 0, UNIQUE (region, name));
CREATE TABLE IF NOT EXISTS streams (
  id INTEGER PRIMARY KEY, group_id INTEGER NOT NULL, name TEXT NOT NULL, created INTEGER NOT NULL,
  first_event INTEGER, last_event INTEGER, last_ingestion INTEGER, stored_bytes INTEGER NOT NULL DEFAULT 0,
  ship_cursor TEXT, UNIQUE (group_id, name));
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY AUTOINCREMENT, group_id INTEGER NOT NULL, stream_id INTEGER NOT NULL,
  ts INTEGER NOT NULL, ingested INTEGER NOT NULL, message TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS events_by_stream ON events (stream_id, ts);
CREATE INDEX IF NOT EXISTS events_by_group ON events (group_id, ts);
`;

export interface NewEvent {
  ts: number;
  message: string;
}

export interface ScanOptions {
  groupId: number;
  /** Only these streams (undefined: all of the group's). */
  streamIds?: readonly number[];
  /** Exclusive. */
  after: EventPosition;
  /** Inclusive upper bound on the timestamp. */
  endTs: number;
  /** Substrings every row must contain (checked by SQLite before the row reaches JavaScript). */
  required: readonly string[];
  /** At most this many rows of the range are looked at in one call. */
  budget: number;
}

export class LogEventStore {
  private readonly db: Database.Database;
  private readonly st: Record<string, Database.Statement>;
  private readonly appendTx: (groupId: number, streamId: number, events: readonly NewEvent[], ingested: number, cursor: string | undefined) => void;

  /** `file` ':memory:' keeps everything in memory (tests). */
  constructor(file: string) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    // Losing the last moments of log data in a power cut is acceptable; an fsync per batch is not.
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(SCHEMA);
    const p = (sql: string) => this.db.prepare(sql);
    this.st = {
      insertGroup: p(`INSERT INTO groups (region, name, created, kms_key_id, class, deletion_protection, tags) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`),
      getGroup: p(`SELECT * FROM groups WHERE region = ? AND name = ?`),
      getGroupById: p(`SELECT * FROM groups WHERE id = ?`),
      listGroups: p(`SELECT * FROM groups WHERE region = ? AND name > ? AND name >= ? AND name < ? AND (? IS NULL OR instr(lower(name), lower(?)) > 0) AND (? IS NULL OR class = ?) ORDER BY name LIMIT ?`),
      allGroups: p(`SELECT id, retention_days FROM groups WHERE retention_days IS NOT NULL`),
      deleteGroup: p(`DELETE FROM groups WHERE id = ?`),
      deleteGroupStreams: p(`DELETE FROM streams WHERE group_id = ?`),
      deleteGroupEvents: p(`DELETE FROM events WHERE id IN (SELECT id FROM events WHERE group_id = ? LIMIT 50000)`),
      setRetention: p(`UPDATE groups SET retention_days = ? WHERE id = ?`),
      setTags: p(`UPDATE groups SET tags = ? WHERE id = ?`),
      insertStream: p(`INSERT INTO streams (group_id, name, created) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`),
      getStream: p(`SELECT * FROM streams WHERE group_id = ? AND name = ?`),
      streamsByName: p(`SELECT * FROM streams WHERE group_id = ? AND name > ? AND name >= ? AND name < ? ORDER BY name LIMIT ?`),
      streamsByNameDesc: p(`SELECT * FROM streams WHERE group_id = ? AND name < ? AND name >= ? AND name < ? ORDER BY name DESC LIMIT ?`),
      streamsByTime: p(`SELECT * FROM streams WHERE group_id = ? AND (coalesce(last_event, 0), name) > (?, ?) ORDER BY coalesce(last_event, 0), name LIMIT ?`),
      streamsByTimeDesc: p(`SELECT * FROM streams WHERE group_id = ? AND (coalesce(last_event, 0), name) < (?, ?) ORDER BY coalesce(last_event, 0) DESC, name DESC LIMIT ?`),
      streamsWithPrefix: p(`SELECT id, name FROM streams WHERE group_id = ? AND name >= ? AND name < ? LIMIT 100001`),
      streamNames: p(`SELECT id, name FROM streams WHERE group_id = ?`),
      deleteStream: p(`DELETE FROM streams WHERE id = ?`),
      deleteStreamEvents: p(`DELETE FROM events WHERE id IN (SELECT id FROM events WHERE stream_id = ? LIMIT 50000)`),
      insertEvent: p(`INSERT INTO events (group_id, stream_id, ts, ingested, message) VALUES (?, ?, ?, ?, ?)`),
      touchStream: p(`UPDATE streams SET first_event = min(coalesce(first_event, ?), ?), last_event = max(coalesce(last_event, ?), ?), last_ingestion = ?, stored_bytes = stored_bytes + ?, ship_cursor = coalesce(?, ship_cursor) WHERE id = ?`),
      addGroupBytes: p(`UPDATE groups SET stored_bytes = max(0, stored_bytes + ?) WHERE id = ?`),
      forward: p(`SELECT id, stream_id, ts, ingested, message FROM events WHERE stream_id = ? AND (ts, id) > (?, ?) AND ts < ? ORDER BY ts, id LIMIT ?`),
      backward: p(`SELECT id, stream_id, ts, ingested, message FROM events WHERE stream_id = ? AND (ts, id) < (?, ?) AND ts >= ? ORDER BY ts DESC, id DESC LIMIT ?`),
      // An index-only walk: where the budget of rows ends (the row at offset budget - 1).
      budgetEnd: p(`SELECT ts, id FROM events WHERE group_id = ? AND (ts, id) > (?, ?) AND ts <= ? ORDER BY ts, id LIMIT 1 OFFSET ?`),
      expired: p(`SELECT id, length(CAST(message AS BLOB)) + ${EVENT_OVERHEAD_BYTES} AS bytes FROM events WHERE group_id = ? AND ts < ? LIMIT 50000`),
      countEvents: p(`SELECT count(*) AS n FROM events`),
      maxId: p(`SELECT coalesce(max(id), 0) AS id FROM events`),
      newer: p(`SELECT id, group_id, stream_id, ts, ingested, message FROM events WHERE id > ? AND group_id IN (SELECT value FROM json_each(?)) ORDER BY id LIMIT ?`),
    };
    this.appendTx = this.db.transaction((groupId: number, streamId: number, events: readonly NewEvent[], ingested: number, cursor: string | undefined) => {
      let bytes = 0;
      let first = Number.MAX_SAFE_INTEGER;
      let last = 0;
      for (const e of events) {
        this.st.insertEvent!.run(groupId, streamId, e.ts, ingested, e.message);
        bytes += Buffer.byteLength(e.message) + EVENT_OVERHEAD_BYTES;
        if (e.ts < first) first = e.ts;
        if (e.ts > last) last = e.ts;
      }
      if (events.length === 0) {
        if (cursor !== undefined) this.db.prepare(`UPDATE streams SET ship_cursor = ? WHERE id = ?`).run(cursor, streamId);
        return;
      }
      this.st.touchStream!.run(first, first, last, last, ingested, bytes, cursor ?? null, streamId);
      this.st.addGroupBytes!.run(bytes, groupId);
    });
  }

  close(): void {
    this.db.close();
  }

  /** Everything, gone (the control plane's state reset). */
  clear(): void {
    this.db.exec('DELETE FROM events; DELETE FROM streams; DELETE FROM groups;');
    // A file made before ids were AUTOINCREMENT has no sequence table.
    if (this.db.prepare(`SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'`).get()) this.db.exec(`DELETE FROM sqlite_sequence WHERE name = 'events'`);
  }

  count(): number {
    return (this.st.countEvents!.get() as { n: number }).n;
  }

  // ---- groups ----

  createGroup(g: { region: string; name: string; created: number; kmsKeyId?: string; class: string; deletionProtection: boolean; tags: Record<string, string> }): boolean {
    const r = this.st.insertGroup!.run(g.region, g.name, g.created, g.kmsKeyId ?? null, g.class, g.deletionProtection ? 1 : 0, JSON.stringify(g.tags));
    return r.changes === 1;
  }

  group(region: string, name: string): GroupRow | undefined {
    return this.st.getGroup!.get(region, name) as GroupRow | undefined;
  }

  groupById(id: number): GroupRow | undefined {
    return this.st.getGroupById!.get(id) as GroupRow | undefined;
  }

  /** Groups by name after `after`, with a name prefix and a case-insensitive substring. */
  listGroups(region: string, o: { after: string; prefix: string; pattern?: string; class?: string; limit: number }): GroupRow[] {
    const [lo, hi] = prefixRange(o.prefix);
    return this.st.listGroups!.all(region, o.after, lo, hi, o.pattern ?? null, o.pattern ?? null, o.class ?? null, o.class ?? null, o.limit) as GroupRow[];
  }

  /** Removes a group with its streams and events (in slices, so no single statement holds the file for long). */
  deleteGroup(id: number): void {
    this.db.transaction(() => {
      this.st.deleteGroup!.run(id);
      this.st.deleteGroupStreams!.run(id);
    })();
    while (this.st.deleteGroupEvents!.run(id).changes > 0) {
      // next slice
    }
  }

  setRetention(id: number, days: number | null): void {
    this.st.setRetention!.run(days, id);
  }

  setTags(id: number, tags: Record<string, string>): void {
    this.st.setTags!.run(JSON.stringify(tags), id);
  }

  /** Groups with a retention policy: [id, days]. */
  retained(): { id: number; retention_days: number }[] {
    return this.st.allGroups!.all() as { id: number; retention_days: number }[];
  }

  // ---- streams ----

  createStream(groupId: number, name: string, created: number): boolean {
    return this.st.insertStream!.run(groupId, name, created).changes === 1;
  }

  stream(groupId: number, name: string): StreamRow | undefined {
    return this.st.getStream!.get(groupId, name) as StreamRow | undefined;
  }

  listStreamsByName(groupId: number, o: { after?: string; prefix: string; descending: boolean; limit: number }): StreamRow[] {
    const [lo, hi] = prefixRange(o.prefix);
    if (o.descending) return this.st.streamsByNameDesc!.all(groupId, o.after ?? '\u{10FFFF}', lo, hi, o.limit) as StreamRow[];
    return this.st.streamsByName!.all(groupId, o.after ?? '', lo, hi, o.limit) as StreamRow[];
  }

  listStreamsByTime(groupId: number, o: { after?: readonly [number, string]; descending: boolean; limit: number }): StreamRow[] {
    if (o.descending) {
      const [t, n] = o.after ?? [Number.MAX_SAFE_INTEGER, ''];
      return this.st.streamsByTimeDesc!.all(groupId, t, n, o.limit) as StreamRow[];
    }
    const [t, n] = o.after ?? [-1, ''];
    return this.st.streamsByTime!.all(groupId, t, n, o.limit) as StreamRow[];
  }

  /** The ids and names of a group's streams (all, or those with a prefix). */
  streamIds(groupId: number, prefix?: string): { id: number; name: string }[] {
    if (prefix === undefined) return this.st.streamNames!.all(groupId) as { id: number; name: string }[];
    const [lo, hi] = prefixRange(prefix);
    return this.st.streamsWithPrefix!.all(groupId, lo, hi) as { id: number; name: string }[];
  }

  deleteStream(stream: StreamRow): void {
    this.st.deleteStream!.run(stream.id);
    this.st.addGroupBytes!.run(-stream.stored_bytes, stream.group_id);
    while (this.st.deleteStreamEvents!.run(stream.id).changes > 0) {
      // next slice
    }
  }

  // ---- events ----

  /** One batch, one transaction. `cursor` (the agent's shipping position) is stored with it, atomically. */
  append(groupId: number, streamId: number, events: readonly NewEvent[], ingested: number, cursor?: string): void {
    this.appendTx(groupId, streamId, events, ingested, cursor);
  }

  /** Up to `limit` events of a stream after `after` (ascending) with ts < endTs. */
  forward(streamId: number, after: EventPosition, endTs: number, limit: number): EventRow[] {
    return this.st.forward!.all(streamId, after[0], after[1], endTs, limit) as EventRow[];
  }

  /** Up to `limit` events of a stream before `before` (descending) with ts >= startTs. */
  backward(streamId: number, before: EventPosition, startTs: number, limit: number): EventRow[] {
    return this.st.backward!.all(streamId, before[0], before[1], startTs, limit) as EventRow[];
  }

  /**
   * The rows of a group's time range after `o.after`, in (ts, id) order, that pass the SQL
   * pre-filter; looks at no more than `o.budget` rows of the range. `end` is where the look
   * stopped: the last row of the budget, or undefined when the range was read to its end.
   */
  scan(o: ScanOptions): { rows: IterableIterator<EventRow>; end: EventPosition | undefined } {
    const stop = this.st.budgetEnd!.get(o.groupId, o.after[0], o.after[1], o.endTs, Math.max(0, o.budget - 1)) as { ts: number; id: number } | undefined;
    const end: EventPosition | undefined = stop ? [stop.ts, stop.id] : undefined;
    const where = [`group_id = ?`, `(ts, id) > (?, ?)`, end ? `(ts, id) <= (?, ?)` : `ts <= ?`];
    const args: unknown[] = [o.groupId, o.after[0], o.after[1], ...(end ? [end[0], end[1]] : [o.endTs])];
    if (o.streamIds) {
      where.push(`stream_id IN (SELECT value FROM json_each(?))`);
      args.push(JSON.stringify(o.streamIds));
    }
    for (const s of o.required) {
      where.push(`instr(message, ?) > 0`);
      args.push(s);
    }
    const sql = `SELECT id, stream_id, ts, ingested, message FROM events WHERE ${where.join(' AND ')} ORDER BY ts, id`;
    return { rows: this.db.prepare(sql).iterate(...args) as IterableIterator<EventRow>, end };
  }

  /** The id of the newest event stored (0: none): live tails start after it. */
  maxId(): number {
    return (this.st.maxId!.get() as { id: number }).id;
  }

  /** Events stored after `afterId` in these groups, in the order they were stored (live tail). */
  newer(afterId: number, groupIds: readonly number[], limit: number): (EventRow & { group_id: number })[] {
    return this.st.newer!.all(afterId, JSON.stringify(groupIds), limit) as (EventRow & { group_id: number })[];
  }

  /** Deletes a group's events older than `cutoffTs`; returns how many. */
  deleteBefore(groupId: number, cutoffTs: number): number {
    let total = 0;
    const del = this.db.prepare(`DELETE FROM events WHERE id IN (SELECT value FROM json_each(?))`);
    for (;;) {
      const rows = this.st.expired!.all(groupId, cutoffTs) as { id: number; bytes: number }[];
      if (rows.length === 0) return total;
      this.db.transaction(() => {
        del.run(JSON.stringify(rows.map((r) => r.id)));
        this.st.addGroupBytes!.run(-rows.reduce((n, r) => n + r.bytes, 0), groupId);
      })();
      total += rows.length;
    }
  }
}

/** [lo, hi): the names that start with `prefix`. */
function prefixRange(prefix: string): [string, string] {
  return [prefix, prefix === '' ? '\u{10FFFF}' : prefix + '\u{10FFFF}'];
}
