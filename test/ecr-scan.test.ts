/**
 * ECR image scanning end to end: images built here (busybox plus fake dpkg / apk / rpm
 * databases and an os-release) pushed with the docker CLI, scanned on push (repository flag
 * and registry rule) and with StartImageScan, findings read through the SDK v3 and both AWS
 * CLIs (including `aws ecr wait image-scan-complete`), matched against a small OSV database
 * (test/fixtures/osv). A second server without a database completes scans with the inventory
 * and no findings, and says so; it also replicates the docker push to us-west-2, where docker
 * pulls it with a us-west-2 login.
 */
import {
  CompleteLayerUploadCommand,
  CreateRepositoryCommand,
  InitiateLayerUploadCommand,
  PutImageCommand,
  UploadLayerPartCommand,
  DescribeImagesCommand,
  DescribeImageScanFindingsCommand,
  ECRClient,
  PutRegistryScanningConfigurationCommand,
  PutReplicationConfigurationCommand,
  StartImageScanCommand,
  type DescribeImageScanFindingsCommandOutput,
} from '@aws-sdk/client-ecr';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import * as collections from '../src/store/collections.js';
import { rejectsWith } from './fixtures/aws-errors.js';
import { credentials, startDockyard, type TestDockyard } from './helpers/dockyard.js';
import { buildPackagedImage } from './helpers/images.js';
import { apkInstalled, dpkgStatus, rpmSqlite } from './helpers/package-dbs.js';

const OSV_DB = fileURLToPath(new URL('./fixtures/osv/', import.meta.url));
const suffix = `${process.pid}`;
const DEB_IMAGE = `dockyard-test/scan-deb:${suffix}`;
const APK_IMAGE = `dockyard-test/scan-apk:${suffix}`;
const dockerConfig = mkdtempSync(join(tmpdir(), 'dockyard-docker-config-'));
const env = { ...process.env, DOCKER_CONFIG: dockerConfig };
const created = new Set<string>();

let withDb: TestDockyard;
let noDb: TestDockyard;
let ecr: ECRClient;
let ecrNoDb: ECRClient;
let pushedToNoDb: string | undefined;

