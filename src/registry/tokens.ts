/**
 * Registry credentials: the token GetAuthorizationToken hands out and the /v2/ data plane
 * checks. It is an HMAC-signed statement "account A, region R, valid until T" under a secret
 * kept in the data dir (created once, mode 0600), so tokens survive restarts and need no
 * table. Docker sends it as the password of Basic auth with user `AWS`.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface TokenClaims {
  accountId: string;
  region: string;
  /** Epoch seconds. */
  expiresAt: number;
  /** Who the token acts for when not the account itself: a task execution role's session ARN. */
  principal?: string;
}

export const REGISTRY_USERNAME = 'AWS';
/** ECR tokens last 12 hours. */
export const TOKEN_LIFETIME_SECONDS = 12 * 3600;

export class RegistryTokens {
  private readonly secret: Buffer;

  constructor(secretFile: string) {
    this.secret = loadOrCreateSecret(secretFile);
  }

  mint(claims: TokenClaims): string {
    const payload = Buffer.from(JSON.stringify({ a: claims.accountId, r: claims.region, e: Math.floor(claims.expiresAt), p: claims.principal })).toString('base64url');
    return `dy1.${payload}.${this.sign(payload)}`;
  }

  /** The claims of a valid, unexpired token; undefined for anything else. */
  verify(token: string, nowSeconds: number): TokenClaims | undefined {
    const [version, payload, signature] = token.split('.');
    if (version !== 'dy1' || !payload || !signature) return undefined;
    const expected = Buffer.from(this.sign(payload));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
    try {
      const p = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { a: string; r: string; e: number; p?: string };
      if (typeof p.a !== 'string' || typeof p.r !== 'string' || typeof p.e !== 'number' || p.e <= nowSeconds) return undefined;
      if (p.p !== undefined && typeof p.p !== 'string') return undefined;
      return { accountId: p.a, region: p.r, expiresAt: p.e, principal: p.p };
    } catch {
      return undefined;
    }
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.secret).update(payload).digest('base64url');
  }
}

function loadOrCreateSecret(file: string): Buffer {
  try {
    const s = readFileSync(file);
    if (s.length >= 32) return s;
  } catch {
    // first start: create it below
  }
  mkdirSync(dirname(file), { recursive: true });
  const secret = randomBytes(32);
  // 'wx' fails if another process created it meanwhile; then use theirs.
  try {
    writeFileSync(file, secret, { mode: 0o600, flag: 'wx' });
    return secret;
  } catch {
    return readFileSync(file);
  }
}

/** Parses `Authorization: Basic …` into the password when the user is `AWS`. */
export function basicPassword(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!m) return undefined;
  const text = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon < 0 || text.slice(0, colon) !== REGISTRY_USERNAME) return undefined;
  return text.slice(colon + 1);
}
