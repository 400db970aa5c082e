/**
 * The front door: one HTTP port for every service. POST / with X-Amz-Target goes to the
 * awsJson1_1 protocol once its SigV4 signature is verified (the verified scope's region is
 * the region handlers work in); `/health` reports readiness. The registry (/v2/) and awsQuery services
 * mount on the same server as plugins (see app.ts).
 */
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import { randomUUID } from 'node:crypto';
import { JsonProtocol } from '../aws/json-protocol.js';
import { unknownOperation } from '../aws/errors.js';
import type { RequestContext, ServiceModule } from '../aws/service.js';
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
  const json = new JsonProtocol(deps.services, { error: (obj, msg) => app.log.error(obj, msg) });

  // Every response carries its request id, as AWS's do (also /health, 404s and the registry).
  app.addHook('onRequest', (req, reply, done) => {
    reply.header('x-amzn-RequestId', req.id);
    done();
  });

  // Keep AWS bodies raw: the SigV4 payload hash (verified later) needs the exact bytes.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  installAuthenticator(app, deps.authenticator);

  const context = (requestId: string, auth: Authenticated | undefined): RequestContext => {
    const { accountId } = deps.config;
    return {
      requestId,
      region: auth?.region ?? deps.config.region,
      accountId,
      accessKeyId: auth?.accessKeyId,
      // Unauthenticated requests never reach a handler; this caller only shapes their error.
      caller: auth?.caller ?? { kind: 'trusted', accountId, arn: `arn:aws:iam::${accountId}:root`, userId: accountId },
    };
  };

  app.post('/', async (req, reply) => {
    const target = req.headers['x-amz-target'];
    const service = typeof target === 'string' ? json.serviceFor(target) : undefined;
    let auth: Authenticated;
    try {
      // Authentication comes before routing: an unsigned request learns nothing, not even which operations exist.
      auth = await authenticate(req, { service: service?.model.metadata.signingName ?? service?.name });
    } catch (e) {
      const res = json.errorResponse(e, context(req.id, undefined));
      return reply.code(res.status).headers(res.headers).send(res.body);
    }
    const ctx = context(req.id, auth);
    const res =
      typeof target === 'string' && service
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
