/**
 * How Application Auto Scaling reaches ECS services: their desiredCount. The service records
 * are the ECS services collection (written by the ECS domain); a change of capacity goes through
 * the ECS domain's UpdateService (`updateDesiredCount`), wired here once services exist.
 */
import { AwsError } from '../aws/errors.js';
import type { ScalableTargetDriver, Scope } from '../services/application-autoscaling/index.js';
import * as c from '../store/collections.js';
import type { Store } from '../store/store.js';

export interface EcsScalingDeps {
  store: Store;
  /** UpdateService(desiredCount) through the ECS domain; absent until ECS services are implemented. */
  updateDesiredCount?: (scope: Scope, cluster: string, service: string, desiredCount: number) => Promise<void>;
}

export function ecsServiceDriver(deps: EcsScalingDeps): ScalableTargetDriver {
  const find = async (scope: Scope, resourceId: string) => {
    const [, cluster, service] = resourceId.split('/');
    const clusterArn = `arn:aws:ecs:${scope.region}:${scope.accountId}:cluster/${cluster}`;
    const rows = await deps.store.read((tx) => tx.find(c.services, { where: { cluster: clusterArn, name: service! } }));
    const row = rows.find((r) => r.data.status === 'ACTIVE');
    if (!row) throw new AwsError('ValidationException', `ECS service doesn't exist: ${resourceId}`);
    return { cluster: cluster!, service: service!, doc: row.data };
  };
  return {
    validate: async (scope, resourceId) => void (await find(scope, resourceId)),
    current: async (scope, resourceId) => Number((await find(scope, resourceId)).doc.desiredCount ?? 0),
    setCapacity: async (scope, resourceId, capacity) => {
      const { cluster, service } = await find(scope, resourceId);
      if (!deps.updateDesiredCount) throw new Error('ECS services cannot be updated by Dockyard yet');
      await deps.updateDesiredCount(scope, cluster, service, capacity);
    },
  };
}
