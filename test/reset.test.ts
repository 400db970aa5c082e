/**
 * POST /_dockyard/reset and `dockyard reset`: off unless enabled (404), refused unsigned, and when
 * called wipes ECS and ECR state in every region, registry blobs and client tokens, removes the
 * embedded agent's containers and leaves a usable Dockyard (the `default` cluster and this host
 * as its container instance, revision numbers from 1 again, no stale cached answers). Measured
 * with 100 running tasks on the simulated runtime and with real tasks on Docker.
 */
import { CreateRepositoryCommand, DescribeRepositoriesCommand, ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import {
  CreateClusterCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  ListClustersCommand,
  ListContainerInstancesCommand,
  ListTaskDefinitionsCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
} from '@aws-sdk/client-ecs';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SimulatedRuntime } from '../src/agent/index.js';
import { requestReset } from '../src/cli/reset.js';
import { httpGet, isRunning, register, run, startWithAgent, waitTask } from './agent/helpers.js';
import { docker } from './helpers/docker.js';
import { credentials, startDockyard, type TestDockyard } from './helpers/dockyard.js';
import { BB_HTTPD, buildHttpdImage } from './helpers/images.js';

const BIN = new URL('../bin/dockyard.mjs', import.meta.url).pathname;
const ACCOUNT = '123456789012';

const blobFiles = (d: TestDockyard) =>
  readdirSync(join(d.dataDir, 'registry', 'blobs', 'sha256'), { withFileTypes: true }).flatMap((p) => (p.isDirectory() ? readdirSync(join(p.parentPath, p.name)) : []));

