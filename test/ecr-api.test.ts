/**
 * The ECR API through the AWS SDK v3 (and a few calls through both AWS CLIs): repositories,
 * authorization tokens, images via PutImage / the layer upload API, tag mutability, policies,
 * lifecycle policies (preview and enforcement), resource tags, and AWS's error shapes.
 */
import {
  BatchCheckLayerAvailabilityCommand,
  BatchDeleteImageCommand,
  BatchGetImageCommand,
  CompleteLayerUploadCommand,
  CreateRepositoryCommand,
  DeleteLifecyclePolicyCommand,
  DeleteRepositoryCommand,
  DeleteRepositoryPolicyCommand,
  DescribeImagesCommand,
  DescribeRegistryCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  GetAuthorizationTokenCommand,
  GetDownloadUrlForLayerCommand,
  GetLifecyclePolicyCommand,
  GetLifecyclePolicyPreviewCommand,
  GetRepositoryPolicyCommand,
  InitiateLayerUploadCommand,
  ListImagesCommand,
  ListTagsForResourceCommand,
  PutImageCommand,
  PutImageScanningConfigurationCommand,
  PutImageTagMutabilityCommand,
  PutLifecyclePolicyCommand,
  SetRepositoryPolicyCommand,
  StartLifecyclePolicyPreviewCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UploadLayerPartCommand,
} from '@aws-sdk/client-ecr';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { credentials, startDockyard, type TestDockyard } from './helpers/dockyard.js';

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';

let d: TestDockyard;
let ecr: ECRClient;

async function rejects(p: Promise<unknown>, name: string, message?: RegExp) {
  await assert.rejects(p, (e: Error & { $metadata?: { httpStatusCode?: number } }) => {
    assert.equal(e.name, name, e.message);
    assert.equal(e.$metadata?.httpStatusCode, 400);
    if (message) assert.match(e.message, message);
    return true;
  });
}

/** Uploads a blob through the ECR layer API in parts. */
async function uploadLayer(repositoryName: string, data: Buffer, partSize = 1000): Promise<string> {
  const { uploadId } = await ecr.send(new InitiateLayerUploadCommand({ repositoryName }));
  for (let first = 0; first < data.length; first += partSize) {
    const part = data.subarray(first, first + partSize);
    const res = await ecr.send(new UploadLayerPartCommand({ repositoryName, uploadId, partFirstByte: first, partLastByte: first + part.length - 1, layerPartBlob: part }));
    assert.equal(res.lastByteReceived, first + part.length - 1);
  }
  const done = await ecr.send(new CompleteLayerUploadCommand({ repositoryName, uploadId, layerDigests: [sha(data)] }));
  return done.layerDigest!;
}

/** An image whose layers are uploaded through the API; returns its manifest text and digest. */
async function makeImage(repositoryName: string, seed: string) {
  const config = Buffer.from(JSON.stringify({ os: 'linux', architecture: 'amd64', seed }));
  const layer = Buffer.from(`layer ${seed} `.repeat(300));
  await uploadLayer(repositoryName, config);
  await uploadLayer(repositoryName, layer);
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: DOCKER_MANIFEST,
    config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: sha(config), size: config.length },
    layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', digest: sha(layer), size: layer.length }],
  });
  return { manifest, digest: sha(manifest), layerSize: layer.length };
}

async function put(repositoryName: string, seed: string, imageTag?: string) {
  const image = await makeImage(repositoryName, seed);
  await ecr.send(new PutImageCommand({ repositoryName, imageManifest: image.manifest, imageTag }));
  return image;
}

