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
import { EventEmitter } from 'node:events';
import type { Collection, IndexValue } from './store.js';

/** Wake when a row of `collection` had `column` = `value` before or after a commit (`pk` for the key). */
export interface ChangeFilter {
  collection: Collection<any>;
  column: string;
  value: IndexValue;
}

export interface TouchedRow {
  collection: string;
  columns: Record<string, IndexValue>;
}

const RING = 4096;

export class ChangeFeed {
  private readonly ring: { index: number; touched: TouchedRow[] }[] = [];
  private readonly events = new EventEmitter();

  constructor() {
    this.events.setMaxListeners(0);
  }

  /** Called once per commit that changed something. */
  committed(index: number, touched: TouchedRow[]): void {
    this.ring.push({ index, touched });
    if (this.ring.length > RING) this.ring.shift();
    this.events.emit('commit', index, touched);
  }

  wait(current: () => number, afterIndex: number, timeoutMs: number, signal?: AbortSignal, filters?: readonly ChangeFilter[]): Promise<number> {
    if (current() > afterIndex && (!filters || this.matchedSince(afterIndex, filters))) return Promise.resolve(current());
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.events.off('commit', onCommit);
        signal?.removeEventListener('abort', done);
        resolve(current());
      };
      const onCommit = (index: number, touched: TouchedRow[]) => {
        if (index > afterIndex && (!filters || touched.some((t) => matches(t, filters)))) done();
      };
      const timer = setTimeout(done, timeoutMs);
      this.events.on('commit', onCommit);
      signal?.addEventListener('abort', done);
      if (signal?.aborted) done();
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

function matches(t: TouchedRow, filters: readonly ChangeFilter[]): boolean {
  return filters.some((f) => f.collection.name === t.collection && t.columns[f.column] === f.value);
}
