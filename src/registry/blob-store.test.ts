/**
 * BlobStore conformance: every implementation must pass these (today: the filesystem one).
 * Run with a factory so an S3-compatible store can join later.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, test } from 'node:test';
import { DigestMismatchError, FsBlobStore, streamToFile, type BlobStore } from './blob-store.js';

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function readStream(s: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export function runBlobStoreConformance(name: string, make: () => Promise<BlobStore>) {
  describe(`BlobStore conformance: ${name}`, () => {
    test('put, stat, readAll, open with a range', async () => {
      const store = await make();
      const data = Buffer.from('hello, content-addressed world');
      const info = await store.put(data);
      assert.equal(info.digest, sha(data));
      assert.equal(info.size, data.length);
      assert.equal((await store.stat(sha(data)))?.size, data.length);
      assert.deepEqual(await store.readAll(sha(data)), data);
      assert.equal((await readStream((await store.open(sha(data), { start: 7, end: 13 }))!)).toString(), 'content');
    });

    test('a wrong digest is refused and nothing is stored', async () => {
      const store = await make();
      const wrong = sha('something else');
      await assert.rejects(store.put(Buffer.from('data'), wrong), DigestMismatchError);
      assert.equal(await store.stat(wrong), undefined);
      assert.equal(await store.stat(sha('data')), undefined);
    });

    test('absent and malformed digests', async () => {
      const store = await make();
      assert.equal(await store.stat(sha('absent')), undefined);
      assert.equal(await store.open(sha('absent')), undefined);
      assert.equal(await store.readAll('md5:abc'), undefined);
      assert.equal(await store.stat('../../etc/passwd'), undefined);
    });

    test('commitFile moves a finished temp file into place; delete and list', async () => {
      const store = await make();
      const data = Buffer.alloc(300_000, 9);
      const tmp = store.tempPath();
      const hash = createHash('sha256');
      const n = await streamToFile(Readable.from([data.subarray(0, 100_000), data.subarray(100_000)]), tmp, hash, false);
      assert.equal(n, data.length);
      const digest = `sha256:${hash.digest('hex')}`;
      assert.equal(digest, sha(data));
      await store.commitFile(digest, tmp);
      const listed: string[] = [];
      for await (const b of store.list()) listed.push(b.digest);
      assert.ok(listed.includes(digest));
      assert.equal(await store.delete(digest), true);
      assert.equal(await store.stat(digest), undefined);
      assert.equal(await store.delete(digest), false);
    });

    test('touch moves the modification time forward', async () => {
      const store = await make();
      const info = await store.put(Buffer.from('touch me'));
      await new Promise((r) => setTimeout(r, 20));
      await store.touch(info.digest);
      assert.ok((await store.stat(info.digest))!.modifiedAt >= info.modifiedAt);
    });
  });
}

const roots: string[] = [];
after(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

runBlobStoreConformance('filesystem', async () => {
  const root = mkdtempSync(join(tmpdir(), 'dockyard-blobs-'));
  roots.push(root);
  const store = new FsBlobStore(root);
  await store.init();
  return store;
});

test('FsBlobStore.init removes temp files a crash left behind and keeps committed blobs', async () => {
  const root = mkdtempSync(join(tmpdir(), 'dockyard-blobs-'));
  roots.push(root);
  const store = new FsBlobStore(root);
  await store.init();
  const info = await store.put(Buffer.from('kept'));
  writeFileSync(store.tempPath(), 'half a blob');
  await new FsBlobStore(root).init();
  assert.deepEqual(readdirSync(join(root, 'tmp')), []);
  assert.equal((await store.stat(info.digest))?.size, 4);
});
