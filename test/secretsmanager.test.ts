/**
 * Secrets Manager through the AWS SDK v3 and AWS CLI v1/v2: secrets and their versions with
 * staging labels, idempotent writes by ClientRequestToken, deletion with a recovery window and
 * restore, listing with filters and pages, tags, random passwords, batch reads, resource
 * policies, the service's errors, and values sealed at rest.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  BatchGetSecretValueCommand,
  CreateSecretCommand,
  DeleteResourcePolicyCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetRandomPasswordCommand,
  GetResourcePolicyCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  ListSecretsCommand,
  PutResourcePolicyCommand,
  PutSecretValueCommand,
  RestoreSecretCommand,
  SecretsManagerClient,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateSecretCommand,
  UpdateSecretVersionStageCommand,
  paginateListSecrets,
} from '@aws-sdk/client-secrets-manager';
import { credentials, startDockyard, type TestDockyard } from './helpers/dockyard.js';
import { errorOf } from './helpers/errors.js';
import { AWS_CLI_V2, requireCliV1, runCli } from './helpers/aws-cli.js';

let d: TestDockyard;
let sm: SecretsManagerClient;
before(async () => {
  d = await startDockyard();
  sm = new SecretsManagerClient({ endpoint: d.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
});
after(async () => {
  sm.destroy();
  await d.stop();
});


describe('Secrets Manager with the SDK v3', () => {
  test('create, get by stage and version id, put moves AWSCURRENT and leaves AWSPREVIOUS, describe', async () => {
    const created = await sm.send(new CreateSecretCommand({ Name: 'prod/db', SecretString: '{"username":"app","password":"pw-1"}', Description: 'db', Tags: [{ Key: 'env', Value: 'prod' }] }));
    assert.match(created.ARN!, /^arn:aws:secretsmanager:us-east-1:000000000000:secret:prod\/db-[A-Za-z0-9]{6}$/);
    const v1 = created.VersionId!;
    const got = await sm.send(new GetSecretValueCommand({ SecretId: 'prod/db' }));
    assert.deepEqual([got.SecretString, got.VersionId, got.VersionStages, got.ARN], ['{"username":"app","password":"pw-1"}', v1, ['AWSCURRENT'], created.ARN]);
    assert.ok(got.CreatedDate instanceof Date);

    const put = await sm.send(new PutSecretValueCommand({ SecretId: created.ARN, SecretString: '{"username":"app","password":"pw-2"}' }));
    assert.deepEqual(put.VersionStages, ['AWSCURRENT']);
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: 'prod/db' }))).SecretString, '{"username":"app","password":"pw-2"}');
    const prev = await sm.send(new GetSecretValueCommand({ SecretId: 'prod/db', VersionStage: 'AWSPREVIOUS' }));
    assert.equal(prev.VersionId, v1);
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: 'prod/db', VersionId: v1 }))).SecretString, '{"username":"app","password":"pw-1"}');
    // A partial ARN (without the random suffix) names the secret too.
    const partial = created.ARN!.slice(0, -7);
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: partial }))).VersionId, put.VersionId);

    const pending = await sm.send(new PutSecretValueCommand({ SecretId: 'prod/db', SecretString: 'next', VersionStages: ['AWSPENDING'] }));
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: 'prod/db' }))).VersionId, put.VersionId, 'AWSPENDING does not move AWSCURRENT');
    const desc = await sm.send(new DescribeSecretCommand({ SecretId: 'prod/db' }));
    assert.deepEqual(desc.VersionIdsToStages, { [v1]: ['AWSPREVIOUS'], [put.VersionId!]: ['AWSCURRENT'], [pending.VersionId!]: ['AWSPENDING'] });
    assert.equal(desc.Description, 'db');
    assert.deepEqual(desc.Tags, [{ Key: 'env', Value: 'prod' }]);
    assert.equal(JSON.stringify(desc).includes('pw-'), false, 'DescribeSecret shows no value');

    const move = await errorOf(sm.send(new UpdateSecretVersionStageCommand({ SecretId: 'prod/db', VersionStage: 'AWSCURRENT', MoveToVersionId: pending.VersionId })));
    assert.equal(move.name, 'InvalidParameterException');
    await sm.send(new UpdateSecretVersionStageCommand({ SecretId: 'prod/db', VersionStage: 'AWSCURRENT', MoveToVersionId: pending.VersionId, RemoveFromVersionId: put.VersionId }));
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: 'prod/db' }))).SecretString, 'next');
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: 'prod/db', VersionStage: 'AWSPREVIOUS' }))).VersionId, put.VersionId);

    const versions = await sm.send(new ListSecretVersionIdsCommand({ SecretId: 'prod/db' }));
    assert.equal(versions.Versions!.length, 2, 'the version that lost every label is deprecated');
    const all = await sm.send(new ListSecretVersionIdsCommand({ SecretId: 'prod/db', IncludeDeprecated: true }));
    assert.equal(all.Versions!.length, 3);

    await sm.send(new UpdateSecretCommand({ SecretId: 'prod/db', Description: 'changed', SecretString: 'updated' }));
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: 'prod/db' }))).SecretString, 'updated');
    assert.equal((await sm.send(new DescribeSecretCommand({ SecretId: 'prod/db' }))).Description, 'changed');
  });

  test('ClientRequestToken makes writes idempotent; another value with the same token is refused', async () => {
    const token = randomUUID();
    const a = await sm.send(new CreateSecretCommand({ Name: 'idem', SecretString: 'one', ClientRequestToken: token }));
    const b = await sm.send(new CreateSecretCommand({ Name: 'idem', SecretString: 'one', ClientRequestToken: token }));
    assert.deepEqual([b.ARN, b.VersionId], [a.ARN, token]);
    assert.equal((await errorOf(sm.send(new CreateSecretCommand({ Name: 'idem', SecretString: 'two', ClientRequestToken: token })))).name, 'ResourceExistsException');
    const t2 = randomUUID();
    await sm.send(new PutSecretValueCommand({ SecretId: 'idem', SecretString: 'two', ClientRequestToken: t2 }));
    await sm.send(new PutSecretValueCommand({ SecretId: 'idem', SecretString: 'two', ClientRequestToken: t2 }));
    assert.equal((await sm.send(new ListSecretVersionIdsCommand({ SecretId: 'idem' }))).Versions!.length, 2);
    assert.equal((await errorOf(sm.send(new PutSecretValueCommand({ SecretId: 'idem', SecretString: 'three', ClientRequestToken: t2 })))).name, 'ResourceExistsException');
  });

  test('binary secrets; a secret without a value; errors', async () => {
    const bin = Buffer.from([0, 1, 2, 250, 255]);
    await sm.send(new CreateSecretCommand({ Name: 'bin', SecretBinary: bin }));
    const got = await sm.send(new GetSecretValueCommand({ SecretId: 'bin' }));
    assert.deepEqual(Buffer.from(got.SecretBinary!), bin);
    assert.equal(got.SecretString, undefined);
    const empty = await sm.send(new CreateSecretCommand({ Name: 'empty' }));
    assert.equal(empty.VersionId, undefined);
    const none = await errorOf(sm.send(new GetSecretValueCommand({ SecretId: 'empty' })));
    assert.equal(none.name, 'ResourceNotFoundException');
    assert.equal((await errorOf(sm.send(new GetSecretValueCommand({ SecretId: 'missing' })))).name, 'ResourceNotFoundException');
    assert.equal((await errorOf(sm.send(new CreateSecretCommand({ Name: 'bin', SecretString: 'x' })))).name, 'ResourceExistsException');
    assert.equal((await errorOf(sm.send(new CreateSecretCommand({ Name: 'both', SecretString: 'x', SecretBinary: bin })))).name, 'InvalidParameterException');
    assert.equal((await errorOf(sm.send(new CreateSecretCommand({ Name: 'bad name!', SecretString: 'x' })))).name, 'InvalidParameterException');
    assert.equal((await errorOf(sm.send(new GetSecretValueCommand({ SecretId: 'bin', VersionId: randomUUID() })))).name, 'ResourceNotFoundException');
    const big = 'big-secret-'.repeat(7000);
    const tooBig = await errorOf(sm.send(new CreateSecretCommand({ Name: 'big', SecretString: big })));
    assert.equal(tooBig.name, 'InvalidParameterException');
    assert.ok(!tooBig.message.includes('big-secret'), 'the validation message does not quote the value');
    assert.equal((await errorOf(sm.send(new DescribeSecretCommand({ SecretId: 'big' })))).name, 'ResourceNotFoundException', 'nothing half-written');
  });

  test('delete with a recovery window, restore, force delete', async () => {
    await sm.send(new CreateSecretCommand({ Name: 'temp', SecretString: 'x' }));
    const bad = await errorOf(sm.send(new DeleteSecretCommand({ SecretId: 'temp', RecoveryWindowInDays: 3 })));
    assert.equal(bad.name, 'InvalidParameterException');
    const both = await errorOf(sm.send(new DeleteSecretCommand({ SecretId: 'temp', RecoveryWindowInDays: 7, ForceDeleteWithoutRecovery: true })));
    assert.equal(both.name, 'InvalidParameterException');
    const del = await sm.send(new DeleteSecretCommand({ SecretId: 'temp', RecoveryWindowInDays: 7 }));
    const days = (del.DeletionDate!.getTime() - Date.now()) / 86400_000;
    assert.ok(days > 6.9 && days <= 7, `deletion in ${days} days`);
    assert.equal((await errorOf(sm.send(new GetSecretValueCommand({ SecretId: 'temp' })))).name, 'InvalidRequestException');
    assert.ok((await sm.send(new DescribeSecretCommand({ SecretId: 'temp' }))).DeletedDate instanceof Date);
    assert.equal((await errorOf(sm.send(new CreateSecretCommand({ Name: 'temp', SecretString: 'y' })))).name, 'InvalidRequestException');
    const listed = await sm.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: ['temp'] }] }));
    assert.equal(listed.SecretList!.length, 0);
    const planned = await sm.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: ['temp'] }], IncludePlannedDeletion: true }));
    assert.equal(planned.SecretList!.length, 1);
    await sm.send(new RestoreSecretCommand({ SecretId: 'temp' }));
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: 'temp' }))).SecretString, 'x');
    await sm.send(new DeleteSecretCommand({ SecretId: 'temp', ForceDeleteWithoutRecovery: true }));
    assert.equal((await errorOf(sm.send(new DescribeSecretCommand({ SecretId: 'temp' })))).name, 'ResourceNotFoundException');
    await sm.send(new CreateSecretCommand({ Name: 'temp', SecretString: 'again' }));
  });

  test('ListSecrets: filters (name prefix, tag, negation, all), sort, and pages through the SDK paginator', async () => {
    for (let i = 0; i < 7; i++) await sm.send(new CreateSecretCommand({ Name: `list/s${i}`, SecretString: 'v', Tags: [{ Key: 'team', Value: i % 2 ? 'odd' : 'even' }] }));
    const names: string[] = [];
    for await (const page of paginateListSecrets({ client: sm, pageSize: 3 }, { Filters: [{ Key: 'name', Values: ['list/'] }], SortOrder: 'asc', SortBy: 'name' })) {
      assert.ok(page.SecretList!.length <= 3);
      names.push(...page.SecretList!.map((s) => s.Name!));
    }
    assert.deepEqual(names, ['list/s0', 'list/s1', 'list/s2', 'list/s3', 'list/s4', 'list/s5', 'list/s6']);
    const odd = await sm.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: ['list/'] }, { Key: 'tag-value', Values: ['odd'] }] }));
    assert.deepEqual(odd.SecretList!.map((s) => s.Name).sort(), ['list/s1', 'list/s3', 'list/s5']);
    const notEven = await sm.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: ['list/'] }, { Key: 'tag-value', Values: ['!even'] }] }));
    assert.equal(notEven.SecretList!.length, 3);
    const all = await sm.send(new ListSecretsCommand({ Filters: [{ Key: 'all', Values: ['ODD'] }] }));
    assert.equal(all.SecretList!.length, 3);
    assert.ok(odd.SecretList![0]!.SecretVersionsToStages);
    assert.equal((await errorOf(sm.send(new ListSecretsCommand({ NextToken: 'bogus' })))).name, 'InvalidNextTokenException');
  });

  test('tags, resource policy, random passwords, batch get', async () => {
    await sm.send(new CreateSecretCommand({ Name: 'tagged', SecretString: 'batch-one' }));
    await sm.send(new TagResourceCommand({ SecretId: 'tagged', Tags: [{ Key: 'a', Value: '1' }, { Key: 'b', Value: '2' }] }));
    await sm.send(new UntagResourceCommand({ SecretId: 'tagged', TagKeys: ['a'] }));
    assert.deepEqual((await sm.send(new DescribeSecretCommand({ SecretId: 'tagged' }))).Tags, [{ Key: 'b', Value: '2' }]);
    const policy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Principal: '*', Action: 'secretsmanager:DeleteSecret', Resource: '*' }] });
    await sm.send(new PutResourcePolicyCommand({ SecretId: 'tagged', ResourcePolicy: policy }));
    assert.equal((await sm.send(new GetResourcePolicyCommand({ SecretId: 'tagged' }))).ResourcePolicy, policy);
    await sm.send(new DeleteResourcePolicyCommand({ SecretId: 'tagged' }));
    assert.equal((await sm.send(new GetResourcePolicyCommand({ SecretId: 'tagged' }))).ResourcePolicy, undefined);
    assert.equal((await errorOf(sm.send(new PutResourcePolicyCommand({ SecretId: 'tagged', ResourcePolicy: '{nope' })))).name, 'MalformedPolicyDocumentException');

    const pw = (await sm.send(new GetRandomPasswordCommand({ PasswordLength: 40, ExcludePunctuation: true }))).RandomPassword!;
    assert.equal(pw.length, 40);
    assert.match(pw, /^[A-Za-z0-9]+$/);
    assert.match(pw, /[a-z]/);
    assert.match(pw, /[A-Z]/);
    assert.match(pw, /[0-9]/);
    const digits = (await sm.send(new GetRandomPasswordCommand({ PasswordLength: 12, ExcludeLowercase: true, ExcludeUppercase: true, ExcludePunctuation: true, ExcludeCharacters: '01' }))).RandomPassword!;
    assert.match(digits, /^[2-9]{12}$/);
    assert.equal((await errorOf(sm.send(new GetRandomPasswordCommand({ ExcludeLowercase: true, ExcludeUppercase: true, ExcludePunctuation: true, ExcludeNumbers: true })))).name, 'InvalidParameterException');

    const batch = await sm.send(new BatchGetSecretValueCommand({ SecretIdList: ['tagged', 'nope', 'bin'] }));
    assert.deepEqual(batch.SecretValues!.map((v) => v.Name), ['tagged', 'bin']);
    assert.equal(batch.SecretValues![0]!.SecretString, 'batch-one');
    assert.deepEqual(batch.Errors!.map((e) => [e.SecretId, e.ErrorCode]), [['nope', 'ResourceNotFoundException']]);
    const filtered = await sm.send(new BatchGetSecretValueCommand({ Filters: [{ Key: 'name', Values: ['list/s1'] }] }));
    assert.deepEqual(filtered.SecretValues!.map((v) => v.Name), ['list/s1']);
  });

  test('values are sealed at rest: the database files hold no plaintext', async () => {
    const marker = `sm-at-rest-${randomBytes(8).toString('hex')}`;
    await sm.send(new CreateSecretCommand({ Name: 'rest', SecretString: marker }));
    await sm.send(new PutSecretValueCommand({ SecretId: 'rest', SecretString: `${marker}-2` }));
    for (const f of readdirSync(d.dataDir).filter((n) => n.startsWith('dockyard.db'))) assert.ok(!readFileSync(join(d.dataDir, f)).includes(marker), f);
  });
});

describe('Secrets Manager with the AWS CLI', () => {
  const clis = [
    { name: 'v1', bin: () => requireCliV1() },
    { name: 'v2', bin: () => AWS_CLI_V2 },
  ];
  for (const { name, bin } of clis) {
    test(`CLI ${name}: create-secret, get-secret-value, put-secret-value, list-secrets, delete-secret, errors`, async () => {
      const cli = (args: string[]) => runCli(bin(), d.endpoint, d.cliEnv, args);
      const created = await cli(['secretsmanager', 'create-secret', '--name', `cli/${name}`, '--secret-string', `{"k":"cli-${name}"}`]);
      assert.equal(created.code, 0, created.stderr);
      const got = await cli(['secretsmanager', 'get-secret-value', '--secret-id', `cli/${name}`]);
      assert.equal(got.json.SecretString, `{"k":"cli-${name}"}`);
      const put = await cli(['secretsmanager', 'put-secret-value', '--secret-id', created.json.ARN, '--secret-string', 'v2']);
      assert.equal(put.code, 0, put.stderr);
      const prev = await cli(['secretsmanager', 'get-secret-value', '--secret-id', `cli/${name}`, '--version-stage', 'AWSPREVIOUS']);
      assert.equal(prev.json.VersionId, created.json.VersionId);
      const listed = await cli(['secretsmanager', 'list-secrets', '--filters', `Key=name,Values=cli/${name}`]);
      assert.deepEqual(listed.json.SecretList.map((s: { Name: string }) => s.Name), [`cli/${name}`]);
      const pw = await cli(['secretsmanager', 'get-random-password', '--password-length', '20']);
      assert.equal(pw.json.RandomPassword.length, 20);
      const del = await cli(['secretsmanager', 'delete-secret', '--secret-id', `cli/${name}`, '--force-delete-without-recovery']);
      assert.equal(del.code, 0, del.stderr);
      const missing = await cli(['secretsmanager', 'get-secret-value', '--secret-id', `cli/${name}`]);
      assert.match(missing.stderr, /An error occurred \(ResourceNotFoundException\) when calling the GetSecretValue operation: Secrets Manager can't find the specified secret\./);
    });
  }
});

describe('boto3', () => {
  test('Parameter Store and Secrets Manager: paginators, binary secrets, modeled exceptions', async () => {
    const script = `
import boto3, json, botocore
kw = dict(endpoint_url=${JSON.stringify(d.endpoint)}, region_name='us-east-1')
ssm = boto3.client('ssm', **kw)
sm = boto3.client('secretsmanager', **kw)
out = {}
for i in range(5):
    ssm.put_parameter(Name='/py/p%d' % i, Value='v%d' % i, Type='SecureString')
pages = ssm.get_paginator('get_parameters_by_path').paginate(Path='/py', WithDecryption=True, PaginationConfig={'PageSize': 2})
out['params'] = [p['Value'] for page in pages for p in page['Parameters']]
try:
    ssm.get_parameter(Name='/py/none')
except ssm.exceptions.ParameterNotFound as e:
    out['missing'] = [e.response['Error']['Code'], e.response['ResponseMetadata']['HTTPStatusCode']]
arn = sm.create_secret(Name='py/bin', SecretBinary=b'\\x00\\x01py')['ARN']
out['binary'] = list(sm.get_secret_value(SecretId=arn)['SecretBinary'])
sm.put_secret_value(SecretId='py/bin', SecretString='text now')
out['stages'] = sorted(s for v in sm.list_secret_version_ids(SecretId='py/bin')['Versions'] for s in v['VersionStages'])
out['listed'] = [s['Name'] for page in sm.get_paginator('list_secrets').paginate(Filters=[{'Key': 'name', 'Values': ['py/']}]) for s in page['SecretList']]
try:
    sm.get_secret_value(SecretId='py/none')
except sm.exceptions.ResourceNotFoundException as e:
    out['sm_missing'] = e.response['Error']['Code']
print(json.dumps(out))
`;
    const { execFile } = await import('node:child_process');
    const { promisify } = await import('node:util');
    const { stdout } = await promisify(execFile)('python3', ['-c', script], { env: d.cliEnv, timeout: 60_000 });
    const out = JSON.parse(stdout);
    assert.deepEqual(out.params, ['v0', 'v1', 'v2', 'v3', 'v4']);
    assert.deepEqual(out.missing, ['ParameterNotFound', 400]);
    assert.deepEqual(out.binary, [0, 1, 112, 121]);
    assert.deepEqual(out.stages, ['AWSCURRENT', 'AWSPREVIOUS']);
    assert.deepEqual(out.listed, ['py/bin']);
    assert.equal(out.sm_missing, 'ResourceNotFoundException');
  });
});
