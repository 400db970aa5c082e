/**
 * DescribeTaskDefinition is the hottest read (deploy tools poll it, every RunTask resolves one) and
 * most of its answer is a large document that never changes once registered. This keeps the wire
 * JSON of recently described revisions, keyed by the store row's version: a describe then costs
 * one index lookup (key and version, no document) instead of parsing, shaping and serializing
 * ~2.5 KB. The store stays the source of truth: a revision whose row version moved (deregister,
 * delete, tags) is read and serialized again, so every replica answers from what is committed.
 * Row keys carry the revision, which ECS never reuses, so a key's version cannot restart, except
 * after a state reset (Store.clear), which empties this cache.
 */
import { RawJson } from '../../aws/raw-json.js';
import type { Scope } from './arns.js';
import * as err from './errors.js';
import type { Tag } from './tags.js';
import type { TaskDefinitionRecord, TaskDefinitions } from './task-definitions.js';

interface Entry {
  version: number;
  wire: RawJson;
  tags: Tag[];
}

export class TaskDefinitionWireCache {
  private readonly entries = new Map<string, Entry>();

  /** `toWire` turns a stored definition into the JSON of the model's TaskDefinition shape. */
  constructor(
    private readonly taskDefinitions: TaskDefinitions,
    private readonly toWire: (doc: TaskDefinitionRecord) => string,
    private readonly capacity = 2000,
  ) {}

  forget(): void {
    this.entries.clear();
  }

  async describe(scope: Scope, input: { taskDefinition: string; include?: string[] }) {
    const entry = await this.entry(scope, input.taskDefinition);
    if (!entry) throw err.clientException('Unable to describe task definition.');
    return { taskDefinition: entry.wire, tags: input.include?.includes('TAGS') ? entry.tags : undefined };
  }

  private async entry(scope: Scope, ref: string): Promise<Entry | undefined> {
    const located = await this.taskDefinitions.locate(scope, ref);
    if (!located) return undefined;
    const cached = this.entries.get(located.pk);
    if (cached && cached.version === located.version) return cached;
    const row = await this.taskDefinitions.load(located.pk);
    if (!row) return undefined;
    const doc = row.data;
    const entry = { version: row.version, wire: new RawJson(this.toWire(doc)), tags: doc.tags ?? [] };
    // Oldest first in a Map's order: re-inserting keeps recently read revisions, evicting the oldest.
    this.entries.delete(located.pk);
    this.entries.set(located.pk, entry);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
    return entry;
  }
}
