/**
 * SigV4 at the front door, as an attacker and as real clients see it: an authorization matrix
 * over ECS and ECR (each bad request gets AWS's error and writes nothing), the happy path
 * with SDK v3, AWS CLI v1 and v2 and boto3, accept-any mode, and the ECR token attacks.
 */
import { CreateRepositoryCommand, DescribeRepositoriesCommand, ECRClient, GetAuthorizationTokenCommand, GetDownloadUrlForLayerCommand } from '@aws-sdk/client-ecr';
import { ECSClient, ListClustersCommand } from '@aws-sdk/client-ecs';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { amzDate } from '../src/aws/sigv4.js';
import { rootCaller } from '../src/iam/principal.js';
import { credentials, startDockyard, type TestDockyard } from './helpers/dockyard.js';
import { ECR_TARGET, ECS_TARGET, presignedJson, signedJsonHeaders, type SignOptions } from './helpers/sign.js';

const run = promisify(execFile);
const MISMATCH = 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

interface Raw {
  status: number;
  type: string | null;
  json: { __type?: string; message?: string } & Record<string, unknown>;
}

async function send(url: string, headers: Record<string, string>, body: string): Promise<Raw> {
  const h = { ...headers };
  delete h.host; // fetch sets the same value
  const res = await fetch(url, { method: 'POST', headers: h, body });
  return { status: res.status, type: res.headers.get('x-amzn-errortype'), json: (await res.json()) as Raw['json'] };
}

function assertAwsError(res: Raw, type: string, message: string | RegExp): void {
  assert.equal(res.status, 400, JSON.stringify(res.json));
  assert.equal(res.type, type);
  assert.equal(res.json.__type, type);
  if (typeof message === 'string') assert.equal(res.json.message, message);
  else assert.match(res.json.message ?? '', message);
}

