/**
 * Metric data points, kept apart from the control-plane store (DESIGN.md "High-volume data"):
 * their own SQLite file `metrics.sqlite` in the data dir, written in batches.
 *
 * Layout: `series` names each metric (account/region, namespace, name, canonical dimensions) once
 * with a small integer id; points are aggregated per minute into `(count, sum, min, max)` rows in
 * one table per UTC day (`m_<day>`), and per hour into one table per 32 days (`h_<n>`). Retention
 * drops whole tables, never row by row. A minute with one sample stores min and max as NULL (they
 * equal the sum), so the common row is ~26 bytes: series id, minute, count, one double.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';

export interface Dimension {
  Name: string;
  Value: string;
}

export interface SeriesKey {
  scope: string;
  namespace: string;
  metricName: string;
  dimensions: readonly Dimension[];
}

export interface SeriesRow extends SeriesKey {
  id: number;
  unit: string | undefined;
  /** Epoch seconds of the latest point written. */
  lastTimestamp: number;
}

/** One aggregated bucket. */
export interface Aggregate {
  /** Epoch seconds of the bucket's start. */
  t: number;
  count: number;
  sum: number;
  min: number;
  max: number;
}

export interface PointInput {
  key: SeriesKey;
  unit?: string;
  /** Epoch seconds. */
  timestamp: number;
  count: number;
  sum: number;
  min: number;
  max: number;
}

export interface RetentionSettings {
  /** How long one-minute points are kept (default 15 days, as CloudWatch keeps them). */
  minuteRetentionSeconds: number;
  /** How long hourly rollups are kept (default 455 days, as CloudWatch). */
  hourRetentionSeconds: number;
}

export const DEFAULT_RETENTION: RetentionSettings = { minuteRetentionSeconds: 15 * 86400, hourRetentionSeconds: 455 * 86400 };

interface Resolution {
  prefix: 'm' | 'h';
  bucket: number;
  segment: number;
}
const MINUTE: Resolution = { prefix: 'm', bucket: 60, segment: 86400 };
const HOUR: Resolution = { prefix: 'h', bucket: 3600, segment: 32 * 86400 };

/** Dimensions in one canonical order, as the series' identity. */
export function canonicalDimensions(dimensions: readonly Dimension[]): string {
  return JSON.stringify([...dimensions].sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0)).map((d) => [d.Name, d.Value]));
}

export class MetricStore {
  private readonly db: Database.Database;
  private readonly tables = new Set<string>();
  private readonly seriesIds = new Map<string, number>();
  /** Prepared upserts per segment table (dropped with their table). */
  private readonly upserts = new Map<string, Database.Statement>();
  private seriesStatements: Record<'findSeries' | 'insertSeries' | 'touchSeries', Database.Statement> | undefined;

