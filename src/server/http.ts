/**
 * The front door: one HTTP port for every service. POST / with X-Amz-Target goes to the
 * awsJson1_1 protocol; `/health` reports readiness. The registry (/v2/) and awsQuery services
 * mount on the same server as plugins (see app.ts).
 */
import Fastify, { LogController, type FastifyInstance, type FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import { JsonProtocol } from '../aws/json-protocol.js';
import { unknownOperation } from '../aws/errors.js';
import { parseCredentialScope } from '../aws/sigv4.js';
import type { OperationAuthorizer, RequestContext, ServiceModule } from '../aws/service.js';
import type { ServerConfig } from './config.js';

export interface HttpDeps {
  config: ServerConfig;
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
  const json = new JsonProtocol(deps.services, { error: (obj, msg) => app.log.error(obj, msg) }, deps.authorize);

  // Every response carries its request id, as AWS's do (also /health, 404s and the registry).
  app.addHook('onRequest', (req, reply, done) => {
    reply.header('x-amzn-RequestId', req.id);
    done();
  });

  // Keep AWS bodies raw: the SigV4 payload hash (verified later) needs the exact bytes.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  const context = (req: FastifyRequest): RequestContext => {
    const headers = req.headers;
    const requestId = req.id;
    const scope = parseCredentialScope(headers.authorization as string | undefined);
    return {
      requestId,
      region: scope?.region ?? deps.config.region,
      accountId: deps.config.accountId,
      accessKeyId: scope?.accessKeyId,
      // Not verified yet: SigV4 verification replaces this with the resolved principal.
      caller: { kind: 'trusted', accountId: deps.config.accountId, arn: `arn:aws:iam::${deps.config.accountId}:root`, userId: deps.config.accountId, accessKeyId: scope?.accessKeyId },
      sourceIp: req.ip,
      secureTransport: req.protocol === 'https',
    };
  };

  app.post('/', async (req, reply) => {
    const ctx = context(req);
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
