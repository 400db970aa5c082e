/**
 * `dockyard up` as users and scripts run it: a separate process with --port, --host and
 * --data-dir, GET /health once ready, SIGTERM for a clean stop, and state kept in the data dir;
 * the root access key it creates, prints (stderr, never the JSON logs) and keeps (0600);
 * `dockyard credentials` and its AWS CLI profile; `--accept-any-credentials`; `--account-id` with
 * `--enable-reset` and `dockyard reset`.
 */
import { CreateClusterCommand, ECSClient, ListClustersCommand } from '@aws-sdk/client-ecs';
import assert from 'node:assert/strict';
import { execFile, spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { freePort } from './helpers/net.js';

const run = promisify(execFile);

const BIN = new URL('../bin/dockyard.mjs', import.meta.url).pathname;
const dataDir = mkdtempSync(join(tmpdir(), 'dockyard-up-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));

/** This test is about the control plane: leave the embedded agent (Docker) out when `up` has one. */
const noAgent = execFileSync(process.execPath, [BIN, 'up', '--help'], { encoding: 'utf8' }).includes('--no-agent') ? ['--no-agent'] : [];

interface Up {
  child: ChildProcess;
  exited: Promise<number | null>;
  stdout: () => string;
  stderr: () => string;
}

async function up(port: number, extra: string[] = [], dir = dataDir): Promise<Up> {
  const child = spawn(process.execPath, [BIN, 'up', '--port', String(port), '--host', '127.0.0.1', '--data-dir', dir, '--log-level', 'info', ...noAgent, ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    assert.equal(child.exitCode, null, 'dockyard up exited early');
    try {
      const res = await fetch(`http://127.0.0.1:${port}/health`);
      if (res.ok) {
        // The start-up banner follows readiness by a moment.
        while (Date.now() < deadline && !/export AWS_ACCESS_KEY_ID|accept-any-credentials/.test(stderr)) await new Promise((r) => setTimeout(r, 50));
        return { child, exited, stdout: () => stdout, stderr: () => stderr };
      }
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error('dockyard up did not answer /health within 60 s');
}

/** The key from the `export AWS_ACCESS_KEY_ID=… AWS_SECRET_ACCESS_KEY=… AWS_DEFAULT_REGION=…` line. */
function printedKey(text: string): { accessKeyId: string; secretAccessKey: string; region: string } {
  const m = /^export AWS_ACCESS_KEY_ID=(\S+) AWS_SECRET_ACCESS_KEY=(\S+) AWS_DEFAULT_REGION=(\S+)$/m.exec(text);
  assert.ok(m, `an export line in: ${text}`);
  return { accessKeyId: m[1]!, secretAccessKey: m[2]!, region: m[3]! };
}

async function stop(server: Up): Promise<void> {
  if (server.child.exitCode !== null) return;
  server.child.kill('SIGTERM');
  await Promise.race([server.exited, new Promise((r) => setTimeout(r, 10_000))]);
  if (server.child.exitCode === null) server.child.kill('SIGKILL');
}

test('dockyard up serves /health and ECS on --port, stops on SIGTERM, and keeps state in --data-dir', async () => {
  const port = await freePort();
  let server = await up(port);
  const key = printedKey(server.stderr());
  assert.match(key.accessKeyId, /^AKIA[A-Z2-7]{16}$/);
  assert.equal(key.secretAccessKey.length, 40);
  assert.equal(key.region, 'us-east-1');
  assert.ok(!server.stdout().includes(key.secretAccessKey), 'the secret never reaches the JSON logs');
  assert.ok(server.stdout().includes('listening'), 'the JSON logs are on stdout');
  const keyFile = join(dataDir, 'root-access-key.json');
  assert.equal(statSync(keyFile).mode & 0o777, 0o600, 'the root key file is owner-readable only');
  const credentials = { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey };
  const ecs = new ECSClient({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', credentials, maxAttempts: 1 });
  const wrong = new ECSClient({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', credentials: { ...credentials, secretAccessKey: 'x'.repeat(40) }, maxAttempts: 1 });
  try {
    await assert.rejects(wrong.send(new CreateClusterCommand({ clusterName: 'intruder' })), { name: 'InvalidSignatureException' });
    const health = (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as { status: string; version: string; services: string[] };
    assert.equal(health.status, 'ok');
    assert.ok(health.services.includes('ecs'));
    await ecs.send(new CreateClusterCommand({ clusterName: 'survives' }));
    assert.ok(existsSync(join(dataDir, 'dockyard.db')), 'state lives in --data-dir');

    server.child.kill('SIGTERM');
    assert.equal(await server.exited, 0, 'clean exit on SIGTERM');

    server = await up(port);
    assert.deepEqual(printedKey(server.stderr()), key, 'the same root key after a restart');
    const clusters = await ecs.send(new ListClustersCommand({}));
    assert.ok(clusters.clusterArns!.includes('arn:aws:ecs:us-east-1:000000000000:cluster/survives'));
    assert.ok(!clusters.clusterArns!.some((arn) => arn.endsWith('/intruder')));

    // `dockyard credentials` prints the same lines, and writes a profile the AWS CLI v2 uses.
    const home = mkdtempSync(join(tmpdir(), 'dockyard-home-'));
    try {
      const env = { ...process.env, AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'), AWS_CONFIG_FILE: join(home, 'config') };
      writeFileSync(env.AWS_SHARED_CREDENTIALS_FILE, '[work]\naws_access_key_id = AKIAOTHER\naws_secret_access_key = other\n');
      const printed = await run(process.execPath, [BIN, 'credentials', '--data-dir', dataDir, '--profile', 'dockyard', '--endpoint-url', `http://127.0.0.1:${port}`], { env });
      assert.deepEqual(printedKey(printed.stdout), key);
      const credentialsText = readFileSync(env.AWS_SHARED_CREDENTIALS_FILE, 'utf8');
      assert.match(readFileSync(env.AWS_CONFIG_FILE, 'utf8'), /\[profile dockyard\]\nregion = us-east-1\nendpoint_url = http:\/\/127\.0\.0\.1:\d+\n/);
      assert.match(credentialsText, /\[work\]\naws_access_key_id = AKIAOTHER/, 'the other profile is kept');
      assert.equal(statSync(env.AWS_SHARED_CREDENTIALS_FILE).mode & 0o777, 0o600);
      const cli = await run('/usr/bin/aws', ['--profile', 'dockyard', '--endpoint-url', `http://127.0.0.1:${port}`, 'ecs', 'list-clusters', '--output', 'json'], { env: { ...env, AWS_PAGER: '' } });
      assert.ok((JSON.parse(cli.stdout) as { clusterArns: string[] }).clusterArns.some((arn) => arn.endsWith('/survives')), cli.stdout);
      // An existing, different profile of that name is never overwritten.
      await assert.rejects(run(process.execPath, [BIN, 'credentials', '--data-dir', dataDir, '--profile', 'work'], { env }), (e: { stderr: string }) =>
        /already exists/.test(e.stderr),
      );
      assert.equal(readFileSync(env.AWS_SHARED_CREDENTIALS_FILE, 'utf8'), credentialsText);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  } finally {
    ecs.destroy();
    wrong.destroy();
    await stop(server);
  }
});

test('dockyard up writes JSON log lines to a pipe, and readable lines with --log-format pretty', async () => {
  for (const [format, check] of [
    [[], (line: string) => assert.doesNotThrow(() => JSON.parse(line), `a JSON line: ${line}`)],
    [['--log-format', 'pretty'], (line: string) => assert.match(line, /^\[\d\d:\d\d:\d\d\] INFO: Dockyard .* listening on http/, `a readable line: ${line}`)],
  ] as const) {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'dockyard-up-log-'));
    const server = await up(port, [...format], dir);
    try {
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline && !/listening on http/.test(server.stdout())) await new Promise((r) => setTimeout(r, 50));
      const line = server.stdout().split('\n').find((l) => /listening on http/.test(l));
      assert.ok(line, `a 'listening on' line in: ${server.stdout()}`);
      check(line);
      assert.doesNotMatch(server.stdout(), /AWS_SECRET_ACCESS_KEY/, 'the root key never reaches the log');
    } finally {
      await stop(server);
      rmSync(dir, { recursive: true, force: true });
    }
  }
});

test('dockyard up --accept-any-credentials says so at start-up and accepts any key', async () => {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'dockyard-up-any-'));
  const server = await up(port, ['--accept-any-credentials'], dir);
  const ecs = new ECSClient({ endpoint: `http://127.0.0.1:${port}`, region: 'eu-west-1', credentials: { accessKeyId: 'anything', secretAccessKey: 'goes' }, maxAttempts: 1 });
  try {
    assert.match(server.stderr(), /accept-any-credentials: signatures are NOT verified/);
    assert.doesNotMatch(server.stderr(), /export AWS_ACCESS_KEY_ID/);
    const created = await ecs.send(new CreateClusterCommand({ clusterName: 'open' }));
    assert.equal(created.cluster!.clusterArn, 'arn:aws:ecs:eu-west-1:000000000000:cluster/open');
  } finally {
    ecs.destroy();
    await stop(server);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('dockyard up --account-id N --enable-reset: ARNs carry N, `dockyard reset` with the printed root key wipes state, N stays', async () => {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'dockyard-up-reset-'));
  const server = await up(port, ['--account-id', '123456789012', '--enable-reset'], dir);
  const key = printedKey(server.stderr());
  const credentials = { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey };
  const ecs = new ECSClient({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', credentials, maxAttempts: 1 });
  try {
    const created = await ecs.send(new CreateClusterCommand({ clusterName: 'before-reset' }));
    assert.equal(created.cluster!.clusterArn, 'arn:aws:ecs:us-east-1:123456789012:cluster/before-reset');
    const env = { ...process.env, AWS_ACCESS_KEY_ID: key.accessKeyId, AWS_SECRET_ACCESS_KEY: key.secretAccessKey };
    // Another key (not the root's) is refused.
    await assert.rejects(run(process.execPath, [BIN, 'reset', '--endpoint', `http://127.0.0.1:${port}`], { env: { ...env, AWS_SECRET_ACCESS_KEY: 'x'.repeat(40) } }), (e: { stderr: string }) =>
      /reset refused \(4\d\d\)/.test(e.stderr),
    );
    const reset = await run(process.execPath, [BIN, 'reset', '--endpoint', `http://127.0.0.1:${port}`], { env });
    assert.match(reset.stdout, /^reset http:\/\/127\.0\.0\.1:\d+ in [\d.]+ ms/);
    // `up` keeps a default cluster; everything else is gone, and the account id is unchanged.
    assert.deepEqual((await ecs.send(new ListClustersCommand({}))).clusterArns, ['arn:aws:ecs:us-east-1:123456789012:cluster/default']);
    const again = await ecs.send(new CreateClusterCommand({ clusterName: 'after-reset' }));
    assert.equal(again.cluster!.clusterArn, 'arn:aws:ecs:us-east-1:123456789012:cluster/after-reset');
  } finally {
    ecs.destroy();
    await stop(server);
    rmSync(dir, { recursive: true, force: true });
  }
});
