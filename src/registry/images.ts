/**
 * Registry metadata over the Store: which blobs are linked into which repository, the
 * manifests (images) each repository holds, and its tags. Every change is one transaction.
 * Both the /v2/ data plane and the ECR API (PutImage, BatchDeleteImage, ...) go through here,
 * so they enforce the same rules (referenced blobs exist, IMMUTABLE tags, ...).
 */
import type { Clock } from '../core/clock.js';
import * as c from '../store/collections.js';
import type { EcrImageDoc, EcrRepositoryDoc, EcrTagDoc } from '../store/collections.js';
import type { Store, StoreTx } from '../store/store.js';
import { ANY_DIGEST, sha256Digest, SHA256_DIGEST, type BlobInfo, type BlobStore } from './blob-store.js';
import { digestInvalid, manifestUnknown, RegistryError } from './errors.js';
import { MAX_MANIFEST_BYTES, parseManifest, type Descriptor } from './manifests.js';

export const TAG_PATTERN = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;

const imageKey = (repositoryArn: string, digest: string) => `${repositoryArn}@${digest}`;
const tagKey = (repositoryArn: string, tag: string) => `${repositoryArn}:${tag}`;

export interface PutManifestResult {
  digest: string;
  image: EcrImageDoc;
  /** True when neither the manifest nor the tag changed (ECR's PutImage refuses that). */
  unchanged: boolean;
}

/** Told after a manifest was stored (new image or moved tag), by either push path. */
export type PushListener = (repo: EcrRepositoryDoc, pushed: { digest: string; tag?: string; image: EcrImageDoc; replicated: boolean }) => void;

export class RegistryImages {
  private readonly pushListeners: PushListener[] = [];

  constructor(
    private readonly store: Store,
    private readonly blobs: BlobStore,
    private readonly clock: Clock,
  ) {}

  /** Registers a listener for pushes (ECR's replication and scan on push); it must not throw. */
  onPush(listener: PushListener): void {
    this.pushListeners.push(listener);
  }

  // ---- blobs linked into repositories

  async linkedBlob(repositoryArn: string, digest: string): Promise<BlobInfo | undefined> {
    if (!SHA256_DIGEST.test(digest)) return undefined;
    const link = await this.store.read((tx) => tx.get(c.ecrLayers, imageKey(repositoryArn, digest)));
    if (!link) return undefined;
    return this.blobs.stat(digest);
  }

  async linkBlob(repositoryArn: string, blob: BlobInfo): Promise<void> {
    await this.store.write(async (tx) => {
      const key = imageKey(repositoryArn, blob.digest);
      if (await tx.get(c.ecrLayers, key)) return;
      await tx.insert(c.ecrLayers, key, { repositoryArn, digest: blob.digest, size: blob.size, createdAt: this.clock.now() });
    });
  }

  async unlinkBlob(repositoryArn: string, digest: string): Promise<boolean> {
    return this.store.write((tx) => tx.delete(c.ecrLayers, imageKey(repositoryArn, digest)));
  }

  // ---- manifests and tags