  constructor(
    dataDir: string,
    private readonly retention: RetentionSettings = DEFAULT_RETENTION,
    file = 'metrics.sqlite',
  ) {
    this.db = new Database(join(dataDir, file));
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS series (
      id INTEGER PRIMARY KEY, scope TEXT NOT NULL, namespace TEXT NOT NULL, metric TEXT NOT NULL, dims TEXT NOT NULL,
      unit TEXT, last_ts INTEGER NOT NULL, UNIQUE (scope, namespace, metric, dims))`);
    this.db.exec('CREATE INDEX IF NOT EXISTS series_metric ON series (scope, metric)');
    for (const { name } of this.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND (name LIKE 'm\\_%' ESCAPE '\\' OR name LIKE 'h\\_%' ESCAPE '\\')").all() as { name: string }[]) {
      this.tables.add(name);
    }
  }

  /** Writes a batch of points in one transaction: the minute table and the hourly rollup of each. */
  put(points: readonly PointInput[]): void {
    const { findSeries, insertSeries, touchSeries } = (this.seriesStatements ??= {
      findSeries: this.db.prepare('SELECT id FROM series WHERE scope = ? AND namespace = ? AND metric = ? AND dims = ?'),
      insertSeries: this.db.prepare('INSERT INTO series (scope, namespace, metric, dims, unit, last_ts) VALUES (?, ?, ?, ?, ?, ?)'),
      touchSeries: this.db.prepare('UPDATE series SET unit = coalesce(?, unit), last_ts = max(last_ts, ?) WHERE id = ? AND (last_ts < ? OR (? IS NOT NULL AND unit IS NOT ?))'),
    });
    this.db.transaction(() => {
      for (const p of points) {
        const dims = canonicalDimensions(p.key.dimensions);
        const cacheKey = `${p.key.scope}\u0000${p.key.namespace}\u0000${p.key.metricName}\u0000${dims}`;
        let id = this.seriesIds.get(cacheKey);
        if (id === undefined) {
          const row = findSeries.get(p.key.scope, p.key.namespace, p.key.metricName, dims) as { id: number } | undefined;
          id = row ? row.id : Number(insertSeries.run(p.key.scope, p.key.namespace, p.key.metricName, dims, p.unit ?? null, Math.floor(p.timestamp)).lastInsertRowid);
          this.seriesIds.set(cacheKey, id);
        }
        const ts = Math.floor(p.timestamp);
        const unit = p.unit ?? null;
        touchSeries.run(unit, ts, id, ts, unit, unit);
        for (const res of [MINUTE, HOUR]) this.upsert(res, id, p);
      }
    })();
  }

  private upsert(res: Resolution, id: number, p: PointInput): void {
    const bucket = Math.floor(p.timestamp / res.bucket);
    const table = this.table(res, bucket * res.bucket, true)!;
    const single = p.count === 1 && p.min === p.sum && p.max === p.sum;
    let upsert = this.upserts.get(table);
    if (!upsert) {
      upsert = this.db.prepare(
        `INSERT INTO ${table} (s, b, n, sum, mn, mx) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (s, b) DO UPDATE SET n = n + excluded.n, sum = sum + excluded.sum,
           mn = min(coalesce(mn, sum), coalesce(excluded.mn, excluded.sum)), mx = max(coalesce(mx, sum), coalesce(excluded.mx, excluded.sum))`,
      );
      this.upserts.set(table, upsert);
    }
    upsert.run(id, bucket, p.count, p.sum, single ? null : p.min, single ? null : p.max);
  }

  /** The table holding bucket time `t` (epoch seconds); created when `create`, else undefined if absent. */
  private table(res: Resolution, t: number, create: boolean): string | undefined {
    const name = `${res.prefix}_${Math.floor(t / res.segment)}`;
    if (this.tables.has(name)) return name;
    if (!create) return undefined;
    this.db.exec(`CREATE TABLE IF NOT EXISTS ${name} (s INTEGER NOT NULL, b INTEGER NOT NULL, n REAL NOT NULL, sum REAL NOT NULL, mn REAL, mx REAL, PRIMARY KEY (s, b)) WITHOUT ROWID`);
    this.tables.add(name);
    return name;
  }

  /** The series of one metric with exactly these dimensions, if any. */
  series(key: SeriesKey): SeriesRow | undefined {
    const row = this.db.prepare('SELECT * FROM series WHERE scope = ? AND namespace = ? AND metric = ? AND dims = ?').get(key.scope, key.namespace, key.metricName, canonicalDimensions(key.dimensions)) as DbSeries | undefined;
    return row && toSeries(row);
  }

  /** Series matching a filter (ListMetrics, METRICS()); ordered by id, after `afterId`, at most `limit`. */
  findSeries(filter: { scope: string; namespace?: string; metricName?: string; since?: number; afterId?: number; limit: number }): SeriesRow[] {
    const where = ['scope = ?'];
    const args: (string | number)[] = [filter.scope];
    if (filter.namespace !== undefined) (where.push('namespace = ?'), args.push(filter.namespace));
    if (filter.metricName !== undefined) (where.push('metric = ?'), args.push(filter.metricName));
    if (filter.since !== undefined) (where.push('last_ts >= ?'), args.push(filter.since));
    if (filter.afterId !== undefined) (where.push('id > ?'), args.push(filter.afterId));
    const rows = this.db.prepare(`SELECT * FROM series WHERE ${where.join(' AND ')} ORDER BY id LIMIT ?`).all(...args, filter.limit) as DbSeries[];
    return rows.map(toSeries);
  }

  /**
   * Buckets of `seriesId` with start in [start, end), aggregated to `period` seconds (a multiple of
   * 60): from the minute tables while they are kept, from the hourly rollups for periods that are
   * whole hours or ranges older than the minute retention.
   */
  read(seriesId: number, start: number, end: number, period: number, now: number): Aggregate[] {
    const hourly = period % 3600 === 0 || start < now - this.retention.minuteRetentionSeconds;
    const res = hourly ? HOUR : MINUTE;
    const out = new Map<number, Aggregate>();
    const firstSegment = Math.floor(start / res.segment);
    const lastSegment = Math.floor((end - 1) / res.segment);
    // Only the segments that exist: a range of centuries costs no more than the data it covers.
    const segments = [...this.tables].filter((n) => n.startsWith(`${res.prefix}_`)).map((n) => Number(n.slice(2))).filter((n) => n >= firstSegment && n <= lastSegment);
    for (const seg of segments) {
      const table = `${res.prefix}_${seg}`;
      const rows = this.db.prepare(`SELECT b, n, sum, mn, mx FROM ${table} WHERE s = ? AND b >= ? AND b < ?`).raw().all(seriesId, Math.floor(start / res.bucket), Math.ceil(end / res.bucket)) as [number, number, number, number | null, number | null][];
      for (const [b, n, sum, mn, mx] of rows) {
        const t = b * res.bucket;
        if (t < start || t >= end) continue;
        const key = start + Math.floor((t - start) / period) * period;
        const min = mn ?? sum;
        const max = mx ?? sum;
        const agg = out.get(key);
        if (!agg) out.set(key, { t: key, count: n, sum, min, max });
        else {
          agg.count += n;
          agg.sum += sum;
          if (min < agg.min) agg.min = min;
          if (max > agg.max) agg.max = max;
        }
      }
    }
    return [...out.values()].sort((a, b) => a.t - b.t);
  }

  /** Drops the segments past retention; returns how many tables went. */
  enforceRetention(now: number): number {
    let dropped = 0;
    for (const name of [...this.tables]) {
      const [prefix, n] = name.split('_') as ['m' | 'h', string];
      const res = prefix === 'm' ? MINUTE : HOUR;
      const keep = prefix === 'm' ? this.retention.minuteRetentionSeconds : this.retention.hourRetentionSeconds;
      if ((Number(n) + 1) * res.segment < now - keep) {
        this.upserts.delete(name);
        this.db.exec(`DROP TABLE ${name}`);
        this.tables.delete(name);
        dropped++;
      }
    }
    return dropped;
  }

  /** Forgets everything (POST /_dockyard/reset). */
  clear(): void {
    this.upserts.clear();
    for (const name of this.tables) this.db.exec(`DROP TABLE ${name}`);
    this.tables.clear();
    this.db.exec('DELETE FROM series');
    this.seriesIds.clear();
  }

  close(): void {
    this.db.close();
  }
}

interface DbSeries {
  id: number;
  scope: string;
  namespace: string;
  metric: string;
  dims: string;
  unit: string | null;
  last_ts: number;
}

function toSeries(row: DbSeries): SeriesRow {
  return {
    id: row.id,
    scope: row.scope,
    namespace: row.namespace,
    metricName: row.metric,
    dimensions: (JSON.parse(row.dims) as [string, string][]).map(([Name, Value]) => ({ Name, Value })),
    unit: row.unit ?? undefined,
    lastTimestamp: row.last_ts,
  };
}
