/** The agent's side of protocol v1, over undici with a keep-alive pool. */
import { Agent as HttpAgent, request } from 'undici';
import {
  AGENT_API_PREFIX,
  AssignmentsResponse,
  HeartbeatResponse,
  RegisterResponse,
  ReportsResponse,
  type RegisterRequest,
  type TaskReport,
} from '../protocol/index.js';
import type { z } from 'zod';

export class ProtocolHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

export class AgentClient {
  private readonly dispatcher: HttpAgent;

  constructor(private readonly endpoint: string) {
    // Long-polls hold a response for up to a minute: allow for it.
    this.dispatcher = new HttpAgent({ keepAliveTimeout: 30_000, headersTimeout: 120_000, bodyTimeout: 120_000, connections: 4 });
  }

  register(body: RegisterRequest): Promise<RegisterResponse> {
    return this.call('POST', '/register', RegisterResponse, body);
  }

  heartbeat(containerInstanceArn: string): Promise<HeartbeatResponse> {
    return this.call('POST', '/heartbeat', HeartbeatResponse, { containerInstanceArn });
  }

  assignments(q: { containerInstanceArn: string; index: number; digest: string; waitMs: number }, signal?: AbortSignal): Promise<AssignmentsResponse> {
    const qs = new URLSearchParams({ containerInstanceArn: q.containerInstanceArn, index: String(q.index), digest: q.digest, waitMs: String(q.waitMs) });
    return this.call('GET', `/assignments?${qs}`, AssignmentsResponse, undefined, signal);
  }

  reports(containerInstanceArn: string, reports: TaskReport[]): Promise<ReportsResponse> {
    return this.call('POST', '/reports', ReportsResponse, { containerInstanceArn, reports });
  }

  async close(): Promise<void> {
    await this.dispatcher.destroy();
  }

  private async call<T extends z.ZodType>(method: 'GET' | 'POST', path: string, schema: T, body?: unknown, signal?: AbortSignal): Promise<z.infer<T>> {
    const res = await request(`${this.endpoint}${AGENT_API_PREFIX}${path}`, {
      method,
      dispatcher: this.dispatcher,
      signal,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.body.text();
    if (res.statusCode !== 200) {
      let code: string | undefined;
      let message = text;
      try {
        const err = JSON.parse(text) as { error?: string; message?: string };
        code = err.error;
        message = err.message ?? text;
      } catch {
        // not a protocol error body
      }
      throw new ProtocolHttpError(res.statusCode, code, `${method} ${path.split('?')[0]}: ${res.statusCode} ${message}`);
    }
    return schema.parse(JSON.parse(text));
  }
}
