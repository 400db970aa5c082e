/**
 * The front door: one HTTP port for every service. POST / with X-Amz-Target goes to the
 * awsJson1_1 protocol, a form-encoded POST / to the awsQuery service its SigV4 scope names;
 * `/health` reports readiness. The registry (/v2/) mounts on the same server (see app.ts).
 */
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import { randomUUID } from 'node:crypto';
import { JsonProtocol } from '../aws/json-protocol.js';
import { AwsError, unknownOperation } from '../aws/errors.js';
import { FORM_CONTENT_TYPE, QueryProtocol } from '../aws/query-protocol.js';
import { parseCredentialScope } from '../aws/sigv4.js';
import type { RequestContext, ServiceModule } from '../aws/service.js';
import type { ServerConfig } from './config.js';

export interface HttpDeps {
  config: ServerConfig;
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
  const log = { error: (obj: object, msg: string) => app.log.error(obj, msg) };
  const json = new JsonProtocol(deps.services.filter((s) => s.protocol === 'awsJson1_1'), log);
  const query = new QueryProtocol(deps.services, log);

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

  app.post('/', async (req, reply) => {
    const ctx = context(req.headers, req.id);
    const target = req.headers['x-amz-target'];
    const body = req.body as Buffer | undefined;
    let res;
    if (typeof target === 'string') {
      res = json.handles(target) ? await json.handle(target, body, ctx) : json.errorResponse(unknownOperation(target), ctx);
    } else if (req.headers['content-type']?.toLowerCase().startsWith(FORM_CONTENT_TYPE)) {
      // awsQuery: the service is the one the request was signed for (iam, sts, elasticloadbalancing).
      const service = parseCredentialScope(req.headers.authorization as string | undefined)?.service;
      res = query.handles(service)
        ? await query.handle(service!, body, ctx)
        : service === undefined
          ? query.errorResponse(undefined, new AwsError('MissingAuthenticationToken', 'Request is missing Authentication Token', 403), ctx)
          : query.errorResponse(undefined, new AwsError('InvalidAction', `The service ${service} is not available at this endpoint`), ctx);
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
