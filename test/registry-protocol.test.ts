/**
 * The /v2/ data plane spoken directly (fetch and raw sockets): authentication, monolithic and
 * chunked uploads, digest and length checks, a killed upload, Range, cross-repository mount,
 * manifests by tag and digest, indexes, tag/catalog pagination, deletes, referrers, GC.
 */
import { CreateRepositoryCommand, ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { credentials, startDockyard, type TestDockyard } from './helpers/dockyard.js';

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

let d: TestDockyard;
let ecr: ECRClient;
let auth: string;

async function api(path: string, init: RequestInit & { auth?: string | null } = {}) {
  const headers = new Headers(init.headers);
  const a = init.auth === undefined ? auth : init.auth;
  if (a) headers.set('authorization', a);
  return fetch(`${d.endpoint}${path}`, { ...init, headers, redirect: 'manual' });
}

async function errorCode(res: Response): Promise<string> {
  const body = (await res.json()) as { errors: { code: string }[] };
  return body.errors[0]!.code;
}

async function createRepo(name: string) {
  await ecr.send(new CreateRepositoryCommand({ repositoryName: name }));
}

async function pushBlob(repo: string, data: Buffer): Promise<string> {
  const digest = sha(data);
  const res = await api(`/v2/${repo}/blobs/uploads/?digest=${digest}`, { method: 'POST', body: new Uint8Array(data), headers: { 'content-type': 'application/octet-stream' } });
  assert.equal(res.status, 201, await res.text());
  return digest;
}

function imageManifest(config: Buffer, layers: Buffer[], extra: Record<string, unknown> = {}, mediaType = DOCKER_MANIFEST) {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType,
      config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: sha(config), size: config.length },
      layers: layers.map((l) => ({ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', digest: sha(l), size: l.length })),
      ...extra,
    }),
  );
}

async function pushImage(repo: string, tag: string, seed: string, mediaType = DOCKER_MANIFEST, extra: Record<string, unknown> = {}) {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', seed }));
  const layer = Buffer.from(`layer of ${seed}`);
  await pushBlob(repo, config);
  await pushBlob(repo, layer);
  const manifest = imageManifest(config, [layer], extra, mediaType);
  const res = await api(`/v2/${repo}/manifests/${tag}`, { method: 'PUT', body: manifest, headers: { 'content-type': mediaType } });
  assert.equal(res.status, 201, await res.text());
  assert.equal(res.headers.get('docker-content-digest'), sha(manifest));
  return { digest: sha(manifest), manifest, layer, config };
}

/** Sends a raw HTTP request and returns the status line (or 'closed'). */
function rawRequest(head: string, body: Buffer, opts: { destroyAfterBody?: boolean } = {}): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(d.port, '127.0.0.1', () => {
      socket.write(head);
      socket.write(body, () => {
        if (opts.destroyAfterBody) setTimeout(() => { socket.destroy(); resolve('closed'); }, 100);
      });
    });
    let data = '';
    socket.on('data', (c) => (data += c.toString()));
    socket.on('close', () => resolve(data.split('\r\n')[0] || 'closed'));
    socket.on('error', () => resolve('closed'));
    if (!opts.destroyAfterBody) setTimeout(() => socket.end(), 300);
  });
}

/**
 * PUTs a manifest over a raw socket, sending `body` but never finishing the request (a client
 * that would go on sending): resolves with what the server answered and whether it closed.
 */
function slowPut(headers: string, body: Buffer): Promise<{ status: string; response: string; closedByServer: boolean }> {
  return new Promise((resolve) => {
    let response = '';
    let settled = false;
    const socket = connect(d.port, '127.0.0.1', () => {
      socket.write(`PUT /v2/proto/app/manifests/huge HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${auth}\r\nContent-Type: ${DOCKER_MANIFEST}\r\n${headers}\r\n`);
      socket.write(body);
    });
    const finish = (closedByServer: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ status: response.split('\r\n')[0] ?? '', response, closedByServer });
    };
    socket.on('data', (c) => (response += c.toString()));
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
    const timer = setTimeout(() => finish(false), 5000);
  });
}

