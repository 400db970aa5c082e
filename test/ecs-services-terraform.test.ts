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
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { promisify } from 'node:util';
import { credentials, startDockyard, type TestDockyard } from './helpers/dockyard.js';

const exec = promisify(execFile);
let d: TestDockyard;
let dir: string;

async function tf(...args: string[]): Promise<{ stdout: string; code: number }> {
  const env = {
    ...process.env,
    TF_CLI_CONFIG_FILE: join(dir, 'cli.tfrc'),
    TF_IN_AUTOMATION: '1',
    ...(process.env.TF_TEST_LOG ? { TF_LOG: 'DEBUG', TF_LOG_PATH: process.env.TF_TEST_LOG } : {}),
    CHECKPOINT_DISABLE: '1',
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_REGION: 'us-east-1',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
  };
  const t0 = Date.now();
  try {
    const { stdout } = await exec('terraform', args, { cwd: dir, env, timeout: 240_000, maxBuffer: 16 * 1024 * 1024 });
    if (process.env.TF_TEST_TIMING) console.log(`terraform ${args[0]}: ${Date.now() - t0} ms`);
    return { stdout, code: 0 };
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; code?: number };
    if (args[0] === 'plan' && err.code === 2) return { stdout: err.stdout ?? '', code: 2 };
    throw new Error(`terraform ${args.join(' ')} failed:\n${err.stdout}\n${err.stderr}`);
  }
}

before(async () => {
  d = await startDockyard({ serviceControllerIdleMs: 500 });
  dir = mkdtempSync(join(tmpdir(), 'dockyard-tf-'));
  writeFileSync(
    join(dir, 'cli.tfrc'),
    'provider_installation {\n  filesystem_mirror {\n    path    = "/opt/tf-plugins"\n    include = ["registry.terraform.io/*/*"]\n  }\n  direct {\n    exclude = ["registry.terraform.io/*/*"]\n  }\n}\n',
  );
  writeFileSync(
    join(dir, 'main.tf'),
    `
terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = "5.100.0" }
  }
}
provider "aws" {
  region                      = "us-east-1"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  endpoints {
    ecs = "${d.endpoint}"
    iam = "${d.endpoint}"
    sts = "${d.endpoint}"
  }
}
resource "aws_ecs_cluster" "tf" {
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
  await tf('init', '-input=false', '-no-color');
});

after(async () => {
  await d.stop();
  rmSync(dir, { recursive: true, force: true });
});

it('terraform apply, plan without changes, destroy: cluster, task definition, service with circuit breaker', { timeout: 600_000 }, async () => {
  await tf('apply', '-auto-approve', '-input=false', '-no-color');
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

  const plan = await tf('plan', '-detailed-exitcode', '-input=false', '-no-color');
  assert.equal(plan.code, 0, `the second plan wants changes:\n${plan.stdout}`);

  // Terraform deletes the service and waits for it to be INACTIVE before it deletes the cluster.
  await tf('destroy', '-auto-approve', '-input=false', '-no-color');
  const cluster = (await d.ecs.send(new DescribeClustersCommand({ clusters: ['tf'] }))).clusters?.[0];
  assert.equal(cluster?.status, 'INACTIVE');
});
