/**
 * ECR basic image scanning: StartImageScan, DescribeImageScanFindings and scan on push. A scan
 * inventories the packages in the image's layers (inventory.ts) and matches them against the
 * operator's OSV database (osv.ts), then stores the result as ECR reports it. It runs in the
 * background (IN_PROGRESS first, as in ECR); `idle()` waits for scans in flight.
 */
import type { Clock } from '../../../core/clock.js';
import { paginate } from '../../../core/pagination.js';
import { isIndex, type BlobStore, type RegistryImages } from '../../../registry/index.js';
import * as c from '../../../store/collections.js';
import type { EcrImageDoc, EcrImageScanDoc, EcrRepositoryDoc } from '../../../store/collections.js';
import type { Store } from '../../../store/store.js';
import { AwsError } from '../../../aws/errors.js';
import type { Scope } from '../arns.js';
import * as err from '../errors.js';
import { imageById, type ImageId } from '../images.js';
import type { Repositories } from '../repositories.js';
import { inventory, type Layer } from './inventory.js';
import type { OsvDatabaseCache } from './osv.js';

export interface ScanLog {
  error(obj: object, msg: string): void;
}

const scanKey = (repositoryArn: string, digest: string) => `${repositoryArn}@${digest}`;
const SEVERITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFORMATIONAL', 'UNDEFINED'] as const;

