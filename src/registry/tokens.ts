/**
 * Registry credentials: the token GetAuthorizationToken hands out and the /v2/ data plane
 * checks. It is an HMAC-signed statement "principal P of account A, region R, valid until T"
 * under a secret kept in the data dir (created once, mode 0600), so tokens survive restarts
 * and need no table. Docker sends it as the password of Basic auth with user `AWS`.
 *
 * GetDownloadUrlForLayer's URLs carry a different kind of token: read-only, for one blob of
 * one repository, for minutes (S3's presigned URL in AWS). It is signed over its own prefix,
 * so neither kind can pass for the other.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface TokenClaims {
  accountId: string;
  region: string;
  /** Who called GetAuthorizationToken (ECR repository policies are evaluated for them). */
  principalArn: string;
  /** Epoch seconds. */
  expiresAt: number;
}

/** What a layer download token allows: reading one blob of one repository. */
export interface LayerDownloadClaims extends TokenClaims {
  repositoryName: string;
  digest: string;
}

export const REGISTRY_USERNAME = 'AWS';
/** ECR tokens last 12 hours. */
export const TOKEN_LIFETIME_SECONDS = 12 * 3600;
/** Layer download URLs are good for 10 minutes. */
export const LAYER_DOWNLOAD_LIFETIME_SECONDS = 10 * 60;

const REGISTRY_TOKEN = 'dy1';
const LAYER_TOKEN = 'dyl1';

export class RegistryTokens {
  private readonly secret: Buffer;

  constructor(secretFile: string) {
    this.secret = loadOrCreateSecret(secretFile);
  }

  mint(claims: TokenClaims): string {
    return this.seal(REGISTRY_TOKEN, { a: claims.accountId, r: claims.region, p: claims.principalArn, e: Math.floor(claims.expiresAt) });
  }

  /** The claims of a valid, unexpired registry token; undefined for anything else (layer download tokens included). */
  verify(token: string, nowSeconds: number): TokenClaims | undefined {
    const p = this.open(REGISTRY_TOKEN, token, nowSeconds);
    return p ? { accountId: p.a, region: p.r, principalArn: p.p, expiresAt: p.e } : undefined;
  }

  mintLayerDownload(claims: LayerDownloadClaims): string {
    return this.seal(LAYER_TOKEN, { a: claims.accountId, r: claims.region, p: claims.principalArn, e: Math.floor(claims.expiresAt), n: claims.repositoryName, d: claims.digest });
  }

  /** The claims of a valid, unexpired layer download token for exactly this repository and digest. */
  verifyLayerDownload(token: string, repositoryName: string, digest: string, nowSeconds: number): LayerDownloadClaims | undefined {
    const p = this.open(LAYER_TOKEN, token, nowSeconds);
    if (!p || p.n !== repositoryName || p.d !== digest) return undefined;
    return { accountId: p.a, region: p.r, principalArn: p.p, expiresAt: p.e, repositoryName: p.n, digest: p.d };
  }

  private seal(kind: string, payload: Payload): string {
    const text = Buffer.from(JSON.stringify(payload)).toString('base64url');
    return `${kind}.${text}.${this.sign(kind, text)}`;
  }

  private open(kind: string, token: string, nowSeconds: number): Payload | undefined {
    const [version, payload, signature] = token.split('.');
    if (version !== kind || !payload || !signature) return undefined;
    const expected = Buffer.from(this.sign(kind, payload));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
    try {
      const p = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Payload;
      if (typeof p.a !== 'string' || typeof p.r !== 'string' || typeof p.p !== 'string' || typeof p.e !== 'number' || p.e <= nowSeconds) return undefined;
      if (kind === LAYER_TOKEN && (typeof p.n !== 'string' || typeof p.d !== 'string')) return undefined;
      return p;
    } catch {
      return undefined;
    }
  }

  /** The kind is part of what is signed: a token of one kind never verifies as another. */
  private sign(kind: string, payload: string): string {
    return createHmac('sha256', this.secret).update(`${kind}.${payload}`).digest('base64url');
  }
}

interface Payload {
  a: string;
  r: string;
  p: string;
  e: number;
  n?: string;
  d?: string;
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
