/**
 * IAM through the AWS SDK v3 (awsQuery): users, access keys, roles with trust policies,
 * managed policies and their versions, attachments, inline policies, tags, and IAM's errors
 * (codes, HTTP statuses and wording) in AWS's XML shape.
 */
import {
  AddUserToGroupCommand,
  AttachGroupPolicyCommand,
  CreateGroupCommand,
  DeleteGroupCommand,
  DeleteGroupPolicyCommand,
  DetachGroupPolicyCommand,
  GetGroupCommand,
  GetGroupPolicyCommand,
  ListGroupsCommand,
  ListGroupsForUserCommand,
  PutGroupPolicyCommand,
  RemoveUserFromGroupCommand,
  AttachRolePolicyCommand,
  AttachUserPolicyCommand,
  CreateAccessKeyCommand,
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  CreateRoleCommand,
  CreateUserCommand,
  DeleteAccessKeyCommand,
  DeletePolicyCommand,
  DeletePolicyVersionCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DeleteUserCommand,
  DeleteUserPolicyCommand,
  DetachRolePolicyCommand,
  DetachUserPolicyCommand,
  GetAccessKeyLastUsedCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  GetUserCommand,
  GetUserPolicyCommand,
  IAMClient,
  ListAccessKeysCommand,
  ListAttachedRolePoliciesCommand,
  ListAttachedUserPoliciesCommand,
  ListEntitiesForPolicyCommand,
  ListPoliciesCommand,
  ListPolicyVersionsCommand,
  ListRolePoliciesCommand,
  ListRolesCommand,
  ListUserPoliciesCommand,
  ListUserTagsCommand,
  ListUsersCommand,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
  SetDefaultPolicyVersionCommand,
  TagUserCommand,
  UntagUserCommand,
  UpdateAccessKeyCommand,
  UpdateAssumeRolePolicyCommand,
  UpdateUserCommand,
} from '@aws-sdk/client-iam';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { credentials, startDockyard, type TestDockyard } from './helpers/dockyard.js';

let d: TestDockyard;
let iam: IAMClient;
const ACCOUNT = '000000000000';

const policy = (statement: object | object[]) => JSON.stringify({ Version: '2012-10-17', Statement: statement });
const readEcs = policy({ Effect: 'Allow', Action: ['ecs:Describe*', 'ecs:List*'], Resource: '*' });
const trustAccount = policy({ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'sts:AssumeRole' });
const trustEcsTasks = policy({ Effect: 'Allow', Principal: { Service: 'ecs-tasks.amazonaws.com' }, Action: 'sts:AssumeRole' });

async function rejects(p: Promise<unknown>, name: string, status: number, message?: RegExp) {
  await assert.rejects(p, (e: Error & { $metadata?: { httpStatusCode?: number }; Code?: string; Type?: string }) => {
    assert.equal(e.name, name, e.message);
    assert.equal(e.$metadata?.httpStatusCode, status);
    if (message) assert.match(e.message, message);
    return true;
  });
}