before(async () => {
  d = await startDockyard();
  ecr = new ECRClient({ endpoint: d.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
});

after(async () => {
  ecr.destroy();
  await d.stop();
});

describe('repositories', () => {
  test('create returns the ECR shape; describe, duplicates, bad names', async () => {
    const res = await ecr.send(new CreateRepositoryCommand({
      repositoryName: 'api/web',
      imageTagMutability: 'IMMUTABLE',
      imageScanningConfiguration: { scanOnPush: true },
      tags: [{ Key: 'team', Value: 'web' }],
    }));
    const r = res.repository!;
    assert.equal(r.repositoryArn, 'arn:aws:ecr:us-east-1:000000000000:repository/api/web');
    assert.equal(r.registryId, '000000000000');
    assert.equal(r.repositoryUri, `127.0.0.1:${d.port}/api/web`);
    assert.equal(r.imageTagMutability, 'IMMUTABLE');
    assert.deepEqual(r.imageScanningConfiguration, { scanOnPush: true });
    assert.deepEqual(r.encryptionConfiguration, { encryptionType: 'AES256' });
    assert.ok(r.createdAt instanceof Date);
    await rejects(ecr.send(new CreateRepositoryCommand({ repositoryName: 'api/web' })), 'RepositoryAlreadyExistsException', /already exists/);
    await rejects(ecr.send(new CreateRepositoryCommand({ repositoryName: 'Bad_Name' })), 'InvalidParameterException', /repositoryName/);
    await rejects(ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['api/none'] })), 'RepositoryNotFoundException', /api\/none/);
    const tags = await ecr.send(new ListTagsForResourceCommand({ resourceArn: r.repositoryArn }));
    assert.deepEqual(tags.tags, [{ Key: 'team', Value: 'web' }]);
  });

  test('describe paginates by name', async () => {
    for (const n of ['page/a', 'page/b', 'page/c']) await ecr.send(new CreateRepositoryCommand({ repositoryName: n }));
    const first = await ecr.send(new DescribeRepositoriesCommand({ maxResults: 2 }));
    assert.equal(first.repositories!.length, 2);
    assert.ok(first.nextToken);
    const rest = await ecr.send(new DescribeRepositoriesCommand({ nextToken: first.nextToken }));
    const names = [...first.repositories!, ...rest.repositories!].map((r) => r.repositoryName);
    assert.deepEqual(names, [...names].sort());
    assert.ok(['page/a', 'page/b', 'page/c', 'api/web'].every((n) => names.includes(n)));
  });

  test('tag mutability, scanning configuration, resource tags', async () => {
    await ecr.send(new CreateRepositoryCommand({ repositoryName: 'settings' }));
    const m = await ecr.send(new PutImageTagMutabilityCommand({ repositoryName: 'settings', imageTagMutability: 'IMMUTABLE' }));
    assert.equal(m.imageTagMutability, 'IMMUTABLE');
    const s = await ecr.send(new PutImageScanningConfigurationCommand({ repositoryName: 'settings', imageScanningConfiguration: { scanOnPush: true } }));
    assert.deepEqual(s.imageScanningConfiguration, { scanOnPush: true });
    const arn = 'arn:aws:ecr:us-east-1:000000000000:repository/settings';
    await ecr.send(new TagResourceCommand({ resourceArn: arn, tags: [{ Key: 'a', Value: '1' }, { Key: 'b', Value: '2' }] }));
    await ecr.send(new UntagResourceCommand({ resourceArn: arn, tagKeys: ['a'] }));
    assert.deepEqual((await ecr.send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags, [{ Key: 'b', Value: '2' }]);
    await rejects(ecr.send(new TagResourceCommand({ resourceArn: arn, tags: [{ Key: 'aws:x', Value: '1' }] })), 'InvalidTagParameterException');
    await rejects(ecr.send(new ListTagsForResourceCommand({ resourceArn: 'arn:aws:ecr:us-east-1:000000000000:repository/none' })), 'RepositoryNotFoundException');
    // Exclusion filters are not implemented: refused, not stored and treated as MUTABLE.
    await rejects(ecr.send(new PutImageTagMutabilityCommand({ repositoryName: 'settings', imageTagMutability: 'MUTABLE_WITH_EXCLUSION' })), 'InvalidParameterException');
    await rejects(ecr.send(new CreateRepositoryCommand({ repositoryName: 'excluding', imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION' })), 'InvalidParameterException');
    await rejects(ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['excluding'] })), 'RepositoryNotFoundException');
    const described = await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['settings'] }));
    assert.equal(described.repositories![0]!.imageTagMutability, 'IMMUTABLE');
  });

  test('repository policy set/get/delete', async () => {
    await ecr.send(new CreateRepositoryCommand({ repositoryName: 'policy' }));
    await rejects(ecr.send(new GetRepositoryPolicyCommand({ repositoryName: 'policy' })), 'RepositoryPolicyNotFoundException');
    const policyText = JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'pull', Effect: 'Allow', Principal: '*', Action: ['ecr:BatchGetImage'] }] });
    await rejects(ecr.send(new SetRepositoryPolicyCommand({ repositoryName: 'policy', policyText: 'nope' })), 'InvalidParameterException');
    await ecr.send(new SetRepositoryPolicyCommand({ repositoryName: 'policy', policyText }));
    assert.equal((await ecr.send(new GetRepositoryPolicyCommand({ repositoryName: 'policy' }))).policyText, policyText);
    assert.equal((await ecr.send(new DeleteRepositoryPolicyCommand({ repositoryName: 'policy' }))).policyText, policyText);
    await rejects(ecr.send(new DeleteRepositoryPolicyCommand({ repositoryName: 'policy' })), 'RepositoryPolicyNotFoundException');
  });

  test('delete refuses a repository with images unless forced', async () => {
    await ecr.send(new CreateRepositoryCommand({ repositoryName: 'del' }));
    await put('del', 'x', 'latest');
    await rejects(ecr.send(new DeleteRepositoryCommand({ repositoryName: 'del' })), 'RepositoryNotEmptyException');
    const res = await ecr.send(new DeleteRepositoryCommand({ repositoryName: 'del', force: true }));
    assert.equal(res.repository!.repositoryName, 'del');
    await rejects(ecr.send(new DescribeImagesCommand({ repositoryName: 'del' })), 'RepositoryNotFoundException');
  });

  test('DescribeRegistry and a foreign registryId', async () => {
    const res = await ecr.send(new DescribeRegistryCommand({}));
    assert.equal(res.registryId, '000000000000');
    await rejects(ecr.send(new DescribeRepositoriesCommand({ registryId: '111111111111' })), 'InvalidParameterException');
  });
  test('the registry host is configurable (repositoryUri, proxyEndpoint)', async () => {
    const other = await startDockyard({ registryHost: 'registry.example.test:5000' });
    const client = new ECRClient({ endpoint: other.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
    try {
      const r = await client.send(new CreateRepositoryCommand({ repositoryName: 'hosted' }));
      assert.equal(r.repository!.repositoryUri, 'registry.example.test:5000/hosted');
      const t = await client.send(new GetAuthorizationTokenCommand({}));
      assert.equal(t.authorizationData![0]!.proxyEndpoint, 'http://registry.example.test:5000');
    } finally {
      client.destroy();
      await other.stop();
    }
  });
});

