/**
 * The stored container instance document as ECS's domain sees it, and how an ECS request's
 * reference (ARN, old-format ARN or bare id) finds one.
 */
import type { VersionInfo } from '../../aws/generated/ecs.js';
import * as c from '../../store/collections.js';
import type { ContainerInstanceDoc } from '../../store/collections.js';
import type { Row, StoreTx } from '../../store/store.js';
import { clusterNameOf, containerInstanceArn, parseArn, type Scope } from './arns.js';
import type { Tag } from './tags.js';

export type { VersionInfo } from '../../aws/generated/ecs.js';

/** A registered resource as stored: the model's Resource with its name and type always set. */
export interface Resource {
  name: string;
  type: string;
  integerValue?: number;
  doubleValue?: number;
  longValue?: number;
  stringSetValue?: string[];
}

export interface ContainerInstanceRecord extends ContainerInstanceDoc {
  registeredResources: Resource[];
  versionInfo: VersionInfo;
  registeredAt: number;
  /** ECS's version counter for the instance: up on every change. */
  version: number;
  tags: Tag[];
  /** The id the Dockyard agent persists; absent for instances registered through the ECS API. */
  agentInstanceId?: string;
  hostname?: string;
  statusReason?: string;
}

/** Task statuses that still hold resources on their instance (a store filter on last_status). */
export const LIVE = { not: 'STOPPED' } as const;

/** An instance by ARN or bare id, within the cluster. */
export async function findInstance(tx: StoreTx, scope: Scope, clusterArn: string, ref: string): Promise<Row<ContainerInstanceRecord> | undefined> {
  const parsed = parseArn(ref);
  let arn = ref;
  if (!parsed) arn = containerInstanceArn(scope, clusterNameOf(clusterArn), ref);
  else if (parsed.type !== 'container-instance') return undefined;
  else if (parsed.rest.split('/').length === 1) arn = containerInstanceArn(scope, clusterNameOf(clusterArn), parsed.rest); // old ARN format
  const row = (await tx.get(c.containerInstances, arn)) as Row<ContainerInstanceRecord> | undefined;
  return row && row.data.clusterArn === clusterArn ? row : undefined;
}