before(async () => {
  d = await startDockyard();
  ecr = new ECRClient({ endpoint: d.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
  const token = await ecr.send(new GetAuthorizationTokenCommand({}));
  auth = `Basic ${token.authorizationData![0]!.authorizationToken}`;
  await createRepo('proto/app');
  await createRepo('proto/other');
});

after(async () => {
  ecr.destroy();
  await d.stop();
});

describe('authentication', () => {
  test('GET /v2/ without credentials is 401 with a Basic challenge', async () => {
    const res = await api('/v2/', { auth: null });
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate') ?? '', /^Basic realm=/);
    assert.equal(res.headers.get('docker-distribution-api-version'), 'registry/2.0');
    assert.equal(await errorCode(res), 'UNAUTHORIZED');
  });

  test('a wrong password or user is 401; the ECR token is 200', async () => {
    assert.equal((await api('/v2/', { auth: `Basic ${Buffer.from('AWS:nope').toString('base64')}` })).status, 401);
    const password = Buffer.from(auth.slice(6), 'base64').toString().slice(4);
    assert.equal((await api('/v2/', { auth: `Basic ${Buffer.from(`bob:${password}`).toString('base64')}` })).status, 401);
    // A token signed with another data dir's secret is refused.
    const tampered = password.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
    assert.equal((await api('/v2/', { auth: `Basic ${Buffer.from(`AWS:${tampered}`).toString('base64')}` })).status, 401);
    assert.equal((await api('/v2/')).status, 200);
  });

  test('every endpoint needs credentials', async () => {
    const res = await api('/v2/proto/app/tags/list', { auth: null });
    assert.equal(res.status, 401);
  });
});

describe('blobs and uploads', () => {
  test('monolithic upload, HEAD, GET and Range', async () => {
    const data = Buffer.from('0123456789abcdef'.repeat(64));
    const digest = await pushBlob('proto/app', data);
    const head = await api(`/v2/proto/app/blobs/${digest}`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), String(data.length));
    assert.equal(head.headers.get('docker-content-digest'), digest);
    const get = await api(`/v2/proto/app/blobs/${digest}`);
    assert.deepEqual(Buffer.from(await get.arrayBuffer()), data);
    const range = await api(`/v2/proto/app/blobs/${digest}`, { headers: { range: 'bytes=10-19' } });
    assert.equal(range.status, 206);
    assert.equal(range.headers.get('content-range'), `bytes 10-19/${data.length}`);
    assert.equal(await range.text(), data.subarray(10, 20).toString());
    const suffix = await api(`/v2/proto/app/blobs/${digest}`, { headers: { range: 'bytes=-4' } });
    assert.equal(await suffix.text(), 'cdef');
    const bad = await api(`/v2/proto/app/blobs/${digest}`, { headers: { range: `bytes=${data.length + 5}-` } });
    assert.equal(bad.status, 416);
    await bad.body?.cancel();
    // The blob file is content-addressed under the data dir.
    const hex = digest.slice(7);
    assert.deepEqual(readdirSync(join(d.dataDir, 'registry', 'blobs', 'sha256', hex.slice(0, 2))).includes(hex), true);
  });

  test('a blob is visible only in repositories it was pushed or mounted to', async () => {
    const digest = await pushBlob('proto/app', Buffer.from('only in app'));
    const res = await api(`/v2/proto/other/blobs/${digest}`, { method: 'HEAD' });
    assert.equal(res.status, 404);
    const missing = await api(`/v2/proto/app/blobs/sha256:${'0'.repeat(64)}`);
    assert.equal(missing.status, 404);
    assert.equal(await errorCode(missing), 'BLOB_UNKNOWN');
  });

  test('a wrong digest is DIGEST_INVALID and nothing becomes visible', async () => {
    const data = Buffer.from('some bytes');
    const wrong = sha('other bytes');
    const res = await api(`/v2/proto/app/blobs/uploads/?digest=${wrong}`, { method: 'POST', body: data });
    assert.equal(res.status, 400);
    assert.equal(await errorCode(res), 'DIGEST_INVALID');
    assert.equal((await api(`/v2/proto/app/blobs/${wrong}`, { method: 'HEAD' })).status, 404);
    assert.equal((await api(`/v2/proto/app/blobs/${sha(data)}`, { method: 'HEAD' })).status, 404);
    const malformed = await api(`/v2/proto/app/blobs/not-a-digest`);
    assert.equal(malformed.status, 400);
    assert.equal(await errorCode(malformed), 'DIGEST_INVALID');
  });

  test('chunked upload: POST, PATCH with Content-Range, status, PUT with the last chunk', async () => {
    const data = Buffer.alloc(300_000, 7);
    for (let i = 0; i < data.length; i += 997) data[i] = i % 251;
    const start = await api('/v2/proto/app/blobs/uploads/', { method: 'POST' });
    assert.equal(start.status, 202);
    const location = start.headers.get('location')!;
    assert.ok(start.headers.get('docker-upload-uuid'));
    assert.match(location, /^\/v2\/proto\/app\/blobs\/uploads\//);
    const p1 = await api(location, { method: 'PATCH', body: data.subarray(0, 100_000), headers: { 'content-range': '0-99999', 'content-type': 'application/octet-stream' } });
    assert.equal(p1.status, 202);
    assert.equal(p1.headers.get('range'), '0-99999');
    // A chunk that does not continue where the upload is: 416 with the current range.
    const gap = await api(location, { method: 'PATCH', body: data.subarray(150_000, 160_000), headers: { 'content-range': '150000-159999' } });
    assert.equal(gap.status, 416);
    assert.equal(gap.headers.get('range'), '0-99999');
    await gap.body?.cancel();
    const p2 = await api(p1.headers.get('location')!, { method: 'PATCH', body: data.subarray(100_000, 200_000) });
    assert.equal(p2.status, 202);
    const status = await api(location);
    assert.equal(status.status, 204);
    assert.equal(status.headers.get('range'), '0-199999');
    const done = await api(`${location}?digest=${sha(data)}`, { method: 'PUT', body: data.subarray(200_000) });
    assert.equal(done.status, 201, await done.text());
    assert.equal(done.headers.get('location'), `/v2/proto/app/blobs/${sha(data)}`);
    const get = await api(`/v2/proto/app/blobs/${sha(data)}`);
    assert.deepEqual(Buffer.from(await get.arrayBuffer()), data);
    // The session is gone.
    assert.equal((await api(location)).status, 404);
  });

  test('cancelling an upload removes it', async () => {
    const start = await api('/v2/proto/app/blobs/uploads/', { method: 'POST' });
    const location = start.headers.get('location')!;
    assert.equal((await api(location, { method: 'DELETE' })).status, 204);
    const res = await api(location);
    assert.equal(res.status, 404);
    assert.equal(await errorCode(res), 'BLOB_UPLOAD_UNKNOWN');
  });

  test('a completed upload leaves nothing under uploads/ (chunked, monolithic and through the ECR API)', async () => {
    const uploadsDir = join(d.dataDir, 'registry', 'uploads');
    const before = new Set(readdirSync(uploadsDir));
    const chunked = Buffer.from('chunked upload leaves no state');
    const start = await api('/v2/proto/app/blobs/uploads/', { method: 'POST' });
    const id = start.headers.get('docker-upload-uuid')!;
    assert.ok(readdirSync(uploadsDir).includes(id), 'the session exists while the upload is open');
    const done = await api(`${start.headers.get('location')!}?digest=${sha(chunked)}`, { method: 'PUT', body: chunked });
    assert.equal(done.status, 201);
    await pushBlob('proto/app', Buffer.from('monolithic upload leaves no state'));
    const { InitiateLayerUploadCommand, UploadLayerPartCommand, CompleteLayerUploadCommand } = await import('@aws-sdk/client-ecr');
    const layer = Buffer.from('API upload leaves no state');
    const { uploadId } = await ecr.send(new InitiateLayerUploadCommand({ repositoryName: 'proto/app' }));
    await ecr.send(new UploadLayerPartCommand({ repositoryName: 'proto/app', uploadId, partFirstByte: 0, partLastByte: layer.length - 1, layerPartBlob: layer }));
    await ecr.send(new CompleteLayerUploadCommand({ repositoryName: 'proto/app', uploadId, layerDigests: [sha(layer)] }));
    const left = readdirSync(uploadsDir).filter((x) => !before.has(x));
    assert.deepEqual(left, [], 'no upload directory (state.json) is left after commit');
  });

  test('a body shorter than Content-Length (client killed mid-upload) never becomes a blob; the upload can be resumed', async () => {
    const data = Buffer.alloc(64 * 1024, 'k');
    const start = await api('/v2/proto/app/blobs/uploads/', { method: 'POST' });
    const location = start.headers.get('location')!;
    const head = `PATCH ${location} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${auth}\r\nContent-Type: application/octet-stream\r\nContent-Length: ${data.length * 2}\r\n\r\n`;
    assert.equal(await rawRequest(head, data, { destroyAfterBody: true }), 'closed');
    // Completing with the digest of the full body fails; the partial bytes never show up as a blob.
    const status = await api(location);
    assert.equal(status.status, 204);
    const received = Number(status.headers.get('range')!.split('-')[1]) + 1;
    assert.ok(received <= data.length, `received ${received}`);
    const full = Buffer.concat([data, data]);
    const bad = await api(`${location}?digest=${sha(full)}`, { method: 'PUT' });
    assert.equal(bad.status, 400);
    assert.equal(await errorCode(bad), 'DIGEST_INVALID');
    assert.equal((await api(`/v2/proto/app/blobs/${sha(full)}`, { method: 'HEAD' })).status, 404);
  });

  test('a body longer than Content-Length is refused by the HTTP parser; nothing is stored', async () => {
    const data = Buffer.from('exactly these bytes plus more');
    const digest = sha(data.subarray(0, 10));
    const head = `POST /v2/proto/app/blobs/uploads/?digest=${sha(data)} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${auth}\r\nContent-Length: 10\r\n\r\n`;
    const line = await rawRequest(head, data);
    // The first 10 bytes are the whole request body and do not match the digest of all of them.
    assert.match(line, /^HTTP\/1\.1 400/);
    assert.equal((await api(`/v2/proto/app/blobs/${digest}`, { method: 'HEAD' })).status, 404);
  });

  test('cross-repository mount links an existing blob; an unknown one falls back to an upload', async () => {
    const digest = await pushBlob('proto/app', Buffer.from('mount me'));
    const res = await api(`/v2/proto/other/blobs/uploads/?mount=${digest}&from=proto/app`, { method: 'POST' });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('docker-content-digest'), digest);
    assert.equal((await api(`/v2/proto/other/blobs/${digest}`, { method: 'HEAD' })).status, 200);
    const fallback = await api(`/v2/proto/other/blobs/uploads/?mount=sha256:${'1'.repeat(64)}&from=proto/app`, { method: 'POST' });
    assert.equal(fallback.status, 202);
  });

  test('DELETE of a blob unlinks it from the repository', async () => {
    const digest = await pushBlob('proto/other', Buffer.from('delete me'));
    assert.equal((await api(`/v2/proto/other/blobs/${digest}`, { method: 'DELETE' })).status, 202);
    assert.equal((await api(`/v2/proto/other/blobs/${digest}`, { method: 'HEAD' })).status, 404);
  });
});

describe('repositories', () => {
  test('unknown repository is NAME_UNKNOWN, for pulls and pushes', async () => {
    const res = await api('/v2/nope/tags/list');
    assert.equal(res.status, 404);
    assert.equal(await errorCode(res), 'NAME_UNKNOWN');
    const push = await api('/v2/nope/blobs/uploads/', { method: 'POST' });
    assert.equal(push.status, 404);
    assert.equal(await errorCode(push), 'NAME_UNKNOWN');
  });
});

describe('manifests', () => {
  test('by tag and by digest, with the stored media type and exact bytes', async () => {
    const { digest, manifest } = await pushImage('proto/app', 'v1', 'a');
    for (const ref of ['v1', digest]) {
      const res = await api(`/v2/proto/app/manifests/${ref}`, { headers: { accept: DOCKER_MANIFEST } });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), DOCKER_MANIFEST);
      assert.equal(res.headers.get('docker-content-digest'), digest);
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), manifest);
    }
    const head = await api(`/v2/proto/app/manifests/v1`, { method: 'HEAD' });
    assert.equal(head.headers.get('content-length'), String(manifest.length));
    const unknown = await api('/v2/proto/app/manifests/nosuchtag');
    assert.equal(unknown.status, 404);
    assert.equal(await errorCode(unknown), 'MANIFEST_UNKNOWN');
  });

  test('a manifest naming a missing blob is refused (MANIFEST_BLOB_UNKNOWN)', async () => {
    const config = Buffer.from('{"c":1}');
    await pushBlob('proto/app', config);
    const manifest = imageManifest(config, [Buffer.from('never uploaded')]);
    const res = await api('/v2/proto/app/manifests/broken', { method: 'PUT', body: manifest, headers: { 'content-type': DOCKER_MANIFEST } });
    assert.equal(res.status, 400);
    assert.equal(await errorCode(res), 'MANIFEST_BLOB_UNKNOWN');
  });

  test('PUT by digest must match the body; invalid JSON is MANIFEST_INVALID', async () => {
    const { manifest } = await pushImage('proto/app', 'bydigest', 'bydigest');
    const res = await api(`/v2/proto/app/manifests/${sha('x')}`, { method: 'PUT', body: manifest, headers: { 'content-type': DOCKER_MANIFEST } });
    assert.equal(res.status, 400);
    assert.equal(await errorCode(res), 'DIGEST_INVALID');
    const bad = await api('/v2/proto/app/manifests/bad', { method: 'PUT', body: 'not json', headers: { 'content-type': DOCKER_MANIFEST } });
    assert.equal(await errorCode(bad), 'MANIFEST_INVALID');
  });

  test('a too-large manifest is answered 400 and the connection closed while the client is still sending', async () => {
    const limit = 4 * 1024 * 1024;
    // Declared too large: refused before any byte of the body is read.
    const declared = await slowPut(`Content-Length: ${limit + 1}\r\n`, Buffer.alloc(64 * 1024, 'x'));
    assert.match(declared.status, /^HTTP\/1\.1 400/);
    assert.match(declared.response, /SIZE_INVALID/);
    assert.match(declared.response, /connection: close/i);
    assert.ok(declared.closedByServer, 'the server closed the connection');
    // Chunked, no length: refused once the limit is passed, without waiting for the rest.
    const chunk = Buffer.alloc(1024 * 1024, 'y');
    const body = Buffer.concat(Array.from({ length: 5 }, () => Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')])));
    const streamed = await slowPut('Transfer-Encoding: chunked\r\n', body);
    assert.match(streamed.status, /^HTTP\/1\.1 400/);
    assert.ok(streamed.closedByServer, 'the server closed the connection');
  });

  test('OCI index over two images; a missing child is refused', async () => {
    const a = await pushImage('proto/app', 'arch-amd64', 'amd64', OCI_MANIFEST);
    const b = await pushImage('proto/app', 'arch-arm64', 'arm64', OCI_MANIFEST);
    const index = (children: string[]) =>
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests: children.map((digest, i) => ({ mediaType: OCI_MANIFEST, digest, size: 100, platform: { architecture: i ? 'arm64' : 'amd64', os: 'linux' } })),
      });
    const ok = await api('/v2/proto/app/manifests/multi', { method: 'PUT', body: index([a.digest, b.digest]), headers: { 'content-type': OCI_INDEX } });
    assert.equal(ok.status, 201);
    const got = await api('/v2/proto/app/manifests/multi');
    assert.equal(got.headers.get('content-type'), OCI_INDEX);
    const missing = await api('/v2/proto/app/manifests/multi2', { method: 'PUT', body: index([a.digest, sha('nothing')]), headers: { 'content-type': OCI_INDEX } });
    assert.equal(missing.status, 400);
    assert.equal(await errorCode(missing), 'MANIFEST_BLOB_UNKNOWN');
  });

  test('DELETE by tag removes the tag; by digest removes the manifest', async () => {
    const { digest } = await pushImage('proto/app', 'doomed', 'doomed');
    assert.equal((await api('/v2/proto/app/manifests/doomed', { method: 'DELETE' })).status, 202);
    assert.equal((await api('/v2/proto/app/manifests/doomed')).status, 404);
    assert.equal((await api(`/v2/proto/app/manifests/${digest}`)).status, 200);
    assert.equal((await api(`/v2/proto/app/manifests/${digest}`, { method: 'DELETE' })).status, 202);
    assert.equal((await api(`/v2/proto/app/manifests/${digest}`)).status, 404);
  });

  test('referrers list manifests whose subject is the digest, filterable by artifactType', async () => {
    const subject = await pushImage('proto/app', 'signed', 'subject', OCI_MANIFEST);
    const sig = await pushImage('proto/app', 'sig', 'sig', OCI_MANIFEST, {
      artifactType: 'application/vnd.example.signature',
      subject: { mediaType: OCI_MANIFEST, digest: subject.digest, size: subject.manifest.length },
    });
    const res = await api(`/v2/proto/app/referrers/${subject.digest}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), OCI_INDEX);
    const body = (await res.json()) as { manifests: { digest: string; artifactType: string }[] };
    assert.deepEqual(body.manifests.map((m) => [m.digest, m.artifactType]), [[sig.digest, 'application/vnd.example.signature']]);
    const filtered = await api(`/v2/proto/app/referrers/${subject.digest}?artifactType=application/other`);
    assert.equal(filtered.headers.get('oci-filters-applied'), 'artifactType');
    assert.deepEqual(((await filtered.json()) as { manifests: unknown[] }).manifests, []);
  });
});

describe('listing', () => {
  test('tags list paginates with n/last and a Link header', async () => {
    await createRepo('proto/paged');
    for (const tag of ['t1', 't2', 't3', 't4', 't5']) await pushImage('proto/paged', tag, tag);
    const first = await api('/v2/proto/paged/tags/list?n=2');
    assert.deepEqual(((await first.json()) as { tags: string[] }).tags, ['t1', 't2']);
    const link = first.headers.get('link')!;
    assert.match(link, /rel="next"/);
    const next = await api(/<([^>]+)>/.exec(link)![1]!);
    assert.deepEqual(((await next.json()) as { tags: string[] }).tags, ['t3', 't4']);
    const all = await api('/v2/proto/paged/tags/list');
    assert.deepEqual(((await all.json()) as { name: string; tags: string[] }), { name: 'proto/paged', tags: ['t1', 't2', 't3', 't4', 't5'] });
    assert.equal(all.headers.get('link'), null);
  });

  test('catalog lists repositories with pagination', async () => {
    const first = await api('/v2/_catalog?n=1');
    const body = (await first.json()) as { repositories: string[] };
    assert.deepEqual(body.repositories, ['proto/app']);
    const rest = await api('/v2/_catalog?last=proto/app');
    assert.deepEqual(((await rest.json()) as { repositories: string[] }).repositories, ['proto/other', 'proto/paged']);
    const bad = await api('/v2/_catalog?n=abc');
    assert.equal(bad.status, 400);
    assert.equal(await errorCode(bad), 'PAGINATION_NUMBER_INVALID');
  });
});

describe('create on push and garbage collection', () => {
  test('with create-on-push a push creates the repository', async () => {
    const other = await startDockyard({ ecrCreateOnPush: true });
    try {
      const client = new ECRClient({ endpoint: other.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
      const token = await client.send(new GetAuthorizationTokenCommand({}));
      const res = await fetch(`${other.endpoint}/v2/fresh/repo/blobs/uploads/`, { method: 'POST', headers: { authorization: `Basic ${token.authorizationData![0]!.authorizationToken}` } });
      assert.equal(res.status, 202);
      const { DescribeRepositoriesCommand } = await import('@aws-sdk/client-ecr');
      const repos = await client.send(new DescribeRepositoriesCommand({ repositoryNames: ['fresh/repo'] }));
      assert.equal(repos.repositories![0]!.repositoryUri, `127.0.0.1:${other.port}/fresh/repo`);
      client.destroy();
    } finally {
      await other.stop();
    }
  });

  test('GC deletes unreferenced blobs past the grace period and keeps referenced and fresh ones', async () => {
    await createRepo('proto/gc');
    const kept = await pushImage('proto/gc', 'keep', 'keep');
    const orphan = await pushBlob('proto/gc', Buffer.from('orphan'));
    const fresh = await pushBlob('proto/gc', Buffer.from('fresh orphan'));
    const { createRegistry } = await import('../src/registry/index.js');
    const registry = await createRegistry({ dataDir: d.dataDir, store: d.app.store, clock: { now: () => Date.now() / 1000 } });
    // Age everything but `fresh` by collecting "an hour from now" with a grace of 30 minutes...
    const { utimes } = await import('node:fs/promises');
    const path = (dg: string) => join(d.dataDir, 'registry', 'blobs', 'sha256', dg.slice(7, 9), dg.slice(7));
    const old = new Date(Date.now() - 2 * 3600_000);
    for (const dg of [orphan, sha(kept.layer), sha(kept.config)]) await utimes(path(dg), old, old);
    const report = await registry.collector.collect({ graceMs: 3600_000 });
    assert.ok(report.deleted.includes(orphan));
    assert.ok(!report.deleted.includes(fresh));
    assert.ok(!report.deleted.includes(sha(kept.layer)));
    assert.equal((await api(`/v2/proto/gc/blobs/${orphan}`, { method: 'HEAD' })).status, 404);
    assert.equal((await api(`/v2/proto/gc/blobs/${sha(kept.layer)}`, { method: 'HEAD' })).status, 200);
    assert.equal((await api(`/v2/proto/gc/blobs/${fresh}`, { method: 'HEAD' })).status, 200);
  });

  test('abandoned uploads are swept after the TTL', async () => {
    const start = await api('/v2/proto/app/blobs/uploads/', { method: 'POST' });
    const location = start.headers.get('location')!;
    const { Uploads, FsBlobStore } = await import('../src/registry/index.js');
    const uploads = new Uploads(join(d.dataDir, 'registry', 'uploads'), new FsBlobStore(join(d.dataDir, 'registry')));
    assert.equal(await uploads.sweep(3600_000), 0);
    assert.ok((await uploads.sweep(3600_000, Date.now() + 2 * 3600_000)) >= 1);
    assert.equal((await api(location)).status, 404);
  });
});