before(async () => {
  d = await startDockyard();
  iam = new IAMClient({ endpoint: d.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
});
after(async () => {
  iam.destroy();
  await d.stop();
});

describe('users', () => {
  test('create, get, list, update, tag and delete', async () => {
    const created = await iam.send(new CreateUserCommand({ UserName: 'alice', Path: '/devs/', Tags: [{ Key: 'team', Value: 'blue' }] }));
    const user = created.User!;
    assert.equal(user.UserName, 'alice');
    assert.equal(user.Path, '/devs/');
    assert.equal(user.Arn, `arn:aws:iam::${ACCOUNT}:user/devs/alice`);
    assert.match(user.UserId!, /^AIDA[A-Z2-7]{17}$/);
    assert.ok(user.CreateDate instanceof Date && Math.abs(user.CreateDate.getTime() - Date.now()) < 60_000);
    assert.deepEqual(user.Tags, [{ Key: 'team', Value: 'blue' }]);

    const got = (await iam.send(new GetUserCommand({ UserName: 'ALICE' }))).User!; // names are case-insensitive
    assert.equal(got.UserId, user.UserId);
    assert.equal(got.CreateDate!.getTime(), user.CreateDate!.getTime());

    await iam.send(new CreateUserCommand({ UserName: 'bob' }));
    const listed = await iam.send(new ListUsersCommand({}));
    assert.deepEqual(listed.Users!.map((u) => u.UserName), ['alice', 'bob']);
    assert.equal(listed.IsTruncated, false);
    assert.deepEqual((await iam.send(new ListUsersCommand({ PathPrefix: '/devs/' }))).Users!.map((u) => u.UserName), ['alice']);
    const page1 = await iam.send(new ListUsersCommand({ MaxItems: 1 }));
    assert.equal(page1.IsTruncated, true);
    const page2 = await iam.send(new ListUsersCommand({ MaxItems: 1, Marker: page1.Marker }));
    assert.deepEqual([...page1.Users!, ...page2.Users!].map((u) => u.UserName), ['alice', 'bob']);
    assert.equal(page2.IsTruncated, false);

    await iam.send(new TagUserCommand({ UserName: 'alice', Tags: [{ Key: 'env', Value: 'dev' }] }));
    await iam.send(new UntagUserCommand({ UserName: 'alice', TagKeys: ['team'] }));
    assert.deepEqual((await iam.send(new ListUserTagsCommand({ UserName: 'alice' }))).Tags, [{ Key: 'env', Value: 'dev' }]);

    await iam.send(new UpdateUserCommand({ UserName: 'bob', NewUserName: 'robert', NewPath: '/ops/' }));
    const robert = (await iam.send(new GetUserCommand({ UserName: 'robert' }))).User!;
    assert.equal(robert.Arn, `arn:aws:iam::${ACCOUNT}:user/ops/robert`);
    await rejects(iam.send(new GetUserCommand({ UserName: 'bob' })), 'NoSuchEntityException', 404, /^The user with name bob cannot be found\.$/);

    await iam.send(new DeleteUserCommand({ UserName: 'robert' }));
    await rejects(iam.send(new DeleteUserCommand({ UserName: 'robert' })), 'NoSuchEntityException', 404);
  });

  test('IAM errors: duplicates, bad names and paths, missing members', async () => {
    await iam.send(new CreateUserCommand({ UserName: 'carol' }));
    await rejects(iam.send(new CreateUserCommand({ UserName: 'Carol' })), 'EntityAlreadyExistsException', 409, /^User with name Carol already exists\.$/);
    await rejects(iam.send(new CreateUserCommand({ UserName: 'has space' })), 'ValidationError', 400, /userName.*regular expression/);
    await rejects(iam.send(new CreateUserCommand({ UserName: 'x'.repeat(65) })), 'ValidationError', 400, /length less than or equal to 64/);
    await rejects(iam.send(new CreateUserCommand({ UserName: 'dave', Path: 'no-slashes' })), 'ValidationError', 400, /path/);
    await rejects(iam.send(new CreateUserCommand({ UserName: '' })), 'ValidationError', 400);
    // Nothing half-written: the rejected users do not exist.
    const names = (await iam.send(new ListUsersCommand({}))).Users!.map((u) => u.UserName);
    assert.ok(!names.includes('dave') && !names.includes('has space'));
    await iam.send(new DeleteUserCommand({ UserName: 'carol' }));
  });
});

describe('access keys', () => {
  test('at most two per user; the secret only at creation; deactivate, delete; DeleteConflict while keys remain', async () => {
    await iam.send(new CreateUserCommand({ UserName: 'keyed' }));
    const k1 = (await iam.send(new CreateAccessKeyCommand({ UserName: 'keyed' }))).AccessKey!;
    assert.match(k1.AccessKeyId!, /^AKIA[A-Z2-7]{16}$/);
    assert.equal(k1.SecretAccessKey!.length, 40);
    assert.equal(k1.Status, 'Active');
    assert.equal(k1.UserName, 'keyed');
    const k2 = (await iam.send(new CreateAccessKeyCommand({ UserName: 'keyed' }))).AccessKey!;
    await rejects(iam.send(new CreateAccessKeyCommand({ UserName: 'keyed' })), 'LimitExceededException', 409, /^Cannot exceed quota for AccessKeysPerUser: 2$/);

    const listed = await iam.send(new ListAccessKeysCommand({ UserName: 'keyed' }));
    assert.deepEqual(listed.AccessKeyMetadata!.map((k) => k.AccessKeyId).sort(), [k1.AccessKeyId, k2.AccessKeyId].sort());
    assert.ok(listed.AccessKeyMetadata!.every((k) => !('SecretAccessKey' in k) && k.Status === 'Active' && k.UserName === 'keyed'));

    await iam.send(new UpdateAccessKeyCommand({ UserName: 'keyed', AccessKeyId: k1.AccessKeyId!, Status: 'Inactive' }));
    const after1 = (await iam.send(new ListAccessKeysCommand({ UserName: 'keyed' }))).AccessKeyMetadata!;
    assert.equal(after1.find((k) => k.AccessKeyId === k1.AccessKeyId)!.Status, 'Inactive');
    await rejects(iam.send(new UpdateAccessKeyCommand({ UserName: 'keyed', AccessKeyId: k1.AccessKeyId!, Status: 'Paused' as never })), 'ValidationError', 400, /enum/);
    // Expired is in the model's enum, but only AWS sets it: a caller cannot.
    await rejects(iam.send(new UpdateAccessKeyCommand({ UserName: 'keyed', AccessKeyId: k1.AccessKeyId!, Status: 'Expired' })), 'ValidationError', 400, /Value 'Expired' at 'status'/);
    assert.equal((await iam.send(new ListAccessKeysCommand({ UserName: 'keyed' }))).AccessKeyMetadata!.find((k) => k.AccessKeyId === k1.AccessKeyId)!.Status, 'Inactive');

    await rejects(iam.send(new DeleteUserCommand({ UserName: 'keyed' })), 'DeleteConflictException', 409, /must delete access keys first/);
    await iam.send(new CreateUserCommand({ UserName: 'other' }));
    // A key is found only under its own user.
    await rejects(iam.send(new DeleteAccessKeyCommand({ UserName: 'other', AccessKeyId: k1.AccessKeyId! })), 'NoSuchEntityException', 404, /The Access Key with id AKIA/);
    await iam.send(new DeleteAccessKeyCommand({ UserName: 'keyed', AccessKeyId: k1.AccessKeyId! }));
    await iam.send(new DeleteAccessKeyCommand({ UserName: 'keyed', AccessKeyId: k2.AccessKeyId! }));
    await iam.send(new DeleteUserCommand({ UserName: 'keyed' }));
    await iam.send(new DeleteUserCommand({ UserName: 'other' }));
  });

  test('GetAccessKeyLastUsed: N/A before use; an unknown key is AccessDenied (the operation models no NoSuchEntity)', async () => {
    await iam.send(new CreateUserCommand({ UserName: 'lastused' }));
    const key = (await iam.send(new CreateAccessKeyCommand({ UserName: 'lastused' }))).AccessKey!;
    const used = await iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: key.AccessKeyId! }));
    assert.equal(used.UserName, 'lastused');
    assert.equal(used.AccessKeyLastUsed?.ServiceName, 'N/A');
    // Found by the fuzzer: this answered NoSuchEntity, an error the operation does not model.
    await rejects(
      iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: 'AKIAAAAAAAAAAAAAAAAA' })),
      'AccessDenied',
      403,
      new RegExp(`^User: arn:aws:iam::${ACCOUNT}:root is not authorized to perform: iam:GetAccessKeyLastUsed on resource: access key AKIAAAAAAAAAAAAAAAAA$`),
    );
    await iam.send(new DeleteAccessKeyCommand({ UserName: 'lastused', AccessKeyId: key.AccessKeyId! }));
    await iam.send(new DeleteUserCommand({ UserName: 'lastused' }));
  });

  test('secrets are not stored in the clear', async () => {
    await iam.send(new CreateUserCommand({ UserName: 'sealed' }));
    const key = (await iam.send(new CreateAccessKeyCommand({ UserName: 'sealed' }))).AccessKey!;
    const { readFileSync, readdirSync } = await import('node:fs');
    const dbFiles = readdirSync(d.dataDir).filter((f) => f.startsWith('dockyard.db'));
    for (const f of dbFiles) assert.ok(!readFileSync(`${d.dataDir}/${f}`).includes(key.SecretAccessKey!), `secret found in ${f}`);
    await iam.send(new DeleteAccessKeyCommand({ UserName: 'sealed', AccessKeyId: key.AccessKeyId! }));
    await iam.send(new DeleteUserCommand({ UserName: 'sealed' }));
  });
});

