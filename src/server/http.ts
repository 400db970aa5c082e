/**
 * The front door: one HTTP port for every service. POST / with X-Amz-Target goes to the
 * awsJson1_1 protocol; `/health` reports readiness. The registry (/v2/) and awsQuery services
 * mount on the same server as plugins (see app.ts).
 */
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { AwsError, unknownOperation } from '../aws/errors.js';
import { JSON_CONTENT_TYPE, JsonProtocol } from '../aws/json-protocol.js';
import { parseCredentialScope } from '../aws/sigv4.js';
import type { RequestContext, ServiceModule } from '../aws/service.js';
import type { ServerConfig } from './config.js';

export interface HttpDeps {
  config: ServerConfig;
  services: readonly ServiceModule[];
  version: string;
  logger: boolean | object;
}

/**
 * The largest AWS JSON request body: ECR's UploadLayerPart carries up to 20 MiB of layer data,
 * base64 in JSON (28 MiB), so 32 MiB. Larger bodies get 413 before they are read.
 */
export const MAX_JSON_BODY_BYTES = 32 * 1024 * 1024;

/** An AWS-shaped error written straight to a socket that HTTP parsing gave up on; then closes it. */
function writeClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, message] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'RequestHeaderFieldsTooLarge', 'The request headers are larger than the server accepts.']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'RequestTimeout', 'The request was not received in time.']
        : [400, 'BadRequest', 'The request is not valid HTTP.'];
  const body = JSON.stringify({ __type: code, message });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: ${JSON_CONTENT_TYPE}\r\nx-amzn-RequestId: ${randomUUID()}\r\n` +
        `x-amzn-ErrorType: ${code}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

export function buildHttpServer(deps: HttpDeps): FastifyInstance {
  const app = Fastify({
    logger: deps.logger as never,
    bodyLimit: 64 * 1024 * 1024,
    // No per-request log lines: a busy control plane would log every agent poll and API call.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: () => randomUUID(),
    forceCloseConnections: true,
    clientErrorHandler: writeClientError,
  });
  const json = new JsonProtocol(deps.services, { error: (obj, msg) => app.log.error(obj, msg) });

  // Every response carries its request id, as AWS's do (also /health, 404s and the registry).
  app.addHook('onRequest', (req, reply, done) => {
    reply.header('x-amzn-RequestId', req.id);
    done();
  });

  // Keep AWS bodies raw: the SigV4 payload hash (verified later) needs the exact bytes.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  const context = (headers: Record<string, string | string[] | undefined>, requestId: string): RequestContext => {
    const scope = parseCredentialScope(headers.authorization as string | undefined);
    return {
      requestId,
      region: scope?.region ?? deps.config.region,
      accountId: deps.config.accountId,
      accessKeyId: scope?.accessKeyId,
      // Not verified yet: SigV4 verification replaces this with the resolved principal.
      caller: { kind: 'trusted', accountId: deps.config.accountId, arn: `arn:aws:iam::${deps.config.accountId}:root`, userId: deps.config.accountId, accessKeyId: scope?.accessKeyId },
    };
  };

  // Failures before the handler runs (the body over the limit, a broken body stream) in AWS's shape.
  // The unread rest of an oversized body is not drained: the connection closes after the answer.
  const bodyErrors = (error: { code?: string; statusCode?: number }, req: FastifyRequest, reply: FastifyReply) => {
    const ctx = context(req.headers, req.id);
    const tooLarge = error.code === 'FST_ERR_CTP_BODY_TOO_LARGE';
    const unreadable = error.code?.startsWith('FST_ERR_CTP') || error.statusCode === 400;
    const res = json.errorResponse(
      tooLarge
        ? new AwsError('RequestEntityTooLargeException', `Request must be smaller than ${MAX_JSON_BODY_BYTES} bytes.`, 413)
        : unreadable
          ? new AwsError('SerializationException', 'The request body could not be read.')
          : error,
      ctx,
    );
    if (tooLarge) reply.header('connection', 'close');
    return reply.code(res.status).headers(res.headers).send(res.body);
  };

  app.post('/', { bodyLimit: MAX_JSON_BODY_BYTES, errorHandler: bodyErrors }, async (req, reply) => {
    const ctx = context(req.headers, req.id);
    const target = req.headers['x-amz-target'];
    const res =
      typeof target === 'string' && json.handles(target)
        ? await json.handle(target, req.body as Buffer | undefined, ctx)
        : json.errorResponse(unknownOperation(typeof target === 'string' ? target : '(no X-Amz-Target)'), ctx);
    return reply.code(res.status).headers(res.headers).send(res.body);
  });

  app.get('/health', async () => ({
    status: 'ok',
    version: deps.version,
    services: deps.services.map((s) => s.name),
  }));

  return app;
}
