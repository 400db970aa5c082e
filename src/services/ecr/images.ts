/**
 * ECR image and layer operations over the registry's storage: ListImages, DescribeImages,
 * BatchGetImage, BatchDeleteImage, PutImage, and the API-side layer upload
 * (InitiateLayerUpload / UploadLayerPart / CompleteLayerUpload) that shares the registry's
 * upload sessions, so both paths verify digests and store blobs the same way.
 */
import type { Image, ImageFailure, Layer, LayerFailure } from '../../aws/generated/ecr.js';
import { Readable } from 'node:stream';
import { AwsError } from '../../aws/errors.js';
import { paginate } from '../../core/pagination.js';
import {
  DOWNLOAD_TOKEN_PARAM,
  RegistryError,
  SHA256_DIGEST,
  sha256Digest,
  TAG_PATTERN,
  LAYER_DOWNLOAD_LIFETIME_SECONDS,
  type RegistryImages,
  type RegistryTokens,
  type Uploads,
} from '../../registry/index.js';
import type { Clock } from '../../core/clock.js';
import type { EcrImageDoc } from '../../store/collections.js';
import type { Store, StoreTx } from '../../store/store.js';
import type { Scope } from './arns.js';
import * as err from './errors.js';
import type { Repositories, RepositoryRecord } from './repositories.js';

export interface ImageId {
  imageDigest?: string;
  imageTag?: string;
}

type TagStatus = 'TAGGED' | 'UNTAGGED' | 'ANY';

/** ECR's layer part size hint for InitiateLayerUpload (10 MiB). */
const PART_SIZE = 10 * 1024 * 1024;

