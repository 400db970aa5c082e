/**
 * IAM policies enforced end to end, with real clients: the root key (AKIDTEST) creates IAM users
 * and their policies over the IAM API, and each user's own access key then drives the SDK v3,
 * the AWS CLI v1 and v2 and the docker CLI. Covers an allow scoped to one cluster (ecs:cluster),
 * an explicit deny winning, iam:PassRole for a task role, AmazonEC2ContainerRegistryReadOnly
 * (pull yes, push no, on the ECR API and with docker), ECR repository policies, and AWS's
 * AccessDenied wording; the matrix at the end asks one allowed and one denied call of every
 * service (ECS, ECR, IAM, STS).
 */
import { CreateClusterCommand, ECSClient, ListClustersCommand, RegisterTaskDefinitionCommand, RunTaskCommand, DescribeClustersCommand, DeleteClusterCommand } from '@aws-sdk/client-ecs';
import { BatchGetImageCommand, CreateRepositoryCommand, DescribeRepositoriesCommand, ECRClient, GetAuthorizationTokenCommand, InitiateLayerUploadCommand, PutImageCommand, SetRepositoryPolicyCommand } from '@aws-sdk/client-ecr';
import { TagUserCommand, AddUserToGroupCommand, CreateGroupCommand, PutGroupPolicyCommand, AttachUserPolicyCommand, CreateAccessKeyCommand, CreateRoleCommand, CreateUserCommand, GetUserCommand, IAMClient, ListUsersCommand, PutUserPolicyCommand, DeleteUserPolicyCommand } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { credentials as rootCredentials, startDockyard, type TestDockyard } from './helpers/dockyard.js';
import { BB_HTTPD, buildHttpdImage } from './helpers/images.js';
import { AdminClient } from '../src/cli/admin-client.js';

let d: TestDockyard;
let iam: IAMClient;
let account: string;
const region = 'us-east-1';
type Creds = { accessKeyId: string; secretAccessKey: string };
const clients: { destroy(): void }[] = [];
const dockerConfigs: string[] = [];
const suffix = `${process.pid}`;
const createdImages = new Set<string>();

