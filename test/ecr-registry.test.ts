/**
 * Registry-wide ECR operations and the details a third-party ECR suite checks, through the
 * SDK v3 and both AWS CLIs: registry policy, replication configuration (DescribeRegistry) and
 * replication of pushed images to another region, registry scanning configuration and
 * BatchGetRepositoryScanningConfiguration, the AWS managed KMS key, policy documents,
 * lastEvaluatedAt, PutImage's media type, ECR's wording of validation errors, and ECS's
 * answer to empty describe lists.
 */
import {
  BatchGetImageCommand,
  BatchGetRepositoryScanningConfigurationCommand,
  CompleteLayerUploadCommand,
  CreateRepositoryCommand,
  DeleteLifecyclePolicyCommand,
  DeleteRegistryPolicyCommand,
  DescribeImagesCommand,
  DescribeRegistryCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  GetDownloadUrlForLayerCommand,
  GetLifecyclePolicyCommand,
  GetRegistryPolicyCommand,
  GetRegistryScanningConfigurationCommand,
  InitiateLayerUploadCommand,
  PutImageCommand,
  PutLifecyclePolicyCommand,
  PutRegistryPolicyCommand,
  PutRegistryScanningConfigurationCommand,
  PutReplicationConfigurationCommand,
  SetRepositoryPolicyCommand,
  UploadLayerPartCommand,
} from '@aws-sdk/client-ecr';
import { DescribeContainerInstancesCommand, DescribeTasksCommand } from '@aws-sdk/client-ecs';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { rejectsWith } from './fixtures/aws-errors.js';
import { credentials, startDockyard, type TestDockyard } from './helpers/dockyard.js';

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const ACCOUNT = '000000000000';
const CLIS = ['aws', '/usr/bin/aws'];

let d: TestDockyard;
let east: ECRClient;
let west: ECRClient;

const policy = (statement: Record<string, unknown>) => JSON.stringify({ Version: '2012-10-17', Statement: [statement] });
const allowPull = { Sid: 'pull', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: ['ecr:BatchGetImage'] };

