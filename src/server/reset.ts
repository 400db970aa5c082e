/**
 * `POST /_dockyard/reset`: wipes every service's state in every account and region, so that a test
 * suite can start each case from nothing (as other AWS emulators offer). Mounted only when
 * `dockyard up --enable-reset` asked for it (404 otherwise), and only for a signed caller that is
 * the account's root (or anyone, in accept-any-credentials mode).
 *
 * What a reset does, in order: every store row goes in one write (ECS, ECR, agents' container
 * instances, client tokens); registry blobs and upload sessions are discarded; the `default`
 * cluster comes back if Dockyard keeps one; the embedded agent removes all its tasks' containers
 * at once and registers its host again. Agents on other hosts find their instance gone at their
 * next call, register again and stop what they ran (after their own stop timeouts).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { performance } from 'node:perf_hooks';
import { AwsError } from '../aws/errors.js';
import type { Caller } from '../iam/principal.js';

export const RESET_PATH = '/_dockyard/reset';

export interface ResetReport {
  /** Containers the embedded agent removed. */
  containersRemoved: number;
  durationMs: number;
  /** Where the time went (ms): the store wipe, then registry and agent side by side. */
  steps: { store: number; registry: number; agent: number };
}

export interface ResetSteps {
  /** Deletes every row (Store.clear). */
  wipeStore: () => Promise<void>;
  /** Discards registry blobs and upload sessions. */
  wipeRegistry: () => Promise<void>;
  /** What start-up creates (the `default` cluster). */
  recreateDefaults: () => Promise<void>;
  /** Removes the embedded agent's containers and registers it again; resolves with the count removed. */
  resetAgent: () => Promise<number>;
}

export async function resetEverything(steps: ResetSteps): Promise<ResetReport> {
  const ms = (since: number) => Math.round((performance.now() - since) * 10) / 10;
  const timed = async <T>(fn: () => Promise<T>): Promise<[T, number]> => {
    const at = performance.now();
    const value = await fn();
    return [value, ms(at)];
  };
  const started = performance.now();
  const [, store] = await timed(steps.wipeStore);
  const [[, registry], [containersRemoved, agent]] = await Promise.all([
    timed(steps.wipeRegistry),
    timed(async () => {
      await steps.recreateDefaults();
      return steps.resetAgent();
    }),
  ]);
  return { containersRemoved, durationMs: ms(started), steps: { store, registry, agent } };
}

/** Who may reset: the account's root, or anyone when signatures are not verified (accept-any). */
export function mayReset(caller: Caller): boolean {
  return caller.kind === 'root' || caller.kind === 'trusted';
}

export function registerResetRoute(
  http: FastifyInstance,
  deps: { reset: () => Promise<ResetReport>; authenticate: (req: FastifyRequest) => Promise<{ caller: Caller }> },
): void {
  // One reset at a time: a second request waits for the first instead of interleaving with it.
  let running: Promise<unknown> = Promise.resolve();
  http.post(RESET_PATH, async (req, reply) => {
    try {
      const { caller } = await deps.authenticate(req);
      if (!mayReset(caller)) throw new AwsError('AccessDeniedException', `User: ${caller.arn} is not authorized to reset Dockyard: only the account's root may.`, 403);
      const next = running.then(() => deps.reset());
      running = next.catch(() => undefined);
      return await next;
    } catch (e) {
      if (!(e instanceof AwsError)) throw e;
      return reply.code(e.status).header('x-amzn-ErrorType', e.code).send({ __type: e.code, message: e.message });
    }
  });
}
