/**
 * End to end with the AWS CLI v2 (Debian's /usr/bin/aws) and real Docker: register a task
 * definition from JSON, run-task, `aws ecs wait tasks-running`, the container answers on its
 * published 127.0.0.1 port, stop-task with a reason, `aws ecs wait tasks-stopped`, and
 * describe-tasks shows the reason, stop code and exit code as ECS reports them.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { buildHttpdImage } from './helpers/images.js';
import { startDockyard, type TestDockyard } from './helpers/dockyard.js';

const run = promisify(execFile);
let dy: TestDockyard;
let dir: string;

async function aws(...args: string[]): Promise<any> {
  const { stdout } = await run('/usr/bin/aws', ['--endpoint-url', dy.endpoint, '--output', 'json', ...args], { env: dy.cliEnv, timeout: 180_000 });
  return stdout.trim() ? JSON.parse(stdout) : {};
}

before(async () => {
  const image = buildHttpdImage();
  dy = await startDockyard({ embeddedAgent: { bindIp: '127.0.0.1', cleanupDelayMs: 60_000 } } as never);
  dir = mkdtempSync(join(tmpdir(), 'dockyard-cli-'));
  writeFileSync(
    join(dir, 'web.json'),
    JSON.stringify({
      family: 'cli-web',
      networkMode: 'bridge',
      containerDefinitions: [
        {
          name: 'web',
          image,
          memory: 64,
          essential: true,
          stopTimeout: 2,
          portMappings: [{ containerPort: 8080, hostPort: 0, protocol: 'tcp' }],
        },
      ],
    }),
  );
});

after(async () => {
  await dy.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('run-task, wait tasks-running, HTTP answer, stop-task, wait tasks-stopped', { timeout: 300_000 }, async () => {
  const registered = await aws('ecs', 'register-task-definition', '--cli-input-json', `file://${join(dir, 'web.json')}`);
  assert.equal(registered.taskDefinition.taskDefinitionArn, 'arn:aws:ecs:us-east-1:000000000000:task-definition/cli-web:1');

  const ran = await aws('ecs', 'run-task', '--task-definition', 'cli-web', '--started-by', 'cli-test');
  assert.deepEqual(ran.failures, []);
  const taskArn: string = ran.tasks[0].taskArn;

  await aws('ecs', 'wait', 'tasks-running', '--tasks', taskArn);
  const running = (await aws('ecs', 'describe-tasks', '--tasks', taskArn)).tasks[0];
  assert.equal(running.lastStatus, 'RUNNING');
  assert.equal(running.containers[0].lastStatus, 'RUNNING');
  assert.ok(running.startedAt, 'startedAt is set');
  assert.ok(running.pullStartedAt && running.pullStoppedAt, 'pull timestamps are set');
  assert.match(running.containers[0].runtimeId, /^[0-9a-f]{64}$/);
  const binding = running.containers[0].networkBindings[0];
  assert.equal(binding.containerPort, 8080);
  assert.equal(binding.bindIP, '127.0.0.1');
  assert.ok(binding.hostPort > 0);

  const res = await fetch(`http://127.0.0.1:${binding.hostPort}/`);
  assert.equal(res.status, 200);
  assert.equal(await res.text(), 'hello from dockyard\n');

  const listed = await aws('ecs', 'list-tasks', '--started-by', 'cli-test');
  assert.deepEqual(listed.taskArns, [taskArn]);

  await aws('ecs', 'stop-task', '--task', taskArn, '--reason', 'end of the CLI test');
  await aws('ecs', 'wait', 'tasks-stopped', '--tasks', taskArn);
  const stopped = (await aws('ecs', 'describe-tasks', '--tasks', taskArn)).tasks[0];
  assert.equal(stopped.lastStatus, 'STOPPED');
  assert.equal(stopped.desiredStatus, 'STOPPED');
  assert.equal(stopped.stopCode, 'UserInitiated');
  assert.equal(stopped.stoppedReason, 'end of the CLI test');
  assert.ok(stopped.stoppedAt && stopped.stoppingAt && stopped.executionStoppedAt);
  // busybox httpd as PID 1 ignores SIGTERM, so the agent sends SIGKILL after stopTimeout (2 s).
  assert.equal(stopped.containers[0].exitCode, 137);
  assert.equal(stopped.containers[0].lastStatus, 'STOPPED');
  await assert.rejects(fetch(`http://127.0.0.1:${binding.hostPort}/`));
});
