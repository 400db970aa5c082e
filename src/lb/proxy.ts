/**
 * The request path of a listener: match the routing table, then answer a fixed response or a
 * redirect, or proxy to a target over its keep-alive pool with bodies streamed both ways and
 * X-Forwarded-For / -Proto / -Port and X-Amzn-Trace-Id added. Failures answer as ALB does:
 * 503 when no target can take the request, 502 when the target refuses or breaks the
 * connection, 504 when it does not answer within the idle timeout.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import type { Duplex } from 'node:stream';
import type { RequestFacts } from './conditions.js';
import type { GroupRuntime, TargetRuntime } from './groups.js';
import { pickGroup, redirectLocation, type CompiledAction, type ListenerRoute } from './routes.js';
import { countElbError, countResponse, type GroupCounters } from './stats.js';
import type { Dispatcher } from 'undici';

/** Headers that belong to one connection and are never forwarded (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-authorization', 'proxy-authenticate']);
const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 404: 'Not Found', 460: '', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Temporarily Unavailable', 504: 'Gateway Time-out' };

const TRACE_PREFIX = randomBytes(8).toString('hex');
let traceCounter = 0;
function traceId(): string {
  traceCounter = (traceCounter + 1) >>> 0;
  return `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${TRACE_PREFIX}${traceCounter.toString(16).padStart(8, '0')}`;
}

/** ALB's own error page. */
export function sendAlbError(res: ServerResponse, status: number): void {
  if (res.destroyed) return;
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = `${status} ${STATUS_TEXT[status] ?? ''}`.trim();
  const body = `<html>\r\n<head><title>${text}</title></head>\r\n<body>\r\n<center><h1>${text}</h1></center>\r\n</body>\r\n</html>\r\n`;
  res.writeHead(status, { server: 'awselb/2.0', 'content-type': 'text/html', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

const cookieValue = (cookie: string | undefined, name: string): string | undefined => {
  if (!cookie) return undefined;
  const i = cookie.indexOf(`${name}=`);
  if (i < 0 || (i > 0 && cookie[i - 1] !== ' ' && cookie[i - 1] !== ';')) return undefined;
  const end = cookie.indexOf(';', i);
  return cookie.slice(i + name.length + 1, end < 0 ? undefined : end);
};

const clientIp = (req: IncomingMessage): string => {
  const a = req.socket.remoteAddress ?? '';
  return a.startsWith('::ffff:') ? a.slice(7) : a;
};

export function requestFacts(req: IncomingMessage): RequestFacts {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const host = req.headers.host ?? '';
  const colon = host.startsWith('[') ? host.indexOf(']:') + 1 : host.lastIndexOf(':');
  return {
    method: req.method ?? 'GET',
    host: (colon > 0 ? host.slice(0, colon) : host).toLowerCase(),
    path: q < 0 ? url : url.slice(0, q),
    query: q < 0 ? '' : url.slice(q + 1),
    headers: req.headers,
    sourceIp: clientIp(req),
  };
}

/** The action for a request: the first rule that matches, else the default (no facts gathered when there are no rules). */
function matchRoute(route: ListenerRoute, req: IncomingMessage): CompiledAction {
  if (route.rules.length === 0) return route.defaultAction;
  const facts = requestFacts(req);
  for (const r of route.rules) if (r.predicate(facts)) return r.action;
  return route.defaultAction;
}

/** The headers sent to the target: the client's minus hop-by-hop ones, plus the X-Forwarded-* set and a trace id. */
function forwardedHeaders(req: IncomingMessage, route: ListenerRoute, keepUpgrade: boolean): string[] {
  const raw = req.rawHeaders;
  const out: string[] = [];
  let xff: string | undefined;
  let trace: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower)) {
      if (keepUpgrade && (lower === 'upgrade' || lower === 'connection')) out.push(name, raw[i + 1]!);
      continue;
    }
    if (lower.startsWith('x-forwarded-') || lower === 'x-amzn-trace-id') {
      if (lower === 'x-forwarded-for') xff = xff === undefined ? raw[i + 1] : `${xff}, ${raw[i + 1]}`;
      else if (lower === 'x-amzn-trace-id') trace = raw[i + 1];
      else continue;
      continue;
    }
    out.push(name, raw[i + 1]!);
  }
  const ip = route.xffClientPort ? `${clientIp(req)}:${req.socket.remotePort}` : clientIp(req);
  if (route.xffMode === 'append') out.push('X-Forwarded-For', xff === undefined ? ip : `${xff}, ${ip}`);
  else if (route.xffMode === 'preserve' && xff !== undefined) out.push('X-Forwarded-For', xff);
  out.push('X-Forwarded-Proto', route.protocol === 'HTTPS' ? 'https' : 'http', 'X-Forwarded-Port', String(route.port), 'X-Amzn-Trace-Id', trace ?? traceId());
  return out;
}

