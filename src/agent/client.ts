/** The agent's side of protocol v1, over undici with a keep-alive pool (https with a pinned CA or certificate). */
import { TLSSocket } from 'node:tls';
import { Agent as HttpAgent, buildConnector, request } from 'undici';
import {
  AGENT_API_PREFIX,
  AssignmentsResponse,
  HeartbeatResponse,
  LogEventsResponse,
  LogStreamResponse,
  RegisterResponse,
  ReportsResponse,
  TaskSecretsResponse,
  TaskStatsResponse,
  type LogEventsRequest,
  type LogStreamRequest,
  type RegisterRequest,
  type TaskReport,
  type TaskStatsSample,
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

export interface AgentClientOptions {
  /** PEM CA certificate(s) trusted for an https endpoint; they replace the system's CAs (pinning). */
  ca?: string | Buffer;
  /** Trust exactly the server certificate with this SHA-256 fingerprint (the embedded agent, in-process). */
  pinnedFingerprint256?: string;
}

/** Connects over TLS and accepts only the certificate with `fingerprint256`, whoever issued it and whatever names it has. */
function pinnedConnector(fingerprint256: string): buildConnector.connector {
  const connect = buildConnector({ rejectUnauthorized: false });
  return (options, callback) =>
    connect(options, (err, socket) => {
      if (err) return callback(err, null);
      if (socket instanceof TLSSocket && socket.getPeerCertificate().fingerprint256 !== fingerprint256) {
        socket.destroy();
        return callback(new Error('the control plane presented a certificate other than the pinned one'), null);
      }
      callback(null, socket!);
    });
}

export class AgentClient {
  private readonly dispatcher: HttpAgent;
  /** The instance's credential, sent with every call once the agent has one. */
  credential: string | undefined;

  constructor(
    private readonly endpoint: string,
    tls: AgentClientOptions = {},
  ) {
    const connect = tls.pinnedFingerprint256 ? pinnedConnector(tls.pinnedFingerprint256) : tls.ca ? { ca: tls.ca } : undefined;
    // Long-polls hold a response for up to a minute: allow for it.
    this.dispatcher = new HttpAgent({ keepAliveTimeout: 30_000, headersTimeout: 120_000, bodyTimeout: 120_000, connections: 4, connect });
  }

  /** Registers with the instance's credential, or with a join token (`bearer`) the first time. */
  register(body: RegisterRequest, bearer = this.credential): Promise<RegisterResponse> {
    return this.call('POST', '/register', RegisterResponse, body, undefined, bearer);
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

  /** The resolved secrets of one of this instance's tasks. The answer is secret: never log it. */
  taskSecrets(containerInstanceArn: string, taskArn: string): Promise<TaskSecretsResponse> {
    const qs = new URLSearchParams({ containerInstanceArn, taskArn });
    return this.call('GET', `/task-secrets?${qs}`, TaskSecretsResponse);
  }

  openLogStream(body: LogStreamRequest): Promise<LogStreamResponse> {
    return this.call('POST', '/logs/stream', LogStreamResponse, body);
  }

  shipLogs(body: LogEventsRequest): Promise<LogEventsResponse> {
    return this.call('POST', '/logs/events', LogEventsResponse, body);
  }

  /** A batch of resource-use samples (since 1.3). */
  taskStats(containerInstanceArn: string, samples: TaskStatsSample[]): Promise<TaskStatsResponse> {
    return this.call('POST', '/task-stats', TaskStatsResponse, { containerInstanceArn, samples });
  }

  async close(): Promise<void> {
    await this.dispatcher.destroy();
  }

  private async call<T extends z.ZodType>(method: 'GET' | 'POST', path: string, schema: T, body?: unknown, signal?: AbortSignal, bearer = this.credential): Promise<z.infer<T>> {
    const headers: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/json' };
    if (bearer) headers.authorization = `Bearer ${bearer}`;
    const res = await request(`${this.endpoint}${AGENT_API_PREFIX}${path}`, {
      method,
      dispatcher: this.dispatcher,
      signal,
      headers,
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
