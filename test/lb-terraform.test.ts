/**
 * Terraform (1.11, AWS provider 5.100 from the local mirror /opt/tf-plugins) builds a load
 * balancer stack against Dockyard: aws_lb, three aws_lb_target_group (health check, stickiness,
 * deregistration delay), aws_lb_listener, three aws_lb_listener_rule (path + host forward, a fixed
 * response, a path forward to the service's group) and a target attachment, plus an ECS cluster,
 * task definition and an aws_ecs_service with a load_balancer block. It applies, the listener
 * answers on 127.0.0.1, a second plan shows no changes (every attribute the provider reads back is
 * what it wrote), and destroy removes everything. No host joins the cluster (Terraform's view of a
 * service does not depend on where its tasks run). One stack for both because the provider waits
 * 30 s twice for every new load balancer.
 */
import { DescribeClustersCommand, DescribeServicesCommand } from '@aws-sdk/client-ecs';
import { DescribeLoadBalancersCommand, DescribeTargetGroupsCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { credentials, startDockyard, type TestDockyard } from './helpers/dockyard.js';
import { eventually, hit, startBackend, type Backend } from './helpers/lb.js';
import { freePort } from './helpers/net.js';
import { terraformStack, type TerraformStack } from './helpers/terraform.js';

let d: TestDockyard;
let web: Backend;
let stack: TerraformStack | undefined;

before(async () => {
  d = await startDockyard({ serviceControllerIdleMs: 500 });
  web = await startBackend('tf-web');
});
after(async () => {
  await web.close();
  await d.stop();
  stack?.remove();
});

function config(listenerPort: number): string {
  return `
resource "aws_lb" "web" {
  name               = "tf-web"
  load_balancer_type = "application"
  subnets            = ["subnet-0a1", "subnet-0b2"]
  security_groups    = ["sg-0123"]
  idle_timeout       = 30
  tags               = { env = "test" }
}

resource "aws_lb_target_group" "web" {
  name                 = "tf-web"
  port                 = ${web.port}
  protocol             = "HTTP"
  vpc_id               = "vpc-0123"
  target_type          = "ip"
  deregistration_delay = 10
  health_check {
    path                = "/health"
    interval            = 10
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 2
    matcher             = "200-299"
  }
  stickiness {
    type            = "lb_cookie"
    cookie_duration = 3600
    enabled         = true
  }
  tags = { env = "test" }
}

resource "aws_lb_target_group" "api" {
  name        = "tf-api"
  port        = 8081
  protocol    = "HTTP"
  vpc_id      = "vpc-0123"
  target_type = "ip"
}

resource "aws_lb_target_group_attachment" "web" {
  target_group_arn = aws_lb_target_group.web.arn
  target_id        = "127.0.0.1"
}

resource "aws_lb_listener" "http" {
  load_balancer_arn = aws_lb.web.arn
  port              = ${listenerPort}
  protocol          = "HTTP"
  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.web.arn
  }
  tags = { env = "test" }
}

resource "aws_lb_listener_rule" "api" {
  listener_arn = aws_lb_listener.http.arn
  priority     = 10
  action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.api.arn
  }
  condition {
    path_pattern {
      values = ["/api/*"]
    }
  }
  condition {
    host_header {
      values = ["api.example.com"]
    }
  }
}

resource "aws_lb_listener_rule" "maintenance" {
  listener_arn = aws_lb_listener.http.arn
  priority     = 20
  action {
    type = "fixed-response"
    fixed_response {
      content_type = "text/plain"
      message_body = "down for maintenance"
      status_code  = "503"
    }
  }
  condition {
    path_pattern {
      values = ["/maintenance"]
    }
  }
}

# An ECS service behind the same listener, in a group of instance targets (bridge networking).
resource "aws_lb_target_group" "svc" {
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

resource "aws_lb_listener_rule" "svc" {
  listener_arn = aws_lb_listener.http.arn
  priority     = 30
  action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.svc.arn
  }
  condition {
    path_pattern {
      values = ["/svc/*"]
    }
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
    target_group_arn = aws_lb_target_group.svc.arn
    container_name   = "web"
    container_port   = 8080
  }
  # ECS wants the target group attached to a load balancer first.
  depends_on = [aws_lb_listener_rule.svc]
}

output "dns_name" {
  value = aws_lb.web.dns_name
}
`;
}

test('terraform applies a load balancer stack with an ECS service attached, plans no changes, destroys it', { timeout: 600_000 }, async () => {
  const port = await freePort();
  stack = await terraformStack(d.endpoint, ['elbv2', 'ecs', 'iam', 'sts'], config(port));
  const apply = await stack.apply();
  assert.match(apply, /Apply complete! Resources: 12 added, 0 changed, 0 destroyed\./);
  assert.match(apply, /dns_name = "tf-web-\d{10}\.us-east-1\.elb\.localhost"/);

  // The stack serves: the fixed response, and the target through the default action.
  await d.app.loadBalancing!.settled();
  const maintenance = await eventually(() => hit(port, '/maintenance'), 'the listener');
  assert.deepEqual([maintenance.status, maintenance.body], [503, 'down for maintenance']);
  const forwarded = await hit(port, '/');
  assert.equal(forwarded.headers['x-backend'], 'tf-web');
  assert.ok((forwarded.headers['set-cookie'] ?? []).some((c) => c.startsWith('AWSALB=')), 'stickiness from the target group attributes');

  // The service names the group it was given.
  const elb = new ElasticLoadBalancingV2Client({ endpoint: d.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
  const svcGroup = (await elb.send(new DescribeTargetGroupsCommand({ Names: ['tf-svc'] }))).TargetGroups![0]!;
  const service = (await d.ecs.send(new DescribeServicesCommand({ cluster: 'tf-lb', services: ['web'] }))).services![0]!;
  assert.deepEqual(service.loadBalancers, [{ targetGroupArn: svcGroup.TargetGroupArn, containerName: 'web', containerPort: 8080 }]);
  assert.equal(service.healthCheckGracePeriodSeconds, 10);

  await stack.assertNoChanges();
  assert.match(await stack.destroy(), /Destroy complete! Resources: 12 destroyed\./);
  assert.equal((await d.ecs.send(new DescribeClustersCommand({ clusters: ['tf-lb'] }))).clusters?.[0]?.status, 'INACTIVE');
  assert.deepEqual((await elb.send(new DescribeLoadBalancersCommand({}))).LoadBalancers, []);
  assert.deepEqual((await elb.send(new DescribeTargetGroupsCommand({}))).TargetGroups, []);
  elb.destroy();
});
