/**
 * SSM Parameter Store through the AWS SDK v3 and AWS CLI v1/v2: parameter types, versions,
 * selectors and labels, hierarchies, filters and pagination, tags, SSM's errors, and
 * SecureString values sealed at rest (a copy of the database alone does not reveal them).
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { randomBytes } from 'node:crypto';
import {
  AddTagsToResourceCommand,
  DeleteParameterCommand,
  DeleteParametersCommand,
  DescribeParametersCommand,
  GetParameterCommand,
  GetParameterHistoryCommand,
  GetParametersByPathCommand,
  GetParametersCommand,
  LabelParameterVersionCommand,
  ListTagsForResourceCommand,
  PutParameterCommand,
  RemoveTagsFromResourceCommand,
  SSMClient,
  paginateGetParametersByPath,
} from '@aws-sdk/client-ssm';
import { credentials, startDockyard, type TestDockyard } from './helpers/dockyard.js';
import { errorOf } from './helpers/errors.js';
import { AWS_CLI_V2, requireCliV1, runCli } from './helpers/aws-cli.js';

let d: TestDockyard;
let ssm: SSMClient;
before(async () => {
  d = await startDockyard();
  ssm = new SSMClient({ endpoint: d.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
});
after(async () => {
  ssm.destroy();
  await d.stop();
});


describe('Parameter Store with the SDK v3', () => {
  test('String, StringList and SecureString: put, get, overwrite makes versions, selectors', async () => {
    const v1 = await ssm.send(new PutParameterCommand({ Name: '/app/db/host', Value: 'db.internal', Type: 'String' }));
    assert.deepEqual([v1.Version, v1.Tier], [1, 'Standard']);
    const exists = await errorOf(ssm.send(new PutParameterCommand({ Name: '/app/db/host', Value: 'x', Type: 'String' })));
    assert.equal(exists.name, 'ParameterAlreadyExists');
    const v2 = await ssm.send(new PutParameterCommand({ Name: '/app/db/host', Value: 'db2.internal', Overwrite: true }));
    assert.equal(v2.Version, 2);

    const got = (await ssm.send(new GetParameterCommand({ Name: '/app/db/host' }))).Parameter!;
    assert.equal(got.Value, 'db2.internal');
    assert.equal(got.Version, 2);
    assert.equal(got.Type, 'String');
    assert.equal(got.ARN, 'arn:aws:ssm:us-east-1:000000000000:parameter/app/db/host');
    assert.ok(got.LastModifiedDate instanceof Date);
    const first = (await ssm.send(new GetParameterCommand({ Name: '/app/db/host:1' }))).Parameter!;
    assert.deepEqual([first.Value, first.Selector, first.Name], ['db.internal', ':1', '/app/db/host']);
    const byArn = (await ssm.send(new GetParameterCommand({ Name: got.ARN }))).Parameter!;
    assert.equal(byArn.Value, 'db2.internal');
    assert.equal((await errorOf(ssm.send(new GetParameterCommand({ Name: '/app/db/host:9' })))).name, 'ParameterVersionNotFound');
    const elsewhere = got.ARN!.replace('us-east-1', 'eu-west-1');
    assert.equal((await errorOf(ssm.send(new GetParameterCommand({ Name: elsewhere })))).name, 'ParameterNotFound', 'another region\'s ARN');
    assert.equal((await errorOf(ssm.send(new DeleteParameterCommand({ Name: elsewhere })))).name, 'ParameterNotFound');
    assert.equal((await errorOf(ssm.send(new GetParameterCommand({ Name: '/nope' })))).name, 'ParameterNotFound');

    await ssm.send(new PutParameterCommand({ Name: '/app/hosts', Value: 'a,b,c', Type: 'StringList' }));
    assert.equal((await ssm.send(new GetParameterCommand({ Name: '/app/hosts' }))).Parameter!.Type, 'StringList');

    await ssm.send(new PutParameterCommand({ Name: '/app/db/password', Value: 'hunter2-sdk', Type: 'SecureString' }));
    const sealed = (await ssm.send(new GetParameterCommand({ Name: '/app/db/password' }))).Parameter!;
    assert.equal(sealed.Type, 'SecureString');
    assert.notEqual(sealed.Value, 'hunter2-sdk');
    assert.ok(!sealed.Value!.includes('hunter2'));
    const open = (await ssm.send(new GetParameterCommand({ Name: '/app/db/password', WithDecryption: true }))).Parameter!;
    assert.equal(open.Value, 'hunter2-sdk');
    const described = await ssm.send(new DescribeParametersCommand({ ParameterFilters: [{ Key: 'Name', Values: ['/app/db/password'] }] }));
    assert.equal(described.Parameters![0]!.KeyId, 'alias/aws/ssm');
  });

  test('labels move between versions; GetParameters reports what it cannot find; history', async () => {
    await ssm.send(new PutParameterCommand({ Name: 'flag', Value: 'on', Type: 'String' }));
    await ssm.send(new PutParameterCommand({ Name: 'flag', Value: 'off', Type: 'String', Overwrite: true }));
    const label = await ssm.send(new LabelParameterVersionCommand({ Name: 'flag', ParameterVersion: 1, Labels: ['prod', '1bad', 'awsx'] }));
    assert.deepEqual(label.InvalidLabels, ['1bad', 'awsx']);
    assert.equal((await ssm.send(new GetParameterCommand({ Name: 'flag:prod' }))).Parameter!.Value, 'on');
    await ssm.send(new LabelParameterVersionCommand({ Name: 'flag', Labels: ['prod'] }));
    assert.equal((await ssm.send(new GetParameterCommand({ Name: 'flag:prod' }))).Parameter!.Value, 'off');

    const many = await ssm.send(new GetParametersCommand({ Names: ['flag', 'flag:1', 'missing', 'flag:7'] }));
    assert.deepEqual(many.Parameters!.map((p) => p.Value), ['off', 'on']);
    assert.deepEqual(many.InvalidParameters, ['missing', 'flag:7']);

    const history = await ssm.send(new GetParameterHistoryCommand({ Name: 'flag' }));
    assert.deepEqual(history.Parameters!.map((p) => [p.Version, p.Value, p.Labels]), [
      [1, 'on', []],
      [2, 'off', ['prod']],
    ]);
  });

  test('GetParametersByPath: one level or recursive, filters, pagination with the SDK paginator', async () => {
    for (let i = 0; i < 13; i++) await ssm.send(new PutParameterCommand({ Name: `/svc/cfg/k${String(i).padStart(2, '0')}`, Value: `v${i}`, Type: i % 2 ? 'SecureString' : 'String' }));
    await ssm.send(new PutParameterCommand({ Name: '/svc/cfg/deep/x', Value: 'deep', Type: 'String' }));
    const names: string[] = [];
    let pages = 0;
    for await (const page of paginateGetParametersByPath({ client: ssm, pageSize: 5 }, { Path: '/svc/cfg', WithDecryption: true })) {
      pages++;
      names.push(...page.Parameters!.map((p) => p.Name!));
    }
    assert.equal(pages, 3);
    assert.equal(names.length, 13);
    assert.ok(!names.includes('/svc/cfg/deep/x'));
    const recursive = await ssm.send(new GetParametersByPathCommand({ Path: '/svc', Recursive: true, MaxResults: 10 }));
    assert.equal(recursive.Parameters!.length, 10);
    assert.ok(recursive.NextToken);
    const secure = await ssm.send(new GetParametersByPathCommand({ Path: '/svc/cfg', ParameterFilters: [{ Key: 'Type', Values: ['SecureString'] }], WithDecryption: true }));
    assert.deepEqual(secure.Parameters!.map((p) => p.Value), ['v1', 'v3', 'v5', 'v7', 'v9', 'v11']);
    const badKey = await errorOf(ssm.send(new GetParametersByPathCommand({ Path: '/svc', ParameterFilters: [{ Key: 'Name', Values: ['x'] }] })));
    assert.equal(badKey.name, 'InvalidFilterKey');
    const badToken = await errorOf(ssm.send(new GetParametersByPathCommand({ Path: '/svc', NextToken: 'garbage' })));
    assert.equal(badToken.name, 'InvalidNextToken');
  });

  test('DescribeParameters filters (Name BeginsWith, Path, tag) and tags', async () => {
    await ssm.send(new PutParameterCommand({ Name: '/team/a', Value: '1', Type: 'String', Tags: [{ Key: 'owner', Value: 'ops' }] }));
    await ssm.send(new PutParameterCommand({ Name: '/team/b', Value: '2', Type: 'String' }));
    await ssm.send(new AddTagsToResourceCommand({ ResourceType: 'Parameter', ResourceId: '/team/b', Tags: [{ Key: 'owner', Value: 'dev' }, { Key: 'x', Value: 'y' }] }));
    await ssm.send(new RemoveTagsFromResourceCommand({ ResourceType: 'Parameter', ResourceId: '/team/b', TagKeys: ['x'] }));
    assert.deepEqual((await ssm.send(new ListTagsForResourceCommand({ ResourceType: 'Parameter', ResourceId: '/team/b' }))).TagList, [{ Key: 'owner', Value: 'dev' }]);
    const byTag = await ssm.send(new DescribeParametersCommand({ ParameterFilters: [{ Key: 'tag:owner', Values: ['ops'] }] }));
    assert.deepEqual(byTag.Parameters!.map((p) => p.Name), ['/team/a']);
    const byPath = await ssm.send(new DescribeParametersCommand({ ParameterFilters: [{ Key: 'Path', Option: 'OneLevel', Values: ['/team'] }] }));
    assert.deepEqual(byPath.Parameters!.map((p) => p.Name), ['/team/a', '/team/b']);
    const begins = await ssm.send(new DescribeParametersCommand({ ParameterFilters: [{ Key: 'Name', Option: 'BeginsWith', Values: ['/team/'] }], MaxResults: 1 }));
    assert.equal(begins.Parameters!.length, 1);
    assert.ok(begins.NextToken);
    const rest = await ssm.send(new DescribeParametersCommand({ ParameterFilters: [{ Key: 'Name', Option: 'BeginsWith', Values: ['/team/'] }], NextToken: begins.NextToken }));
    assert.deepEqual(rest.Parameters!.map((p) => p.Name), ['/team/b']);
    assert.equal((await errorOf(ssm.send(new ListTagsForResourceCommand({ ResourceType: 'Document', ResourceId: '/team/b' })))).name, 'InvalidResourceType');
  });

  test('bad input: reserved and malformed names, depth, tier limits, patterns, tags with overwrite; no half-written state', async () => {
    const cases: [PutParameterCommand, string, RegExp?][] = [
      [new PutParameterCommand({ Name: '/aws/x', Value: 'v', Type: 'String' }), 'ValidationException'],
      [new PutParameterCommand({ Name: 'a/b', Value: 'v', Type: 'String' }), 'ValidationException'],
      [new PutParameterCommand({ Name: 'bad name', Value: 'v', Type: 'String' }), 'ValidationException'],
      [new PutParameterCommand({ Name: '/' + Array.from({ length: 16 }, (_, i) => `l${i}`).join('/'), Value: 'v', Type: 'String' }), 'HierarchyLevelLimitExceededException'],
      [new PutParameterCommand({ Name: 'big', Value: 'x'.repeat(4097), Type: 'SecureString' }), 'ValidationException', /4096/],
      [new PutParameterCommand({ Name: 'pat', Value: 'abc', Type: 'String', AllowedPattern: '^\\d+$' }), 'ParameterPatternMismatchException'],
      [new PutParameterCommand({ Name: 'pat', Value: 'abc', Type: 'String', AllowedPattern: '(' }), 'InvalidAllowedPatternException'],
      [new PutParameterCommand({ Name: 'redos', Value: 'a'.repeat(40) + '!', Type: 'String', AllowedPattern: '^(a+)+$' }), 'InvalidAllowedPatternException'],
      [new PutParameterCommand({ Name: 'notype', Value: 'v' }), 'ValidationException'],
      [new PutParameterCommand({ Name: 'empty', Value: '', Type: 'String' }), 'ValidationException'],
      [new PutParameterCommand({ Name: 'tagged', Value: 'v', Type: 'String', Overwrite: true, Tags: [{ Key: 'a', Value: 'b' }] }), 'ValidationException'],
      [new PutParameterCommand({ Name: 'kms', Value: 'v', Type: 'String', KeyId: 'alias/x' }), 'ValidationException'],
      // PutParameter does not model TooManyTagsError.
      [new PutParameterCommand({ Name: 'manytags', Value: 'v', Type: 'String', Tags: Array.from({ length: 51 }, (_, i) => ({ Key: `k${i}`, Value: 'v' })) }), 'ValidationException', /more than 50 tags/],
    ];
    for (const [cmd, code, message] of cases) {
      const e = await errorOf(ssm.send(cmd));
      assert.equal(e.name, code, `${cmd.input.Name}: ${e.message}`);
      assert.equal(e.$metadata.httpStatusCode, 400);
      if (message) assert.match(e.message, message);
      assert.equal((await errorOf(ssm.send(new GetParameterCommand({ Name: cmd.input.Name! })))).name, 'ParameterNotFound', `${cmd.input.Name} was not written`);
    }
    const big = await ssm.send(new PutParameterCommand({ Name: 'big', Value: 'x'.repeat(5000), Type: 'String', Tier: 'Advanced' }));
    assert.equal(big.Tier, 'Advanced');
    const down = await errorOf(ssm.send(new PutParameterCommand({ Name: 'big', Value: 'x', Overwrite: true, Tier: 'Standard' })));
    assert.equal(down.name, 'ValidationException');
  });

  test('delete one and many', async () => {
    await ssm.send(new PutParameterCommand({ Name: 'gone1', Value: 'v', Type: 'String' }));
    await ssm.send(new PutParameterCommand({ Name: 'gone2', Value: 'v', Type: 'String' }));
    await ssm.send(new DeleteParameterCommand({ Name: 'gone1' }));
    assert.equal((await errorOf(ssm.send(new DeleteParameterCommand({ Name: 'gone1' })))).name, 'ParameterNotFound');
    const many = await ssm.send(new DeleteParametersCommand({ Names: ['gone2', 'never'] }));
    assert.deepEqual([many.DeletedParameters, many.InvalidParameters], [['gone2'], ['never']]);
  });

  test('SecureString values are sealed at rest with the key outside the database; errors never echo them', async () => {
    const secret = `at-rest-${randomBytes(8).toString('hex')}`;
    await ssm.send(new PutParameterCommand({ Name: '/rest/secret', Value: secret, Type: 'SecureString' }));
    // Too long for a Standard parameter: the error must not quote the value.
    const tooLong = secret.repeat(400);
    const e = await errorOf(ssm.send(new PutParameterCommand({ Name: '/rest/long', Value: tooLong, Type: 'SecureString' })));
    assert.ok(!e.message.includes(secret));
    const files = readdirSync(d.dataDir).filter((f) => f.startsWith('dockyard.db'));
    assert.ok(files.length > 0, 'the database is in the data dir');
    for (const f of files) assert.ok(!readFileSync(join(d.dataDir, f)).includes(secret), `${f} holds no plaintext`);
    const keyFile = join(d.dataDir, 'keys', 'secrets.key');
    assert.equal(readdirSync(join(d.dataDir, 'keys')).includes('secrets.key'), true);
    const { statSync } = await import('node:fs');
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
  });
});

describe('an operator-supplied key', () => {
  test('seals with the given key; a restart with another key cannot open the values', async () => {
    const keyFile = join(d.dataDir, '..', `dockyard-key-${randomBytes(4).toString('hex')}`);
    writeFileSync(keyFile, randomBytes(32).toString('base64'), { mode: 0o600 });
    let own = await startDockyard({ secretsKeyFile: keyFile });
    const client = () => new SSMClient({ endpoint: own.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
    let c = client();
    try {
      await c.send(new PutParameterCommand({ Name: 'k', Value: 'sealed-by-operator', Type: 'SecureString' }));
      assert.ok(!readdirSync(own.dataDir).includes('keys'), 'no key is generated into the data dir');
      c.destroy();
      own = await own.restart();
      c = client();
      assert.equal((await c.send(new GetParameterCommand({ Name: 'k', WithDecryption: true }))).Parameter!.Value, 'sealed-by-operator');
      const bad = join(d.dataDir, '..', `dockyard-badkey-${randomBytes(4).toString('hex')}`);
      writeFileSync(bad, 'not a key');
      await assert.rejects(startDockyard({ secretsKeyFile: bad }), (e: Error) => /32 bytes/.test(e.message) && !e.message.includes('not a key'));
    } finally {
      c.destroy();
      await own.stop();
    }
  });
});

describe('Parameter Store with the AWS CLI', () => {
  const clis = [
    { name: 'v1', bin: () => requireCliV1() },
    { name: 'v2', bin: () => AWS_CLI_V2 },
  ];
  for (const { name, bin } of clis) {
    test(`CLI ${name}: put-parameter, get-parameter --with-decryption, get-parameters-by-path, errors`, async () => {
      const cli = (args: string[]) => runCli(bin(), d.endpoint, d.cliEnv, args);
      const put = await cli(['ssm', 'put-parameter', '--name', `/cli/${name}/pw`, '--value', `cli-secret-${name}`, '--type', 'SecureString']);
      assert.equal(put.code, 0, put.stderr);
      assert.equal(put.json.Version, 1);
      const get = await cli(['ssm', 'get-parameter', '--name', `/cli/${name}/pw`, '--with-decryption']);
      assert.equal(get.json.Parameter.Value, `cli-secret-${name}`);
      const plain = await cli(['ssm', 'get-parameter', '--name', `/cli/${name}/pw`]);
      assert.notEqual(plain.json.Parameter.Value, `cli-secret-${name}`);
      await cli(['ssm', 'put-parameter', '--name', `/cli/${name}/url`, '--value', 'db.example.invalid:5432', '--type', 'String']);
      // The CLI paginates by itself (several pages of one).
      const path = await cli(['ssm', 'get-parameters-by-path', '--path', `/cli/${name}`, '--with-decryption', '--page-size', '1']);
      assert.equal(path.code, 0, path.stderr);
      assert.deepEqual(path.json.Parameters.map((p: { Name: string }) => p.Name).sort(), [`/cli/${name}/pw`, `/cli/${name}/url`]);
      const again = await cli(['ssm', 'put-parameter', '--name', `/cli/${name}/pw`, '--value', 'x', '--type', 'SecureString']);
      assert.notEqual(again.code, 0);
      assert.match(again.stderr, /An error occurred \(ParameterAlreadyExists\) when calling the PutParameter operation: The parameter already exists/);
      const missing = await cli(['ssm', 'get-parameter', '--name', '/cli/none']);
      assert.match(missing.stderr, /\(ParameterNotFound\)/);
    });
  }
});
