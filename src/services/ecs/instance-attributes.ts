/**
 * Custom attributes of container instances (ECS PutAttributes, DeleteAttributes, ListAttributes)
 * and the attribute rules registration shares: which names the agent owns, how changes merge.
 */
import { paginate } from '../../core/pagination.js';
import * as c from '../../store/collections.js';
import type { Row, Store } from '../../store/store.js';
import type { Scope } from './arns.js';
import { activeCluster, resolveArn as resolveClusterArn } from './clusters.js';
import * as err from './errors.js';
import { findInstance, type ContainerInstanceRecord } from './instance-records.js';
import { pageSize } from './validation.js';

export interface Attribute {
  name: string;
  value?: string;
  targetType?: string;
  targetId?: string;
}

export class InstanceAttributes {
  constructor(private readonly store: Store) {}

  async putAttributes(scope: Scope, input: { cluster?: string; attributes: Attribute[] }) {
    if (input.attributes.length > 10) throw err.invalidParameter('A maximum of 10 attributes can be put at once.');
    for (const a of input.attributes) checkAttribute(a);
    await this.change(scope, input.cluster, input.attributes, (current, a) => mergeAttributes(current, [{ name: a.name, value: a.value }]));
    return { attributes: input.attributes };
  }

  async deleteAttributes(scope: Scope, input: { cluster?: string; attributes: Attribute[] }) {
    await this.change(scope, input.cluster, input.attributes, (current, a) => {
      if (!current.some((x) => x.name === a.name)) throw err.resourceNotFound(`The attribute ${a.name} was not found on the target.`);
      return current.filter((x) => x.name !== a.name);
    });
    return { attributes: input.attributes };
  }

  async listAttributes(
    scope: Scope,
    input: { cluster?: string; targetType: string; attributeName?: string; attributeValue?: string; maxResults?: number; nextToken?: string },
  ) {
    if (input.targetType !== 'container-instance') throw err.invalidParameter('targetType must be container-instance.');
    if (input.attributeValue !== undefined && input.attributeName === undefined) {
      throw err.invalidParameter('attributeName must be specified when attributeValue is.');
    }
    const clusterArn = resolveClusterArn(scope, input.cluster);
    const rows = await this.store.read(async (tx) => {
      await activeCluster(tx, clusterArn);
      return tx.find(c.containerInstances, { where: { cluster: clusterArn, status: { in: ['ACTIVE', 'DRAINING'] } }, orderBy: [['pk', 'asc']] });
    });
    const all: Attribute[] = [];
    for (const r of rows) {
      for (const a of r.data.attributes) {
        if (input.attributeName !== undefined && a.name !== input.attributeName) continue;
        if (input.attributeValue !== undefined && a.value !== input.attributeValue) continue;
        all.push({ name: a.name, value: a.value, targetType: 'container-instance', targetId: r.pk });
      }
    }
    const page = paginate(all, (a) => `${a.targetId} ${a.name}`, pageSize(input.maxResults, 100), input.nextToken);
    return { attributes: page.items, nextToken: page.nextToken };
  }

  private async change(
    scope: Scope,
    cluster: string | undefined,
    attributes: Attribute[],
    change: (current: { name: string; value?: string }[], a: Attribute) => { name: string; value?: string }[],
  ) {
    const clusterArn = resolveClusterArn(scope, cluster);
    await this.store.write(async (tx) => {
      await activeCluster(tx, clusterArn);
      // Several attributes may target one instance: apply them to one evolving copy each.
      const pending = new Map<string, { row: Row<ContainerInstanceRecord>; doc: ContainerInstanceRecord }>();
      for (const a of attributes) {
        if (a.targetType !== undefined && a.targetType !== 'container-instance') throw err.invalidParameter('targetType must be container-instance.');
        if (!a.targetId) throw err.invalidParameter('Attribute targetId is required.');
        const row = await findInstance(tx, scope, clusterArn, a.targetId);
        if (!row || row.data.status === 'INACTIVE') throw new TargetNotFound(a.targetId);
        const entry = pending.get(row.pk) ?? { row, doc: structuredClone(row.data) };
        entry.doc.attributes = change(entry.doc.attributes, a);
        pending.set(row.pk, entry);
      }
      for (const { row, doc } of pending.values()) await tx.update(c.containerInstances, row, { ...doc, version: doc.version + 1 });
    });
  }
}

/** Thrown when an attribute targets no instance; the handler answers TargetNotFoundException. */
export class TargetNotFound extends Error {
  readonly code = 'TargetNotFoundException';
  constructor(target: string) {
    super(`Could not find ${target}. Verify the target exists and try again.`);
  }
}

/** ECS's agent-reserved attribute names: replaced on each registration. */
export function isAgentAttribute(name: string): boolean {
  return name.startsWith('ecs.') || name.startsWith('com.amazonaws.ecs.') || name.startsWith('dockyard.');
}

function checkAttribute(a: Attribute): void {
  if (!/^[a-zA-Z0-9_.\-/@]{1,128}$/.test(a.name)) throw err.invalidParameter(`Attribute name ${a.name} is not valid.`);
  if (a.value !== undefined && !/^[a-zA-Z0-9_.\-/@: ]{1,128}$/.test(a.value)) throw err.invalidParameter(`Attribute value ${a.value} is not valid.`);
  if (a.name.startsWith('ecs.')) throw err.invalidParameter(`Attribute names beginning with ecs. are reserved: ${a.name}`);
}

export function mergeAttributes(current: { name: string; value?: string }[], changes: { name: string; value?: string }[]) {
  const out = new Map(current.map((a) => [a.name, a.value]));
  for (const a of changes) out.set(a.name, a.value);
  return [...out].map(([name, value]) => (value === undefined ? { name } : { name, value }));
}

