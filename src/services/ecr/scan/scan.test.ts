/**
 * Image scanning without a registry: package databases parsed from layer tarballs (with
 * whiteouts, gzip and plain tar), and OSV matching with ranges, releases and source names.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { apkInstalled, dpkgStatus, rpmSqlite } from '../../../../test/helpers/package-dbs.js';
import { inventory, parseApkInstalled, parseDpkgStatus, type Layer } from './inventory.js';
import { buildDatabase, inRange, type OsvVulnerability } from './osv.js';
import { compareDpkg } from './versions.js';

async function layerTar(files: Record<string, string | Buffer>): Promise<Buffer> {
  const pack = tar.pack();
  for (const [name, content] of Object.entries(files)) pack.entry({ name }, content);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

const layer = (bytes: Buffer, compression: Layer['compression']): Layer => ({ compression, open: async () => Readable.from([compression === 'gzip' ? gzipSync(bytes) : bytes]) });

test('dpkg status: installed packages only, with their source package', () => {
  const pkgs = parseDpkgStatus(
    dpkgStatus([
      { name: 'libssl3', version: '3.0.11-1~deb12u2', source: 'openssl (3.0.11-1~deb12u2)' },
      { name: 'removed', version: '1.0', status: 'deinstall ok config-files' },
      { name: 'zlib1g', version: '1:1.2.13.dfsg-1' },
    ]),
  );
  assert.deepEqual(pkgs, [
    { name: 'libssl3', version: '3.0.11-1~deb12u2', manager: 'dpkg', source: 'openssl' },
    { name: 'zlib1g', version: '1:1.2.13.dfsg-1', manager: 'dpkg', source: undefined },
  ]);
});

test('apk installed: name, version and origin', () => {
  assert.deepEqual(parseApkInstalled(apkInstalled([{ name: 'libcrypto3', version: '3.1.4-r5', source: 'openssl' }])), [
    { name: 'libcrypto3', version: '3.1.4-r5', manager: 'apk', source: 'openssl' },
  ]);
});

test('inventory reads the final filesystem: later layers win and whiteouts delete', async () => {
  const base = await layerTar({
    'etc/os-release': 'ID=debian\nVERSION_ID="12"\n',
    'var/lib/dpkg/status': dpkgStatus([{ name: 'old', version: '1.0' }]),
    'lib/apk/db/installed': apkInstalled([{ name: 'gone', version: '1.0-r0' }]),
    'var/lib/rpm/rpmdb.sqlite': rpmSqlite([{ name: 'openssl-libs', version: '3.0.7', release: '16.el9', epoch: 1, sourceRpm: 'openssl-3.0.7-16.el9.src.rpm' }]),
    'var/lib/rpm/Packages': Buffer.alloc(16),
  });
  const top = await layerTar({
    './var/lib/dpkg/status': dpkgStatus([{ name: 'new', version: '2.0' }]),
    'lib/apk/db/.wh.installed': '',
  });
  const inv = await inventory([layer(base, 'gzip'), layer(top, 'none')]);
  assert.deepEqual(inv.os, { id: 'debian', versionId: '12' });
  assert.deepEqual(
    inv.packages.map((p) => [p.manager, p.name, p.version, p.source]),
    [
      ['dpkg', 'new', '2.0', undefined],
      ['rpm', 'openssl-libs', '1:3.0.7-16.el9', 'openssl'],
    ],
  );
  assert.match(inv.notes.join(), /Berkeley DB/);
  const zstd = await inventory([{ compression: 'zstd', open: async () => Readable.from([]) }]);
  assert.deepEqual(zstd.packages, []);
  assert.match(zstd.notes.join(), /zstd/);
});

test('OSV ranges: introduced/fixed is half-open, last_affected inclusive, "0" is the beginning', () => {
  const fixed = [{ introduced: '0' }, { fixed: '3.0.11-1~deb12u3' }];
  assert.equal(inRange('3.0.11-1~deb12u2', fixed, compareDpkg), true);
  assert.equal(inRange('3.0.11-1~deb12u3', fixed, compareDpkg), false);
  assert.equal(inRange('3.0.13-1', fixed, compareDpkg), false);
  const last = [{ introduced: '1.2' }, { last_affected: '1.4' }];
  assert.equal(inRange('1.1', last, compareDpkg), false);
  assert.equal(inRange('1.4', last, compareDpkg), true);
  assert.equal(inRange('1.4.1', last, compareDpkg), false);
  const twice = [{ fixed: '2.0' }, { introduced: '3.0' }, { introduced: '1.0' }, { fixed: '3.1' }];
  assert.deepEqual(['0.9', '1.5', '2.5', '3.0', '3.1'].map((v) => inRange(v, twice, compareDpkg)), [false, true, false, true, false]);
});

test('OSV matching: ecosystem and release, binary or source name, severity and ECR attributes', () => {
  const vulns: OsvVulnerability[] = [
    {
      id: 'DSA-0001-1',
      aliases: ['CVE-2099-0001'],
      summary: 'openssl: a test flaw',
      modified: '2026-11-01T00:00:00Z',
      affected: [{ package: { ecosystem: 'Debian:12', name: 'openssl' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '3.0.11-1~deb12u3' }] }], ecosystem_specific: { urgency: 'high' } }],
      references: [{ type: 'ADVISORY', url: 'https://security-tracker.debian.org/tracker/CVE-2099-0001' }],
    },
    { id: 'CVE-2099-0002', affected: [{ package: { ecosystem: 'Debian:11', name: 'openssl' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }] }] }] },
    { id: 'CVE-2099-0003', affected: [{ package: { ecosystem: 'Alpine:v3.19', name: 'busybox' }, versions: ['1.36.1-r15'] }], database_specific: { severity: 'MODERATE' } },
  ];
  const db = buildDatabase(vulns, 'test');
  assert.equal(db.updatedAt, Date.parse('2026-11-01T00:00:00Z') / 1000);
  const debian = db.match({ os: { id: 'debian', versionId: '12' }, notes: [], packages: [{ name: 'libssl3', version: '3.0.11-1~deb12u2', source: 'openssl', manager: 'dpkg' }] });
  assert.deepEqual(debian, [
    {
      name: 'CVE-2099-0001',
      description: 'openssl: a test flaw',
      uri: 'https://security-tracker.debian.org/tracker/CVE-2099-0001',
      severity: 'HIGH',
      attributes: [
        { key: 'package_name', value: 'libssl3' },
        { key: 'package_version', value: '3.0.11-1~deb12u2' },
      ],
    },
  ]);
  const alpine = db.match({ os: { id: 'alpine', versionId: '3.19.1' }, notes: [], packages: [{ name: 'busybox', version: '1.36.1-r15', manager: 'apk' }, { name: 'busybox-binsh', version: '1.36.1-r16', source: 'busybox', manager: 'apk' }] });
  assert.deepEqual(alpine.map((f) => [f.name, f.severity, f.attributes[0]!.value]), [['CVE-2099-0003', 'MEDIUM', 'busybox']]);
});