describe('roles', () => {
  test('create with a trust policy, get (URL-encoded document), list, update the trust policy, delete', async () => {
    const role = (await iam.send(new CreateRoleCommand({ RoleName: 'app', Path: '/service/', AssumeRolePolicyDocument: trustEcsTasks, Description: 'the app', MaxSessionDuration: 7200 }))).Role!;
    assert.equal(role.Arn, `arn:aws:iam::${ACCOUNT}:role/service/app`);
    assert.match(role.RoleId!, /^AROA[A-Z2-7]{17}$/);
    assert.equal(role.MaxSessionDuration, 7200);
    const got = (await iam.send(new GetRoleCommand({ RoleName: 'app' }))).Role!;
    assert.deepEqual(JSON.parse(decodeURIComponent(got.AssumeRolePolicyDocument!)), JSON.parse(trustEcsTasks));
    assert.equal(got.Description, 'the app');

    await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'app', PolicyDocument: trustAccount }));
    const updated = (await iam.send(new GetRoleCommand({ RoleName: 'app' }))).Role!;
    assert.deepEqual(JSON.parse(decodeURIComponent(updated.AssumeRolePolicyDocument!)), JSON.parse(trustAccount));
    assert.ok((await iam.send(new ListRolesCommand({}))).Roles!.some((r) => r.RoleName === 'app'));

    await rejects(iam.send(new CreateRoleCommand({ RoleName: 'app', AssumeRolePolicyDocument: trustAccount })), 'EntityAlreadyExistsException', 409, /^Role with name app already exists\.$/);
    await rejects(iam.send(new CreateRoleCommand({ RoleName: 'x', AssumeRolePolicyDocument: trustAccount, MaxSessionDuration: 60 })), 'ValidationError', 400, /greater than or equal to 3600/);
    await iam.send(new DeleteRoleCommand({ RoleName: 'app' }));
    await rejects(iam.send(new GetRoleCommand({ RoleName: 'app' })), 'NoSuchEntityException', 404, /^The role with name app cannot be found\.$/);
  });

  test('trust policies must follow the grammar', async () => {
    const bad: [string, RegExp][] = [
      ['{not json', /invalid Json/],
      [policy({ Effect: 'Allow', Action: 'sts:AssumeRole' }), /Missing required field Principal/],
      [policy({ Effect: 'Allow', Principal: { AWS: '*' }, Action: 'sts:AssumeRole', Resource: '*' }), /Has prohibited field Resource/],
      [policy({ Effect: 'Maybe', Principal: '*', Action: 'sts:AssumeRole' }), /Effect must be Allow or Deny/],
      [policy({ Effect: 'Allow', Principal: { Bogus: 'x' }, Action: 'sts:AssumeRole' }), /Invalid principal in policy/],
      [JSON.stringify({ Version: '2000-01-01', Statement: [] }), /legacy parsing/],
    ];
    for (const [doc, message] of bad) {
      await rejects(iam.send(new CreateRoleCommand({ RoleName: 'bad', AssumeRolePolicyDocument: doc })), 'MalformedPolicyDocumentException', 400, message);
    }
    await rejects(iam.send(new GetRoleCommand({ RoleName: 'bad' })), 'NoSuchEntityException', 404);
  });
});

