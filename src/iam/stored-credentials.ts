/**
 * The CredentialResolver for credentials Dockyard issued itself: IAM users' access keys (AKIA…,
 * active ones only) and STS sessions (ASIA…, expired ones too, so the gate can answer
 * ExpiredTokenException rather than an unknown key).
 */
import type { CredentialResolver, SigningCredential } from './principal.js';

export interface SigningCredentialSource {
  signingCredential(accessKeyId: string): Promise<SigningCredential | undefined>;
}

export class StoredCredentials implements CredentialResolver {
  constructor(
    private readonly accessKeys: SigningCredentialSource,
    private readonly sessions: SigningCredentialSource,
  ) {}

  async lookup(accessKeyId: string): Promise<SigningCredential | undefined> {
    if (accessKeyId.startsWith('ASIA')) return this.sessions.signingCredential(accessKeyId);
    if (accessKeyId.startsWith('AKIA')) return this.accessKeys.signingCredential(accessKeyId);
    return undefined;
  }
}