function cli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; out: string }> {
  return new Promise((resolve) =>
    execFile(process.execPath, [BIN, ...args], { env, timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` }),
    ),
  );
}

test('without --enable-reset there is no reset endpoint (404)', async () => {
  const d = await startDockyard();
  try {
    const res = await fetch(`${d.endpoint}/_dockyard/reset`, { method: 'POST' });
    assert.equal(res.status, 404);
    const viaCli = await cli(['reset', '--endpoint', d.endpoint], d.cliEnv);
    assert.notEqual(viaCli.code, 0);
    assert.match(viaCli.out, /--enable-reset/);
  } finally {
    await d.stop();
  }
});

describe('reset on the simulated runtime (100 tasks)', () => {
  let d: TestDockyard;
  let west: ECSClient;
  let ecr: ECRClient;
  before(async () => {
    const runtime = new SimulatedRuntime({ cpus: 64, memoryMiB: 65536 });
    d = await startWithAgent({ config: { enableReset: true, accountId: ACCOUNT }, app: { agentRuntime: runtime } });
    west = new ECSClient({ endpoint: d.endpoint, region: 'eu-west-1', credentials, maxAttempts: 1 });
    ecr = new ECRClient({ endpoint: d.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
  });
  after(async () => {
    west.destroy();
    ecr.destroy();
    await d.stop();
  });

  test('an unsigned request is refused and changes nothing', async () => {
    await d.ecs.send(new CreateClusterCommand({ clusterName: 'kept' }));
    const res = await fetch(`${d.endpoint}/_dockyard/reset`, { method: 'POST' });
    // As the JSON AWS APIs answer an unsigned call (400 MissingAuthenticationTokenException).
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('x-amzn-errortype'), 'MissingAuthenticationTokenException');
    // A request signed with a wrong secret is refused as well.
    await assert.rejects(requestReset(d.endpoint, { ...credentials, secretAccessKey: 'wrong' }, 'us-east-1'), /refused \(4\d\d\)/);
    const clusters = await d.ecs.send(new ListClustersCommand({}));
    assert.ok(clusters.clusterArns!.includes(`arn:aws:ecs:us-east-1:${ACCOUNT}:cluster/kept`));
  });

  test('wipes every region, ECR and its blobs, client tokens and 100 tasks, fast, and Dockyard stays usable', async (t) => {
    // State in two regions, ECR with a pushed blob, 100 running tasks with a client token.
    await west.send(new CreateClusterCommand({ clusterName: 'west-only' }));
    await west.send(new RegisterTaskDefinitionCommand({ family: 'west', containerDefinitions: [{ name: 'c', image: 'x', memory: 32 }] }));
    await ecr.send(new CreateRepositoryCommand({ repositoryName: 'app' }));
    const token = (await ecr.send(new GetAuthorizationTokenCommand({}))).authorizationData![0]!.authorizationToken!;
    const blob = Buffer.from('a layer that must go');
    const digest = `sha256:${createHash('sha256').update(blob).digest('hex')}`;
    const upload = await fetch(`${d.endpoint}/v2/app/blobs/uploads/?digest=${digest}`, { method: 'POST', body: new Uint8Array(blob), headers: { authorization: `Basic ${token}` } });
    assert.equal(upload.status, 201);
    assert.equal(blobFiles(d).length, 1);
    await d.ecs.send(new RegisterTaskDefinitionCommand({ family: 'sim', containerDefinitions: [{ name: 'c', image: 'sim:1', memory: 32, cpu: 16 }] }));
    const first = await d.ecs.send(new RunTaskCommand({ cluster: 'default', taskDefinition: 'sim', count: 10, clientToken: 'before-reset' }));
    for (let i = 0; i < 9; i++) await d.ecs.send(new RunTaskCommand({ cluster: 'default', taskDefinition: 'sim', count: 10 }));
    const arns = (await d.ecs.send(new ListTasksCommand({ cluster: 'default', maxResults: 100 }))).taskArns!;
    assert.equal(arns.length, 100);
    await waitTask(d, arns.at(-1)!, isRunning, 30_000);
    assert.ok(arns[0]!.startsWith(`arn:aws:ecs:us-east-1:${ACCOUNT}:task/default/`), '--account-id is the account in ARNs');

    const report = await requestReset(d.endpoint, credentials, 'us-east-1');
    t.diagnostic(`reset with 100 simulated tasks: ${report.durationMs} ms (${JSON.stringify(report.steps)}), ${report.containersRemoved} containers removed`);
    assert.equal(report.containersRemoved, 100);
    // About 20 ms on a quiet machine; the bound leaves room for a loaded test machine.
    assert.ok(report.durationMs < 1000, `reset took ${report.durationMs} ms`);

    // Nothing is left, in either region.
    assert.deepEqual((await d.ecs.send(new ListClustersCommand({}))).clusterArns, [`arn:aws:ecs:us-east-1:${ACCOUNT}:cluster/default`]);
    assert.deepEqual((await west.send(new ListClustersCommand({}))).clusterArns, []);
    assert.deepEqual((await west.send(new ListTaskDefinitionsCommand({}))).taskDefinitionArns, []);
    assert.deepEqual((await d.ecs.send(new ListTasksCommand({ cluster: 'default' }))).taskArns, []);
    assert.deepEqual((await ecr.send(new DescribeRepositoriesCommand({}))).repositories, []);
    assert.deepEqual(blobFiles(d), []);
    assert.deepEqual(await d.app.agent!.supervisor.tasks.size, 0);

    // Usable at once: this host is the default cluster's instance again, numbering restarts, and
    // no cache answers with what was there before (same ARN, new content).
    const instances = await d.ecs.send(new ListContainerInstancesCommand({ cluster: 'default' }));
    assert.equal(instances.containerInstanceArns!.length, 1);
    const reg = await d.ecs.send(new RegisterTaskDefinitionCommand({ family: 'sim', containerDefinitions: [{ name: 'other', image: 'sim:2', memory: 48 }] }));
    assert.equal(reg.taskDefinition!.revision, 1);
    const described = await d.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'sim:1' }));
    assert.equal(described.taskDefinition!.containerDefinitions![0]!.name, 'other');
    const again = await d.ecs.send(new RunTaskCommand({ cluster: 'default', taskDefinition: 'sim', count: 10, clientToken: 'before-reset' }));
    assert.equal(again.tasks!.length, 10, 'the client token was forgotten: a new request');
    assert.ok(again.tasks!.every((x) => !first.tasks!.some((y) => y.taskArn === x.taskArn)));
    await waitTask(d, again.tasks![0]!.taskArn!, isRunning, 30_000);
  });

  test('`dockyard reset --endpoint` signs with the environment credentials', async () => {
    await d.ecs.send(new CreateClusterCommand({ clusterName: 'doomed' }));
    const res = await cli(['reset', '--endpoint', d.endpoint], d.cliEnv);
    assert.equal(res.code, 0, res.out);
    assert.match(res.out, /^reset http:\/\/127\.0\.0\.1:\d+ in [\d.]+ ms \(\d+ containers removed\)/);
    assert.deepEqual((await d.ecs.send(new ListClustersCommand({}))).clusterArns, [`arn:aws:ecs:us-east-1:${ACCOUNT}:cluster/default`]);
    const unsigned = await cli(['reset', '--endpoint', d.endpoint], { PATH: process.env.PATH });
    assert.notEqual(unsigned.code, 0);
    assert.match(unsigned.out, /AWS_ACCESS_KEY_ID/);
  });
});

describe('reset with real containers (Docker)', () => {
  let d: TestDockyard;
  before(async () => {
    buildHttpdImage();
    d = await startWithAgent({ config: { enableReset: true } });
    assert.ok(d.app.agent, 'the embedded agent must start (Docker Engine running)');
  });
  after(() => d.stop());

  test('stops and removes every task container, frees their ports, well under a second', async (t) => {
    const family = await register(d, [{ name: 'web', image: BB_HTTPD, memory: 32, stopTimeout: 30, portMappings: [{ containerPort: 8080 }] }]);
    const arns = await Promise.all([1, 2, 3].map(() => run(d, family)));
    const tasks = await Promise.all(arns.map((arn) => waitTask(d, arn, isRunning, 90_000)));
    const ports = tasks.map((x) => x.containers![0]!.networkBindings![0]!.hostPort!);
    assert.equal(await httpGet(ports[0]!), 'hello from dockyard\n');
    const label = `label=dockyard.instance=${d.app.agent!.instanceId}`;
    assert.equal(docker('ps', '-aq', '--filter', label).trim().split('\n').length, 3);

    const report = await requestReset(d.endpoint, credentials, 'us-east-1');
    t.diagnostic(`reset with 3 running Docker tasks: ${report.durationMs} ms (${JSON.stringify(report.steps)}), ${report.containersRemoved} containers removed`);
    assert.equal(report.containersRemoved, 3);
    // About 0.45 s on a quiet machine, most of it Docker's forced removal; bounded loosely here
    // because the test machine's Docker is shared with other suites.
    assert.ok(report.durationMs < 3000, `reset took ${report.durationMs} ms`);
    assert.equal(docker('ps', '-aq', '--filter', label).trim(), '', 'no container of the agent is left, running or stopped');
    for (const port of ports) await assert.rejects(httpGet(port), 'the task ports are free');
    // And tasks run again right away.
    const family2 = await register(d, [{ name: 'web', image: BB_HTTPD, memory: 32, stopTimeout: 2, portMappings: [{ containerPort: 8080 }] }]);
    const task = await waitTask(d, await run(d, family2), isRunning, 90_000);
    assert.equal(await httpGet(task.containers![0]!.networkBindings![0]!.hostPort!), 'hello from dockyard\n');
  });
});
