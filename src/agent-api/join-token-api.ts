/**
 * The operators' API for join tokens (`dockyard join-token create|list|revoke`), a small
 * REST-JSON API signed with SigV4 (signing name `dockyard`):
 *
 *   POST   /_dockyard/join-tokens             {description?, expiresInSeconds?, maxUses?, maxCpu?, maxMemoryMiB?}
 *   GET    /_dockyard/join-tokens             → {joinTokens: [...]}   (never a secret)
 *   DELETE /_dockyard/join-tokens/<tokenId>   → {joinToken}
 *
 * Only the account's root (or, with an Authorizer, an IAM principal allowed `dockyard:<Action>`)
 * may manage tokens. Errors are AWS-shaped: `{__type, message}` and `x-amzn-ErrorType`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AwsError } from '../aws/errors.js';
import { isUnevaluated, type Authorizer, type Caller } from '../iam/principal.js';
import { MAX_CPU_UNITS, MAX_MEMORY_MIB } from '../protocol/index.js';
import { AgentAuthError, type AgentAuth } from './auth.js';

export const JOIN_TOKENS_PATH = '/_dockyard/join-tokens';
/** The SigV4 signing name of this API. */
export const ADMIN_SIGNING_NAME = 'dockyard';

/** The SigV4 gate: who signed the request; throws an AwsError when nobody validly did. */
export type CallerAuthenticator = (req: FastifyRequest) => Promise<Caller>;

export interface JoinTokenApiDeps {
  auth: AgentAuth;
  authenticate: CallerAuthenticator;
  /** Policy evaluation for IAM users and roles; without one, only the root may manage tokens. */
  authorizer?: Authorizer;
}

const TEN_YEARS = 10 * 365 * 24 * 3600;
export const CreateJoinTokenInput = z
  .object({
    description: z.string().max(256).optional(),
    expiresInSeconds: z.number().int().min(1).max(TEN_YEARS).optional(),
    maxUses: z.number().int().min(1).max(1_000_000).optional(),
    maxCpu: z.number().int().nonnegative().max(MAX_CPU_UNITS).optional(),
    maxMemoryMiB: z.number().int().nonnegative().max(MAX_MEMORY_MIB).optional(),
  })
  .strict();

const validation = (message: string) => new AwsError('ValidationException', message);

/** A signed admin request's JSON body, checked against `schema` (ValidationException otherwise). */
export function parseAdminBody<S extends z.ZodTypeAny>(body: unknown, schema: S): z.infer<S> {
  let value: unknown = {};
  if (Buffer.isBuffer(body) && body.length > 0) {
    try {
      value = JSON.parse(body.toString('utf8'));
    } catch {
      throw validation('The request body is not valid JSON.');
    }
  }
  const result = schema.safeParse(value);
  if (!result.success) throw validation(result.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
  return result.data;
}

/** Answers an admin request's failure AWS-style: `{__type, message}` and `x-amzn-ErrorType`. */
export function sendAdminError(reply: FastifyReply, e: unknown) {
  let error: AwsError;
  if (e instanceof AwsError) error = e;
  else if (e instanceof AgentAuthError) error = new AwsError('ResourceNotFoundException', e.message, 404);
  else throw e;
  return reply.code(error.status).header('x-amzn-ErrorType', error.code).send({ __type: error.code, message: error.message });
}

/** Whether `caller` may perform `dockyard:<action>`: the root always; IAM principals as their policies say; without an authorizer, nobody else. */
export async function authorizeAdmin(caller: Caller, action: string, authorizer: Authorizer | undefined): Promise<void> {
  if (isUnevaluated(caller)) return;
  const request = { action: `dockyard:${action}`, resources: ['*'] };
  if (authorizer) await authorizer.authorize(caller, request);
  else throw new AwsError('AccessDeniedException', `User: ${caller.arn} is not authorized to perform: ${request.action} on resource: *`, 403);
}

export function registerJoinTokenApi(http: FastifyInstance, deps: JoinTokenApiDeps): void {
  /** Authenticates the request and checks that its caller may perform `action`. */
  const allowed = async (req: FastifyRequest, action: string): Promise<Caller> => {
    const caller = await deps.authenticate(req);
    await authorizeAdmin(caller, action, deps.authorizer);
    return caller;
  };

  http.post(JOIN_TOKENS_PATH, async (req, reply) => {
    try {
      const caller = await allowed(req, 'CreateJoinToken');
      const input = parseAdminBody(req.body, CreateJoinTokenInput);
      const limits = input.maxCpu === undefined && input.maxMemoryMiB === undefined ? undefined : { maxCpu: input.maxCpu, maxMemoryMiB: input.maxMemoryMiB };
      return await deps.auth.createJoinToken({ description: input.description, expiresInSeconds: input.expiresInSeconds, maxUses: input.maxUses, limits }, caller.arn);
    } catch (e) {
      return sendAdminError(reply, e);
    }
  });

  http.get(JOIN_TOKENS_PATH, async (req, reply) => {
    try {
      await allowed(req, 'ListJoinTokens');
      return { joinTokens: await deps.auth.listJoinTokens() };
    } catch (e) {
      return sendAdminError(reply, e);
    }
  });

  http.delete(`${JOIN_TOKENS_PATH}/:tokenId`, async (req, reply) => {
    try {
      await allowed(req, 'RevokeJoinToken');
      const { tokenId } = req.params as { tokenId: string };
      return { joinToken: await deps.auth.revokeJoinToken(tokenId) };
    } catch (e) {
      return sendAdminError(reply, e);
    }
  });
}
