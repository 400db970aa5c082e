/**
 * The load-balancer data plane: one HTTP(S) server per listener port inside the Dockyard process,
 * configured from the ELBv2 collections. Every committed write to them (seen through the store's
 * write observer) rebuilds an immutable routing table per port and swaps it in; servers, keep-alive
 * pools, health state and in-flight counts survive the swap, so no open connection is dropped by
 * a change. It also runs the active health checks, reports target health to the ELBv2 domain, and
 * ends draining once a deregistered target has nothing in flight or its delay has passed.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import { sslPolicyNamed, type CheckedHealth, type TargetHealthSource } from '../services/elbv2/index.js';
import * as c from '../store/collections.js';
import type { ElbListenerDoc, ElbLoadBalancerDoc, ElbRuleDoc, ElbTargetDoc, ElbTargetGroupDoc } from '../store/collections.js';
import type { Store } from '../store/store.js';
import { GroupRuntime, TargetRuntime } from './groups.js';
import { HealthChecker } from './health-checker.js';
import { handleRequest, handleUpgrade, sendAlbError } from './proxy.js';
import { compileAction, compileRule, type ListenerRoute } from './routes.js';

export { matches as healthMatcherMatches } from './health-checker.js';

export interface DataPlaneLog {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

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
  log: DataPlaneLog;
}

interface PortServer {
  protocol: 'HTTP' | 'HTTPS';
  server: Server | HttpsServer;
  routes: ListenerRoute[];
  certificateArn?: string;
  tlsKey?: string;
  bound: boolean;
  lastBindAttempt?: number;
  /** Upgraded (WebSocket) connections: the HTTP server no longer tracks them, close() must end them. */
  upgraded: Set<Duplex>;
}

/** The route for a request on a port several load balancers share: the one whose DNS name is the Host. */
function routeFor(routes: ListenerRoute[], host: string | undefined): ListenerRoute {
  if (routes.length === 1 || host === undefined) return routes[0]!;
  const name = host.replace(/:\d+$/, '').toLowerCase();
  return routes.find((r) => r.dnsName === name) ?? routes[0]!;
}

