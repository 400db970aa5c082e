/**
 * Credential resolvers compose: the front door asks one chain, and each source of keys (the
 * root key here; IAM users' access keys and STS sessions from the IAM/STS modules) is added
 * to it by the composition root without the others knowing.
 */
import type { CredentialResolver, SigningCredential } from './principal.js';

export class CredentialResolverChain implements CredentialResolver {
  private readonly resolvers: CredentialResolver[];

  constructor(resolvers: readonly CredentialResolver[] = []) {
    this.resolvers = [...resolvers];
  }

  /** Adds a source of keys; earlier sources win for the same key id. */
  add(resolver: CredentialResolver): this {
    this.resolvers.push(resolver);
    return this;
  }

  async lookup(accessKeyId: string): Promise<SigningCredential | undefined> {
    for (const resolver of this.resolvers) {
      const found = await resolver.lookup(accessKeyId);
      if (found) return found;
    }
    return undefined;
  }
}
