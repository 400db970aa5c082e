/**
 * Terraform (1.11, AWS provider 5.100 from the local mirror) manages CloudWatch alarms on
 * Dockyard: a single-metric alarm with dimensions and tags and a metric-math alarm; a second plan
 * after apply shows no changes (every attribute reads back as written), and destroy removes them.
 */
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { credentials, startDockyard, type TestDockyard } from './helpers/dockyard.js';
import { providerBlock, terraformIn, writeMirrorConfig } from './helpers/terraform.js';

describe('Terraform: aws_cloudwatch_metric_alarm', () => {
  let t: TestDockyard;
  let dir: string;
  // The server runs in this process: terraform runs asynchronously, never blocking its event loop.
  let terraform: ReturnType<typeof terraformIn>;
  const tf = (...args: string[]) => terraform(...args, '-input=false', '-no-color');

  before(async () => {
    t = await startDockyard({ metrics: { alarmEvaluationIntervalMs: 0 } });
    dir = mkdtempSync(join(tmpdir(), 'dockyard-tf-cw-'));
    writeMirrorConfig(dir);
    terraform = terraformIn(dir);
    writeFileSync(
      join(dir, 'main.tf'),
      `${providerBlock(t.endpoint, ['cloudwatch'])}
resource "aws_cloudwatch_metric_alarm" "cpu" {
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
    await tf('init');
  });
  after(async () => {
    await t?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('applies, plans no changes the second time, and destroys', async () => {
    await tf('apply', '-auto-approve');
    const cw = new CloudWatchClient({ endpoint: t.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
    try {
      const alarms = (await cw.send(new DescribeAlarmsCommand({}))).MetricAlarms!;
      assert.deepEqual(alarms.map((a) => a.AlarmName).sort(), ['tf-cpu-high', 'tf-error-rate']);
      // -detailed-exitcode: 0 = no changes, 2 = changes.
      const plan = await tf('plan', '-detailed-exitcode');
      assert.equal(plan.code, 0, plan.stdout);
      assert.match(plan.stdout, /No changes\./);
      await tf('destroy', '-auto-approve');
      assert.deepEqual((await cw.send(new DescribeAlarmsCommand({}))).MetricAlarms, []);
    } finally {
      cw.destroy();
    }
  });
});
