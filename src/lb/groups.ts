/**
 * Target groups at run time: each target's keep-alive pool, in-flight count, health and drain
 * state live in long-lived objects that survive configuration reloads (a reload swaps only the
 * lists that point at them), and the choice of a target for a request (round robin or least
 * outstanding requests over the healthy targets; all of them when none is, as ALB fails open).
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

  constructor(readonly arn: string) {}

  configure(doc: ElbTargetGroupDoc): void {
    this.doc = doc;
    this.id = doc.arn.slice(-16);
    this.leastOutstanding = doc.attributes['load_balancing.algorithm.type'] === 'least_outstanding_requests';
    this.stickiness = {
      enabled: doc.attributes['stickiness.enabled'] === 'true' && doc.attributes['stickiness.type'] === 'lb_cookie',
      durationSeconds: Number(doc.attributes['stickiness.lb_cookie.duration_seconds'] ?? 86400),
    };
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
  refresh(): void {
    const live = this.targets.filter((t) => !t.draining);
    const healthy = this.doc.healthCheck.enabled && this.inUse ? live.filter((t) => t.health.state === 'healthy') : live;
    this.routable = healthy.length > 0 ? healthy : live;
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
    if (!this.leastOutstanding) return list[start];
    let best = list[start]!;
    for (let i = 1; i < list.length; i++) {
      const t = list[(start + i) % list.length]!;
      if (t.inflight + t.elsewhere < best.inflight + best.elsewhere) best = t;
    }
    return best;
  }
}