  /**
   * Stores a manifest under `reference` (a tag or its own digest). Checks its structure, that
   * the digest matches, that every blob and child manifest it names exists in the repository,
   * and the repository's tag mutability.
   */
  async putManifest(repo: EcrRepositoryDoc, reference: string, body: Buffer, contentType?: string, opts: { replicated?: boolean } = {}): Promise<PutManifestResult> {
    if (body.length > MAX_MANIFEST_BYTES) throw new RegistryError('SIZE_INVALID', `manifest is larger than ${MAX_MANIFEST_BYTES} bytes`);
    const parsed = parseManifest(body, contentType);
    const digest = sha256Digest(body);
    const byDigest = ANY_DIGEST.test(reference);
    if (byDigest && reference !== digest) throw digestInvalid('manifest digest did not match', reference);
    if (!byDigest && !TAG_PATTERN.test(reference)) throw new RegistryError('TAG_INVALID', `invalid tag ${reference}`, { tag: reference });
    const tag = byDigest ? undefined : reference;

    // Blob files are checked outside the transaction (filesystem); links and manifests inside.
    const blobInfos = new Map<string, BlobInfo>();
    for (const d of parsed.blobs) {
      const info = SHA256_DIGEST.test(d.digest) ? await this.blobs.stat(d.digest) : undefined;
      if (!info) throw new RegistryError('MANIFEST_BLOB_UNKNOWN', 'blob unknown to registry', { digest: d.digest });
      blobInfos.set(d.digest, info);
    }
    const repositoryArn = repo.repositoryArn;
    const result = await this.store.write(async (tx) => {
      for (const d of parsed.blobs) {
        if (!(await tx.get(c.ecrLayers, imageKey(repositoryArn, d.digest)))) {
          throw new RegistryError('MANIFEST_BLOB_UNKNOWN', 'blob unknown to registry', { digest: d.digest });
        }
      }
      for (const m of parsed.manifests) {
        if (!(await tx.get(c.ecrImages, imageKey(repositoryArn, m.digest)))) {
          throw new RegistryError('MANIFEST_BLOB_UNKNOWN', 'manifest unknown to registry', { digest: m.digest });
        }
      }
      let unchanged = true;
      const existing = await tx.get(c.ecrImages, imageKey(repositoryArn, digest));
      let image: EcrImageDoc;
      if (existing) {
        image = existing.data;
      } else {
        unchanged = false;
        image = {
          repositoryArn,
          digest,
          mediaType: parsed.mediaType,
          artifactMediaType: parsed.configMediaType,
          artifactType: parsed.artifactType,
          manifest: body.toString('utf8'),
          manifestSize: body.length,
          size: parsed.layersSize || (parsed.manifests.length ? body.length : 0),
          pushedAt: this.clock.now(),
          blobs: parsed.blobs.map((b) => b.digest),
          children: parsed.manifests.map((m) => m.digest),
          subject: parsed.subject?.digest,
          annotations: parsed.annotations,
        };
        await tx.insert(c.ecrImages, imageKey(repositoryArn, digest), image);
      }
      if (tag) {
        const current = await tx.get(c.ecrTags, tagKey(repositoryArn, tag));
        if (!current) {
          unchanged = false;
          await tx.insert(c.ecrTags, tagKey(repositoryArn, tag), { repositoryArn, tag, digest });
        } else if (current.data.digest !== digest) {
          if (repo.imageTagMutability === 'IMMUTABLE') {
            throw new RegistryError(
              'TAG_INVALID',
              `The image tag '${tag}' already exists in the '${repo.repositoryName}' repository and cannot be overwritten because the repository is immutable.`,
              { tag, immutable: true },
            );
          }
          unchanged = false;
          await tx.update(c.ecrTags, current, { ...current.data, digest });
        }
      }
      return { digest, image, unchanged };
    });
    // A manifest that references a blob keeps it alive: refresh the GC grace clock too.
    await Promise.all([...blobInfos.keys()].map((d) => this.blobs.touch(d)));
    if (!result.unchanged) for (const listener of this.pushListeners) listener(repo, { digest: result.digest, tag, image: result.image, replicated: opts.replicated ?? false });
    return result;
  }

  /** The image a tag or digest names, or MANIFEST_UNKNOWN. */
  async getManifest(repositoryArn: string, reference: string): Promise<EcrImageDoc> {
    const image = await this.store.read((tx) => this.resolve(tx, repositoryArn, reference));
    if (!image) throw manifestUnknown(reference);
    return image;
  }

  async findImage(tx: StoreTx, repositoryArn: string, reference: string): Promise<EcrImageDoc | undefined> {
    return this.resolve(tx, repositoryArn, reference);
  }

  private async resolve(tx: StoreTx, repositoryArn: string, reference: string): Promise<EcrImageDoc | undefined> {
    let digest = reference;
    if (!ANY_DIGEST.test(reference)) {
      const tag = await tx.get(c.ecrTags, tagKey(repositoryArn, reference));
      if (!tag) return undefined;
      digest = tag.data.digest;
    }
    return (await tx.get(c.ecrImages, imageKey(repositoryArn, digest)))?.data;
  }

  /** ECR's lastRecordedPullTime; at most one write a minute per image to keep pulls cheap. */
  async recordPull(image: EcrImageDoc): Promise<void> {
    const now = this.clock.now();
    if (image.lastRecordedPullTime !== undefined && now - image.lastRecordedPullTime < 60) return;
    await this.store.write(async (tx) => {
      const row = await tx.get(c.ecrImages, imageKey(image.repositoryArn, image.digest));
      if (row) await tx.update(c.ecrImages, row, { ...row.data, lastRecordedPullTime: now });
    });
  }

