/**
 * Filtered wake-ups for long-polls. Every commit records which rows it touched (collection and
 * indexed column values, before and after); a waiter can ask to wake only when a commit after
 * its index touched rows it cares about — e.g. an agent's assignments poll wakes for tasks
 * placed on its own instance, not for every write in the cluster (with 1,000 agents, waking
 * all of them on each RunTask was the control plane's bottleneck).
 *
 * Recent commits are kept in a bounded ring; a waiter whose index is older than the ring wakes
 * at once (conservative: it re-reads and waits again).
 */
import type { Collection, IndexValue } from './store.js';

/** Wake when a row of `collection` had `column` = `value` before or after a commit (`pk` for the key). */
export interface ChangeFilter {
  collection: Collection<any>;
  column: string;
  value: IndexValue;
}

export interface TouchedRow {
  collection: string;
  /** 'old': the row's columns before the write (update, delete); 'new': after it (insert, update). */
  phase: 'old' | 'new';
  columns: Record<string, IndexValue>;
}

const RING = 4096;

interface Waiter {
  afterIndex: number;
  wake(): void;
}

export class ChangeFeed {
  private readonly ring: { index: number; touched: TouchedRow[] }[] = [];
  /** Waiters without filters: every commit wakes them. */
  private readonly anyCommit = new Set<Waiter>();
  /**
   * Filtered waiters by `collection column value`: a commit looks up the keys of the rows it
   * touched instead of asking every waiter (1,000 agents' long-polls on every commit).
   */
  private readonly byKey = new Map<string, Set<Waiter>>();

  /** Called once per commit that changed something. */
  committed(index: number, touched: TouchedRow[]): void {
    this.ring.push({ index, touched });
    if (this.ring.length > RING) this.ring.shift();
    const woken: Waiter[] = [];
    for (const w of this.anyCommit) if (index > w.afterIndex) woken.push(w);
    if (this.byKey.size > 0) {
      for (const t of touched) {
        for (const [column, value] of Object.entries(t.columns)) {
          const waiters = this.byKey.get(key(t.collection, column, value));
          if (waiters) for (const w of waiters) if (index > w.afterIndex) woken.push(w);
        }
      }
    }
    for (const w of woken) w.wake();
  }

  wait(current: () => number, afterIndex: number, timeoutMs: number, signal?: AbortSignal, filters?: readonly ChangeFilter[]): Promise<number> {
    if (current() > afterIndex && (!filters || this.matchedSince(afterIndex, filters))) return Promise.resolve(current());
    return new Promise((resolve) => {
      const keys = filters?.map((f) => key(f.collection.name, f.column, f.value));
      const waiter: Waiter = {
        afterIndex,
        wake: () => {
          clearTimeout(timer);
          if (keys) {
            for (const k of keys) {
              const set = this.byKey.get(k);
              set?.delete(waiter);
              if (set?.size === 0) this.byKey.delete(k);
            }
          } else this.anyCommit.delete(waiter);
          signal?.removeEventListener('abort', waiter.wake);
          resolve(current());
        },
      };
      const timer = setTimeout(waiter.wake, timeoutMs);
      if (keys) {
        for (const k of keys) {
          let set = this.byKey.get(k);
          if (!set) this.byKey.set(k, (set = new Set()));
          set.add(waiter);
        }
      } else this.anyCommit.add(waiter);
      signal?.addEventListener('abort', waiter.wake);
      if (signal?.aborted) waiter.wake();
    });
  }

  private matchedSince(afterIndex: number, filters: readonly ChangeFilter[]): boolean {
    const oldest = this.ring[0];
    if (!oldest || oldest.index > afterIndex + 1) return true;
    for (let i = this.ring.length - 1; i >= 0 && this.ring[i]!.index > afterIndex; i--) {
      if (this.ring[i]!.touched.some((t) => matches(t, filters))) return true;
    }
    return false;
  }
}

function key(collection: string, column: string, value: IndexValue): string {
  return `${collection}\u0000${column}\u0000${typeof value === 'number' ? `n${value}` : value === null ? 'null' : `s${value}`}`;
}

function matches(t: TouchedRow, filters: readonly ChangeFilter[]): boolean {
  return filters.some((f) => f.collection.name === t.collection && t.columns[f.column] === f.value);
}
