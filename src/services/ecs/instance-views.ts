/**
 * The scheduler adapter: container instance documents as the scheduler's InstanceView, cached
 * per row version, and the scheduler's cluster query language over them (ListContainerInstances'
 * filter, RunTask's snapshot in cluster-snapshots.ts).
 */
import { compileClusterQuery, parseClusterQuery, type InstanceView } from '../../scheduler/index.js';
import * as c from '../../store/collections.js';
import type { StoreTx } from '../../store/store.js';
import type { ContainerInstanceRecord } from './instance-records.js';

export type ClusterFilter = (instance: InstanceView) => boolean;
/** Compiles an ECS cluster query (`attribute:ecs.os-type == linux and ...`); throws on bad syntax. */
export type ClusterQueryCompiler = (expression: string) => ClusterFilter;

/**
 * Scheduler views of container instances, built once per row version. RunTask's snapshot and
 * ListContainerInstances' filter read keys and versions from an index and parse only the
 * documents that changed since they were last seen. Only a cache: the store is the truth.
 */
export class InstanceViewCache {
  private readonly views = new Map<string, { version: number; view: InstanceView }>();

  /** The views of `rows` (keys and versions just read in `tx`), in their order; rows gone since are skipped. */
  async of(tx: StoreTx, rows: readonly { pk: string; version: number }[]): Promise<InstanceView[]> {
    const out: InstanceView[] = [];
    for (const { pk, version } of rows) {
      let cached = this.views.get(pk);
      if (!cached || cached.version !== version) {
        const row = await tx.get(c.containerInstances, pk);
        if (!row) continue;
        cached = { version: row.version, view: instanceView(row.data as ContainerInstanceRecord, []) };
        this.views.set(pk, cached);
      }
      out.push(cached.view);
    }
    return out;
  }
}

/**
 * A container instance as the scheduler sees it: RunTask's snapshot and ListContainerInstances'
 * filter both use this. `tasks` are what the caller knows to be on the instance.
 */
export function instanceView(doc: ContainerInstanceRecord, tasks: InstanceView['tasks']): InstanceView {
  const res = (name: string) => doc.registeredResources.find((r) => r.name === name);
  return {
    arn: doc.containerInstanceArn,
    ec2InstanceId: doc.ec2InstanceId,
    status: doc.status,
    agentConnected: doc.agentConnected,
    // An attribute without a value maps to undefined, as the scheduler's InstanceView expects.
    attributes: Object.fromEntries(doc.attributes.map((a) => [a.name, a.value])),
    registered: {
      cpu: res('CPU')?.integerValue ?? 0,
      memory: res('MEMORY')?.integerValue ?? 0,
      ports: (res('PORTS')?.stringSetValue ?? []).map(Number),
      portsUdp: (res('PORTS_UDP')?.stringSetValue ?? []).map(Number),
    },
    tasks,
    agentVersion: doc.versionInfo.agentVersion,
    registeredAt: doc.registeredAt,
  };
}

/** The scheduler's cluster query language over an instance document (task-based subjects see no tasks here). */
export function instanceQuery(expression: string): ClusterFilter {
  const predicate = compileClusterQuery(parseClusterQuery(expression));
  return (instance) => predicate({ instance, taskGroups: () => new Set(), runningTasksCount: () => 0 });
}
