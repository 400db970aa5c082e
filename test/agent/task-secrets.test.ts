/**
 * Container `secrets` end to end with real Docker: SSM parameters (by name and ARN, String and
 * SecureString) and Secrets Manager secrets (whole, `:json-key`, `:json-key:AWSPREVIOUS`,
 * `:::version-id`) reach a busybox container as environment variables, read as the task's
 * execution role; a role that may not read them, and a missing parameter, stop the task with
 * ECS's ResourceInitializationError. No value shows up in the ECS API's answers or Dockyard's
 * logs (debug level). Private registry credentials (`repositoryCredentials`) reach the pull,
 * checked on the simulated runtime. GET task-secrets answers only the agent the task is on.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { DescribeTaskDefinitionCommand, DescribeTasksCommand, ListTasksCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import { CreateRoleCommand, IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { CreateRepositoryCommand, ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { execFile } from 'node:child_process';
import { docker } from '../helpers/docker.js';
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { request } from 'undici';
import { SimulatedRuntime } from '../../src/agent/index.js';
import type { RegistryAuth } from '../../src/protocol/index.js';
import { credentials, type TestDockyard } from '../helpers/dockyard.js';
import { buildHttpdImage } from '../helpers/images.js';
import { isRunning, isStopped, readWhen, register, run, sh, simulatedAgent, startWithAgent, TRUST_ECS_TASKS, waitTask } from './helpers.js';

const marker = randomBytes(6).toString('hex');
const VALUES = {
  plain: `plain-${marker}`,
  secure: `secure-${marker}`,
  user: `user-${marker}`,
  pass1: `pass1-${marker}`,
  pass2: `pass2-${marker}`,
};

describe('task secrets injected by the agent (real containers)', () => {
  let d: TestDockyard;
  let image: string;
  let ssm: SSMClient;
  let sm: SecretsManagerClient;
  let iam: IAMClient;
  const logs: string[] = [];
  const out = mkdtempSync(join(tmpdir(), 'dockyard-secrets-'));
  chmodSync(out, 0o777);
  let secretArn: string;
  let firstVersion: string;
  let readerRole: string;
  let blindRole: string;

  before(async () => {
    image = buildHttpdImage();
    const stream = new Writable({
      write(chunk, _enc, done) {
        logs.push(String(chunk));
        done();
      },
    });
    d = await startWithAgent({ agent: { hostSafety: { allowHostPaths: [out] } }, app: { logger: { level: 'debug', stream } } });
    const client = { endpoint: d.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 };
    ssm = new SSMClient(client);
    sm = new SecretsManagerClient(client);
    iam = new IAMClient(client);
    await ssm.send(new PutParameterCommand({ Name: '/e2e/plain', Value: VALUES.plain, Type: 'String' }));
    await ssm.send(new PutParameterCommand({ Name: '/e2e/secure', Value: VALUES.secure, Type: 'SecureString' }));
    const created = await sm.send(new CreateSecretCommand({ Name: 'e2e/db', SecretString: JSON.stringify({ user: VALUES.user, pass: VALUES.pass1 }) }));
    secretArn = created.ARN!;
    firstVersion = created.VersionId!;
    await sm.send(new PutSecretValueCommand({ SecretId: secretArn, SecretString: JSON.stringify({ user: VALUES.user, pass: VALUES.pass2 }) }));
    readerRole = (await iam.send(new CreateRoleCommand({ RoleName: 'secrets-reader', AssumeRolePolicyDocument: TRUST_ECS_TASKS }))).Role!.Arn!;
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: 'secrets-reader',
        PolicyName: 'read',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Action: 'ssm:GetParameters', Resource: 'arn:aws:ssm:us-east-1:000000000000:parameter/e2e/*' },
            { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:e2e/db-??????' },
          ],
        }),
      }),
    );
    blindRole = (await iam.send(new CreateRoleCommand({ RoleName: 'secrets-blind', AssumeRolePolicyDocument: TRUST_ECS_TASKS }))).Role!.Arn!;
  });

  after(async () => {
    ssm?.destroy();
    sm?.destroy();
    iam?.destroy();
    await d?.stop();
    rmSync(out, { recursive: true, force: true });
  });

  const secretsOf = () => [
    { name: 'S_PLAIN', valueFrom: '/e2e/plain' },
    { name: 'S_SECURE', valueFrom: 'arn:aws:ssm:us-east-1:000000000000:parameter/e2e/secure' },
    { name: 'S_WHOLE', valueFrom: secretArn },
    { name: 'S_USER', valueFrom: `${secretArn}:user::` },
    { name: 'S_PASS', valueFrom: `${secretArn}:pass::` },
    { name: 'S_PREV_PASS', valueFrom: `${secretArn}:pass:AWSPREVIOUS:` },
    { name: 'S_FIRST', valueFrom: `${secretArn}:pass::${firstVersion}` },
  ];

  it('a container gets the values as environment variables, read as its execution role; nothing leaks', async () => {
    const family = await register(
      d,
      [
        {
          name: 'app',
          image,
          memory: 32,
          stopTimeout: 2,
          secrets: secretsOf(),
          environment: [{ name: 'PLAIN_ENV', value: 'visible' }],
          mountPoints: [{ sourceVolume: 'out', containerPath: '/out' }],
          ...sh('env | grep ^S_ | sort > /out/env.tmp && mv /out/env.tmp /out/env.txt; exec sleep 3600'),
        },
      ],
      { volumes: [{ name: 'out', host: { sourcePath: out } }], executionRoleArn: readerRole },
    );
    const arn = await run(d, family);
    await waitTask(d, arn, isRunning);
    const env = Object.fromEntries(
      (await readWhen(join(out, 'env.txt'), (s) => s.includes('S_WHOLE')))
        .trim()
        .split('\n')
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    assert.deepEqual(env, {
      S_FIRST: VALUES.pass1,
      S_PASS: VALUES.pass2,
      S_PLAIN: VALUES.plain,
      S_PREV_PASS: VALUES.pass1,
      S_SECURE: VALUES.secure,
      S_USER: VALUES.user,
      S_WHOLE: JSON.stringify({ user: VALUES.user, pass: VALUES.pass2 }),
    });

    // The ECS API shows references, never values; nor do Dockyard's own logs.
    const described = JSON.stringify(await d.ecs.send(new DescribeTasksCommand({ cluster: 'default', tasks: [arn], include: ['TAGS'] })));
    const definition = JSON.stringify(await d.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: family })));
    assert.ok(definition.includes('/e2e/plain'), 'the definition shows the reference');
    await d.ecs.send(new StopTaskCommand({ cluster: 'default', task: arn, reason: 'done' }));
    await waitTask(d, arn, isStopped);
    const listed = JSON.stringify(await d.ecs.send(new ListTasksCommand({ cluster: 'default', desiredStatus: 'STOPPED' })));
    assert.ok(logs.length > 0, 'the logs were captured');
    const everything = [described, definition, listed, logs.join('')].join('\n');
    for (const [k, v] of Object.entries(VALUES)) assert.ok(!everything.includes(v), `${k} leaked`);
  });

  it('an execution role that may not read a secret stops the task with ECS\'s reason, naming no value', async () => {
    const family = await register(d, [{ name: 'app', image, memory: 32, secrets: secretsOf().slice(2, 3), ...sh('exec sleep 3600') }], { executionRoleArn: blindRole });
    const arn = await run(d, family);
    const t = await waitTask(d, arn, isStopped);
    assert.equal(t.stopCode, 'TaskFailedToStart');
    assert.match(
      t.stoppedReason!,
      /^ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: service call has been retried 1 time\(s\): AccessDeniedException: User: arn:aws:sts::000000000000:assumed-role\/secrets-blind\/[0-9a-f]{32} is not authorized to perform: secretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:us-east-1:000000000000:secret:e2e\/db-\w{6}/,
    );
    assert.equal(t.containers![0]!.runtimeId, undefined, 'nothing was created');
  });

  it('a missing parameter or JSON key, or an execution role STS refuses, stops the task with ResourceInitializationError', async () => {
    const missing = await register(d, [{ name: 'app', image, memory: 32, secrets: [{ name: 'X', valueFrom: '/e2e/missing' }], ...sh('exec sleep 3600') }], { executionRoleArn: readerRole });
    const t1 = await waitTask(d, await run(d, missing), isStopped);
    assert.equal(
      t1.stoppedReason,
      'ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secrets from ssm: service call has been retried 1 time(s): invalid ssm parameters: /e2e/missing',
    );
    const noKey = await register(d, [{ name: 'app', image, memory: 32, secrets: [{ name: 'X', valueFrom: `${secretArn}:nokey::` }], ...sh('exec sleep 3600') }], { executionRoleArn: readerRole });
    const t2 = await waitTask(d, await run(d, noKey), isStopped);
    assert.equal(
      t2.stoppedReason,
      'ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: retrieved secret from Secrets Manager did not contain json key nokey',
    );
    // A role ECS tasks may not assume (its trust policy names another service).
    const untrusted = (
      await iam.send(
        new CreateRoleCommand({
          RoleName: 'secrets-untrusted',
          AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }] }),
        }),
      )
    ).Role!.Arn!;
    const noTrust = await register(d, [{ name: 'app', image, memory: 32, secrets: secretsOf().slice(0, 1), ...sh('exec sleep 3600') }], { executionRoleArn: untrusted });
    const t3 = await waitTask(d, await run(d, noTrust), isStopped);
    assert.equal(
      t3.stoppedReason,
      'ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: the task execution role could not be assumed by ecs-tasks.amazonaws.com',
    );
    for (const v of Object.values(VALUES)) assert.ok(!JSON.stringify([t1, t2, t3]).includes(v));
  });

  it('repositoryCredentials: the image is pulled with the secret\'s username and password (wrong ones fail the pull)', async () => {
    const ecr = new ECRClient({ endpoint: d.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
    const dockerConfig = mkdtempSync(join(tmpdir(), 'dockyard-secrets-docker-'));
    const ref = `127.0.0.1:${d.port}/secrets/app:${process.pid}`;
    try {
      await ecr.send(new CreateRepositoryCommand({ repositoryName: 'secrets/app' }));
      const token = (await ecr.send(new GetAuthorizationTokenCommand({}))).authorizationData![0]!.authorizationToken!;
      const password = Buffer.from(token, 'base64').toString('utf8').split(':')[1]!;
      // Asynchronously: the registry answering docker runs in this process.
      const dockerAs = (...args: string[]) =>
        new Promise<void>((resolve, reject) => {
          const child = execFile('docker', ['--config', dockerConfig, ...args], { timeout: 120_000 }, (e, _out, err) => (e ? reject(new Error(`docker ${args[0]}: ${err}`)) : resolve()));
          child.stdin!.end(password);
        });
      await dockerAs('login', '--username', 'AWS', '--password-stdin', `127.0.0.1:${d.port}`);
      docker('tag', image, ref);
      await dockerAs('push', ref);
      docker('rmi', ref);
      const good = (await sm.send(new CreateSecretCommand({ Name: 'e2e/registry', SecretString: JSON.stringify({ username: 'AWS', password }) }))).ARN!;
      const bad = (await sm.send(new CreateSecretCommand({ Name: 'e2e/registry-bad', SecretString: JSON.stringify({ username: 'AWS', password: 'not-a-token' }) }))).ARN!;
      await iam.send(
        new PutRolePolicyCommand({
          RoleName: 'secrets-reader',
          PolicyName: 'registry',
          PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:e2e/registry*' }] }),
        }),
      );
      const refused = await register(d, [{ name: 'app', image: ref, memory: 16, repositoryCredentials: { credentialsParameter: bad } }], { executionRoleArn: readerRole });
      const failed = await waitTask(d, await run(d, refused), isStopped);
      assert.match(failed.stoppedReason!, /^CannotPullContainerError: /);
      assert.ok(!failed.stoppedReason!.includes('not-a-token'));
      const allowed = await register(d, [{ name: 'app', image: ref, memory: 16, stopTimeout: 2, repositoryCredentials: { credentialsParameter: good } }], { executionRoleArn: readerRole });
      const arn = await run(d, allowed);
      await waitTask(d, arn, isRunning, 90_000);
      await d.ecs.send(new StopTaskCommand({ cluster: 'default', task: arn }));
    } finally {
      ecr.destroy();
      try {
        docker('rmi', ref);
      } catch {
        // not pulled
      }
      rmSync(dockerConfig, { recursive: true, force: true });
    }
  });

  it('a definition with secrets needs an execution role, as in ECS', async () => {
    await assert.rejects(register(d, [{ name: 'app', image, memory: 32, secrets: [] }]), (e: Error) =>
      e.name === 'ClientException' && e.message === "When you are specifying container secrets, you must also specify a value for 'executionRoleArn'.",
    );
  });

  it('GET task-secrets answers only the agent the task is placed on', async () => {
    const family = await register(d, [{ name: 'app', image, memory: 32, stopTimeout: 2, secrets: secretsOf().slice(0, 1), ...sh('exec sleep 3600') }], { executionRoleArn: readerRole });
    const arn = await run(d, family);
    await waitTask(d, arn, isRunning);
    const own = d.app.agent!.containerInstanceArn!;
    const get = (bearer: string | undefined, instance: string) =>
      request(`${d.endpoint}/agent/v1/task-secrets?${new URLSearchParams({ containerInstanceArn: instance, taskArn: arn })}`, { headers: bearer ? { authorization: `Bearer ${bearer}` } : {} });
    const anonymous = await get(undefined, own);
    assert.equal(anonymous.statusCode, 401);
    await anonymous.body.dump();
    // Another host's agent, with its own valid credential: not its task.
    const other = await simulatedAgent(d, { cluster: 'default', stateDir: mkdtempSync(join(tmpdir(), 'dockyard-other-agent-')) });
    await other.start();
    try {
      const credential = JSON.parse(readFileSync(join((other as unknown as { o: { stateDir: string } }).o.stateDir, 'credential.json'), 'utf8')).credential as string;
      const foreign = await get(credential, other.containerInstanceArn!);
      assert.equal(foreign.statusCode, 404);
      assert.ok(!(await foreign.body.text()).includes(VALUES.plain));
      const impersonate = await get(credential, own);
      assert.equal(impersonate.statusCode, 403);
      await impersonate.body.dump();
    } finally {
      await other.close();
    }
    await d.ecs.send(new StopTaskCommand({ cluster: 'default', task: arn }));
  });
});

describe('private registry credentials (simulated runtime)', () => {
  it('repositoryCredentials.credentialsParameter reaches the pull; a secret that is not {username, password} fails the task', async () => {
    const pulls: { image: string; auth?: RegistryAuth }[] = [];
    class RecordingRuntime extends SimulatedRuntime {
      override async pull(image: string, auth: RegistryAuth | undefined) {
        pulls.push({ image, auth });
        return super.pull(image, auth);
      }
    }
    const d = await startWithAgent({ app: { agentRuntime: new RecordingRuntime({ cpus: 2, memoryMiB: 4096 }) } });
    const sm = new SecretsManagerClient({ endpoint: d.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
    try {
      const good = (await sm.send(new CreateSecretCommand({ Name: 'registry/good', SecretString: JSON.stringify({ username: 'robot', password: `pw-${marker}` }) }))).ARN!;
      const bad = (await sm.send(new CreateSecretCommand({ Name: 'registry/bad', SecretString: 'not json' }))).ARN!;
      const ok = await register(d, [{ name: 'app', image: 'registry.example.invalid/team/app:1', memory: 32, repositoryCredentials: { credentialsParameter: good } }]);
      await waitTask(d, await run(d, ok), isRunning);
      assert.deepEqual(pulls.find((p) => p.image === 'registry.example.invalid/team/app:1')?.auth, { username: 'robot', password: `pw-${marker}` });
      const notCreds = await register(d, [{ name: 'app', image: 'registry.example.invalid/team/app:2', memory: 32, repositoryCredentials: { credentialsParameter: bad } }]);
      const t = await waitTask(d, await run(d, notCreds), isStopped);
      assert.match(t.stoppedReason!, /^ResourceInitializationError: unable to pull secrets or registry auth: .*is not a JSON object with "username" and "password"$/);
      assert.ok(!t.stoppedReason!.includes('not json'));
      assert.equal(pulls.filter((p) => p.image.endsWith(':2')).length, 0, 'nothing pulled without credentials');
    } finally {
      sm.destroy();
      await d.stop();
    }
  });
});
