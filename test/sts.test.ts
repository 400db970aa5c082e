/**
 * STS and IAM credentials at the SigV4 gate, through the AWS SDK v3: GetCallerIdentity for the
 * root key, an IAM user's access key and an assumed-role session; AssumeRole's trust policy and
 * duration checks; a deactivated or deleted key is refused; a session works until it expires and
 * is then refused with ExpiredTokenException; task-role credentials from the issuer.
 */
import { AttachUserPolicyCommand, CreateAccessKeyCommand, CreateRoleCommand, CreateUserCommand, DeleteAccessKeyCommand, IAMClient, PutUserPolicyCommand, UpdateAccessKeyCommand } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, GetCallerIdentityCommand, GetSessionTokenCommand, STSClient } from '@aws-sdk/client-sts';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createApp, type App } from '../src/server/app.js';
import { defaultConfig } from '../src/server/config.js';
import { credentials as rootCredentials } from './helpers/dockyard.js';

const ACCOUNT = '000000000000';
const trust = (principal: object) => JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: principal, Action: 'sts:AssumeRole' }] });

/** The server's clock, moved forward by tests that need a session to expire; clients sign with the same offset. */
let offsetMs = 0;
const clock = { now: () => (Date.now() + offsetMs) / 1000 };

let app: App;
let dataDir: string;
let endpoint: string;
type Creds = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
const clients: { destroy(): void }[] = [];
const sts = (credentials: Creds) => {
  const client = new STSClient({ endpoint, region: 'us-east-1', credentials, maxAttempts: 1, systemClockOffset: offsetMs });
  clients.push(client);
  return client;
};
let iam: IAMClient;

async function rejects(p: Promise<unknown>, name: string, status: number, message?: RegExp) {
  await assert.rejects(p, (e: Error & { $metadata?: { httpStatusCode?: number } }) => {
    assert.equal(e.name, name, e.message);
    assert.equal(e.$metadata?.httpStatusCode, status);
    if (message) assert.match(e.message, message);
    return true;
  });
}

