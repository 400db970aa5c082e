/**
 * The registry across a restart of the control plane: tokens stay valid (the HMAC secret is in
 * the data dir), pushed images stay pullable, and a chunked upload resumes: its running hash
 * is gone with the old process, so completion re-hashes the bytes on disk.
 */
import { CreateRepositoryCommand, ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { credentials, startDockyard } from './helpers/dockyard.js';

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

test('tokens, manifests and half-done uploads survive a restart', async () => {
  let d = await startDockyard();
  try {
    const ecr = new ECRClient({ endpoint: d.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
    await ecr.send(new CreateRepositoryCommand({ repositoryName: 'persist/app' }));
    const token = await ecr.send(new GetAuthorizationTokenCommand({}));
    ecr.destroy();
    const authorization = `Basic ${token.authorizationData![0]!.authorizationToken}`;
    const call = (path: string, init: RequestInit = {}) => fetch(`${d.endpoint}${path}`, { ...init, headers: { authorization, ...(init.headers ?? {}) } });

    const config = Buffer.from('{"os":"linux"}');
    const configDigest = sha(config);
    const mono = await call(`/v2/persist/app/blobs/uploads/?digest=${configDigest}`, { method: 'POST', body: new Uint8Array(config) });
    assert.equal(mono.status, 201);
    const layer = Buffer.alloc(200_000, 3);
    const start = await call('/v2/persist/app/blobs/uploads/', { method: 'POST' });
    const location = start.headers.get('location')!;
    assert.equal((await call(location, { method: 'PATCH', body: new Uint8Array(layer.subarray(0, 120_000)) })).status, 202);

    d = await d.restart();

    assert.equal((await call('/v2/')).status, 200, 'the token minted before the restart still works');
    const status = await call(location);
    assert.equal(status.headers.get('range'), '0-119999');
    assert.equal((await call(location, { method: 'PATCH', body: new Uint8Array(layer.subarray(120_000)), headers: { 'content-range': '120000-199999' } })).status, 202);
    const done = await call(`${location}?digest=${sha(layer)}`, { method: 'PUT' });
    assert.equal(done.status, 201, await done.text());
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha(layer), size: layer.length }],
    });
    const put = await call('/v2/persist/app/manifests/v1', { method: 'PUT', body: manifest, headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' } });
    assert.equal(put.status, 201);

    d = await d.restart();
    const got = await call('/v2/persist/app/manifests/v1');
    assert.equal(await got.text(), manifest);
    const blob = await call(`/v2/persist/app/blobs/${sha(layer)}`);
    assert.equal(sha(Buffer.from(await blob.arrayBuffer())), sha(layer));
  } finally {
    await d.stop();
  }
});
