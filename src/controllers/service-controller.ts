/**
 * The service controller: keeps every ECS service's tasks following its deployments. It wakes on
 * the store's change feed (a task changed state, a service was updated, an instance drained) or
 * on a timer (placement retries, health-check grace periods), and for each service whose inputs
 * changed asks the pure decideService (src/scheduler/) what to do, through ServiceScheduler,
 * which applies the answer with the ECS domain's writers. Leader only.
 *
 * Which services changed is learnt from the store's write notifications (the rows each write
 * touched: a service row, a task row of the service's `service_open` set, an instance of its
 * cluster), so a busy cluster's agent reports do not make every service be re-read on every
 * pass; a full sweep every `sweepMs` is the safety net.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Clock } from '../core/clock.js';
import { decideService } from '../scheduler/index.js';
import { lbKey, type LbSnapshot, type LbTarget, type LbWork, type ServiceScheduler } from '../services/ecs/service-scheduler.js';
import type { Store, TouchedRow } from '../store/store.js';
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

/** ELBv2's listeners (src/services/elbv2/listeners.ts): BLUE_GREEN, LINEAR and CANARY deployments move their forward weights. */
export interface ServiceListeners {
  setForwardWeights(scope: Scope, ruleOrListenerArn: string, groups: readonly { targetGroupArn: string; weight: number }[]): Promise<void>;
}

export interface ServiceControllerOptions {
  /** ELBv2's targets, for services with loadBalancers. */
  targets?: ServiceTargets;
  listeners?: ServiceListeners;
  /** The longest sleep without a change (ms). */
  idleMs?: number;
  /** The shortest gap between two passes (ms): a burst of agent reports makes one pass, not hundreds. */
  minGapMs?: number;
  /** Every service is looked at at least this often (ms), changed or not. */
  sweepMs?: number;
  log?: { error(obj: object, msg: string): void };
}

export class ServiceController {
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private readonly idleMs: number;
  private readonly minGapMs: number;
  private readonly sweepMs: number;
  /** What changed since the last pass: service ARNs, `<cluster>|<service>` task sets, cluster ARNs (instances). */
  private changed = { services: new Set<string>(), taskSets: new Set<string>(), clusters: new Set<string>() };
  private everything = true;
  private lastSweep = 0;
  /** Requested wake-ups per service (epoch seconds). */
  private readonly wakeAt = new Map<string, number>();
  /** Tasks being deregistered before they stop (task ARN → the wait for their drain). */
  private readonly draining = new Map<string, Promise<void>>();

  constructor(
    store: Store,
    private readonly scheduler: ServiceScheduler,
    private readonly leadership: Leadership,
    private readonly clock: Clock,
    private readonly opts: ServiceControllerOptions = {},
    private readonly feed: Pick<Store, 'changeIndex' | 'waitForChange'> = store,
  ) {
    this.idleMs = opts.idleMs ?? 2000;
    this.minGapMs = opts.minGapMs ?? 100;
    this.sweepMs = opts.sweepMs ?? 10_000;
    store.observeWrites({ written: (rows) => this.note(rows), lost: () => (this.everything = true) });
    store.onClear(() => (this.everything = true));
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
    await Promise.allSettled([...this.draining.values()]);
  }

