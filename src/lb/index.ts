/**
 * The load-balancer data plane, configured from the ELBv2 collections. The control half lives
 * here, in the Dockyard process: every committed write to those collections (seen through the
 * store's write observer) produces a new configuration snapshot, handed to the serving half
 * (src/lb/listeners.ts), which runs either in this process or in data-plane worker processes
 * sharing the listening sockets (src/lb/workers.ts; one per CPU by default). Health checks run
 * once, here, and their results are pushed to the serving half; draining ends once no worker has
 * the target's requests in flight or its delay has passed; once a period the serving half's
 * counters are collected and published as CloudWatch's `AWS/ApplicationELB` metrics.
 */
import { sslPolicyNamed, type CheckedHealth, type TargetHealthSource } from '../services/elbv2/index.js';
import * as c from '../store/collections.js';
import type { ElbListenerDoc, ElbRuleDoc } from '../store/collections.js';
import type { Store } from '../store/store.js';
import { syncGroups, type GroupRuntime } from './groups.js';
import { HealthChecker } from './health-checker.js';
import { ListenerRuntime, targetKeyOf, type DataPlaneLog, type DataPlaneSnapshot, type HealthMap } from './listeners.js';
import { metricPoints, type GroupHealthCounts, type MetricPoint, type PeriodStats } from './stats.js';
import { WorkerPool } from './workers.js';

export { matches as healthMatcherMatches } from './health-checker.js';
export type { DataPlaneLog } from './listeners.js';
export type { MetricPoint } from './stats.js';

export interface DataPlaneOptions {
  store: Store;
  /** Where listeners bind (127.0.0.1 by default). */
  bindHost: string;
  /** The PEM certificate and key of an ACM certificate, for HTTPS listeners. */
  tlsMaterial(arn: string): Promise<{ cert: string; key: string } | undefined>;
  /** Ends a target's draining (the ELBv2 domain's Targets.completeDrain). */
  completeDrain(targetGroupArn: string, id: string, port: number): Promise<void>;
  /** The address of an `instance` target (default: this host, 127.0.0.1). */
  resolveInstance?(id: string): string;
  /** Serving processes: 1 serves in this process; more fork that many workers (default: one per CPU). */
  workers?: number;
  /** Writes `AWS/ApplicationELB` points (CloudWatch's Metrics.record). */
  publishMetrics?(points: MetricPoint[]): void;
  /** How often the counters are published (default 60 000 ms, ALB's one-minute period; tests shorten it). */
  metricsIntervalMs?: number;
  log: DataPlaneLog;
}

/** Where the serving half runs: in this process, or in worker processes. */
export interface ServingHalf {
  apply(snapshot: DataPlaneSnapshot): Promise<void>;
  setHealth(health: HealthMap): void;
  /** In-flight requests of draining targets, summed over workers; undefined until all have applied `version`. */
  drainingInflight(version: number): Record<string, number> | undefined;
  boundPorts(): number[];
  /** The worker processes' pids (none when serving in this process). */
  workerPids(): number[];
  takeStats(): Promise<PeriodStats>;
  close(): Promise<void>;
}

class InProcess implements ServingHalf {
  private readonly runtime: ListenerRuntime;
  constructor(log: DataPlaneLog) {
    this.runtime = new ListenerRuntime(log);
  }
  apply = (s: DataPlaneSnapshot) => this.runtime.apply(s);
  setHealth = (h: HealthMap) => this.runtime.setHealth(h);
  drainingInflight = (version: number) => (this.runtime.version >= version ? this.runtime.inflight() : undefined);
  boundPorts = () => this.runtime.boundPorts();
  workerPids = () => [];
  takeStats = async () => this.runtime.takeStats();
  close = () => this.runtime.close();
}