function stickyCookies(group: GroupRuntime, target: TargetRuntime, action: Extract<CompiledAction, { type: 'forward' }>): string[] | undefined {
  let cookies: string[] | undefined;
  if (group.stickiness.enabled) {
    const expires = new Date(Date.now() + group.stickiness.durationSeconds * 1000).toUTCString();
    cookies = [`AWSALB=${target.cookie}; Expires=${expires}; Path=/`, `AWSALBCORS=${target.cookie}; Expires=${expires}; Path=/; SameSite=None`];
  }
  if (action.stickyGroups.enabled && action.groups.length > 1) {
    const expires = new Date(Date.now() + action.stickyGroups.durationSeconds * 1000).toUTCString();
    (cookies ??= []).push(`AWSALBTG=${group.id}; Expires=${expires}; Path=/`, `AWSALBTGCORS=${group.id}; Expires=${expires}; Path=/; SameSite=None`);
  }
  return cookies;
}

/** Picks the group and the target for a forward, honouring stickiness cookies. */
function chooseTarget(action: Extract<CompiledAction, { type: 'forward' }>, headers: IncomingHttpHeaders): { group: GroupRuntime; target: TargetRuntime } | undefined {
  const cookie = headers.cookie;
  const group = pickGroup(action, action.stickyGroups.enabled ? cookieValue(cookie, 'AWSALBTG') : undefined);
  if (!group) return undefined;
  const target = group.pick(group.stickiness.enabled ? cookieValue(cookie, 'AWSALB') : undefined);
  return target ? { group, target } : undefined;
}

function errorStatus(err: unknown): number {
  const code = (err as { code?: string }).code;
  return code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT' ? 504 : 502;
}

/** Errors on a reused keep-alive connection that the target closed meanwhile: safe to retry once for requests without a body. */
const RETRYABLE = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE']);

export function handleRequest(route: ListenerRoute, req: IncomingMessage, res: ServerResponse): void {
  const action = matchRoute(route, req);
  if (action.type === 'fixed-response') {
    countElbError(route.stats, action.status);
    res.writeHead(action.status, { 'content-type': action.contentType, 'content-length': action.body.length, ...(route.serverHeader ? { server: 'awselb/2.0' } : {}) });
    res.end(action.body);
    return;
  }
  if (action.type === 'redirect') {
    const facts = requestFacts(req);
    const location = redirectLocation(action, { protocol: route.protocol === 'HTTPS' ? 'https' : 'http', host: facts.host, port: route.port, path: facts.path, query: facts.query });
    res.writeHead(action.status, { location, 'content-length': 0, ...(route.serverHeader ? { server: 'awselb/2.0' } : {}) });
    res.end();
    return;
  }
  const chosen = chooseTarget(action, req.headers);
  if (!chosen) {
    countElbError(route.stats, 503);
    sendAlbError(res, 503);
    return;
  }
  const { group, target } = chosen;
  const stats = action.stats[action.groups.indexOf(group)]!;
  route.stats.requests++;
  stats.requests++;
  const hasBody = req.headers['content-length'] !== undefined ? req.headers['content-length'] !== '0' : req.headers['transfer-encoding'] !== undefined;
  target.inflight++;
  new Exchange(route, req, res, target, stats, stickyCookies(group, target, action), hasBody, forwardedHeaders(req, route, false)).send();
}

/**
 * One proxied request, as an undici dispatch handler: the target's response head is forwarded
 * from its raw headers and its body written to the client as it arrives (pausing the target while
 * the client is slow). Cheaper per request than undici's stream() (no header object, promise,
 * async resource or stream.finished listeners).
 */
class Exchange implements Dispatcher.DispatchHandler {
  private sentAt = 0;
  private abort: ((err?: Error) => void) | undefined;
  private settled = false;
  private resume: (() => void) | undefined;
  /** A request without a body that met a keep-alive connection the target had just closed is sent once more. */
  private retried = false;