describe('managed policies', () => {
  test('AWS managed policies are present with their documents', async () => {
    for (const arn of [
      'arn:aws:iam::aws:policy/AmazonECS_FullAccess',
      'arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly',
      'arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy',
    ]) {
      const p = (await iam.send(new GetPolicyCommand({ PolicyArn: arn }))).Policy!;
      assert.equal(p.Arn, arn);
      const v = (await iam.send(new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: p.DefaultVersionId }))).PolicyVersion!;
      assert.equal(v.IsDefaultVersion, true);
      const doc = JSON.parse(decodeURIComponent(v.Document!));
      assert.equal(doc.Version, '2012-10-17');
      assert.ok(doc.Statement.length > 0);
    }
    const execution = (await iam.send(new GetPolicyVersionCommand({ PolicyArn: 'arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy', VersionId: 'v1' }))).PolicyVersion!;
    assert.ok(JSON.parse(decodeURIComponent(execution.Document!)).Statement[0].Action.includes('ecr:BatchGetImage'));
    const aws = (await iam.send(new ListPoliciesCommand({ Scope: 'AWS' }))).Policies!;
    assert.ok(aws.some((p) => p.PolicyName === 'AmazonECSTaskExecutionRolePolicy' && p.Path === '/service-role/'));
    assert.deepEqual((await iam.send(new ListPoliciesCommand({ Scope: 'Local' }))).Policies, []);
  });

  test('create, versions (at most 5, default not deletable), attach to users and roles, DeleteConflict, delete', async () => {
    const p = (await iam.send(new CreatePolicyCommand({ PolicyName: 'ecs-read', Path: '/team/', PolicyDocument: readEcs, Description: 'read ECS' }))).Policy!;
    assert.equal(p.Arn, `arn:aws:iam::${ACCOUNT}:policy/team/ecs-read`);
    assert.match(p.PolicyId!, /^ANPA/);
    assert.equal(p.DefaultVersionId, 'v1');
    assert.equal(p.AttachmentCount, 0);
    await rejects(iam.send(new CreatePolicyCommand({ PolicyName: 'ecs-read', PolicyDocument: readEcs })), 'EntityAlreadyExistsException', 409, /A policy called ecs-read already exists/);

    for (let i = 2; i <= 5; i++) {
      const v: { VersionId?: string } = (await iam.send(new CreatePolicyVersionCommand({ PolicyArn: p.Arn, PolicyDocument: readEcs, SetAsDefault: i === 3 }))).PolicyVersion!;
      assert.equal(v.VersionId, `v${i}`);
    }
    await rejects(iam.send(new CreatePolicyVersionCommand({ PolicyArn: p.Arn, PolicyDocument: readEcs })), 'LimitExceededException', 409, /up to 5 versions/);
    assert.equal((await iam.send(new GetPolicyCommand({ PolicyArn: p.Arn }))).Policy!.DefaultVersionId, 'v3');
    await rejects(iam.send(new DeletePolicyVersionCommand({ PolicyArn: p.Arn, VersionId: 'v3' })), 'DeleteConflictException', 409, /default version/);
    await iam.send(new SetDefaultPolicyVersionCommand({ PolicyArn: p.Arn, VersionId: 'v1' }));
    for (const v of ['v2', 'v3', 'v4', 'v5']) await iam.send(new DeletePolicyVersionCommand({ PolicyArn: p.Arn, VersionId: v }));
    const versions = (await iam.send(new ListPolicyVersionsCommand({ PolicyArn: p.Arn }))).Versions!;
    assert.deepEqual(versions.map((v) => [v.VersionId, v.IsDefaultVersion]), [['v1', true]]);
    // Version numbers are not reused.
    assert.equal((await iam.send(new CreatePolicyVersionCommand({ PolicyArn: p.Arn, PolicyDocument: readEcs }))).PolicyVersion!.VersionId, 'v6');
    await iam.send(new DeletePolicyVersionCommand({ PolicyArn: p.Arn, VersionId: 'v6' }));

    await iam.send(new CreateUserCommand({ UserName: 'attached' }));
    await iam.send(new CreateRoleCommand({ RoleName: 'attached-role', AssumeRolePolicyDocument: trustAccount }));
    await iam.send(new AttachUserPolicyCommand({ UserName: 'attached', PolicyArn: p.Arn }));
    await iam.send(new AttachUserPolicyCommand({ UserName: 'attached', PolicyArn: p.Arn })); // idempotent
    await iam.send(new AttachUserPolicyCommand({ UserName: 'attached', PolicyArn: 'arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly' }));
    await iam.send(new AttachRolePolicyCommand({ RoleName: 'attached-role', PolicyArn: p.Arn }));
    assert.equal((await iam.send(new GetPolicyCommand({ PolicyArn: p.Arn }))).Policy!.AttachmentCount, 2);
    const attached = (await iam.send(new ListAttachedUserPoliciesCommand({ UserName: 'attached' }))).AttachedPolicies!;
    assert.deepEqual(attached.map((a) => a.PolicyName).sort(), ['AmazonEC2ContainerRegistryReadOnly', 'ecs-read']);
    assert.deepEqual((await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: 'attached-role' }))).AttachedPolicies, [{ PolicyName: 'ecs-read', PolicyArn: p.Arn }]);
    const entities = await iam.send(new ListEntitiesForPolicyCommand({ PolicyArn: p.Arn }));
    assert.deepEqual(entities.PolicyUsers!.map((u) => u.UserName), ['attached']);
    assert.deepEqual(entities.PolicyRoles!.map((r) => r.RoleName), ['attached-role']);

    await rejects(
      iam.send(new AttachUserPolicyCommand({ UserName: 'attached', PolicyArn: `arn:aws:iam::${ACCOUNT}:policy/nope` })),
      'NoSuchEntityException',
      404,
      /does not exist or is not attachable/,
    );
    await rejects(iam.send(new AttachUserPolicyCommand({ UserName: 'attached', PolicyArn: 'not-an-arn-but-long-enough' })), 'InvalidInputException', 400, /^ARN not-an-arn-but-long-enough is not valid\.$/);
    await rejects(iam.send(new GetPolicyCommand({ PolicyArn: 'arn:aws:iam::000000000000:user/x' })), 'InvalidInputException', 400);
    await rejects(iam.send(new DeletePolicyCommand({ PolicyArn: p.Arn })), 'DeleteConflictException', 409, /attached to entities/);
    await rejects(iam.send(new DeleteUserCommand({ UserName: 'attached' })), 'DeleteConflictException', 409, /detach all policies/);
    await rejects(iam.send(new DeleteRoleCommand({ RoleName: 'attached-role' })), 'DeleteConflictException', 409, /detach all policies/);

    await iam.send(new DetachUserPolicyCommand({ UserName: 'attached', PolicyArn: p.Arn }));
    await iam.send(new DetachUserPolicyCommand({ UserName: 'attached', PolicyArn: 'arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly' }));
    await rejects(iam.send(new DetachUserPolicyCommand({ UserName: 'attached', PolicyArn: p.Arn })), 'NoSuchEntityException', 404);
    await iam.send(new DetachRolePolicyCommand({ RoleName: 'attached-role', PolicyArn: p.Arn }));
    await iam.send(new DeletePolicyCommand({ PolicyArn: p.Arn }));
    await rejects(iam.send(new GetPolicyCommand({ PolicyArn: p.Arn })), 'NoSuchEntityException', 404, /was not found/);
    await iam.send(new DeleteUserCommand({ UserName: 'attached' }));
    await iam.send(new DeleteRoleCommand({ RoleName: 'attached-role' }));
  });

  test('identity policy documents must follow the grammar', async () => {
    const bad: [string, RegExp][] = [
      ['[]', /Syntax errors/],
      [policy({ Effect: 'Allow', Resource: '*' }), /must contain actions/],
      [policy({ Effect: 'Allow', Action: 'ecs:ListClusters' }), /must contain resources/],
      [policy({ Effect: 'Allow', Action: 'ListClusters', Resource: '*' }), /prefaced by a vendor/],
      [policy({ Effect: 'Allow', Action: 'ecs:ListClusters', Resource: 'cluster/x' }), /ARN format/],
      [policy({ Effect: 'Allow', Principal: '*', Action: 'ecs:ListClusters', Resource: '*' }), /should not specify a principal/],
      [policy({ Effect: 'Allow', Action: 'ecs:ListClusters', Resource: '*', Bogus: 1 }), /Syntax errors/],
    ];
    for (const [doc, message] of bad) {
      await rejects(iam.send(new CreatePolicyCommand({ PolicyName: 'bad', PolicyDocument: doc })), 'MalformedPolicyDocumentException', 400, message);
    }
    await rejects(iam.send(new GetPolicyCommand({ PolicyArn: `arn:aws:iam::${ACCOUNT}:policy/bad` })), 'NoSuchEntityException', 404);
  });
});