export class EcrImages {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly repos: Repositories,
    private readonly images: RegistryImages,
    private readonly uploads: Uploads,
    private readonly tokens: RegistryTokens,
    private readonly registryHost: () => string,
    private readonly registryScheme: 'http' | 'https' = 'http',
  ) {}

  /** Images of a repository with their tags, newest first. */
  async withTags(tx: StoreTx, repositoryArn: string): Promise<{ image: EcrImageDoc; tags: string[] }[]> {
    const images = await this.images.listImages(tx, repositoryArn);
    const tags = await this.images.tagsOf(tx, repositoryArn);
    const byDigest = new Map<string, string[]>();
    for (const t of tags) byDigest.set(t.digest, [...(byDigest.get(t.digest) ?? []), t.tag]);
    return images.map((image) => ({ image, tags: byDigest.get(image.digest) ?? [] }));
  }

  async list(scope: Scope, input: { repositoryName: string; registryId?: string; filter?: { tagStatus?: TagStatus }; maxResults?: number; nextToken?: string }) {
    const repo = await this.repos.require(scope, input.repositoryName, input.registryId);
    const all = await this.store.read((tx) => this.withTags(tx, repo.repositoryArn));
    const status = input.filter?.tagStatus ?? 'ANY';
    const ids: ImageId[] = [];
    for (const { image, tags } of all) {
      if (tags.length === 0 && status !== 'TAGGED') ids.push({ imageDigest: image.digest });
      if (status !== 'UNTAGGED') for (const tag of tags) ids.push({ imageDigest: image.digest, imageTag: tag });
    }
    // Sorted by the pagination key, so a token stays valid when images come and go.
    const key = (id: ImageId) => `${id.imageDigest}/${id.imageTag ?? ''}`;
    ids.sort((a, b) => (key(a) < key(b) ? -1 : 1));
    const page = paginate(ids, key, input.maxResults ?? 100, input.nextToken);
    return { imageIds: page.items, nextToken: page.nextToken };
  }

  async describe(scope: Scope, input: {
    repositoryName: string;
    registryId?: string;
    imageIds?: ImageId[];
    filter?: { tagStatus?: TagStatus };
    maxResults?: number;
    nextToken?: string;
  }) {
    const repo = await this.repos.require(scope, input.repositoryName, input.registryId);
    if (input.imageIds && (input.maxResults !== undefined || input.nextToken !== undefined)) {
      throw err.invalidParameter(`Invalid parameter at 'imageIds' failed to satisfy constraint: 'imageIds cannot be used with maxResults or nextToken'`);
    }
    const all = await this.store.read((tx) => this.withTags(tx, repo.repositoryArn));
    let selected = all;
    if (input.imageIds) {
      selected = [];
      for (const id of input.imageIds) {
        const found = all.find((x) => matches(id, x.image.digest, x.tags));
        if (!found) throw err.imageNotFound(id, repo.repositoryName, repo.registryId);
        if (!selected.includes(found)) selected.push(found);
      }
    }
    const status = input.filter?.tagStatus ?? 'ANY';
    selected = selected.filter((x) => status === 'ANY' || (status === 'TAGGED') === x.tags.length > 0);
    if (!input.imageIds) selected = [...selected].sort((a, b) => (a.image.digest < b.image.digest ? -1 : 1));
    const page = paginate(selected, (x) => x.image.digest, input.maxResults ?? 100, input.nextToken);
    return {
      imageDetails: page.items.map(({ image, tags }) => ({
        registryId: repo.registryId,
        repositoryName: repo.repositoryName,
        imageDigest: image.digest,
        imageTags: tags.length ? tags : undefined,
        imageSizeInBytes: image.size,
        imagePushedAt: image.pushedAt,
        imageManifestMediaType: image.mediaType,
        artifactMediaType: image.artifactMediaType,
        lastRecordedPullTime: image.lastRecordedPullTime,
        imageStatus: 'ACTIVE',
      })),
      nextToken: page.nextToken,
    };
  }

  async batchGet(scope: Scope, input: { repositoryName: string; registryId?: string; imageIds: ImageId[]; acceptedMediaTypes?: string[] }) {
    const repo = await this.repos.require(scope, input.repositoryName, input.registryId);
    const images: Image[] = [];
    const failures: ImageFailure[] = [];
    await this.store.read(async (tx) => {
      for (const id of input.imageIds) {
        const failure = checkImageId(id);
        if (failure) {
          failures.push(failure);
          continue;
        }
        const image = await imageById(this.images, tx, repo.repositoryArn, id);
        if (!image) {
          failures.push({ imageId: id, failureCode: 'ImageNotFound', failureReason: 'Requested image not found' });
          continue;
        }
        if (input.acceptedMediaTypes && !input.acceptedMediaTypes.includes(image.mediaType)) {
          failures.push({ imageId: id, failureCode: 'ImageNotFound', failureReason: `Requested image's media type ${image.mediaType} is not accepted` });
          continue;
        }
        images.push({
          registryId: repo.registryId,
          repositoryName: repo.repositoryName,
          imageId: { imageDigest: image.digest, imageTag: id.imageTag },
          imageManifest: image.manifest,
          imageManifestMediaType: image.mediaType,
        });
      }
    });
    return { images, failures };
  }

  private async hasTag(tx: StoreTx, repositoryArn: string, tag: string, digest: string) {
    return (await this.images.findImage(tx, repositoryArn, tag))?.digest === digest;
  }

  async batchDelete(scope: Scope, input: { repositoryName: string; registryId?: string; imageIds: ImageId[] }) {
    const repo = await this.repos.require(scope, input.repositoryName, input.registryId);
    const imageIds: ImageId[] = [];
    const failures: ImageFailure[] = [];
    await this.store.write(async (tx) => {
      for (const id of input.imageIds) {
        const failure = checkImageId(id);
        if (failure) {
          failures.push(failure);
          continue;
        }
        const image = await this.images.findImage(tx, repo.repositoryArn, id.imageDigest ?? id.imageTag!);
        if (!image) {
          failures.push({ imageId: id, failureCode: 'ImageNotFound', failureReason: 'Requested image not found' });
          continue;
        }
        if (id.imageDigest && id.imageTag && !(await this.hasTag(tx, repo.repositoryArn, id.imageTag, image.digest))) {
          failures.push({ imageId: id, failureCode: 'ImageTagDoesNotMatchDigest', failureReason: 'Invalid image tag for image digest' });
          continue;
        }
        if (!id.imageTag || (await this.images.tagsOf(tx, repo.repositoryArn, image.digest)).length === 1) {
          // The image itself goes: refuse while a manifest list in the repository points at it.
          const parents = (await this.images.listImages(tx, repo.repositoryArn)).filter((m) => m.children.includes(image.digest));
          if (parents.length > 0) {
            failures.push({ imageId: id, failureCode: 'ImageReferencedByManifestList', failureReason: `Requested image referenced by manifest list: [${parents.map((p) => p.digest).join(', ')}]` });
            continue;
          }
        }
        if (id.imageTag) {
          await this.images.untagTx(tx, repo.repositoryArn, id.imageTag, true);
          imageIds.push({ imageDigest: image.digest, imageTag: id.imageTag });
        } else {
          const tags = await this.images.deleteImageTx(tx, repo.repositoryArn, image.digest);
          if (tags.length === 0) imageIds.push({ imageDigest: image.digest });
          for (const tag of tags) imageIds.push({ imageDigest: image.digest, imageTag: tag });
        }
      }
    });
    return { imageIds, failures };
  }

  async put(scope: Scope, input: {
    repositoryName: string;
    registryId?: string;
    imageManifest: string;
    imageManifestMediaType?: string;
    imageTag?: string;
    imageDigest?: string;
  }) {
    const repo = await this.repos.require(scope, input.repositoryName, input.registryId);
    if (input.imageTag !== undefined && !TAG_PATTERN.test(input.imageTag)) {
      throw err.invalidParameter(`Invalid parameter at 'imageTag' failed to satisfy constraint: 'must satisfy regular expression '[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}''`);
    }
    const body = Buffer.from(input.imageManifest, 'utf8');
    // ECR needs the media type from the manifest or the request (the /v2/ API has Content-Type);
    // without either it answers as for a manifest it cannot read.
    if (!input.imageManifestMediaType && !declaredMediaType(input.imageManifest)) throw err.invalidParameter(INVALID_MANIFEST);
    const reference = input.imageTag ?? input.imageDigest;
    try {
      const digest = sha256Digest(body);
      if (input.imageDigest && input.imageDigest !== digest) {
        throw new AwsError('ImageDigestDoesNotMatchException', `Invalid parameter at 'imageDigest' failed to satisfy constraint: 'The provided digest '${input.imageDigest}' does not match the digest of the manifest '${digest}''`);
      }
      const result = await this.images.putManifest(repo, reference ?? digest, body, input.imageManifestMediaType);
      if (result.unchanged) {
        throw new AwsError(
          'ImageAlreadyExistsException',
          `Image with digest '${result.digest}'${input.imageTag ? ` and tag '${input.imageTag}'` : ''} already exists in the repository with name '${repo.repositoryName}' in registry with id '${repo.registryId}'`,
        );
      }
      return {
        image: {
          registryId: repo.registryId,
          repositoryName: repo.repositoryName,
          imageId: { imageDigest: result.digest, imageTag: input.imageTag },
          imageManifest: input.imageManifest,
          imageManifestMediaType: result.image.mediaType,
        },
      };
    } catch (e) {
      throw translateRegistryError(e, repo);
    }
  }

  // ---- layers through the API

  async checkLayers(scope: Scope, input: { repositoryName: string; registryId?: string; layerDigests: string[] }) {
    const repo = await this.repos.require(scope, input.repositoryName, input.registryId);
    const layers: Layer[] = [];
    const failures: LayerFailure[] = [];
    for (const layerDigest of input.layerDigests) {
      if (!SHA256_DIGEST.test(layerDigest)) {
        failures.push({ layerDigest, failureCode: 'InvalidLayerDigest', failureReason: `Invalid layer digest` });
        continue;
      }
      const info = await this.images.linkedBlob(repo.repositoryArn, layerDigest);
      layers.push(info ? { layerDigest, layerAvailability: 'AVAILABLE', layerSize: info.size } : { layerDigest, layerAvailability: 'UNAVAILABLE' });
    }
    return { layers, failures };
  }

  async downloadUrl(scope: Scope, input: { repositoryName: string; registryId?: string; layerDigest: string }, principalArn: string) {
    const repo = await this.repos.require(scope, input.repositoryName, input.registryId);
    if (!(await this.images.linkedBlob(repo.repositoryArn, input.layerDigest))) {
      throw err.layersNotFound(`The layer with digest '${input.layerDigest}' does not exist in the repository with name '${repo.repositoryName}' in the registry with id '${repo.registryId}'`);
    }
    // A short-lived, read-only token for this one blob stands in for S3's presigned URL.
    const token = this.tokens.mintLayerDownload({
      accountId: scope.accountId,
      region: scope.region,
      principalArn,
      expiresAt: this.clock.now() + LAYER_DOWNLOAD_LIFETIME_SECONDS,
      repositoryName: repo.repositoryName,
      digest: input.layerDigest,
    });
    return {
      downloadUrl: `${this.registryScheme}://${this.registryHost()}/v2/${repo.repositoryName}/blobs/${input.layerDigest}?${DOWNLOAD_TOKEN_PARAM}=${encodeURIComponent(token)}`,
      layerDigest: input.layerDigest,
    };
  }

  async initiateUpload(scope: Scope, input: { repositoryName: string; registryId?: string }) {
    const repo = await this.repos.require(scope, input.repositoryName, input.registryId);
    const upload = await this.uploads.create(repo.repositoryArn);
    return { uploadId: upload.id, partSize: PART_SIZE };
  }

  async uploadPart(scope: Scope, input: { repositoryName: string; registryId?: string; uploadId: string; partFirstByte: number; partLastByte: number; layerPartBlob: Buffer }) {
    const repo = await this.repos.require(scope, input.repositoryName, input.registryId);
    if (input.partLastByte - input.partFirstByte + 1 !== input.layerPartBlob.length) {
      throw new AwsError('InvalidLayerPartException', 'The layer part size does not match partFirstByte and partLastByte', 400, {
        registryId: repo.registryId, repositoryName: repo.repositoryName, uploadId: input.uploadId,
      });
    }
    try {
      const size = await this.uploads.append(input.uploadId, repo.repositoryArn, Readable.from(slices(input.layerPartBlob, PART_SLICE_BYTES)), { start: input.partFirstByte });
      return { registryId: repo.registryId, repositoryName: repo.repositoryName, uploadId: input.uploadId, lastByteReceived: size - 1 };
    } catch (e) {
      if (e instanceof RegistryError && e.code === 'RANGE_INVALID') {
        const current = await this.uploads.get(input.uploadId, repo.repositoryArn);
        throw new AwsError('InvalidLayerPartException', `The part's first byte ${input.partFirstByte} does not follow the last byte received`, 400, {
          registryId: repo.registryId, repositoryName: repo.repositoryName, uploadId: input.uploadId, lastValidByteReceived: current.size - 1,
        });
      }
      throw translateRegistryError(e, repo, input.uploadId);
    }
  }

  async completeUpload(scope: Scope, input: { repositoryName: string; registryId?: string; uploadId: string; layerDigests: string[] }) {
    const repo = await this.repos.require(scope, input.repositoryName, input.registryId);
    const digest = input.layerDigests[0]!;
    if (input.layerDigests.length !== 1) throw err.invalidParameter(`Invalid parameter at 'layerDigests' failed to satisfy constraint: 'Only one layer digest is supported per upload'`);
    try {
      const session = await this.uploads.get(input.uploadId, repo.repositoryArn);
      if (session.size === 0) {
        await this.uploads.cancel(input.uploadId, repo.repositoryArn);
        throw new AwsError('EmptyUploadException', `The upload with id '${input.uploadId}' contains no data`);
      }
      if (await this.images.linkedBlob(repo.repositoryArn, digest)) {
        await this.uploads.cancel(input.uploadId, repo.repositoryArn);
        throw new AwsError('LayerAlreadyExistsException', `The layer with digest '${digest}' already exists in the repository with name '${repo.repositoryName}' in the registry with id '${repo.registryId}'`);
      }
      const info = await this.uploads.complete(input.uploadId, repo.repositoryArn, digest);
      await this.images.linkBlob(repo.repositoryArn, info);
      return { registryId: repo.registryId, repositoryName: repo.repositoryName, uploadId: input.uploadId, layerDigest: digest };
    } catch (e) {
      throw translateRegistryError(e, repo, input.uploadId);
    }
  }
}

