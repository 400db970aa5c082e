/**
 * The service controller: keeps every ECS service's tasks following its deployments. It wakes on
 * the store's change feed (a task changed state, a service was updated, an instance drained) or
 * on a timer (placement retries, health-check grace periods, a periodic look as a safety net),
 * and for each ACTIVE or DRAINING service asks the pure decideService (src/scheduler/) what to do,
 * through ServiceScheduler, which applies the answer with the ECS domain's writers. Leader only.
 */
import type { Clock } from '../core/clock.js';
import { decideService } from '../scheduler/index.js';
import { lbKey, type LbSnapshot, type LbTarget, type LbWork, type ServiceScheduler } from '../services/ecs/service-scheduler.js';
import type { Store } from '../store/store.js';
import type { Leadership } from './leadership.js';

type Scope = { accountId: string; region: string };
type TargetRef = { Id: string; Port?: number };

/** The ELBv2 domain's target functions (src/services/elbv2/targets.ts) a load-balanced service needs. */
export interface ServiceTargets {
  /** Undefined when no data plane runs health checks. */
  readonly healthSource: unknown;
  register(scope: Scope, targetGroupArn: string, targets: readonly TargetRef[]): Promise<unknown>;
  deregister(scope: Scope, targetGroupArn: string, targets: readonly TargetRef[]): Promise<unknown>;
  health(scope: Scope, targetGroupArn: string): Promise<{ target: { id: string; port: number }; state: string; reason?: string }[]>;
  waitForDeregistration(targetGroupArn: string, targets: readonly { id: string; port: number }[], signal?: AbortSignal): Promise<void>;
}

export interface ServiceControllerOptions {
  /** ELBv2's targets, for services with loadBalancers. */
  targets?: ServiceTargets;
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
  /** Tasks being deregistered before they stop (task ARN → the wait for their drain). */
  private readonly draining = new Map<string, Promise<void>>();

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
    await Promise.allSettled([...this.draining.values()]);
  }

  /** One pass over every service (tests call it directly). Answers the earliest requested wake-up (epoch seconds). */
  async pass(): Promise<number | undefined> {
    let wakeAt: number | undefined;
    for (const arn of await this.scheduler.serviceArns()) {
      if (this.abort.signal.aborted || !this.leadership.isLeader()) break;
      try {
        const groups = this.opts.targets ? await this.scheduler.targetGroupsOf(arn) : undefined;
        const snapshot = groups ? await this.snapshot(groups.scope, groups.targetGroupArns) : undefined;
        const r = await this.scheduler.reconcile(arn, decideService, snapshot);
        if (r.wakeAt !== undefined) wakeAt = Math.min(wakeAt ?? Infinity, r.wakeAt);
        if (r.lb && groups) await this.applyLb(groups.scope, r.lb);
      } catch (e) {
        // One service's trouble (a concurrent update: ConflictError) must not stop the others; the next pass retries.
        this.opts.log?.error({ err: String(e), service: arn }, 'service reconciliation failed');
      }
    }
    return wakeAt;
  }

  /** Target health of the service's target groups, as DescribeTargetHealth reports it. */
  private async snapshot(scope: Scope, targetGroupArns: readonly string[]): Promise<LbSnapshot> {
    const targets = this.opts.targets!;
    const health = new Map<string, { state: string; reason?: string }>();
    for (const tg of targetGroupArns) {
      // A deleted target group has no targets: the tasks just never become healthy through it.
      const views = await targets.health(scope, tg).catch(() => []);
      for (const v of views) health.set(lbKey({ targetGroupArn: tg, id: v.target.id, port: v.target.port }), { state: v.state, reason: v.reason });
    }
    return { checked: targets.healthSource !== undefined, health };
  }

  /** Registers RUNNING tasks, deregisters stopped ones, and drains the ones the scheduler stops. */
  private async applyLb(scope: Scope, work: LbWork): Promise<void> {
    const targets = this.opts.targets!;
    for (const [tg, list] of byGroup(work.register)) {
      await targets.register(scope, tg, list.map((t) => ({ Id: t.id, Port: t.port }))).catch((e) => this.opts.log?.error({ err: String(e), targetGroup: tg }, 'registering targets failed'));
    }
    await this.deregister(scope, work.deregister);
    for (const d of work.drains) {
      if (this.draining.has(d.taskArn)) continue;
      const wait = (async () => {
        await this.deregister(scope, d.targets);
        for (const [tg, list] of byGroup(d.targets)) await targets.waitForDeregistration(tg, list, this.abort.signal);
        await this.scheduler.finishDeregistration(d.taskArn);
      })()
        .catch((e) => {
          if (!this.abort.signal.aborted) this.opts.log?.error({ err: String(e), task: d.taskArn }, 'draining a task failed');
        })
        .finally(() => this.draining.delete(d.taskArn));
      this.draining.set(d.taskArn, wait);
    }
  }

  /** One target at a time: one already gone (InvalidTarget) must not keep the others registered. */
  private async deregister(scope: Scope, list: readonly LbTarget[]): Promise<void> {
    for (const t of list) await this.opts.targets!.deregister(scope, t.targetGroupArn, [{ Id: t.id, Port: t.port }]).catch(() => undefined);
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

function byGroup(list: readonly LbTarget[]): Map<string, LbTarget[]> {
  const out = new Map<string, LbTarget[]>();
  for (const t of list) out.set(t.targetGroupArn, [...(out.get(t.targetGroupArn) ?? []), t]);
  return out;
}
