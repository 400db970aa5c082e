/**
 * The ECS handlers for container instances and their attributes: thin calls into the domain
 * (container-instances.ts, instance-attributes.ts), for `ecsService(domain, extra)`.
 */
import { AwsError } from '../../aws/errors.js';
import type { ContainerInstances } from './container-instances.js';
import type { EcsOperations } from './index.js';
import { TargetNotFound, type InstanceAttributes } from './instance-attributes.js';

export function containerInstanceOperations(d: ContainerInstances, attributes: InstanceAttributes): EcsOperations {
  return {
    RegisterContainerInstance: (ctx, input) => d.register(ctx, input),
    DeregisterContainerInstance: (ctx, input) => d.deregister(ctx, input),
    DescribeContainerInstances: (ctx, input) => d.describe(ctx, input),
    ListContainerInstances: (ctx, input) => d.list(ctx, input),
    UpdateContainerInstancesState: (ctx, input) => d.updateState(ctx, input),
    PutAttributes: (ctx, input) => attributes.putAttributes(ctx, input).catch(targetNotFound),
    DeleteAttributes: (ctx, input) => attributes.deleteAttributes(ctx, input).catch(targetNotFound),
    ListAttributes: (ctx, input) => attributes.listAttributes(ctx, input),
  };
}

function targetNotFound(e: unknown): never {
  if (e instanceof TargetNotFound) throw new AwsError('TargetNotFoundException', e.message);
  throw e;
}
