/**
 * The account's root access key: created by the first `dockyard up` (an AKIA… id and a
 * 40-character secret, as IAM issues them), kept owner-readable (0600) in the data dir, and
 * resolved to the account's root principal.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rootCaller, type CredentialResolver, type SigningCredential } from './principal.js';

export interface AccessKey {
  accessKeyId: string;
  secretAccessKey: string;
}

export const ROOT_KEY_FILE = 'root-access-key.json';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** A new long-term key: `<prefix>` + 16 base32 characters, and 40 characters of base64 secret. */
export function generateAccessKey(prefix = 'AKIA'): AccessKey {
  const id = [...randomBytes(16)].map((b) => BASE32[b % 32]).join('');
  return { accessKeyId: `${prefix}${id}`, secretAccessKey: randomBytes(30).toString('base64') };
}

/**
 * The root key kept in `dataDir`, created on first use. A `seed` (tests, or an operator
 * bringing their own key) replaces whatever the file held.
 */
export function loadOrCreateRootKey(dataDir: string, seed?: AccessKey): AccessKey {
  const file = join(dataDir, ROOT_KEY_FILE);
  mkdirSync(dataDir, { recursive: true });
  if (seed) {
    writeKey(file, seed, 'w');
    return { accessKeyId: seed.accessKeyId, secretAccessKey: seed.secretAccessKey };
  }
  const existing = readKey(file);
  if (existing) return existing;
  const created = generateAccessKey();
  try {
    writeKey(file, created, 'wx');
    return created;
  } catch {
    // Another process created it meanwhile: use theirs.
    const theirs = readKey(file);
    if (theirs) return theirs;
    throw new Error(`cannot create the root access key file ${file}`);
  }
}

function readKey(file: string): AccessKey | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const key = JSON.parse(text) as Partial<AccessKey>;
  if (typeof key.accessKeyId !== 'string' || typeof key.secretAccessKey !== 'string') throw new Error(`${file} does not hold an access key`);
  // Keep it owner-readable even if someone loosened it.
  if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  return { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey };
}

function writeKey(file: string, key: AccessKey, flag: 'w' | 'wx'): void {
  const body = `${JSON.stringify({ accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey, createdAt: new Date().toISOString() }, null, 2)}\n`;
  writeFileSync(file, body, { mode: 0o600, flag });
  chmodSync(file, 0o600); // mode applies only when the file is created
}

/** Resolves the root key id to the account's root principal. */
export function rootKeyResolver(key: AccessKey, accountId: string): CredentialResolver {
  const credential: SigningCredential = { secretAccessKey: key.secretAccessKey, caller: rootCaller(accountId, key.accessKeyId) };
  return { lookup: async (accessKeyId) => (accessKeyId === key.accessKeyId ? credential : undefined) };
}
