/**
 * RunTask's clientToken, as ECS documents it (ECS_Idempotency.html): same token and parameters
 * in the same cluster → the tasks of the first request and nothing new; the same token with
 * other parameters → ConflictException; another cluster → a separate request; 24 hours later
 * the token is forgotten. Checked with the SDK v3 (including its own retry after a lost
 * response, through a proxy that drops the first RunTask answer), concurrent retries, and the
 * AWS CLI v1's --client-token. No Docker: the container instance is registered through the API.
 */
import {
  CreateClusterCommand,
  ECSClient,
  ListTasksCommand,
  RegisterContainerInstanceCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
} from '@aws-sdk/client-ecs';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer, request, type Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import * as c from '../src/store/collections.js';
import { requireCliV1 } from './helpers/aws-cli.js';
import { credentials, startDockyard, type TestDockyard } from './helpers/dockyard.js';

let dy: TestDockyard;
// Server time, moved forward to expire tokens; clients sign with it too (systemClockOffset), since signatures are verified.
let now = Date.now() / 1000;
const clock = { now: () => now };
const clientNow = () => new ECSClient({ endpoint: dy.endpoint, region: 'us-east-1', credentials, maxAttempts: 1, systemClockOffset: Math.round(now * 1000 - Date.now()) });

async function registerInstance(cluster: string) {
  await dy.ecs.send(
    new RegisterContainerInstanceCommand({
      cluster,
      totalResources: [
        { name: 'CPU', type: 'INTEGER', integerValue: 4096 },
        { name: 'MEMORY', type: 'INTEGER', integerValue: 8192 },
      ],
    }),
  );
}

async function taskCount(cluster: string): Promise<number> {
  return (await dy.ecs.send(new ListTasksCommand({ cluster }))).taskArns!.length;
}

before(async () => {
  dy = await startDockyard({}, undefined, { clock });
  for (const cluster of ['idem-a', 'idem-b']) {
    await dy.ecs.send(new CreateClusterCommand({ clusterName: cluster }));
    await registerInstance(cluster);
  }
  await dy.ecs.send(new RegisterTaskDefinitionCommand({ family: 'job', containerDefinitions: [{ name: 'job', image: 'example/job:1', memory: 64 }] }));
});

after(() => dy.stop());