function sh(file: string, args: string[], opts: { input?: string; cliEnv?: NodeJS.ProcessEnv } = {}): Promise<{ code: number; out: string; stdout: string }> {
  return new Promise((resolve) => {
    const child = execFile(file, args, { env: opts.cliEnv ?? env, timeout: 180_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}`, stdout });
    });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
  });
}

/** Logs docker in to `d`'s registry and pushes `image` as `<repo>:<tag>`; returns the pushed digest. */
async function push(d: TestDockyard, image: string, repo: string, tag: string): Promise<string> {
  const host = `127.0.0.1:${d.port}`;
  const pw = await sh('aws', ['--endpoint-url', d.endpoint, 'ecr', 'get-login-password'], { cliEnv: d.cliEnv });
  assert.equal(pw.code, 0, pw.out);
  const login = await sh('docker', ['login', '--username', 'AWS', '--password-stdin', host], { input: pw.stdout.trim() });
  assert.equal(login.code, 0, login.out);
  const ref = `${host}/${repo}:${tag}`;
  created.add(ref);
  assert.equal((await sh('docker', ['tag', image, ref])).code, 0);
  const pushed = await sh('docker', ['push', ref]);
  assert.equal(pushed.code, 0, pushed.out);
  return /digest: (sha256:[0-9a-f]{64})/.exec(pushed.out)![1]!;
}

/** DescribeImageScanFindings until the scan is no longer IN_PROGRESS (and exists), at most 30 s. */
async function scanResult(client: ECRClient, repositoryName: string, imageDigest: string): Promise<DescribeImageScanFindingsCommandOutput> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const res = await client.send(new DescribeImageScanFindingsCommand({ repositoryName, imageId: { imageDigest } })).catch((e: Error) => {
      if (e.name === 'ScanNotFoundException') return undefined;
      throw e;
    });
    if (res && res.imageScanStatus?.status !== 'IN_PROGRESS') return res;
    if (Date.now() > deadline) assert.fail(`the scan of ${repositoryName}@${imageDigest} did not finish`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const attribute = (f: { attributes?: { key?: string; value?: string }[] }, key: string) => f.attributes?.find((a) => a.key === key)?.value;

before(async () => {
  buildPackagedImage(DEB_IMAGE, {
    '/etc/os-release': 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n',
    '/var/lib/dpkg/status': dpkgStatus([
      { name: 'libssl3', version: '3.0.11-1~deb12u2', source: 'openssl' },
      { name: 'zlib1g', version: '1:1.2.13.dfsg-1', source: 'zlib' },
      { name: 'bash', version: '5.2.15-2+b2' },
      { name: 'removed-pkg', version: '1.0-1', status: 'deinstall ok config-files' },
    ]),
  });
  buildPackagedImage(APK_IMAGE, {
    '/etc/os-release': 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.19.1\n',
    '/lib/apk/db/installed': apkInstalled([
      { name: 'busybox', version: '1.36.1-r15' },
      { name: 'musl', version: '1.2.4_git20230717-r4' },
      { name: 'zlib', version: '1.3.1-r0' },
    ]),
    '/var/lib/rpm/rpmdb.sqlite': rpmSqlite([{ name: 'bash', version: '5.1.8', release: '6.el9', sourceRpm: 'bash-5.1.8-6.el9.src.rpm' }]),
  });
  withDb = await startDockyard({ ecrVulnerabilityDb: OSV_DB });
  noDb = await startDockyard();
  ecr = new ECRClient({ endpoint: withDb.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
  ecrNoDb = new ECRClient({ endpoint: noDb.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
}, { timeout: 300_000 });

after(async () => {
  for (const ref of created) await sh('docker', ['rmi', ref]);
  for (const ref of [DEB_IMAGE, APK_IMAGE]) await sh('docker', ['rmi', '-f', ref]);
  ecr?.destroy();
  ecrNoDb?.destroy();
  await withDb?.stop();
  await noDb?.stop();
  rmSync(dockerConfig, { recursive: true, force: true });
});

const LIMIT = { timeout: 240_000 };

describe('with an OSV database', LIMIT, () => {
  test('scan on push (repository flag): a dpkg image, matched by source package and release', async () => {
    await ecr.send(new CreateRepositoryCommand({ repositoryName: 'scan/deb', imageScanningConfiguration: { scanOnPush: true } }));
    const digest = await push(withDb, DEB_IMAGE, 'scan/deb', 'v1');
    const res = await scanResult(ecr, 'scan/deb', digest);
    assert.equal(res.imageScanStatus!.status, 'COMPLETE', res.imageScanStatus!.description);
    assert.match(res.imageScanStatus!.description!, /3 packages found \(dpkg 3\)/);
    assert.match(res.imageScanStatus!.description!, /matched against 5 vulnerabilities/);
    const findings = res.imageScanFindings!.findings!;
    assert.deepEqual(
      findings.map((f) => [f.name, f.severity, attribute(f, 'package_name'), attribute(f, 'package_version')]),
      [['CVE-2099-1001', 'HIGH', 'libssl3', '3.0.11-1~deb12u2']],
    );
    assert.equal(findings[0]!.uri, 'https://security-tracker.debian.org/tracker/CVE-2099-1001');
    assert.deepEqual(res.imageScanFindings!.findingSeverityCounts, { HIGH: 1 });
    assert.equal(res.imageScanFindings!.vulnerabilitySourceUpdatedAt!.toISOString(), '2026-11-15T08:30:00.000Z');
    assert.ok(res.imageScanFindings!.imageScanCompletedAt instanceof Date);
    // DescribeImages carries the scan's status and counts.
    const detail = (await ecr.send(new DescribeImagesCommand({ repositoryName: 'scan/deb' }))).imageDetails![0]!;
    assert.equal(detail.imageScanStatus!.status, 'COMPLETE');
    assert.deepEqual(detail.imageScanFindingsSummary!.findingSeverityCounts, { HIGH: 1 });
  });

  test('StartImageScan on an apk image (no scan on push), read back with both AWS CLIs and their waiter', async () => {
    await ecr.send(new CreateRepositoryCommand({ repositoryName: 'scan/apk' }));
    const digest = await push(withDb, APK_IMAGE, 'scan/apk', 'v1');
    await rejectsWith(ecr.send(new DescribeImageScanFindingsCommand({ repositoryName: 'scan/apk', imageId: { imageTag: 'v1' } })), 'ScanNotFoundException', /scan\/apk/);
    const started = await ecr.send(new StartImageScanCommand({ repositoryName: 'scan/apk', imageId: { imageTag: 'v1' } }));
    assert.deepEqual([started.imageId!.imageDigest, started.imageScanStatus!.status], [digest, 'IN_PROGRESS']);
    for (const cli of ['aws', '/usr/bin/aws']) {
      const args = ['--endpoint-url', withDb.endpoint, 'ecr'];
      const wait = await sh(cli, [...args, 'wait', 'image-scan-complete', '--repository-name', 'scan/apk', '--image-id', 'imageTag=v1'], { cliEnv: withDb.cliEnv });
      assert.equal(wait.code, 0, `${cli}: ${wait.out}`);
      const r = await sh(cli, [...args, 'describe-image-scan-findings', '--repository-name', 'scan/apk', '--image-id', 'imageTag=v1', '--output', 'json'], { cliEnv: withDb.cliEnv });
      assert.equal(r.code, 0, `${cli}: ${r.out}`);
      const out = JSON.parse(r.stdout) as { imageScanStatus: { status: string; description: string }; imageScanFindings: { findings: { name: string; severity: string; attributes: { key: string; value: string }[] }[]; findingSeverityCounts: Record<string, number> } };
      assert.equal(out.imageScanStatus.status, 'COMPLETE', cli);
      assert.match(out.imageScanStatus.description, /4 packages found \(apk 3, rpm 1\)/, cli);
      assert.deepEqual(out.imageScanFindings.findingSeverityCounts, { CRITICAL: 1, MEDIUM: 1 }, cli);
      assert.deepEqual(
        out.imageScanFindings.findings.map((f) => [f.name, f.severity, attribute(f, 'package_name'), attribute(f, 'package_version')]),
        [
          ['CVE-2099-2002', 'CRITICAL', 'musl', '1.2.4_git20230717-r4'],
          ['CVE-2099-2001', 'MEDIUM', 'busybox', '1.36.1-r15'],
        ],
        cli,
      );
      assert.equal(attribute(out.imageScanFindings.findings[1]!, 'CVSS3_VECTOR'), 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N');
    }
    // Paginated like ECR: one finding per page.
    const first = await ecr.send(new DescribeImageScanFindingsCommand({ repositoryName: 'scan/apk', imageId: { imageDigest: digest }, maxResults: 1 }));
    assert.equal(first.imageScanFindings!.findings!.length, 1);
    const second = await ecr.send(new DescribeImageScanFindingsCommand({ repositoryName: 'scan/apk', imageId: { imageDigest: digest }, maxResults: 1, nextToken: first.nextToken }));
    assert.equal(second.imageScanFindings!.findings![0]!.name, 'CVE-2099-2001');
    assert.equal(second.nextToken, undefined);
    await rejectsWith(ecr.send(new StartImageScanCommand({ repositoryName: 'scan/apk', imageId: { imageTag: 'missing' } })), 'ImageNotFoundException');
  });
});

describe('without a vulnerability database', LIMIT, () => {
  test('a registry rule scans on push; the scan completes with the inventory, no findings, and says why', async () => {
    await ecrNoDb.send(new PutRegistryScanningConfigurationCommand({ scanType: 'BASIC', rules: [{ scanFrequency: 'SCAN_ON_PUSH', repositoryFilters: [{ filter: 'scanned/*', filterType: 'WILDCARD' }] }] }));
    // Replication too, checked by the next test: the docker push below is copied to us-west-2.
    await ecrNoDb.send(new PutReplicationConfigurationCommand({ replicationConfiguration: { rules: [{ destinations: [{ region: 'us-west-2', registryId: '000000000000' }] }] } }));
    await ecrNoDb.send(new CreateRepositoryCommand({ repositoryName: 'scanned/deb' }));
    const digest = await push(noDb, DEB_IMAGE, 'scanned/deb', 'v1');
    pushedToNoDb = digest;
    const res = await scanResult(ecrNoDb, 'scanned/deb', digest);
    assert.equal(res.imageScanStatus!.status, 'COMPLETE');
    assert.match(res.imageScanStatus!.description!, /3 packages found \(dpkg 3\)/);
    assert.match(res.imageScanStatus!.description!, /no vulnerability database is configured/);
    assert.deepEqual(res.imageScanFindings!.findings, []);
    assert.deepEqual(res.imageScanFindings!.findingSeverityCounts ?? {}, {});
  });

  test('replication: the image docker pushed in us-east-1 is pulled by docker from us-west-2', async () => {
    assert.ok(pushedToNoDb, 'the previous test pushed the image');
    const host = `127.0.0.1:${noDb.port}`;
    const ref = `${host}/scanned/deb:v1`;
    assert.equal((await sh('docker', ['rmi', ref])).code, 0);
    // A us-west-2 token: the registry then serves that region's repositories.
    const pw = await sh('aws', ['--endpoint-url', noDb.endpoint, '--region', 'us-west-2', 'ecr', 'get-login-password'], { cliEnv: noDb.cliEnv });
    assert.equal((await sh('docker', ['login', '--username', 'AWS', '--password-stdin', host], { input: pw.stdout.trim() })).code, 0);
    const deadline = Date.now() + 10_000;
    let pulled = await sh('docker', ['pull', ref]);
    while (pulled.code !== 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      pulled = await sh('docker', ['pull', ref]);
    }
    assert.equal(pulled.code, 0, pulled.out);
    assert.match(pulled.out, new RegExp(`Digest: ${pushedToNoDb}`));
    const west = new ECRClient({ endpoint: noDb.endpoint, region: 'us-west-2', credentials, maxAttempts: 1 });
    try {
      const repo = (await west.send(new DescribeImagesCommand({ repositoryName: 'scanned/deb' }))).imageDetails!;
      assert.deepEqual(repo.map((x) => [x.imageDigest, x.imageTags]), [[pushedToNoDb, ['v1']]]);
    } finally {
      west.destroy();
    }
  });
});

/** Puts an image whose single layer is `layer` through the ECR API; returns its digest. */
async function putImageWithLayer(client: ECRClient, repositoryName: string, layer: Buffer): Promise<string> {
  const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
  const config = Buffer.from(JSON.stringify({ os: 'linux', architecture: 'amd64', rootfs: { type: 'layers', diff_ids: [] } }));
  for (const blob of [config, layer]) {
    const { uploadId } = await client.send(new InitiateLayerUploadCommand({ repositoryName }));
    await client.send(new UploadLayerPartCommand({ repositoryName, uploadId, partFirstByte: 0, partLastByte: blob.length - 1, layerPartBlob: blob }));
    await client.send(new CompleteLayerUploadCommand({ repositoryName, uploadId, layerDigests: [sha(blob)] }));
  }
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: sha(config), size: config.length },
    layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', digest: sha(layer), size: layer.length }],
  });
  const res = await client.send(new PutImageCommand({ repositoryName, imageManifest: manifest, imageTag: 'v1' }));
  return res.image!.imageId!.imageDigest!;
}

describe('failed scans', LIMIT, () => {
  test('a layer that is not a tar archive, and an unreadable database: FAILED, with no host detail', async () => {
    await ecr.send(new CreateRepositoryCommand({ repositoryName: 'scan/garbage' }));
    const garbage = await putImageWithLayer(ecr, 'scan/garbage', Buffer.from([0x1f, 0x8b, 0x08, 0x00, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
    await ecr.send(new StartImageScanCommand({ repositoryName: 'scan/garbage', imageId: { imageDigest: garbage } }));
    const bad = await scanResult(ecr, 'scan/garbage', garbage);
    assert.equal(bad.imageScanStatus!.status, 'FAILED');
    assert.equal(bad.imageScanStatus!.description, 'The scan failed: the image layers could not be read as tar archives.');
    assert.equal(bad.imageScanFindings, undefined);
    // A scan left IN_PROGRESS by a restart (as if the process had stopped mid-scan) reads as FAILED.
    await withDb.app.store.write(async (tx) => {
      const row = (await tx.get(collections.ecrImageScans, `arn:aws:ecr:us-east-1:000000000000:repository/scan/garbage@${garbage}`))!;
      await tx.update(collections.ecrImageScans, row, { ...row.data, status: 'IN_PROGRESS', description: '' });
    });
    const interrupted = await ecr.send(new DescribeImageScanFindingsCommand({ repositoryName: 'scan/garbage', imageId: { imageDigest: garbage } }));
    assert.deepEqual(interrupted.imageScanStatus, { status: 'FAILED', description: 'The scan failed: it was interrupted by a restart of Dockyard; start it again.' });

    // An image index is not scanned itself (its images are), as in ECR.
    const index = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [{ mediaType: 'application/vnd.docker.distribution.manifest.v2+json', digest: garbage, size: 1, platform: { os: 'linux', architecture: 'amd64' } }],
    });
    await ecr.send(new PutImageCommand({ repositoryName: 'scan/garbage', imageManifest: index, imageTag: 'multi' }));
    await rejectsWith(ecr.send(new StartImageScanCommand({ repositoryName: 'scan/garbage', imageId: { imageTag: 'multi' } })), 'UnsupportedImageTypeException', /manifest list or image index/);

    const dir = mkdtempSync(join(tmpdir(), 'dockyard-osv-'));
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{ not json');
    const broken = await startDockyard({ ecrVulnerabilityDb: file });
    const client = new ECRClient({ endpoint: broken.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
    try {
      await client.send(new CreateRepositoryCommand({ repositoryName: 'scan/any' }));
      const empty = await putImageWithLayer(client, 'scan/any', Buffer.alloc(1024));
      await client.send(new StartImageScanCommand({ repositoryName: 'scan/any', imageId: { imageDigest: empty } }));
      const res = await scanResult(client, 'scan/any', empty);
      assert.equal(res.imageScanStatus!.status, 'FAILED');
      assert.equal(res.imageScanStatus!.description, 'The scan failed: the vulnerability database could not be loaded.');
      assert.ok(!JSON.stringify(res).includes(dir), 'the host path stays out of the answer');
    } finally {
      client.destroy();
      await broken.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