export class ImageScans {
  private readonly running = new Set<Promise<void>>();
  /** Keys of the scans this process is running: an IN_PROGRESS scan not among them was cut short by a restart. */
  private readonly inFlight = new Set<string>();

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly repos: Repositories,
    private readonly images: RegistryImages,
    private readonly blobs: BlobStore,
    private readonly database: OsvDatabaseCache,
    private readonly log: ScanLog,
  ) {}

  private async image(repo: EcrRepositoryDoc, id: ImageId): Promise<EcrImageDoc> {
    const image = await this.store.read((tx) => imageById(this.images, tx, repo.repositoryArn, id));
    if (!image) throw err.imageNotFound(id, repo.repositoryName, repo.registryId);
    return image;
  }

  async start(scope: Scope, input: { repositoryName: string; registryId?: string; imageId: ImageId }) {
    const repo = await this.repos.require(scope, input.repositoryName, input.registryId);
    if (!input.imageId.imageDigest && !input.imageId.imageTag) {
      throw err.invalidParameter(`Invalid parameter at 'imageId' failed to satisfy constraint: 'Either imageDigest or imageTag must be specified'`);
    }
    const image = await this.image(repo, input.imageId);
    if (isIndex(image.mediaType)) {
      throw new AwsError('UnsupportedImageTypeException', `The image with digest '${image.digest}' is a manifest list or image index and cannot be scanned; scan the images it references`);
    }
    this.begin(repo, image);
    return {
      registryId: repo.registryId,
      repositoryName: repo.repositoryName,
      imageId: { imageDigest: image.digest, imageTag: input.imageId.imageTag },
      imageScanStatus: { status: 'IN_PROGRESS' },
    };
  }

  /** Scan on push: images only (an index's children are scanned as they are pushed). */
  scanPushed(repo: EcrRepositoryDoc, image: EcrImageDoc): void {
    if (!isIndex(image.mediaType)) this.begin(repo, image);
  }

  private begin(repo: EcrRepositoryDoc, image: EcrImageDoc): void {
    const key = scanKey(repo.repositoryArn, image.digest);
    this.inFlight.add(key);
    const job = this.run(repo, image)
      .catch((e: unknown) => this.log.error({ err: e, repository: repo.repositoryArn, digest: image.digest }, 'image scan failed'))
      .finally(() => {
        this.running.delete(job);
        this.inFlight.delete(key);
      });
    this.running.add(job);
  }

  /** The stored scan, with one interrupted by a restart (IN_PROGRESS, not running here) reported as FAILED. */
  private async stored(repositoryArn: string, digest: string): Promise<EcrImageScanDoc | undefined> {
    const key = scanKey(repositoryArn, digest);
    const scan = (await this.store.read((tx) => tx.get(c.ecrImageScans, key)))?.data;
    if (scan?.status === 'IN_PROGRESS' && !this.inFlight.has(key)) {
      return { ...scan, status: 'FAILED', description: 'The scan failed: it was interrupted by a restart of Dockyard; start it again.' };
    }
    return scan;
  }

  /** Resolves when no scan is running (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  private async save(doc: EcrImageScanDoc): Promise<void> {
    await this.store.write(async (tx) => {
      // The image may have been deleted meanwhile: its scan goes with it.
      if (!(await this.images.findImage(tx, doc.repositoryArn, doc.digest))) return;
      const key = scanKey(doc.repositoryArn, doc.digest);
      const row = await tx.get(c.ecrImageScans, key);
      if (row) await tx.update(c.ecrImageScans, row, doc);
      else await tx.insert(c.ecrImageScans, key, doc);
    });
  }

  private async run(repo: EcrRepositoryDoc, image: EcrImageDoc): Promise<void> {
    const base: EcrImageScanDoc = {
      repositoryArn: repo.repositoryArn,
      digest: image.digest,
      status: 'IN_PROGRESS',
      description: '',
      startedAt: this.clock.now(),
      packages: [],
      findings: [],
    };
    await this.save(base);
    try {
      const inv = await inventory(await this.layers(image)).catch((e: unknown) => {
        throw new ScanFailure('the image layers could not be read as tar archives', e);
      });
      const db = await this.database.get().catch((e: unknown) => {
        throw new ScanFailure('the vulnerability database could not be loaded', e);
      });
      const findings = db ? db.match(inv) : [];
      const counts = countBy(inv.packages.map((p) => p.manager));
      const found = inv.packages.length
        ? `${inv.packages.length} packages found (${Object.entries(counts).map(([m, n]) => `${m} ${n}`).join(', ')})`
        : 'no package database (dpkg, apk, rpm) found in the image';
      const against = db
        ? `; matched against ${db.entries} vulnerabilities of the operator's OSV database` // not its path: callers need not see the host's files
        : '; no vulnerability database is configured (--ecr-vulnerability-db or DOCKYARD_ECR_VULNERABILITY_DB), so there are no findings';
      const notes = inv.notes.length ? `; ${inv.notes.join('; ')}` : '';
      await this.save({
        ...base,
        status: 'COMPLETE',
        description: `The scan was completed successfully: ${found}${against}${notes}.`,
        completedAt: this.clock.now(),
        vulnerabilitySourceUpdatedAt: db?.updatedAt,
        packages: inv.packages.map((p) => ({ name: p.name, version: p.version, ecosystem: p.manager, source: p.source })),
        findings: findings.sort((a, b) => SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity) || (a.name < b.name ? -1 : 1)),
      });
    } catch (e) {
      // The caller sees what failed; the detail (file paths, parser errors) goes to the log only.
      this.log.error({ err: e instanceof ScanFailure ? e.cause : e, repository: repo.repositoryArn, digest: image.digest }, 'image scan failed');
      const what = e instanceof ScanFailure ? e.message : 'an internal error';
      await this.save({ ...base, status: 'FAILED', description: `The scan failed: ${what}.`, completedAt: this.clock.now() });
    }
  }

  /** The image's layers in order, each told apart as gzip, zstd or plain tar by its first bytes. */
  private async layers(image: EcrImageDoc): Promise<Layer[]> {
    const manifest = JSON.parse(image.manifest) as { layers?: { digest: string; urls?: string[] }[] };
    const out: Layer[] = [];
    for (const l of manifest.layers ?? []) {
      if (l.urls?.length) continue; // foreign layers are not stored here
      const head = await this.blobs.open(l.digest, { start: 0, end: 3 });
      if (!head) throw new Error(`layer ${l.digest} is missing from the registry`);
      const magic = Buffer.concat(await head.toArray());
      const compression = magic[0] === 0x1f && magic[1] === 0x8b ? 'gzip' : magic.length >= 4 && magic.readUInt32LE(0) === 0xfd2fb528 ? 'zstd' : 'none';
      out.push({
        compression,
        open: async () => {
          const stream = await this.blobs.open(l.digest);
          if (!stream) throw new Error(`layer ${l.digest} is missing from the registry`);
          return stream;
        },
      });
    }
    return out;
  }

  async findings(scope: Scope, input: { repositoryName: string; registryId?: string; imageId: ImageId; maxResults?: number; nextToken?: string }) {
    const repo = await this.repos.require(scope, input.repositoryName, input.registryId);
    const image = await this.image(repo, input.imageId);
    const scan = await this.stored(repo.repositoryArn, image.digest);
    if (!scan) throw err.scanNotFound(input.imageId, repo.repositoryName, repo.registryId);
    const out = {
      registryId: repo.registryId,
      repositoryName: repo.repositoryName,
      imageId: { imageDigest: image.digest, imageTag: input.imageId.imageTag },
      imageScanStatus: { status: scan.status, description: scan.description || undefined },
    };
    if (scan.status !== 'COMPLETE') return out;
    const indexed = scan.findings.map((f, i) => ({ ...f, key: String(i).padStart(8, '0') }));
    const page = paginate(indexed, (f) => f.key, input.maxResults ?? 100, input.nextToken);
    return {
      ...out,
      imageScanFindings: {
        imageScanCompletedAt: scan.completedAt,
        vulnerabilitySourceUpdatedAt: scan.vulnerabilitySourceUpdatedAt,
        findingSeverityCounts: countBy(scan.findings.map((f) => f.severity)),
        findings: page.items.map(({ key: _key, ...f }) => f),
      },
      nextToken: page.nextToken,
    };
  }

  /** DescribeImages' imageScanStatus and imageScanFindingsSummary for one image, when scanned. */
  async summary(repositoryArn: string, digest: string) {
    const scan = await this.stored(repositoryArn, digest);
    if (!scan) return {};
    return {
      imageScanStatus: { status: scan.status, description: scan.description || undefined },
      ...(scan.status === 'COMPLETE'
        ? { imageScanFindingsSummary: { imageScanCompletedAt: scan.completedAt, vulnerabilitySourceUpdatedAt: scan.vulnerabilitySourceUpdatedAt, findingSeverityCounts: countBy(scan.findings.map((f) => f.severity)) } }
        : {}),
    };
  }
}

class ScanFailure extends Error {
  constructor(message: string, override readonly cause: unknown) {
    super(message);
  }
}

function countBy(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}