  constructor(
    private readonly route: ListenerRoute,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly target: TargetRuntime,
    private readonly stats: GroupCounters,
    private readonly cookies: string[] | undefined,
    private readonly hasBody: boolean,
    private readonly headers: string[],
  ) {}

  send(): void {
    this.sentAt = performance.now();
    this.target.pool.dispatch(
      { path: this.req.url ?? '/', method: this.req.method as 'GET', headers: this.headers, body: this.hasBody ? this.req : null, headersTimeout: this.route.idleTimeoutMs, bodyTimeout: this.route.idleTimeoutMs },
      this,
    );
  }

  onConnect(abort: (err?: Error) => void): void {
    const first = this.abort === undefined;
    this.abort = abort;
    // The client went away before the target answered: stop the request to the target.
    if (this.res.destroyed) abort(new Error('client closed the connection'));
    else if (first) this.res.once('close', this.clientClosed);
  }

  private readonly clientClosed = () => {
    if (!this.settled) this.abort?.(new Error('client closed the connection'));
  };

  onHeaders(statusCode: number, raw: Buffer[], resume: () => void): boolean {
    countResponse(this.stats, statusCode, (performance.now() - this.sentAt) / 1000);
    const out: string[] = [];
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!.toString('latin1');
      if (HOP_BY_HOP.has(name.toLowerCase())) continue;
      out.push(name, raw[i + 1]!.toString('latin1'));
    }
    if (this.cookies) for (const c of this.cookies) out.push('set-cookie', c);
    this.res.writeHead(statusCode, out);
    this.resume = resume;
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.res.write(chunk)) return true;
    // The client is slower than the target: undici pauses reading until the client drains.
    this.res.once('drain', this.resume!);
    return false;
  }

  onComplete(): void {
    this.done();
    this.res.end();
  }

  onError(err: Error): void {
    const res = this.res;
    if (!this.retried && !this.hasBody && !res.headersSent && !res.destroyed && RETRYABLE.has((err as { code?: string }).code ?? '')) {
      this.retried = true;
      this.send();
      return;
    }
    this.done();
    if (res.destroyed) return;
    const status = errorStatus(err);
    if (!res.headersSent) countElbError(this.route.stats, status);
    sendAlbError(res, status);
  }

  private done(): void {
    if (this.settled) return;
    this.settled = true;
    this.target.inflight--;
  }
}

/**
 * A WebSocket (or other) upgrade: the request is written to a fresh connection to the target,
 * then bytes flow both ways untouched; the target counts it in flight until either side closes.
 */
export function handleUpgrade(route: ListenerRoute, req: IncomingMessage, client: Duplex, head: Buffer): void {
  const action = matchRoute(route, req);
  const refuse = (status: number) => {
    client.end(`HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? ''}\r\nserver: awselb/2.0\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`);
  };
  if (action.type !== 'forward') return refuse(action.type === 'fixed-response' ? action.status : 400);
  const chosen = chooseTarget(action, req.headers);
  if (!chosen) return refuse(503);
  const { target } = chosen;
  const headers = forwardedHeaders(req, route, true);
  let lines = `${req.method} ${req.url} HTTP/1.1\r\n`;
  for (let i = 0; i < headers.length; i += 2) lines += `${headers[i]}: ${headers[i + 1]}\r\n`;
  target.inflight++;
  let closed = false;
  const upstream: Socket = target.tls ? connectTls({ host: target.host, port: target.port, rejectUnauthorized: false, servername: '' }) : connect({ host: target.host, port: target.port });
  const close = () => {
    if (closed) return;
    closed = true;
    target.inflight--;
    upstream.destroy();
    client.destroy();
  };
  let connected = false;
  upstream.setNoDelay(true);
  upstream.once(target.tls ? 'secureConnect' : 'connect', () => {
    connected = true;
    upstream.write(`${lines}\r\n`);
    if (head.length) upstream.write(head);
    upstream.pipe(client);
    client.pipe(upstream);
  });
  upstream.once('error', () => {
    if (!connected && !closed) {
      // The target refused the connection: ALB answers 502.
      closed = true;
      target.inflight--;
      upstream.destroy();
      refuse(502);
      return;
    }
    close();
  });
  upstream.once('close', close);
  client.once('error', close);
  client.once('close', close);
}