  /** One pass over the services that need a look (tests call it directly). Answers the earliest requested wake-up (epoch seconds). */
  async pass(): Promise<number | undefined> {
    // A follower keeps what it noted: it may lead later, and must then look at everything.
    if (!this.leadership.isLeader()) {
      this.everything = true;
      return undefined;
    }
    const now = this.clock.now();
    const sweep = this.everything || Date.now() - this.lastSweep >= this.sweepMs;
    const changed = this.changed;
    this.changed = { services: new Set(), taskSets: new Set(), clusters: new Set() };
    this.everything = false;
    if (sweep) this.lastSweep = Date.now();
    for (const s of await this.scheduler.services()) {
      if (this.abort.signal.aborted || !this.leadership.isLeader()) {
        this.everything = true;
        break;
      }
      const due = (this.wakeAt.get(s.arn) ?? Infinity) <= now;
      if (!sweep && !due && !changed.services.has(s.arn) && !changed.taskSets.has(`${s.cluster}|${s.name}`) && !changed.clusters.has(s.cluster)) continue;
      try {
        const groups = this.opts.targets ? await this.scheduler.targetGroupsOf(s.arn) : undefined;
        const snapshot = groups ? await this.snapshot(groups.scope, groups.targetGroupArns) : undefined;
        const r = await this.scheduler.reconcile(s.arn, decideService, snapshot);
        if (r.wakeAt === undefined) this.wakeAt.delete(s.arn);
        else this.wakeAt.set(s.arn, r.wakeAt);
        // Weights first: a pass that stops old tasks comes after the one that moved traffic off them.
        if (r.lb?.traffic && groups) await this.applyTraffic(groups.scope, r.lb.traffic);
        if (r.lb && groups) await this.applyLb(groups.scope, r.lb);
      } catch (e) {
        // One service's trouble (a concurrent update: ConflictError) must not stop the others: look again next pass.
        this.changed.services.add(s.arn);
        this.opts.log?.error({ err: String(e), service: s.arn }, 'service reconciliation failed');
      }
    }
    let next: number | undefined;
    for (const t of this.wakeAt.values()) next = Math.min(next ?? Infinity, t);
    return next;
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

  private async applyTraffic(scope: Scope, changes: NonNullable<LbWork['traffic']>): Promise<void> {
    for (const ch of changes) {
      await this.opts.listeners?.setForwardWeights(scope, ch.rule, ch.groups).catch((e) => this.opts.log?.error({ err: String(e), rule: ch.rule }, 'shifting traffic failed'));
    }
  }

  /** One target at a time: one already gone (InvalidTarget) must not keep the others registered. */
  private async deregister(scope: Scope, list: readonly LbTarget[]): Promise<void> {
    for (const t of list) await this.opts.targets!.deregister(scope, t.targetGroupArn, [{ Id: t.id, Port: t.port }]).catch(() => undefined);
  }

  private note(rows: readonly TouchedRow[]): void {
    for (const r of rows) {
      if (r.collection === 'services') this.changed.services.add(String(r.columns.pk));
      else if (r.collection === 'task_sets') this.changed.services.add(String(r.columns.service));
      else if (r.collection === 'tasks' && r.columns.service_open !== null && r.columns.service_open !== undefined) this.changed.taskSets.add(String(r.columns.service_open));
      else if (r.collection === 'container_instances') this.changed.clusters.add(String(r.columns.cluster));
    }
  }

  private pending(): boolean {
    return this.everything || this.changed.services.size > 0 || this.changed.taskSets.size > 0 || this.changed.clusters.size > 0;
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted) {
      const index = this.feed.changeIndex();
      if (!this.leadership.isLeader()) {
        // A follower only waits its turn.
        this.everything = true;
        await delay(this.idleMs, undefined, { signal }).catch(() => undefined);
        continue;
      }
      const wakeAt = await this.pass().catch(() => undefined);
      if (signal.aborted) break;
      // Changes noted during the pass (its own writes included) bring one more pass at once.
      if (!this.pending()) {
        const untilWake = wakeAt === undefined ? this.idleMs : Math.max(0, (wakeAt - this.clock.now()) * 1000);
        let after = index;
        const end = Date.now() + Math.min(this.idleMs, untilWake);
        // Wake for a change that concerns a service (noted by `note`), a requested wake-up, or the idle timer.
        while (!signal.aborted && !this.pending() && Date.now() < end) after = await this.feed.waitForChange(after, end - Date.now(), signal);
      }
      if (!signal.aborted && this.minGapMs > 0) await new Promise((r) => setTimeout(r, this.minGapMs));
    }
  }
}

function byGroup(list: readonly LbTarget[]): Map<string, LbTarget[]> {
  const out = new Map<string, LbTarget[]>();
  for (const t of list) out.set(t.targetGroupArn, [...(out.get(t.targetGroupArn) ?? []), t]);
  return out;
}
