/**
 * The operation authorizer: what each operation asks IAM (actions, resource ARNs and condition
 * keys after the Service Authorization Reference), AWS's AccessDenied wording, and that every
 * operation of the ECS, ECR, IAM and STS models is covered.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AwsError } from '../aws/errors.js';
import { loadModel } from '../aws/model.js';
import type { RequestContext, ServiceModule } from '../aws/service.js';
import { AUTHORIZATION_TABLES } from './authorization-tables.js';
import { PolicyAuthorizer, valuesAt, type AuthorizationFacts } from './operation-authorizer.js';
import type { Caller } from './principal.js';

const ACCT = '123456789012';
const alice: Caller = { kind: 'user', accountId: ACCT, arn: `arn:aws:iam::${ACCT}:user/alice`, userId: 'AIDAALICE' };
const session: Caller = {
  kind: 'assumed-role',
  accountId: ACCT,
  arn: `arn:aws:sts::${ACCT}:assumed-role/deployer/s1`,
  userId: 'AROADEPLOYER:s1',
  roleArn: `arn:aws:iam::${ACCT}:role/deployer`,
  accessKeyId: 'ASIA1',
};
const services: Record<string, ServiceModule> = Object.fromEntries(
  ['ecs', 'ecr', 'iam', 'sts'].map((name) => [name, { name, model: loadModel(name), protocol: name === 'iam' || name === 'sts' ? 'awsQuery' : 'awsJson1_1', validationErrorCode: 'x', operations: {} } as unknown as ServiceModule]),
);
const clock = { now: () => Date.parse('2026-11-30T12:00:00Z') / 1000 };

function ctx(caller: Caller = alice, extra: Partial<RequestContext> = {}): RequestContext {
  return { requestId: 'r', region: 'us-east-1', accountId: ACCT, accessKeyId: undefined, caller, sourceIp: '127.0.0.1', secureTransport: false, ...extra };
}

const facts: AuthorizationFacts = {
  taskDefinition: async (_scope, ref) =>
    ref.startsWith('web')
      ? { arn: `arn:aws:ecs:us-east-1:${ACCT}:task-definition/web:3`, taskRoleArn: `arn:aws:iam::${ACCT}:role/web-task`, executionRoleArn: `arn:aws:iam::${ACCT}:role/exec` }
      : undefined,
  resourceTags: async (arn) => (arn.endsWith(':cluster/prod') ? { env: 'prod' } : undefined),
  resourcePolicy: async () => undefined,
};

function authorizer(policies: object[] = [], session?: object) {
  return new PolicyAuthorizer({
    clock,
    facts,
    policies: { forCaller: async () => ({ identity: policies.map((p, i) => ({ kind: 'inline' as const, name: `p${i}`, document: JSON.stringify(p) })), session: session && JSON.stringify(session) }) },
  });
}

const asks = (service: string, operation: string, input: object, caller: Caller = alice) => authorizer().requestsFor(ctx(caller), services[service]!, operation, input);

describe('what each operation asks IAM', () => {
  const E = (p: string) => `arn:aws:ecs:us-east-1:${ACCT}:${p}`;
  const rows: [service: string, operation: string, input: object, action: string, resources: string[], context?: Record<string, unknown>][] = [
    ['ecs', 'ListClusters', {}, 'ecs:ListClusters', ['*']],
    ['ecs', 'CreateCluster', { clusterName: 'prod', tags: [{ key: 'env', value: 'prod' }] }, 'ecs:CreateCluster', [E('cluster/prod')], { 'aws:RequestTag/env': 'prod', 'aws:TagKeys': ['env'] }],
    ['ecs', 'DescribeClusters', {}, 'ecs:DescribeClusters', [E('cluster/default')]],
    ['ecs', 'DescribeClusters', { clusters: ['a', E('cluster/b')] }, 'ecs:DescribeClusters', [E('cluster/a'), E('cluster/b')]],
    ['ecs', 'DeleteCluster', { cluster: 'prod' }, 'ecs:DeleteCluster', [E('cluster/prod')]],
    ['ecs', 'RegisterTaskDefinition', { family: 'web', containerDefinitions: [] }, 'ecs:RegisterTaskDefinition', ['*']],
    ['ecs', 'DescribeTaskDefinition', { taskDefinition: 'web' }, 'ecs:DescribeTaskDefinition', ['*']],
    ['ecs', 'DeregisterTaskDefinition', { taskDefinition: 'web:2' }, 'ecs:DeregisterTaskDefinition', [E('task-definition/web:2')]],
    // RunTask: the task definition (a family resolves to its latest revision); the cluster is ecs:cluster
    ['ecs', 'RunTask', { taskDefinition: 'web' }, 'ecs:RunTask', [E('task-definition/web:3')], { 'ecs:cluster': E('cluster/default') }],
    ['ecs', 'RunTask', { taskDefinition: 'other:1', cluster: 'prod' }, 'ecs:RunTask', [E('task-definition/other:1')], { 'ecs:cluster': E('cluster/prod') }],
    ['ecs', 'StartTask', { taskDefinition: 'other:1', cluster: 'prod', containerInstances: ['abc'] }, 'ecs:StartTask', [E('task-definition/other:1')], { 'ecs:cluster': E('cluster/prod'), 'ecs:container-instances': [E('container-instance/prod/abc')] }],
    ['ecs', 'StopTask', { task: 'abc', cluster: 'prod' }, 'ecs:StopTask', [E('task/prod/abc')], { 'ecs:cluster': E('cluster/prod') }],
    ['ecs', 'StopTask', { task: E('task/prod/abc') }, 'ecs:StopTask', [E('task/prod/abc')]],
    ['ecs', 'DescribeTasks', { cluster: E('cluster/prod'), tasks: ['t1', 't2'] }, 'ecs:DescribeTasks', [E('task/prod/t1'), E('task/prod/t2')]],
    ['ecs', 'ListTasks', { cluster: 'prod' }, 'ecs:ListTasks', ['*'], { 'ecs:cluster': E('cluster/prod') }],
    ['ecs', 'ListContainerInstances', { cluster: 'prod' }, 'ecs:ListContainerInstances', [E('cluster/prod')]],
    ['ecs', 'DescribeContainerInstances', { cluster: 'prod', containerInstances: ['i1'] }, 'ecs:DescribeContainerInstances', [E('container-instance/prod/i1')]],
    ['ecs', 'TagResource', { resourceArn: E('cluster/prod'), tags: [{ key: 'team', value: 'a' }] }, 'ecs:TagResource', [E('cluster/prod')], { 'aws:TagKeys': ['team'] }],
    ['ecs', 'UntagResource', { resourceArn: E('cluster/prod'), tagKeys: ['team'] }, 'ecs:UntagResource', [E('cluster/prod')], { 'aws:TagKeys': ['team'] }],
    ['ecs', 'PutAccountSetting', { name: 'awsvpcTrunking', value: 'enabled' }, 'ecs:PutAccountSetting', ['*']],
    // An operation without a table entry, derived from its model input (service + cluster)
    ['ecs', 'DeleteService', { cluster: 'prod', service: 'api' }, 'ecs:DeleteService', [E('service/prod/api')], { 'ecs:cluster': E('cluster/prod') }],
    // ECR
    ['ecr', 'GetAuthorizationToken', {}, 'ecr:GetAuthorizationToken', ['*']],
    ['ecr', 'BatchGetImage', { repositoryName: 'team/web', imageIds: [] }, 'ecr:BatchGetImage', [`arn:aws:ecr:us-east-1:${ACCT}:repository/team/web`]],
    ['ecr', 'PutImage', { repositoryName: 'web', imageManifest: '{}', registryId: '111122223333' }, 'ecr:PutImage', ['arn:aws:ecr:us-east-1:111122223333:repository/web']],
    ['ecr', 'DescribeRepositories', {}, 'ecr:DescribeRepositories', [`arn:aws:ecr:us-east-1:${ACCT}:repository/*`]],
    ['ecr', 'DescribeRepositories', { repositoryNames: ['a', 'b'] }, 'ecr:DescribeRepositories', [`arn:aws:ecr:us-east-1:${ACCT}:repository/a`, `arn:aws:ecr:us-east-1:${ACCT}:repository/b`]],
    ['ecr', 'CreateRepository', { repositoryName: 'web', tags: [{ Key: 'env', Value: 'dev' }] }, 'ecr:CreateRepository', [`arn:aws:ecr:us-east-1:${ACCT}:repository/web`], { 'aws:RequestTag/env': 'dev' }],
    ['ecr', 'SetRepositoryPolicy', { repositoryName: 'web', policyText: '{}' }, 'ecr:SetRepositoryPolicy', [`arn:aws:ecr:us-east-1:${ACCT}:repository/web`]],
    ['ecr', 'GetRegistryPolicy', {}, 'ecr:GetRegistryPolicy', ['*']],
    // IAM
    ['iam', 'CreateUser', { UserName: 'bob', Path: '/ops/' }, 'iam:CreateUser', [`arn:aws:iam::${ACCT}:user/ops/bob`]],
    ['iam', 'AttachUserPolicy', { UserName: 'bob', PolicyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' }, 'iam:AttachUserPolicy', [`arn:aws:iam::${ACCT}:user/bob`], { 'iam:PolicyARN': 'arn:aws:iam::aws:policy/ReadOnlyAccess' }],
    ['iam', 'CreateAccessKey', {}, 'iam:CreateAccessKey', [`arn:aws:iam::${ACCT}:user/alice`]],
    ['iam', 'ListAccessKeys', { UserName: 'bob' }, 'iam:ListAccessKeys', [`arn:aws:iam::${ACCT}:user/bob`]],
    ['iam', 'CreateRole', { RoleName: 'r', AssumeRolePolicyDocument: '{}' }, 'iam:CreateRole', [`arn:aws:iam::${ACCT}:role/r`]],
    ['iam', 'CreatePolicy', { PolicyName: 'p', PolicyDocument: '{}' }, 'iam:CreatePolicy', [`arn:aws:iam::${ACCT}:policy/p`]],
    ['iam', 'GetPolicy', { PolicyArn: `arn:aws:iam::${ACCT}:policy/p` }, 'iam:GetPolicy', [`arn:aws:iam::${ACCT}:policy/p`]],
    ['iam', 'ListUsers', {}, 'iam:ListUsers', ['*']],
    ['iam', 'PutRolePolicy', { RoleName: 'r', PolicyName: 'x', PolicyDocument: '{}' }, 'iam:PutRolePolicy', [`arn:aws:iam::${ACCT}:role/r`]],
    // STS
    ['sts', 'AssumeRole', { RoleArn: `arn:aws:iam::${ACCT}:role/r`, RoleSessionName: 's' }, 'sts:AssumeRole', [`arn:aws:iam::${ACCT}:role/r`]],
    ['sts', 'GetFederationToken', { Name: 'x' }, 'sts:GetFederationToken', [`arn:aws:iam::${ACCT}:user/alice`]],
    ['sts', 'DecodeAuthorizationMessage', { EncodedMessage: 'x' }, 'sts:DecodeAuthorizationMessage', ['*']],
  ];
  for (const [service, operation, input, action, resources, context] of rows) {
    test(`${service} ${operation} ${JSON.stringify(input).slice(0, 80)}`, async () => {
      const [first] = await asks(service, operation, input);
      assert.equal(first!.action, action);
      assert.deepEqual(first!.resources, resources);
      for (const [k, v] of Object.entries(context ?? {})) assert.deepEqual(first!.context?.[k], v, k);
      assert.equal(first!.context?.['aws:SourceIp'], '127.0.0.1');
      assert.equal(first!.context?.['aws:SecureTransport'], 'false');
    });
  }

  test('a service without a table gets <signing name>:<Operation> on * (or the resourceArn it names)', async () => {
    const model = { ...loadModel('ecs'), metadata: { ...loadModel('ecs').metadata, signingName: 'widgets' } };
    const widgets = { name: 'widgets', model, protocol: 'awsJson1_1', validationErrorCode: 'x', operations: {} } as unknown as ServiceModule;
    const [list] = await authorizer().requestsFor(ctx(), widgets, 'ListClusters', {});
    assert.deepEqual([list!.action, list!.resources], ['widgets:ListClusters', ['*']]);
    const [tag] = await authorizer().requestsFor(ctx(), widgets, 'TagResource', { resourceArn: 'arn:aws:widgets:us-east-1:1:thing/x', tags: [] });
    assert.deepEqual([tag!.action, tag!.resources], ['widgets:TagResource', ['arn:aws:widgets:us-east-1:1:thing/x']]);
  });

  test('GetCallerIdentity and GetSessionToken need no permission', async () => {
    assert.deepEqual(await asks('sts', 'GetCallerIdentity', {}), []);
    assert.deepEqual(await asks('sts', 'GetSessionToken', {}), []);
  });

  test('RunTask passes the task definition\'s roles and the overrides\' to ecs-tasks (iam:PassRole)', async () => {
    const reqs = await asks('ecs', 'RunTask', { taskDefinition: 'web', overrides: { taskRoleArn: `arn:aws:iam::${ACCT}:role/override` } });
    const passes = reqs.filter((r) => r.action === 'iam:PassRole');
    assert.deepEqual(passes.map((r) => r.resources[0]).sort(), [`arn:aws:iam::${ACCT}:role/exec`, `arn:aws:iam::${ACCT}:role/override`, `arn:aws:iam::${ACCT}:role/web-task`]);
    for (const p of passes) assert.equal(p.context?.['iam:PassedToService'], 'ecs-tasks.amazonaws.com');
  });
  test('RegisterTaskDefinition passes taskRoleArn and executionRoleArn', async () => {
    const reqs = await asks('ecs', 'RegisterTaskDefinition', { family: 'x', containerDefinitions: [], taskRoleArn: `arn:aws:iam::${ACCT}:role/t`, executionRoleArn: `arn:aws:iam::${ACCT}:role/e` });
    assert.deepEqual(reqs.slice(1).map((r) => [r.action, r.resources[0]]), [['iam:PassRole', `arn:aws:iam::${ACCT}:role/t`], ['iam:PassRole', `arn:aws:iam::${ACCT}:role/e`]]);
  });
  test('a task definition without roles passes none', async () => assert.equal((await asks('ecs', 'RunTask', { taskDefinition: 'other:1' })).length, 1));

  test('every operation of the ECS, ECR, IAM and STS models maps to an action of its service', async () => {
    let count = 0;
    for (const [name, service] of Object.entries(services)) {
      for (const operation of Object.keys(service.model.operations)) {
        const reqs = await asks(name, operation, {});
        const own = reqs[0];
        if (own === undefined) {
          assert.ok(['GetCallerIdentity', 'GetSessionToken', 'AssumeRoleWithSAML', 'AssumeRoleWithWebIdentity'].includes(operation), `${name} ${operation} asks nothing`);
          continue;
        }
        assert.equal(own.action, `${AUTHORIZATION_TABLES[name]!.prefix}:${operation}`);
        assert.ok(own.resources.length > 0 && own.resources.every((r) => r === '*' || r.startsWith('arn:aws:')), `${name} ${operation}: ${own.resources}`);
        count++;
      }
    }
    assert.ok(count >= 77 + 58 + 176 + 7, `covered ${count}`);
  });
});

describe('decisions and AWS\'s AccessDenied wording', () => {
  const runOnDefault = {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: 'ecs:RunTask', Resource: '*', Condition: { ArnEquals: { 'ecs:cluster': `arn:aws:ecs:us-east-1:${ACCT}:cluster/default` } } }],
  };
  const call = (a: PolicyAuthorizer, operation: string, input: object, caller: Caller = alice, service = 'ecs') => a.forOperation(ctx(caller), services[service]!, operation, input);
  const denied = (message: string, code = 'AccessDeniedException', status = 400) => (e: unknown) => e instanceof AwsError && e.code === code && e.status === status && e.message === message;

  test('an allow on one cluster (ecs:cluster) runs there and not elsewhere, with the implicit-deny wording', async () => {
    const a = authorizer([runOnDefault]);
    await call(a, 'RunTask', { taskDefinition: 'other:1' });
    await assert.rejects(
      call(a, 'RunTask', { taskDefinition: 'other:1', cluster: 'prod' }),
      denied(`User: arn:aws:iam::${ACCT}:user/alice is not authorized to perform: ecs:RunTask on resource: arn:aws:ecs:us-east-1:${ACCT}:task-definition/other:1 because no identity-based policy allows the ecs:RunTask action`),
    );
  });
  test('an explicit deny wins, with its own wording', async () => {
    const a = authorizer([{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ecs:*', Resource: '*' }, { Effect: 'Deny', Action: 'ecs:DeleteCluster', Resource: '*' }] }]);
    await call(a, 'DescribeClusters', {});
    await assert.rejects(
      call(a, 'DeleteCluster', { cluster: 'prod' }),
      denied(`User: arn:aws:iam::${ACCT}:user/alice is not authorized to perform: ecs:DeleteCluster on resource: arn:aws:ecs:us-east-1:${ACCT}:cluster/prod with an explicit deny in an identity-based policy`),
    );
  });
  test('ListClusters is on resource *', async () =>
    assert.rejects(call(authorizer([]), 'ListClusters', {}), denied(`User: arn:aws:iam::${ACCT}:user/alice is not authorized to perform: ecs:ListClusters on resource: * because no identity-based policy allows the ecs:ListClusters action`)));
  test('PassRole denied stops RunTask of a task definition with a task role (ECS words it as its AccessDeniedException)', async () => {
    const a = authorizer([{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ecs:*', Resource: '*' }] }]);
    await assert.rejects(
      call(a, 'RunTask', { taskDefinition: 'web' }),
      denied(`User: arn:aws:iam::${ACCT}:user/alice is not authorized to perform: iam:PassRole on resource: arn:aws:iam::${ACCT}:role/web-task because no identity-based policy allows the iam:PassRole action`),
    );
    const b = authorizer([
      { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ecs:*', Resource: '*' }, { Effect: 'Allow', Action: 'iam:PassRole', Resource: '*', Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } } }] },
    ]);
    await call(b, 'RunTask', { taskDefinition: 'web' });
  });
  test('aws:ResourceTag from the resource\'s tags', async () => {
    const a = authorizer([{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ecs:DescribeClusters', Resource: '*', Condition: { StringEquals: { 'aws:ResourceTag/env': 'prod' } } }] }]);
    await call(a, 'DescribeClusters', { clusters: ['prod'] });
    await assert.rejects(call(a, 'DescribeClusters', { clusters: ['dev'] }), /because no identity-based policy allows/);
  });
  test('every resource must be allowed: one denied cluster in a batch denies the call', async () => {
    const a = authorizer([{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ecs:DescribeClusters', Resource: `arn:aws:ecs:us-east-1:${ACCT}:cluster/a` }] }]);
    await call(a, 'DescribeClusters', { clusters: ['a'] });
    await assert.rejects(call(a, 'DescribeClusters', { clusters: ['a', 'b'] }), /on resource: arn:aws:ecs:us-east-1:123456789012:cluster\/b because/);
  });
  test('aws:SourceIp and aws:CurrentTime reach conditions', async () => {
    const a = authorizer([{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*', Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' }, DateLessThan: { 'aws:CurrentTime': '2027-01-01T00:00:00Z' } } }] }]);
    await assert.rejects(call(a, 'ListClusters', {}));
    await a.forOperation(ctx(alice, { sourceIp: '10.1.2.3' }), services.ecs!, 'ListClusters', {});
  });
  test('${aws:username}: a user may manage only their own access keys', async () => {
    const a = authorizer([{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iam:*AccessKey*', Resource: `arn:aws:iam::${ACCT}:user/\${aws:username}` }] }]);
    await call(a, 'CreateAccessKey', {}, alice, 'iam');
    await call(a, 'ListAccessKeys', { UserName: 'alice' }, alice, 'iam');
    await assert.rejects(call(a, 'ListAccessKeys', { UserName: 'bob' }, alice, 'iam'), denied(`User: arn:aws:iam::${ACCT}:user/alice is not authorized to perform: iam:ListAccessKeys on resource: arn:aws:iam::${ACCT}:user/bob because no identity-based policy allows the iam:ListAccessKeys action`, 'AccessDenied', 403));
  });
  test('a stored policy that no longer parses fails closed (it could have held a Deny)', async () => {
    const a = new PolicyAuthorizer({
      clock,
      policies: {
        forCaller: async () => ({
          identity: [
            { kind: 'inline' as const, name: 'ok', document: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }) },
            { kind: 'inline' as const, name: 'broken', document: '{"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"StringSortOf": {"a:b": "c"}}}]}' },
          ],
        }),
      },
    });
    await assert.rejects(call(a, 'ListClusters', {}), /with an explicit deny in an identity-based policy/);
  });
  test('root, internal and trusted callers are not evaluated', async () => {
    const a = authorizer([]);
    for (const kind of ['root', 'internal', 'trusted'] as const) await call(a, 'DeleteCluster', { cluster: 'x' }, { ...alice, kind });
  });
  test('a role session: aws:PrincipalArn is the role, and the session policy bounds the role\'s policies', async () => {
    const byRole = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ecs:*', Resource: '*', Condition: { ArnEquals: { 'aws:PrincipalArn': `arn:aws:iam::${ACCT}:role/deployer` } } }] };
    await call(authorizer([byRole]), 'ListClusters', {}, session);
    const bounded = authorizer([byRole], { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ecs:List*', Resource: '*' }] });
    await call(bounded, 'ListClusters', {}, session);
    await assert.rejects(
      call(bounded, 'DescribeClusters', {}, session),
      denied(`User: ${session.arn} is not authorized to perform: ecs:DescribeClusters on resource: arn:aws:ecs:us-east-1:${ACCT}:cluster/default because no session policy allows the ecs:DescribeClusters action`),
    );
  });
  test('a resource policy (ECR repository policy) can allow and can deny', async () => {
    const repo = `arn:aws:ecr:us-east-1:${ACCT}:repository/web`;
    const withPolicy = (policy: object, identity: object[] = []) =>
      new PolicyAuthorizer({ clock, facts: { resourcePolicy: async (arn) => (arn === repo ? JSON.stringify(policy) : undefined) }, policies: { forCaller: async () => ({ identity: identity.map((d) => ({ kind: 'inline' as const, name: 'p', document: JSON.stringify(d) })) }) } });
    const pullForAlice = { Version: '2012-10-17', Statement: [{ Sid: 'pull', Effect: 'Allow', Principal: { AWS: alice.arn }, Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'] }] };
    await call(withPolicy(pullForAlice), 'BatchGetImage', { repositoryName: 'web', imageIds: [] }, alice, 'ecr');
    await assert.rejects(call(withPolicy(pullForAlice), 'PutImage', { repositoryName: 'web', imageManifest: '{}' }, alice, 'ecr'), /because no identity-based policy allows the ecr:PutImage action/);
    const denyPush = { Version: '2012-10-17', Statement: [{ Effect: 'Deny', Principal: '*', Action: 'ecr:PutImage' }] };
    await assert.rejects(
      call(withPolicy(denyPush, [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ecr:*', Resource: '*' }] }]), 'PutImage', { repositoryName: 'web', imageManifest: '{}' }, alice, 'ecr'),
      denied(`User: ${alice.arn} is not authorized to perform: ecr:PutImage on resource: ${repo} with an explicit deny in a resource-based policy`),
    );
  });
});

test('valuesAt walks members, nested members and lists', () => {
  const input = { a: 'x', o: { r: 'y' }, l: ['p', 'q'], m: [{ t: '1' }, { t: '2' }, {}], e: '' };
  assert.deepEqual(valuesAt(input, 'a'), ['x']);
  assert.deepEqual(valuesAt(input, 'o.r'), ['y']);
  assert.deepEqual(valuesAt(input, 'l[]'), ['p', 'q']);
  assert.deepEqual(valuesAt(input, 'm[].t'), ['1', '2']);
  assert.deepEqual(valuesAt(input, 'e'), []);
  assert.deepEqual(valuesAt(input, 'missing.x'), []);
  assert.deepEqual(valuesAt({ constructor: 'x' }, '__proto__'), []);
});
