/**
 * Authenticated agents: each attack that worked against protocol 1.0 from anyone who reached
 * the port, replayed against 1.1, now fails to do harm. Agents run the SIMULATED runtime (no
 * Docker); forged calls are raw HTTP, as an attacker would send them. Also: join tokens
 * (revoked, expired, used up, limits), the `dockyard join-token` CLI round trip, and an agent
 * restart that reuses its saved credential.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CreateClusterCommand,
  DescribeContainerInstancesCommand,
  ListContainerInstancesCommand,
  RegisterContainerInstanceCommand,
  RunTaskCommand,
} from '@aws-sdk/client-ecs';
import { Agent, SimulatedRuntime } from '../../src/agent/index.js';
import { AdminClient } from '../../src/cli/admin-client.js';
import { credentials, startDockyard, type TestDockyard } from '../helpers/dockyard.js';
import { describe as describeTask, isRunning, register, simulatedAgent, sleep, waitTask } from './helpers.js';

const CLUSTER = 'guarded';
const BIN = new URL('../../bin/dockyard.mjs', import.meta.url).pathname;

interface Answer {
  status: number;
  text: string;
  body: { error?: string; message?: string; [k: string]: unknown };
}

const registration = (instanceId: string, memory = 4096, cluster = CLUSTER) => ({
  protocolVersion: '1.1',
  instanceId,
  cluster,
  hostname: 'attacker',
  resources: { cpu: 2048, memory, ports: ['22'], portsUdp: [] },
  attributes: [{ name: 'ecs.os-type', value: 'linux' }],
  versionInfo: { agentVersion: '0.1.0' },
});

describe('authenticated agents', () => {
  let d: TestDockyard;
  let admin: AdminClient;
  let joinToken: string;
  const root = mkdtempSync(join(tmpdir(), 'dockyard-agent-auth-'));
  const agents: Agent[] = [];
  let a: Agent;
  let b: Agent;
  let taskOnB: string;

  const call = async (method: 'GET' | 'POST', path: string, opts: { bearer?: string; body?: unknown } = {}): Promise<Answer> => {
    const res = await fetch(`${d.endpoint}/agent/v1${path}`, {
      method,
      headers: { ...(opts.bearer ? { authorization: `Bearer ${opts.bearer}` } : {}), ...(opts.body ? { 'content-type': 'application/json' } : {}) },
      body: opts.body ? JSON.stringify(opts.body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, text, body: text ? JSON.parse(text) : {} };
  };
  const stateDirs = new Map<Agent, string>();
  const savedCredential = (agent: Agent) => JSON.parse(readFileSync(join(stateDirs.get(agent)!, 'credential.json'), 'utf8')).credential as string;
  const startAgent = async (name: string, o: { joinToken?: string; role?: string; memoryMiB?: number } = {}) => {
    const agent = await simulatedAgent(d, {
      cluster: CLUSTER,
      stateDir: join(root, name),
      runtime: new SimulatedRuntime({ cpus: 2, memoryMiB: o.memoryMiB ?? 4096 }),
      pollWaitMs: 5000,
      cleanupDelayMs: 60_000,
      joinToken: 'joinToken' in o ? o.joinToken : joinToken,
      host: { fargateCapacity: false, extraAttributes: o.role ? [{ name: 'role', value: o.role }] : [] },
    });
    agents.push(agent);
    stateDirs.set(agent, join(root, name));
    await agent.start();
    return agent;
  };
  const instances = async () => (await d.ecs.send(new ListContainerInstancesCommand({ cluster: CLUSTER }))).containerInstanceArns ?? [];
  const resourcesOf = async (arn: string) => {
    const ci = (await d.ecs.send(new DescribeContainerInstancesCommand({ cluster: CLUSTER, containerInstances: [arn] }))).containerInstances![0]!;
    return Object.fromEntries(ci.registeredResources!.map((r) => [r.name, r.integerValue ?? r.stringSetValue]));
  };

  before(async () => {
    d = await startDockyard({ agentHeartbeatIntervalMs: 200, agentHeartbeatTtlMs: 2000 });
    await d.ecs.send(new CreateClusterCommand({ clusterName: CLUSTER }));
    admin = new AdminClient({ endpoint: d.endpoint, region: 'us-east-1', credentials });
    joinToken = (await admin.createJoinToken({ description: 'agents A and B' })).token;
    a = await startAgent('a', { role: 'a' });
    b = await startAgent('b', { role: 'b' });
    const family = await register(d, [{ name: 'db', image: 'sim:1', memory: 256, environment: [{ name: 'DB_PASSWORD', value: 'hunter2-secret' }], portMappings: [{ containerPort: 5432 }] }]);
    const run = await d.ecs.send(new RunTaskCommand({ cluster: CLUSTER, taskDefinition: family, placementConstraints: [{ type: 'memberOf', expression: 'attribute:role == b' }] }));
    taskOnB = run.tasks![0]!.taskArn!;
    await waitTask(d, taskOnB, isRunning, 10_000);
  });

  after(async () => {
    for (const agent of agents) await agent.close();
    await admin?.close();
    await d?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('refuses register, heartbeat, assignments and reports without a credential (401), and leaks nothing', async () => {
    const arnB = b.containerInstanceArn!;
    const reg = await call('POST', '/register', { body: registration(b.instanceId, 99_999_999) });
    assert.equal(reg.status, 401);
    assert.equal(reg.body.error, 'Unauthorized');
    // Even a malformed body: no credential is answered first.
    assert.equal((await call('POST', '/register', { body: { protocolVersion: 'x' } })).status, 401);
    assert.equal((await call('POST', '/heartbeat', { body: { containerInstanceArn: arnB } })).status, 401);
    const poll = await call('GET', `/assignments?containerInstanceArn=${encodeURIComponent(arnB)}&waitMs=0`);
    assert.equal(poll.status, 401);
    assert.doesNotMatch(poll.text, /hunter2|password|tasks/i);
    const forged = await call('POST', '/reports', {
      body: { containerInstanceArn: arnB, reports: [{ taskArn: taskOnB, seq: Date.now() * 10, lastStatus: 'STOPPED', stopCode: 'EssentialContainerExited', containers: [{ name: 'db', lastStatus: 'STOPPED', exitCode: 1 }] }] },
    });
    assert.equal(forged.status, 401);
    for (const bad of ['garbage', 'dyac.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', `dyjt.000000000000.${'A'.repeat(43)}`]) {
      assert.equal((await call('GET', `/assignments?containerInstanceArn=${encodeURIComponent(arnB)}&waitMs=0`, { bearer: bad })).status, 401, bad);
    }
    // The task B runs is untouched, and B's resources are what B declared.
    const t = await describeTask(d, taskOnB);
    assert.equal(t.lastStatus, 'RUNNING');
    assert.equal(t.desiredStatus, 'RUNNING');
    assert.equal((await resourcesOf(arnB)).MEMORY, 4096);
  });

  it('refuses a fake host with no join token, an unknown one, or a join token passed off as a credential', async () => {
    const before = await instances();
    const fakeId = 'fa4e0000000000000000000000000001';
    assert.equal((await call('POST', '/register', { body: registration(fakeId) })).status, 401);
    assert.equal((await call('POST', '/register', { bearer: `dyjt.123456789abc.${'x'.repeat(43)}`, body: registration(fakeId) })).status, 401);
    assert.equal((await call('POST', '/register', { bearer: 'dyac.not-a-credential', body: registration(fakeId) })).status, 401);
    // A join token is not a credential: polling with it is refused too.
    assert.equal((await call('GET', `/assignments?containerInstanceArn=${encodeURIComponent(b.containerInstanceArn!)}&waitMs=0`, { bearer: joinToken })).status, 401);
    assert.deepEqual(await instances(), before);
    // The agent itself says why it cannot join.
    await assert.rejects(startAgent('no-token', { joinToken: undefined }), /no join token/i);
  });

  it("does not let agent A read B's assignments, heartbeat for B, or report for B's task", async () => {
    const credA = savedCredential(a);
    const arnA = a.containerInstanceArn!;
    const arnB = b.containerInstanceArn!;
    const poll = await call('GET', `/assignments?containerInstanceArn=${encodeURIComponent(arnB)}&waitMs=0`, { bearer: credA });
    assert.equal(poll.status, 403);
    assert.equal(poll.body.error, 'AccessDenied');
    assert.doesNotMatch(poll.text, /hunter2/);
    assert.equal((await call('POST', '/heartbeat', { bearer: credA, body: { containerInstanceArn: arnB } })).status, 403);

    const forgedRunning = {
      taskArn: taskOnB,
      seq: Date.now() * 10,
      lastStatus: 'RUNNING',
      containers: [{ name: 'db', lastStatus: 'RUNNING', networkBindings: [{ bindIP: '6.6.6.6', containerPort: 5432, hostPort: 5432, protocol: 'tcp' }] }],
    };
    const forgedStop = { taskArn: taskOnB, seq: Date.now() * 10 + 1, lastStatus: 'STOPPED', stopCode: 'EssentialContainerExited', containers: [{ name: 'db', lastStatus: 'STOPPED', exitCode: 1 }] };
    // As B: refused outright.
    const asB = await call('POST', '/reports', { bearer: credA, body: { containerInstanceArn: arnB, reports: [forgedRunning, forgedStop] } });
    assert.equal(asB.status, 403);
    // As itself: B's task is not A's, so the reports are unknown and not applied.
    const asA = await call('POST', '/reports', { bearer: credA, body: { containerInstanceArn: arnA, reports: [forgedStop] } });
    assert.equal(asA.status, 200);
    assert.deepEqual(asA.body, { acknowledged: [], unknown: [taskOnB] });

    const t = await describeTask(d, taskOnB);
    assert.equal(t.lastStatus, 'RUNNING');
    assert.notEqual(t.containers![0]!.networkBindings![0]!.bindIP, '6.6.6.6');
    // A's own assignments hold nothing of B's.
    const own = await call('GET', `/assignments?containerInstanceArn=${encodeURIComponent(arnA)}&waitMs=0`, { bearer: credA });
    assert.equal(own.status, 200);
    assert.deepEqual(own.body.tasks, []);
  });

  it("cannot rewrite another instance's identity or inflate resources; tasks of 10,000 MiB find no room", async () => {
    const credA = savedCredential(a);
    const arnB = b.containerInstanceArn!;
    // A's credential with B's instance id.
    const stolen = await call('POST', '/register', { bearer: credA, body: registration(b.instanceId, 8192) });
    assert.equal(stolen.status, 403);
    // A fresh join token with B's instance id: a join token only brings in new instances.
    const fresh = (await admin.createJoinToken({ description: 'attacker got this one' })).token;
    const takeover = await call('POST', '/register', { bearer: fresh, body: registration(b.instanceId, 8192) });
    assert.equal(takeover.status, 403);
    assert.match(takeover.body.message!, /already registered/);
    // Out of any sane range, even for its own instance.
    const huge = await call('POST', '/register', { bearer: credA, body: registration(a.instanceId, 99_999_999) });
    assert.equal(huge.status, 400);
    // Nor through the ECS API (re-registering B's ARN with bigger resources).
    await assert.rejects(
      d.ecs.send(new RegisterContainerInstanceCommand({ cluster: CLUSTER, containerInstanceArn: arnB, totalResources: [{ name: 'MEMORY', type: 'INTEGER', integerValue: 99_999_999 }] })),
      (e: Error) => e.name === 'ClientException',
    );
    assert.equal((await resourcesOf(arnB)).MEMORY, 4096);
    assert.equal((await resourcesOf(a.containerInstanceArn!)).MEMORY, 4096);

    const family = await register(d, [{ name: 'big', image: 'sim:1', memory: 10_000 }]);
    const run = await d.ecs.send(new RunTaskCommand({ cluster: CLUSTER, taskDefinition: family, count: 10 }));
    assert.deepEqual(run.tasks, []);
    assert.ok(run.failures!.length > 0 && run.failures!.every((f) => f.reason === 'RESOURCE:MEMORY'), JSON.stringify(run.failures));
  });

  it("bounds what a host declares by its join token's limits, now and on every later registration", async () => {
    const limited = (await admin.createJoinToken({ description: 'small hosts', maxMemoryMiB: 2048, maxCpu: 4096 })).token;
    await assert.rejects(startAgent('too-big', { joinToken: limited, memoryMiB: 8192 }), (e: Error & { status?: number }) => e.status === 403 && /at most 2048/.test(e.message));
    const small = await startAgent('small', { joinToken: limited, memoryMiB: 2048 });
    assert.equal((await resourcesOf(small.containerInstanceArn!)).MEMORY, 2048);
    // Its own credential carries the token's limits.
    const inflate = await call('POST', '/register', { bearer: savedCredential(small), body: registration(small.instanceId, 4096) });
    assert.equal(inflate.status, 403);
    assert.equal((await resourcesOf(small.containerInstanceArn!)).MEMORY, 2048);
  });

  it('refuses revoked, expired and used-up join tokens', async () => {
    const revoked = await admin.createJoinToken({ description: 'to revoke' });
    await admin.revokeJoinToken(revoked.tokenId);
    const expired = await admin.createJoinToken({ description: 'short-lived', expiresInSeconds: 1 });
    const once = await admin.createJoinToken({ description: 'one host', maxUses: 1 });
    await startAgent('first-of-once', { joinToken: once.token });
    await sleep(1100);
    const before = await instances();
    for (const [i, [name, token]] of ([['revoked', revoked.token], ['expired', expired.token], ['second-of-once', once.token]] as const).entries()) {
      const r = await call('POST', '/register', { bearer: token, body: registration(`0000000000000000000000000000000${i}`) });
      assert.equal(r.status, 401, name);
      assert.match(r.body.message!, /not valid/);
    }
    assert.deepEqual(await instances(), before);
    const listed = Object.fromEntries((await admin.listJoinTokens()).map((t) => [t.tokenId, t]));
    assert.equal(listed[revoked.tokenId]!.status, 'REVOKED');
    assert.equal(listed[expired.tokenId]!.status, 'EXPIRED');
    assert.equal(listed[once.tokenId]!.status, 'EXHAUSTED');
    assert.equal(listed[once.tokenId]!.uses, 1);
  });

  it('restarts an agent with its saved credential (mode 0600) and no join token', async () => {
    const file = join(root, 'a', 'credential.json');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const saved = readFileSync(file, 'utf8');
    assert.match(saved, /"credential":"dyac\./);
    assert.doesNotMatch(saved, /dyjt\./, 'the join token is not kept');
    const arn = a.containerInstanceArn;
    await a.close();
    const again = await startAgent('a', { joinToken: undefined, role: 'a' });
    assert.equal(again.containerInstanceArn, arn);
    assert.equal(readFileSync(file, 'utf8'), saved, 'the same credential, reused');
    const ci = (await d.ecs.send(new DescribeContainerInstancesCommand({ cluster: CLUSTER, containerInstances: [arn!] }))).containerInstances![0]!;
    assert.equal(ci.agentConnected, true);
    assert.equal(ci.status, 'ACTIVE');
  });

  it('keeps the join-token API to signed callers, lists without secrets, and answers bad input as AWS does', async () => {
    const unsigned = await fetch(`${d.endpoint}/_dockyard/join-tokens`, { method: 'POST', body: '{}' });
    assert.equal(unsigned.status, 400);
    assert.equal(unsigned.headers.get('x-amzn-errortype'), 'MissingAuthenticationTokenException');
    assert.equal((await fetch(`${d.endpoint}/_dockyard/join-tokens`)).headers.get('x-amzn-errortype'), 'MissingAuthenticationTokenException');
    // Signed with the wrong secret, or with a key the server does not know.
    for (const [key, code] of [[{ ...credentials, secretAccessKey: 'wrong' }, 'InvalidSignatureException'], [{ accessKeyId: 'AKIDNOBODY', secretAccessKey: 'x' }, 'UnrecognizedClientException']] as const) {
      const forger = new AdminClient({ endpoint: d.endpoint, region: 'us-east-1', credentials: key });
      await assert.rejects(forger.createJoinToken({ description: 'forged' }), (e: Error & { code?: string }) => e.code === code);
      await forger.close();
    }
    assert.ok(!(await admin.listJoinTokens()).some((t) => t.description === 'forged'));
    const listed = JSON.stringify(await admin.listJoinTokens());
    assert.doesNotMatch(listed, new RegExp(joinToken.split('.')[2]!.replace(/[-_]/g, '.')));
    assert.doesNotMatch(listed, /secret|dyjt\./i);
    await assert.rejects(admin.createJoinToken({ maxUses: 0 }), (e: Error & { code?: string; status?: number }) => e.code === 'ValidationException' && e.status === 400);
    await assert.rejects(admin.revokeJoinToken('000000000000'), (e: Error & { code?: string; status?: number }) => e.code === 'ResourceNotFoundException' && e.status === 404);
  });

  it('round-trips join tokens through the dockyard join-token CLI', async () => {
    const cli = (...args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(process.execPath, [BIN, 'join-token', ...args, '--endpoint', d.endpoint], { env: d.cliEnv, timeout: 60_000 }, (error, stdout, stderr) =>
          resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        );
      });
    const created = await cli('create', '--description', 'from the CLI', '--max-uses', '2', '--expires-in', '3600');
    assert.equal(created.code, 0, created.stderr);
    const token = created.stdout.trim();
    assert.match(token, /^dyjt\.[0-9a-f]{12}\.[A-Za-z0-9_-]{43}$/);
    const tokenId = token.split('.')[1]!;

    const list = await cli('list');
    assert.equal(list.code, 0, list.stderr);
    const mine = (JSON.parse(list.stdout) as { joinTokens: { tokenId: string; description: string; maxUses: number; status: string }[] }).joinTokens.find((t) => t.tokenId === tokenId)!;
    assert.equal(mine.description, 'from the CLI');
    assert.equal(mine.maxUses, 2);
    assert.equal(mine.status, 'ACTIVE');
    assert.ok(!list.stdout.includes(token.split('.')[2]!), 'no secret in the listing');

    const joined = await startAgent('cli-joined', { joinToken: token });
    assert.ok((await instances()).includes(joined.containerInstanceArn!));

    const revoked = await cli('revoke', tokenId);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.equal(JSON.parse(revoked.stdout).joinToken.status, 'REVOKED');
    await assert.rejects(startAgent('after-revoke', { joinToken: token }), (e: Error & { status?: number }) => e.status === 401);
    // The host that joined before the revocation keeps working with its own credential.
    const poll = await call('GET', `/assignments?containerInstanceArn=${encodeURIComponent(joined.containerInstanceArn!)}&waitMs=0`, { bearer: savedCredential(joined) });
    assert.equal(poll.status, 200);

    // Unsigned (no credentials anywhere): refused by the control plane, said on stderr.
    const noCreds = await new Promise<{ code: number; stderr: string }>((resolve) => {
      const env = { ...d.cliEnv, AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null', AWS_EC2_METADATA_DISABLED: 'true' };
      execFile(process.execPath, [BIN, 'join-token', 'list', '--endpoint', d.endpoint], { env, timeout: 60_000 }, (error, _stdout, stderr) => resolve({ code: error ? 1 : 0, stderr }));
    });
    assert.equal(noCreds.code, 1);
    assert.match(noCreds.stderr, /credential/i);
  });
});