async function userWithKey(name: string) {
  const user = (await iam.send(new CreateUserCommand({ UserName: name }))).User!;
  const key = (await iam.send(new CreateAccessKeyCommand({ UserName: name }))).AccessKey!;
  return { user, key, credentials: { accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! } };
}

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'dockyard-sts-'));
  app = await createApp({ ...defaultConfig({}), host: '127.0.0.1', port: 0, dataDir, logLevel: 'silent', rootKey: rootCredentials }, { clock, logger: false });
  endpoint = `http://127.0.0.1:${await app.listen()}`;
  iam = new IAMClient({ endpoint, region: 'us-east-1', credentials: rootCredentials, maxAttempts: 1 });
});
after(async () => {
  iam.destroy();
  for (const c of clients) c.destroy();
  await app.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('GetCallerIdentity', () => {
  test('the root key', async () => {
    const id = await sts(rootCredentials).send(new GetCallerIdentityCommand({}));
    assert.deepEqual([id.Account, id.Arn, id.UserId], [ACCOUNT, `arn:aws:iam::${ACCOUNT}:root`, ACCOUNT]);
  });

  test("an IAM user's access key signs requests the server accepts; deactivated or deleted, it is refused", async () => {
    const { user, key, credentials } = await userWithKey('signer');
    const client = sts(credentials);
    const id = await client.send(new GetCallerIdentityCommand({}));
    assert.deepEqual([id.Account, id.Arn, id.UserId], [ACCOUNT, user.Arn, user.UserId]);

    await rejects(sts({ ...credentials, secretAccessKey: 'x'.repeat(40) }).send(new GetCallerIdentityCommand({})), 'SignatureDoesNotMatch', 403);

    await iam.send(new UpdateAccessKeyCommand({ UserName: 'signer', AccessKeyId: key.AccessKeyId!, Status: 'Inactive' }));
    await rejects(client.send(new GetCallerIdentityCommand({})), 'InvalidClientTokenId', 403, /security token included in the request is invalid/);
    await iam.send(new UpdateAccessKeyCommand({ UserName: 'signer', AccessKeyId: key.AccessKeyId!, Status: 'Active' }));
    assert.equal((await client.send(new GetCallerIdentityCommand({}))).Arn, user.Arn);

    await iam.send(new DeleteAccessKeyCommand({ UserName: 'signer', AccessKeyId: key.AccessKeyId! }));
    await rejects(client.send(new GetCallerIdentityCommand({})), 'InvalidClientTokenId', 403);
  });
});

describe('AssumeRole', () => {
  test('the trust policy decides who may assume a role; the session is the assumed-role principal', async () => {
    const role = (await iam.send(new CreateRoleCommand({ RoleName: 'deployer', Path: '/ci/', AssumeRolePolicyDocument: trust({ AWS: ACCOUNT }) }))).Role!;
    const assumed = await sts(rootCredentials).send(new AssumeRoleCommand({ RoleArn: role.Arn, RoleSessionName: 'build-42', DurationSeconds: 900 }));
    const c = assumed.Credentials!;
    assert.match(c.AccessKeyId!, /^ASIA[A-Z2-7]{16}$/);
    assert.equal(c.SecretAccessKey!.length, 40);
    assert.ok(c.SessionToken!.length > 100);
    assert.ok(Math.abs(c.Expiration!.getTime() - (Date.now() + 900_000)) < 60_000);
    assert.equal(assumed.AssumedRoleUser!.Arn, `arn:aws:sts::${ACCOUNT}:assumed-role/deployer/build-42`);
    assert.equal(assumed.AssumedRoleUser!.AssumedRoleId, `${role.RoleId}:build-42`);

    const session = { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! };
    const id = await sts(session).send(new GetCallerIdentityCommand({}));
    assert.deepEqual([id.Arn, id.UserId, id.Account], [assumed.AssumedRoleUser!.Arn, `${role.RoleId}:build-42`, ACCOUNT]);
    const inForce = await app.identityPolicies.forCaller({ kind: 'assumed-role', accountId: ACCOUNT, arn: id.Arn!, userId: id.UserId!, roleArn: role.Arn, accessKeyId: c.AccessKeyId });
    assert.deepEqual(inForce, { identity: [], session: undefined });

    // Without its session token, or with another one, the session key is not recognised.
    await rejects(sts({ accessKeyId: session.accessKeyId, secretAccessKey: session.secretAccessKey }).send(new GetCallerIdentityCommand({})), 'InvalidClientTokenId', 403);
    await rejects(sts({ ...session, sessionToken: 'forged' }).send(new GetCallerIdentityCommand({})), 'InvalidClientTokenId', 403);
  });

  test('a role that trusts only a user or a service refuses others', async () => {
    const { user, credentials } = await userWithKey('assumer');
    const { credentials: stranger } = await userWithKey('stranger');
    const forUser = (await iam.send(new CreateRoleCommand({ RoleName: 'for-assumer', AssumeRolePolicyDocument: trust({ AWS: user.Arn }) }))).Role!;
    const forTasks = (await iam.send(new CreateRoleCommand({ RoleName: 'for-tasks', AssumeRolePolicyDocument: trust({ Service: 'ecs-tasks.amazonaws.com' }) }))).Role!;

    const ok = await sts(credentials).send(new AssumeRoleCommand({ RoleArn: forUser.Arn, RoleSessionName: 'me' }));
    assert.equal(ok.AssumedRoleUser!.Arn, `arn:aws:sts::${ACCOUNT}:assumed-role/for-assumer/me`);
    await rejects(
      sts(stranger).send(new AssumeRoleCommand({ RoleArn: forUser.Arn, RoleSessionName: 'me' })),
      'AccessDenied',
      403,
      new RegExp(`^User: arn:aws:iam::${ACCOUNT}:user/stranger is not authorized to perform: sts:AssumeRole on resource: ${forUser.Arn}`),
    );
    // A role that trusts the account delegates to the account's identity policies.
    const forAccount = (await iam.send(new CreateRoleCommand({ RoleName: 'for-account', AssumeRolePolicyDocument: trust({ AWS: ACCOUNT }) }))).Role!;
    await rejects(sts(stranger).send(new AssumeRoleCommand({ RoleArn: forAccount.Arn, RoleSessionName: 'me' })), 'AccessDenied', 403);
    await iam.send(
      new PutUserPolicyCommand({
        UserName: 'stranger',
        PolicyName: 'assume',
        PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: forAccount.Arn }] }),
      }),
    );
    const delegated = await sts(stranger).send(new AssumeRoleCommand({ RoleArn: forAccount.Arn, RoleSessionName: 'me' }));
    assert.equal(delegated.AssumedRoleUser!.Arn, `arn:aws:sts::${ACCOUNT}:assumed-role/for-account/me`);
    // An identity policy alone does not let a user assume a role whose trust policy names someone else.
    await iam.send(
      new PutUserPolicyCommand({
        UserName: 'stranger',
        PolicyName: 'assume',
        PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }] }),
      }),
    );
    await rejects(sts(stranger).send(new AssumeRoleCommand({ RoleArn: forUser.Arn, RoleSessionName: 'me' })), 'AccessDenied', 403);
    await rejects(sts(rootCredentials).send(new AssumeRoleCommand({ RoleArn: forTasks.Arn, RoleSessionName: 'me' })), 'AccessDenied', 403);
    await rejects(sts(rootCredentials).send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${ACCOUNT}:role/missing`, RoleSessionName: 'me' })), 'AccessDenied', 403);
  });

  test('DurationSeconds between 900 and the role\'s MaxSessionDuration; session names and policies validated', async () => {
    const role = (await iam.send(new CreateRoleCommand({ RoleName: 'short', AssumeRolePolicyDocument: trust({ AWS: ACCOUNT }) }))).Role!;
    const root = sts(rootCredentials);
    await rejects(root.send(new AssumeRoleCommand({ RoleArn: role.Arn, RoleSessionName: 'ss', DurationSeconds: 7200 })), 'ValidationError', 400, /exceeds the MaxSessionDuration/);
    await rejects(root.send(new AssumeRoleCommand({ RoleArn: role.Arn, RoleSessionName: 'ss', DurationSeconds: 899 })), 'ValidationError', 400, /greater than or equal to 900/);
    await rejects(root.send(new AssumeRoleCommand({ RoleArn: role.Arn, RoleSessionName: 'has space' })), 'ValidationError', 400, /roleSessionName/);
    await rejects(root.send(new AssumeRoleCommand({ RoleArn: role.Arn, RoleSessionName: 'ss', Policy: '{"Statement":[{"Effect":"Allow"}]}' })), 'MalformedPolicyDocumentException', 400, /must contain actions/);
    const withPolicy = await root.send(
      new AssumeRoleCommand({ RoleArn: role.Arn, RoleSessionName: 'scoped', Policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ecs:List*', Resource: '*' }] }) }),
    );
    assert.ok(withPolicy.PackedPolicySize! > 0);
    const c = withPolicy.Credentials!;
    const id = await sts({ accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! }).send(new GetCallerIdentityCommand({}));
    const inForce = await app.identityPolicies.forCaller({ kind: 'assumed-role', accountId: ACCOUNT, arn: id.Arn!, userId: id.UserId!, roleArn: role.Arn, accessKeyId: c.AccessKeyId });
    assert.match(inForce.session!, /ecs:List\*/);
  });

  test('a session works until it expires, then ExpiredToken', async () => {
    const role = (await iam.send(new CreateRoleCommand({ RoleName: 'expiring', AssumeRolePolicyDocument: trust({ AWS: ACCOUNT }) }))).Role!;
    const c = (await sts(rootCredentials).send(new AssumeRoleCommand({ RoleArn: role.Arn, RoleSessionName: 'brief', DurationSeconds: 900 }))).Credentials!;
    const session = { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! };
    try {
      offsetMs = 890_000; // ten seconds before expiry (the client signs with the same clock)
      assert.match((await sts(session).send(new GetCallerIdentityCommand({}))).Arn!, /assumed-role\/expiring\/brief$/);
      offsetMs = 901_000;
      // AWS's awsQuery code for it is ExpiredToken (the CLI shows "An error occurred (ExpiredToken)").
      await rejects(sts(session).send(new GetCallerIdentityCommand({})), 'ExpiredToken', 403, /security token included in the request is expired/);
    } finally {
      offsetMs = 0;
    }
  });
});

describe('GetSessionToken and task roles', () => {
  test("a user's session token acts as the user", async () => {
    const { user, credentials } = await userWithKey('tokened');
    await iam.send(new AttachUserPolicyCommand({ UserName: 'tokened', PolicyArn: 'arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly' }));
    const c = (await sts(credentials).send(new GetSessionTokenCommand({ DurationSeconds: 900 }))).Credentials!;
    assert.match(c.AccessKeyId!, /^ASIA/);
    const session = { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! };
    const id = await sts(session).send(new GetCallerIdentityCommand({}));
    assert.deepEqual([id.Arn, id.UserId], [user.Arn, user.UserId]);
    const inForce = await app.identityPolicies.forCaller({ kind: 'user', accountId: ACCOUNT, arn: id.Arn!, userId: id.UserId!, accessKeyId: c.AccessKeyId });
    assert.deepEqual(inForce.identity.map((p) => p.name), ['AmazonEC2ContainerRegistryReadOnly']);
    await rejects(sts(session).send(new GetSessionTokenCommand({})), 'AccessDenied', 403, /session credentials/);
  });

  test('the RoleCredentialsIssuer vends credentials for roles that trust ecs-tasks.amazonaws.com only', async () => {
    const taskRole = (await iam.send(new CreateRoleCommand({ RoleName: 'task-role', AssumeRolePolicyDocument: trust({ Service: 'ecs-tasks.amazonaws.com' }) }))).Role!;
    const userRole = (await iam.send(new CreateRoleCommand({ RoleName: 'not-for-tasks', AssumeRolePolicyDocument: trust({ AWS: ACCOUNT }) }))).Role!;
    const issued = await app.roleCredentials.issueForService(taskRole.Arn!, { sessionName: 'task/abc', service: 'ecs-tasks.amazonaws.com' });
    assert.match(issued.accessKeyId, /^ASIA/);
    const id = await sts(issued).send(new GetCallerIdentityCommand({}));
    assert.equal(id.Arn, `arn:aws:sts::${ACCOUNT}:assumed-role/task-role/task-abc`);
    await assert.rejects(app.roleCredentials.issueForService(userRole.Arn!, { sessionName: 't', service: 'ecs-tasks.amazonaws.com' }), /not authorized to perform: sts:AssumeRole/);
    await assert.rejects(app.roleCredentials.issueForService(`arn:aws:iam::${ACCOUNT}:role/none`, { sessionName: 't', service: 'ecs-tasks.amazonaws.com' }), /not authorized/);
  });
});
