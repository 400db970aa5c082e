/**
 * The embedded Store: SQLite through better-sqlite3, WAL mode, in `<dataDir>/dockyard.db`.
 *
 * better-sqlite3 is synchronous, the Store interface is not: writes are queued and run one at a
 * time on the writer connection (each in a SAVEPOINT inside a group-committed BEGIN IMMEDIATE ...
 * COMMIT, see write()), so a transaction may await between statements without another request's
 * writes interleaving. Each read() is a transaction on a connection of its own (a small pool of
 * read-only connections), so it sees one committed snapshot however long it awaits.
 */
import Database from 'better-sqlite3';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { ConflictError } from '../core/errors.js';
import { ChangeFeed, type ChangeFilter, type TouchedRow } from './change-feed.js';
import { allCollections, migrations, resetCollections, tableName } from './migrations.js';
import type { Collection, Condition, IndexValue, Query, Row, Store, StoreTx, Where, WriteObserver } from './store.js';

type Statement = Database.Statement<unknown[], unknown>;

/** Most writes one SQLite transaction carries (bounds the latency a group adds). */
const MAX_GROUP = 32;
/** Most read connections open at once: further concurrent read() calls wait for one to be free. */
const MAX_READERS = 8;

/** A read-only connection with its own prepared statements. */
interface Reader {
  db: Database.Database;
  statements: Map<string, Statement>;
  begin: Statement;
  commit: Statement;
}

interface PendingWrite {
  fn: (tx: StoreTx) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

export class SqliteStore implements Store {
  private readonly file: string;
  private readonly writer: Database.Database;
  private readonly statements = new Map<string, Statement>();
  private readonly feed = new ChangeFeed();
  private readonly pending: PendingWrite[] = [];
  private readonly clearListeners: (() => void)[] = [];
  /** Set while writes are being applied; close() waits for it. */
  private draining: Promise<void> | undefined;
  private index: number;
  private readonly checkpointer: Worker | undefined;
  private readonly control: Record<'begin' | 'commit' | 'rollback' | 'savepoint' | 'release' | 'rollbackToSavepoint' | 'bumpChangeIndex', Statement>;
  private readonly readers: Reader[] = [];
  private readonly idleReaders: Reader[] = [];
  private readonly waitingForReader: ((reader: Reader) => void)[] = [];
  private readonly observers: WriteObserver[] = [];
  /** The directory ':memory:' stands for, removed at close(). */
  private readonly temporaryDir: string | undefined;

  /**
   * `dataDir` ':memory:' keeps everything in a private database in a temporary directory, removed
   * at close() (tests): a SQLite in-memory database has one connection, so its reads could not be
   * snapshots isolated from the writer's open transaction.
   */
  constructor(dataDir: string) {
    this.temporaryDir = dataDir === ':memory:' ? mkdtempSync(join(tmpdir(), 'dockyard-store-')) : undefined;
    const dir = this.temporaryDir ?? dataDir;
    mkdirSync(dir, { recursive: true });
    this.file = join(dir, 'dockyard.db');
    this.writer = new Database(this.file);
    this.writer.pragma('journal_mode = WAL');
    // A temporary store need not survive a crash.
    this.writer.pragma(this.temporaryDir ? 'synchronous = OFF' : 'synchronous = NORMAL');
    this.writer.pragma('busy_timeout = 5000');
    this.migrate();
    if (!this.temporaryDir) {
      // A checkpoint fsyncs the WAL and the database: on the writer it would stall the event loop
      // (every request in flight) for several ms a few times a second under write load.
      this.writer.pragma('wal_autocheckpoint = 0');
      this.checkpointer = startCheckpointer(this.file);
      // Should the worker ever fail, fall back to SQLite's own checkpoints on the writer.
      this.checkpointer.on('error', () => this.writer.open && this.writer.pragma('wal_autocheckpoint = 1000'));
    }
    this.index = (this.writer.prepare(`SELECT value FROM meta WHERE key = 'change_index'`).get() as { value: number }).value;
    // Prepared once: exec() would parse these on every write.
    this.control = {
      begin: this.writer.prepare('BEGIN IMMEDIATE'),
      commit: this.writer.prepare('COMMIT'),
      rollback: this.writer.prepare('ROLLBACK'),
      savepoint: this.writer.prepare('SAVEPOINT write'),
      release: this.writer.prepare('RELEASE write'),
      rollbackToSavepoint: this.writer.prepare('ROLLBACK TO write'),
      bumpChangeIndex: this.writer.prepare(`UPDATE meta SET value = value + ? WHERE key = 'change_index'`),
    };
  }

