/**
 * IAM and STS through AWS CLI v1 (`aws`), AWS CLI v2 (/usr/bin/aws) and boto3: users, access
 * keys that then sign the CLI's own requests, roles (policy documents decoded by botocore),
 * AssumeRole sessions used through AWS_SESSION_TOKEN, and IAM's errors as the CLIs print them.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { startDockyard, type TestDockyard } from './helpers/dockyard.js';

const run = promisify(execFile);
const ACCOUNT = '000000000000';
const CLIS = [
  { name: 'v1', bin: 'aws' },
  { name: 'v2', bin: '/usr/bin/aws' },
];
const trustAccount = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'sts:AssumeRole' }] });

let d: TestDockyard;
before(async () => {
  d = await startDockyard();
});
after(async () => {
  await d.stop();
});

async function cli(bin: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  try {
    const { stdout } = await run(bin, [...args, '--endpoint-url', d.endpoint, '--output', 'json'], { env: { ...d.cliEnv, ...env }, timeout: 60_000 });
    return { code: 0, json: stdout.trim() ? JSON.parse(stdout) : {}, stderr: '' };
  } catch (e) {
    const err = e as { code?: number; stderr?: string };
    return { code: err.code ?? -1, json: undefined, stderr: err.stderr ?? '' };
  }
}

for (const { name, bin } of CLIS) {
  describe(`AWS CLI ${name}`, () => {
    test('create a user and a key; the key signs the CLI\'s requests; errors as IAM words them', async () => {
      const user = await cli(bin, ['iam', 'create-user', '--user-name', `cli-${name}`, '--tags', 'Key=made-by,Value=cli']);
      assert.equal(user.code, 0, user.stderr);
      assert.equal(user.json.User.Arn, `arn:aws:iam::${ACCOUNT}:user/cli-${name}`);
      assert.deepEqual(user.json.User.Tags, [{ Key: 'made-by', Value: 'cli' }]);

      const key = await cli(bin, ['iam', 'create-access-key', '--user-name', `cli-${name}`]);
      assert.equal(key.code, 0, key.stderr);
      const asUser = { AWS_ACCESS_KEY_ID: key.json.AccessKey.AccessKeyId, AWS_SECRET_ACCESS_KEY: key.json.AccessKey.SecretAccessKey };
      const whoami = await cli(bin, ['sts', 'get-caller-identity'], asUser);
      assert.equal(whoami.code, 0, whoami.stderr);
      assert.deepEqual(whoami.json, { UserId: user.json.User.UserId, Account: ACCOUNT, Arn: user.json.User.Arn });

      const keys = await cli(bin, ['iam', 'list-access-keys', '--user-name', `cli-${name}`]);
      assert.deepEqual(keys.json.AccessKeyMetadata.map((k: { AccessKeyId: string }) => k.AccessKeyId), [key.json.AccessKey.AccessKeyId]);
      assert.ok(!JSON.stringify(keys.json).includes(key.json.AccessKey.SecretAccessKey));

      const missing = await cli(bin, ['iam', 'get-user', '--user-name', 'nobody']);
      assert.notEqual(missing.code, 0);
      assert.match(missing.stderr, /An error occurred \(NoSuchEntity\) when calling the GetUser operation: The user with name nobody cannot be found\./);
      const duplicate = await cli(bin, ['iam', 'create-user', '--user-name', `cli-${name}`]);
      assert.match(duplicate.stderr, new RegExp(`An error occurred \\(EntityAlreadyExists\\) when calling the CreateUser operation: User with name cli-${name} already exists\\.`));

      const deactivate = await cli(bin, ['iam', 'update-access-key', '--user-name', `cli-${name}`, '--access-key-id', key.json.AccessKey.AccessKeyId, '--status', 'Inactive']);
      assert.equal(deactivate.code, 0, deactivate.stderr);
      const refused = await cli(bin, ['sts', 'get-caller-identity'], asUser);
      assert.match(refused.stderr, /InvalidClientTokenId/);
    });

    test('roles: the trust policy comes back decoded; assume-role credentials work through AWS_SESSION_TOKEN', async () => {
      const created = await cli(bin, ['iam', 'create-role', '--role-name', `cli-role-${name}`, '--assume-role-policy-document', trustAccount]);
      assert.equal(created.code, 0, created.stderr);
      const got = await cli(bin, ['iam', 'get-role', '--role-name', `cli-role-${name}`]);
      assert.deepEqual(got.json.Role.AssumeRolePolicyDocument, JSON.parse(trustAccount));

      const attach = await cli(bin, ['iam', 'attach-role-policy', '--role-name', `cli-role-${name}`, '--policy-arn', 'arn:aws:iam::aws:policy/AmazonECS_FullAccess']);
      assert.equal(attach.code, 0, attach.stderr);
      const attached = await cli(bin, ['iam', 'list-attached-role-policies', '--role-name', `cli-role-${name}`]);
      assert.deepEqual(attached.json.AttachedPolicies, [{ PolicyName: 'AmazonECS_FullAccess', PolicyArn: 'arn:aws:iam::aws:policy/AmazonECS_FullAccess' }]);

      const assumed = await cli(bin, ['sts', 'assume-role', '--role-arn', created.json.Role.Arn, '--role-session-name', `cli-${name}`]);
      assert.equal(assumed.code, 0, assumed.stderr);
      const c = assumed.json.Credentials;
      const whoami = await cli(bin, ['sts', 'get-caller-identity'], { AWS_ACCESS_KEY_ID: c.AccessKeyId, AWS_SECRET_ACCESS_KEY: c.SecretAccessKey, AWS_SESSION_TOKEN: c.SessionToken });
      assert.equal(whoami.code, 0, whoami.stderr);
      assert.equal(whoami.json.Arn, `arn:aws:sts::${ACCOUNT}:assumed-role/cli-role-${name}/cli-${name}`);

      const bad = await cli(bin, ['iam', 'put-role-policy', '--role-name', `cli-role-${name}`, '--policy-name', 'p', '--policy-document', '{"Statement":[{"Effect":"Allow"}]}']);
      assert.match(bad.stderr, /An error occurred \(MalformedPolicyDocument\) when calling the PutRolePolicy operation: Policy statement must contain actions\./);
    });
  });
}

describe('boto3', () => {
  test('users, keys, policies, roles and sessions round-trip; errors carry IAM codes and statuses', async () => {
    const script = `
import boto3, json, botocore
kw = dict(endpoint_url=${JSON.stringify(d.endpoint)}, region_name='us-east-1')
iam = boto3.client('iam', **kw)
out = {}
out['user'] = iam.create_user(UserName='py', Path='/py/')['User']['Arn']
key = iam.create_access_key(UserName='py')['AccessKey']
out['whoami'] = boto3.client('sts', aws_access_key_id=key['AccessKeyId'], aws_secret_access_key=key['SecretAccessKey'], **kw).get_caller_identity()['Arn']
doc = {'Version': '2012-10-17', 'Statement': [{'Effect': 'Allow', 'Action': 'ecr:Describe*', 'Resource': '*'}]}
arn = iam.create_policy(PolicyName='py-policy', PolicyDocument=json.dumps(doc))['Policy']['Arn']
iam.attach_user_policy(UserName='py', PolicyArn=arn)
out['version'] = iam.get_policy_version(PolicyArn=arn, VersionId='v1')['PolicyVersion']['Document']
out['attached'] = [p['PolicyName'] for p in iam.list_attached_user_policies(UserName='py')['AttachedPolicies']]
iam.put_user_policy(UserName='py', PolicyName='inline', PolicyDocument=json.dumps(doc))
out['inline'] = iam.get_user_policy(UserName='py', PolicyName='inline')['PolicyDocument']
paginator = iam.get_paginator('list_policies')
out['aws_policies'] = sorted(p['PolicyName'] for page in paginator.paginate(Scope='AWS', PaginationConfig={'PageSize': 2}) for p in page['Policies'])
try:
    iam.delete_user(UserName='py')
except botocore.exceptions.ClientError as e:
    out['conflict'] = [e.response['Error']['Code'], e.response['ResponseMetadata']['HTTPStatusCode'], e.response['Error']['Message']]
try:
    iam.get_role(RoleName='none')
except iam.exceptions.NoSuchEntityException as e:
    out['missing'] = [e.response['Error']['Code'], e.response['ResponseMetadata']['HTTPStatusCode']]
trust = {'Version': '2012-10-17', 'Statement': [{'Effect': 'Allow', 'Principal': {'AWS': ${JSON.stringify(ACCOUNT)}}, 'Action': 'sts:AssumeRole'}]}
role = iam.create_role(RoleName='py-role', AssumeRolePolicyDocument=json.dumps(trust), MaxSessionDuration=7200)['Role']
creds = boto3.client('sts', **kw).assume_role(RoleArn=role['Arn'], RoleSessionName='py', DurationSeconds=7200)['Credentials']
session = boto3.client('sts', aws_access_key_id=creds['AccessKeyId'], aws_secret_access_key=creds['SecretAccessKey'], aws_session_token=creds['SessionToken'], **kw)
out['assumed'] = session.get_caller_identity()['Arn']
out['expires_in'] = (creds['Expiration'] - __import__('datetime').datetime.now(__import__('datetime').timezone.utc)).total_seconds()
print(json.dumps(out))
`;
    const { stdout } = await run('python3', ['-c', script], { env: d.cliEnv, timeout: 60_000 });
    const out = JSON.parse(stdout);
    assert.equal(out.user, `arn:aws:iam::${ACCOUNT}:user/py/py`);
    assert.equal(out.whoami, out.user);
    assert.deepEqual(out.version, { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ecr:Describe*', Resource: '*' }] });
    assert.deepEqual(out.inline, out.version);
    assert.deepEqual(out.attached, ['py-policy']);
    assert.ok(out.aws_policies.includes('AmazonEC2ContainerRegistryReadOnly') && out.aws_policies.includes('AmazonECSTaskExecutionRolePolicy'));
    assert.deepEqual(out.conflict, ['DeleteConflict', 409, 'Cannot delete entity, must delete access keys first.']);
    assert.deepEqual(out.missing, ['NoSuchEntity', 404]);
    assert.equal(out.assumed, `arn:aws:sts::${ACCOUNT}:assumed-role/py-role/py`);
    assert.ok(out.expires_in > 7000 && out.expires_in <= 7200, String(out.expires_in));
  });
});
