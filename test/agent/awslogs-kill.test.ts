/**
 * `dockyard up` (control plane + embedded agent, its own process) killed with SIGKILL while an
 * awslogs container is writing, then started again on the same data dir: every line reaches
 * CloudWatch Logs exactly once, in order. Everything created is removed by id / label.
 */
import { CloudWatchLogsClient, paginateGetLogEvents, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeTasksCommand, ECSClient, RegisterTaskDefinitionCommand, RunTaskCommand } from '@aws-sdk/client-ecs';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadOrCreateRootKey } from '../../src/iam/root-key.js';
import { docker, removeAgentLeftovers } from '../helpers/docker.js';
import { buildHttpdImage } from '../helpers/images.js';
import { freePort } from '../helpers/net.js';

const BIN = new URL('../../bin/dockyard.mjs', import.meta.url).pathname;
const dataDir = mkdtempSync(join(tmpdir(), 'dockyard-kill-'));
let child: ChildProcess | undefined;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

after(async () => {
  if (child && child.exitCode === null) {
    child.kill('SIGKILL');
    await new Promise((r) => child!.once('exit', r));
  }
  const instanceFile = join(dataDir, 'agent', 'instance.json');
  if (existsSync(instanceFile)) removeAgentLeftovers((JSON.parse(readFileSync(instanceFile, 'utf8')) as { instanceId: string }).instanceId);
  rmSync(dataDir, { recursive: true, force: true });
});

async function up(port: number): Promise<ChildProcess> {
  // The sources (DOCKYARD_DEV=1): what is tested is this tree, built or not.
  const c = spawn(process.execPath, [BIN, 'up', '--port', String(port), '--data-dir', dataDir, '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'ignore'], env: { ...process.env, DOCKYARD_DEV: '1' } });
  for (let i = 0; i < 600; i++) {
    if (c.exitCode !== null) throw new Error(`dockyard up exited with ${c.exitCode}`);
    if (await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok, () => false)) return c;
    await sleep(100);
  }
  c.kill('SIGKILL');
  throw new Error('dockyard up did not become healthy');
}

test('SIGKILL of dockyard up mid-stream: no line lost or duplicated', async () => {
  const image = buildHttpdImage();
  const port = await freePort();
  child = await up(port);
  const opts = { endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', credentials: loadOrCreateRootKey(dataDir), maxAttempts: 3 };
  const ecs = new ECSClient(opts);
  const logs = new CloudWatchLogsClient(opts);
  try {
    const n = 4000;
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'awslogs-kill',
        containerDefinitions: [
          {
            name: 'main',
            image,
            memory: 32,
            entryPoint: ['/bin/sh', '-c'],
            command: [`i=0; while [ $i -lt ${n} ]; do i=$((i+1)); echo "n $i"; usleep 1000; done`],
            logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': '/ecs/kill', 'awslogs-region': 'us-east-1', 'awslogs-stream-prefix': 'k', 'awslogs-create-group': 'true' } },
          },
        ],
      }),
    );
    const taskArn = (await ecs.send(new RunTaskCommand({ cluster: 'default', taskDefinition: 'awslogs-kill' }))).tasks![0]!.taskArn!;
    const stream = `k/main/${taskArn.split('/').pop()}`;
    let shipped = 0;
    for (let i = 0; i < 600 && shipped === 0; i++) {
      const r = await logs.send(new GetLogEventsCommand({ logGroupName: '/ecs/kill', logStreamName: stream, limit: 1 })).catch(() => undefined);
      shipped = r?.events?.length ?? 0;
      await sleep(50);
    }
    assert.ok(shipped > 0, 'lines were being shipped before the kill');
    const runtimeId = (await ecs.send(new DescribeTasksCommand({ cluster: 'default', tasks: [taskArn] }))).tasks![0]!.containers![0]!.runtimeId!;
    child.kill('SIGKILL');
    await new Promise((r) => child!.once('exit', r));
    assert.equal(JSON.parse(docker('inspect', runtimeId))[0].State.Running, true, 'killed mid-stream: the container was still writing');
    await sleep(300); // the container keeps writing while nothing runs
    child = await up(port);
    let status = '';
    for (let i = 0; i < 1200 && status !== 'STOPPED'; i++) {
      status = (await ecs.send(new DescribeTasksCommand({ cluster: 'default', tasks: [taskArn] }))).tasks![0]!.lastStatus!;
      await sleep(100);
    }
    assert.equal(status, 'STOPPED');
    const lines: string[] = [];
    for await (const page of paginateGetLogEvents({ client: logs, stopOnSameToken: true }, { logGroupName: '/ecs/kill', logStreamName: stream, startFromHead: true })) lines.push(...page.events!.map((e) => e.message!));
    assert.equal(lines.length, n, `${lines.length} lines, ${new Set(lines).size} distinct`);
    assert.deepEqual(lines, Array.from({ length: n }, (_, i) => `n ${i + 1}`));
  } finally {
    ecs.destroy();
    logs.destroy();
  }
});
