/**
 * The stock docker CLI against Dockyard's registry: `aws ecr get-login-password | docker
 * login`, push, pull, several tags, re-pushing existing layers (and cross-repository mounts),
 * IMMUTABLE tags, deletes, an unknown repository, and a large random layer. Then the whole
 * ECS path: push, register a task definition with the repositoryUri, RunTask, and the
 * container answers (the agent pulls with a minted ECR credential).
 *
 * The server runs in this process, so every CLI call is asynchronous. docker uses a private
 * DOCKER_CONFIG; every image this file creates is removed by its exact tag at the end.
 */
import { BatchDeleteImageCommand, CreateRepositoryCommand, DescribeImagesCommand, DescribeRepositoriesCommand, ECRClient } from '@aws-sdk/client-ecr';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { httpGet, isRunning, register, run, startWithAgent, waitTask } from './agent/helpers.js';
import { removeAgentLeftovers } from './helpers/docker.js';
import { credentials, type TestDockyard } from './helpers/dockyard.js';
import { buildBusyboxImage, buildHttpdImage } from './helpers/images.js';

const dockerConfig = mkdtempSync(join(tmpdir(), 'dockyard-docker-config-'));
const env = { ...process.env, DOCKER_CONFIG: dockerConfig };
const suffix = `${process.pid}`;
const RANDOM_IMAGE = `dockyard-test/ecr-random:${suffix}`;
const CHILD_IMAGE = `dockyard-test/ecr-child:${suffix}`;
const OTHER_IMAGE = `dockyard-test/ecr-other:${suffix}`;
/** Every image reference this file tags; removed at the end. */
const created = new Set<string>([RANDOM_IMAGE, CHILD_IMAGE, OTHER_IMAGE]);
/** Ids of the images built here, removed last. */
const builtIds: string[] = [];

let d: TestDockyard;
let ecr: ECRClient;
let host: string;