describe('authorization token', () => {
  test('is base64 AWS:<token>, expires in 12 h, proxyEndpoint is the registry', async () => {
    const res = await ecr.send(new GetAuthorizationTokenCommand({}));
    const data = res.authorizationData![0]!;
    const [user, password] = Buffer.from(data.authorizationToken!, 'base64').toString().split(/:(.*)/s);
    assert.equal(user, 'AWS');
    assert.ok(password!.length > 20);
    assert.equal(data.proxyEndpoint, `http://127.0.0.1:${d.port}`);
    const hours = (data.expiresAt!.getTime() - Date.now()) / 3600_000;
    assert.ok(hours > 11.9 && hours <= 12.01, `${hours}`);
    const ok = await fetch(`${d.endpoint}/v2/`, { headers: { authorization: `Basic ${data.authorizationToken}` } });
    assert.equal(ok.status, 200);
  });

  test('both AWS CLIs print a password the registry accepts', async () => {
    // The server runs in this process: the CLI must run asynchronously.
    for (const cli of ['/usr/bin/aws', 'aws']) {
      const { stdout } = await promisify(execFile)(cli, ['--endpoint-url', d.endpoint, 'ecr', 'get-login-password'], { env: d.cliEnv, encoding: 'utf8', timeout: 60_000 });
      const password = stdout.trim();
      const res = await fetch(`${d.endpoint}/v2/`, { headers: { authorization: `Basic ${Buffer.from(`AWS:${password}`).toString('base64')}` } });
      assert.equal(res.status, 200, cli);
    }
  });
});

