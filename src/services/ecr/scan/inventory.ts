/**
 * The packages installed in an image, read from its layers the way a container would see its
 * filesystem (later layers win; `.wh.` whiteouts delete): dpkg's status database (and
 * distroless `status.d/`), apk's `installed` database and rpm's sqlite database. rpm's older
 * Berkeley DB (`Packages`) and NDB (`Packages.db`) formats are not read: the scan says so.
 */
import Database from 'better-sqlite3';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';

export type PackageSource = 'dpkg' | 'apk' | 'rpm';

export interface InstalledPackage {
  name: string;
  version: string;
  /** The source package (dpkg Source, apk origin, rpm source rpm name), which advisories name. */
  source?: string;
  manager: PackageSource;
}

export interface Inventory {
  packages: InstalledPackage[];
  /** os-release ID and VERSION_ID (e.g. debian / 12, alpine / 3.19.1). */
  os?: { id: string; versionId?: string };
  /** Things the scan could not read, for the status description. */
  notes: string[];
}

const DPKG_STATUS = 'var/lib/dpkg/status';
const DPKG_STATUS_D = 'var/lib/dpkg/status.d/';
const APK_INSTALLED = 'lib/apk/db/installed';
const RPM_SQLITE = ['var/lib/rpm/rpmdb.sqlite', 'usr/lib/sysimage/rpm/rpmdb.sqlite'];
const RPM_BDB = ['var/lib/rpm/Packages', 'usr/lib/sysimage/rpm/Packages'];
const RPM_NDB = ['var/lib/rpm/Packages.db', 'usr/lib/sysimage/rpm/Packages.db'];
const OS_RELEASE = ['etc/os-release', 'usr/lib/os-release'];
/** Package databases are small; anything bigger than this is not a database we read. */
const MAX_FILE = 256 * 1024 * 1024;

const wanted = (path: string) =>
  path === DPKG_STATUS || path.startsWith(DPKG_STATUS_D) || path === APK_INSTALLED || RPM_SQLITE.includes(path) || RPM_BDB.includes(path) || RPM_NDB.includes(path) || OS_RELEASE.includes(path);

/** The files of interest as the final filesystem has them, given the layers in order. */
export interface Layer {
  /** From the blob's first bytes (gzip and zstd have magic numbers), not its declared media type. */
  compression: 'gzip' | 'zstd' | 'none';
  open: () => Promise<Readable>;
}

export async function collectFiles(layers: Iterable<Layer> | AsyncIterable<Layer>, notes: string[]): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for await (const layer of layers) {
    if (layer.compression === 'zstd') {
      notes.push('zstd-compressed layers are not read');
      continue;
    }
    const stream = await layer.open();
    const extract = tar.extract();
    extract.on('entry', (header, body, next) => {
      const path = header.name.replace(/^(\.\/|\/)+/, '');
      const base = path.slice(path.lastIndexOf('/') + 1);
      if (base.startsWith('.wh.')) {
        // A whiteout removes the file (or, as .wh..wh..opq, the directory's earlier content).
        const dir = path.slice(0, path.length - base.length);
        const target = base === '.wh..wh..opq' ? dir : dir + base.slice(4);
        for (const key of [...files.keys()]) if (key === target || key.startsWith(target.endsWith('/') ? target : `${target}/`)) files.delete(key);
        body.resume();
        body.on('end', next);
        return;
      }
      if ((header.type === 'file' || header.type === 'contiguous-file') && wanted(path) && (header.size ?? 0) <= MAX_FILE) {
        const chunks: Buffer[] = [];
        body.on('data', (c: Buffer) => chunks.push(c));
        body.on('end', () => {
          files.set(path, Buffer.concat(chunks));
          next();
        });
        return;
      }
      body.resume();
      body.on('end', next);
    });
    if (layer.compression === 'gzip') await pipeline(stream, createGunzip(), extract);
    else await pipeline(stream, extract);
  }
  return files;
}

export function parseDpkgStatus(text: string): InstalledPackage[] {
  const out: InstalledPackage[] = [];
  for (const para of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    for (const line of para.split('\n')) {
      const m = /^([A-Za-z][\w-]*):\s*(.*)$/.exec(line);
      if (m) fields.set(m[1]!.toLowerCase(), m[2]!.trim());
    }
    const name = fields.get('package');
    const version = fields.get('version');
    const status = fields.get('status');
    if (!name || !version) continue;
    // status.d entries carry no Status field; in status only installed packages count.
    if (status !== undefined && !/\binstalled$/.test(status)) continue;
    const source = fields.get('source');
    out.push({ name, version, manager: 'dpkg', source: source ? source.split(/\s+/)[0] : undefined });
  }
  return out;
}