  async tagsOf(tx: StoreTx, repositoryArn: string, digest?: string): Promise<EcrTagDoc[]> {
    const rows = await tx.find(c.ecrTags, { where: digest ? { repo: repositoryArn, digest } : { repo: repositoryArn }, orderBy: [['tag', 'asc']] });
    return rows.map((r) => r.data);
  }

  async listTags(repositoryArn: string): Promise<string[]> {
    const tags = await this.store.read((tx) => this.tagsOf(tx, repositoryArn));
    return tags.map((t) => t.tag).sort();
  }

  async listImages(tx: StoreTx, repositoryArn: string): Promise<EcrImageDoc[]> {
    return (await tx.find(c.ecrImages, { where: { repo: repositoryArn }, orderBy: [['pushed_at', 'desc']] })).map((r) => r.data);
  }

  /** Deletes an image and every tag on it (inside the caller's transaction). */
  async deleteImageTx(tx: StoreTx, repositoryArn: string, digest: string): Promise<string[]> {
    const tags = await this.tagsOf(tx, repositoryArn, digest);
    for (const t of tags) await tx.delete(c.ecrTags, tagKey(repositoryArn, t.tag));
    await tx.delete(c.ecrImages, imageKey(repositoryArn, digest));
    await tx.delete(c.ecrImageScans, imageKey(repositoryArn, digest));
    return tags.map((t) => t.tag);
  }

  /** Removes one tag; deletes the image too when it was its last tag, as ECR's BatchDeleteImage does. */
  async untagTx(tx: StoreTx, repositoryArn: string, tag: string, dropUntagged: boolean): Promise<string | undefined> {
    const row = await tx.get(c.ecrTags, tagKey(repositoryArn, tag));
    if (!row) return undefined;
    await tx.delete(c.ecrTags, row.pk);
    if (dropUntagged && (await this.tagsOf(tx, repositoryArn, row.data.digest)).length === 0) {
      await tx.delete(c.ecrImages, imageKey(repositoryArn, row.data.digest));
      await tx.delete(c.ecrImageScans, imageKey(repositoryArn, row.data.digest));
    }
    return row.data.digest;
  }

  async deleteManifest(repositoryArn: string, reference: string): Promise<void> {
    await this.store.write(async (tx) => {
      if (ANY_DIGEST.test(reference)) {
        if (!(await tx.get(c.ecrImages, imageKey(repositoryArn, reference)))) throw manifestUnknown(reference);
        await this.deleteImageTx(tx, repositoryArn, reference);
      } else {
        // OCI 1.1 allows deleting a tag alone; the manifest stays, reachable by digest.
        if (!(await this.untagTx(tx, repositoryArn, reference, false))) throw manifestUnknown(reference);
      }
    });
  }

  /** Descriptors of the manifests whose `subject` is `digest` (the referrers API). */
  async referrers(repositoryArn: string, digest: string, artifactType?: string): Promise<Descriptor[]> {
    const rows = await this.store.read((tx) => tx.find(c.ecrImages, { where: { repo: repositoryArn, subject: digest } }));
    return rows
      .map(({ data: m }) => ({
        mediaType: m.mediaType,
        digest: m.digest,
        size: m.manifestSize,
        artifactType: m.artifactType ?? m.artifactMediaType,
        ...(m.annotations ? { annotations: m.annotations } : {}),
      }))
      .filter((d) => !artifactType || d.artifactType === artifactType)
      .sort((a, b) => (a.digest < b.digest ? -1 : 1));
  }

  /** Every blob digest that some manifest in some repository references (for GC). */
  async referencedBlobs(): Promise<Set<string>> {
    const rows = await this.store.read((tx) => tx.find(c.ecrImages));
    const out = new Set<string>();
    for (const r of rows) for (const b of r.data.blobs) out.add(b);
    return out;
  }

  /** Deletes every row of a repository (images, tags, links), inside the caller's transaction. */
  async purgeRepositoryTx(tx: StoreTx, repositoryArn: string): Promise<void> {
    const where = { repo: repositoryArn };
    for (const row of await tx.find(c.ecrTags, { where })) await tx.delete(c.ecrTags, row.pk);
    for (const row of await tx.find(c.ecrImages, { where })) await tx.delete(c.ecrImages, row.pk);
    for (const row of await tx.find(c.ecrLayers, { where })) await tx.delete(c.ecrLayers, row.pk);
    for (const row of await tx.find(c.ecrImageScans, { where })) await tx.delete(c.ecrImageScans, row.pk);
  }
}
