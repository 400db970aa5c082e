/**
 * The serving half of the data plane: from a configuration snapshot (plain data, so it can be sent
 * to a worker process), one HTTP(S) server per listener port, an immutable routing table per port
 * swapped in on every change, and the target groups' keep-alive pools. Servers, pools, in-flight
 * counts and counters survive a swap, so no open connection is dropped by a change. It runs in the
 * Dockyard process, or in each data-plane worker (src/lb/worker.ts) where the listening sockets
 * are shared through node:cluster and the kernel spreads connections over the workers.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import type { CheckedHealth } from '../services/elbv2/index.js';
import type { ElbListenerDoc, ElbLoadBalancerDoc, ElbRuleDoc, ElbTargetDoc, ElbTargetGroupDoc } from '../store/collections.js';
import { syncGroups, type GroupRuntime } from './groups.js';
import { handleRequest, handleUpgrade, sendAlbError } from './proxy.js';
import { compileAction, compileRule, type ListenerRoute } from './routes.js';
import { countElbError, newGroupCounters, newLbCounters, type GroupCounters, type LbCounters, type PeriodStats } from './stats.js';

export interface DataPlaneLog {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Everything a data plane serves from: the ELBv2 rows, TLS material and target health. */
export interface DataPlaneSnapshot {
  version: number;
  bindHost: string;
  loadBalancers: ElbLoadBalancerDoc[];
  targetGroups: ElbTargetGroupDoc[];
  /** With the address each target is reached at. */
  targets: (ElbTargetDoc & { host: string })[];
  listeners: ElbListenerDoc[];
  rules: ElbRuleDoc[];
  /** By listener ARN, for HTTPS listeners whose certificate could be read. */
  tls: Record<string, { arn: string; cert: string; key: string; minVersion: string }>;
  health: HealthMap;
}

/** Health by "<target group arn>|<id>|<port>". */
export type HealthMap = Record<string, CheckedHealth>;
export const targetKeyOf = (groupArn: string, id: string, port: number) => `${groupArn}|${id}|${port}`;

interface PortServer {
  protocol: 'HTTP' | 'HTTPS';
  server: Server | HttpsServer;
  routes: ListenerRoute[];
  tls?: { arn: string; key: string };
  bound: boolean;
  lastBindAttempt?: number;
  /** Client connections open now (ActiveConnectionCount). */
  open: number;
  /** Upgraded (WebSocket) connections: the HTTP server no longer tracks them, close() must end them. */
  upgraded: Set<Duplex>;
}

/** The route for a request on a port several load balancers share: the one whose DNS name is the Host. */
function routeFor(routes: ListenerRoute[], host: string | undefined): ListenerRoute {
  if (routes.length === 1 || host === undefined) return routes[0]!;
  const name = host.replace(/:\d+$/, '').toLowerCase();
  return routes.find((r) => r.dnsName === name) ?? routes[0]!;
}

export class ListenerRuntime {
  readonly groups = new Map<string, GroupRuntime>();
  private readonly servers = new Map<number, PortServer>();
  private readonly lbStats = new Map<string, LbCounters>();
  private readonly groupStats = new Map<string, GroupCounters>();
  private readonly tick: NodeJS.Timeout;
  private bindHost = '127.0.0.1';
  version = 0;

  constructor(
    private readonly log: DataPlaneLog,
    /** Called when a listener starts serving (a worker reports its bound ports). */
    private readonly onListening: () => void = () => undefined,
  ) {
    // Retry listeners that could not bind.
    this.tick = setInterval(() => {
      const now = Date.now();
      for (const [port, s] of this.servers) if (!s.bound && !s.server.listening && now - (s.lastBindAttempt ?? 0) >= 5_000) this.bind(port, s);
    }, 1_000);
    this.tick.unref();
  }

