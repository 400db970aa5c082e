/**
 * Lifecycle policies are enforced by the scheduled maintenance loop that app.ts starts (here
 * every second), without any preview or API call.
 */
import { CreateRepositoryCommand, ECRClient, GetAuthorizationTokenCommand, ListImagesCommand, PutImageCommand, PutLifecyclePolicyCommand } from '@aws-sdk/client-ecr';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { credentials, startDockyard } from './helpers/dockyard.js';

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

test('the scheduled loop expires images by the repository lifecycle policy', async () => {
  const d = await startDockyard({ ecrLifecycleIntervalSeconds: 1 });
  const ecr = new ECRClient({ endpoint: d.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
  try {
    await ecr.send(new CreateRepositoryCommand({ repositoryName: 'sched' }));
    const token = (await ecr.send(new GetAuthorizationTokenCommand({}))).authorizationData![0]!.authorizationToken!;
    for (const n of [1, 2, 3]) {
      const config = Buffer.from(JSON.stringify({ n }));
      const res = await fetch(`${d.endpoint}/v2/sched/blobs/uploads/?digest=${sha(config)}`, { method: 'POST', body: new Uint8Array(config), headers: { authorization: `Basic ${token}` } });
      assert.equal(res.status, 201);
      const manifest = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.length }, layers: [] });
      await ecr.send(new PutImageCommand({ repositoryName: 'sched', imageManifest: manifest, imageTag: `v${n}` }));
      // Distinct push times so "newest" is well defined.
      await new Promise((r) => setTimeout(r, 20));
    }
    const policy = { rules: [{ rulePriority: 1, description: 'keep one', selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 1 }, action: { type: 'expire' } }] };
    await ecr.send(new PutLifecyclePolicyCommand({ repositoryName: 'sched', lifecyclePolicyText: JSON.stringify(policy) }));
    // Poll (bounded) until the loop has run.
    let left: string[] = [];
    for (let i = 0; i < 100; i++) {
      left = (await ecr.send(new ListImagesCommand({ repositoryName: 'sched' }))).imageIds!.map((x) => x.imageTag!);
      if (left.length === 1) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual(left, ['v3']);
  } finally {
    ecr.destroy();
    await d.stop();
  }
});
