/**
 * The Application Auto Scaling service module (awsJson1_1, `AnyScaleFrontendService`): thin
 * handlers over the AutoScaling domain.
 */
import type { Operations } from '../../aws/generated/application-autoscaling.js';
import { loadModel } from '../../aws/model.js';
import type { OperationHandlers, ServiceModule } from '../../aws/service.js';
import type { AutoScaling } from './autoscaling.js';

export { AutoScaling, type AlarmsPort, type AlarmTrigger, type AutoScalingOptions, type ScalableTargetDriver, type Scope } from './autoscaling.js';

export function applicationAutoScalingService(d: AutoScaling): ServiceModule {
  const operations: OperationHandlers<Operations> = {
    RegisterScalableTarget: (ctx, input) => d.register(ctx, input),
    DescribeScalableTargets: (ctx, input) => d.describeTargets(ctx, input),
    DeregisterScalableTarget: (ctx, input) => d.deregister(ctx, input),
    PutScalingPolicy: (ctx, input) => d.putPolicy(ctx, input),
    DescribeScalingPolicies: (ctx, input) => d.describePolicies(ctx, input),
    DeleteScalingPolicy: (ctx, input) => d.deletePolicy(ctx, input),
    PutScheduledAction: (ctx, input) => d.putScheduled(ctx, input),
    DescribeScheduledActions: (ctx, input) => d.describeScheduled(ctx, input),
    DeleteScheduledAction: (ctx, input) => d.deleteScheduled(ctx, input),
    DescribeScalingActivities: (ctx, input) => d.activities(ctx, input),
    TagResource: (_ctx, input) => d.tag(input.ResourceARN, input.Tags),
    UntagResource: (_ctx, input) => d.untag(input.ResourceARN, input.TagKeys),
    ListTagsForResource: (_ctx, input) => d.tags(input.ResourceARN),
  };
  return { name: 'application-autoscaling', model: loadModel('application-autoscaling'), protocol: 'awsJson1_1', validationErrorCode: 'ValidationException', operations };
}
