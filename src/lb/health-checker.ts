/**
 * Active health checks, per target of every target group in use: GET <path> on the health check
 * port every interval, matched against the group's HTTP codes, with ALB's thresholds, states and
 * reason codes. A target starts `initial`; HealthyThresholdCount successes make it healthy,
 * UnhealthyThresholdCount failures unhealthy.
 */
import { Agent } from 'undici';
import type { ElbHealthCheck } from '../store/collections.js';
import type { GroupRuntime, TargetRuntime } from './groups.js';

/** Whether an HTTP status satisfies a matcher such as "200", "200,302" or "200-299". */
export function matches(matcher: string, status: number): boolean {
  return matcher.split(',').some((part) => {
    const [lo, hi] = part.split('-').map(Number);
    return hi === undefined ? status === lo : status >= lo! && status <= hi;
  });
}

interface Scheduled {
  timer: NodeJS.Timeout;
  group: GroupRuntime;
  target: TargetRuntime;
  settings: string;
}

export class HealthChecker {
  private readonly agent = new Agent({ keepAliveTimeout: 4_000, connections: 4, connect: { rejectUnauthorized: false } });
  private readonly scheduled = new Map<TargetRuntime, Scheduled>();
  private closed = false;

  constructor(private readonly onChange: (group: GroupRuntime) => void) {}

  /** Checks exactly the targets of groups in use (call after every reload). */
  sync(groups: Iterable<GroupRuntime>): void {
    const wanted = new Set<TargetRuntime>();
    for (const g of groups) {
      if (!g.inUse || !g.doc.healthCheck.enabled) continue;
      const settings = JSON.stringify(g.doc.healthCheck);
      for (const t of g.targets) {
        if (t.draining) continue;
        wanted.add(t);
        const s = this.scheduled.get(t);
        if (s && s.settings === settings) continue;
        if (s) clearTimeout(s.timer);
        // The first check soon after registration (spread a little), then every interval.
        const timer = setTimeout(() => void this.check(t), 50 + Math.floor(Math.random() * 200));
        timer.unref();
        this.scheduled.set(t, { timer, group: g, target: t, settings });
      }
    }
    for (const [t, s] of this.scheduled) {
      if (!wanted.has(t)) {
        clearTimeout(s.timer);
        this.scheduled.delete(t);
      }
    }
  }

  private async check(t: TargetRuntime): Promise<void> {
    const s = this.scheduled.get(t);
    if (!s || this.closed) return;
    const h: ElbHealthCheck = s.group.doc.healthCheck;
    const port = h.port === 'traffic-port' ? t.port : Number(h.port);
    const host = t.host.includes(':') ? `[${t.host}]` : t.host;
    let outcome: { ok: boolean; reason?: string; description?: string };
    try {
      const res = await this.agent.request({
        origin: `${h.protocol === 'HTTPS' ? 'https' : 'http'}://${host}:${port}`,
        path: h.path,
        method: 'GET',
        headers: { 'user-agent': 'ELB-HealthChecker/2.0' },
        headersTimeout: h.timeoutSeconds * 1000,
        bodyTimeout: h.timeoutSeconds * 1000,
        signal: AbortSignal.timeout(h.timeoutSeconds * 1000),
      });
      await res.body.dump({ limit: 64 * 1024 }).catch(() => undefined);
      outcome = matches(h.matcher, res.statusCode) ? { ok: true } : { ok: false, reason: 'Target.ResponseCodeMismatch', description: `Health checks failed with these codes: [${res.statusCode}]` };
    } catch (e) {
      const code = (e as { code?: string; name?: string }).code ?? (e as { name?: string }).name;
      const timedOut = code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'TimeoutError' || code === 'AbortError';
      outcome = timedOut ? { ok: false, reason: 'Target.Timeout', description: 'Request timed out' } : { ok: false, reason: 'Target.FailedHealthChecks', description: 'Health checks failed' };
    }
    if (this.scheduled.get(t) !== s || this.closed) return;
    this.record(s.group, t, outcome, h);
    s.timer = setTimeout(() => void this.check(t), h.intervalSeconds * 1000);
    s.timer.unref();
  }

  private record(group: GroupRuntime, t: TargetRuntime, outcome: { ok: boolean; reason?: string; description?: string }, h: ElbHealthCheck): void {
    const before = t.health.state;
    if (outcome.ok) {
      t.okStreak++;
      t.failStreak = 0;
      if (before !== 'healthy' && t.okStreak >= h.healthyThreshold) t.health = { state: 'healthy' };
      else if (before === 'initial') t.health = { state: 'initial', reason: 'Elb.InitialHealthChecking', description: 'Initial health checks in progress' };
    } else {
      t.failStreak++;
      t.okStreak = 0;
      if (before === 'unhealthy' || t.failStreak >= h.unhealthyThreshold) t.health = { state: 'unhealthy', reason: outcome.reason, description: outcome.description };
      else if (before === 'initial') t.health = { state: 'initial', reason: 'Elb.InitialHealthChecking', description: 'Initial health checks in progress' };
    }
    if (t.health.state !== before) this.onChange(group);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const s of this.scheduled.values()) clearTimeout(s.timer);
    this.scheduled.clear();
    await this.agent.close().catch(() => undefined);
  }
}