/** ECR's one answer for a manifest it cannot use (bad JSON, no media type, wrong structure). */
const INVALID_MANIFEST = `Invalid parameter at 'ImageManifest' failed to satisfy constraint: 'Invalid JSON syntax'`;

function declaredMediaType(manifest: string): string | undefined {
  try {
    const doc = JSON.parse(manifest) as { mediaType?: unknown };
    return typeof doc?.mediaType === 'string' ? doc.mediaType : undefined;
  } catch {
    return undefined;
  }
}

/** The image `id` names, by digest or by tag; with both, only when the tag names that digest. */
export async function imageById(images: RegistryImages, tx: StoreTx, repositoryArn: string, id: ImageId): Promise<EcrImageDoc | undefined> {
  const image = await images.findImage(tx, repositoryArn, id.imageDigest ?? id.imageTag ?? '');
  if (image && id.imageDigest && id.imageTag && (await images.findImage(tx, repositoryArn, id.imageTag))?.digest !== image.digest) return undefined;
  return image;
}

function matches(id: ImageId, digest: string, tags: string[]): boolean {
  if (id.imageDigest && id.imageDigest !== digest) return false;
  if (id.imageTag && !tags.includes(id.imageTag)) return false;
  return Boolean(id.imageDigest || id.imageTag);
}

