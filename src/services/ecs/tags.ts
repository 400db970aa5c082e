/**
 * Tags on ECS resources. Every taggable document keeps its tags in `tags`; the resource type
 * in the ARN picks the collection.
 */
import * as c from '../../store/collections.js';
import type { Collection, Store } from '../../store/store.js';
import { parseArn } from './arns.js';
import * as err from './errors.js';

export interface Tag {
  key?: string;
  value?: string;
}

const MAX_TAGS = 50;

export function checkTags(tags: Tag[] | undefined): void {
  if (!tags) return;
  if (tags.length > MAX_TAGS) throw err.invalidParameter(`The maximum number of tags for a resource is ${MAX_TAGS}.`);
  const keys = new Set<string>();
  for (const t of tags) {
    if (!t.key) throw err.invalidParameter('Tag keys must not be empty.');
    if (/^aws:/i.test(t.key)) throw err.invalidParameter(`Tag keys that begin with 'aws:' are reserved: ${t.key}`);
    if (keys.has(t.key)) throw err.invalidParameter(`Duplicate tag key: ${t.key}`);
    keys.add(t.key);
  }
}

const byType: Record<string, Collection<{ tags?: Tag[] } & Record<string, unknown>>> = {
  cluster: c.clusters as never,
  'task-definition': c.taskDefinitions as never,
  task: c.tasks as never,
  'container-instance': c.containerInstances as never,
  service: c.services as never,
  'capacity-provider': c.capacityProviders as never,
  'task-set': c.taskSets as never,
};

export class Tags {
  constructor(private readonly store: Store) {}

  async list(resourceArn: string) {
    const doc = await this.store.read(async (tx) => (await tx.get(this.collectionOf(resourceArn), resourceArn))?.data);
    if (!doc) throw notFound(resourceArn);
    return { tags: doc.tags ?? [] };
  }

  async tag(resourceArn: string, tags: Tag[]) {
    checkTags(tags);
    await this.change(resourceArn, (current) => {
      const merged = new Map(current.map((t) => [t.key, t.value]));
      for (const t of tags) merged.set(t.key, t.value ?? '');
      const out = [...merged].map(([key, value]) => ({ key, value }));
      if (out.length > MAX_TAGS) throw err.invalidParameter(`The maximum number of tags for a resource is ${MAX_TAGS}.`);
      return out;
    });
    return {};
  }

  async untag(resourceArn: string, tagKeys: string[]) {
    await this.change(resourceArn, (current) => current.filter((t) => !tagKeys.includes(t.key!)));
    return {};
  }

  private collectionOf(resourceArn: string) {
    const arn = parseArn(resourceArn);
    const coll = arn && byType[arn.type];
    if (!coll) throw err.invalidParameter(`The ARN ${resourceArn} is not a valid ECS resource ARN.`);
    return coll;
  }

  private async change(resourceArn: string, fn: (tags: Tag[]) => Tag[]) {
    const coll = this.collectionOf(resourceArn);
    await this.store.write(async (tx) => {
      const row = await tx.get(coll, resourceArn);
      if (!row || (row.data.status === 'INACTIVE' && (coll === (c.clusters as never) || coll === (c.capacityProviders as never)))) throw notFound(resourceArn);
      await tx.update(coll, row, { ...row.data, tags: fn(row.data.tags ?? []) });
    });
  }
}

function notFound(arn: string) {
  return parseArn(arn)?.type === 'cluster' ? err.clusterNotFound() : err.invalidParameter('The specified resource could not be found.');
}