/** The target groups each load balancer forwards to (its listeners' and rules' forward actions). */
function forwardPairs(listeners: ElbListenerDoc[], rules: ElbRuleDoc[]): [string, string][] {
  const lbOf = new Map(listeners.map((l) => [l.arn, l.loadBalancerArn]));
  const pairs = new Map<string, [string, string]>();
  const add = (lbArn: string | undefined, actions: readonly Record<string, unknown>[]) => {
    if (!lbArn) return;
    for (const a of actions) {
      const groups = (a.ForwardConfig as { TargetGroups?: { TargetGroupArn: string }[] } | undefined)?.TargetGroups ?? [];
      for (const g of groups) pairs.set(`${lbArn} ${g.TargetGroupArn}`, [lbArn, g.TargetGroupArn]);
    }
  };
  for (const l of listeners) add(l.loadBalancerArn, l.defaultActions);
  for (const r of rules) add(lbOf.get(r.listenerArn), r.actions);
  return [...pairs.values()];
}

export class LoadBalancerDataPlane implements TargetHealthSource {
  /** Target groups as the health checks and drains see them (no connection pools here). */
  private readonly groups = new Map<string, GroupRuntime>();
  private readonly health = new HealthChecker((g) => this.healthChanged(g));
  private serving: ServingHalf;
  private version = 0;
  private pairs: [string, string][] = [];
  private reloading: Promise<void> | undefined;
  private again = false;
  private waiting = false;
  private tick: NodeJS.Timeout | undefined;
  private metricsTick: NodeJS.Timeout | undefined;
  private periodStart = Date.now();
  private closed = false;

  constructor(private readonly opts: DataPlaneOptions) {
    const workers = opts.workers !== undefined && Number.isInteger(opts.workers) && opts.workers >= 1 ? opts.workers : WorkerPool.defaultSize();
    this.serving = workers > 1 ? new WorkerPool(workers, opts.log, () => void this.serveInProcess()) : new InProcess(opts.log);
  }

  async start(): Promise<void> {
    this.opts.store.observeWrites({
      written: (rows) => {
        if (rows.some((r) => r.collection.startsWith('elb_') || r.collection.startsWith('acm_'))) this.scheduleReload();
      },
      lost: () => this.scheduleReload(),
    });
    this.opts.store.onClear(() => this.scheduleReload());
    await this.reload();
    this.tick = setInterval(() => void this.maintain(), 500);
    this.tick.unref();
    if (this.opts.publishMetrics) {
      this.metricsTick = setInterval(() => void this.flushMetrics(), this.opts.metricsIntervalMs ?? 60_000);
      this.metricsTick.unref();
    }
  }

  /** The fallback when worker processes cannot start. */
  private async serveInProcess(): Promise<void> {
    if (this.closed) return;
    this.serving = new InProcess(this.opts.log);
    await this.reload();
  }

  /** TargetHealthSource: what the health checks found for a registered target. */
  healthOf(targetGroupArn: string, id: string, port: number): CheckedHealth | undefined {
    const t = this.groups.get(targetGroupArn)?.targets.find((x) => x.id === id && x.port === port);
    return t?.health;
  }

  /** The ports listeners are served on once bound (tests wait for it). */
  boundPorts(): number[] {
    return this.serving.boundPorts();
  }

  /** The data-plane worker processes (tests kill one to see it replaced). */
  workerPids(): number[] {
    return this.serving.workerPids();
  }

  /** Resolves once every committed configuration change has been applied. */
  async settled(): Promise<void> {
    while (this.reloading || this.waiting) await (this.reloading ?? new Promise((r) => setTimeout(r, 5)));
  }

  /** A write touched the configuration: reload once its commit is visible (the next change index). */
  private scheduleReload(): void {
    if (this.waiting || this.closed) return;
    this.waiting = true;
    const index = this.opts.store.changeIndex();
    void this.opts.store.waitForChange(index, 1_000).then(() => {
      this.waiting = false;
      void this.reload();
    });
  }

  private async reload(): Promise<void> {
    if (this.reloading) {
      this.again = true;
      return this.reloading;
    }
    this.reloading = (async () => {
      do {
        this.again = false;
        try {
          await this.apply();
        } catch (err) {
          this.opts.log.error({ err }, 'load balancer configuration could not be applied');
        }
      } while (this.again && !this.closed);
    })().finally(() => (this.reloading = undefined));
    return this.reloading;
  }