  private migrate(): void {
    const db = this.writer;
    db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`);
    db.exec(`CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)`);
    db.exec(`INSERT OR IGNORE INTO meta (key, value) VALUES ('change_index', 0)`);
    const applied = new Set((db.prepare('SELECT id FROM schema_migrations').all() as { id: number }[]).map((r) => r.id));
    for (const m of migrations) {
      if (applied.has(m.id)) continue;
      db.transaction(() => {
        for (const sql of m.statements) db.exec(sql);
        db.prepare('INSERT INTO schema_migrations (id, name, applied_at) VALUES (?, ?, ?)').run(m.id, m.name, new Date().toISOString());
      })();
    }
    this.syncIndexedColumns();
    this.syncCompositeIndexes();
  }

  /** Composite indexes are declared with their collection; creating them is idempotent. */
  private syncCompositeIndexes(): void {
    for (const collection of allCollections) {
      const table = tableName(collection);
      for (const cols of collection.indexes ?? []) {
        for (const col of cols) checkColumn(collection, col);
        this.writer.exec(`CREATE INDEX IF NOT EXISTS ${table}__${cols.join('__')} ON ${table} (${cols.join(', ')})`);
      }
    }
  }

  /**
   * Indexed columns are derived from the documents, so a column declared after a table was
   * created is added and backfilled here instead of needing a hand-written migration.
   */
  private syncIndexedColumns(): void {
    const db = this.writer;
    for (const collection of allCollections) {
      const table = tableName(collection);
      const existing = new Set((db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name));
      if (existing.size === 0) continue;
      const missing = Object.entries(collection.columns).filter(([name]) => !existing.has(name));
      if (missing.length === 0) continue;
      db.transaction(() => {
        for (const [name, col] of missing) {
          db.exec(`ALTER TABLE ${table} ADD COLUMN ${name} ${col.type === 'text' ? 'TEXT' : 'BIGINT'}`);
          db.exec(`CREATE INDEX ${table}_${name} ON ${table} (${name})`);
        }
        const update = db.prepare(`UPDATE ${table} SET ${missing.map(([name]) => `${name} = ?`).join(', ')} WHERE pk = ?`);
        for (const row of db.prepare(`SELECT pk, data FROM ${table}`).all() as RawRow[]) {
          const doc = JSON.parse(row.data) as unknown;
          update.run(...missing.map(([, col]) => col.get(doc)), row.pk);
        }
      })();
    }
  }

  changeIndex(): number {
    return this.index;
  }

  /**
   * A deferred transaction on a pooled read-only connection: SQLite fixes its WAL snapshot at
   * the first SELECT and keeps it until COMMIT, so every statement of `fn` sees the same data.
   */
  async read<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    const reader = await this.acquireReader();
    reader.begin.run();
    try {
      return await fn(new SqliteTx(reader.db, reader.statements, 'r', () => undefined));
    } finally {
      if (reader.db.inTransaction) reader.commit.run();
      this.releaseReader(reader);
    }
  }

  private acquireReader(): Reader | Promise<Reader> {
    const idle = this.idleReaders.pop();
    if (idle) return idle;
    if (this.readers.length < MAX_READERS) {
      const db = new Database(this.file, { readonly: true });
      db.pragma('busy_timeout = 5000');
      const reader = { db, statements: new Map<string, Statement>(), begin: db.prepare('BEGIN'), commit: db.prepare('COMMIT') };
      this.readers.push(reader);
      return reader;
    }
    return new Promise((resolve) => this.waitingForReader.push(resolve));
  }

  private releaseReader(reader: Reader): void {
    const next = this.waitingForReader.shift();
    if (next) next(reader);
    else this.idleReaders.push(reader);
  }

  /**
   * Group commit: writes run one at a time, each inside its own SAVEPOINT, and the writes that
   * queue up while one runs share one SQLite transaction (up to MAX_GROUP). A failed write rolls
   * back to its savepoint only; every write's promise settles after the COMMIT that made it
   * durable, so callers never observe uncommitted state. Under load this turns many small
   * commits (each rewriting the same index pages into the WAL) into one.
   */
  write<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ fn, resolve: resolve as (value: unknown) => void, reject });
      if (!this.draining) this.draining = this.drain();
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending.length > 0) await this.commitGroup();
    } catch (err) {
      // Only reachable when SQLite refuses BEGIN or ROLLBACK itself: fail what waits rather than hang.
      for (const job of this.pending.splice(0)) job.reject(err);
    } finally {
      // Cleared in the same tick as the final empty-queue check, so the next write starts a new drain.
      this.draining = undefined;
    }
  }

  /** Runs up to MAX_GROUP queued writes in one SQLite transaction and settles them. */
  private async commitGroup(): Promise<void> {
    const done: { job: PendingWrite; value: unknown; touched: TouchedRow[] }[] = [];
    let dirtyWrites = 0;
    this.control.begin.run();
    for (let n = 0; n < MAX_GROUP; n++) {
      if (this.pending.length === 0) {
        // One turn of the event loop lets requests already read from sockets join this commit.
        await new Promise((resolve) => setImmediate(resolve));
        if (this.pending.length === 0) break;
      }
      const job = this.pending.shift()!;
      const touched: TouchedRow[] = [];
      const tx = new SqliteTx(this.writer, this.statements, 'w', (row) => touched.push(row));
      this.control.savepoint.run();
      try {
        const value = await job.fn(tx);
        this.control.release.run();
        if (touched.length > 0) {
          dirtyWrites += 1;
          for (const o of this.observers) o.written(touched);
        }
        done.push({ job, value, touched });
      } catch (err) {
        job.reject(err);
        if (this.writer.inTransaction) {
          this.control.rollbackToSavepoint.run();
          this.control.release.run();
          continue;
        }
        // SQLite aborted the whole transaction (I/O error, disk full): the group is lost.
        for (const d of done) d.job.reject(err);
        this.lost(done);
        return;
      }
    }
    try {
      if (dirtyWrites > 0) this.control.bumpChangeIndex.run(dirtyWrites);
      this.control.commit.run();
    } catch (err) {
      if (this.writer.inTransaction) this.control.rollback.run();
      for (const d of done) d.job.reject(err);
      this.lost(done);
      return;
    }
    // The change index still moves once per write that changed something, in commit order.
    for (const d of done) {
      if (d.touched.length === 0) continue;
      this.index += 1;
      this.feed.committed(this.index, d.touched);
    }
    for (const d of done) d.job.resolve(d.value);
  }

  private lost(done: { touched: TouchedRow[] }[]): void {
    if (done.some((d) => d.touched.length > 0)) for (const o of this.observers) o.lost();
  }

  observeWrites(observer: WriteObserver): void {
    this.observers.push(observer);
  }

  async clear(): Promise<void> {
    await this.write(async (tx) => (tx as SqliteTx).deleteEverything(resetCollections));
    for (const listener of this.clearListeners) listener();
  }

  onClear(listener: () => void): void {
    this.clearListeners.push(listener);
  }

  waitForChange(afterIndex: number, timeoutMs: number, signal?: AbortSignal, filters?: readonly ChangeFilter[]): Promise<number> {
    return this.feed.wait(() => this.index, afterIndex, timeoutMs, signal, filters);
  }

  async close(): Promise<void> {
    while (this.draining) await this.draining;
    await this.checkpointer?.terminate();
    for (const reader of this.readers) reader.db.close();
    this.writer.close();
    if (this.temporaryDir) rmSync(this.temporaryDir, { recursive: true, force: true });
  }
}

/** How often the checkpointer copies committed WAL pages into the database file. */
const CHECKPOINT_INTERVAL_MS = 200;

/**
 * WAL checkpoints on a worker thread with its own connection (SQLite lets a checkpoint run while
 * the writer keeps appending). PASSIVE never waits for readers or the writer; closing the last
 * connection at shutdown checkpoints whatever is left.
 */
function startCheckpointer(file: string): Worker {
  const source = `
    const { workerData } = require('node:worker_threads');
    const Database = require(workerData.driver);
    const db = new Database(workerData.file);
    db.pragma('busy_timeout = 5000');
    setInterval(() => {
      try { db.pragma('wal_checkpoint(PASSIVE)'); } catch { /* busy: the next round catches up */ }
    }, workerData.intervalMs);
  `;
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(source, { eval: true, workerData: { file, driver, intervalMs: CHECKPOINT_INTERVAL_MS } });
  worker.unref();
  return worker;
}

class SqliteTx implements StoreTx {
  constructor(
    private readonly db: Database.Database,
    private readonly cache: Map<string, Statement>,
    private readonly mode: 'r' | 'w',
    private readonly markDirty: (row: TouchedRow) => void,
  ) {}

  private stmt(sql: string): Statement {
    const key = `${this.mode}:${sql}`;
    let s = this.cache.get(key);
    if (!s) {
      s = this.db.prepare(sql);
      this.cache.set(key, s);
    }
    return s;
  }

  private writable(): void {
    if (this.mode !== 'w') throw new Error('write attempted in a read transaction');
  }

  async get<T>(collection: Collection<T>, pk: string): Promise<Row<T> | undefined> {
    const r = this.stmt(`SELECT pk, version, data FROM ${tableName(collection)} WHERE pk = ?`).get(pk) as RawRow | undefined;
    return r && toRow<T>(r);
  }

  async find<T>(collection: Collection<T>, query: Query = {}): Promise<Row<T>[]> {
    const { sql, params } = selectStatement(collection, 'data', query);
    return (this.stmt(sql).all(...params) as RawRow[]).map((r) => toRow<T>(r));
  }

  async select<T, C extends string>(collection: Collection<T>, columns: readonly C[], query: Query = {}): Promise<(Record<C, IndexValue> & { pk: string; version: number })[]> {
    const { sql, params } = selectStatement(collection, columns.map((c) => checkColumn(collection, c)).join(', '), query);
    return this.stmt(sql).all(...params) as (Record<C, IndexValue> & { pk: string; version: number })[];
  }

  async count<T>(collection: Collection<T>, where?: Where): Promise<number> {
    const { clause, params } = whereClause(collection, where);
    return (this.stmt(`SELECT COUNT(*) AS n FROM ${tableName(collection)}${clause}`).get(...params) as { n: number }).n;
  }

  async insert<T>(collection: Collection<T>, pk: string, data: T): Promise<Row<T>> {
    this.writable();
    const cols = Object.keys(collection.columns);
    const sql = `INSERT INTO ${tableName(collection)} (pk, version, data${cols.map((c) => `, ${c}`).join('')}) VALUES (?, 1, ?${cols.map(() => ', ?').join('')})`;
    try {
      this.stmt(sql).run(pk, JSON.stringify(data), ...columnValues(collection, data));
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new ConflictError(`${collection.name} ${pk} already exists`);
      throw err;
    }
    this.markDirty(touchedRow(collection, pk, data, 'new'));
    return { pk, version: 1, data };
  }

  async update<T>(collection: Collection<T>, row: Row<T>, data: T): Promise<Row<T>> {
    this.writable();
    const cols = Object.keys(collection.columns);
    const sql = `UPDATE ${tableName(collection)} SET version = version + 1, data = ?${cols.map((c) => `, ${c} = ?`).join('')} WHERE pk = ? AND version = ?`;
    const info = this.stmt(sql).run(JSON.stringify(data), ...columnValues(collection, data), row.pk, row.version);
    if (info.changes !== 1) throw new ConflictError(`${collection.name} ${row.pk} was changed concurrently`);
    // Both the old and the new column values: a task moving off an instance concerns both.
    this.markDirty(touchedRow(collection, row.pk, row.data, 'old'));
    this.markDirty(touchedRow(collection, row.pk, data, 'new'));
    return { pk: row.pk, version: row.version + 1, data };
  }

  /** Every row of these collections, deleted as delete() would (touched rows recorded for the change feed). */
  async deleteEverything(collections: readonly Collection<any>[]): Promise<void> {
    this.writable();
    for (const collection of collections) {
      const cols = Object.keys(collection.columns);
      const rows = this.stmt(`SELECT pk${cols.map((c) => `, ${c}`).join('')} FROM ${tableName(collection)}`).all() as Record<string, IndexValue>[];
      if (rows.length === 0) continue;
      this.stmt(`DELETE FROM ${tableName(collection)}`).run();
      for (const columns of rows) this.markDirty({ collection: collection.name, phase: 'old', columns });
    }
  }

  async delete<T>(collection: Collection<T>, pk: string): Promise<boolean> {
    this.writable();
    const old = await this.get(collection, pk);
    if (!old) return false;
    this.stmt(`DELETE FROM ${tableName(collection)} WHERE pk = ?`).run(pk);
    this.markDirty(touchedRow(collection, pk, old.data, 'old'));
    return true;
  }
}

interface RawRow {
  pk: string;
  version: number;
  data: string;
}

function touchedRow(collection: Collection<any>, pk: string, data: unknown, phase: TouchedRow['phase']): TouchedRow {
  const columns: Record<string, IndexValue> = { pk };
  for (const [name, col] of Object.entries(collection.columns)) columns[name] = col.get(data);
  return { collection: collection.name, phase, columns };
}

function toRow<T>(r: RawRow): Row<T> {
  return { pk: r.pk, version: r.version, data: JSON.parse(r.data) as T };
}

function columnValues(collection: Collection<any>, data: unknown): IndexValue[] {
  return Object.values(collection.columns).map((col) => col.get(data));
}

function checkColumn(collection: Collection<any>, col: string): string {
  if (col !== 'pk' && !(col in collection.columns)) throw new Error(`${collection.name} has no indexed column ${col}`);
  return col;
}

/** `SELECT pk, version[, what] FROM <table> WHERE ... ORDER BY ... LIMIT ...` for a query. */
function selectStatement(collection: Collection<any>, what: string, query: Query): { sql: string; params: IndexValue[] } {
  const { parts, params } = conditions(collection, query.where);
  const order = query.orderBy ?? [];
  if (query.after) {
    // A row-value comparison: SQLite answers it with a seek in an index that has these columns in this order.
    const direction = order[0]?.[1];
    if (order.length === 0 || query.after.length !== order.length || order.some(([, dir]) => dir !== direction)) {
      throw new Error(`${collection.name}: 'after' needs one value per orderBy column, all in one direction`);
    }
    const cols = order.map(([col]) => checkColumn(collection, col));
    const op = direction === 'desc' ? '<' : '>';
    parts.push(cols.length === 1 ? `${cols[0]} ${op} ?` : `(${cols.join(', ')}) ${op} (${cols.map(() => '?').join(', ')})`);
    params.push(...query.after);
  }
  let sql = `SELECT pk, version${what ? `, ${what}` : ''} FROM ${tableName(collection)}${parts.length ? ` WHERE ${parts.join(' AND ')}` : ''}`;
  if (order.length) {
    sql += ` ORDER BY ${order.map(([col, dir]) => `${checkColumn(collection, col)} ${dir === 'desc' ? 'DESC' : 'ASC'}`).join(', ')}`;
  }
  if (query.limit !== undefined) sql += ` LIMIT ${Math.max(0, Math.floor(query.limit))}`;
  return { sql, params };
}

/** Builds a WHERE clause; column names are checked against the declaration, values are bound. */
function whereClause(collection: Collection<any>, where: Where | undefined): { clause: string; params: IndexValue[] } {
  const { parts, params } = conditions(collection, where);
  return { clause: parts.length ? ` WHERE ${parts.join(' AND ')}` : '', params };
}

/** The conditions of a WHERE clause, ANDed by the caller. */
function conditions(collection: Collection<any>, where: Where | undefined): { parts: string[]; params: IndexValue[] } {
  if (!where) return { parts: [], params: [] };
  const parts: string[] = [];
  const params: IndexValue[] = [];
  for (const [col, cond] of Object.entries(where) as [string, Condition][]) {
    const c = checkColumn(collection, col);
    if (cond === null) parts.push(`${c} IS NULL`);
    else if (typeof cond !== 'object') {
      parts.push(`${c} = ?`);
      params.push(cond);
    } else if ('prefix' in cond) {
      // substr comparison rather than LIKE: prefixes may contain % and _.
      parts.push(`substr(${c}, 1, ?) = ?`);
      params.push(cond.prefix.length, cond.prefix);
    } else if ('in' in cond) {
      if (cond.in.length === 0) parts.push('0 = 1');
      else {
        parts.push(`${c} IN (${cond.in.map(() => '?').join(', ')})`);
        params.push(...cond.in);
      }
    } else if ('not' in cond) {
      if (cond.not === null) parts.push(`${c} IS NOT NULL`);
      else {
        parts.push(`(${c} IS NULL OR ${c} <> ?)`);
        params.push(cond.not);
      }
    } else {
      parts.push(`${c} > ?`);
      params.push(cond.gt);
    }
  }
  return { parts, params };
}