describe('SigV4 verification', () => {
  let t: TestDockyard;
  let ecr: ECRClient;
  const now = () => Date.now();
  before(async () => {
    t = await startDockyard();
    ecr = new ECRClient({ endpoint: t.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
    // Temporary credentials, as STS will issue them: one live, one expired.
    const caller = rootCaller(t.app.config.accountId, 'ASIATESTSESSION');
    t.app.credentials.add({
      lookup: async (id) =>
        id === 'ASIATESTSESSION'
          ? { secretAccessKey: 'session-secret', sessionToken: 'session-token', expiresAt: Date.now() + 3600_000, caller }
          : id === 'ASIATESTEXPIRED'
            ? { secretAccessKey: 'session-secret', sessionToken: 'old-token', expiresAt: Date.now() - 1000, caller }
            : undefined,
    });
  });
  after(async () => {
    ecr.destroy();
    await t.stop();
  });

  const services = [
    {
      name: 'ecs',
      signingName: 'ecs',
      other: 'ecr',
      target: `${ECS_TARGET}.CreateCluster`,
      body: (n: string) => JSON.stringify({ clusterName: n }),
      created: async () => ((await t.ecs.send(new ListClustersCommand({}))).clusterArns ?? []).map((arn) => arn.split('/').pop()!),
    },
    {
      name: 'ecr',
      signingName: 'ecr',
      other: 'ecs',
      target: `${ECR_TARGET}.CreateRepository`,
      body: (n: string) => JSON.stringify({ repositoryName: n }),
      created: async () => ((await ecr.send(new DescribeRepositoriesCommand({}))).repositories ?? []).map((r) => r.repositoryName!),
    },
  ];

  for (const svc of services) {
    describe(`${svc.name}: the authorization matrix`, () => {
      const refused: string[] = [];
      /** Signs a create of `name` with `opts`, lets `tamper` spoil it, sends it. */
      const attempt = async (name: string, opts: SignOptions = {}, tamper: (h: Record<string, string>) => void = () => undefined, body = svc.body(name)) => {
        refused.push(name);
        const headers = await signedJsonHeaders(t.endpoint, svc.target, svc.body(name), { service: svc.signingName, ...opts });
        tamper(headers);
        return send(`${t.endpoint}/`, headers, body);
      };

      test('no signature: MissingAuthenticationTokenException', async () => {
        refused.push('unsigned');
        const res = await send(`${t.endpoint}/`, { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': svc.target }, svc.body('unsigned'));
        assertAwsError(res, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
      });

      test('a garbage Authorization header: IncompleteSignatureException naming what is missing', async () => {
        const res = await attempt('garbage-header', {}, (h) => (h.authorization = 'garbage'));
        assertAwsError(res, 'IncompleteSignatureException', /^Authorization header requires 'Credential' parameter\. Authorization header requires 'Signature' parameter\. Authorization header requires 'SignedHeaders' parameter\. Authorization=garbage$/);
        const noEq = await attempt('garbage-pairs', {}, (h) => (h.authorization = 'AWS4-HMAC-SHA256 Credential'));
        assertAwsError(noEq, 'IncompleteSignatureException', /not a valid key=value pair \(missing equal-sign\) in Authorization header/);
        const noDate = await attempt('garbage-nodate', {}, (h) => delete h['x-amz-date']);
        assertAwsError(noDate, 'IncompleteSignatureException', /requires existence of either a 'X-Amz-Date' or a 'Date' header/);
        const badDate = await attempt('garbage-date', {}, (h) => (h['x-amz-date'] = '2026-01-01T00:00:00Z'));
        assertAwsError(badDate, 'IncompleteSignatureException', /^Date must be in ISO-8601 'basic format'/);
        const noHost = await attempt('garbage-nohost', {}, (h) => (h.authorization = h.authorization!.replace(/SignedHeaders=([^,]*)host;/, 'SignedHeaders=$1')));
        assertAwsError(noHost, 'IncompleteSignatureException', "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
        const shortScope = await attempt('garbage-scope', {}, (h) => (h.authorization = h.authorization!.replace(/Credential=[^,]+/, 'Credential=AKIDTEST/us-east-1')));
        assertAwsError(shortScope, 'IncompleteSignatureException', /^Credential must have exactly 5 slash-delimited elements/);
      });

      test('a garbage signature, a wrong secret, a tampered body: InvalidSignatureException', async () => {
        assertAwsError(await attempt('garbage-signature', {}, (h) => (h.authorization = h.authorization!.replace(/Signature=\w+/, 'Signature=abc123'))), 'InvalidSignatureException', MISMATCH);
        assertAwsError(await attempt('wrong-secret', { credentials: { ...credentials, secretAccessKey: 'not-the-secret' } }), 'InvalidSignatureException', MISMATCH);
        // The signer sent x-amz-content-sha256 of the original body: the new body no longer matches it.
        assertAwsError(await attempt('tampered', {}, () => undefined, svc.body('tampered-other')), 'InvalidSignatureException', /^The provided 'x-amz-content-sha256' header does not match/);
        // Signed without that header (as botocore signs), the payload hash is computed from the body received.
        assertAwsError(await attempt('tampered-unhashed', { applyChecksum: false }, () => undefined, svc.body('tampered-other')), 'InvalidSignatureException', MISMATCH);
        refused.push('tampered-other');
        assertAwsError(
          await attempt('tampered-hash', {}, (h) => (h['x-amz-content-sha256'] = createHash('sha256').update('other').digest('hex'))),
          'InvalidSignatureException',
          /x-amz-content-sha256/,
        );
      });

      test('an unknown access key id: UnrecognizedClientException', async () => {
        const res = await attempt('unknown-key', { credentials: { accessKeyId: 'AKIANOSUCHKEY0000000', secretAccessKey: 'whatever' } });
        assertAwsError(res, 'UnrecognizedClientException', 'The security token included in the request is invalid.');
      });

      test('a 1999 date and a date 20 minutes off: Signature expired / not yet current', async () => {
        const old = await attempt('date-1999', { date: new Date('1999-01-01T00:00:00Z') });
        assertAwsError(old, 'InvalidSignatureException', /^Signature expired: 19990101T000000Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 15 min\.\)$/);
        const late = await attempt('date-past', { date: new Date(now() - 20 * 60_000) });
        assertAwsError(late, 'InvalidSignatureException', /^Signature expired: /);
        const early = await attempt('date-future', { date: new Date(now() + 20 * 60_000) });
        assertAwsError(early, 'InvalidSignatureException', /^Signature not yet current: \d{8}T\d{6}Z is still later than \d{8}T\d{6}Z \(\d{8}T\d{6}Z \+ 15 min\.\)$/);
      });

      test('the wrong service in the scope', async () => {
        const res = await attempt('wrong-service', { service: svc.other });
        assertAwsError(res, 'InvalidSignatureException', `Credential should be scoped to correct service: '${svc.signingName}'. `);
      });

      test('an unknown region, and an ARN-injecting one, in the scope', async () => {
        assertAwsError(await attempt('region-mars', { region: 'mars-north-1' }), 'InvalidSignatureException', "Credential should be scoped to a valid region, not 'mars-north-1'. ");
        assertAwsError(
          await attempt('region-inject', { region: 'us-east-1:111111111111:x' }),
          'InvalidSignatureException',
          "Credential should be scoped to a valid region, not 'us-east-1:111111111111:x'. ",
        );
      });

      test('presigned: valid is accepted; expired and tampered are refused', async () => {
        const good = await presignedJson(t.endpoint, svc.target, svc.body('presigned-ok'), { service: svc.signingName });
        const ok = await send(good.url, good.headers, svc.body('presigned-ok'));
        assert.equal(ok.status, 200, JSON.stringify(ok.json));

        refused.push('presigned-expired', 'presigned-tampered', 'presigned-body', 'presigned-other');
        const stale = await presignedJson(t.endpoint, svc.target, svc.body('presigned-expired'), { service: svc.signingName, date: new Date(now() - 600_000), expiresIn: 60 });
        assertAwsError(await send(stale.url, stale.headers, svc.body('presigned-expired')), 'InvalidSignatureException', /^Signature expired: /);
        const p = await presignedJson(t.endpoint, svc.target, svc.body('presigned-tampered'), { service: svc.signingName });
        const tampered = p.url.replace(/X-Amz-Signature=([0-9a-f])/, (_, c: string) => `X-Amz-Signature=${c === '0' ? '1' : '0'}`);
        assertAwsError(await send(tampered, p.headers, svc.body('presigned-tampered')), 'InvalidSignatureException', MISMATCH);
        const b = await presignedJson(t.endpoint, svc.target, svc.body('presigned-body'), { service: svc.signingName });
        assertAwsError(await send(b.url, b.headers, svc.body('presigned-other')), 'InvalidSignatureException', MISMATCH);
        const longer = await presignedJson(t.endpoint, svc.target, svc.body('presigned-body'), { service: svc.signingName });
        assertAwsError(await send(longer.url.replace(/X-Amz-Expires=\d+/, 'X-Amz-Expires=604800'), longer.headers, svc.body('presigned-body')), 'InvalidSignatureException', MISMATCH);
        // Both forms at once are refused.
        const both = await signedJsonHeaders(t.endpoint, svc.target, svc.body('presigned-body'), { service: svc.signingName });
        assertAwsError(await send(good.url, { ...good.headers, authorization: both.authorization! }, svc.body('presigned-body')), 'IncompleteSignatureException', /Only one auth mechanism/);
      });

      test('temporary credentials: the session token must come and match; expired ones are ExpiredTokenException', async () => {
        const session = { accessKeyId: 'ASIATESTSESSION', secretAccessKey: 'session-secret' };
        assertAwsError(await attempt('token-missing', { credentials: session }), 'UnrecognizedClientException', 'The security token included in the request is invalid.');
        assertAwsError(await attempt('token-wrong', { credentials: { ...session, sessionToken: 'forged' } }), 'UnrecognizedClientException', 'The security token included in the request is invalid.');
        assertAwsError(
          await attempt('token-expired', { credentials: { accessKeyId: 'ASIATESTEXPIRED', secretAccessKey: 'session-secret', sessionToken: 'old-token' } }),
          'ExpiredTokenException',
          'The security token included in the request is expired',
        );
        const ok = await send(`${t.endpoint}/`, await signedJsonHeaders(t.endpoint, svc.target, svc.body('token-ok'), { service: svc.signingName, credentials: { ...session, sessionToken: 'session-token' } }), svc.body('token-ok'));
        assert.equal(ok.status, 200, JSON.stringify(ok.json));
      });

      test('nothing refused was written', async () => {
        const created = await svc.created();
        assert.ok(refused.length > 20, `${refused.length} refused attempts`);
        for (const name of refused) assert.ok(!created.includes(name), `${name} was created`);
        assert.ok(created.includes('presigned-ok') && created.includes('token-ok'), 'the valid ones were');
      });
    });
  }

  describe('real clients', () => {
    const cli = (bin: string, args: string[], env: NodeJS.ProcessEnv = t.cliEnv) => run(bin, ['--endpoint-url', t.endpoint, ...args, '--output', 'json'], { env, timeout: 60_000 });

    test('SDK v3, AWS CLI v1 and v2 and boto3 sign requests that pass', async () => {
      await ecr.send(new CreateRepositoryCommand({ repositoryName: 'clients/sdk' }));
      for (const [bin, repo] of [['aws', 'clients/cli1'], ['/usr/bin/aws', 'clients/cli2']] as const) {
        const { stdout } = await cli(bin, ['ecr', 'create-repository', '--repository-name', repo]);
        assert.equal((JSON.parse(stdout) as { repository: { repositoryName: string } }).repository.repositoryName, repo);
        await cli(bin, ['ecs', 'list-clusters']);
      }
      const py = `import boto3
c = boto3.client('ecr', endpoint_url='${t.endpoint}', region_name='eu-west-1', aws_access_key_id='${credentials.accessKeyId}', aws_secret_access_key='${credentials.secretAccessKey}')
print(c.create_repository(repositoryName='clients/boto3')['repository']['repositoryArn'])`;
      const { stdout } = await run('python3', ['-c', py], { timeout: 60_000 });
      assert.equal(stdout.trim(), 'arn:aws:ecr:eu-west-1:000000000000:repository/clients/boto3', 'the verified scope region is the region');
    });

    test("a wrong secret through either CLI shows AWS's message", async () => {
      for (const bin of ['aws', '/usr/bin/aws']) {
        await assert.rejects(cli(bin, ['ecs', 'list-clusters'], { ...t.cliEnv, AWS_SECRET_ACCESS_KEY: 'wrong' }), (e: { stderr: string }) => {
          assert.match(e.stderr, /An error occurred \(InvalidSignatureException\) when calling the ListClusters operation: The request signature we calculated does not match the signature you provided\./);
          return true;
        });
      }
    });

    test('SDK v3 names the error: InvalidSignatureException for a wrong secret, UnrecognizedClientException for an unknown key', async () => {
      const wrong = new ECSClient({ endpoint: t.endpoint, region: 'us-east-1', credentials: { ...credentials, secretAccessKey: 'x' }, maxAttempts: 1 });
      const unknown = new ECSClient({ endpoint: t.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'AKIAUNKNOWN', secretAccessKey: 'x' }, maxAttempts: 1 });
      try {
        await assert.rejects(wrong.send(new ListClustersCommand({})), { name: 'InvalidSignatureException', message: MISMATCH });
        await assert.rejects(unknown.send(new ListClustersCommand({})), { name: 'UnrecognizedClientException' });
      } finally {
        wrong.destroy();
        unknown.destroy();
      }
    });
  });

  describe('ECR tokens', () => {
    let layer: { digest: string; url: string };
    const basic = (password: string) => ({ authorization: `Basic ${Buffer.from(`AWS:${password}`).toString('base64')}` });

    before(async () => {
      await ecr.send(new CreateRepositoryCommand({ repositoryName: 'tokens/a' }));
      await ecr.send(new CreateRepositoryCommand({ repositoryName: 'tokens/b' }));
      const token = Buffer.from((await ecr.send(new GetAuthorizationTokenCommand({}))).authorizationData![0]!.authorizationToken!, 'base64').toString().slice(4);
      // Push the same blob to both repositories, and a second blob to a, over the registry API.
      const push = async (repo: string, data: Buffer) => {
        const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
        const start = await fetch(`${t.endpoint}/v2/${repo}/blobs/uploads/?digest=${digest}`, { method: 'POST', headers: basic(token), body: new Uint8Array(data) });
        assert.equal(start.status, 201, await start.text());
        return digest;
      };
      const digest = await push('tokens/a', Buffer.from('layer one'));
      await push('tokens/b', Buffer.from('layer one'));
      await push('tokens/a', Buffer.from('layer two'));
      const url = (await ecr.send(new GetDownloadUrlForLayerCommand({ repositoryName: 'tokens/a', layerDigest: digest }))).downloadUrl!;
      layer = { digest, url };
    });

    test('GetAuthorizationToken without Authorization (or with a bad signature) returns no token', async () => {
      const body = '{}';
      const unsigned = await send(`${t.endpoint}/`, { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `${ECR_TARGET}.GetAuthorizationToken` }, body);
      assertAwsError(unsigned, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
      assert.equal(unsigned.json.authorizationData, undefined);
      const forged = await signedJsonHeaders(t.endpoint, `${ECR_TARGET}.GetAuthorizationToken`, body, { service: 'ecr', credentials: { ...credentials, secretAccessKey: 'guess' } });
      assertAwsError(await send(`${t.endpoint}/`, forged, body), 'InvalidSignatureException', MISMATCH);
    });

    test('the download URL reads its one blob, and nothing else', async () => {
      const ok = await fetch(layer.url);
      assert.equal(ok.status, 200);
      assert.equal(await ok.text(), 'layer one');
      const token = new URL(layer.url).searchParams.get('X-Dockyard-Token')!;
      const base = `${t.endpoint}/v2`;
      const q = `X-Dockyard-Token=${encodeURIComponent(token)}`;
      const two = `sha256:${createHash('sha256').update('layer two').digest('hex')}`;
      const refusals: [string, Promise<Response>][] = [
        ['as a Basic password', fetch(`${base}/`, { headers: basic(token) })],
        ['as a Bearer token', fetch(`${base}/`, { headers: { authorization: `Bearer ${token}` } })],
        ['as Basic for the same blob', fetch(`${base}/tokens/a/blobs/${layer.digest}`, { headers: basic(token) })],
        ['for the catalog', fetch(`${base}/_catalog?${q}`)],
        ['for another blob of the repository', fetch(`${base}/tokens/a/blobs/${two}?${q}`)],
        ['for the same blob in another repository', fetch(`${base}/tokens/b/blobs/${layer.digest}?${q}`)],
        ['for a manifest', fetch(`${base}/tokens/a/manifests/latest?${q}`)],
        ['to delete the blob', fetch(`${base}/tokens/a/blobs/${layer.digest}?${q}`, { method: 'DELETE' })],
        ['to start an upload', fetch(`${base}/tokens/a/blobs/uploads/?${q}`, { method: 'POST' })],
      ];
      for (const [what, pending] of refusals) {
        const res = await pending;
        await res.arrayBuffer();
        assert.equal(res.status, 401, what);
      }
      assert.equal((await fetch(layer.url)).status, 200, 'the blob is still there');
    });

    test('docker login refuses a download-URL token as a password', async () => {
      const token = new URL(layer.url).searchParams.get('X-Dockyard-Token')!;
      const dockerConfig = mkdtempSync(join(tmpdir(), 'dockyard-docker-config-'));
      try {
        await assert.rejects(
          run('docker', ['login', '--username', 'AWS', '--password', token, `127.0.0.1:${t.port}`], { env: { ...process.env, DOCKER_CONFIG: dockerConfig }, timeout: 60_000 }),
          (e: { stderr: string }) => /401|unauthorized/i.test(e.stderr),
        );
      } finally {
        rmSync(dockerConfig, { recursive: true, force: true });
      }
    });
  });
});

describe('--accept-any-credentials', () => {
  let t: TestDockyard;
  before(async () => {
    t = await startDockyard({ acceptAnyCredentials: true });
  });
  after(() => t.stop());

  test('accepts unsigned, garbage, unknown-key and wrong-secret requests as the trusted account', async () => {
    const target = `${ECS_TARGET}.CreateCluster`;
    const attempts: [string, Record<string, string>][] = [
      ['unsigned', { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': target }],
      ['garbage', { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': target, authorization: 'garbage' }],
      ['unknown-key', await signedJsonHeaders(t.endpoint, target, JSON.stringify({ clusterName: 'unknown-key' }), { credentials: { accessKeyId: 'AKIAANYONE', secretAccessKey: 'x' } })],
      ['old-date', await signedJsonHeaders(t.endpoint, target, JSON.stringify({ clusterName: 'old-date' }), { date: new Date('1999-01-01T00:00:00Z'), region: 'eu-west-1' })],
    ];
    for (const [name, headers] of attempts) {
      const res = await send(`${t.endpoint}/`, headers, JSON.stringify({ clusterName: name }));
      assert.equal(res.status, 200, `${name}: ${JSON.stringify(res.json)}`);
    }
    const clusters = (await t.ecs.send(new ListClustersCommand({}))).clusterArns!;
    assert.ok(clusters.includes('arn:aws:ecs:us-east-1:000000000000:cluster/unsigned'), 'unsigned requests use the default region');
    assert.ok(clusters.includes('arn:aws:ecs:us-east-1:000000000000:cluster/unknown-key'));
    assert.ok(!clusters.some((arn) => arn.includes(':eu-west-1:')), 'ListClusters is regional');
  });

  test('still refuses a region that is not one (it would end up inside ARNs)', async () => {
    const target = `${ECS_TARGET}.CreateCluster`;
    const body = JSON.stringify({ clusterName: 'injected' });
    const res = await send(`${t.endpoint}/`, await signedJsonHeaders(t.endpoint, target, body, { region: 'us-east-1:111111111111:x' }), body);
    assertAwsError(res, 'InvalidSignatureException', /valid region/);
  });
});

test('a configured region list replaces the AWS one', async () => {
  const t = await startDockyard({ regions: ['eu-central-1', 'local-1'] });
  const target = `${ECS_TARGET}.CreateCluster`;
  const body = JSON.stringify({ clusterName: 'regional' });
  try {
    const local = await send(`${t.endpoint}/`, await signedJsonHeaders(t.endpoint, target, body, { region: 'local-1' }), body);
    assert.equal(local.status, 200, JSON.stringify(local.json));
    assert.equal((local.json.cluster as { clusterArn: string }).clusterArn, 'arn:aws:ecs:local-1:000000000000:cluster/regional');
    assertAwsError(await send(`${t.endpoint}/`, await signedJsonHeaders(t.endpoint, target, body, { region: 'us-east-1' }), body), 'InvalidSignatureException', "Credential should be scoped to a valid region, not 'us-east-1'. ");
  } finally {
    await t.stop();
  }
});

test('amzDate formats epoch milliseconds as SigV4 basic ISO-8601', () => {
  assert.equal(amzDate(Date.UTC(2026, 0, 2, 3, 4, 5)), '20260102T030405Z');
});