function cli(bin: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(bin, ['--endpoint-url', d.endpoint, ...args], { env: d.cliEnv, timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function uploadLayer(client: ECRClient, repositoryName: string, data: Buffer): Promise<void> {
  const { uploadId } = await client.send(new InitiateLayerUploadCommand({ repositoryName }));
  await client.send(new UploadLayerPartCommand({ repositoryName, uploadId, partFirstByte: 0, partLastByte: data.length - 1, layerPartBlob: data }));
  await client.send(new CompleteLayerUploadCommand({ repositoryName, uploadId, layerDigests: [sha(data)] }));
}

/** Uploads a config and a layer and returns the manifest naming them (not yet put). */
async function imageManifest(client: ECRClient, repositoryName: string, seed: string, withMediaType = true) {
  const config = Buffer.from(JSON.stringify({ os: 'linux', architecture: 'amd64', seed }));
  const layer = Buffer.from(`layer ${seed} `.repeat(100));
  await uploadLayer(client, repositoryName, config);
  await uploadLayer(client, repositoryName, layer);
  const manifest = JSON.stringify({
    schemaVersion: 2,
    ...(withMediaType ? { mediaType: DOCKER_MANIFEST } : {}),
    config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: sha(config), size: config.length },
    layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', digest: sha(layer), size: layer.length }],
  });
  return { manifest, digest: sha(manifest), layerDigest: sha(layer) };
}

/** Polls `check` every 50 ms for at most 10 s. */
async function eventually<T>(check: () => Promise<T | undefined>, what: string): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

before(async () => {
  d = await startDockyard();
  east = new ECRClient({ endpoint: d.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
  west = new ECRClient({ endpoint: d.endpoint, region: 'us-west-2', credentials, maxAttempts: 1 });
});

after(async () => {
  east.destroy();
  west.destroy();
  await d.stop();
});

describe('registry policy', () => {
  test('put, get and delete; then RegistryPolicyNotFoundException', async () => {
    await rejectsWith(east.send(new GetRegistryPolicyCommand({})), 'RegistryPolicyNotFoundException', new RegExp(`registry with id '${ACCOUNT}'`));
    const text = policy({ ...allowPull, Action: ['ecr:CreateRepository', 'ecr:ReplicateImage'], Resource: `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/*` });
    const put = await east.send(new PutRegistryPolicyCommand({ policyText: text }));
    assert.deepEqual([put.registryId, put.policyText], [ACCOUNT, text]);
    assert.equal((await east.send(new GetRegistryPolicyCommand({}))).policyText, text);
    // Per region, as ECR keeps it.
    await rejectsWith(west.send(new GetRegistryPolicyCommand({})), 'RegistryPolicyNotFoundException');
    const del = await east.send(new DeleteRegistryPolicyCommand({}));
    assert.equal(del.policyText, text);
    await rejectsWith(east.send(new DeleteRegistryPolicyCommand({})), 'RegistryPolicyNotFoundException');
  });

  test('a document that is not a valid policy is refused, for the registry and for a repository', async () => {
    await east.send(new CreateRepositoryCommand({ repositoryName: 'policy/target' }));
    const { Principal: _p, ...noPrincipal } = allowPull;
    const { Action: _a, ...noAction } = allowPull;
    for (const bad of ['not json', '{}', policy(noPrincipal), policy(noAction), policy({ ...allowPull, Effect: 'Maybe' })]) {
      await rejectsWith(east.send(new PutRegistryPolicyCommand({ policyText: bad })), 'InvalidParameterException', /Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid registry policy provided'/);
      await rejectsWith(
        east.send(new SetRepositoryPolicyCommand({ repositoryName: 'policy/target', policyText: bad })),
        'InvalidParameterException',
        /Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid repository policy provided'/,
      );
    }
    await rejectsWith(east.send(new GetRegistryPolicyCommand({})), 'RegistryPolicyNotFoundException');
    assert.equal((await east.send(new SetRepositoryPolicyCommand({ repositoryName: 'policy/target', policyText: policy(allowPull) }))).repositoryName, 'policy/target');
  });

  test('both AWS CLIs: put-registry-policy refuses an invalid policy with ECR\'s message', async () => {
    for (const bin of CLIS) {
      const r = await cli(bin, ['ecr', 'put-registry-policy', '--policy-text', policy({ Effect: 'Allow', Action: 'ecr:*' })]);
      assert.notEqual(r.code, 0, bin);
      assert.match(r.stderr, /InvalidParameterException.*Invalid registry policy provided/, bin);
    }
  });
});

describe('replication', () => {
  test('PutReplicationConfiguration validates and DescribeRegistry reflects it (SDK and both CLIs)', async () => {
    const same = { rules: [{ destinations: [{ region: 'us-east-1', registryId: ACCOUNT }] }] };
    await rejectsWith(east.send(new PutReplicationConfigurationCommand({ replicationConfiguration: same })), 'InvalidParameterException', /source registry/);
    await rejectsWith(
      east.send(new PutReplicationConfigurationCommand({ replicationConfiguration: { rules: [{ destinations: [{ region: 'mars-1', registryId: ACCOUNT }] }] } })),
      'InvalidParameterException',
      /Invalid parameter at 'region'/,
    );
    assert.deepEqual((await east.send(new DescribeRegistryCommand({}))).replicationConfiguration, { rules: [] });
    const config = { rules: [{ destinations: [{ region: 'us-west-2', registryId: ACCOUNT }], repositoryFilters: [{ filter: 'rep/', filterType: 'PREFIX_MATCH' as const }] }] };
    const put = await east.send(new PutReplicationConfigurationCommand({ replicationConfiguration: config }));
    assert.deepEqual(put.replicationConfiguration, config);
    const described = await east.send(new DescribeRegistryCommand({}));
    assert.equal(described.registryId, ACCOUNT);
    assert.deepEqual(described.replicationConfiguration, config);
    for (const bin of CLIS) {
      const r = await cli(bin, ['ecr', 'describe-registry', '--output', 'json']);
      assert.equal(r.code, 0, `${bin}: ${r.stderr}`);
      assert.deepEqual(JSON.parse(r.stdout).replicationConfiguration, config, bin);
    }
  });

  test('a pushed image is copied to the destination region (repository created there); filters are honoured', async () => {
    await east.send(new CreateRepositoryCommand({ repositoryName: 'other/app' }));
    const skipped = await imageManifest(east, 'other/app', 'not replicated');
    await east.send(new PutImageCommand({ repositoryName: 'other/app', imageManifest: skipped.manifest, imageTag: 'v1' }));
    await east.send(new CreateRepositoryCommand({ repositoryName: 'rep/app' }));
    const image = await imageManifest(east, 'rep/app', 'replicated');
    await east.send(new PutImageCommand({ repositoryName: 'rep/app', imageManifest: image.manifest, imageTag: 'v1' }));

    const details = await eventually(async () => {
      const res = await west.send(new DescribeImagesCommand({ repositoryName: 'rep/app' })).catch(() => undefined);
      return res?.imageDetails?.length ? res.imageDetails : undefined;
    }, 'the image in us-west-2');
    assert.deepEqual(details.map((x) => [x.imageDigest, x.imageTags]), [[image.digest, ['v1']]]);
    const repo = (await west.send(new DescribeRepositoriesCommand({ repositoryNames: ['rep/app'] }))).repositories![0]!;
    assert.equal(repo.repositoryArn, `arn:aws:ecr:us-west-2:${ACCOUNT}:repository/rep/app`);
    // Pullable there: the manifest and its layers.
    const got = await west.send(new BatchGetImageCommand({ repositoryName: 'rep/app', imageIds: [{ imageTag: 'v1' }] }));
    assert.equal(got.images![0]!.imageManifest, image.manifest);
    const url = await west.send(new GetDownloadUrlForLayerCommand({ repositoryName: 'rep/app', layerDigest: image.layerDigest }));
    assert.equal(sha(Buffer.from(await (await fetch(url.downloadUrl!)).arrayBuffer())), image.layerDigest);
    // A new tag on the same image is replicated too.
    await east.send(new PutImageCommand({ repositoryName: 'rep/app', imageManifest: image.manifest, imageTag: 'latest' }));
    await eventually(async () => {
      const res = await west.send(new DescribeImagesCommand({ repositoryName: 'rep/app' }));
      return res.imageDetails![0]!.imageTags?.includes('latest') ? true : undefined;
    }, 'the second tag in us-west-2');
    // The filter left other/app alone (it was pushed first).
    await rejectsWith(west.send(new DescribeRepositoriesCommand({ repositoryNames: ['other/app'] })), 'RepositoryNotFoundException');
  });
});

describe('scanning configuration', () => {
  test('registry rules decide scan on push; BatchGetRepositoryScanningConfiguration reports it', async () => {
    const initial = await east.send(new GetRegistryScanningConfigurationCommand({}));
    assert.deepEqual([initial.registryId, initial.scanningConfiguration], [ACCOUNT, { scanType: 'BASIC', rules: [] }]);
    await rejectsWith(
      east.send(new PutRegistryScanningConfigurationCommand({ scanType: 'BASIC', rules: [{ scanFrequency: 'CONTINUOUS_SCAN', repositoryFilters: [{ filter: '*', filterType: 'WILDCARD' }] }] })),
      'InvalidParameterException',
      /CONTINUOUS_SCAN/,
    );
    const rules = [{ scanFrequency: 'SCAN_ON_PUSH' as const, repositoryFilters: [{ filter: 'scan-*', filterType: 'WILDCARD' as const }] }];
    const put = await east.send(new PutRegistryScanningConfigurationCommand({ scanType: 'BASIC', rules }));
    assert.deepEqual(put.registryScanningConfiguration, { scanType: 'BASIC', rules });
    for (const n of ['scan-me', 'plain']) await east.send(new CreateRepositoryCommand({ repositoryName: n }));
    await east.send(new CreateRepositoryCommand({ repositoryName: 'own-flag', imageScanningConfiguration: { scanOnPush: true } }));
    const res = await east.send(new BatchGetRepositoryScanningConfigurationCommand({ repositoryNames: ['scan-me', 'plain', 'own-flag', 'missing'] }));
    assert.deepEqual(
      res.scanningConfigurations!.map((c) => [c.repositoryName, c.scanOnPush, c.scanFrequency, c.appliedScanFilters]),
      [
        ['scan-me', true, 'SCAN_ON_PUSH', rules[0]!.repositoryFilters],
        ['plain', false, 'MANUAL', []],
        ['own-flag', true, 'SCAN_ON_PUSH', []],
      ],
    );
    assert.equal(res.scanningConfigurations![0]!.repositoryArn, `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/scan-me`);
    assert.deepEqual(res.failures, [{ repositoryName: 'missing', failureCode: 'REPOSITORY_NOT_FOUND', failureReason: 'REPOSITORY_NOT_FOUND' }]);
    for (const bin of CLIS) {
      const r = await cli(bin, ['ecr', 'get-registry-scanning-configuration', '--output', 'json']);
      assert.equal(r.code, 0, `${bin}: ${r.stderr}`);
      assert.deepEqual(JSON.parse(r.stdout).scanningConfiguration, { scanType: 'BASIC', rules }, bin);
    }
  });
});

describe('repository details', () => {
  test('encryptionType KMS without a key answers with the AWS managed key of the account and region', async () => {
    const a = (await east.send(new CreateRepositoryCommand({ repositoryName: 'kms/a', encryptionConfiguration: { encryptionType: 'KMS' } }))).repository!;
    const b = (await east.send(new CreateRepositoryCommand({ repositoryName: 'kms/b', encryptionConfiguration: { encryptionType: 'KMS' } }))).repository!;
    const w = (await west.send(new CreateRepositoryCommand({ repositoryName: 'kms/a', encryptionConfiguration: { encryptionType: 'KMS' } }))).repository!;
    assert.equal(a.encryptionConfiguration!.encryptionType, 'KMS');
    assert.match(a.encryptionConfiguration!.kmsKey!, new RegExp(`^arn:aws:kms:us-east-1:${ACCOUNT}:key/[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$`));
    assert.equal(b.encryptionConfiguration!.kmsKey, a.encryptionConfiguration!.kmsKey, 'one managed key per account and region');
    assert.match(w.encryptionConfiguration!.kmsKey!, /^arn:aws:kms:us-west-2:/);
    const described = (await east.send(new DescribeRepositoriesCommand({ repositoryNames: ['kms/a'] }))).repositories![0]!;
    assert.deepEqual(described.encryptionConfiguration, a.encryptionConfiguration);
    const own = `arn:aws:kms:us-east-1:${ACCOUNT}:key/11111111-2222-3333-4444-555555555555`;
    const c = (await east.send(new CreateRepositoryCommand({ repositoryName: 'kms/own', encryptionConfiguration: { encryptionType: 'KMS', kmsKey: own } }))).repository!;
    assert.equal(c.encryptionConfiguration!.kmsKey, own);
    await rejectsWith(east.send(new CreateRepositoryCommand({ repositoryName: 'kms/bad', encryptionConfiguration: { encryptionType: 'AES256', kmsKey: own } })), 'InvalidParameterException', /encryptionConfiguration/);
  });

  test('Get/DeleteLifecyclePolicy always carry lastEvaluatedAt (the epoch before the first run)', async () => {
    await east.send(new CreateRepositoryCommand({ repositoryName: 'lifecycle/new' }));
    const text = JSON.stringify({ rules: [{ rulePriority: 1, selection: { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 30 }, action: { type: 'expire' } }] });
    await east.send(new PutLifecyclePolicyCommand({ repositoryName: 'lifecycle/new', lifecyclePolicyText: text }));
    const got = await east.send(new GetLifecyclePolicyCommand({ repositoryName: 'lifecycle/new' }));
    assert.ok(got.lastEvaluatedAt instanceof Date);
    assert.equal(got.lastEvaluatedAt.getTime(), 0);
    const deleted = await east.send(new DeleteLifecyclePolicyCommand({ repositoryName: 'lifecycle/new' }));
    assert.ok(deleted.lastEvaluatedAt instanceof Date);
  });

  test('PutImage refuses a manifest whose media type is given neither in it nor as a parameter', async () => {
    await east.send(new CreateRepositoryCommand({ repositoryName: 'media/type' }));
    const image = await imageManifest(east, 'media/type', 'no media type', false);
    await rejectsWith(
      east.send(new PutImageCommand({ repositoryName: 'media/type', imageManifest: image.manifest, imageTag: 'v1' })),
      'InvalidParameterException',
      /^Invalid parameter at 'ImageManifest' failed to satisfy constraint: 'Invalid JSON syntax'$/,
    );
    assert.equal((await east.send(new DescribeImagesCommand({ repositoryName: 'media/type' }))).imageDetails!.length, 0);
    const ok = await east.send(new PutImageCommand({ repositoryName: 'media/type', imageManifest: image.manifest, imageTag: 'v1', imageManifestMediaType: DOCKER_MANIFEST }));
    assert.equal(ok.image!.imageManifestMediaType, DOCKER_MANIFEST);
  });

  test('model constraint failures are worded as ECR words them: parameter, then the constraint', async () => {
    await rejectsWith(
      east.send(new DescribeRepositoriesCommand({ maxResults: 0 })),
      'InvalidParameterException',
      /^Invalid parameter at 'maxResults' failed to satisfy constraint: 'Member must have value greater than or equal to 1'$/,
    );
    await rejectsWith(
      east.send(new BatchGetImageCommand({ repositoryName: 'media/type', imageIds: [] })),
      'InvalidParameterException',
      /^Invalid parameter at 'imageIds' failed to satisfy constraint: 'Member must have length greater than or equal to 1'$/,
    );
    await rejectsWith(
      east.send(new DescribeRepositoriesCommand({ repositoryNames: ['a'] })),
      'InvalidParameterException',
      /^Invalid parameter at 'repositoryNames' failed to satisfy constraint: 'Member must satisfy constraint: \[Member must have length greater than or equal to 2\]'$/,
    );
  });
});

describe('ECS empty describe lists', () => {
  test('DescribeTasks and DescribeContainerInstances with an empty list answer as ECS does', async () => {
    await rejectsWith(d.ecs.send(new DescribeTasksCommand({ tasks: [] })), 'InvalidParameterException', /^Tasks cannot be empty\.$/);
    await rejectsWith(d.ecs.send(new DescribeContainerInstancesCommand({ containerInstances: [] })), 'InvalidParameterException', /^Container instance cannot be empty\.$/);
  });
});
