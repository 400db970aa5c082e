/**
 * The load balancer in front of real containers: two busybox httpd containers (published on
 * 127.0.0.1, each serving its own page), a target group health-checking `/`, a listener. Requests
 * reach both; `docker kill` of one makes it unhealthy and every request then reaches the other,
 * with no failed request once the kill is detected. The AWS CLI (v2) drives the API.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { AWS_CLI_V2 } from './helpers/aws-cli.js';
import { docker } from './helpers/docker.js';
import { startDockyard, type TestDockyard } from './helpers/dockyard.js';
import { buildHttpdImage } from './helpers/images.js';
import { eventually, hit } from './helpers/lb.js';
import { freePort } from './helpers/net.js';

const run = promisify(execFile);
let d: TestDockyard;
let dir: string;
const containers: string[] = [];

before(async () => {
  d = await startDockyard({ loadBalancing: { bindHost: '127.0.0.1' } });
  dir = mkdtempSync(join(tmpdir(), 'dockyard-lb-containers-'));
});
after(async () => {
  for (const id of containers) docker('rm', '-f', id);
  await d.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function aws(args: string[]) {
  const { stdout } = await run(AWS_CLI_V2, ['elbv2', ...args, '--endpoint-url', d.endpoint, '--output', 'json'], { env: d.cliEnv, timeout: 60_000 });
  return stdout.trim() ? JSON.parse(stdout) : {};
}

/** A busybox httpd container serving `page` at /, published on a 127.0.0.1 port; its id and port. */
function httpd(page: string): { id: string; port: number } {
  const www = join(dir, page);
  mkdirSync(www);
  writeFileSync(join(www, 'index.html'), `${page}\n`);
  const id = docker('run', '-d', '--label', 'dockyard-test=lb-containers', '-p', '127.0.0.1::8080', '-v', `${www}:/www:ro`, buildHttpdImage());
  containers.push(id);
  const port = Number(docker('port', id, '8080/tcp').split('\n')[0]!.split(':').pop());
  return { id, port };
}

test('traffic reaches both busybox containers; a killed one stops getting traffic', { timeout: 120_000 }, async () => {
  const one = httpd('one');
  const two = httpd('two');
  const lb = (await aws(['create-load-balancer', '--name', 'bb'])).LoadBalancers[0];
  const tg = (await aws(['create-target-group', '--name', 'bb', '--protocol', 'HTTP', '--port', '8080', '--vpc-id', 'vpc-1', '--target-type', 'ip', '--health-check-path', '/', '--health-check-interval-seconds', '5', '--health-check-timeout-seconds', '2', '--healthy-threshold-count', '2', '--unhealthy-threshold-count', '2'])).TargetGroups[0];
  await aws(['register-targets', '--target-group-arn', tg.TargetGroupArn, '--targets', `Id=127.0.0.1,Port=${one.port}`, `Id=127.0.0.1,Port=${two.port}`]);
  const port = await freePort();
  await aws(['create-listener', '--load-balancer-arn', lb.LoadBalancerArn, '--protocol', 'HTTP', '--port', String(port), '--default-actions', `Type=forward,TargetGroupArn=${tg.TargetGroupArn}`]);
  const health = async () => Object.fromEntries((await aws(['describe-target-health', '--target-group-arn', tg.TargetGroupArn])).TargetHealthDescriptions.map((h: { Target: { Port: number }; TargetHealth: { State: string } }) => [h.Target.Port, h.TargetHealth.State]));
  await eventually(async () => {
    const h = await health();
    return h[one.port] === 'healthy' && h[two.port] === 'healthy' ? true : undefined;
  }, 'both containers healthy', 60_000);

  // Sequential: busybox httpd's listen backlog is tiny (BASELINES.md).
  const pages = [];
  for (let i = 0; i < 6; i++) pages.push((await hit(port, '/')).body.trim());
  assert.deepEqual([...new Set(pages)].sort(), ['one', 'two']);
  const { stdout } = await run('curl', ['-sS', '--max-time', '10', `http://${lb.DNSName}:${port}/`]);
  assert.match(stdout, /^(one|two)$/m, 'the DNS name works from the host');

  docker('kill', one.id);
  await eventually(async () => ((await health())[one.port] === 'unhealthy' ? true : undefined), 'the killed container unhealthy', 60_000);
  const after = [];
  for (let i = 0; i < 8; i++) {
    const a = await hit(port, '/');
    after.push(`${a.status} ${a.body.trim()}`);
  }
  assert.deepEqual(after, Array(8).fill('200 two'));
});
