/**
 * Terraform (1.11, AWS provider 5.100 from /opt/tf-plugins) builds the whole load-balanced stack
 * against Dockyard: aws_lb, aws_lb_target_group (health check `/`), aws_lb_listener, a cluster, a
 * task definition and an aws_ecs_service with a load_balancer block. It applies, a second plan
 * shows no changes, destroy removes everything. No host joins the cluster (Terraform's view of a
 * service does not depend on where its tasks run): the run stays short, though the provider waits
 * 30 s for a new load balancer.
 */
import { DescribeClustersCommand, DescribeServicesCommand } from '@aws-sdk/client-ecs';
import { DescribeLoadBalancersCommand, DescribeTargetGroupsCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { credentials, startDockyard, type TestDockyard } from './helpers/dockyard.js';
import { providerBlock, terraformIn, writeMirrorConfig } from './helpers/terraform.js';
import { freePort } from './helpers/net.js';

let d: TestDockyard;
let dir: string;
let tf: ReturnType<typeof terraformIn>;

before(async () => {
  d = await startDockyard({ serviceControllerIdleMs: 500, loadBalancing: { bindHost: '127.0.0.1' } } as never);
  dir = mkdtempSync(join(tmpdir(), 'dockyard-tf-lbsvc-'));
  const port = await freePort();
  writeMirrorConfig(dir);
  tf = terraformIn(dir);
  writeFileSync(
    join(dir, 'main.tf'),
    `${providerBlock(d.endpoint, ['ecs', 'elbv2', 'iam', 'sts'])}
resource "aws_lb" "web" {
  name               = "tf-svc"
  load_balancer_type = "application"
  subnets            = ["subnet-0a1", "subnet-0b2"]
}
resource "aws_lb_target_group" "web" {
  name                 = "tf-svc"
  port                 = 8080
  protocol             = "HTTP"
  vpc_id               = "vpc-0123"
  deregistration_delay = 5
  health_check {
    path                = "/"
    interval            = 5
    timeout             = 2
    healthy_threshold   = 2
    unhealthy_threshold = 2
  }
}
resource "aws_lb_listener" "http" {
  load_balancer_arn = aws_lb.web.arn
  port              = ${port}
  protocol          = "HTTP"
  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.web.arn
  }
}
resource "aws_ecs_cluster" "tf" {
  name = "tf-lb"
}
resource "aws_ecs_task_definition" "web" {
  family = "tf-lb-web"
  container_definitions = jsonencode([{
    name      = "web"
    image     = "simulated/web:1"
    memory    = 64
    essential = true
    portMappings = [{ containerPort = 8080, hostPort = 0, protocol = "tcp" }]
  }])
}
resource "aws_ecs_service" "web" {
  name                              = "web"
  cluster                           = aws_ecs_cluster.tf.id
  task_definition                   = aws_ecs_task_definition.web.arn
  desired_count                     = 2
  launch_type                       = "EC2"
  health_check_grace_period_seconds = 10
  load_balancer {
    target_group_arn = aws_lb_target_group.web.arn
    container_name   = "web"
    container_port   = 8080
  }
  # ECS wants the target group attached to a load balancer first.
  depends_on = [aws_lb_listener.http]
}
`,
  );
  await tf('init', '-input=false', '-no-color');
});

after(async () => {
  await d.stop();
  rmSync(dir, { recursive: true, force: true });
});

it('terraform apply, plan without changes, destroy: load balancer, target group, listener, service attached', { timeout: 600_000 }, async () => {
  const apply = await tf('apply', '-auto-approve', '-input=false', '-no-color');
  assert.match(apply.stdout, /Apply complete! Resources: 6 added, 0 changed, 0 destroyed\./);
  const s = (await d.ecs.send(new DescribeServicesCommand({ cluster: 'tf-lb', services: ['web'] }))).services![0]!;
  const elb = new ElasticLoadBalancingV2Client({ endpoint: d.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
  const tg = (await elb.send(new DescribeTargetGroupsCommand({ Names: ['tf-svc'] }))).TargetGroups![0]!;
  assert.deepEqual(s.loadBalancers, [{ targetGroupArn: tg.TargetGroupArn, containerName: 'web', containerPort: 8080 }]);
  assert.equal(s.healthCheckGracePeriodSeconds, 10);

  const plan = await tf('plan', '-detailed-exitcode', '-input=false', '-no-color');
  assert.equal(plan.code, 0, `the second plan wants changes:\n${plan.stdout}`);

  await tf('destroy', '-auto-approve', '-input=false', '-no-color');
  assert.equal((await d.ecs.send(new DescribeClustersCommand({ clusters: ['tf-lb'] }))).clusters?.[0]?.status, 'INACTIVE');
  assert.deepEqual((await elb.send(new DescribeLoadBalancersCommand({}))).LoadBalancers, []);
  assert.deepEqual((await elb.send(new DescribeTargetGroupsCommand({}))).TargetGroups, []);
  elb.destroy();
});
