/**
 * The storage interface. Every aggregate (cluster, task definition, task, ...) is a row in a
 * collection: a primary key, a JSON document, a version for optimistic concurrency, and a few
 * indexed columns computed from the document (declared in collections.ts) for queries.
 *
 * The interface is asynchronous even though SQLite is not, so that PostgreSQL can implement
 * it for several control-plane replicas. Every API write is one `write()` transaction; the
 * change index moves forward once per committed write, and `waitForChange` lets long-polls
 * (agents, data planes) wake up on it.
 */
import type { ChangeFilter, TouchedRow } from './change-feed.js';

export type { ChangeFilter, TouchedRow } from './change-feed.js';
export type IndexValue = string | number | null;

export interface Column<T> {
  readonly type: 'text' | 'integer';
  readonly get: (doc: T) => IndexValue;
}

export interface Collection<T> {
  readonly name: string;
  /** Indexed columns, each computed from the document. */
  readonly columns: Readonly<Record<string, Column<T>>>;
  /**
   * Composite indexes over declared columns, for queries that filter on several columns and
   * order by another (one index then serves the whole query, no sort). Created at start-up.
   */
  readonly indexes?: readonly (readonly string[])[];
}

export const text = <T>(get: (doc: T) => string | null | undefined): Column<T> => ({ type: 'text', get: (d) => get(d) ?? null });
export const integer = <T>(get: (doc: T) => number | null | undefined): Column<T> => ({ type: 'integer', get: (d) => get(d) ?? null });

export interface Row<T> {
  readonly pk: string;
  readonly version: number;
  readonly data: T;
}

export type Condition = IndexValue | { prefix: string } | { in: readonly IndexValue[] } | { not: IndexValue } | { gt: IndexValue };
export type Where = Readonly<Record<string, Condition>>;

export interface Query {
  where?: Where;
  orderBy?: readonly (readonly [column: string, direction: 'asc' | 'desc'])[];
  /**
   * Keyset pagination: only rows that sort strictly after this position, given as one value per
   * `orderBy` column (all in one direction; the columns must not be NULL and must make the order
   * total, e.g. end with pk). Pages read this way stay correct when rows are inserted before the
   * position, and cost an index seek instead of skipping the earlier rows.
   */
  after?: readonly IndexValue[];
  limit?: number;
}

export interface StoreTx {
  get<T>(collection: Collection<T>, pk: string): Promise<Row<T> | undefined>;
  find<T>(collection: Collection<T>, query?: Query): Promise<Row<T>[]>;
  count<T>(collection: Collection<T>, where?: Where): Promise<number>;
  /** Only the named indexed columns (and pk, version) of matching rows: no document parsing, for hot paths. */
  select<T, C extends string>(collection: Collection<T>, columns: readonly C[], query?: Query): Promise<(Record<C, IndexValue> & { pk: string; version: number })[]>;
  /** Inserts a new row; ConflictError when the key exists. */
  insert<T>(collection: Collection<T>, pk: string, data: T): Promise<Row<T>>;
  /** Replaces a row if its version is still `row.version`; ConflictError otherwise. */
  update<T>(collection: Collection<T>, row: Row<T>, data: T): Promise<Row<T>>;
  delete<T>(collection: Collection<T>, pk: string): Promise<boolean>;
}

export interface Store {
  /**
   * A read-only transaction: every statement `fn` runs sees the same committed snapshot, even when
   * writes commit while it awaits. Keep `fn` short: it holds a connection (and, in WAL mode, the
   * WAL pages of its snapshot) until it returns.
   */
  read<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T>;
  write<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T>;
  changeIndex(): number;
  /**
   * Resolves with the new index once it passes `afterIndex`, or the current one after `timeoutMs`.
   * With `filters`, only a commit that touched a matching row counts (see change-feed.ts).
   */
  waitForChange(afterIndex: number, timeoutMs: number, signal?: AbortSignal, filters?: readonly ChangeFilter[]): Promise<number>;
  /**
   * In-process caches derived from the rows of write transactions (see ClusterSnapshots) learn of
   * every write here, in order, as soon as later write() transactions can see it.
   */
  observeWrites(observer: WriteObserver): void;
  /**
   * Deletes every row of every collection in one write (`POST /_dockyard/reset`). Long-polls wake
   * as for deletes; the change index keeps moving forward.
   */
  clear(): Promise<void>;
  /**
   * Called after each clear(). Keys and row versions start again after a clear, so a cache keyed
   * by (key, version) must forget what it holds.
   */
  onClear(listener: () => void): void;
  close(): Promise<void>;
}

export interface WriteObserver {
  /** The rows one successful write() touched, 'old' and 'new' columns in statement order (possibly before COMMIT). */
  written(rows: readonly TouchedRow[]): void;
  /** Writes already reported to `written` were rolled back after all (their COMMIT failed): drop what came from them. */
  lost(): void;
}
