/**
 * Terraform (1.11, AWS provider 5.100 from the local mirror) provisions ECS service autoscaling
 * the way teams write it: aws_appautoscaling_target on a service's desired count, a target
 * tracking policy on ECSServiceAverageCPUUtilization, a step scaling policy with the alarm that
 * drives it, and a scheduled action. A second plan after apply shows no changes (every attribute
 * reads back as written) and destroy removes the target, its policies and the alarms the target
 * tracking policy owned. No host joins: scaling configuration does not depend on running tasks.
 */
import { ApplicationAutoScalingClient, DescribeScalableTargetsCommand, DescribeScalingPoliciesCommand, DescribeScheduledActionsCommand } from '@aws-sdk/client-application-auto-scaling';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { credentials, startDockyard, type TestDockyard } from './helpers/dockyard.js';
import { terraformStack, type TerraformStack } from './helpers/terraform.js';

describe('Terraform: aws_appautoscaling_target, _policy and _scheduled_action on an ECS service', () => {
  let t: TestDockyard;
  let stack: TerraformStack;

  before(async () => {
    t = await startDockyard({ serviceControllerIdleMs: 500, metrics: { alarmEvaluationIntervalMs: 0, scheduledActionIntervalMs: 0, containerInsightsIntervalMs: 0 } });
    stack = await terraformStack(
      t.endpoint,
      ['ecs', 'iam', 'sts', 'applicationautoscaling', 'cloudwatch'],
      `resource "aws_ecs_cluster" "tf" {
  name = "tf-scale"
}
resource "aws_ecs_task_definition" "web" {
  family = "tf-scale-web"
  cpu    = "256"
  memory = "512"
  container_definitions = jsonencode([{
    name      = "web"
    image     = "simulated/web:1"
    essential = true
  }])
}
resource "aws_ecs_service" "web" {
  name            = "web"
  cluster         = aws_ecs_cluster.tf.id
  task_definition = aws_ecs_task_definition.web.arn
  desired_count   = 1
  launch_type     = "EC2"
  # Autoscaling owns the desired count from here on.
  lifecycle {
    ignore_changes = [desired_count]
  }
}
resource "aws_appautoscaling_target" "web" {
  service_namespace  = "ecs"
  resource_id        = "service/\${aws_ecs_cluster.tf.name}/\${aws_ecs_service.web.name}"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = 1
  max_capacity       = 4
  tags               = { team = "web" }
}
resource "aws_appautoscaling_policy" "cpu" {
  name               = "cpu40"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.web.service_namespace
  resource_id        = aws_appautoscaling_target.web.resource_id
  scalable_dimension = aws_appautoscaling_target.web.scalable_dimension
  target_tracking_scaling_policy_configuration {
    target_value       = 40
    scale_in_cooldown  = 120
    scale_out_cooldown = 60
    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
    }
  }
}
resource "aws_appautoscaling_policy" "step" {
  name               = "queue-step"
  policy_type        = "StepScaling"
  service_namespace  = aws_appautoscaling_target.web.service_namespace
  resource_id        = aws_appautoscaling_target.web.resource_id
  scalable_dimension = aws_appautoscaling_target.web.scalable_dimension
  step_scaling_policy_configuration {
    adjustment_type         = "ChangeInCapacity"
    cooldown                = 60
    metric_aggregation_type = "Average"
    step_adjustment {
      metric_interval_lower_bound = 0
      metric_interval_upper_bound = 100
      scaling_adjustment          = 1
    }
    step_adjustment {
      metric_interval_lower_bound = 100
      scaling_adjustment          = 2
    }
  }
}
resource "aws_cloudwatch_metric_alarm" "queue" {
  alarm_name          = "tf-queue-depth"
  namespace           = "Shop"
  metric_name         = "QueueDepth"
  statistic           = "Average"
  period              = 60
  evaluation_periods  = 2
  threshold           = 50
  comparison_operator = "GreaterThanThreshold"
  alarm_actions       = [aws_appautoscaling_policy.step.arn]
}
resource "aws_appautoscaling_scheduled_action" "nightly" {
  name               = "nightly-down"
  service_namespace  = aws_appautoscaling_target.web.service_namespace
  resource_id        = aws_appautoscaling_target.web.resource_id
  scalable_dimension = aws_appautoscaling_target.web.scalable_dimension
  schedule           = "cron(0 22 * * ? *)"
  timezone           = "Europe/Berlin"
  scalable_target_action {
    min_capacity = 1
    max_capacity = 1
  }
}
`,
    );
  });
  after(async () => {
    await t?.stop();
    stack?.remove();
  });

  it('applies, plans no changes the second time, and destroys', async () => {
    await stack.apply();
    const aas = new ApplicationAutoScalingClient({ endpoint: t.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
    const cw = new CloudWatchClient({ endpoint: t.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
    const ns = { ServiceNamespace: 'ecs' as const };
    try {
      const [target] = (await aas.send(new DescribeScalableTargetsCommand(ns))).ScalableTargets!;
      assert.deepEqual([target!.ResourceId, target!.MinCapacity, target!.MaxCapacity], ['service/tf-scale/web', 1, 4]);
      const policies = (await aas.send(new DescribeScalingPoliciesCommand(ns))).ScalingPolicies!;
      assert.deepEqual(policies.map((p) => [p.PolicyName, p.PolicyType]).sort(), [['cpu40', 'TargetTrackingScaling'], ['queue-step', 'StepScaling']]);
      // The target tracking policy owns its two alarms; the user's alarm points at the step policy.
      const alarms = (await cw.send(new DescribeAlarmsCommand({}))).MetricAlarms!;
      const owned = policies.find((p) => p.PolicyName === 'cpu40')!.Alarms!.map((a) => a.AlarmName).sort();
      assert.equal(owned.length, 2);
      assert.deepEqual(alarms.map((a) => a.AlarmName).sort(), [...owned, 'tf-queue-depth'].sort());
      assert.deepEqual(alarms.find((a) => a.AlarmName === 'tf-queue-depth')!.AlarmActions, [policies.find((p) => p.PolicyName === 'queue-step')!.PolicyARN]);
      const [scheduled] = (await aas.send(new DescribeScheduledActionsCommand(ns))).ScheduledActions!;
      assert.deepEqual([scheduled!.ScheduledActionName, scheduled!.Schedule, scheduled!.Timezone], ['nightly-down', 'cron(0 22 * * ? *)', 'Europe/Berlin']);

      await stack.assertNoChanges();
      await stack.destroy();
      assert.deepEqual((await aas.send(new DescribeScalableTargetsCommand(ns))).ScalableTargets, []);
      assert.deepEqual((await aas.send(new DescribeScalingPoliciesCommand(ns))).ScalingPolicies, []);
      assert.deepEqual((await aas.send(new DescribeScheduledActionsCommand(ns))).ScheduledActions, []);
      assert.deepEqual((await cw.send(new DescribeAlarmsCommand({}))).MetricAlarms, []);
    } finally {
      aas.destroy();
      cw.destroy();
    }
  });
});