  private async apply(): Promise<void> {
    const rows = await this.opts.store.read(async (tx) => ({
      loadBalancers: (await tx.find(c.elbLoadBalancers)).map((r) => r.data),
      targetGroups: (await tx.find(c.elbTargetGroups)).map((r) => r.data),
      targets: (await tx.find(c.elbTargets)).map((r) => r.data),
      listeners: (await tx.find(c.elbListeners)).map((r) => r.data),
      rules: (await tx.find(c.elbRules)).map((r) => r.data),
    }));
    if (this.closed) return;
    const lbArns = new Set(rows.loadBalancers.map((l) => l.arn));
    const listeners = rows.listeners.filter((l) => lbArns.has(l.loadBalancerArn));
    const groupDocs = new Map(rows.targetGroups.map((g) => [g.arn, g]));
    const targets = rows.targets.map((t) => ({ ...t, host: groupDocs.get(t.targetGroupArn)?.targetType === 'ip' ? t.id : (this.opts.resolveInstance?.(t.id) ?? '127.0.0.1') }));
    const tls: DataPlaneSnapshot['tls'] = {};
    for (const l of listeners) {
      const arn = l.certificates[0]?.CertificateArn;
      if (l.protocol !== 'HTTPS' || !arn) continue;
      const material = await this.opts.tlsMaterial(arn);
      if (material) tls[l.arn] = { arn, ...material, minVersion: sslPolicyNamed(l.sslPolicy ?? '')?.minVersion ?? 'TLSv1.2' };
    }
    this.pairs = forwardPairs(listeners, rows.rules);
    // The control copies of the groups: which are in use decides which are health-checked.
    const inUse = new Set(this.pairs.map(([, g]) => g));
    syncGroups(this.groups, rows.targetGroups, targets, (arn) => inUse.has(arn));
    this.health.sync(this.groups.values());
    const snapshot: DataPlaneSnapshot = { version: ++this.version, bindHost: this.opts.bindHost, loadBalancers: rows.loadBalancers, targetGroups: rows.targetGroups, targets, listeners, rules: rows.rules, tls, health: this.healthMap() };
    await this.serving.apply(snapshot);
  }

  private healthMap(): HealthMap {
    const out: HealthMap = {};
    for (const g of this.groups.values()) for (const t of g.targets) out[targetKeyOf(g.arn, t.id, t.port)] = t.health;
    return out;
  }

  private healthChanged(g: GroupRuntime): void {
    g.refresh();
    this.serving.setHealth(this.healthMap());
  }

  /** Every half second: end finished drains. */
  private maintain(): void {
    const now = Date.now();
    let inflight: Record<string, number> | undefined | null = null;
    for (const g of this.groups.values()) {
      for (const t of g.targets) {
        if (!t.draining || t.drainReported) continue;
        if (inflight === null) inflight = this.serving.drainingInflight(this.version);
        const idle = inflight !== undefined && (inflight[targetKeyOf(g.arn, t.id, t.port)] ?? 0) === 0;
        if (idle || now >= t.drainDeadline) {
          t.drainReported = true;
          this.opts.completeDrain(g.arn, t.id, t.port).catch((err) => {
            t.drainReported = false;
            this.opts.log.error({ err }, 'could not complete a target deregistration');
          });
        }
      }
    }
  }

  private groupHealth(arn: string): GroupHealthCounts | undefined {
    const g = this.groups.get(arn);
    if (!g) return undefined;
    const live = g.targets.filter((t) => !t.draining);
    const checked = g.doc.healthCheck.enabled;
    return {
      healthy: checked ? live.filter((t) => t.health.state === 'healthy').length : live.length,
      unhealthy: checked ? live.filter((t) => t.health.state === 'unhealthy').length : 0,
      routable: g.routable.length,
    };
  }

  /** Publishes the period that ends now, timestamped with its start. */
  private async flushMetrics(): Promise<void> {
    const start = this.periodStart;
    this.periodStart = Date.now();
    try {
      const stats = await this.serving.takeStats();
      const points = metricPoints(stats, this.pairs, (arn) => this.groupHealth(arn), Math.floor(start / 1000));
      if (points.length && !this.closed) this.opts.publishMetrics?.(points);
    } catch (err) {
      this.opts.log.error({ err }, 'could not publish load balancer metrics');
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.tick) clearInterval(this.tick);
    if (this.metricsTick) clearInterval(this.metricsTick);
    await this.reloading;
    await this.health.close();
    await this.serving.close();
  }
}
