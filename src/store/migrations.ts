/**
 * Schema migrations, applied in order once each (table `schema_migrations`). A collection's
 * table is `c_<name>(pk, version, data, <indexed columns>)`; `createCollection` writes its DDL
 * from the collection declaration so the two cannot drift. Indexed columns declared later are
 * added and backfilled from the documents at start-up (SqliteStore.syncIndexedColumns), so a
 * new migration is needed only for a new collection. List every collection in `allCollections`.
 */
import type { Collection } from './store.js';
import * as c from './collections.js';

export interface Migration {
  readonly id: number;
  readonly name: string;
  readonly statements: readonly string[];
}

export function tableName(collection: Collection<any>): string {
  return `c_${collection.name}`;
}

function createCollection(collection: Collection<any>): string[] {
  const cols = Object.entries(collection.columns);
  const table = tableName(collection);
  return [
    `CREATE TABLE ${table} (pk TEXT PRIMARY KEY, version INTEGER NOT NULL, data TEXT NOT NULL${cols
      .map(([name, col]) => `, ${name} ${col.type === 'text' ? 'TEXT' : 'BIGINT'}`)
      .join('')})`,
    ...cols.map(([name]) => `CREATE INDEX ${table}_${name} ON ${table} (${name})`),
  ];
}

export const allCollections: readonly Collection<any>[] = [c.clusters, c.taskDefinitions, c.tasks, c.containerInstances, c.services, c.accountSettings, c.ecrRepositories, c.ecrImages, c.ecrTags, c.ecrLayers, c.ecrRegistries, c.ecrImageScans];

export const migrations: readonly Migration[] = [
  {
    id: 1,
    name: 'ecs-core',
    statements: [c.clusters, c.taskDefinitions, c.tasks, c.containerInstances, c.services, c.accountSettings].flatMap(createCollection),
  },
  {
    id: 2,
    name: 'ecr',
    statements: [c.ecrRepositories, c.ecrImages, c.ecrTags, c.ecrLayers].flatMap(createCollection),
  },
  {
    // Not 3: other branches in flight add migration 3; ids only need to be unique.
    id: 11,
    name: 'ecr-registry-settings-and-scans',
    statements: [c.ecrRegistries, c.ecrImageScans].flatMap(createCollection),
  },
];