  async apply(snap: DataPlaneSnapshot): Promise<void> {
    this.bindHost = snap.bindHost;
    this.applyGroups(snap.targetGroups, snap.targets);
    const used = { lbs: new Set<string>(), groups: new Set<string>() };
    const routes = this.buildRoutes(snap.loadBalancers, snap.listeners, snap.rules, used);
    // Counters of load balancers and pairs no longer configured go (with their unpublished period).
    for (const k of this.lbStats.keys()) if (!used.lbs.has(k)) this.lbStats.delete(k);
    for (const k of this.groupStats.keys()) if (!used.groups.has(k)) this.groupStats.delete(k);
    this.setHealth(snap.health);
    await this.applyServers(routes, snap);
    this.version = snap.version;
  }

  /** New health check results: where traffic may go changes at once. */
  setHealth(health: HealthMap): void {
    for (const g of this.groups.values()) {
      for (const t of g.targets) {
        const h = health[targetKeyOf(g.arn, t.id, t.port)];
        if (h) t.health = h;
      }
      g.refresh();
    }
  }

  /** In-flight requests by target key: of draining targets (their drain ends at 0), and of least-outstanding-requests groups' busy ones. */
  inflight(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const g of this.groups.values()) for (const t of g.targets) if (t.draining || (g.leastOutstanding && t.inflight > 0)) out[targetKeyOf(g.arn, t.id, t.port)] = t.inflight;
    return out;
  }

  /** The other workers' in-flight requests (least outstanding requests weighs them too). */
  setElsewhere(inflight: Record<string, number>): void {
    for (const g of this.groups.values()) for (const t of g.targets) t.elsewhere = inflight[targetKeyOf(g.arn, t.id, t.port)] ?? 0;
  }

  boundPorts(): number[] {
    return [...this.servers].filter(([, s]) => s.bound && s.server.listening).map(([p]) => p);
  }

  /** The counters of the period that ends now (then zeroed for the next). */
  takeStats(): PeriodStats {
    const out: PeriodStats = { lbs: {}, groups: {} };
    const open = new Map<string, number>();
    for (const s of this.servers.values()) {
      const lb = s.routes[0]?.loadBalancerArn;
      if (lb) open.set(lb, (open.get(lb) ?? 0) + s.open + s.upgraded.size);
    }
    for (const [arn, c] of this.lbStats) {
      if (c.requests || c.newConnections || c.openAtStart || c.elb5xx) out.lbs[arn] = { ...c };
      Object.assign(c, newLbCounters(), { openAtStart: open.get(arn) ?? 0 });
    }
    for (const [key, c] of this.groupStats) {
      if (c.requests || c.responses) out.groups[key] = { ...c };
      Object.assign(c, newGroupCounters());
    }
    return out;
  }

  private statsOfLb(arn: string, used: { lbs: Set<string> }): LbCounters {
    used.lbs.add(arn);
    let c = this.lbStats.get(arn);
    if (!c) this.lbStats.set(arn, (c = newLbCounters()));
    return c;
  }

  private statsOfGroup(lbArn: string, groupArn: string, used: { groups: Set<string> }): GroupCounters {
    const key = `${lbArn} ${groupArn}`;
    used.groups.add(key);
    let c = this.groupStats.get(key);
    if (!c) this.groupStats.set(key, (c = newGroupCounters()));
    return c;
  }

  private applyGroups(docs: ElbTargetGroupDoc[], targets: DataPlaneSnapshot['targets']): void {
    // Which groups are in use is learnt while the routes are built.
    const removed = syncGroups(this.groups, docs, targets, () => false);
    // A target whose drain ended with requests still in flight had its delay run out: cut them.
    for (const t of removed.targets) t.retire(t.inflight > 0 && t.draining);
    for (const g of removed.groups) for (const t of g.targets) t.retire(true);
  }

  private buildRoutes(lbs: ElbLoadBalancerDoc[], listeners: ElbListenerDoc[], rules: ElbRuleDoc[], used: { lbs: Set<string>; groups: Set<string> }): Map<number, ListenerRoute[]> {
    const lbByArn = new Map(lbs.map((l) => [l.arn, l]));
    const rulesByListener = new Map<string, ElbRuleDoc[]>();
    for (const r of rules) (rulesByListener.get(r.listenerArn) ?? rulesByListener.set(r.listenerArn, []).get(r.listenerArn)!).push(r);
    const byPort = new Map<number, ListenerRoute[]>();
    // Oldest first: when load balancers share a port here, the first one answers unknown hosts.
    for (const l of [...listeners].sort((a, b) => a.createdTime - b.createdTime || a.arn.localeCompare(b.arn))) {
      const lb = lbByArn.get(l.loadBalancerArn);
      if (!lb) continue;
      const groupOf = (arn: string) => {
        const g = this.groups.get(arn);
        if (!g) return undefined;
        g.inUse = true;
        return { group: g, stats: this.statsOfGroup(lb.arn, arn, used) };
      };
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
        stats: this.statsOfLb(lb.arn, used),
      };
      (byPort.get(l.port) ?? byPort.set(l.port, []).get(l.port)!).push(route);
    }
    return byPort;
  }

  private async applyServers(byPort: Map<number, ListenerRoute[]>, snap: DataPlaneSnapshot): Promise<void> {
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
      const tls = snap.tls[first.arn];
      let s = this.servers.get(port);
      if (!s) {
        if (first.protocol === 'HTTPS' && !tls) {
          this.log.error({ listener: first.arn }, 'HTTPS listener has no usable certificate; not serving it');
          continue;
        }
        s = this.createServer(port, first.protocol, tls);
        this.servers.set(port, s);
      } else if (s.protocol === 'HTTPS' && tls && (tls.arn !== s.tls?.arn || tls.key !== s.tls.key)) {
        (s.server as HttpsServer).setSecureContext({ cert: tls.cert, key: tls.key, minVersion: tls.minVersion as 'TLSv1.2' });
        s.tls = { arn: tls.arn, key: tls.key };
      }
      s.routes = routes;
      s.server.keepAliveTimeout = first.idleTimeoutMs;
      s.server.headersTimeout = first.idleTimeoutMs + 1_000;
      if (!s.bound) this.bind(port, s);
    }
  }

  private createServer(port: number, protocol: 'HTTP' | 'HTTPS', tls: DataPlaneSnapshot['tls'][string] | undefined): PortServer {
    const s = { protocol, routes: [], bound: false, open: 0, upgraded: new Set() } as unknown as PortServer;
    const onRequest = (req: IncomingMessage, res: ServerResponse) => {
      try {
        handleRequest(routeFor(s.routes, req.headers.host), req, res);
      } catch (err) {
        this.log.error({ err }, 'load balancer request failed');
        if (!res.headersSent && s.routes[0]) countElbError(s.routes[0].stats, 500);
        sendAlbError(res, 500);
      }
    };
    const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      s.upgraded.add(socket);
      socket.once('close', () => s.upgraded.delete(socket));
      handleUpgrade(routeFor(s.routes, req.headers.host), req, socket, head);
    };
    if (protocol === 'HTTPS') {
      s.server = createHttpsServer({ cert: tls!.cert, key: tls!.key, minVersion: tls!.minVersion as 'TLSv1.2' }, onRequest);
      s.tls = { arn: tls!.arn, key: tls!.key };
    } else {
      s.server = createHttpServer({ keepAlive: true }, onRequest);
    }
    s.server.on('upgrade', onUpgrade);
    s.server.on(protocol === 'HTTPS' ? 'secureConnection' : 'connection', (socket: Duplex) => {
      s.open++;
      const lb = s.routes[0]?.stats;
      if (lb) lb.newConnections++;
      socket.once('close', () => s.open--);
    });
    // A port taken by another process (EADDRINUSE), or not ours to take: logged, retried by the tick.
    s.server.on('error', (err) => {
      s.bound = false;
      this.log.error({ err: String(err), port }, 'load balancer listener could not bind its port; retrying');
    });
    s.server.on('clientError', (_err, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nserver: awselb/2.0\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      else socket.destroy();
    });
    return s;
  }

  private bind(port: number, s: PortServer): void {
    const host = this.bindHost;
    s.bound = true;
    s.lastBindAttempt = Date.now();
    s.server.listen({ port, host }, () => {
      this.log.info({ port, host, protocol: s.protocol, pid: process.pid }, 'load balancer listener serving');
      this.onListening();
    });
  }

  async close(): Promise<void> {
    clearInterval(this.tick);
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
    for (const g of this.groups.values()) for (const t of g.targets) t.retire(true);
  }
}
