/**
 * Target groups at run time: each target's keep-alive pool, in-flight count, health and drain
 * state live in long-lived objects that survive configuration reloads (a reload swaps only the
 * lists that point at them), and the choice of a target for a request (round robin or least
 * outstanding requests over the healthy targets; all of them when none is, as ALB fails open).
 *
 * Slow start (`slow_start.duration_seconds`, round robin): a target that turns healthy while the
 * group already has a healthy target outside slow start gets a share of requests growing linearly
 * from nothing to its full share over the duration; it leaves slow start early if it turns
 * unhealthy, as ALB documents.
 */
import { Pool } from 'undici';
import type { CheckedHealth } from '../services/elbv2/index.js';
import type { ElbTargetDoc, ElbTargetGroupDoc } from '../store/collections.js';

export class TargetRuntime {
  inflight = 0;
  /** Requests in flight to it from the other data-plane workers, as they last reported (least outstanding requests). */
  elsewhere = 0;
  draining = false;
  drainDeadline = 0;
  /** Set once the drain has been reported complete (avoid reporting twice). */
  drainReported = false;
  health: CheckedHealth = { state: 'initial', reason: 'Elb.RegistrationInProgress', description: 'Target registration is in progress' };
  okStreak = 0;
  failStreak = 0;
  /** Whether the last refresh saw it healthy (a change to healthy may start its slow start). */
  wasHealthy = false;
  /** Its slow start window (ms since the epoch); 0 when not in slow start. */
  slowStartFrom = 0;
  slowStartUntil = 0;
  /** The sticky cookie value that names this target. */
  readonly cookie: string;
  private connections: Pool | undefined;

  constructor(
    readonly groupArn: string,
    readonly id: string,
    readonly port: number,
    readonly host: string,
    /** HTTPS target groups: TLS to the target, whose certificate is not verified (as ALB does not). */
    readonly tls = false,
  ) {
    this.cookie = Buffer.from(`${id}:${port}`).toString('base64url');
  }

  /** The keep-alive pool to the target, opened on first use (the control plane's copies, which only health-check, never open one). */
  get pool(): Pool {
    return (this.connections ??= new Pool(`${this.tls ? 'https' : 'http'}://${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.port}`, {
      connect: this.tls ? { rejectUnauthorized: false } : undefined,
      connections: 256,
      pipelining: 1,
      keepAliveTimeout: 4_000,
      keepAliveMaxTimeout: 60_000,
      connectTimeout: 10_000,
    }));
  }

  get key(): string {
    return `${this.id}|${this.port}`;
  }

  /** Closes the pool once in-flight requests finish (or at once when asked to cut them). */
  retire(cut: boolean): void {
    const p = this.connections;
    if (p) (cut ? p.destroy() : p.close()).catch(() => undefined);
  }
}

export interface Stickiness {
  enabled: boolean;
  durationSeconds: number;
}

export class GroupRuntime {
  doc!: ElbTargetGroupDoc;
  /** Every registered target, draining ones included. */
  targets: TargetRuntime[] = [];
  /** Where new requests may go: healthy, not draining; all non-draining ones when none is healthy. */
  routable: TargetRuntime[] = [];
  private rr = 0;
  leastOutstanding = false;
  stickiness: Stickiness = { enabled: false, durationSeconds: 86400 };
  /** Whether some listener or rule forwards to it (only then are its targets health-checked). */
  inUse = false;
  /** The short id in its ARN, for the group-stickiness cookie. */
  id = '';
  /** slow_start.duration_seconds in ms (0: off). */
  slowStartMs = 0;
  /** When the last routable target's slow start ends (ms; 0: none, which keeps pick's common path free of it). */
  private slowStartEndsAt = 0;

  constructor(readonly arn: string) {}

  configure(doc: ElbTargetGroupDoc): void {
    this.doc = doc;
    this.id = doc.arn.slice(-16);
    this.leastOutstanding = doc.attributes['load_balancing.algorithm.type'] === 'least_outstanding_requests';
    this.stickiness = {
      enabled: doc.attributes['stickiness.enabled'] === 'true' && doc.attributes['stickiness.type'] === 'lb_cookie',
      durationSeconds: Number(doc.attributes['stickiness.lb_cookie.duration_seconds'] ?? 86400),
    };
    this.slowStartMs = Number(doc.attributes['slow_start.duration_seconds'] ?? 0) * 1000;
  }

  /** Replaces the target list from the stored rows, keeping the runtime of targets that stay. Returns the removed ones. */
  setTargets<R extends ElbTargetDoc>(rows: readonly R[], make: (row: R) => TargetRuntime): TargetRuntime[] {
    const old = new Map(this.targets.map((t) => [t.key, t]));
    const next: TargetRuntime[] = [];
    for (const row of rows) {
      const key = `${row.id}|${row.port}`;
      const t = old.get(key) ?? make(row);
      old.delete(key);
      const draining = row.drainingSince !== undefined;
      if (!draining && t.draining) t.drainReported = false;
      t.draining = draining;
      t.drainDeadline = row.drainDeadline ?? 0;
      next.push(t);
    }
    this.targets = next;
    this.refresh();
    return [...old.values()];
  }

