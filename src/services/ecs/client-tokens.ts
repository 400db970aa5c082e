/**
 * RunTask's client token, as ECS documents it (APIReference/ECS_Idempotency.html): a retry with
 * the same token and the same parameters in the same cluster returns the original request's
 * tasks without starting more; the same token with other parameters is a ConflictException;
 * tokens are remembered for 24 hours, then the token starts a new request.
 *
 * Recall and remember run inside RunTask's write transaction, and the store runs writes one at
 * a time, so two concurrent retries cannot both miss the token and both launch tasks.
 */
import { createHash } from 'node:crypto';
import { AwsError } from '../../aws/errors.js';
import * as c from '../../store/collections.js';
import type { ClientTokenDoc } from '../../store/collections.js';
import type { StoreTx } from '../../store/store.js';
import * as err from './errors.js';

/** ECS keeps a RunTask client token for 24 hours. */
export const CLIENT_TOKEN_TTL_SECONDS = 24 * 3600;
/** Expired tokens deleted per remembered one: sweeping keeps pace with inserting, in bounded work. */
const SWEEP_BATCH = 16;

/** Up to 64 ASCII characters in the range 33-126, as the RunTask reference says. */
export function checkClientToken(token: string): void {
  if (token.length < 1 || token.length > 64 || !/^[\x21-\x7e]+$/.test(token)) {
    throw err.invalidParameter('clientToken must be 1 to 64 ASCII characters in the range 33-126.');
  }
}

/** A digest of the request's parameters, independent of key order; the token itself is left out. */
export function requestHash(params: Record<string, unknown>): string {
  const { clientToken: _token, ...rest } = params;
  return createHash('sha256').update(canonicalJson(rest)).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

const keyOf = (clusterArn: string, token: string) => `${clusterArn}|${token}`;

/**
 * The earlier request this token started, if it is still remembered; ConflictException when the
 * token was used with different parameters.
 */
export async function recallClientToken(tx: StoreTx, clusterArn: string, token: string, hash: string, now: number): Promise<ClientTokenDoc | undefined> {
  const row = await tx.get(c.clientTokens, keyOf(clusterArn, token));
  if (!row || row.data.expiresAt <= now) return undefined;
  if (row.data.requestHash !== hash) {
    throw new AwsError(
      'ConflictException',
      'The specified client token has already been used in a request with different parameters. Use a new client token for a different request.',
      400,
      { resourceIds: row.data.taskArns },
    );
  }
  return row.data;
}

/** Remembers what the token's request started, replacing an expired record, and sweeps a few expired ones. */
export async function rememberClientToken(tx: StoreTx, doc: Omit<ClientTokenDoc, 'expiresAt'>, now: number): Promise<void> {
  const key = keyOf(doc.clusterArn, doc.token);
  await tx.delete(c.clientTokens, key);
  await tx.insert(c.clientTokens, key, { ...doc, expiresAt: now + CLIENT_TOKEN_TTL_SECONDS });
  const oldest = await tx.select(c.clientTokens, ['expires_at'], { orderBy: [['expires_at', 'asc']], limit: SWEEP_BATCH });
  for (const r of oldest) if (Number(r.expires_at) <= now) await tx.delete(c.clientTokens, r.pk);
}
