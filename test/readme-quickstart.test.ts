/**
 * The README's quickstart as a newcomer pastes it: the first `sh` block under "## Quickstart" is
 * read from README.md and run by bash (with `set -euo pipefail`, so any failing command fails the
 * test) against a Dockyard with its embedded agent on real Docker, with the AWS CLI v1 and the
 * stock docker CLI. It builds and pushes the busybox image, runs and stops a task, puts a service
 * of two tasks behind a load balancer, adds CPU target tracking and cleans up.
 *
 * Only what cannot be pasted as is gets replaced: the API port (4600 → this server's), the
 * listener port (8000 → a free one), the credentials line (the environment holds the test key),
 * and docker's config (a private DOCKER_CONFIG). Images tagged by the block are removed by their
 * exact tags at the end.
 */
import { ApplicationAutoScalingClient, DescribeScalableTargetsCommand } from '@aws-sdk/client-application-auto-scaling';
import { DescribeServicesCommand } from '@aws-sdk/client-ecs';
import { DescribeLoadBalancersCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { requireCliV1 } from './helpers/aws-cli.js';
import { credentials, startDockyard, type TestDockyard } from './helpers/dockyard.js';
import { freePort } from './helpers/net.js';

const README = join(import.meta.dirname, '..', 'README.md');
let d: TestDockyard;
let dir: string;

/** The first ```sh block after the "## Quickstart" heading. */
function quickstartBlock(): string {
  const text = readFileSync(README, 'utf8');
  const section = text.indexOf('\n## Quickstart');
  assert.ok(section >= 0, 'README has a Quickstart section');
  const start = text.indexOf('```sh\n', section);
  const end = text.indexOf('\n```\n', start);
  assert.ok(start > 0 && end > start, 'the Quickstart has an sh block');
  return text.slice(start + '```sh\n'.length, end + 1);
}

before(async () => {
  d = await startDockyard({ embeddedAgent: { bindIp: '127.0.0.1', cleanupDelayMs: 60_000 }, loadBalancing: { bindHost: '127.0.0.1' } } as never);
  dir = mkdtempSync(join(tmpdir(), 'dockyard-readme-'));
});
after(async () => {
  const port = d?.port;
  // Stopping removes the agent's containers first: an image still used by one cannot be removed.
  await d?.stop();
  for (const ref of ['hello:1', `127.0.0.1:${port}/hello:1`]) {
    try {
      execFileSync('docker', ['rmi', ref], { stdio: 'ignore' });
    } catch {
      // not tagged: the block failed before
    }
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the README quickstart runs as written', { timeout: 300_000 }, async () => {
  const block = quickstartBlock();
  for (const step of ['docker push', 'ecs run-task', 'elbv2 create-listener', 'ecs create-service', 'put-scaling-policy', 'ecs delete-service']) {
    assert.ok(block.includes(step), `the quickstart still does ${step}`);
  }
  const listenerPort = await freePort();
  const credentialsLine = 'eval "$(./dockyard credentials)"';
  assert.ok(block.includes(credentialsLine), 'the quickstart starts from the credentials line');
  const script = block
    .replace(credentialsLine, ': credentials come from the environment')
    .replaceAll('127.0.0.1:4600', `127.0.0.1:${d.port}`)
    .replaceAll('--port 8000', `--port ${listenerPort}`)
    .replaceAll('127.0.0.1:8000', `127.0.0.1:${listenerPort}`);
  writeFileSync(join(dir, 'quickstart.sh'), `set -euo pipefail\n${script}`);
  const cli = requireCliV1();
  const env = { ...d.cliEnv, PATH: `${dirname(cli)}:${process.env.PATH}`, DOCKER_CONFIG: join(dir, 'docker-config'), AWS_PAGER: '' };
  const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile('bash', ['quickstart.sh'], { cwd: dir, env, timeout: 280_000, maxBuffer: 32 * 1024 * 1024 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
  assert.equal(code, 0, `the quickstart failed:\n${stdout.slice(-4000)}\n${stderr.slice(-4000)}`);

  // Step 3's curl on the task's port and step 5's on the listener.
  assert.equal(stdout.match(/^hello from dockyard$/gm)?.length, 2, stdout.slice(-4000));
  // Step 4: stopped, with the reason given and busybox's exit code.
  assert.match(stdout, /^STOPPED\tdone with the quickstart\t\d+$/m);
  // Step 5: both tasks' targets healthy in the target group.
  assert.equal(stdout.match(/^i-[0-9a-f]+\t\d+\thealthy$/gm)?.length, 2, stdout.slice(-4000));
  // Step 6: target tracking created its two alarms.
  assert.match(stdout, /TargetTracking-service\/default\/hello-AlarmHigh-/);
  assert.match(stdout, /TargetTracking-service\/default\/hello-AlarmLow-/);

  // Step 8 left nothing behind.
  const [service] = (await d.ecs.send(new DescribeServicesCommand({ services: ['hello'] }))).services!;
  assert.equal(service!.status, 'INACTIVE');
  const elb = new ElasticLoadBalancingV2Client({ endpoint: d.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
  const aas = new ApplicationAutoScalingClient({ endpoint: d.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
  try {
    assert.deepEqual((await elb.send(new DescribeLoadBalancersCommand({}))).LoadBalancers, []);
    assert.deepEqual((await aas.send(new DescribeScalableTargetsCommand({ ServiceNamespace: 'ecs' }))).ScalableTargets, []);
  } finally {
    elb.destroy();
    aas.destroy();
  }
});
