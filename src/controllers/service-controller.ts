/**
 * The service controller: keeps every ECS service's tasks following its deployments. It wakes on
 * the store's change feed (a task changed state, a service was updated, an instance drained) or
 * on a timer (placement retries, health-check grace periods, a periodic look as a safety net),
 * and for each ACTIVE or DRAINING service asks the pure decideService (src/scheduler/) what to do,
 * through ServiceScheduler, which applies the answer with the ECS domain's writers. Leader only.
 */
import type { Clock } from '../core/clock.js';
import { decideService } from '../scheduler/index.js';
import type { ServiceScheduler } from '../services/ecs/service-scheduler.js';
import type { Store } from '../store/store.js';
import type { Leadership } from './leadership.js';

export interface ServiceControllerOptions {
  /** The longest sleep without a change (ms). */
  idleMs?: number;
  /** The shortest gap between two passes (ms): a burst of agent reports makes one pass, not hundreds. */
  minGapMs?: number;
  log?: { error(obj: object, msg: string): void };
}

export class ServiceController {
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private readonly idleMs: number;
  private readonly minGapMs: number;

  constructor(
    private readonly store: Store,
    private readonly scheduler: ServiceScheduler,
    private readonly leadership: Leadership,
    private readonly clock: Clock,
    private readonly opts: ServiceControllerOptions = {},
  ) {
    this.idleMs = opts.idleMs ?? 2000;
    this.minGapMs = opts.minGapMs ?? 100;
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }

  /** One pass over every service (tests call it directly). Answers the earliest requested wake-up (epoch seconds). */
  async pass(): Promise<number | undefined> {
    let wakeAt: number | undefined;
    for (const arn of await this.scheduler.serviceArns()) {
      if (this.abort.signal.aborted || !this.leadership.isLeader()) break;
      try {
        const r = await this.scheduler.reconcile(arn, decideService);
        if (r.wakeAt !== undefined) wakeAt = Math.min(wakeAt ?? Infinity, r.wakeAt);
      } catch (e) {
        // One service's trouble (a concurrent update: ConflictError) must not stop the others; the next pass retries.
        this.opts.log?.error({ err: String(e), service: arn }, 'service reconciliation failed');
      }
    }
    return wakeAt;
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted) {
      // Changes during the pass (its own writes included) bring one more pass: reports that
      // arrived meanwhile are not missed, and a pass that changes nothing lets the loop sleep.
      const index = this.store.changeIndex();
      let wakeAt: number | undefined;
      if (this.leadership.isLeader()) wakeAt = await this.pass().catch(() => undefined);
      const untilWake = wakeAt === undefined ? this.idleMs : Math.max(0, (wakeAt - this.clock.now()) * 1000);
      await this.store.waitForChange(index, Math.min(this.idleMs, untilWake), signal);
      if (!signal.aborted && this.minGapMs > 0) await new Promise((r) => setTimeout(r, this.minGapMs));
    }
  }
}
