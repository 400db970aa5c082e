/**
 * Unsent task reports. Each report is the task's full state, so only the newest per task is
 * kept (bounded by the number of tasks); a batch that fails to send stays queued and is sent
 * again (Nomad's allocSync). `seq` increases across agent restarts (epoch milliseconds).
 */
import type { TaskReport } from '../protocol/index.js';

export class Outbox {
  private readonly pending = new Map<string, TaskReport>();
  private lastSeq = 0;

  constructor(private readonly nowMs: () => number = Date.now) {}

  put(report: Omit<TaskReport, 'seq'>): TaskReport {
    this.lastSeq = Math.max(this.lastSeq + 1, this.nowMs());
    const full = { ...report, seq: this.lastSeq };
    this.pending.set(report.taskArn, full);
    return full;
  }

  /** Up to `max` reports to send now. */
  batch(max: number): TaskReport[] {
    return [...this.pending.values()].slice(0, max);
  }

  /** Drops sent reports, unless a newer one for the same task arrived meanwhile. */
  acknowledge(sent: readonly TaskReport[], arns: readonly string[]): void {
    const done = new Set(arns);
    for (const r of sent) {
      if (done.has(r.taskArn) && this.pending.get(r.taskArn)?.seq === r.seq) this.pending.delete(r.taskArn);
    }
  }

  has(taskArn: string): boolean {
    return this.pending.has(taskArn);
  }

  get size(): number {
    return this.pending.size;
  }
}
