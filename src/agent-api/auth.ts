/**
 * Who may speak the agent protocol, as Nomad and Kubernetes do it: an operator creates join
 * tokens; a host redeems one at its first registration and receives its own credential, bound to
 * its container instance; every later call carries that credential. Both secrets are 256-bit
 * random values and only their SHA-256 is stored, so the database alone grants nothing.
 *
 *   join token:  dyjt.<tokenId>.<secret>   (tokenId: 12 hex digits, listed and revoked by it)
 *   credential:  dyac.<secret>             (looked up by its digest)
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import * as c from '../store/collections.js';
import type { AgentCredentialDoc, AgentJoinTokenDoc, AgentResourceLimits } from '../store/collections.js';
import type { Store, StoreTx } from '../store/store.js';

const JOIN_TOKEN = /^dyjt\.([0-9a-f]{12})\.([A-Za-z0-9_-]{43})$/;
const CREDENTIAL = /^dyac\.[A-Za-z0-9_-]{43}$/;

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const newSecret = () => randomBytes(32).toString('base64url');

export const isJoinToken = (bearer: string) => bearer.startsWith('dyjt.');

/** Why a token or credential was refused; the agent API answers 401, the admin API 404. */
export class AgentAuthError extends Error {
  constructor(
    readonly reason: 'unauthorized' | 'not-found',
    message: string,
  ) {
    super(message);
  }
}

/** A join token as listed: never its secret nor its digest. */
export interface JoinTokenView {
  tokenId: string;
  description?: string;
  createdAt: number;
  expiresAt?: number;
  maxUses?: number;
  uses: number;
  status: 'ACTIVE' | 'EXPIRED' | 'EXHAUSTED' | 'REVOKED';
  revokedAt?: number;
  limits?: AgentResourceLimits;
  createdBy: string;
}

export interface JoinTokenInput {
  description?: string;
  expiresInSeconds?: number;
  maxUses?: number;
  limits?: AgentResourceLimits;
}

export class AgentAuth {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  /** Creates a join token; the returned `token` is the only time its secret is seen. */
  async createJoinToken(input: JoinTokenInput, createdBy: string): Promise<JoinTokenView & { token: string }> {
    const tokenId = randomBytes(6).toString('hex');
    const secret = newSecret();
    const now = this.clock.now();
    const doc: AgentJoinTokenDoc = {
      tokenId,
      secretSha256: sha256(secret),
      description: input.description,
      createdAt: now,
      expiresAt: input.expiresInSeconds === undefined ? undefined : now + input.expiresInSeconds,
      maxUses: input.maxUses,
      uses: 0,
      limits: input.limits,
      createdBy,
    };
    await this.store.write((tx) => tx.insert(c.agentJoinTokens, tokenId, doc));
    return { token: `dyjt.${tokenId}.${secret}`, ...this.view(doc) };
  }

  async listJoinTokens(): Promise<JoinTokenView[]> {
    const rows = await this.store.read((tx) => tx.find(c.agentJoinTokens, { orderBy: [['created_at', 'asc']] }));
    return rows.map((r) => this.view(r.data));
  }

  /** Revokes a token: no agent can join with it any more. Agents that already joined keep their credential. */
  async revokeJoinToken(tokenId: string): Promise<JoinTokenView> {
    return this.store.write(async (tx) => {
      const row = await tx.get(c.agentJoinTokens, tokenId);
      if (!row) throw new AgentAuthError('not-found', `Join token ${tokenId} does not exist.`);
      if (row.data.revokedAt !== undefined) return this.view(row.data);
      const next = { ...row.data, revokedAt: this.clock.now() };
      await tx.update(c.agentJoinTokens, row, next);
      return this.view(next);
    });
  }

  /** Checks a join token without using it up (a cheap refusal before any other work). */
  async checkJoinToken(token: string): Promise<AgentJoinTokenDoc> {
    return this.store.read((tx) => this.usableToken(tx, token));
  }

  /**
   * Inside the registration transaction: uses the join token once and issues the new
   * instance's credential, carrying the token's limits.
   */
  async redeemJoinToken(tx: StoreTx, token: string, containerInstanceArn: string): Promise<string> {
    const doc = await this.usableToken(tx, token);
    const row = (await tx.get(c.agentJoinTokens, doc.tokenId))!;
    await tx.update(c.agentJoinTokens, row, { ...row.data, uses: row.data.uses + 1 });
    return this.issue(tx, containerInstanceArn, { tokenId: doc.tokenId, limits: doc.limits });
  }

  /** The embedded agent's credential, handed over in-process (never crosses the network). */
  issueInternalCredential(containerInstanceArn: string): Promise<string> {
    return this.store.write((tx) => this.issue(tx, containerInstanceArn, {}));
  }

  /** Resolves an agent's bearer credential to what it is bound to. */
  async authenticate(credential: string): Promise<AgentCredentialDoc> {
    if (!CREDENTIAL.test(credential)) throw new AgentAuthError('unauthorized', 'The agent credential is not valid.');
    const row = await this.store.read((tx) => tx.get(c.agentCredentials, sha256(credential)));
    if (!row) throw new AgentAuthError('unauthorized', 'The agent credential is not valid.');
    return row.data;
  }

  /** One credential per instance: issuing a new one retires the old. */
  private async issue(tx: StoreTx, containerInstanceArn: string, from: { tokenId?: string; limits?: AgentResourceLimits }): Promise<string> {
    for (const old of await tx.find(c.agentCredentials, { where: { instance: containerInstanceArn } })) await tx.delete(c.agentCredentials, old.pk);
    const credential = `dyac.${newSecret()}`;
    await tx.insert(c.agentCredentials, sha256(credential), { containerInstanceArn, tokenId: from.tokenId, limits: from.limits, createdAt: this.clock.now() });
    return credential;
  }

  private async usableToken(tx: StoreTx, token: string): Promise<AgentJoinTokenDoc> {
    const refused = new AgentAuthError('unauthorized', 'The join token is not valid: it is unknown, revoked, expired or used up.');
    const m = JOIN_TOKEN.exec(token);
    if (!m) throw refused;
    const row = await tx.get(c.agentJoinTokens, m[1]!);
    if (!row) throw refused;
    const given = Buffer.from(sha256(m[2]!), 'hex');
    if (!timingSafeEqual(given, Buffer.from(row.data.secretSha256, 'hex'))) throw refused;
    if (this.status(row.data) !== 'ACTIVE') throw refused;
    return row.data;
  }

  private status(doc: AgentJoinTokenDoc): JoinTokenView['status'] {
    if (doc.revokedAt !== undefined) return 'REVOKED';
    if (doc.expiresAt !== undefined && this.clock.now() >= doc.expiresAt) return 'EXPIRED';
    if (doc.maxUses !== undefined && doc.uses >= doc.maxUses) return 'EXHAUSTED';
    return 'ACTIVE';
  }

  private view(doc: AgentJoinTokenDoc): JoinTokenView {
    const { secretSha256: _secret, ...rest } = doc;
    return { ...rest, status: this.status(doc) };
  }
}