export class LoadBalancerDataPlane implements TargetHealthSource {
  private readonly groups = new Map<string, GroupRuntime>();
  private readonly servers = new Map<number, PortServer>();
  private readonly health = new HealthChecker((g) => g.refresh());
  private reloading: Promise<void> | undefined;
  private again = false;
  private waiting = false;
  private tick: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly opts: DataPlaneOptions) {}

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
  }

  /** TargetHealthSource: what the health checks found for a registered target. */
  healthOf(targetGroupArn: string, id: string, port: number): CheckedHealth | undefined {
    const t = this.groups.get(targetGroupArn)?.targets.find((x) => x.id === id && x.port === port);
    return t?.health;
  }

  /** The port a listener is served on once bound (tests wait for it). */
  boundPorts(): number[] {
    return [...this.servers].filter(([, s]) => s.bound).map(([p]) => p);
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
    const snapshot = await this.opts.store.read(async (tx) => ({
      loadBalancers: (await tx.find(c.elbLoadBalancers)).map((r) => r.data),
      targetGroups: (await tx.find(c.elbTargetGroups)).map((r) => r.data),
      targets: (await tx.find(c.elbTargets)).map((r) => r.data),
      listeners: (await tx.find(c.elbListeners)).map((r) => r.data),
      rules: (await tx.find(c.elbRules)).map((r) => r.data),
    }));
    if (this.closed) return;
    this.applyGroups(snapshot.targetGroups, snapshot.targets);
    const routes = this.buildRoutes(snapshot.loadBalancers, snapshot.listeners, snapshot.rules);
    for (const g of this.groups.values()) g.refresh();
    this.health.sync(this.groups.values());
    await this.applyServers(routes, snapshot.listeners);
  }

  private applyGroups(docs: ElbTargetGroupDoc[], targets: ElbTargetDoc[]): void {
    const byGroup = new Map<string, ElbTargetDoc[]>();
    for (const t of targets) (byGroup.get(t.targetGroupArn) ?? byGroup.set(t.targetGroupArn, []).get(t.targetGroupArn)!).push(t);
    const seen = new Set<string>();
    for (const doc of docs) {
      seen.add(doc.arn);
      const g = this.groups.get(doc.arn) ?? new GroupRuntime(doc.arn);
      this.groups.set(doc.arn, g);
      g.configure(doc);
      g.inUse = false;
      const keepAliveMs = 4_000;
      const removed = g.setTargets(byGroup.get(doc.arn) ?? [], (row) => new TargetRuntime(doc.arn, row.id, row.port, doc.targetType === 'ip' ? row.id : (this.opts.resolveInstance?.(row.id) ?? '127.0.0.1'), keepAliveMs, doc.protocol === 'HTTPS'));
      // A target whose drain ended with requests still in flight had its delay run out: cut them.
      for (const t of removed) t.retire(t.inflight > 0 && t.draining);
    }
    for (const [arn, g] of this.groups) {
      if (seen.has(arn)) continue;
      for (const t of g.targets) t.retire(true);
      this.groups.delete(arn);
    }
  }

  private buildRoutes(lbs: ElbLoadBalancerDoc[], listeners: ElbListenerDoc[], rules: ElbRuleDoc[]): Map<number, ListenerRoute[]> {
    const lbByArn = new Map(lbs.map((l) => [l.arn, l]));
    const rulesByListener = new Map<string, ElbRuleDoc[]>();
    for (const r of rules) (rulesByListener.get(r.listenerArn) ?? rulesByListener.set(r.listenerArn, []).get(r.listenerArn)!).push(r);
    const groupOf = (arn: string) => {
      const g = this.groups.get(arn);
      if (g) g.inUse = true;
      return g;
    };
    const byPort = new Map<number, ListenerRoute[]>();
    // Oldest first: when load balancers share a port here, the first one answers unknown hosts.
    for (const l of [...listeners].sort((a, b) => a.createdTime - b.createdTime || a.arn.localeCompare(b.arn))) {
      const lb = lbByArn.get(l.loadBalancerArn);
      if (!lb) continue;
      const ordered = (rulesByListener.get(l.arn) ?? []).sort((a, b) => a.priority - b.priority);
      const route: ListenerRoute = {
        arn: l.arn,
        loadBalancerArn: lb.arn,
        dnsName: lb.dnsName,
        port: l.port,
        protocol: l.protocol === 'HTTPS' ? 'HTTPS' : 'HTTP',
        idleTimeoutMs: Number(lb.attributes['idle_timeout.timeout_seconds'] ?? 60) * 1000,
        xffMode: lb.attributes['routing.http.xff_header_processing.mode'] ?? 'append',
        xffClientPort: lb.attributes['routing.http.xff_client_port.enabled'] === 'true',
        serverHeader: l.attributes['routing.http.response.server.enabled'] !== 'false',
        rules: ordered.map((r) => compileRule(r.conditions, r.actions, groupOf)),
        defaultAction: compileAction(l.defaultActions, groupOf),
      };
      (byPort.get(l.port) ?? byPort.set(l.port, []).get(l.port)!).push(route);
    }
    return byPort;
  }

  private async applyServers(byPort: Map<number, ListenerRoute[]>, listeners: ElbListenerDoc[]): Promise<void> {
    for (const [port, s] of this.servers) {
      const routes = byPort.get(port);
      if (!routes || routes[0]!.protocol !== s.protocol) {
        // Stops accepting; requests in flight on open connections finish.
        s.server.close();
        s.server.closeIdleConnections();
        this.servers.delete(port);
      }
    }
    for (const [port, routes] of byPort) {
      const first = routes[0]!;
      const listener = listeners.find((l) => l.arn === first.arn)!;
      let s = this.servers.get(port);
      const idle = first.idleTimeoutMs;
      if (!s) {
        s = await this.createServer(port, first.protocol, listener);
        if (!s) continue;
        this.servers.set(port, s);
      } else if (s.protocol === 'HTTPS') {
        await this.refreshTls(s, listener);
      }
      s.routes = routes;
      s.server.keepAliveTimeout = idle;
      s.server.headersTimeout = idle + 1_000;
      if (!s.bound) this.bind(port, s);
    }
  }

  private async tlsOptions(listener: ElbListenerDoc) {
    const arn = listener.certificates[0]?.CertificateArn;
    const material = arn ? await this.opts.tlsMaterial(arn) : undefined;
    if (!material) return undefined;
    return { arn: arn!, cert: material.cert, key: material.key, minVersion: sslPolicyNamed(listener.sslPolicy ?? '')?.minVersion ?? 'TLSv1.2' };
  }

  private async refreshTls(s: PortServer, listener: ElbListenerDoc): Promise<void> {
    const tls = await this.tlsOptions(listener);
    if (!tls || (tls.arn === s.certificateArn && tls.key === s.tlsKey)) return;
    (s.server as HttpsServer).setSecureContext({ cert: tls.cert, key: tls.key, minVersion: tls.minVersion });
    s.certificateArn = tls.arn;
    s.tlsKey = tls.key;
  }

  private async createServer(port: number, protocol: 'HTTP' | 'HTTPS', listener: ElbListenerDoc): Promise<PortServer | undefined> {
    const s: PortServer = { protocol, routes: [], bound: false, upgraded: new Set() } as unknown as PortServer;
    const onRequest = (req: IncomingMessage, res: ServerResponse) => {
      try {
        handleRequest(routeFor(s.routes, req.headers.host), req, res);
      } catch (err) {
        this.opts.log.error({ err }, 'load balancer request failed');
        sendAlbError(res, 500);
      }
    };
    const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      s.upgraded.add(socket);
      socket.once('close', () => s.upgraded.delete(socket));
      handleUpgrade(routeFor(s.routes, req.headers.host), req, socket, head);
    };
    if (protocol === 'HTTPS') {
      const tls = await this.tlsOptions(listener);
      if (!tls) {
        this.opts.log.error({ listener: listener.arn }, 'HTTPS listener has no usable certificate; not serving it');
        return undefined;
      }
      s.server = createHttpsServer({ cert: tls.cert, key: tls.key, minVersion: tls.minVersion }, onRequest);
      s.certificateArn = tls.arn;
      s.tlsKey = tls.key;
    } else {
      s.server = createHttpServer({ keepAlive: true }, onRequest);
    }
    s.server.on('upgrade', onUpgrade);
    // A port taken by another process (EADDRINUSE), or not ours to take: logged, retried by maintain().
    s.server.on('error', (err) => {
      s.bound = false;
      this.opts.log.error({ err: String(err), port, host: this.opts.bindHost }, 'load balancer listener could not bind its port; retrying');
    });
    s.server.on('clientError', (_err, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nserver: awselb/2.0\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      else socket.destroy();
    });
    return s;
  }

  private bind(port: number, s: PortServer): void {
    s.bound = true;
    s.lastBindAttempt = Date.now();
    s.server.listen({ port, host: this.opts.bindHost }, () => this.opts.log.info({ port, host: this.opts.bindHost, protocol: s.protocol }, 'load balancer listener serving'));
  }

  /** Every half second: end finished drains, retry listeners that could not bind. */
  private async maintain(): Promise<void> {
    const now = Date.now();
    for (const g of this.groups.values()) {
      for (const t of g.targets) {
        if (!t.draining || t.drainReported) continue;
        if (t.inflight === 0 || now >= t.drainDeadline) {
          t.drainReported = true;
          this.opts.completeDrain(g.arn, t.id, t.port).catch((err) => {
            t.drainReported = false;
            this.opts.log.error({ err }, 'could not complete a target deregistration');
          });
        }
      }
    }
    for (const [port, s] of this.servers) if (!s.bound && !s.server.listening && now - (s.lastBindAttempt ?? 0) >= 5_000) this.bind(port, s);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.tick) clearInterval(this.tick);
    await this.reloading;
    await this.health.close();
    await Promise.all(
      [...this.servers.values()].map(
        (s) =>
          new Promise<void>((resolve) => {
            s.server.close(() => resolve());
            s.server.closeAllConnections();
            for (const socket of s.upgraded) socket.destroy();
            if (!s.server.listening) resolve();
          }),
      ),
    );
    this.servers.clear();
    await Promise.all([...this.groups.values()].flatMap((g) => g.targets.map((t) => t.pool.destroy().catch(() => undefined))));
  }
}