describe('images', () => {
  before(async () => {
    await ecr.send(new CreateRepositoryCommand({ repositoryName: 'img' }));
  });

  test('layer upload API: parts in order, wrong part offsets, digest checks, availability', async () => {
    const data = Buffer.from('abc'.repeat(2000));
    const digest = await uploadLayer('img', data, 1024);
    const avail = await ecr.send(new BatchCheckLayerAvailabilityCommand({ repositoryName: 'img', layerDigests: [digest, sha('missing'), 'bogus'] }));
    assert.deepEqual(avail.layers!.map((l) => [l.layerDigest, l.layerAvailability, l.layerSize]), [
      [digest, 'AVAILABLE', data.length],
      [sha('missing'), 'UNAVAILABLE', undefined],
    ]);
    assert.equal(avail.failures![0]!.failureCode, 'InvalidLayerDigest');
    const { uploadId } = await ecr.send(new InitiateLayerUploadCommand({ repositoryName: 'img' }));
    await ecr.send(new UploadLayerPartCommand({ repositoryName: 'img', uploadId, partFirstByte: 0, partLastByte: 2, layerPartBlob: Buffer.from('xyz') }));
    await rejects(ecr.send(new UploadLayerPartCommand({ repositoryName: 'img', uploadId, partFirstByte: 10, partLastByte: 12, layerPartBlob: Buffer.from('xyz') })), 'InvalidLayerPartException');
    await rejects(ecr.send(new CompleteLayerUploadCommand({ repositoryName: 'img', uploadId, layerDigests: [sha('not xyz')] })), 'InvalidLayerException');
    await rejects(ecr.send(new CompleteLayerUploadCommand({ repositoryName: 'img', uploadId, layerDigests: [sha('xyz')] })), 'UploadNotFoundException');
    const url = await ecr.send(new GetDownloadUrlForLayerCommand({ repositoryName: 'img', layerDigest: digest }));
    const download = await fetch(url.downloadUrl!);
    assert.equal(download.status, 200);
    assert.equal(sha(Buffer.from(await download.arrayBuffer())), digest);
    await rejects(ecr.send(new GetDownloadUrlForLayerCommand({ repositoryName: 'img', layerDigest: sha('none') })), 'LayersNotFoundException');
  });

  test('layer parts larger than the server writes at once (1 MiB slices, off-loop payload hash) arrive whole', async () => {
    // 2.5 MiB of varied bytes in parts of 1.5 MiB: each part is several slices, the last a partial one.
    const data = Buffer.alloc(5 * 512 * 1024);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7919) % 251;
    const digest = await uploadLayer('img', data, 3 * 512 * 1024);
    assert.equal(digest, sha(data));
    const url = await ecr.send(new GetDownloadUrlForLayerCommand({ repositoryName: 'img', layerDigest: digest }));
    const download = Buffer.from(await (await fetch(url.downloadUrl!)).arrayBuffer());
    assert.equal(download.length, data.length);
    assert.ok(download.equals(data));
  });

  test('PutImage, ListImages, DescribeImages, BatchGetImage', async () => {
    const image = await put('img', 'one', 'v1');
    await rejects(ecr.send(new PutImageCommand({ repositoryName: 'img', imageManifest: image.manifest, imageTag: 'v1' })), 'ImageAlreadyExistsException');
    await ecr.send(new PutImageCommand({ repositoryName: 'img', imageManifest: image.manifest, imageTag: 'v1-alias' }));
    const list = await ecr.send(new ListImagesCommand({ repositoryName: 'img' }));
    assert.deepEqual(list.imageIds!.map((i) => i.imageTag).sort(), ['v1', 'v1-alias']);
    const described = await ecr.send(new DescribeImagesCommand({ repositoryName: 'img', imageIds: [{ imageTag: 'v1' }] }));
    const detail = described.imageDetails![0]!;
    assert.equal(detail.imageDigest, image.digest);
    assert.deepEqual(detail.imageTags!.sort(), ['v1', 'v1-alias']);
    assert.equal(detail.imageSizeInBytes, image.layerSize);
    assert.equal(detail.imageManifestMediaType, DOCKER_MANIFEST);
    assert.equal(detail.artifactMediaType, 'application/vnd.docker.container.image.v1+json');
    assert.ok(detail.imagePushedAt instanceof Date);
    await rejects(ecr.send(new DescribeImagesCommand({ repositoryName: 'img', imageIds: [{ imageTag: 'nope' }] })), 'ImageNotFoundException');
    const got = await ecr.send(new BatchGetImageCommand({ repositoryName: 'img', imageIds: [{ imageTag: 'v1' }, { imageTag: 'missing' }] }));
    assert.equal(got.images![0]!.imageManifest, image.manifest);
    assert.equal(got.images![0]!.imageId!.imageDigest, image.digest);
    assert.equal(got.failures![0]!.failureCode, 'ImageNotFound');
  });

  test('ListImages and DescribeImages paginate with maxResults/nextToken', async () => {
    await ecr.send(new CreateRepositoryCommand({ repositoryName: 'paged-images' }));
    for (const seed of ['p1', 'p2', 'p3']) await put('paged-images', seed, seed);
    const ids: string[] = [];
    let nextToken: string | undefined;
    for (let i = 0; i < 10; i++) {
      const page = await ecr.send(new ListImagesCommand({ repositoryName: 'paged-images', maxResults: 1, nextToken }));
      ids.push(...page.imageIds!.map((x) => x.imageTag!));
      nextToken = page.nextToken;
      if (!nextToken) break;
    }
    assert.deepEqual(ids.sort(), ['p1', 'p2', 'p3']);
    const first = await ecr.send(new DescribeImagesCommand({ repositoryName: 'paged-images', maxResults: 2 }));
    const rest = await ecr.send(new DescribeImagesCommand({ repositoryName: 'paged-images', nextToken: first.nextToken }));
    assert.equal(first.imageDetails!.length + rest.imageDetails!.length, 3);
    assert.equal(rest.nextToken, undefined);
  });

  test('PutImage refuses missing layers and a mismatched digest', async () => {
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: DOCKER_MANIFEST,
      config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: sha('nope'), size: 4 },
      layers: [],
    });
    await rejects(ecr.send(new PutImageCommand({ repositoryName: 'img', imageManifest: manifest, imageTag: 'broken' })), 'LayersNotFoundException');
    const image = await makeImage('img', 'digestcheck');
    await rejects(ecr.send(new PutImageCommand({ repositoryName: 'img', imageManifest: image.manifest, imageDigest: sha('other') })), 'ImageDigestDoesNotMatchException');
  });

  test('IMMUTABLE: moving a tag fails with ImageTagAlreadyExistsException', async () => {
    await ecr.send(new CreateRepositoryCommand({ repositoryName: 'frozen', imageTagMutability: 'IMMUTABLE' }));
    await put('frozen', 'first', 'release');
    const second = await makeImage('frozen', 'second');
    await rejects(ecr.send(new PutImageCommand({ repositoryName: 'frozen', imageManifest: second.manifest, imageTag: 'release' })), 'ImageTagAlreadyExistsException', /cannot be overwritten because the repository is immutable/);
    // A mutable repository moves the tag.
    await put('img', 'mover-1', 'moving');
    const moved = await put('img', 'mover-2', 'moving');
    const res = await ecr.send(new DescribeImagesCommand({ repositoryName: 'img', imageIds: [{ imageTag: 'moving' }] }));
    assert.equal(res.imageDetails![0]!.imageDigest, moved.digest);
  });

  test('BatchDeleteImage by tag (last tag deletes the image) and by digest; tagStatus filters', async () => {
    await ecr.send(new CreateRepositoryCommand({ repositoryName: 'bdel' }));
    const a = await put('bdel', 'a', 'a1');
    await ecr.send(new PutImageCommand({ repositoryName: 'bdel', imageManifest: a.manifest, imageTag: 'a2' }));
    const b = await put('bdel', 'b', 'b1');
    const c = await put('bdel', 'c');
    const untagged = await ecr.send(new ListImagesCommand({ repositoryName: 'bdel', filter: { tagStatus: 'UNTAGGED' } }));
    assert.deepEqual(untagged.imageIds, [{ imageDigest: c.digest }]);
    const r1 = await ecr.send(new BatchDeleteImageCommand({ repositoryName: 'bdel', imageIds: [{ imageTag: 'a1' }, { imageTag: 'zzz' }] }));
    assert.deepEqual(r1.imageIds, [{ imageDigest: a.digest, imageTag: 'a1' }]);
    assert.equal(r1.failures![0]!.failureCode, 'ImageNotFound');
    assert.equal((await ecr.send(new DescribeImagesCommand({ repositoryName: 'bdel', imageIds: [{ imageDigest: a.digest }] }))).imageDetails![0]!.imageTags![0], 'a2');
    await ecr.send(new BatchDeleteImageCommand({ repositoryName: 'bdel', imageIds: [{ imageTag: 'a2' }] }));
    await rejects(ecr.send(new DescribeImagesCommand({ repositoryName: 'bdel', imageIds: [{ imageDigest: a.digest }] })), 'ImageNotFoundException');
    const r2 = await ecr.send(new BatchDeleteImageCommand({ repositoryName: 'bdel', imageIds: [{ imageDigest: b.digest, imageTag: 'wrong' }, { imageDigest: b.digest }] }));
    assert.equal(r2.failures![0]!.failureCode, 'ImageTagDoesNotMatchDigest');
    assert.deepEqual(r2.imageIds, [{ imageDigest: b.digest, imageTag: 'b1' }]);
    const left = await ecr.send(new ListImagesCommand({ repositoryName: 'bdel' }));
    assert.deepEqual(left.imageIds, [{ imageDigest: c.digest }]);
  });
});

