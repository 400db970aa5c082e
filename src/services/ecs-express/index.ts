/**
 * ECS Express Mode's operations (CreateExpressGatewayService, DescribeExpressGatewayService,
 * UpdateExpressGatewayService, DeleteExpressGatewayService): ECS operations, served by the ECS
 * service module, over ExpressServices, which composes the ECS, ELBv2 and Application Auto
 * Scaling domains.
 */
import type { EcsOperations } from '../ecs/index.js';
import { ExpressServices } from './express.js';

export { ExpressServices, type ExpressDeps } from './express.js';

export function expressOperations(d: ExpressServices): EcsOperations {
  return {
    CreateExpressGatewayService: (ctx, input) => d.create(ctx, input),
    DescribeExpressGatewayService: (ctx, input) => d.describe(ctx, input),
    UpdateExpressGatewayService: (ctx, input) => d.update(ctx, input),
    DeleteExpressGatewayService: (ctx, input) => d.delete(ctx, input),
  };
}
