/**
 * awslogs on Docker: a task's output reaches CloudWatch Logs (stream `prefix/container/task-id`)
 * in order and complete before the task is reported STOPPED; `docker logs` still works; a
 * missing group fails the start as ECS's does; a control-plane + agent restart mid-stream (with
 * the agent's checkpoints rewound, as after a crash between a batch and its checkpoint) loses
 * and duplicates nothing.
 */
import { CloudWatchLogsClient, CreateLogGroupCommand, GetLogEventsCommand, paginateGetLogEvents } from '@aws-sdk/client-cloudwatch-logs';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { AWS_CLI_V2 } from '../helpers/aws-cli.js';
import { credentials, type TestDockyard } from '../helpers/dockyard.js';
import { docker } from '../helpers/docker.js';
import { buildHttpdImage } from '../helpers/images.js';
import { isRunning, isStopped, register, run, sh, sleep, startWithAgent, waitTask } from './helpers.js';

const exec = promisify(execFile);

describe('awslogs from tasks on Docker', () => {
  let d: TestDockyard;
  let image: string;
  const clients: CloudWatchLogsClient[] = [];
  const logsOf = (t: TestDockyard) => {
    const c = new CloudWatchLogsClient({ endpoint: t.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
    clients.push(c);
    return c;
  };

  const allEvents = async (client: CloudWatchLogsClient, logGroupName: string, logStreamName: string) => {
    const out: string[] = [];
    for await (const page of paginateGetLogEvents({ client, stopOnSameToken: true }, { logGroupName, logStreamName, startFromHead: true })) out.push(...page.events!.map((e) => e.message!));
    return out;
  };

  before(async () => {
    image = buildHttpdImage();
    d = await startWithAgent();
  });
  after(async () => {
    for (const c of clients) c.destroy();
    await d?.stop();
  });

  it('ships every line in order before the task is STOPPED; aws logs tail shows them; docker logs still works', async () => {
    const n = 500;
    const family = await register(d, [
      {
        name: 'main',
        image,
        memory: 32,
        ...sh(`i=0; while [ $i -lt ${n} ]; do i=$((i+1)); echo "line $i"; done; echo "to stderr" >&2`),
        logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': '/ecs/awslogs-e2e', 'awslogs-region': 'us-east-1', 'awslogs-stream-prefix': 'app', 'awslogs-create-group': 'true' } },
      },
    ]);
    const arn = await run(d, family);
    const stopped = await waitTask(d, arn, isStopped);
    assert.equal(stopped.containers![0]!.exitCode, 0);
    const stream = `app/main/${arn.split('/').pop()}`;
    // No waiting here: the STOPPED report came after the final flush.
    const lines = await allEvents(logsOf(d), '/ecs/awslogs-e2e', stream);
    // stdout in order; Docker copies stderr on its own, so where that line falls among them is Docker's choice.
    assert.deepEqual(lines.filter((l) => l !== 'to stderr'), Array.from({ length: n }, (_, i) => `line ${i + 1}`));
    assert.equal(lines.filter((l) => l === 'to stderr').length, 1);
    const tail = await exec(AWS_CLI_V2, ['logs', 'tail', '/ecs/awslogs-e2e', '--since', '1h', '--format', 'short', '--endpoint-url', d.endpoint], { env: d.cliEnv, maxBuffer: 16 * 1024 * 1024 });
    assert.deepEqual(tail.stdout.trim().split('\n').map((l) => l.replace(/^\S+\s+/, '')), lines);
    const dockerLogs = docker('logs', stopped.containers![0]!.runtimeId!);
    assert.equal(dockerLogs.trim().split('\n').length, n, 'json-file kept: docker logs shows the stdout lines');
  });

  it('a missing group without awslogs-create-group fails the start with ECS\'s error', async () => {
    const family = await register(d, [
      { name: 'main', image, memory: 32, ...sh('echo hi'), logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': '/ecs/does-not-exist', 'awslogs-region': 'us-east-1', 'awslogs-stream-prefix': 'app' } } },
    ]);
    const t = await waitTask(d, await run(d, family), isStopped);
    assert.equal(t.stopCode, 'TaskFailedToStart');
    assert.match(t.stoppedReason!, /^CannotStartContainerError: .*failed to create Cloudwatch log stream: ResourceNotFoundException: The specified log group does not exist\./);
    assert.match(t.containers![0]!.reason!, /ResourceNotFoundException/);
  });

  it('an agent restart mid-stream neither loses nor duplicates lines', async () => {
    const client = logsOf(d);
    await client.send(new CreateLogGroupCommand({ logGroupName: '/ecs/restart' }));
    const n = 3000;
    const family = await register(d, [
      {
        name: 'main',
        image,
        memory: 32,
        ...sh(`i=0; while [ $i -lt ${n} ]; do i=$((i+1)); echo "n $i"; usleep 1000; done`),
        logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': '/ecs/restart', 'awslogs-region': 'us-east-1', 'awslogs-stream-prefix': 'r' } },
      },
    ]);
    const arn = await run(d, family);
    await waitTask(d, arn, isRunning);
    const stream = `r/main/${arn.split('/').pop()}`;
    // Mid-stream: some lines shipped, not all.
    for (let i = 0; i < 200; i++) {
      const got = await client.send(new GetLogEventsCommand({ logGroupName: '/ecs/restart', logStreamName: stream, limit: 1 })).catch(() => undefined);
      if (got?.events?.length) break;
      await sleep(100);
    }
    const shippedBefore = (await allEvents(client, '/ecs/restart', stream)).length;
    const dataDir = d.dataDir;
    const runtimeId = (await waitTask(d, arn, isRunning)).containers![0]!.runtimeId!;
    await d.stop({ keepData: true });
    assert.ok(shippedBefore > 0 && shippedBefore < n, `mid-stream: ${shippedBefore} of ${n} lines shipped`);
    assert.equal(JSON.parse(docker('inspect', runtimeId))[0].State.Running, true, 'the container still writes while no agent runs');
    // As after a crash between a stored batch and its checkpoint: every checkpoint rewound to the start.
    const checkpoints = join(dataDir, 'agent', 'logs');
    const files = readdirSync(checkpoints).filter((f) => f.endsWith('.json'));
    assert.ok(files.length >= 1, 'the agent kept a checkpoint per awslogs container');
    for (const f of files) writeFileSync(join(checkpoints, f), JSON.stringify({ cursor: '1.0' }));
    await sleep(500); // lines written while no agent runs
    d = await startWithAgent({ dataDir });
    const stopped = await waitTask(d, arn, isStopped, 120_000);
    assert.equal(stopped.containers![0]!.exitCode, 0);
    const lines = await allEvents(logsOf(d), '/ecs/restart', stream);
    assert.equal(lines.length, n, `${lines.length} lines, ${new Set(lines).size} distinct`);
    assert.deepEqual(lines, Array.from({ length: n }, (_, i) => `n ${i + 1}`));
  });
});