describe('RunTask clientToken', () => {
  test('a retry with the same token and parameters returns the same tasks and starts none', async () => {
    const first = await dy.ecs.send(new RunTaskCommand({ cluster: 'idem-a', taskDefinition: 'job', count: 2, clientToken: 'retry-1' }));
    assert.equal(first.tasks!.length, 2);
    const again = await dy.ecs.send(new RunTaskCommand({ cluster: 'idem-a', taskDefinition: 'job', count: 2, clientToken: 'retry-1' }));
    assert.deepEqual(again.tasks!.map((t) => t.taskArn).sort(), first.tasks!.map((t) => t.taskArn).sort());
    assert.equal(await taskCount('idem-a'), 2);
    // The cluster named by ARN instead of by name is the same request.
    const byArn = await dy.ecs.send(new RunTaskCommand({ cluster: 'arn:aws:ecs:us-east-1:000000000000:cluster/idem-a', taskDefinition: 'job', count: 2, clientToken: 'retry-1' }));
    assert.deepEqual(byArn.tasks!.map((t) => t.taskArn).sort(), first.tasks!.map((t) => t.taskArn).sort());
  });

  test('the same token with different parameters is a ConflictException and starts nothing', async () => {
    const before = await taskCount('idem-a');
    await assert.rejects(dy.ecs.send(new RunTaskCommand({ cluster: 'idem-a', taskDefinition: 'job', count: 1, clientToken: 'retry-1' })), (e: Error & { resourceIds?: string[] }) => {
      assert.equal(e.name, 'ConflictException');
      assert.match(e.message, /client token/);
      assert.equal(e.resourceIds?.length, 2);
      return true;
    });
    await assert.rejects(dy.ecs.send(new RunTaskCommand({ cluster: 'idem-a', taskDefinition: 'job', count: 2, startedBy: 'other', clientToken: 'retry-1' })), { name: 'ConflictException' });
    assert.equal(await taskCount('idem-a'), before);
  });

  test('tokens are per cluster: the same token in another cluster is a new request', async () => {
    const out = await dy.ecs.send(new RunTaskCommand({ cluster: 'idem-b', taskDefinition: 'job', count: 2, clientToken: 'retry-1' }));
    assert.equal(out.tasks!.length, 2);
    assert.ok(out.tasks!.every((t) => t.clusterArn!.endsWith('/idem-b')));
    assert.equal(await taskCount('idem-b'), 2);
  });

  test('concurrent retries with one token start the tasks once', async () => {
    const before = await taskCount('idem-a');
    const results = await Promise.all(
      Array.from({ length: 12 }, () => dy.ecs.send(new RunTaskCommand({ cluster: 'idem-a', taskDefinition: 'job', count: 3, clientToken: 'burst' }))),
    );
    const sets = new Set(results.map((r) => r.tasks!.map((t) => t.taskArn).sort().join(',')));
    assert.equal(sets.size, 1, 'every retry sees the same three tasks');
    assert.equal(await taskCount('idem-a'), before + 3);
  });

  test('malformed tokens are refused as ECS bounds them (1-64 characters, ASCII 33-126)', async () => {
    for (const clientToken of ['x'.repeat(65), 'has space', 'ünicode']) {
      await assert.rejects(dy.ecs.send(new RunTaskCommand({ cluster: 'idem-a', taskDefinition: 'job', clientToken })), { name: 'InvalidParameterException' });
    }
  });

  test('after 24 hours the token is forgotten and starts a new request', async () => {
    const runDaily = async () => {
      const client = clientNow();
      try {
        return (await client.send(new RunTaskCommand({ cluster: 'idem-b', taskDefinition: 'job', clientToken: 'daily' }))).tasks![0]!.taskArn;
      } finally {
        client.destroy();
      }
    };
    const first = await runDaily();
    now += 24 * 3600 - 1;
    assert.equal(await runDaily(), first);
    now += 2;
    assert.notEqual(await runDaily(), first);
    // Remembering a token sweeps expired ones: the store keeps only live tokens.
    const tokens = await dy.app.store.read((tx) => tx.find(c.clientTokens));
    assert.ok(tokens.length > 0 && tokens.every((t) => t.data.expiresAt > now), JSON.stringify(tokens.map((t) => [t.pk, t.data.expiresAt - now])));
    now = Date.now() / 1000;
  });

  test("the SDK's own retry after a lost response does not launch a duplicate", async () => {
    // A proxy that forwards every request but drops the connection instead of the first RunTask answer.
    let dropped = 0;
    const proxy: Server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const upstream = request(`${dy.endpoint}${req.url}`, { method: req.method, headers: req.headers }, (up) => {
          const body: Buffer[] = [];
          up.on('data', (c: Buffer) => body.push(c));
          up.on('end', () => {
            if (String(req.headers['x-amz-target']).endsWith('.RunTask') && dropped === 0) {
              dropped += 1;
              res.socket?.destroy();
              return;
            }
            res.writeHead(up.statusCode!, up.headers).end(Buffer.concat(body));
          });
        });
        upstream.end(Buffer.concat(chunks));
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const port = (proxy.address() as { port: number }).port;
    const client = new ECSClient({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', credentials, maxAttempts: 3 });
    try {
      const before = await taskCount('idem-b');
      // No clientToken given: the SDK generates one and sends it again on its retry.
      const out = await client.send(new RunTaskCommand({ cluster: 'idem-b', taskDefinition: 'job' }));
      assert.equal(dropped, 1, 'the first answer was lost');
      assert.equal(out.$metadata.attempts, 2);
      assert.equal(await taskCount('idem-b'), before + 1);
      const listed = await dy.ecs.send(new ListTasksCommand({ cluster: 'idem-b' }));
      assert.ok(listed.taskArns!.includes(out.tasks![0]!.taskArn!));
    } finally {
      client.destroy();
      await new Promise((resolve) => proxy.close(resolve));
    }
  });

  // Debian's CLI v2 (2.9) predates RunTask's clientToken; the pip CLI v1 has current models.
  test('AWS CLI v1 run-task --client-token twice starts one task', async () => {
    const cli = requireCliV1();
    const run = () =>
      new Promise<string>((resolve, reject) =>
        execFile(
          cli,
          ['--endpoint-url', dy.endpoint, '--output', 'json', 'ecs', 'run-task', '--cluster', 'idem-a', '--task-definition', 'job', '--client-token', 'cli-token'],
          { env: dy.cliEnv, timeout: 60_000 },
          (error, stdout, stderr) => (error ? reject(new Error(stderr)) : resolve((JSON.parse(stdout) as { tasks: { taskArn: string }[] }).tasks[0]!.taskArn)),
        ),
      );
    const before = await taskCount('idem-a');
    const a = await run();
    const b = await run();
    assert.equal(a, b);
    assert.equal(await taskCount('idem-a'), before + 1);
  });
});
