/**
 * IAM policies over Parameter Store and Secrets Manager: an IAM user's identity policy scoped to
 * parameter and secret ARNs (names resolved to ARNs, a secret's random suffix matched by
 * `-??????`), tag conditions on secrets, and a secret's own resource policy.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { CreateSecretCommand, DeleteSecretCommand, GetSecretValueCommand, ListSecretsCommand, PutResourcePolicyCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, GetParametersByPathCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { credentials, startDockyard, type TestDockyard } from './helpers/dockyard.js';

let d: TestDockyard;
let asUser: { ssm: SSMClient; sm: SecretsManagerClient };
let root: { ssm: SSMClient; sm: SecretsManagerClient };
const ACCOUNT = '000000000000';

before(async () => {
  d = await startDockyard();
  const client = (c: typeof credentials) => ({ endpoint: d.endpoint, region: 'us-east-1', credentials: c, maxAttempts: 1 });
  root = { ssm: new SSMClient(client(credentials)), sm: new SecretsManagerClient(client(credentials)) };
  const iam = new IAMClient(client(credentials));
  await iam.send(new CreateUserCommand({ UserName: 'app' }));
  await iam.send(
    new PutUserPolicyCommand({
      UserName: 'app',
      PolicyName: 'scoped',
      PolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: ['ssm:GetParameter', 'ssm:GetParametersByPath'], Resource: [`arn:aws:ssm:us-east-1:${ACCOUNT}:parameter/app/*`, `arn:aws:ssm:us-east-1:${ACCOUNT}:parameter/app`] },
          // GetParametersByPath is authorized on the path itself (parameter/app), as in AWS.
          { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:app/db-??????` },
          { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: '*', Condition: { StringEquals: { 'aws:ResourceTag/team': 'app' } } },
          { Effect: 'Allow', Action: ['secretsmanager:ListSecrets', 'secretsmanager:DeleteSecret'], Resource: '*' },
        ],
      }),
    }),
  );
  const key = (await iam.send(new CreateAccessKeyCommand({ UserName: 'app' }))).AccessKey!;
  iam.destroy();
  const userCreds = { accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! };
  asUser = { ssm: new SSMClient(client(userCreds)), sm: new SecretsManagerClient(client(userCreds)) };
  await root.ssm.send(new PutParameterCommand({ Name: '/app/url', Value: 'u', Type: 'String' }));
  await root.ssm.send(new PutParameterCommand({ Name: '/other/url', Value: 'o', Type: 'String' }));
  await root.sm.send(new CreateSecretCommand({ Name: 'app/db', SecretString: 'db' }));
  await root.sm.send(new CreateSecretCommand({ Name: 'other/db', SecretString: 'other' }));
  await root.sm.send(new CreateSecretCommand({ Name: 'tagged', SecretString: 't', Tags: [{ Key: 'team', Value: 'app' }] }));
});
after(async () => {
  for (const c of [asUser?.ssm, asUser?.sm, root?.ssm, root?.sm]) c?.destroy();
  await d.stop();
});

const denied = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (e) {
    return (e as Error).name + ': ' + (e as Error).message;
  }
  assert.fail('expected AccessDeniedException');
};

describe('IAM over secrets', () => {
  test('parameters: allowed under the path the policy names, denied elsewhere with AWS wording', async () => {
    assert.equal((await asUser.ssm.send(new GetParameterCommand({ Name: '/app/url' }))).Parameter!.Value, 'u');
    assert.equal((await asUser.ssm.send(new GetParametersByPathCommand({ Path: '/app' }))).Parameters!.length, 1);
    assert.match(
      await denied(asUser.ssm.send(new GetParameterCommand({ Name: '/other/url' }))),
      /^AccessDeniedException: User: arn:aws:iam::000000000000:user\/app is not authorized to perform: ssm:GetParameter on resource: arn:aws:ssm:us-east-1:000000000000:parameter\/other\/url/,
    );
    assert.match(await denied(asUser.ssm.send(new PutParameterCommand({ Name: '/app/new', Value: 'x', Type: 'String' }))), /ssm:PutParameter/);
  });

  test('secrets: by name resolved to the full ARN (suffix matched), by tag; a resource policy deny wins', async () => {
    assert.equal((await asUser.sm.send(new GetSecretValueCommand({ SecretId: 'app/db' }))).SecretString, 'db');
    assert.equal((await asUser.sm.send(new GetSecretValueCommand({ SecretId: 'tagged' }))).SecretString, 't');
    assert.match(
      await denied(asUser.sm.send(new GetSecretValueCommand({ SecretId: 'other/db' }))),
      /^AccessDeniedException: User: arn:aws:iam::000000000000:user\/app is not authorized to perform: secretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:us-east-1:000000000000:secret:other\/db-\w{6}/,
    );
    await root.sm.send(
      new PutResourcePolicyCommand({
        SecretId: 'app/db',
        ResourcePolicy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:user/app` }, Action: 'secretsmanager:DeleteSecret', Resource: '*' }] }),
      }),
    );
    assert.match(await denied(asUser.sm.send(new DeleteSecretCommand({ SecretId: 'app/db', ForceDeleteWithoutRecovery: true }))), /explicit deny in a resource-based policy/);
    assert.ok((await asUser.sm.send(new ListSecretsCommand({}))).SecretList!.length >= 3);
  });
});
