/**
 * The front door: one HTTP port for every service. POST / with X-Amz-Target goes to the
 * awsJson1_1 protocol, a form-encoded POST / to the awsQuery service its SigV4 scope names,
 * each once its SigV4 signature is verified (the verified scope's region is the region handlers
 * work in); `/health` reports readiness. The registry (/v2/) mounts on the same server (see app.ts).
 */
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { AwsError, missingAuthenticationToken, unknownOperation } from '../aws/errors.js';
import { CBOR_CONTENT_TYPE, CborProtocol } from '../aws/cbor-protocol.js';
import { JSON_CONTENT_TYPE, JsonProtocol } from '../aws/json-protocol.js';
import { FORM_CONTENT_TYPE, QueryProtocol } from '../aws/query-protocol.js';
import { readCredentialScope } from '../aws/sigv4.js';
import type { OperationAuthorizer, RequestContext, ServiceModule } from '../aws/service.js';
import { authenticate, installAuthenticator, type Authenticated, type RequestAuthenticator } from './auth.js';
import type { ServerConfig } from './config.js';

export { authenticate } from './auth.js';

export interface HttpDeps {
  config: ServerConfig;
  /** Verifies SigV4 on every AWS API request (and on any route that calls `authenticate`). */
  authenticator: RequestAuthenticator;
  services: readonly ServiceModule[];
  version: string;
  logger: boolean | object;
  /** Serve https with this certificate and key (every API, the registry and the agent protocol). */
  tls?: { cert: Buffer; key: Buffer };
  /** Asked before every handler (IAM policy evaluation); allows everything when absent. */
  authorize?: OperationAuthorizer;
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
    ...(deps.tls ? { https: { cert: deps.tls.cert, key: deps.tls.key } } : {}),
    logger: deps.logger as never,
    bodyLimit: 64 * 1024 * 1024,
    // No per-request log lines: a busy control plane would log every agent poll and API call.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: () => randomUUID(),
    forceCloseConnections: true,
    clientErrorHandler: writeClientError,
  }) as unknown as FastifyInstance;
  const log = { error: (obj: object, msg: string) => app.log.error(obj, msg) };
  // Both protocols ask the same authorizer before every handler.
  const json = new JsonProtocol(deps.services.filter((s) => s.protocol === 'awsJson1_1' || s.protocol === 'awsJson1_0'), log, deps.authorize);
  const query = new QueryProtocol(deps.services, log, deps.authorize);
  const cbor = new CborProtocol(deps.services, log, deps.authorize);

  // Every response carries its request id, as AWS's do (also /health, 404s and the registry).
  app.addHook('onRequest', (req, reply, done) => {
    reply.header('x-amzn-RequestId', req.id);
    done();
  });

  // Keep AWS bodies raw: the SigV4 payload hash (verified later) needs the exact bytes.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  installAuthenticator(app, deps.authenticator);

  const context = (req: FastifyRequest, auth: Authenticated | undefined): RequestContext => {
    const { accountId } = deps.config;
    return {
      requestId: req.id,
      sourceIp: req.ip,
      secureTransport: req.protocol === 'https',
      region: auth?.region ?? deps.config.region,
      accountId,
      accessKeyId: auth?.accessKeyId,
      // Unauthenticated requests never reach a handler; this caller only shapes their error.
      caller: auth?.caller ?? { kind: 'trusted', accountId, arn: `arn:aws:iam::${accountId}:root`, userId: accountId },
    };
  };

  const isForm = (req: FastifyRequest) => typeof req.headers['x-amz-target'] !== 'string' && (req.headers['content-type'] ?? '').toLowerCase().startsWith(FORM_CONTENT_TYPE);

  // Failures before the handler runs (the body over the limit, a broken body stream) in AWS's shape.
  // The unread rest of an oversized body is not drained: the connection closes after the answer.
  const bodyErrors = (error: { code?: string; statusCode?: number }, req: FastifyRequest, reply: FastifyReply) => {
    const ctx = context(req, undefined);
    const tooLarge = error.code === 'FST_ERR_CTP_BODY_TOO_LARGE';
    const unreadable = error.code?.startsWith('FST_ERR_CTP') || error.statusCode === 400;
    const failure = tooLarge
      ? new AwsError('RequestEntityTooLargeException', `Request must be smaller than ${MAX_JSON_BODY_BYTES} bytes.`, 413, {}, { code: 'RequestEntityTooLarge', status: 413 })
      : unreadable
        ? new AwsError('SerializationException', 'The request body could not be read.', 400, {}, { code: 'MalformedQueryString', status: 400 })
        : error;
    // A form (awsQuery) request gets the ErrorResponse XML of the service its signature names.
    const res = isForm(req)
      ? query.errorResponse(query.modelFor(readCredentialScope({ headers: req.headers, query: {} })?.service), failure, ctx)
      : json.errorResponse(failure, ctx);
    if (tooLarge) reply.header('connection', 'close');
    return reply.code(res.status).headers(res.headers).send(res.body);
  };

  app.post('/', { bodyLimit: MAX_JSON_BODY_BYTES, errorHandler: bodyErrors }, async (req, reply) => {
    const target = req.headers['x-amz-target'];
    const body = req.body as Buffer | undefined;
    const form = isForm(req);
    const service = typeof target === 'string' ? json.serviceFor(target) : undefined;
    let auth: Authenticated;
    try {
      // Authentication comes before routing: an unsigned request learns nothing, not even which operations exist.
      // awsQuery requests are routed by the service they were signed for, so any signed service is taken here.
      auth = await authenticate(req, { service: service?.model.metadata.signingName ?? service?.name });
    } catch (e) {
      const scopeService = form ? readCredentialScope({ headers: req.headers, query: {} })?.service : undefined;
      const res = form ? query.errorResponse(query.modelFor(scopeService), e, context(req, undefined)) : json.errorResponse(e, context(req, undefined), service);
      return reply.code(res.status).headers(res.headers).send(res.body);
    }
    const ctx = context(req, auth);
    let res;
    if (typeof target === 'string') {
      res = service ? await json.handle(target, body, ctx) : json.errorResponse(unknownOperation(target), ctx);
    } else if (form) {
      // awsQuery: the service is the one the request was signed for (iam, sts, elasticloadbalancing).
      res = query.handles(auth.service)
        ? await query.handle(auth.service!, body, ctx)
        : query.errorResponse(
            undefined,
            auth.service === undefined ? missingAuthenticationToken() : new AwsError('InvalidAction', `The service ${auth.service} is not available at this endpoint`),
            ctx,
          );
    } else {
      res = json.errorResponse(unknownOperation('(no X-Amz-Target)'), ctx);
    }
    return reply.code(res.status).headers(res.headers).send(res.body);
  });

  // Smithy RPC v2 CBOR: the operation is in the path, the service's target prefix names the service.
  const cborErrors = (error: { code?: string; statusCode?: number }, req: FastifyRequest, reply: FastifyReply) => {
    const tooLarge = error.code === 'FST_ERR_CTP_BODY_TOO_LARGE';
    const failure = tooLarge
      ? new AwsError('RequestEntityTooLargeException', `Request must be smaller than ${MAX_JSON_BODY_BYTES} bytes.`, 413)
      : new AwsError('SerializationException', 'The request body could not be read.', 400);
    const res = cbor.errorResponse(failure, context(req, undefined));
    if (tooLarge) reply.header('connection', 'close');
    return reply.code(res.status).headers(res.headers).send(res.body);
  };
  app.post<{ Params: { service: string; operation: string } }>('/service/:service/operation/:operation', { bodyLimit: MAX_JSON_BODY_BYTES, errorHandler: cborErrors }, async (req, reply) => {
    const service = cbor.serviceFor(req.params.service);
    let auth: Authenticated;
    try {
      auth = await authenticate(req, { service: service?.model.metadata.signingName ?? service?.model.metadata.endpointPrefix });
    } catch (e) {
      const res = cbor.errorResponse(e, context(req, undefined), service);
      return reply.code(res.status).headers(res.headers).send(res.body);
    }
    const ctx = context(req, auth);
    const protocolHeader = req.headers['smithy-protocol'];
    const res = !service
      ? cbor.errorResponse(unknownOperation(`${req.params.service}.${req.params.operation}`), ctx)
      : protocolHeader !== 'rpc-v2-cbor'
        ? cbor.errorResponse(new AwsError('SerializationException', `Expected the smithy-protocol header to be rpc-v2-cbor (content type ${CBOR_CONTENT_TYPE})`), ctx, service)
        : await cbor.handle(service, req.params.operation, req.body as Buffer | undefined, ctx);
    return reply.code(res.status).headers(res.headers).send(res.body);
  });

  app.get('/health', async () => ({
    status: 'ok',
    version: deps.version,
    services: deps.services.map((s) => s.name),
  }));

  return app;
}
