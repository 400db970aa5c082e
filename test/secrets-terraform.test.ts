/**
 * Terraform 1.11 with the AWS provider 5.100 (local mirror in /opt/tf-plugins) against Dockyard:
 * aws_ssm_parameter (String with tags, SecureString), aws_secretsmanager_secret and
 * aws_secretsmanager_secret_version are created, a second plan shows no changes, and destroy
 * removes the parameters and schedules the secret's deletion with its recovery window.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DescribeSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, ListTagsForResourceCommand, SSMClient } from '@aws-sdk/client-ssm';
import { credentials, startDockyard, type TestDockyard } from './helpers/dockyard.js';
import { errorOf } from './helpers/errors.js';
import { providerBlock, terraformIn, writeMirrorConfig } from './helpers/terraform.js';

const PLUGINS = '/opt/tf-plugins';
let d: TestDockyard;
const dir = mkdtempSync(join(tmpdir(), 'dockyard-tf-secrets-'));

before(async () => {
  if (!existsSync(PLUGINS)) throw new Error(`the AWS provider mirror ${PLUGINS} is missing`);
  d = await startDockyard();
  writeMirrorConfig(dir);
  writeFileSync(
    join(dir, 'main.tf'),
    `${providerBlock(d.endpoint, ['ssm', 'secretsmanager', 'sts'])}
resource "aws_ssm_parameter" "host" {
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
  rmSync(dir, { recursive: true, force: true });
});

const terraform = async (args: string[]) => {
  // Failures other than plan's "changes" (exit 2) throw with terraform's output.
  const { code, stdout } = await terraformIn(dir)(...args, '-input=false', '-no-color');
  return { code, out: stdout };
};

test('terraform apply, a second plan with no changes, destroy', async () => {
  const init = await terraform(['init']);
  assert.equal(init.code, 0, init.out);
  const apply = await terraform(['apply', '-auto-approve']);
  assert.equal(apply.code, 0, apply.out);
  assert.match(apply.out, /Resources: 4 added/);
  const client = { endpoint: d.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 };
  const ssm = new SSMClient(client);
  const sm = new SecretsManagerClient(client);
  try {
    assert.equal((await ssm.send(new GetParameterCommand({ Name: '/tf/db/password', WithDecryption: true }))).Parameter!.Value, 'tf-password-value');
    assert.deepEqual((await ssm.send(new ListTagsForResourceCommand({ ResourceType: 'Parameter', ResourceId: '/tf/db/host' }))).TagList, [{ Key: 'team', Value: 'tf' }]);
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: 'tf/api' }))).SecretString, '{"key":"abc"}');

    // -detailed-exitcode: 0 = no changes, 2 = changes.
    const plan = await terraform(['plan', '-detailed-exitcode']);
    assert.equal(plan.code, 0, plan.out);
    assert.match(plan.out, /No changes/);

    const destroy = await terraform(['destroy', '-auto-approve']);
    assert.equal(destroy.code, 0, destroy.out);
    assert.equal((await errorOf(ssm.send(new GetParameterCommand({ Name: '/tf/db/host' })))).name, 'ParameterNotFound');
    const deleted = await sm.send(new DescribeSecretCommand({ SecretId: 'tf/api' }));
    assert.ok(deleted.DeletedDate instanceof Date, 'the secret waits out its recovery window');
  } finally {
    ssm.destroy();
    sm.destroy();
  }
});