function checkImageId(id: ImageId): unknown {
  if (!id.imageDigest && !id.imageTag) return { imageId: id, failureCode: 'MissingDigestAndTag', failureReason: 'Invalid request parameters: both tag and digest cannot be null' };
  if (id.imageDigest && !/^[a-z0-9]+:[a-f0-9]+$/.test(id.imageDigest)) return { imageId: id, failureCode: 'InvalidImageDigest', failureReason: 'Invalid request parameters: image digest should satisfy the regex' };
  return undefined;
}

/** Registry errors as ECR's API reports them. */
export function translateRegistryError(e: unknown, repo: RepositoryRecord, uploadId?: string): unknown {
  if (!(e instanceof RegistryError)) return e;
  const detail = (e.detail ?? {}) as { digest?: string; tag?: string; immutable?: boolean };
  switch (e.code) {
    case 'TAG_INVALID':
      return detail.immutable
        ? new AwsError('ImageTagAlreadyExistsException', e.message)
        : err.invalidParameter(`Invalid parameter at 'imageTag' failed to satisfy constraint: '${e.message}'`);
    case 'MANIFEST_BLOB_UNKNOWN':
      return e.message.startsWith('manifest')
        ? new AwsError('ReferencedImagesNotFoundException', `The referenced image with digest '${detail.digest}' does not exist in the repository`)
        : err.layersNotFound(`Layers with digests ['${detail.digest}'] required for pushing image into repository with name '${repo.repositoryName}' in the registry with id '${repo.registryId}' do not exist`);
    case 'DIGEST_INVALID':
      return uploadId
        ? new AwsError('InvalidLayerException', `The layer digest calculated for the upload with id '${uploadId}' does not match the expected digest`)
        : new AwsError('ImageDigestDoesNotMatchException', e.message);
    case 'BLOB_UPLOAD_UNKNOWN':
      return err.uploadNotFound(uploadId ?? '', repo.repositoryName, repo.registryId);
    case 'MANIFEST_INVALID':
      return err.invalidParameter(INVALID_MANIFEST);
    case 'SIZE_INVALID':
      return err.invalidParameter(`Invalid parameter at 'ImageManifest' failed to satisfy constraint: '${e.message}'`);
    default:
      return err.invalidParameter(e.message);
  }
}

/**
 * A part is hashed and written in slices (views, not copies): one 20 MiB chunk would be hashed in
 * one synchronous call (~30 ms) that holds every other request.
 */
export const PART_SLICE_BYTES = 1024 * 1024;
export function* slices(bytes: Buffer, size: number): Generator<Buffer> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, Math.min(at + size, bytes.length));
}
