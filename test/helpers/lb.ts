/**
 * Helpers for load-balancer tests: small HTTP targets on 127.0.0.1 (each names itself in its
 * answers, echoes the headers it got, has /health, /slow?ms=N and a WebSocket-style echo on
 * upgrade), a request helper that can set Host, and polling with a bound.
 */
import { createServer, request, type Agent, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Backend {
  name: string;
  port: number;
  server: Server;
  /** Requests seen, by path (health checks included under their path). */
  seen: { path: string; headers: IncomingHttpHeaders }[];
  /** Status /health answers (200 by default). */
  healthStatus: number;
  close(): Promise<void>;
}

export async function startBackend(name: string): Promise<Backend> {
  const b: Backend = { name, port: 0, server: undefined as unknown as Server, seen: [], healthStatus: 200, close: async () => undefined };
  b.server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    b.seen.push({ path: url.pathname, headers: req.headers });
    if (url.pathname === '/health') {
      res.writeHead(b.healthStatus, { 'content-type': 'text/plain' });
      res.end(String(b.healthStatus));
      return;
    }
    const reply = () => {
      const body = JSON.stringify({ backend: name, path: url.pathname, headers: req.headers });
      res.writeHead(200, { 'content-type': 'application/json', 'x-backend': name, 'set-cookie': 'app=1; Path=/' });
      res.end(body);
    };
    if (url.pathname === '/slow') setTimeout(reply, Number(url.searchParams.get('ms') ?? 1000));
    else if (url.pathname === '/never') return;
    else if (req.method === 'POST') {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        res.writeHead(200, { 'x-backend': name });
        res.end(`${name} got ${Buffer.concat(chunks).length} bytes`);
      });
    } else reply();
  });
  const upgraded = new Set<import('node:stream').Duplex>();
  b.server.on('upgrade', (req, socket) => {
    upgraded.add(socket);
    socket.once('close', () => upgraded.delete(socket));
    socket.once('end', () => socket.end());
    b.seen.push({ path: req.url ?? '/', headers: req.headers });
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: ${req.headers.upgrade}\r\nConnection: Upgrade\r\nX-Backend: ${name}\r\n\r\n`);
    socket.on('data', (d: Buffer) => socket.write(`${name}:${d.toString()}`));
  });
  await new Promise<void>((resolve) => b.server.listen(0, '127.0.0.1', resolve));
  b.port = (b.server.address() as AddressInfo).port;
  b.close = () =>
    new Promise<void>((resolve) => {
      b.server.close(() => resolve());
      b.server.closeAllConnections();
      for (const s of upgraded) s.destroy();
    });
  return b;
}

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  reusedSocket: boolean;
}

/** One request to 127.0.0.1:port (Host may be set), answered in full. */
export function hit(port: number, path = '/', opts: { method?: string; headers?: Record<string, string>; body?: string | Buffer; agent?: Agent; timeoutMs?: number } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: opts.headers, agent: opts.agent ?? false, timeout: opts.timeoutMs ?? 20_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString(), reusedSocket: req.reusedSocket }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** The backend that answered (its x-backend header), or the status when none did. */
export const backendOf = (a: Answer) => (a.headers['x-backend'] as string | undefined) ?? `status ${a.status}`;

/** Polls `probe` until it returns a value other than undefined; fails after `timeoutMs`. */
export async function eventually<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
