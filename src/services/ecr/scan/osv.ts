/**
 * A vulnerability database in the OSV format (https://ossf.github.io/osv-schema/), as the
 * operator supplies it: one JSON file holding a vulnerability, a list of them or
 * `{ "vulns": [...] }`, or a directory of such files (an unpacked OSV export such as
 * Debian's or Alpine's all.zip). Installed packages are matched by ecosystem (Debian, Ubuntu,
 * Alpine, Red Hat, Rocky Linux, AlmaLinux, ... with the release when the entry names one) and
 * by binary or source package name, against the entry's ECOSYSTEM ranges and version lists.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Inventory, InstalledPackage } from './inventory.js';
import { compareApk, compareDpkg, compareRpm } from './versions.js';

export interface OsvEvent {
  introduced?: string;
  fixed?: string;
  last_affected?: string;
  limit?: string;
}
export interface OsvAffected {
  package?: { ecosystem?: string; name?: string };
  ranges?: { type?: string; events?: OsvEvent[] }[];
  versions?: string[];
  ecosystem_specific?: { urgency?: string; severity?: string };
  database_specific?: { severity?: string };
}
export interface OsvVulnerability {
  id: string;
  modified?: string;
  summary?: string;
  details?: string;
  aliases?: string[];
  severity?: { type?: string; score?: string }[];
  affected?: OsvAffected[];
  references?: { type?: string; url?: string }[];
  database_specific?: { severity?: string };
}

export interface Finding {
  name: string;
  description?: string;
  uri?: string;
  severity: 'INFORMATIONAL' | 'LOW' | 'MEDIUM' | 'HIGH' | 'CRITICAL' | 'UNDEFINED';
  attributes: { key: string; value?: string }[];
}

export interface VulnerabilityDatabase {
  /** Where it was loaded from, and its newest entry's `modified` time (epoch seconds). */
  source: string;
  updatedAt?: number;
  entries: number;
  match(inventory: Inventory): Finding[];
}

/** The ecosystems an image's packages belong to, from its package manager and os-release. */
function ecosystemOf(pkg: InstalledPackage, os: Inventory['os']): { base: string; release?: string } {
  const id = os?.id?.toLowerCase();
  if (pkg.manager === 'apk') return { base: 'Alpine', release: os?.versionId ? `v${os.versionId.split('.').slice(0, 2).join('.')}` : undefined };
  if (pkg.manager === 'dpkg') {
    if (id === 'ubuntu') return { base: 'Ubuntu', release: os?.versionId };
    return { base: 'Debian', release: os?.versionId?.split('.')[0] };
  }
  const rpmBases: Record<string, string> = { rhel: 'Red Hat', rocky: 'Rocky Linux', almalinux: 'AlmaLinux', opensuse: 'openSUSE', sles: 'SUSE', fedora: 'Fedora', mariner: 'Mariner', azurelinux: 'Azure Linux', amzn: 'Amazon Linux' };
  return { base: (id && rpmBases[id]) ?? 'Red Hat', release: os?.versionId?.split('.')[0] };
}

const comparators = { dpkg: compareDpkg, apk: compareApk, rpm: compareRpm } as const;

/** OSV's range semantics: affected from an `introduced` up to (not including) `fixed`, or through `last_affected`. */
export function inRange(version: string, events: OsvEvent[], compare: (a: string, b: string) => number): boolean {
  const key = (e: OsvEvent) => e.introduced ?? e.fixed ?? e.last_affected ?? e.limit ?? '0';
  const sorted = [...events].sort((a, b) => {
    if (a.introduced === '0') return -1;
    if (b.introduced === '0') return 1;
    return compare(key(a), key(b));
  });
  let affected = false;
  for (const e of sorted) {
    if (e.introduced !== undefined && (e.introduced === '0' || compare(version, e.introduced) >= 0)) affected = true;
    else if (e.fixed !== undefined && compare(version, e.fixed) >= 0) affected = false;
    else if (e.last_affected !== undefined && compare(version, e.last_affected) > 0) affected = false;
    else if (e.limit !== undefined && compare(version, e.limit) >= 0) affected = false;
  }
  return affected;
}

function severityOf(vuln: OsvVulnerability, affected: OsvAffected): Finding['severity'] {
  const raw = (affected.ecosystem_specific?.severity ?? affected.database_specific?.severity ?? vuln.database_specific?.severity ?? affected.ecosystem_specific?.urgency ?? '').toLowerCase();
  const byWord: Record<string, Finding['severity']> = {
    critical: 'CRITICAL',
    high: 'HIGH',
    important: 'HIGH',
    medium: 'MEDIUM',
    moderate: 'MEDIUM',
    low: 'LOW',
    negligible: 'INFORMATIONAL',
    unimportant: 'INFORMATIONAL',
    informational: 'INFORMATIONAL',
  };
  return byWord[raw.replace(/\*+$/, '').trim()] ?? 'UNDEFINED';
}

