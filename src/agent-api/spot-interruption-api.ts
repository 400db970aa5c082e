/**
 * The operators' API for rehearsing FARGATE_SPOT interruptions (`dockyard spot interrupt`),
 * signed with SigV4 for the `dockyard` signing name like the join-token API:
 *
 *   POST /_dockyard/spot-interruptions   {cluster?, taskArns?: [...], all?: true}
 *        → {interrupted: [{taskArn, stopCode, stoppedReason}], failures: [{arn, reason}]}
 *
 * Exactly one of taskArns (1..100 task ARNs or ids) and all. The tasks are those of the signing
 * region and the caller's account; the caller needs `dockyard:InterruptSpotTasks` (the root
 * always has it). The ECS domain does the stopping (services/ecs/spot-interruptions.ts).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Authorizer, Caller } from '../iam/principal.js';
import { MAX_INTERRUPTED_TASKS, type SpotInterruptions } from '../services/ecs/spot-interruptions.js';
import { authorizeAdmin, parseAdminBody, sendAdminError } from './join-token-api.js';

export const SPOT_INTERRUPTIONS_PATH = '/_dockyard/spot-interruptions';

export interface SpotInterruptionApiDeps {
  spot: SpotInterruptions;
  /** The SigV4 gate: who signed, and for which region. */
  authenticate: (req: FastifyRequest) => Promise<{ caller: Caller; region: string }>;
  authorizer?: Authorizer;
}

export const SpotInterruptionInput = z
  .object({
    cluster: z.string().min(1).max(2048).optional(),
    taskArns: z.array(z.string().min(1).max(2048)).min(1).max(MAX_INTERRUPTED_TASKS).optional(),
    all: z.literal(true).optional(),
  })
  .strict()
  .refine((v) => (v.taskArns === undefined) !== (v.all === undefined), { message: 'give either taskArns or all: true, not both' });

export function registerSpotInterruptionApi(http: FastifyInstance, deps: SpotInterruptionApiDeps): void {
  http.post(SPOT_INTERRUPTIONS_PATH, async (req, reply) => {
    try {
      const { caller, region } = await deps.authenticate(req);
      await authorizeAdmin(caller, 'InterruptSpotTasks', deps.authorizer);
      const input = parseAdminBody(req.body, SpotInterruptionInput);
      return await deps.spot.interrupt({ accountId: caller.accountId, region }, { cluster: input.cluster, tasks: input.taskArns, all: input.all });
    } catch (e) {
      return sendAdminError(reply, e);
    }
  });
}