describe('inline policies', () => {
  test('put, get, list, delete for users and roles; DeleteConflict while they remain', async () => {
    await iam.send(new CreateUserCommand({ UserName: 'inline' }));
    await iam.send(new CreateRoleCommand({ RoleName: 'inline-role', AssumeRolePolicyDocument: trustAccount }));
    await iam.send(new PutUserPolicyCommand({ UserName: 'inline', PolicyName: 'read', PolicyDocument: readEcs }));
    await iam.send(new PutRolePolicyCommand({ RoleName: 'inline-role', PolicyName: 'read', PolicyDocument: readEcs }));
    const got = await iam.send(new GetUserPolicyCommand({ UserName: 'inline', PolicyName: 'read' }));
    assert.equal(got.UserName, 'inline');
    assert.deepEqual(JSON.parse(decodeURIComponent(got.PolicyDocument!)), JSON.parse(readEcs));
    const gotRole = await iam.send(new GetRolePolicyCommand({ RoleName: 'inline-role', PolicyName: 'read' }));
    assert.deepEqual(JSON.parse(decodeURIComponent(gotRole.PolicyDocument!)), JSON.parse(readEcs));
    assert.deepEqual((await iam.send(new ListUserPoliciesCommand({ UserName: 'inline' }))).PolicyNames, ['read']);
    assert.deepEqual((await iam.send(new ListRolePoliciesCommand({ RoleName: 'inline-role' }))).PolicyNames, ['read']);

    await rejects(iam.send(new PutUserPolicyCommand({ UserName: 'inline', PolicyName: 'bad', PolicyDocument: '{}' })), 'MalformedPolicyDocumentException', 400);
    const big = policy(Array.from({ length: 40 }, (_, i) => ({ Effect: 'Allow', Action: `ecs:DescribeClusters`, Resource: `arn:aws:ecs:us-east-1:${ACCOUNT}:cluster/c${i}` })));
    await rejects(iam.send(new PutUserPolicyCommand({ UserName: 'inline', PolicyName: 'big', PolicyDocument: big })), 'LimitExceededException', 409, /Maximum policy size of 2048 bytes exceeded for user inline/);
    await rejects(iam.send(new GetUserPolicyCommand({ UserName: 'inline', PolicyName: 'nope' })), 'NoSuchEntityException', 404, /^The user policy with name nope cannot be found\.$/);

    await rejects(iam.send(new DeleteUserCommand({ UserName: 'inline' })), 'DeleteConflictException', 409, /must delete policies first/);
    await rejects(iam.send(new DeleteRoleCommand({ RoleName: 'inline-role' })), 'DeleteConflictException', 409, /must delete policies first/);
    await iam.send(new DeleteUserPolicyCommand({ UserName: 'inline', PolicyName: 'read' }));
    await iam.send(new DeleteRolePolicyCommand({ RoleName: 'inline-role', PolicyName: 'read' }));
    await iam.send(new DeleteUserCommand({ UserName: 'inline' }));
    await iam.send(new DeleteRoleCommand({ RoleName: 'inline-role' }));
  });

  test('the identity policies in force for a user (none for root)', async () => {
    await iam.send(new CreateUserCommand({ UserName: 'evaluated' }));
    await iam.send(new PutUserPolicyCommand({ UserName: 'evaluated', PolicyName: 'inline', PolicyDocument: readEcs }));
    await iam.send(new AttachUserPolicyCommand({ UserName: 'evaluated', PolicyArn: 'arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly' }));
    const user = (await iam.send(new GetUserCommand({ UserName: 'evaluated' }))).User!;
    const inForce = await d.app.identityPolicies.forCaller({ kind: 'user', accountId: ACCOUNT, arn: user.Arn!, userId: user.UserId! });
    assert.deepEqual(inForce.identity.map((p) => [p.kind, p.name]).sort(), [['inline', 'inline'], ['managed', 'AmazonEC2ContainerRegistryReadOnly']]);
    assert.ok(JSON.parse(inForce.identity.find((p) => p.kind === 'managed')!.document).Statement[0].Action.includes('ecr:BatchGetImage'));
    assert.deepEqual(await d.app.identityPolicies.forCaller({ kind: 'root', accountId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:root`, userId: ACCOUNT }), { identity: [] });
  });
});

describe('groups', () => {
  test("members, inline and attached policies; a user's groups' policies are in force for the user; DeleteConflict", async () => {
    const group = (await iam.send(new CreateGroupCommand({ GroupName: 'devs', Path: '/eng/' }))).Group!;
    assert.equal(group.Arn, `arn:aws:iam::${ACCOUNT}:group/eng/devs`);
    assert.match(group.GroupId!, /^AGPA[A-Z2-7]{17}$/);
    await rejects(iam.send(new CreateGroupCommand({ GroupName: 'DEVS' })), 'EntityAlreadyExistsException', 409, /^Group with name DEVS already exists\.$/);
    const user = (await iam.send(new CreateUserCommand({ UserName: 'member' }))).User!;
    await iam.send(new AddUserToGroupCommand({ GroupName: 'devs', UserName: 'member' }));
    await iam.send(new AddUserToGroupCommand({ GroupName: 'devs', UserName: 'member' })); // idempotent
    const got = await iam.send(new GetGroupCommand({ GroupName: 'devs' }));
    assert.deepEqual(got.Users!.map((u) => u.UserName), ['member']);
    assert.deepEqual((await iam.send(new ListGroupsForUserCommand({ UserName: 'member' }))).Groups!.map((g) => g.GroupName), ['devs']);
    assert.deepEqual((await iam.send(new ListGroupsCommand({ PathPrefix: '/eng/' }))).Groups!.map((g) => g.GroupName), ['devs']);

    await iam.send(new PutGroupPolicyCommand({ GroupName: 'devs', PolicyName: 'read', PolicyDocument: readEcs }));
    assert.deepEqual(JSON.parse(decodeURIComponent((await iam.send(new GetGroupPolicyCommand({ GroupName: 'devs', PolicyName: 'read' }))).PolicyDocument!)), JSON.parse(readEcs));
    const ecrRead = 'arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly';
    await iam.send(new AttachGroupPolicyCommand({ GroupName: 'devs', PolicyArn: ecrRead }));
    assert.deepEqual((await iam.send(new ListEntitiesForPolicyCommand({ PolicyArn: ecrRead }))).PolicyGroups!.map((g) => g.GroupName), ['devs']);
    const inForce = await d.app.identityPolicies.forCaller({ kind: 'user', accountId: ACCOUNT, arn: user.Arn!, userId: user.UserId! });
    assert.deepEqual(inForce.identity.map((p) => p.name).sort(), ['AmazonEC2ContainerRegistryReadOnly', 'read']);

    await rejects(iam.send(new DeleteUserCommand({ UserName: 'member' })), 'DeleteConflictException', 409, /remove users from group/);
    await rejects(iam.send(new DeleteGroupCommand({ GroupName: 'devs' })), 'DeleteConflictException', 409, /remove users from group/);
    await iam.send(new RemoveUserFromGroupCommand({ GroupName: 'devs', UserName: 'member' }));
    await rejects(iam.send(new RemoveUserFromGroupCommand({ GroupName: 'devs', UserName: 'member' })), 'NoSuchEntityException', 404);
    assert.deepEqual((await d.app.identityPolicies.forCaller({ kind: 'user', accountId: ACCOUNT, arn: user.Arn!, userId: user.UserId! })).identity, []);
    await rejects(iam.send(new DeleteGroupCommand({ GroupName: 'devs' })), 'DeleteConflictException', 409, /delete policies first/);
    await iam.send(new DeleteGroupPolicyCommand({ GroupName: 'devs', PolicyName: 'read' }));
    await rejects(iam.send(new DeleteGroupCommand({ GroupName: 'devs' })), 'DeleteConflictException', 409, /detach all policies/);
    await iam.send(new DetachGroupPolicyCommand({ GroupName: 'devs', PolicyArn: ecrRead }));
    await iam.send(new DeleteGroupCommand({ GroupName: 'devs' }));
    await rejects(iam.send(new GetGroupCommand({ GroupName: 'devs' })), 'NoSuchEntityException', 404, /^The group with name devs cannot be found\.$/);
    await iam.send(new DeleteUserCommand({ UserName: 'member' }));
  });
});

describe('persistence', () => {
  test('users, roles and policies survive a restart, and access keys still sign', async () => {
    const user = (await iam.send(new CreateUserCommand({ UserName: 'durable' }))).User!;
    const key = (await iam.send(new CreateAccessKeyCommand({ UserName: 'durable' }))).AccessKey!;
    await iam.send(new PutUserPolicyCommand({ UserName: 'durable', PolicyName: 'read', PolicyDocument: readEcs }));
    d = await d.restart();
    iam.destroy();
    iam = new IAMClient({ endpoint: d.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
    assert.equal((await iam.send(new GetUserCommand({ UserName: 'durable' }))).User!.UserId, user.UserId);
    assert.deepEqual((await iam.send(new ListUserPoliciesCommand({ UserName: 'durable' }))).PolicyNames, ['read']);
    const sts = new STSClient({ endpoint: d.endpoint, region: 'us-east-1', credentials: { accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! }, maxAttempts: 1 });
    try {
      assert.equal((await sts.send(new GetCallerIdentityCommand({}))).Arn, user.Arn);
    } finally {
      sts.destroy();
    }
  });
});
