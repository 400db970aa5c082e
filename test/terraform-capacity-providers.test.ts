/**
 * Terraform (1.11, AWS provider 5.100 from the local mirror in /opt/tf-plugins) drives capacity
 * providers against Dockyard: aws_ecs_capacity_provider + aws_ecs_cluster_capacity_providers
 * apply, a second plan shows no changes, and destroy removes them (the provider is INACTIVE after).
 */
import { DescribeCapacityProvidersCommand, DescribeClustersCommand } from '@aws-sdk/client-ecs';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startDockyard, type TestDockyard } from './helpers/dockyard.js';
import { providerBlock, terraformIn, writeMirrorConfig } from './helpers/terraform.js';

const MIRROR = '/opt/tf-plugins';
const ACCOUNT = '123456789012';

/** Failures other than plan's "changes" (exit 2) throw with terraform's output. */
async function terraform(dir: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return { ...(await terraformIn(dir)(...args)), stderr: '' };
}

describe('Terraform: aws_ecs_capacity_provider and aws_ecs_cluster_capacity_providers', () => {
  let t: TestDockyard;
  let dir: string;
  before(async () => {
    assert.ok(existsSync(MIRROR), `the Terraform provider mirror ${MIRROR} is missing`);
    t = await startDockyard({ accountId: ACCOUNT });
    dir = mkdtempSync(join(tmpdir(), 'dockyard-tf-cp-'));
    writeMirrorConfig(dir);
    writeFileSync(
      join(dir, 'main.tf'),
      `${providerBlock(t.endpoint, ['ecs'])}

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
    rmSync(dir, { recursive: true, force: true });
  });

  test('apply, plan with no changes, destroy', async () => {
    const init = await terraform(dir, ['init', '-input=false', '-no-color']);
    assert.equal(init.code, 0, init.stdout + init.stderr);
    const apply = await terraform(dir, ['apply', '-auto-approve', '-input=false', '-no-color']);
    assert.equal(apply.code, 0, apply.stdout + apply.stderr);

    const cp = (await t.ecs.send(new DescribeCapacityProvidersCommand({ capacityProviders: ['tf-fleet'], include: ['TAGS'] }))).capacityProviders![0]!;
    assert.equal(cp.status, 'ACTIVE');
    assert.equal(cp.autoScalingGroupProvider!.managedScaling!.targetCapacity, 75);
    assert.equal(cp.autoScalingGroupProvider!.managedScaling!.maximumScalingStepSize, 5);
    assert.deepEqual(cp.tags, [{ key: 'team', value: 'infra' }]);
    const cluster = (await t.ecs.send(new DescribeClustersCommand({ clusters: ['tf-capacity'] }))).clusters![0]!;
    assert.deepEqual([...cluster.capacityProviders!].sort(), ['FARGATE', 'FARGATE_SPOT', 'tf-fleet']);
    assert.deepEqual(cluster.defaultCapacityProviderStrategy, [{ capacityProvider: 'tf-fleet', base: 1, weight: 1 }]);

    // -detailed-exitcode: 0 = no changes, 2 = changes.
    const plan = await terraform(dir, ['plan', '-detailed-exitcode', '-input=false', '-no-color']);
    assert.equal(plan.code, 0, plan.stdout + plan.stderr);
    assert.match(plan.stdout, /No changes/);

    const destroy = await terraform(dir, ['destroy', '-auto-approve', '-input=false', '-no-color']);
    assert.equal(destroy.code, 0, destroy.stdout + destroy.stderr);
    const gone = (await t.ecs.send(new DescribeCapacityProvidersCommand({ capacityProviders: ['tf-fleet'] }))).capacityProviders![0]!;
    assert.equal(gone.status, 'INACTIVE');
    const inactive = (await t.ecs.send(new DescribeClustersCommand({ clusters: ['tf-capacity'] }))).clusters![0]!;
    assert.equal(inactive.status, 'INACTIVE');
  });
});
