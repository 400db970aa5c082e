/**
 * Garbage collection of blobs and abandoned uploads.
 *
 * A blob is garbage when no manifest in any repository references it. It is safe to run
 * while pushes are in flight because a push first uploads its blobs, or finds them present
 * (a blob HEAD or a mount refreshes the blob's mtime), and only then puts the manifest: blobs
 * written or touched within the grace period are never collected, so a manifest put that lands
 * after the referenced-set snapshot still finds its blobs. The referenced set is read twice
 * (before and after the scan). Layer links of collected blobs are removed before the bytes, so
 * the registry never advertises a blob it lost. Not covered: a client that puts a manifest
 * naming a blob it has not uploaded, HEADed or mounted for longer than the grace period.
 */
import * as c from '../store/collections.js';
import type { Store } from '../store/store.js';
import type { BlobInfo, BlobStore } from './blob-store.js';
import type { RegistryImages } from './images.js';
import type { Uploads } from './uploads.js';

export interface GcOptions {
  /** Blobs modified more recently than this are kept even when unreferenced. */
  graceMs: number;
  nowMs?: number;
  dryRun?: boolean;
}

export interface GcReport {
  scanned: number;
  deleted: string[];
  freedBytes: number;
}

export class BlobCollector {
  constructor(
    private readonly store: Store,
    private readonly blobs: BlobStore,
    private readonly images: RegistryImages,
    private readonly uploads: Uploads,
  ) {}

  async collect(opts: GcOptions): Promise<GcReport> {
    const now = opts.nowMs ?? Date.now();
    const report: GcReport = { scanned: 0, deleted: [], freedBytes: 0 };
    const referenced = await this.images.referencedBlobs();
    const candidates: BlobInfo[] = [];
    for await (const blob of this.blobs.list()) {
      report.scanned++;
      if (!referenced.has(blob.digest) && now - blob.modifiedAt >= opts.graceMs) candidates.push(blob);
    }
    // Second look right before deleting: a manifest put or a HEAD during the scan saves a blob.
    const stillReferenced = await this.images.referencedBlobs();
    for (const candidate of candidates) {
      const blob = await this.blobs.stat(candidate.digest);
      if (!blob || stillReferenced.has(blob.digest) || now - blob.modifiedAt < opts.graceMs) continue;
      report.deleted.push(blob.digest);
      report.freedBytes += blob.size;
      if (opts.dryRun) continue;
      // Drop the links first: a concurrent HEAD then answers 404 and the client re-uploads.
      await this.store.write(async (tx) => {
        for (const row of await tx.find(c.ecrLayers, { where: { digest: blob.digest } })) await tx.delete(c.ecrLayers, row.pk);
      });
      await this.blobs.delete(blob.digest);
    }
    return report;
  }

  sweepUploads(ttlMs: number, nowMs?: number): Promise<number> {
    return this.uploads.sweep(ttlMs, nowMs);
  }
}
