/**
 * The task endpoints' rules, over HTTP on 127.0.0.1 with host-network tasks (whose requests
 * come from the host): each task's credentials only with its own token, ECS's error shapes,
 * the source check, ids that survive an agent restart.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { RoleCredentials, TaskAssignment } from '../../protocol/index.js';
import { SimulatedRuntime } from '../runtime/simulated.js';
import { newLocalTask, type LocalTask } from '../task-state.js';
import { containerSpec } from '../testing.js';
import { TaskEndpoint } from './server.js';

const quiet = { info() {}, warn() {}, error() {}, debug() {} };
const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function assignment(id: string, over: Partial<TaskAssignment> = {}): TaskAssignment {
  return {
    taskArn: `arn:aws:ecs:us-east-1:000000000000:task/default/${id}`,
    clusterArn: 'arn:aws:ecs:us-east-1:000000000000:cluster/default',
    taskDefinitionArn: 'arn:aws:ecs:us-east-1:000000000000:task-definition/f:1',
    family: 'f',
    desiredStatus: 'RUNNING',
    networkMode: 'host',
    taskRoleArn: `arn:aws:iam::000000000000:role/${id}-role`,
    volumes: [],
    containers: [containerSpec('app')],
    ...over,
  };
}

function creds(task: TaskAssignment, secret: string): RoleCredentials {
  return {
    taskArn: task.taskArn,
    roleType: 'TaskApplication',
    roleArn: task.taskRoleArn!,
    accessKeyId: `ASIA${secret.toUpperCase()}`,
    secretAccessKey: `${secret}-secret`,
    sessionToken: `${secret}-token`,
    expiration: new Date(Date.now() + 3600_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
  };
}

async function endpoint(stateDir?: string, tasks = new Map<string, LocalTask>()) {
  const dir = stateDir ?? mkdtempSync(join(tmpdir(), 'dockyard-task-endpoint-'));
  dirs.push(dir);
  const ep = new TaskEndpoint({ host: '127.0.0.1' }, { stateDir: dir, tasks, runtime: new SimulatedRuntime(), log: quiet });
  await ep.start();
  return { ep, tasks, dir };
}

const envOf = (ep: TaskEndpoint, t: TaskAssignment) => Object.fromEntries(ep.containerEnv(t, 'app').map((e) => [e.name, e.value]));
const get = async (url: string, token?: string) => {
  const res = await fetch(url, { headers: token === undefined ? {} : { authorization: token } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

describe('task credentials endpoint', () => {
  it('serves a task its own role credentials in ECS shape, only with its own authorization token', async () => {
    const { ep, tasks } = await endpoint();
    try {
      const a = assignment('aaaa');
      const b = assignment('bbbb');
      tasks.set(a.taskArn, newLocalTask(a));
      tasks.set(b.taskArn, newLocalTask(b));
      const c = creds(a, 'a');
      ep.setCredentials([a, b], [c, creds(b, 'b')]);
      const envA = envOf(ep, a);
      const envB = envOf(ep, b);
      assert.match(envA.ECS_CONTAINER_METADATA_URI_V4!, new RegExp(`^${ep.url}/v4/[0-9a-f-]{36}$`));
      assert.match(envA.AWS_CONTAINER_CREDENTIALS_FULL_URI!, new RegExp(`^${ep.url}/v2/credentials/[0-9a-f-]{36}$`));
      assert.notEqual(envA.AWS_CONTAINER_CREDENTIALS_FULL_URI, envB.AWS_CONTAINER_CREDENTIALS_FULL_URI);
      assert.notEqual(envA.AWS_CONTAINER_AUTHORIZATION_TOKEN, envB.AWS_CONTAINER_AUTHORIZATION_TOKEN);
      assert.equal(envA.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI, undefined, 'not on port 80: the full URI form');

      const own = await get(envA.AWS_CONTAINER_CREDENTIALS_FULL_URI!, envA.AWS_CONTAINER_AUTHORIZATION_TOKEN);
      assert.equal(own.status, 200);
      assert.deepEqual(own.body, { RoleArn: c.roleArn, AccessKeyId: c.accessKeyId, SecretAccessKey: c.secretAccessKey, Token: c.sessionToken, Expiration: c.expiration });

      const withOthersToken = await get(envA.AWS_CONTAINER_CREDENTIALS_FULL_URI!, envB.AWS_CONTAINER_AUTHORIZATION_TOKEN);
      assert.equal(withOthersToken.status, 403);
      assert.equal(withOthersToken.body.code, 'AccessDenied');
      assert.equal(JSON.stringify(withOthersToken.body).includes('a-secret'), false);
      assert.equal((await get(envA.AWS_CONTAINER_CREDENTIALS_FULL_URI!)).status, 403, 'no token');

      // ECS's error shapes for unknown and missing ids.
      assert.deepEqual(await get(`${ep.url}/v2/credentials/00000000-0000-0000-0000-000000000000`, envA.AWS_CONTAINER_AUTHORIZATION_TOKEN), {
        status: 400,
        body: { code: 'InvalidIdInRequest', message: 'CredentialsV2Request: Credentials not found', HTTPErrorCode: 400 },
      });
      assert.equal((await get(`${ep.url}/v2/credentials/`)).body.code, 'NoIdInRequest');
      const post = await fetch(envA.AWS_CONTAINER_CREDENTIALS_FULL_URI!, { method: 'POST', headers: { authorization: envA.AWS_CONTAINER_AUTHORIZATION_TOKEN! } });
      assert.equal(post.status, 405);
      await post.body?.cancel();
    } finally {
      await ep.close();
    }
  });

  it('answers 503 until the control plane sent credentials, and forgets them once the task is no longer assigned', async () => {
    const { ep, tasks } = await endpoint();
    try {
      const a = assignment('cccc');
      tasks.set(a.taskArn, newLocalTask(a));
      const env = envOf(ep, a);
      const ask = () => get(env.AWS_CONTAINER_CREDENTIALS_FULL_URI!, env.AWS_CONTAINER_AUTHORIZATION_TOKEN);
      assert.deepEqual((await ask()).body, { code: 'CredentialsUninitialized', message: 'CredentialsV2Request: Credentials uninitialized for ID', HTTPErrorCode: 503 });
      ep.setCredentials([a], [creds(a, 'c')]);
      assert.equal((await ask()).status, 200);
      ep.setCredentials([a], [{ ...creds(a, 'd'), accessKeyId: 'ASIAREFRESHED' }]);
      assert.equal((await ask()).body.AccessKeyId, 'ASIAREFRESHED', 'refreshed credentials replace the old ones');
      ep.setCredentials([], []);
      assert.equal((await ask()).status, 503);
      tasks.get(a.taskArn)!.containers.app!.known = 'STOPPED';
      assert.equal((await ask()).status, 400, 'a stopped task has no credentials');
    } finally {
      await ep.close();
    }
  });

  it('refuses a bridge task\'s credentials to a request that does not come from its containers', async () => {
    const { ep, tasks } = await endpoint();
    try {
      const a = assignment('dddd', { networkMode: 'bridge' });
      const local = newLocalTask(a);
      Object.assign(local.containers.app!, { known: 'RUNNING', runtimeId: 'x', ipAddress: '172.31.255.7' });
      tasks.set(a.taskArn, local);
      ep.setCredentials([a], [creds(a, 'e')]);
      const env = envOf(ep, a);
      const res = await get(env.AWS_CONTAINER_CREDENTIALS_FULL_URI!, env.AWS_CONTAINER_AUTHORIZATION_TOKEN);
      assert.equal(res.status, 403);
      assert.match(String(res.body.message), /does not come from the task/);
      assert.equal((await get(env.ECS_CONTAINER_METADATA_URI_V4!)).status, 404, 'nor its metadata');
    } finally {
      await ep.close();
    }
  });

  it("on 169.254.170.2:80, ECS's relative URI form: no token (the SDKs send none), the source check still applies", async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'dockyard-task-endpoint-'));
    dirs.push(dir);
    const tasks = new Map<string, LocalTask>();
    const ep = new TaskEndpoint({ port: 80 }, { stateDir: dir, tasks, runtime: new SimulatedRuntime(), log: quiet });
    try {
      await ep.start();
    } catch (e) {
      if ((e as { code?: string }).code === 'EADDRINUSE') return t.skip('port 80 on 169.254.170.2 is taken on this host');
      throw e;
    }
    try {
      const a = assignment('9999');
      const bridged = assignment('8888', { networkMode: 'bridge' });
      tasks.set(a.taskArn, newLocalTask(a));
      tasks.set(bridged.taskArn, newLocalTask(bridged));
      ep.setCredentials([a, bridged], [creds(a, 'r'), creds(bridged, 's')]);
      const env = envOf(ep, a);
      assert.deepEqual(Object.keys(env).sort(), ['AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', 'ECS_CONTAINER_METADATA_URI_V4']);
      assert.match(env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI!, /^\/v2\/credentials\/[0-9a-f-]{36}$/);
      // What botocore does with the relative form: http://169.254.170.2<relative URI>, no Authorization.
      const res = await get(`http://169.254.170.2${env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI}`);
      assert.equal(res.status, 200);
      assert.equal(res.body.AccessKeyId, 'ASIAR');
      const other = await get(`http://169.254.170.2${envOf(ep, bridged).AWS_CONTAINER_CREDENTIALS_RELATIVE_URI}`);
      assert.equal(other.status, 403, 'the host is not the bridge task');
    } finally {
      await ep.close();
    }
  });

  it('gives tasks without a role only the metadata URI', async () => {
    const { ep } = await endpoint();
    try {
      assert.deepEqual(Object.keys(envOf(ep, assignment('eeee', { taskRoleArn: undefined }))), ['ECS_CONTAINER_METADATA_URI_V4']);
    } finally {
      await ep.close();
    }
  });

  it('a restarted agent keeps its port and recognises the ids and tokens it gave out before; the key file is owner-only', async () => {
    const first = await endpoint();
    const a = assignment('ffff');
    const env = envOf(first.ep, a);
    const url = first.ep.url;
    await first.ep.close();
    assert.equal(statSync(join(first.dir, 'task-endpoint.json')).mode & 0o777, 0o600);

    const tasks = new Map([[a.taskArn, newLocalTask(a)]]);
    const second = await endpoint(first.dir, tasks);
    try {
      assert.equal(second.ep.url, url);
      second.ep.setCredentials([a], [creds(a, 'f')]);
      const res = await get(env.AWS_CONTAINER_CREDENTIALS_FULL_URI!, env.AWS_CONTAINER_AUTHORIZATION_TOKEN);
      assert.equal(res.status, 200);
      const meta = await get(env.ECS_CONTAINER_METADATA_URI_V4!);
      assert.equal(meta.status, 200);
      assert.equal(meta.body.Name, 'app');
    } finally {
      await second.ep.close();
    }
  });
});
