/**
 * Registry replication: an image pushed to a repository is copied to the repository of the
 * same name in every destination region of the registry's replication rules (same account),
 * which is created if missing, as ECR does. Blobs are content-addressed and shared by all
 * regions, so a copy only links the blobs and records the manifest and tag there.
 * Images that arrived by replication are not replicated again.
 */
import type { BlobStore, RegistryImages } from '../../registry/index.js';
import type { EcrImageDoc, EcrRepositoryDoc } from '../../store/collections.js';
import type { Scope } from './arns.js';
import type { RegistrySettings } from './registry-settings.js';
import type { Repositories } from './repositories.js';

export class Replication {
  constructor(
    private readonly settings: RegistrySettings,
    private readonly repos: Repositories,
    private readonly images: RegistryImages,
    private readonly blobs: BlobStore,
  ) {}

  /** Copies `digest` (and `tag`) of `source` to every destination its registry's rules name. */
  async replicate(source: EcrRepositoryDoc, digest: string, tag: string | undefined): Promise<number> {
    const scope: Scope = { accountId: source.accountId, region: source.region };
    const targets = await this.settings.replicationTargets(scope, source.repositoryName);
    for (const dest of targets) {
      const target = await this.repos.ensure({ accountId: dest.registryId, region: dest.region }, source.repositoryName);
      await this.copy(source, target, digest, tag);
    }
    return targets.length;
  }

  /** Copies one image into `target`: its blobs, then (for an index) its child manifests, then itself. */
  private async copy(source: EcrRepositoryDoc, target: EcrRepositoryDoc, digest: string, tag: string | undefined): Promise<void> {
    const image: EcrImageDoc = await this.images.getManifest(source.repositoryArn, digest);
    for (const blob of image.blobs) {
      if (await this.images.linkedBlob(target.repositoryArn, blob)) continue;
      const info = await this.blobs.stat(blob);
      if (info) await this.images.linkBlob(target.repositoryArn, info);
    }
    for (const child of image.children) {
      const present = await this.images.getManifest(target.repositoryArn, child).then(() => true, () => false);
      if (!present) await this.copy(source, target, child, undefined);
    }
    await this.images.putManifest(target, tag ?? digest, Buffer.from(image.manifest, 'utf8'), image.mediaType, { replicated: true });
  }
}