function findingName(vuln: OsvVulnerability): string {
  return vuln.id.startsWith('CVE-') ? vuln.id : (vuln.aliases?.find((a) => a.startsWith('CVE-')) ?? vuln.id);
}

export function buildDatabase(vulns: OsvVulnerability[], source: string): VulnerabilityDatabase {
  // Index by ecosystem base and package name.
  const index = new Map<string, { vuln: OsvVulnerability; affected: OsvAffected; release?: string }[]>();
  let updatedAt: number | undefined;
  for (const vuln of vulns) {
    if (!vuln || typeof vuln.id !== 'string') continue;
    const modified = vuln.modified ? Date.parse(vuln.modified) / 1000 : NaN;
    if (!Number.isNaN(modified)) updatedAt = Math.max(updatedAt ?? 0, modified);
    for (const affected of vuln.affected ?? []) {
      const eco = affected.package?.ecosystem;
      const name = affected.package?.name;
      if (!eco || !name) continue;
      const [base, release] = eco.split(':', 2) as [string, string | undefined];
      const key = `${base}\n${name}`;
      index.set(key, [...(index.get(key) ?? []), { vuln, affected, release }]);
    }
  }
  return {
    source,
    updatedAt,
    entries: vulns.length,
    match(inv) {
      const findings = new Map<string, Finding>();
      for (const pkg of inv.packages) {
        const eco = ecosystemOf(pkg, inv.os);
        const compare = comparators[pkg.manager];
        for (const name of new Set([pkg.name, pkg.source].filter((n): n is string => Boolean(n)))) {
          for (const { vuln, affected, release } of index.get(`${eco.base}\n${name}`) ?? []) {
            // An entry for one release (Debian:12) does not apply to another (Debian:11).
            if (release && eco.release && release !== eco.release) continue;
            const listed = affected.versions?.includes(pkg.version) ?? false;
            const ranged = (affected.ranges ?? []).some((r) => (r.type ?? 'ECOSYSTEM') === 'ECOSYSTEM' && inRange(pkg.version, r.events ?? [], compare));
            if (!listed && !ranged) continue;
            const finding: Finding = {
              name: findingName(vuln),
              description: vuln.summary ?? vuln.details,
              uri: vuln.references?.find((r) => r.type === 'ADVISORY')?.url ?? vuln.references?.[0]?.url ?? `https://osv.dev/vulnerability/${vuln.id}`,
              severity: severityOf(vuln, affected),
              attributes: [
                { key: 'package_name', value: pkg.name },
                { key: 'package_version', value: pkg.version },
                ...(vuln.severity ?? []).filter((s) => s.type && s.score).map((s) => ({ key: `${s.type}_VECTOR`.replace('CVSS_V', 'CVSS'), value: s.score })),
              ],
            };
            findings.set(`${finding.name}\n${pkg.name}\n${pkg.version}`, finding);
          }
        }
      }
      return [...findings.values()];
    },
  };
}

async function jsonFiles(path: string): Promise<string[]> {
  const info = await stat(path);
  if (!info.isDirectory()) return [path];
  const out: string[] = [];
  for (const entry of await readdir(path, { withFileTypes: true })) {
    const full = join(path, entry.name);
    if (entry.isDirectory()) out.push(...(await jsonFiles(full)));
    else if (entry.name.endsWith('.json')) out.push(full);
  }
  return out.sort();
}

/** Loads the OSV file or directory at `path`. */
export async function loadOsvDatabase(path: string): Promise<VulnerabilityDatabase> {
  const vulns: OsvVulnerability[] = [];
  for (const file of await jsonFiles(path)) {
    let doc: unknown;
    try {
      doc = JSON.parse(await readFile(file, 'utf8'));
    } catch (e) {
      throw new Error(`${file} is not valid JSON: ${(e as Error).message}`);
    }
    if (Array.isArray(doc)) vulns.push(...(doc as OsvVulnerability[]));
    else if (doc && typeof doc === 'object' && Array.isArray((doc as { vulns?: unknown }).vulns)) vulns.push(...(doc as { vulns: OsvVulnerability[] }).vulns);
    else vulns.push(doc as OsvVulnerability);
  }
  return buildDatabase(vulns, path);
}

/** Loads the database once and again only when the file or directory changes. */
export class OsvDatabaseCache {
  private loaded?: { mtimeMs: number; db: Promise<VulnerabilityDatabase> };

  constructor(readonly path: string | undefined) {}

  async get(): Promise<VulnerabilityDatabase | undefined> {
    if (!this.path) return undefined;
    const mtimeMs = (await stat(this.path)).mtimeMs;
    if (!this.loaded || this.loaded.mtimeMs !== mtimeMs) {
      this.loaded = { mtimeMs, db: loadOsvDatabase(this.path) };
      this.loaded.db.catch(() => (this.loaded = undefined));
    }
    return this.loaded.db;
  }
}