  /** Recomputes where traffic may go (after a reload or a health change). */
  refresh(now = Date.now()): void {
    const live = this.targets.filter((t) => !t.draining);
    const checked = this.doc.healthCheck.enabled && this.inUse;
    const healthy = checked ? live.filter((t) => t.health.state === 'healthy') : live;
    this.routable = healthy.length > 0 ? healthy : live;
    if (checked) this.startSlowStarts(live, now);
    const ends = Math.max(0, ...this.routable.map((t) => t.slowStartUntil));
    this.slowStartEndsAt = ends > now ? ends : 0;
  }

  /** Targets that just turned healthy enter slow start when a settled healthy target is there to carry the rest. */
  private startSlowStarts(live: readonly TargetRuntime[], now: number): void {
    const settled = (t: TargetRuntime) => t.wasHealthy && t.health.state === 'healthy' && t.slowStartUntil <= now;
    const anySettled = live.some(settled);
    for (const t of live) {
      const isHealthy = t.health.state === 'healthy';
      if (!isHealthy) t.slowStartFrom = t.slowStartUntil = 0;
      else if (!t.wasHealthy && this.slowStartMs > 0 && !this.leastOutstanding && anySettled) {
        t.slowStartFrom = now;
        t.slowStartUntil = now + this.slowStartMs;
      }
      t.wasHealthy = isHealthy;
    }
  }

  /** A slow-starting target takes its turn with the probability of its ramp (elapsed ÷ duration); else the next one does. */
  private pastSlowStart(list: readonly TargetRuntime[], start: number): TargetRuntime {
    const now = Date.now();
    if (now >= this.slowStartEndsAt) {
      this.slowStartEndsAt = 0;
      return list[start]!;
    }
    for (let i = 0; i < list.length; i++) {
      const t = list[(start + i) % list.length]!;
      if (t.slowStartUntil <= now || Math.random() < (now - t.slowStartFrom) / (t.slowStartUntil - t.slowStartFrom)) return t;
    }
    return list[start]!;
  }

  /** The target for a new request: the sticky one if it is still routable, else by the group's algorithm. */
  pick(stickyCookie: string | undefined): TargetRuntime | undefined {
    const list = this.routable;
    if (list.length === 0) return undefined;
    if (stickyCookie !== undefined) {
      for (const t of list) if (t.cookie === stickyCookie) return t;
    }
    const start = this.rr++ % list.length;
    if (this.rr > 1e9) this.rr = 0;
    if (!this.leastOutstanding) return this.slowStartEndsAt !== 0 ? this.pastSlowStart(list, start) : list[start]!;
    let best = list[start]!;
    for (let i = 1; i < list.length; i++) {
      const t = list[(start + i) % list.length]!;
      if (t.inflight + t.elsewhere < best.inflight + best.elsewhere) best = t;
    }
    return best;
  }
}

/** What syncGroups removed: targets deregistered from groups that remain, and deleted groups (with their targets). */
export interface RemovedRuntime {
  targets: TargetRuntime[];
  groups: GroupRuntime[];
}

/**
 * Brings `groups` (by ARN) in line with the stored target groups and their targets, keeping the
 * runtime (health, in-flight counts, pools) of the groups and targets that stay. `inUse` says
 * which groups a listener or rule forwards to. The control half and every serving half keep
 * their own copies with this one rule.
 */
export function syncGroups(
  groups: Map<string, GroupRuntime>,
  docs: readonly ElbTargetGroupDoc[],
  targets: readonly (ElbTargetDoc & { host: string })[],
  inUse: (arn: string) => boolean,
): RemovedRuntime {
  const byGroup = new Map<string, (ElbTargetDoc & { host: string })[]>();
  for (const t of targets) (byGroup.get(t.targetGroupArn) ?? byGroup.set(t.targetGroupArn, []).get(t.targetGroupArn)!).push(t);
  const removed: RemovedRuntime = { targets: [], groups: [] };
  const seen = new Set<string>();
  for (const doc of docs) {
    seen.add(doc.arn);
    const g = groups.get(doc.arn) ?? new GroupRuntime(doc.arn);
    groups.set(doc.arn, g);
    g.configure(doc);
    g.inUse = inUse(doc.arn);
    removed.targets.push(...g.setTargets(byGroup.get(doc.arn) ?? [], (row) => new TargetRuntime(doc.arn, row.id, row.port, row.host, doc.protocol === 'HTTPS')));
  }
  for (const [arn, g] of groups) {
    if (seen.has(arn)) continue;
    groups.delete(arn);
    removed.groups.push(g);
  }
  return removed;
}
