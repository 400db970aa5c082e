/**
 * Terraform (1.11, AWS provider 5.100 from the local mirror in /opt/tf-plugins) drives capacity
 * providers against Dockyard: aws_ecs_capacity_provider + aws_ecs_cluster_capacity_providers
 * apply, a second plan shows no changes, and destroy removes them (the provider is INACTIVE after).
 */
import { DescribeCapacityProvidersCommand, DescribeClustersCommand } from '@aws-sdk/client-ecs';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startDockyard, type TestDockyard } from './helpers/dockyard.js';
import { terraformStack, type TerraformStack } from './helpers/terraform.js';

const ACCOUNT = '123456789012';

describe('Terraform: aws_ecs_capacity_provider and aws_ecs_cluster_capacity_providers', () => {
  let t: TestDockyard;
  let stack: TerraformStack;
  before(async () => {
    t = await startDockyard({ accountId: ACCOUNT });
    stack = await terraformStack(
      t.endpoint,
      ['ecs'],
      `
resource "aws_ecs_cluster" "main" {
  name = "tf-capacity"
}

resource "aws_ecs_capacity_provider" "fleet" {
  name = "tf-fleet"

  auto_scaling_group_provider {
    auto_scaling_group_arn         = "arn:aws:autoscaling:us-east-1:${ACCOUNT}:autoScalingGroup:11111111-2222-3333-4444-555555555555:autoScalingGroupName/tf-fleet"
    managed_termination_protection = "DISABLED"

    managed_scaling {
      status                    = "ENABLED"
      target_capacity           = 75
      maximum_scaling_step_size = 5
    }
  }

  tags = {
    team = "infra"
  }
}

resource "aws_ecs_cluster_capacity_providers" "main" {
  cluster_name       = aws_ecs_cluster.main.name
  capacity_providers = [aws_ecs_capacity_provider.fleet.name, "FARGATE", "FARGATE_SPOT"]

  default_capacity_provider_strategy {
    capacity_provider = aws_ecs_capacity_provider.fleet.name
    base              = 1
    weight            = 1
  }
}
`,
    );
  });
  after(async () => {
    await t.stop();
    stack?.remove();
  });

  test('apply, plan with no changes, destroy', async () => {
    await stack.apply();

    const cp = (await t.ecs.send(new DescribeCapacityProvidersCommand({ capacityProviders: ['tf-fleet'], include: ['TAGS'] }))).capacityProviders![0]!;
    assert.equal(cp.status, 'ACTIVE');
    assert.equal(cp.autoScalingGroupProvider!.managedScaling!.targetCapacity, 75);
    assert.equal(cp.autoScalingGroupProvider!.managedScaling!.maximumScalingStepSize, 5);
    assert.deepEqual(cp.tags, [{ key: 'team', value: 'infra' }]);
    const cluster = (await t.ecs.send(new DescribeClustersCommand({ clusters: ['tf-capacity'] }))).clusters![0]!;
    assert.deepEqual([...cluster.capacityProviders!].sort(), ['FARGATE', 'FARGATE_SPOT', 'tf-fleet']);
    assert.deepEqual(cluster.defaultCapacityProviderStrategy, [{ capacityProvider: 'tf-fleet', base: 1, weight: 1 }]);

    await stack.assertNoChanges();
    await stack.destroy();
    const gone = (await t.ecs.send(new DescribeCapacityProvidersCommand({ capacityProviders: ['tf-fleet'] }))).capacityProviders![0]!;
    assert.equal(gone.status, 'INACTIVE');
    const inactive = (await t.ecs.send(new DescribeClustersCommand({ clusters: ['tf-capacity'] }))).clusters![0]!;
    assert.equal(inactive.status, 'INACTIVE');
  });
});
