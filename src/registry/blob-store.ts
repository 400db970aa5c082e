/**
 * Content-addressed blob storage. A blob becomes visible only once its bytes are complete
 * and their digest checked: writers stream into a temp file while hashing, then rename it
 * into place (rename is atomic on one filesystem), so a crash mid-push leaves at most a
 * stray temp file, never a corrupt or half-visible blob.
 *
 * Layout (filesystem implementation):
 *   <root>/blobs/sha256/<first two hex>/<hex>   committed blobs
 *   <root>/tmp/<random>                         blobs being written (swept on start)
 */
import { createHash, randomUUID, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, renameSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface BlobInfo {
  digest: string;
  size: number;
  /** Last write or touch, epoch ms: the garbage collector spares recent blobs. */
  modifiedAt: number;
}

export interface ByteRange {
  start: number;
  /** Inclusive, as in HTTP Range. */
  end: number;
}

export interface BlobStore {
  stat(digest: string): Promise<BlobInfo | undefined>;
  /** Streams the blob (or a byte range of it). Undefined when absent. */
  open(digest: string, range?: ByteRange): Promise<Readable | undefined>;
  readAll(digest: string): Promise<Buffer | undefined>;
  /** Moves a finished file into place under `digest` (the caller has verified the digest). */
  commitFile(digest: string, file: string): Promise<BlobInfo>;
  /** Writes `data`, verifying `digest` when given; returns the blob's digest. */
  put(data: Buffer, digest?: string): Promise<BlobInfo>;
  /** Marks the blob as in use now (pushes that reuse an existing blob protect it from GC). */
  touch(digest: string): Promise<void>;
  delete(digest: string): Promise<boolean>;
  list(): AsyncIterable<BlobInfo>;
  /** A fresh temp-file path on the same filesystem as the blobs (for rename). */
  tempPath(): string;
  /** Removes every blob (state reset): the store is empty when this resolves. */
  clear(): Promise<void>;
}

export class DigestMismatchError extends Error {}

/**
 * Empties a directory at once and leaves it empty: renames it to `trash` (same filesystem),
 * recreates it, and deletes the trash in the background, so a reset does not wait for gigabytes
 * of layers to be unlinked. The rename and mkdir are single syscalls, made synchronously: queued
 * on libuv's thread pool they waited behind the background deletes (half a second under load).
 * `init()` removes whatever a crash left in tmp/.
 */
export function discardDirectory(dir: string, trash: string, recreate: string = dir): void {
  try {
    renameSync(dir, trash);
  } catch (e) {
    if ((e as { code?: string }).code !== 'ENOENT') throw e;
  }
  mkdirSync(recreate, { recursive: true });
  void rm(trash, { recursive: true, force: true }).catch(() => undefined);
}

export const SHA256_DIGEST = /^sha256:[a-f0-9]{64}$/;
/** Any digest the OCI grammar allows; only sha256 is stored. */
export const ANY_DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

export function sha256Digest(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

export class FsBlobStore implements BlobStore {
  constructor(private readonly root: string) {}

  /** Creates the directories and removes temp files a crash left behind. */
  async init(): Promise<void> {
    await rm(join(this.root, 'tmp'), { recursive: true, force: true });
    await mkdir(join(this.root, 'tmp'), { recursive: true });
    await mkdir(join(this.root, 'blobs', 'sha256'), { recursive: true });
  }

  async clear(): Promise<void> {
    discardDirectory(join(this.root, 'blobs'), this.tempPath(), join(this.root, 'blobs', 'sha256'));
  }

  private path(digest: string): string {
    if (!SHA256_DIGEST.test(digest)) throw new Error(`unsupported digest ${digest}`);
    const hex = digest.slice(7);
    return join(this.root, 'blobs', 'sha256', hex.slice(0, 2), hex);
  }

  tempPath(): string {
    return join(this.root, 'tmp', randomUUID());
  }

  async stat(digest: string): Promise<BlobInfo | undefined> {
    if (!SHA256_DIGEST.test(digest)) return undefined;
    try {
      const s = await stat(this.path(digest));
      return { digest, size: s.size, modifiedAt: s.mtimeMs };
    } catch {
      return undefined;
    }
  }

  async open(digest: string, range?: ByteRange): Promise<Readable | undefined> {
    if (!SHA256_DIGEST.test(digest)) return undefined;
    const stream = createReadStream(this.path(digest), { highWaterMark: 1024 * 1024, ...(range ?? {}) });
    // Surface ENOENT here rather than mid-response.
    return new Promise((resolve) => {
      stream.once('open', () => resolve(stream));
      stream.once('error', () => resolve(undefined));
    });
  }

  async readAll(digest: string): Promise<Buffer | undefined> {
    if (!SHA256_DIGEST.test(digest)) return undefined;
    try {
      return await readFile(this.path(digest));
    } catch {
      return undefined;
    }
  }

  async commitFile(digest: string, file: string): Promise<BlobInfo> {
    const target = this.path(digest);
    await mkdir(join(target, '..'), { recursive: true });
    await rename(file, target);
    const s = await stat(target);
    return { digest, size: s.size, modifiedAt: s.mtimeMs };
  }

  async put(data: Buffer, digest?: string): Promise<BlobInfo> {
    const actual = sha256Digest(data);
    if (digest && digest !== actual) throw new DigestMismatchError(`digest ${digest} does not match content (${actual})`);
    const tmp = this.tempPath();
    await pipeline(async function* () { yield data; }, createWriteStream(tmp));
    return this.commitFile(actual, tmp);
  }

  async touch(digest: string): Promise<void> {
    const now = new Date();
    await utimes(this.path(digest), now, now).catch(() => undefined);
  }

  async delete(digest: string): Promise<boolean> {
    try {
      await rm(this.path(digest));
      return true;
    } catch {
      return false;
    }
  }

  async *list(): AsyncIterable<BlobInfo> {
    const base = join(this.root, 'blobs', 'sha256');
    for (const prefix of await readdir(base).catch(() => [] as string[])) {
      for (const hex of await readdir(join(base, prefix)).catch(() => [] as string[])) {
        const info = await this.stat(`sha256:${hex}`);
        if (info) yield info;
      }
    }
  }
}

/**
 * Streams `source` into `file` while hashing it; `hash` may already hold earlier bytes
 * (chunked uploads append). Returns the number of bytes written by this call.
 */
export async function streamToFile(source: Readable, file: string, hash: Hash, append: boolean, limit?: number): Promise<number> {
  let written = 0;
  await pipeline(
    source,
    async function* (chunks: AsyncIterable<Buffer>) {
      for await (const chunk of chunks) {
        written += chunk.length;
        if (limit !== undefined && written > limit) throw new ContentLengthError('body is longer than Content-Length');
        hash.update(chunk);
        yield chunk;
      }
    },
    createWriteStream(file, { flags: append ? 'a' : 'w', highWaterMark: 1024 * 1024 }),
  );
  return written;
}

export class ContentLengthError extends Error {}
