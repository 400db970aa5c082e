/**
 * Terraform 1.11 with the AWS provider 5.100 (local mirror in /opt/tf-plugins) against Dockyard:
 * aws_ssm_parameter (String with tags, SecureString), aws_secretsmanager_secret and
 * aws_secretsmanager_secret_version are created, a second plan shows no changes, and destroy
 * removes the parameters and schedules the secret's deletion with its recovery window.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DescribeSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, ListTagsForResourceCommand, SSMClient } from '@aws-sdk/client-ssm';
import { credentials, startDockyard, type TestDockyard } from './helpers/dockyard.js';
import { errorOf } from './helpers/errors.js';
import { terraformStack, type TerraformStack } from './helpers/terraform.js';

let d: TestDockyard;
let stack: TerraformStack;

before(async () => {
  d = await startDockyard();
  stack = await terraformStack(
    d.endpoint,
    ['ssm', 'secretsmanager', 'sts'],
    `resource "aws_ssm_parameter" "host" {
  name  = "/tf/db/host"
  type  = "String"
  value = "db.internal"
  tags  = { team = "tf" }
}
resource "aws_ssm_parameter" "password" {
  name  = "/tf/db/password"
  type  = "SecureString"
  value = "tf-password-value"
}
resource "aws_secretsmanager_secret" "api" {
  name                    = "tf/api"
  description             = "api key"
  recovery_window_in_days = 7
  tags                    = { team = "tf" }
}
resource "aws_secretsmanager_secret_version" "api" {
  secret_id     = aws_secretsmanager_secret.api.id
  secret_string = jsonencode({ key = "abc" })
}
`,
  );
});
after(async () => {
  await d?.stop();
  stack?.remove();
});

test('terraform apply, a second plan with no changes, destroy', async () => {
  assert.match(await stack.apply(), /Resources: 4 added/);
  const client = { endpoint: d.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 };
  const ssm = new SSMClient(client);
  const sm = new SecretsManagerClient(client);
  try {
    assert.equal((await ssm.send(new GetParameterCommand({ Name: '/tf/db/password', WithDecryption: true }))).Parameter!.Value, 'tf-password-value');
    assert.deepEqual((await ssm.send(new ListTagsForResourceCommand({ ResourceType: 'Parameter', ResourceId: '/tf/db/host' }))).TagList, [{ Key: 'team', Value: 'tf' }]);
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: 'tf/api' }))).SecretString, '{"key":"abc"}');

    await stack.assertNoChanges();
    await stack.destroy();
    assert.equal((await errorOf(ssm.send(new GetParameterCommand({ Name: '/tf/db/host' })))).name, 'ParameterNotFound');
    const deleted = await sm.send(new DescribeSecretCommand({ SecretId: 'tf/api' }));
    assert.ok(deleted.DeletedDate instanceof Date, 'the secret waits out its recovery window');
  } finally {
    ssm.destroy();
    sm.destroy();
  }
});
