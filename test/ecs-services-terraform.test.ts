/**
 * Terraform (1.11, AWS provider 5.100 from the local mirror /opt/tf-plugins) against Dockyard:
 * a cluster, task definitions, a service with the deployment circuit breaker and one with a
 * capacity provider strategy (FARGATE base 1, FARGATE_SPOT weight 3) apply; a second
 * plan shows no changes; destroy removes them (the service ends INACTIVE, the cluster too). No
 * host joins the cluster: Terraform's view of a service does not depend on where tasks run (the
 * service records its placement failures as events meanwhile), and the run stays short.
 */
import { DescribeClustersCommand, DescribeServicesCommand } from '@aws-sdk/client-ecs';
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { startDockyard, type TestDockyard } from './helpers/dockyard.js';
import { terraformStack, type TerraformStack } from './helpers/terraform.js';

let d: TestDockyard;
let stack: TerraformStack;

before(async () => {
  d = await startDockyard({ serviceControllerIdleMs: 500 });
  stack = await terraformStack(
    d.endpoint,
    ['ecs', 'iam', 'sts'],
    `resource "aws_ecs_cluster" "tf" {
  name = "tf"
}
resource "aws_ecs_task_definition" "web" {
  family = "tf-web"
  container_definitions = jsonencode([{
    name      = "web"
    image     = "simulated/web:1"
    cpu       = 64
    memory    = 64
    essential = true
    portMappings = [{ containerPort = 8080, hostPort = 0, protocol = "tcp" }]
  }])
}
resource "aws_ecs_service" "web" {
  name            = "web"
  cluster         = aws_ecs_cluster.tf.id
  task_definition = aws_ecs_task_definition.web.arn
  desired_count   = 2
  launch_type     = "EC2"
  deployment_minimum_healthy_percent = 50
  deployment_maximum_percent         = 200
  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }
  tags = { team = "platform" }
}
resource "aws_ecs_cluster_capacity_providers" "tf" {
  cluster_name       = aws_ecs_cluster.tf.name
  capacity_providers = ["FARGATE", "FARGATE_SPOT"]
}
resource "aws_ecs_task_definition" "worker" {
  family                   = "tf-worker"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = "256"
  memory                   = "512"
  container_definitions = jsonencode([{
    name      = "worker"
    image     = "simulated/worker:1"
    essential = true
  }])
}
resource "aws_ecs_service" "worker" {
  name            = "worker"
  cluster         = aws_ecs_cluster.tf.id
  task_definition = aws_ecs_task_definition.worker.arn
  desired_count   = 4
  capacity_provider_strategy {
    capacity_provider = "FARGATE"
    base              = 1
    weight            = 1
  }
  capacity_provider_strategy {
    capacity_provider = "FARGATE_SPOT"
    weight            = 3
  }
  network_configuration {
    subnets = ["subnet-0123456789abcdef0"]
  }
  deployment_circuit_breaker {
    enable   = true
    rollback = false
  }
  depends_on = [aws_ecs_cluster_capacity_providers.tf]
}
`,
  );
});

after(async () => {
  await d.stop();
  stack?.remove();
});

it('terraform apply, plan without changes, destroy: cluster, task definition, service with circuit breaker', { timeout: 600_000 }, async () => {
  await stack.apply();
  const s = (await d.ecs.send(new DescribeServicesCommand({ cluster: 'tf', services: ['web'], include: ['TAGS'] }))).services![0]!;
  assert.equal(s.status, 'ACTIVE');
  assert.equal(s.desiredCount, 2);
  assert.equal(s.deployments!.length, 1);
  assert.deepEqual(s.deploymentConfiguration!.deploymentCircuitBreaker, { enable: true, rollback: true });
  assert.deepEqual(s.tags, [{ key: 'team', value: 'platform' }]);

  const worker = (await d.ecs.send(new DescribeServicesCommand({ cluster: 'tf', services: ['worker'] }))).services![0]!;
  // Stored as given (Terraform sends the set in its own order, without a zero base).
  const strategy = worker.capacityProviderStrategy!.map((x) => `${x.capacityProvider}:${x.base ?? 0}:${x.weight}`).sort();
  assert.deepEqual(strategy, ['FARGATE:1:1', 'FARGATE_SPOT:0:3']);
  assert.equal(worker.launchType, undefined);

  await stack.assertNoChanges();

  // Terraform deletes the service and waits for it to be INACTIVE before it deletes the cluster.
  await stack.destroy();
  const cluster = (await d.ecs.send(new DescribeClustersCommand({ clusters: ['tf'] }))).clusters?.[0];
  assert.equal(cluster?.status, 'INACTIVE');
});
