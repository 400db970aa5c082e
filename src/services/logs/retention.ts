/**
 * Enforces log groups' retention: on a timer, and soon after a PutRetentionPolicy, deletes the
 * events older than each group's retention (really deletes the rows; SQLite reuses the pages).
 */
import type { LogsDomain } from './logs.js';

export class RetentionSweeper {
  private timer: NodeJS.Timeout | undefined;
  private readonly pending = new Set<number>();
  private immediate: NodeJS.Immediate | undefined;

  constructor(
    private readonly domain: LogsDomain,
    private readonly log: { error(obj: object, msg: string): void } = { error: () => undefined },
  ) {}

  start(intervalMs = 60_000): void {
    this.timer ??= setInterval(() => this.run(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    if (this.immediate) clearImmediate(this.immediate);
    this.immediate = undefined;
  }

  /** Sweeps one group right after the current request (PutRetentionPolicy). */
  soon(groupId: number): void {
    this.pending.add(groupId);
    this.immediate ??= setImmediate(() => {
      this.immediate = undefined;
      const ids = [...this.pending];
      this.pending.clear();
      for (const id of ids) this.run(id);
    });
  }

  run(groupId?: number): number {
    try {
      return this.domain.applyRetention(groupId);
    } catch (e) {
      this.log.error({ err: String(e) }, 'log retention sweep failed');
      return 0;
    }
  }
}
