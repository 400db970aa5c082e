/**
 * The front door: one HTTP port for every service. POST / with X-Amz-Target goes to the
 * awsJson1_1 protocol, a form-encoded POST / to the awsQuery service its SigV4 scope names,
 * each once its SigV4 signature is verified (the verified scope's region is the region handlers
 * work in); `/health` reports readiness. The registry (/v2/) mounts on the same server (see app.ts).
 */
import Fastify, { LogController, type FastifyInstance, type FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import { JsonProtocol } from '../aws/json-protocol.js';
import { AwsError, missingAuthenticationToken, unknownOperation } from '../aws/errors.js';
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
  /** Asked before every handler (IAM policy evaluation); allows everything when absent. */
  authorize?: OperationAuthorizer;
}

export function buildHttpServer(deps: HttpDeps): FastifyInstance {
  const app = Fastify({
    logger: deps.logger as never,
    bodyLimit: 64 * 1024 * 1024,
    // No per-request log lines: a busy control plane would log every agent poll and API call.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: () => randomUUID(),
    forceCloseConnections: true,
  });
  const log = { error: (obj: object, msg: string) => app.log.error(obj, msg) };
  // Both protocols ask the same authorizer before every handler.
  const json = new JsonProtocol(deps.services.filter((s) => s.protocol === 'awsJson1_1'), log, deps.authorize);
  const query = new QueryProtocol(deps.services, log, deps.authorize);

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

  app.post('/', async (req, reply) => {
    const target = req.headers['x-amz-target'];
    const body = req.body as Buffer | undefined;
    const form = typeof target !== 'string' && (req.headers['content-type'] ?? '').toLowerCase().startsWith(FORM_CONTENT_TYPE);
    const service = typeof target === 'string' ? json.serviceFor(target) : undefined;
    let auth: Authenticated;
    try {
      // Authentication comes before routing: an unsigned request learns nothing, not even which operations exist.
      // awsQuery requests are routed by the service they were signed for, so any signed service is taken here.
      auth = await authenticate(req, { service: service?.model.metadata.signingName ?? service?.name });
    } catch (e) {
      const scopeService = form ? readCredentialScope({ headers: req.headers, query: {} })?.service : undefined;
      const res = form ? query.errorResponse(query.modelFor(scopeService), e, context(req, undefined)) : json.errorResponse(e, context(req, undefined));
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

  app.get('/health', async () => ({
    status: 'ok',
    version: deps.version,
    services: deps.services.map((s) => s.name),
  }));

  return app;
}
