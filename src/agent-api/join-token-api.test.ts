/**
 * Who may manage join tokens: the account's root, or an IAM principal that policy allows
 * `dockyard:<Action>`; anybody else gets AWS's AccessDeniedException. The SigV4 gate is
 * injected here (as app.ts injects it) so each kind of caller can be presented; requests are
 * real, SigV4-signed HTTP from the CLI's AdminClient.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { AwsError } from '../aws/errors.js';
import { AdminClient } from '../cli/admin-client.js';
import { rootCaller, type AuthorizationRequest, type Caller } from '../iam/principal.js';
import { createApp, type App } from '../server/app.js';
import { defaultConfig } from '../server/config.js';

const ACCOUNT = '000000000000';
const user = (name: string): Caller => ({ kind: 'user', accountId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:user/${name}`, userId: `AIDA${name.toUpperCase()}` });
const callers: Record<string, Caller> = { ROOTKEY: rootCaller(ACCOUNT, 'ROOTKEY'), ALICEKEY: user('alice'), BOBKEY: user('bob') };

describe('join-token API authorization', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'dockyard-join-token-api-'));
  const asked: AuthorizationRequest[] = [];
  let app: App | undefined;
  const clients: AdminClient[] = [];

  after(async () => {
    for (const c of clients) await c.close();
    await app?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const start = async () => {
    app = await createApp(
      { ...defaultConfig({}), host: '127.0.0.1', port: 0, dataDir, logLevel: 'silent' },
      {
        logger: false,
        // Stands in for the SigV4 gate: the signing key id names the caller.
        authenticate: async (req) => {
          const keyId = /Credential=([^/]+)\//.exec(req.headers.authorization ?? '')?.[1];
          const caller = keyId ? callers[keyId] : undefined;
          if (!caller) throw new AwsError('UnrecognizedClientException', 'The security token included in the request is invalid.', 403);
          return caller;
        },
        // alice's policy allows listing only.
        authorizer: {
          async authorize(caller, request) {
            asked.push(request);
            if (caller.arn.endsWith('user/alice') && request.action === 'dockyard:ListJoinTokens') return;
            throw new AwsError('AccessDeniedException', `User: ${caller.arn} is not authorized to perform: ${request.action}`, 403);
          },
        },
      },
    );
    return `http://127.0.0.1:${await app.listen()}`;
  };
  const as = (endpoint: string, accessKeyId: string) => {
    const c = new AdminClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId, secretAccessKey: 'x' } });
    clients.push(c);
    return c;
  };

  it('lets the root manage tokens, an IAM user only what policy allows, and nobody else', async () => {
    const endpoint = await start();
    const created = await as(endpoint, 'ROOTKEY').createJoinToken({ description: 'by root' });
    assert.equal(created.createdBy, `arn:aws:iam::${ACCOUNT}:root`);

    const alice = as(endpoint, 'ALICEKEY');
    assert.deepEqual((await alice.listJoinTokens()).map((t) => t.tokenId), [created.tokenId]);
    await assert.rejects(alice.createJoinToken({}), (e: Error & { code?: string; status?: number }) => e.code === 'AccessDeniedException' && e.status === 403);
    await assert.rejects(as(endpoint, 'BOBKEY').revokeJoinToken(created.tokenId), (e: Error & { code?: string }) => e.code === 'AccessDeniedException');
    await assert.rejects(as(endpoint, 'NOBODY').listJoinTokens(), (e: Error & { code?: string }) => e.code === 'UnrecognizedClientException');
    assert.deepEqual(
      asked.map((r) => r.action),
      ['dockyard:ListJoinTokens', 'dockyard:CreateJoinToken', 'dockyard:RevokeJoinToken'],
    );
    // Nothing changed by the refused calls.
    const [only] = await as(endpoint, 'ROOTKEY').listJoinTokens();
    assert.equal(only!.status, 'ACTIVE');
  });
});
