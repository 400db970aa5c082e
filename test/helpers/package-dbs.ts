/**
 * Package databases as the package managers write them, for scan tests: a dpkg status file,
 * an apk `installed` file, and an rpm sqlite database (rpmdb.sqlite) whose header blobs are
 * built here in rpm's header format (index entries + data store, big-endian).
 */
import Database from 'better-sqlite3';

export interface TestPackage {
  name: string;
  version: string;
  source?: string;
}

export function dpkgStatus(packages: (TestPackage & { status?: string })[]): string {
  return packages
    .map((p) =>
      [
        `Package: ${p.name}`,
        `Status: ${p.status ?? 'install ok installed'}`,
        'Priority: optional',
        'Architecture: amd64',
        ...(p.source ? [`Source: ${p.source}`] : []),
        `Version: ${p.version}`,
        `Description: ${p.name} for tests`,
        ' A continuation line: with a colon.',
      ].join('\n'),
    )
    .join('\n\n')
    .concat('\n');
}

export function apkInstalled(packages: TestPackage[]): string {
  return packages.map((p) => [`C:Q1abc=`, `P:${p.name}`, `V:${p.version}`, 'A:x86_64', `o:${p.source ?? p.name}`, 'T:test package'].join('\n')).join('\n\n').concat('\n');
}

/** One rpm header blob: NAME, VERSION, RELEASE, optional EPOCH and SOURCERPM. */
export function rpmHeader(p: { name: string; version: string; release: string; epoch?: number; sourceRpm?: string }): Buffer {
  const entries: { tag: number; type: number; data: Buffer }[] = [];
  const str = (tag: number, s: string) => entries.push({ tag, type: 6, data: Buffer.from(`${s}\0`) });
  str(1000, p.name);
  str(1001, p.version);
  str(1002, p.release);
  if (p.epoch !== undefined) {
    const b = Buffer.alloc(4);
    b.writeInt32BE(p.epoch);
    entries.push({ tag: 1003, type: 4, data: b });
  }
  if (p.sourceRpm) str(1044, p.sourceRpm);
  // INT32 data must be 4-aligned: put it first.
  entries.sort((a, b) => (a.type === 4 ? -1 : 0) - (b.type === 4 ? -1 : 0));
  const index = Buffer.alloc(entries.length * 16);
  const store: Buffer[] = [];
  let offset = 0;
  entries.forEach((e, i) => {
    index.writeUInt32BE(e.tag, i * 16);
    index.writeUInt32BE(e.type, i * 16 + 4);
    index.writeUInt32BE(offset, i * 16 + 8);
    index.writeUInt32BE(1, i * 16 + 12);
    store.push(e.data);
    offset += e.data.length;
  });
  const head = Buffer.alloc(8);
  head.writeUInt32BE(entries.length, 0);
  head.writeUInt32BE(offset, 4);
  return Buffer.concat([head, index, ...store]);
}

/** An rpmdb.sqlite as rpm ≥ 4.16 lays it out (table Packages(hnum, blob)). */
export function rpmSqlite(packages: Parameters<typeof rpmHeader>[0][]): Buffer {
  const db = new Database(':memory:');
  db.exec('CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)');
  const insert = db.prepare('INSERT INTO Packages (blob) VALUES (?)');
  for (const p of packages) insert.run(rpmHeader(p));
  const out = db.serialize();
  db.close();
  return out;
}
