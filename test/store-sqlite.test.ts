/** The Store conformance suite against SQLite, on disk (WAL, two connections) and in memory. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../src/store/sqlite.js';
import { runStoreConformance } from './store-conformance.js';

const dirs: string[] = [];

runStoreConformance('SQLite file', {
  async open() {
    const dir = mkdtempSync(join(tmpdir(), 'dockyard-store-'));
    dirs.push(dir);
    return new SqliteStore(dir);
  },
  async reopen(store) {
    await store.close();
    return new SqliteStore(dirs.at(-1)!);
  },
  async cleanup() {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  },
});

runStoreConformance('SQLite :memory:', {
  async open() {
    return new SqliteStore(':memory:');
  },
});
