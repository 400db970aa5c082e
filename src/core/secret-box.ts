/**
 * Secrets at rest (access-key secrets, session tokens): AES-256-GCM with a key kept outside the
 * database, in `<dataDir>/keys/secrets.key` (owner-readable only), so a copy of dockyard.db alone
 * reveals no credential. Sealed values are `v1:<iv>:<tag>:<ciphertext>`, base64url parts.
 * The same key seals SSM SecureString values and Secrets Manager secrets. An operator may supply
 * the key instead (`--secrets-key-file`, DOCKYARD_SECRETS_KEY_FILE): 32 bytes as base64 or hex.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export class SecretBox {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('SecretBox needs a 32-byte key');
  }

  /** The operator's key file when given, else the data dir's key, created on first use. */
  static forDataDir(dataDir: string, keyFile?: string): SecretBox {
    if (keyFile) return new SecretBox(parseKey(readFileSync(keyFile, 'utf8'), keyFile));
    if (dataDir === ':memory:') return new SecretBox(randomBytes(32));
    const dir = join(dataDir, 'keys');
    const file = join(dir, 'secrets.key');
    if (!existsSync(file)) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      // 'wx': two processes racing to create it must not overwrite each other's key.
      try {
        writeFileSync(file, randomBytes(32).toString('base64'), { mode: 0o600, flag: 'wx' });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
    }
    chmodSync(file, 0o600);
    return new SecretBox(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64'));
  }

  seal(plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), data.toString('base64url')].join(':');
  }

  open(sealed: string): string {
    const [version, iv, tag, data] = sealed.split(':');
    if (version !== 'v1' || !iv || !tag || data === undefined) throw new Error('not a sealed secret');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
  }
}

/** A 32-byte key written as base64 (44 characters) or hex (64); anything else is refused at start-up. */
function parseKey(text: string, where: string): Buffer {
  const t = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, 'hex') : /^[A-Za-z0-9+/_-]{43}=?$/.test(t) ? Buffer.from(t, 'base64') : undefined;
  // The message names the file, never its content.
  if (!key || key.length !== 32) throw new Error(`${where}: a secrets key must be 32 bytes written as base64 or hex (e.g. openssl rand -base64 32)`);
  return key;
}