export function parseApkInstalled(text: string): InstalledPackage[] {
  const out: InstalledPackage[] = [];
  for (const para of text.split(/\n\s*\n/)) {
    let name: string | undefined;
    let version: string | undefined;
    let origin: string | undefined;
    for (const line of para.split('\n')) {
      if (line.startsWith('P:')) name = line.slice(2).trim();
      else if (line.startsWith('V:')) version = line.slice(2).trim();
      else if (line.startsWith('o:')) origin = line.slice(2).trim();
    }
    if (name && version) out.push({ name, version, manager: 'apk', source: origin });
  }
  return out;
}

// rpm header tags and types (rpm's lib/rpmtag.h).
const RPMTAG = { NAME: 1000, VERSION: 1001, RELEASE: 1002, EPOCH: 1003, SOURCERPM: 1044 } as const;
const RPM_INT32 = 4;
const RPM_STRING = 6;

/** Reads NAME, EPOCH, VERSION, RELEASE and SOURCERPM from one rpm header blob (as rpmdb.sqlite stores them). */
export function parseRpmHeader(blob: Buffer): InstalledPackage | undefined {
  if (blob.length < 8) return undefined;
  const count = blob.readUInt32BE(0);
  const dataLength = blob.readUInt32BE(4);
  const dataStart = 8 + count * 16;
  if (dataStart + dataLength > blob.length) return undefined;
  const values = new Map<number, string | number>();
  for (let k = 0; k < count; k++) {
    const at = 8 + k * 16;
    const tag = blob.readUInt32BE(at);
    const type = blob.readUInt32BE(at + 4);
    const offset = blob.readInt32BE(at + 8);
    if (!Object.values(RPMTAG).includes(tag as never) || offset < 0 || offset >= dataLength) continue;
    const pos = dataStart + offset;
    if (type === RPM_STRING) {
      const end = blob.indexOf(0, pos);
      values.set(tag, blob.toString('utf8', pos, end < 0 ? dataStart + dataLength : end));
    } else if (type === RPM_INT32 && pos + 4 <= blob.length) {
      values.set(tag, blob.readInt32BE(pos));
    }
  }
  const name = values.get(RPMTAG.NAME);
  const version = values.get(RPMTAG.VERSION);
  if (typeof name !== 'string' || typeof version !== 'string') return undefined;
  const epoch = values.get(RPMTAG.EPOCH);
  const release = values.get(RPMTAG.RELEASE);
  const sourceRpm = values.get(RPMTAG.SOURCERPM);
  // "openssl-3.0.7-16.el9.src.rpm" → "openssl"
  const source = typeof sourceRpm === 'string' ? sourceRpm.replace(/-[^-]+-[^-]+\.src\.rpm$/, '') : undefined;
  const full = `${typeof epoch === 'number' && epoch > 0 ? `${epoch}:` : ''}${version}${typeof release === 'string' ? `-${release}` : ''}`;
  return { name, version: full, manager: 'rpm', source };
}

export function parseRpmSqlite(db: Buffer): InstalledPackage[] {
  const sqlite = new Database(db, { readonly: true });
  try {
    const rows = sqlite.prepare('SELECT blob FROM Packages').all() as { blob: Buffer }[];
    return rows.map((r) => parseRpmHeader(r.blob)).filter((p): p is InstalledPackage => p !== undefined);
  } finally {
    sqlite.close();
  }
}

function parseOsRelease(text: string): Inventory['os'] {
  const get = (key: string) => new RegExp(`^${key}=["']?([^"'\\n]*)`, 'm').exec(text)?.[1];
  const id = get('ID');
  return id ? { id, versionId: get('VERSION_ID') } : undefined;
}

/** The inventory of an image given its layers in order. */
export async function inventory(layers: Iterable<Layer> | AsyncIterable<Layer>): Promise<Inventory> {
  const notes: string[] = [];
  const files = await collectFiles(layers, notes);
  const packages: InstalledPackage[] = [];
  const status = files.get(DPKG_STATUS);
  if (status) packages.push(...parseDpkgStatus(status.toString('utf8')));
  for (const [path, content] of files) if (path.startsWith(DPKG_STATUS_D) && !path.endsWith('.md5sums')) packages.push(...parseDpkgStatus(content.toString('utf8')));
  const apk = files.get(APK_INSTALLED);
  if (apk) packages.push(...parseApkInstalled(apk.toString('utf8')));
  for (const path of RPM_SQLITE) {
    const db = files.get(path);
    if (!db) continue;
    try {
      packages.push(...parseRpmSqlite(db));
    } catch (e) {
      notes.push(`the rpm database ${path} could not be read (${(e as Error).message})`);
    }
  }
  for (const path of [...RPM_BDB, ...RPM_NDB]) {
    if (files.has(path)) notes.push(`the rpm database /${path} is in Berkeley DB or NDB format, which is not read`);
  }
  const osFile = OS_RELEASE.map((p) => files.get(p)).find((b) => b !== undefined);
  return { packages, os: osFile ? parseOsRelease(osFile.toString('utf8')) : undefined, notes: [...new Set(notes)] };
}
