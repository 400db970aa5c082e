/**
 * Terraform (1.11, AWS provider 5.100 from the local mirror) manages CloudWatch alarms on
 * Dockyard: a single-metric alarm with dimensions and tags and a metric-math alarm; a second plan
 * after apply shows no changes (every attribute reads back as written), and destroy removes them.
 */
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { credentials, startDockyard, type TestDockyard } from './helpers/dockyard.js';
import { terraformStack, type TerraformStack } from './helpers/terraform.js';

describe('Terraform: aws_cloudwatch_metric_alarm', () => {
  let t: TestDockyard;
  let stack: TerraformStack;

  before(async () => {
    t = await startDockyard({ metrics: { alarmEvaluationIntervalMs: 0 } });
    stack = await terraformStack(
      t.endpoint,
      ['cloudwatch'],
      `resource "aws_cloudwatch_metric_alarm" "cpu" {
  alarm_name          = "tf-cpu-high"
  namespace           = "AWS/ECS"
  metric_name         = "CPUUtilization"
  dimensions          = { ClusterName = "default", ServiceName = "web" }
  statistic           = "Average"
  period              = 60
  evaluation_periods  = 3
  threshold           = 70
  comparison_operator = "GreaterThanThreshold"
  alarm_description   = "cpu"
  tags                = { team = "web" }
}
resource "aws_cloudwatch_metric_alarm" "math" {
  alarm_name          = "tf-error-rate"
  evaluation_periods  = 2
  datapoints_to_alarm = 1
  threshold           = 0.1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  metric_query {
    id = "errors"
    metric {
      namespace   = "Shop"
      metric_name = "Errors"
      period      = 60
      stat        = "Sum"
    }
  }
  metric_query {
    id = "requests"
    metric {
      namespace   = "Shop"
      metric_name = "Requests"
      period      = 60
      stat        = "Sum"
    }
  }
  metric_query {
    id          = "rate"
    expression  = "errors / requests"
    label       = "Error rate"
    return_data = true
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
    const cw = new CloudWatchClient({ endpoint: t.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
    try {
      const alarms = (await cw.send(new DescribeAlarmsCommand({}))).MetricAlarms!;
      assert.deepEqual(alarms.map((a) => a.AlarmName).sort(), ['tf-cpu-high', 'tf-error-rate']);
      await stack.assertNoChanges();
      await stack.destroy();
      assert.deepEqual((await cw.send(new DescribeAlarmsCommand({}))).MetricAlarms, []);
    } finally {
      cw.destroy();
    }
  });
});
