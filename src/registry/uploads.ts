/**
 * Blob upload sessions (OCI "blob upload" and ECR's InitiateLayerUpload/UploadLayerPart).
 * Each session is a directory `<root>/<uuid>/` holding `state.json` (which repository, when
 * it started) and `data` (the bytes so far). The running sha256 of `data` is kept in memory
 * while the server lives; after a restart or a failed chunk it is recomputed from the file.
 * Completing moves `data` into the blob store by rename (same filesystem), so a 1 GB layer is
 * written once and never held in memory. Sessions idle longer than the TTL are swept.
 */
import { createHash, randomUUID, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { discardDirectory, SHA256_DIGEST, streamToFile, type BlobInfo, type BlobStore } from './blob-store.js';
import { digestInvalid, RegistryError, uploadUnknown } from './errors.js';

export interface UploadState {
  id: string;
  repositoryArn: string;
  startedAt: number;
}

interface LiveHash {
  hash: Hash;
  bytes: number;
}

export class Uploads {
  /** Running hashes of sessions this process has seen; rebuilt from disk when missing. */
  private readonly hashes = new Map<string, LiveHash>();
  /** Sessions with a chunk in flight: a second concurrent PATCH would interleave bytes. */
  private readonly busy = new Set<string>();

  constructor(
    private readonly root: string,
    private readonly blobs: BlobStore,
  ) {}

  async init(): Promise<void> {
    await mkdir(this.root, { recursive: true });
  }

  /** Forgets every upload session (state reset). */
  async clear(): Promise<void> {
    this.hashes.clear();
    discardDirectory(this.root, this.blobs.tempPath());
  }

  private dir(id: string) {
    return join(this.root, id);
  }

  async create(repositoryArn: string): Promise<UploadState> {
    const state: UploadState = { id: randomUUID(), repositoryArn, startedAt: Date.now() };
    await mkdir(this.dir(state.id), { recursive: true });
    await writeFile(join(this.dir(state.id), 'data'), '');
    await writeFile(join(this.dir(state.id), 'state.json'), JSON.stringify(state));
    this.hashes.set(state.id, { hash: createHash('sha256'), bytes: 0 });
    return state;
  }

  /** The session and its current size; BLOB_UPLOAD_UNKNOWN when absent or for another repository. */
  async get(id: string, repositoryArn: string): Promise<UploadState & { size: number }> {
    if (!/^[0-9a-f-]{36}$/.test(id)) throw uploadUnknown(id);
    try {
      const state = JSON.parse(await readFile(join(this.dir(id), 'state.json'), 'utf8')) as UploadState;
      if (state.repositoryArn !== repositoryArn) throw uploadUnknown(id);
      const size = (await stat(join(this.dir(id), 'data'))).size;
      return { ...state, size };
    } catch (e) {
      if (e instanceof RegistryError) throw e;
      throw uploadUnknown(id);
    }
  }

  /**
   * Appends a chunk. `start` (from Content-Range / partFirstByte) must equal the current size.
   * Returns the new size.
   */
  async append(id: string, repositoryArn: string, body: Readable, opts: { start?: number; length?: number } = {}): Promise<number> {
    const session = await this.get(id, repositoryArn);
    if (opts.start !== undefined && opts.start !== session.size) {
      throw new RegistryError('RANGE_INVALID', 'invalid content range', { expected: session.size, got: opts.start });
    }
    if (this.busy.has(id)) throw new RegistryError('BLOB_UPLOAD_INVALID', 'another chunk of this upload is in progress');
    this.busy.add(id);
    let live = this.hashes.get(id);
    if (!live || live.bytes !== session.size) live = undefined;
    const hash = live?.hash ?? createHash('sha256');
    try {
      const written = await streamToFile(body, join(this.dir(id), 'data'), hash, true, opts.length);
      if (opts.length !== undefined && written !== opts.length) {
        throw new RegistryError('SIZE_INVALID', `received ${written} bytes, Content-Length said ${opts.length}`);
      }
      if (live) {
        live.bytes += written;
      } else {
        // The hash did not cover the earlier bytes: drop it, recompute at completion.
        this.hashes.delete(id);
      }
      return session.size + written;
    } catch (e) {
      // The file may hold a partial chunk now: the in-memory hash no longer matches it.
      this.hashes.delete(id);
      throw e;
    } finally {
      this.busy.delete(id);
    }
  }

  /**
   * Verifies `digest` (and `size` when given) over everything uploaded and moves the bytes
   * into the blob store. The session is gone afterwards, whatever the outcome.
   */
  async complete(id: string, repositoryArn: string, digest: string, size?: number): Promise<BlobInfo> {
    if (!SHA256_DIGEST.test(digest)) {
      await this.cancel(id, repositoryArn).catch(() => undefined);
      throw digestInvalid(`unsupported or malformed digest ${digest}`, digest);
    }
    const session = await this.get(id, repositoryArn);
    const file = join(this.dir(id), 'data');
    try {
      const live = this.hashes.get(id);
      const actual = live && live.bytes === session.size ? `sha256:${live.hash.digest('hex')}` : await hashFile(file);
      if (actual !== digest) throw digestInvalid(`provided digest did not match uploaded content`, digest);
      if (size !== undefined && size !== session.size) throw new RegistryError('SIZE_INVALID', `provided size ${size} does not match ${session.size}`);
      return await this.blobs.commitFile(digest, file);
    } finally {
      // Not cancel(): once the data has moved into the blob store the session no longer
      // looks valid to get(), and its state.json would be left for the sweep.
      await this.discard(id);
    }
  }

  async cancel(id: string, repositoryArn: string): Promise<void> {
    await this.get(id, repositoryArn);
    await this.discard(id);
  }

  private async discard(id: string): Promise<void> {
    this.hashes.delete(id);
    await rm(this.dir(id), { recursive: true, force: true });
  }

  /** Removes sessions idle (no bytes written, no state change) for longer than `ttlMs`. Returns how many. */
  async sweep(ttlMs: number, nowMs = Date.now()): Promise<number> {
    let removed = 0;
    for (const id of await readdir(this.root).catch(() => [] as string[])) {
      if (this.busy.has(id)) continue;
      const dir = this.dir(id);
      const times = await Promise.all(['data', 'state.json'].map((f) => stat(join(dir, f)).then((s) => s.mtimeMs, () => 0)));
      if (nowMs - Math.max(...times) > ttlMs) {
        this.hashes.delete(id);
        await rm(dir, { recursive: true, force: true });
        removed++;
      }
    }
    return removed;
  }
}

async function hashFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file, { highWaterMark: 1024 * 1024 }), async function (chunks: AsyncIterable<Buffer>) {
    for await (const c of chunks) hash.update(c);
  });
  return `sha256:${hash.digest('hex')}`;
}