describe('lifecycle policies', () => {
  const policy = (rules: unknown[]) => JSON.stringify({ rules });

  test('validation as ECR does it', async () => {
    await ecr.send(new CreateRepositoryCommand({ repositoryName: 'lc-valid' }));
    const bad = [
      'not json',
      policy([]),
      policy([{ rulePriority: 1, selection: { tagStatus: 'tagged', countType: 'imageCountMoreThan', countNumber: 1 }, action: { type: 'expire' } }]),
      policy([{ rulePriority: 1, selection: { tagStatus: 'any', countType: 'sinceImagePushed', countNumber: 1 }, action: { type: 'expire' } }]),
      policy([
        { rulePriority: 1, selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 1 }, action: { type: 'expire' } },
        { rulePriority: 2, selection: { tagStatus: 'untagged', countType: 'imageCountMoreThan', countNumber: 1 }, action: { type: 'expire' } },
      ]),
    ];
    for (const text of bad) {
      // The model wants at least 100 characters: pad with JSON whitespace.
      await rejects(ecr.send(new PutLifecyclePolicyCommand({ repositoryName: 'lc-valid', lifecyclePolicyText: text.padEnd(120, ' ') })), 'InvalidParameterException', /Lifecycle policy validation failure/);
    }
    await rejects(ecr.send(new GetLifecyclePolicyCommand({ repositoryName: 'lc-valid' })), 'LifecyclePolicyNotFoundException');
    await rejects(ecr.send(new GetLifecyclePolicyPreviewCommand({ repositoryName: 'lc-valid' })), 'LifecyclePolicyPreviewNotFoundException');
  });

  test('preview and enforcement: keep the newest tagged prod images, expire untagged', async () => {
    await ecr.send(new CreateRepositoryCommand({ repositoryName: 'lc' }));
    const prod1 = await put('lc', 'p1', 'prod-1');
    const prod2 = await put('lc', 'p2', 'prod-2');
    const prod3 = await put('lc', 'p3', 'prod-3');
    const dev = await put('lc', 'd1', 'dev-1');
    const loose = await put('lc', 'u1');
    const text = policy([
      { rulePriority: 1, description: 'keep 2 prod', selection: { tagStatus: 'tagged', tagPrefixList: ['prod'], countType: 'imageCountMoreThan', countNumber: 2 }, action: { type: 'expire' } },
      { rulePriority: 2, selection: { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 1 }, action: { type: 'expire' } },
      { rulePriority: 3, selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 1 }, action: { type: 'expire' } },
    ]);
    const put1 = await ecr.send(new PutLifecyclePolicyCommand({ repositoryName: 'lc', lifecyclePolicyText: text }));
    assert.equal(put1.lifecyclePolicyText, text);
    const started = await ecr.send(new StartLifecyclePolicyPreviewCommand({ repositoryName: 'lc' }));
    assert.equal(started.status, 'IN_PROGRESS');
    const preview = await ecr.send(new GetLifecyclePolicyPreviewCommand({ repositoryName: 'lc' }));
    assert.equal(preview.status, 'COMPLETE');
    const expiring = new Map(preview.previewResults!.map((r) => [r.imageDigest, r.appliedRulePriority]));
    // prod-1 is the oldest of three prod images (rule 1); the untagged image is new so rule 2
    // keeps it, and it is claimed by rule 2 so rule 3 cannot touch it; dev-1 is alone under rule 3.
    assert.deepEqual([...expiring.entries()], [[prod1.digest, 1]]);
    assert.equal(preview.summary!.expiringImageTotalCount, 1);
    assert.deepEqual(preview.previewResults![0]!.action, { type: 'EXPIRE' });
    // Enforce through the same code path the scheduled controller runs.
    const { createRegistry } = await import('../src/registry/index.js');
    const { createEcrDomain } = await import('../src/services/ecr/index.js');
    const registry = await createRegistry({ dataDir: d.dataDir, store: d.app.store, clock: { now: () => Date.now() / 1000 } });
    const domain = createEcrDomain({ store: d.app.store, clock: { now: () => Date.now() / 1000 }, registry, registryHost: () => 'x' });
    assert.equal(await domain.lifecycle.applyAll(), 1);
    const left = await ecr.send(new ListImagesCommand({ repositoryName: 'lc' }));
    const digests = new Set(left.imageIds!.map((i) => i.imageDigest));
    assert.ok(!digests.has(prod1.digest));
    for (const kept of [prod2, prod3, dev, loose]) assert.ok(digests.has(kept.digest));
    const got = await ecr.send(new GetLifecyclePolicyCommand({ repositoryName: 'lc' }));
    assert.ok(got.lastEvaluatedAt instanceof Date);
    await ecr.send(new DeleteLifecyclePolicyCommand({ repositoryName: 'lc' }));
    await rejects(ecr.send(new GetLifecyclePolicyCommand({ repositoryName: 'lc' })), 'LifecyclePolicyNotFoundException');
  });
});
