/**
 * Manifest media types and what a manifest references. The registry stores manifests
 * byte-for-byte (their digest is over the exact bytes) and only parses them to learn which
 * blobs and child manifests must already exist, and the optional OCI `subject`.
 */
import { ANY_DIGEST } from './blob-store.js';
import { RegistryError } from './errors.js';

export const MEDIA_TYPES = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
} as const;

const INDEX_TYPES = new Set<string>([MEDIA_TYPES.dockerManifestList, MEDIA_TYPES.ociIndex]);
const IMAGE_TYPES = new Set<string>([MEDIA_TYPES.dockerManifest, MEDIA_TYPES.ociManifest]);

/** Manifests larger than this are refused (the OCI spec's suggested minimum is 4 MiB). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export interface Descriptor {
  mediaType?: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  urls?: string[];
}

export interface ParsedManifest {
  mediaType: string;
  /** Config + layers (image manifests). Foreign layers with `urls` are not required to exist. */
  blobs: Descriptor[];
  /** Child manifests (indexes / manifest lists). */
  manifests: Descriptor[];
  subject?: Descriptor;
  artifactType?: string;
  configMediaType?: string;
  annotations?: Record<string, string>;
  /** Compressed size of the image: the sum of its layers, as ECR reports imageSizeInBytes. */
  layersSize: number;
}

const invalid = (message: string) => new RegistryError('MANIFEST_INVALID', message);

function descriptor(value: unknown, where: string): Descriptor {
  const d = value as Descriptor;
  if (!d || typeof d !== 'object' || typeof d.digest !== 'string' || !ANY_DIGEST.test(d.digest) || typeof d.size !== 'number' || d.size < 0) {
    throw invalid(`manifest invalid: ${where} is not a valid descriptor`);
  }
  return d;
}

/** Parses and checks a manifest's structure; `contentType` is the request's Content-Type. */
export function parseManifest(body: Buffer, contentType: string | undefined): ParsedManifest {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
  } catch {
    throw invalid('manifest invalid: not JSON');
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw invalid('manifest invalid: not a JSON object');
  const header = contentType?.split(';')[0]!.trim();
  const declared = typeof doc.mediaType === 'string' ? doc.mediaType : undefined;
  if (declared && header && header !== declared && header !== 'application/json' && header !== 'application/octet-stream') {
    throw invalid(`manifest invalid: Content-Type ${header} does not match the manifest's mediaType ${declared}`);
  }
  let mediaType = declared ?? header;
  // An OCI manifest may omit mediaType; tell image manifests from indexes by their shape.
  if (!mediaType || mediaType === 'application/json' || mediaType === 'application/octet-stream') {
    mediaType = Array.isArray(doc.manifests) ? MEDIA_TYPES.ociIndex : MEDIA_TYPES.ociManifest;
  }
  if (mediaType === MEDIA_TYPES.dockerSchema1 || mediaType === MEDIA_TYPES.dockerSchema1Signed || doc.schemaVersion === 1) {
    throw invalid('manifest invalid: Docker schema 1 manifests are not supported');
  }
  if (doc.schemaVersion !== 2) throw invalid('manifest invalid: schemaVersion must be 2');
  const subject = doc.subject === undefined ? undefined : descriptor(doc.subject, 'subject');
  const annotations = doc.annotations as Record<string, string> | undefined;
  const artifactType = typeof doc.artifactType === 'string' ? doc.artifactType : undefined;

  if (IMAGE_TYPES.has(mediaType)) {
    const config = descriptor(doc.config, 'config');
    if (!Array.isArray(doc.layers)) throw invalid('manifest invalid: layers must be a list');
    const layers = doc.layers.map((l, i) => descriptor(l, `layers[${i}]`));
    return {
      mediaType,
      blobs: [config, ...layers.filter((l) => !l.urls?.length)],
      manifests: [],
      subject,
      artifactType,
      configMediaType: config.mediaType,
      annotations,
      layersSize: layers.reduce((n, l) => n + l.size, 0),
    };
  }
  if (INDEX_TYPES.has(mediaType)) {
    if (!Array.isArray(doc.manifests)) throw invalid('manifest invalid: manifests must be a list');
    const manifests = doc.manifests.map((m, i) => descriptor(m, `manifests[${i}]`));
    return { mediaType, blobs: [], manifests, subject, artifactType, annotations, layersSize: 0 };
  }
  throw invalid(`manifest invalid: unsupported media type ${mediaType}`);
}

export const isIndex = (mediaType: string) => INDEX_TYPES.has(mediaType);