function sh(file: string, args: string[], opts: { input?: string; cliEnv?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = execFile(file, args, { env: opts.cliEnv ?? env, timeout: opts.timeoutMs ?? 180_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` });
    });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
  });
}

async function docker(...args: string[]) {
  const r = await sh('docker', args);
  assert.equal(r.code, 0, `docker ${args.join(' ')}\n${r.out}`);
  return r.out;
}

async function tag(source: string, ref: string) {
  created.add(ref);
  await docker('tag', source, ref);
}

async function loginWith(cli: string) {
  const pw = await sh(cli, ['--endpoint-url', d.endpoint, 'ecr', 'get-login-password'], { cliEnv: { ...d.cliEnv, DOCKER_CONFIG: dockerConfig } });
  assert.equal(pw.code, 0, pw.out);
  return sh('docker', ['login', '--username', 'AWS', '--password-stdin', host], { input: pw.out.trim() });
}

const imageId = async (ref: string) => (await docker('image', 'inspect', '--format', '{{.Id}}', ref)).trim();

before(async () => {
  buildHttpdImage();
  buildBusyboxImage(RANDOM_IMAGE, 'FROM dockyard-test/bb-httpd:1\nCOPY random.bin /data/random.bin\n', { 'random.bin': randomBytes(24 * 1024 * 1024) });
  buildBusyboxImage(CHILD_IMAGE, 'FROM dockyard-test/bb-httpd:1\nCOPY child.txt /www/child.txt\n', { 'child.txt': `child ${suffix}\n` });
  buildBusyboxImage(OTHER_IMAGE, 'FROM dockyard-test/bb-httpd:1\nCOPY other.txt /www/other.txt\n', { 'other.txt': `other ${suffix}\n` });
  d = await startWithAgent();
  for (const ref of [RANDOM_IMAGE, CHILD_IMAGE, OTHER_IMAGE]) builtIds.push(await imageId(ref));
  host = `127.0.0.1:${d.port}`;
  ecr = new ECRClient({ endpoint: d.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
  await ecr.send(new CreateRepositoryCommand({ repositoryName: 'team/app' }));
}, { timeout: 300_000 });

after(async () => {
  // Containers first (they hold images), then every tag, then the built images by id.
  const instanceId = d?.app.agent?.instanceId;
  if (instanceId) removeAgentLeftovers(instanceId);
  for (const ref of created) await sh('docker', ['rmi', ref]);
  for (const id of builtIds) await sh('docker', ['rmi', '-f', id]);
  ecr?.destroy();
  await d?.stop();
  rmSync(dockerConfig, { recursive: true, force: true });
});

// Bounded: a stuck docker command fails the test instead of hanging the suite.
const LIMIT = { timeout: 240_000 };

describe('docker login', LIMIT, () => {
  test('a wrong password is refused with 401', async () => {
    const r = await sh('docker', ['login', '--username', 'AWS', '--password-stdin', host], { input: 'not-a-token' });
    assert.notEqual(r.code, 0);
    assert.match(r.out, /401/);
  });

  test('aws ecr get-login-password | docker login works with AWS CLI v1 and v2', async () => {
    for (const cli of ['aws', '/usr/bin/aws']) {
      const r = await loginWith(cli);
      assert.equal(r.code, 0, `${cli}: ${r.out}`);
      assert.match(r.out, /Login Succeeded/);
    }
  });
});

describe('push and pull', LIMIT, () => {
  test('push, several tags, pull back after removing the local image', async () => {
    const ref = `${host}/team/app`;
    await tag(RANDOM_IMAGE, `${ref}:v1`);
    await tag(RANDOM_IMAGE, `${ref}:latest`);
    const original = await imageId(RANDOM_IMAGE);
    const push = await docker('push', `${ref}:v1`);
    const digest = /digest: (sha256:[0-9a-f]{64})/.exec(push)![1]!;
    assert.match(await docker('push', `${ref}:latest`), /Layer already exists/);
    const described = await ecr.send(new DescribeImagesCommand({ repositoryName: 'team/app', imageIds: [{ imageDigest: digest }] }));
    const detail = described.imageDetails![0]!;
    assert.deepEqual(detail.imageTags!.sort(), ['latest', 'v1']);
    assert.ok(detail.imageSizeInBytes! > 24 * 1024 * 1024, `size ${detail.imageSizeInBytes}`);
    assert.equal(detail.imageManifestMediaType, 'application/vnd.docker.distribution.manifest.v2+json');
    assert.equal(detail.lastRecordedPullTime, undefined);

    // Remove every local name of the image so the pull downloads the random layer again.
    for (const r of [`${ref}:v1`, `${ref}:latest`, RANDOM_IMAGE]) await docker('rmi', r);
    const pull = await docker('pull', `${ref}:v1`);
    assert.match(pull, new RegExp(digest));
    assert.equal(await imageId(`${ref}:v1`), original);
    await tag(`${ref}:v1`, RANDOM_IMAGE);
    const after = await ecr.send(new DescribeImagesCommand({ repositoryName: 'team/app', imageIds: [{ imageTag: 'v1' }] }));
    assert.ok(after.imageDetails![0]!.lastRecordedPullTime instanceof Date);
  });

  test('re-pushing existing layers skips them; another repository mounts them', async () => {
    const child = `${host}/team/app:child`;
    await tag(CHILD_IMAGE, child);
    const out = await docker('push', child);
    assert.match(out, /Layer already exists/);
    await ecr.send(new CreateRepositoryCommand({ repositoryName: 'team/copy' }));
    const copy = `${host}/team/copy:child`;
    await tag(CHILD_IMAGE, copy);
    assert.match(await docker('push', copy), /Mounted from team\/app/);
  });

  test('pushing to a repository that does not exist fails with name unknown', async () => {
    const ref = `${host}/team/missing:v1`;
    await tag(CHILD_IMAGE, ref);
    const r = await sh('docker', ['push', ref]);
    assert.notEqual(r.code, 0);
    assert.match(r.out, /name unknown: The repository with name 'team\/missing' does not exist/);
    await assert.rejects(ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['team/missing'] })));
  });

  test('IMMUTABLE repository: pushing a different image to an existing tag fails', async () => {
    await ecr.send(new CreateRepositoryCommand({ repositoryName: 'team/frozen', imageTagMutability: 'IMMUTABLE' }));
    const ref = `${host}/team/frozen:release`;
    await tag(CHILD_IMAGE, ref);
    await docker('push', ref);
    // The same image again is fine (nothing changes).
    await docker('push', ref);
    await tag(OTHER_IMAGE, ref);
    const r = await sh('docker', ['push', ref]);
    assert.notEqual(r.code, 0);
    assert.match(r.out, /tag invalid: The image tag 'release' already exists in the 'team\/frozen' repository and cannot be overwritten because the repository is immutable/);
  });

  test('deleted images can no longer be pulled', async () => {
    const ref = `${host}/team/app:doomed`;
    await tag(OTHER_IMAGE, ref);
    await docker('push', ref);
    const res = await ecr.send(new BatchDeleteImageCommand({ repositoryName: 'team/app', imageIds: [{ imageTag: 'doomed' }] }));
    assert.equal(res.imageIds!.length, 1);
    await docker('rmi', ref);
    const r = await sh('docker', ['pull', ref]);
    assert.notEqual(r.code, 0);
    assert.match(r.out, /not found|manifest unknown/);
  });
});

describe('end to end with ECS', LIMIT, () => {
  test('push to ECR, register a task definition with the repositoryUri, run-task, the container answers', async () => {
    // No embedded agent means Docker was unreachable when Dockyard started: that is a failure here, not a skip.
    assert.ok(d.app.agent, 'the embedded agent did not start, so nothing can run the task (is Docker Engine running?)');
    await ecr.send(new CreateRepositoryCommand({ repositoryName: 'e2e/web' }));
    const uri = (await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['e2e/web'] }))).repositories![0]!.repositoryUri!;
    const ref = `${uri}:v1`;
    await tag(CHILD_IMAGE, ref);
    await docker('push', ref);
    // Drop the local name: the agent must pull it from the registry with its own credential.
    await docker('rmi', ref);
    const family = await register(d, [{ name: 'web', image: ref, memory: 64, stopTimeout: 2, portMappings: [{ containerPort: 8080 }] }]);
    const arn = await run(d, family);
    const task = await waitTask(d, arn, isRunning, 90_000);
    const port = task.containers![0]!.networkBindings![0]!.hostPort!;
    assert.equal(await httpGet(port), 'hello from dockyard\n');
    const child = await fetch(`http://127.0.0.1:${port}/child.txt`);
    assert.equal(await child.text(), `child ${suffix}\n`);
  });
});
