/**
 * The registry module's public surface: blob storage, uploads, image metadata, the /v2/
 * routes and garbage collection. app.ts builds one `Registry` per data dir.
 */
import { join } from 'node:path';
import type { Clock } from '../core/clock.js';
import type { Store } from '../store/store.js';
import { FsBlobStore, type BlobStore } from './blob-store.js';
import { BlobCollector } from './gc.js';
import { RegistryImages } from './images.js';
import { RegistryTokens } from './tokens.js';
import { Uploads } from './uploads.js';

export { FsBlobStore, sha256Digest, SHA256_DIGEST, type BlobStore, type BlobInfo } from './blob-store.js';
export { RegistryError, type RegistryErrorCode } from './errors.js';
export { RegistryImages, TAG_PATTERN } from './images.js';
export { isIndex, MEDIA_TYPES, parseManifest } from './manifests.js';
export { registerRegistryRoutes, DOWNLOAD_TOKEN_PARAM, type RepositoryLookup, type RegistryScope } from './routes.js';
export { RegistryTokens, REGISTRY_USERNAME, TOKEN_LIFETIME_SECONDS, LAYER_DOWNLOAD_LIFETIME_SECONDS, basicPassword, type TokenClaims, type LayerDownloadClaims } from './tokens.js';
export { Uploads } from './uploads.js';
export { BlobCollector, type GcReport } from './gc.js';

export interface Registry {
  blobs: BlobStore;
  uploads: Uploads;
  images: RegistryImages;
  tokens: RegistryTokens;
  collector: BlobCollector;
}

/**
 * Storage under `<dataDir>/registry/`: `blobs/sha256/ab/<hex>`, `tmp/`, `uploads/<uuid>/`,
 * and `token-secret` (the HMAC key of registry tokens).
 */
export async function createRegistry(deps: { dataDir: string; store: Store; clock: Clock }): Promise<Registry> {
  const root = join(deps.dataDir, 'registry');
  const blobs = new FsBlobStore(root);
  await blobs.init();
  const uploads = new Uploads(join(root, 'uploads'), blobs);
  await uploads.init();
  const images = new RegistryImages(deps.store, blobs, deps.clock);
  return {
    blobs,
    uploads,
    images,
    tokens: new RegistryTokens(join(root, 'token-secret')),
    collector: new BlobCollector(deps.store, blobs, images, uploads),
  };
}