function sh(file: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {}): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = execFile(file, args, { env: opts.env ?? process.env, timeout: opts.timeoutMs ?? 180_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` });
    });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
  });
}

const sdk = <T extends { destroy(): void }>(C: new (cfg: object) => T, creds: Creds): T => {
  const client = new C({ endpoint: d.endpoint, region, credentials: creds, maxAttempts: 1 });
  clients.push(client);
  return client;
};

/** An IAM user with an access key and the given inline policies and attached managed policies. */
async function user(name: string, inline: Record<string, object> = {}, managed: string[] = []): Promise<Creds> {
  await iam.send(new CreateUserCommand({ UserName: name }));
  for (const [policyName, doc] of Object.entries(inline)) await iam.send(new PutUserPolicyCommand({ UserName: name, PolicyName: policyName, PolicyDocument: JSON.stringify(doc) }));
  for (const arn of managed) await iam.send(new AttachUserPolicyCommand({ UserName: name, PolicyArn: arn }));
  const key = (await iam.send(new CreateAccessKeyCommand({ UserName: name }))).AccessKey!;
  return { accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! };
}

const policy = (...Statement: object[]) => ({ Version: '2012-10-17', Statement });
const arnOf = (name: string) => `arn:aws:iam::${account}:user/${name}`;
const clusterArn = (name: string) => `arn:aws:ecs:${region}:${account}:cluster/${name}`;

/** Rejects with `code` and exactly `message`. */
async function deniedWith(p: Promise<unknown>, code: string, message: string) {
  await assert.rejects(p, (e: { name?: string; message?: string; $metadata?: { httpStatusCode?: number } }) => {
    assert.equal(e.name, code, `${e.name}: ${e.message}`);
    assert.equal(e.message, message);
    return true;
  });
}

/** RunTask got past authorization: with no container instance in the cluster, ECS's own InvalidParameterException follows. */
async function passesAuthorization(p: Promise<unknown>) {
  await assert.rejects(p, (e: { name?: string; message?: string }) => {
    assert.equal(e.name, 'InvalidParameterException', `${e.name}: ${e.message}`);
    assert.equal(e.message, 'No Container Instances were found in your cluster.');
    return true;
  });
}

const cliEnv = (creds: Creds): NodeJS.ProcessEnv => ({ ...d.cliEnv, AWS_ACCESS_KEY_ID: creds.accessKeyId, AWS_SECRET_ACCESS_KEY: creds.secretAccessKey });

before(async () => {
  d = await startDockyard();
  iam = sdk(IAMClient, rootCredentials);
  account = (await sdk(STSClient, rootCredentials).send(new GetCallerIdentityCommand({}))).Account!;
  const ecs = d.ecs;
  for (const name of ['default', 'prod']) await ecs.send(new CreateClusterCommand({ clusterName: name }));
  await ecs.send(new RegisterTaskDefinitionCommand({ family: 'web', containerDefinitions: [{ name: 'web', image: 'busybox', memory: 32 }] }));
  await iam.send(new CreateRoleCommand({ RoleName: 'app-task', AssumeRolePolicyDocument: JSON.stringify(policy({ Effect: 'Allow', Principal: { Service: 'ecs-tasks.amazonaws.com' }, Action: 'sts:AssumeRole' })) }));
  await ecs.send(
    new RegisterTaskDefinitionCommand({ family: 'withrole', taskRoleArn: `arn:aws:iam::${account}:role/app-task`, containerDefinitions: [{ name: 'web', image: 'busybox', memory: 32 }] }),
  );
}, { timeout: 120_000 });

after(async () => {
  for (const ref of createdImages) await sh('docker', ['rmi', ref]);
  for (const c of clients) c.destroy();
  for (const dir of dockerConfigs) rmSync(dir, { recursive: true, force: true });
  await d?.stop();
});

describe('ECS: RunTask allowed on one cluster only, explicit deny, PassRole', { timeout: 120_000 }, () => {
  let alice: Creds;
  before(async () => {
    alice = await user('alice', {
      'run-on-default': policy(
        { Effect: 'Allow', Action: 'ecs:RunTask', Resource: '*', Condition: { ArnEquals: { 'ecs:cluster': `arn:aws:ecs:${region}:*:cluster/default` } } },
        { Effect: 'Allow', Action: ['ecs:Describe*', 'ecs:List*'], Resource: '*' },
      ),
    });
  });

  test('alice runs on the default cluster', async () => {
    await passesAuthorization(sdk(ECSClient, alice).send(new RunTaskCommand({ taskDefinition: 'web', cluster: 'default' })));
  });

  test('alice cannot run on prod: AccessDeniedException with AWS\'s wording (SDK v3)', async () => {
    await deniedWith(
      sdk(ECSClient, alice).send(new RunTaskCommand({ taskDefinition: 'web', cluster: 'prod' })),
      'AccessDeniedException',
      `User: ${arnOf('alice')} is not authorized to perform: ecs:RunTask on resource: arn:aws:ecs:${region}:${account}:task-definition/web:1 because no identity-based policy allows the ecs:RunTask action`,
    );
  });

  test('the AWS CLI v1 and v2 print the same denial', async () => {
    for (const cli of ['aws', '/usr/bin/aws']) {
      const r = await sh(cli, ['--endpoint-url', d.endpoint, 'ecs', 'run-task', '--cluster', 'prod', '--task-definition', 'web'], { env: cliEnv(alice) });
      assert.notEqual(r.code, 0, r.out);
      assert.match(r.out, /An error occurred \(AccessDeniedException\) when calling the RunTask operation: User: arn:aws:iam::\d{12}:user\/alice is not authorized to perform: ecs:RunTask on resource: arn:aws:ecs:us-east-1:\d{12}:task-definition\/web:1 because no identity-based policy allows the ecs:RunTask action/, `${cli}: ${r.out}`);
    }
  });

  test('an explicit deny wins over the allow', async () => {
    await iam.send(new PutUserPolicyCommand({ UserName: 'alice', PolicyName: 'no-web', PolicyDocument: JSON.stringify(policy({ Effect: 'Deny', Action: 'ecs:RunTask', Resource: 'arn:aws:ecs:*:*:task-definition/web:*' })) }));
    try {
      await deniedWith(
        sdk(ECSClient, alice).send(new RunTaskCommand({ taskDefinition: 'web', cluster: 'default' })),
        'AccessDeniedException',
        `User: ${arnOf('alice')} is not authorized to perform: ecs:RunTask on resource: arn:aws:ecs:${region}:${account}:task-definition/web:1 with an explicit deny in an identity-based policy`,
      );
    } finally {
      await iam.send(new DeleteUserPolicyCommand({ UserName: 'alice', PolicyName: 'no-web' }));
    }
    await passesAuthorization(sdk(ECSClient, alice).send(new RunTaskCommand({ taskDefinition: 'web', cluster: 'default' })));
  });

  test('RunTask of a task definition with a task role needs iam:PassRole to ecs-tasks', async () => {
    const bob = await user('bob', { ecs: policy({ Effect: 'Allow', Action: 'ecs:*', Resource: '*' }) });
    await deniedWith(
      sdk(ECSClient, bob).send(new RunTaskCommand({ taskDefinition: 'withrole' })),
      'AccessDeniedException',
      `User: ${arnOf('bob')} is not authorized to perform: iam:PassRole on resource: arn:aws:iam::${account}:role/app-task because no identity-based policy allows the iam:PassRole action`,
    );
    await iam.send(
      new PutUserPolicyCommand({
        UserName: 'bob',
        PolicyName: 'pass',
        PolicyDocument: JSON.stringify(policy({ Effect: 'Allow', Action: 'iam:PassRole', Resource: `arn:aws:iam::${account}:role/app-task`, Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } } })),
      }),
    );
    await passesAuthorization(sdk(ECSClient, bob).send(new RunTaskCommand({ taskDefinition: 'withrole' })));
  });
});

describe('ECR: AmazonEC2ContainerRegistryReadOnly pulls but cannot push; repository policies', { timeout: 300_000 }, () => {
  let carol: Creds;
  let host: string;
  const repo = 'ro/app';
  before(async () => {
    host = `127.0.0.1:${d.port}`;
    carol = await user('carol', {}, ['arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly']);
    await sdk(ECRClient, rootCredentials).send(new CreateRepositoryCommand({ repositoryName: repo }));
  });

  test('ECR API: read calls work, write calls are denied', async () => {
    const ecr = sdk(ECRClient, carol);
    await ecr.send(new GetAuthorizationTokenCommand({}));
    await ecr.send(new DescribeRepositoriesCommand({}));
    await ecr.send(new BatchGetImageCommand({ repositoryName: repo, imageIds: [{ imageTag: 'none' }] }));
    const repoArn = `arn:aws:ecr:${region}:${account}:repository/${repo}`;
    await deniedWith(ecr.send(new InitiateLayerUploadCommand({ repositoryName: repo })), 'AccessDeniedException', `User: ${arnOf('carol')} is not authorized to perform: ecr:InitiateLayerUpload on resource: ${repoArn} because no identity-based policy allows the ecr:InitiateLayerUpload action`);
    await deniedWith(ecr.send(new PutImageCommand({ repositoryName: repo, imageManifest: '{}' })), 'AccessDeniedException', `User: ${arnOf('carol')} is not authorized to perform: ecr:PutImage on resource: ${repoArn} because no identity-based policy allows the ecr:PutImage action`);
    await deniedWith(ecr.send(new CreateRepositoryCommand({ repositoryName: 'carol/new' })), 'AccessDeniedException', `User: ${arnOf('carol')} is not authorized to perform: ecr:CreateRepository on resource: arn:aws:ecr:${region}:${account}:repository/carol/new because no identity-based policy allows the ecr:CreateRepository action`);
  });

  async function login(creds: Creds): Promise<NodeJS.ProcessEnv> {
    const dir = mkdtempSync(join(tmpdir(), 'dockyard-docker-config-'));
    dockerConfigs.push(dir);
    const env = { ...process.env, DOCKER_CONFIG: dir };
    const pw = await sh('aws', ['--endpoint-url', d.endpoint, 'ecr', 'get-login-password'], { env: cliEnv(creds) });
    assert.equal(pw.code, 0, pw.out);
    const r = await sh('docker', ['login', '--username', 'AWS', '--password-stdin', host], { env, input: pw.out.trim() });
    assert.equal(r.code, 0, r.out);
    return env;
  }

  test('docker: root pushes, carol pulls, carol\'s push is denied with IAM\'s wording', async () => {
    buildHttpdImage();
    const ref = `${host}/${repo}:${suffix}`;
    createdImages.add(ref);
    const rootEnv = await login(rootCredentials);
    assert.equal((await sh('docker', ['tag', BB_HTTPD, ref], { env: rootEnv })).code, 0);
    const pushed = await sh('docker', ['push', ref], { env: rootEnv });
    assert.equal(pushed.code, 0, pushed.out);
    assert.equal((await sh('docker', ['rmi', ref])).code, 0);

    const carolEnv = await login(carol);
    const pulled = await sh('docker', ['pull', ref], { env: carolEnv });
    assert.equal(pulled.code, 0, pulled.out);
    const other = `${host}/${repo}:carol-${suffix}`;
    createdImages.add(other);
    await sh('docker', ['tag', BB_HTTPD, other]);
    const push = await sh('docker', ['push', other], { env: carolEnv });
    assert.notEqual(push.code, 0, push.out);
    assert.match(push.out, /denied: User: arn:aws:iam::\d{12}:user\/carol is not authorized to perform: ecr:(PutImage|InitiateLayerUpload)/);
  });

  test('a cross-repository mount needs read access to the source: without it the blob is uploaded, not linked', async () => {
    const frank = await user('frank', {
      push: policy(
        { Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' },
        { Effect: 'Allow', Action: ['ecr:InitiateLayerUpload', 'ecr:UploadLayerPart', 'ecr:CompleteLayerUpload', 'ecr:PutImage', 'ecr:BatchCheckLayerAvailability'], Resource: `arn:aws:ecr:${region}:${account}:repository/frank/*` },
      ),
    });
    await sdk(ECRClient, rootCredentials).send(new CreateRepositoryCommand({ repositoryName: 'frank/app' }));
    const manifest = JSON.parse((await sdk(ECRClient, rootCredentials).send(new BatchGetImageCommand({ repositoryName: repo, imageIds: [{ imageTag: suffix }] }))).images![0]!.imageManifest!);
    const layer = manifest.layers[0].digest as string;
    const token = (await sdk(ECRClient, frank).send(new GetAuthorizationTokenCommand({}))).authorizationData![0]!.authorizationToken!;
    const headers = { authorization: `Basic ${token}` };
    // Reading the source repository is denied outright…
    const head = await fetch(`${d.endpoint}/v2/${repo}/blobs/${layer}`, { method: 'HEAD', headers });
    assert.equal(head.status, 403);
    // …and a mount from it is an ordinary upload (202 with an upload URL), never 201 Created.
    const mount = await fetch(`${d.endpoint}/v2/frank/app/blobs/uploads/?mount=${layer}&from=${repo}`, { method: 'POST', headers });
    assert.equal(mount.status, 202);
    assert.match(mount.headers.get('location') ?? '', /\/v2\/frank\/app\/blobs\/uploads\//);
    // With read access on the source, the same mount links the blob.
    await iam.send(new PutUserPolicyCommand({ UserName: 'frank', PolicyName: 'read', PolicyDocument: JSON.stringify(policy({ Effect: 'Allow', Action: 'ecr:GetDownloadUrlForLayer', Resource: `arn:aws:ecr:${region}:${account}:repository/${repo}` })) }));
    const linked = await fetch(`${d.endpoint}/v2/frank/app/blobs/uploads/?mount=${layer}&from=${repo}`, { method: 'POST', headers });
    assert.equal(linked.status, 201);
  });

  test('a repository policy granting push lets carol push; one denying pull stops her pulls', async () => {
    const root = sdk(ECRClient, rootCredentials);
    await root.send(
      new SetRepositoryPolicyCommand({
        repositoryName: repo,
        policyText: JSON.stringify(policy({ Sid: 'carolpush', Effect: 'Allow', Principal: { AWS: arnOf('carol') }, Action: ['ecr:InitiateLayerUpload', 'ecr:UploadLayerPart', 'ecr:CompleteLayerUpload', 'ecr:PutImage'] })),
      }),
    );
    await sdk(ECRClient, carol).send(new InitiateLayerUploadCommand({ repositoryName: repo }));
    await root.send(new SetRepositoryPolicyCommand({ repositoryName: repo, policyText: JSON.stringify(policy({ Effect: 'Deny', Principal: '*', Action: 'ecr:BatchGetImage' })) }));
    await deniedWith(
      sdk(ECRClient, carol).send(new BatchGetImageCommand({ repositoryName: repo, imageIds: [{ imageTag: 'x' }] })),
      'AccessDeniedException',
      `User: ${arnOf('carol')} is not authorized to perform: ecr:BatchGetImage on resource: arn:aws:ecr:${region}:${account}:repository/${repo} with an explicit deny in a resource-based policy`,
    );
    const env = await login(carol);
    const pull = await sh('docker', ['pull', `${host}/${repo}:${suffix}`], { env });
    assert.notEqual(pull.code, 0, pull.out);
    assert.match(pull.out, /denied: User: arn:aws:iam::\d{12}:user\/carol is not authorized to perform: ecr:BatchGetImage/);
  });
});

describe('authorization matrix: every service, one allowed and one denied call', { timeout: 120_000 }, () => {
  let dave: Creds;
  before(async () => {
    dave = await user('dave', {
      read: policy({ Effect: 'Allow', Action: ['ecs:ListClusters', 'ecr:DescribeRepositories', 'iam:GetUser', 'sts:DecodeAuthorizationMessage'], Resource: '*' }),
    });
  });
  const denial = (action: string, resource: string) => `User: ${arnOf('dave')} is not authorized to perform: ${action} on resource: ${resource} because no identity-based policy allows the ${action} action`;

  test('ECS', async () => {
    await sdk(ECSClient, dave).send(new ListClustersCommand({}));
    await deniedWith(sdk(ECSClient, dave).send(new DescribeClustersCommand({ clusters: ['prod'] })), 'AccessDeniedException', denial('ecs:DescribeClusters', clusterArn('prod')));
    await deniedWith(sdk(ECSClient, dave).send(new DeleteClusterCommand({ cluster: 'prod' })), 'AccessDeniedException', denial('ecs:DeleteCluster', clusterArn('prod')));
  });
  test('ECR', async () => {
    await sdk(ECRClient, dave).send(new DescribeRepositoriesCommand({}));
    await deniedWith(sdk(ECRClient, dave).send(new GetAuthorizationTokenCommand({})), 'AccessDeniedException', denial('ecr:GetAuthorizationToken', '*'));
  });
  test('IAM (AccessDenied, 403), also as the AWS CLI v1 and v2 print it', async () => {
    await sdk(IAMClient, dave).send(new GetUserCommand({}));
    await deniedWith(sdk(IAMClient, dave).send(new ListUsersCommand({})), 'AccessDenied', denial('iam:ListUsers', '*'));
    for (const cli of ['aws', '/usr/bin/aws']) {
      const r = await sh(cli, ['--endpoint-url', d.endpoint, 'iam', 'list-users'], { env: cliEnv(dave) });
      assert.notEqual(r.code, 0, r.out);
      assert.ok(r.out.includes(`An error occurred (AccessDenied) when calling the ListUsers operation: ${denial('iam:ListUsers', '*')}`), `${cli}: ${r.out}`);
    }
    await deniedWith(sdk(IAMClient, dave).send(new CreateUserCommand({ UserName: 'mallory' })), 'AccessDenied', denial('iam:CreateUser', arnOf('mallory')));
  });
  test('STS: GetCallerIdentity needs no permission; AssumeRole does', async () => {
    const me = await sdk(STSClient, dave).send(new GetCallerIdentityCommand({}));
    assert.equal(me.Arn, arnOf('dave'));
    await deniedWith(
      sdk(STSClient, dave).send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${account}:role/app-task`, RoleSessionName: 'dave-session' })),
      'AccessDenied',
      `User: ${arnOf('dave')} is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::${account}:role/app-task`,
    );
  });
  test('a group\'s policies apply to its members, and its Deny too', async () => {
    await iam.send(new CreateGroupCommand({ GroupName: 'ops' }));
    await iam.send(new PutGroupPolicyCommand({ GroupName: 'ops', PolicyName: 'ops', PolicyDocument: JSON.stringify(policy({ Effect: 'Allow', Action: 'ecs:DescribeClusters', Resource: '*' }, { Effect: 'Deny', Action: 'ecs:ListClusters', Resource: '*' })) }));
    await deniedWith(sdk(ECSClient, dave).send(new DescribeClustersCommand({ clusters: ['prod'] })), 'AccessDeniedException', denial('ecs:DescribeClusters', clusterArn('prod')));
    await iam.send(new AddUserToGroupCommand({ GroupName: 'ops', UserName: 'dave' }));
    await sdk(ECSClient, dave).send(new DescribeClustersCommand({ clusters: ['prod'] }));
    await deniedWith(
      sdk(ECSClient, dave).send(new ListClustersCommand({})),
      'AccessDeniedException',
      `User: ${arnOf('dave')} is not authorized to perform: ecs:ListClusters on resource: * with an explicit deny in an identity-based policy`,
    );
  });
  test('aws:PrincipalTag and aws:ResourceTag: a user may describe only clusters tagged with their team', async () => {
    const abac = policy({ Effect: 'Allow', Action: 'ecs:DescribeClusters', Resource: '*', Condition: { StringEquals: { 'aws:ResourceTag/team': '${aws:PrincipalTag/team}' } } });
    const erin = await user('erin', { abac });
    await iam.send(new TagUserCommand({ UserName: 'erin', Tags: [{ Key: 'team', Value: 'blue' }] }));
    await d.ecs.send(new CreateClusterCommand({ clusterName: 'blue', tags: [{ key: 'team', value: 'blue' }] }));
    await d.ecs.send(new CreateClusterCommand({ clusterName: 'red', tags: [{ key: 'team', value: 'red' }] }));
    await sdk(ECSClient, erin).send(new DescribeClustersCommand({ clusters: ['blue'] }));
    await deniedWith(
      sdk(ECSClient, erin).send(new DescribeClustersCommand({ clusters: ['red'] })),
      'AccessDeniedException',
      `User: ${arnOf('erin')} is not authorized to perform: ecs:DescribeClusters on resource: ${clusterArn('red')} because no identity-based policy allows the ecs:DescribeClusters action`,
    );
  });
  test('the root key is allowed everything', async () => {
    await d.ecs.send(new DescribeClustersCommand({ clusters: ['prod'] }));
    await iam.send(new ListUsersCommand({}));
  });
});


describe('the join-token API: dockyard:* actions, as the ECS and ECR APIs answer them', () => {
  test('a user allowed dockyard:CreateJoinToken creates a token but may not list them; a user with no policy may not create one', async () => {
    const admin = (creds: Creds) => new AdminClient({ endpoint: d.endpoint, region, credentials: creds });
    const maker = admin(await user(`token-maker-${suffix}`, { tokens: policy({ Effect: 'Allow', Action: 'dockyard:CreateJoinToken', Resource: '*' }) }));
    const nobody = admin(await user(`no-tokens-${suffix}`));
    try {
      assert.match((await maker.createJoinToken({ description: 'by a user' })).token, /^dyjt\./);
      const denied = (action: string, name: string) => (e: Error & { code?: string; status?: number }) => {
        assert.equal(e.code, 'AccessDeniedException');
        assert.equal(e.status, 400);
        // The admin client's message leads with the code.
        assert.equal(e.message, `AccessDeniedException: User: ${arnOf(name)} is not authorized to perform: dockyard:${action} on resource: * because no identity-based policy allows the dockyard:${action} action`);
        return true;
      };
      await assert.rejects(maker.listJoinTokens(), denied('ListJoinTokens', `token-maker-${suffix}`));
      await assert.rejects(nobody.createJoinToken({ description: 'denied' }), denied('CreateJoinToken', `no-tokens-${suffix}`));
    } finally {
      await maker.close();
      await nobody.close();
    }
  });
});
