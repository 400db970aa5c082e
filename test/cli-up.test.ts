/**
 * `dockyard up` as users and scripts run it: a separate process with --port, --host and
 * --data-dir, GET /health once ready, SIGTERM for a clean stop, and state kept in the data dir.
 */
import { CreateClusterCommand, ECSClient, ListClustersCommand } from '@aws-sdk/client-ecs';
import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { credentials } from './helpers/dockyard.js';
import { freePort } from './helpers/net.js';

const BIN = new URL('../bin/dockyard.mjs', import.meta.url).pathname;
const dataDir = mkdtempSync(join(tmpdir(), 'dockyard-up-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));

/** This test is about the control plane: leave the embedded agent (Docker) out when `up` has one. */
const noAgent = execFileSync(process.execPath, [BIN, 'up', '--help'], { encoding: 'utf8' }).includes('--no-agent') ? ['--no-agent'] : [];

async function up(port: number): Promise<{ child: ChildProcess; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, [BIN, 'up', '--port', String(port), '--host', '127.0.0.1', '--data-dir', dataDir, '--log-level', 'warn', ...noAgent], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    assert.equal(child.exitCode, null, 'dockyard up exited early');
    try {
      const res = await fetch(`http://127.0.0.1:${port}/health`);
      if (res.ok) return { child, exited };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error('dockyard up did not answer /health within 60 s');
}

test('dockyard up serves /health and ECS on --port, stops on SIGTERM, and keeps state in --data-dir', async () => {
  const port = await freePort();
  let server = await up(port);
  const ecs = new ECSClient({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', credentials, maxAttempts: 1 });
  try {
    const health = (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as { status: string; version: string; services: string[] };
    assert.equal(health.status, 'ok');
    assert.ok(health.services.includes('ecs'));
    await ecs.send(new CreateClusterCommand({ clusterName: 'survives' }));
    assert.ok(existsSync(join(dataDir, 'dockyard.db')), 'state lives in --data-dir');

    server.child.kill('SIGTERM');
    assert.equal(await server.exited, 0, 'clean exit on SIGTERM');

    server = await up(port);
    const clusters = await ecs.send(new ListClustersCommand({}));
    assert.ok(clusters.clusterArns!.includes('arn:aws:ecs:us-east-1:000000000000:cluster/survives'));
  } finally {
    ecs.destroy();
    if (server.child.exitCode === null) {
      server.child.kill('SIGTERM');
      await Promise.race([server.exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (server.child.exitCode === null) server.child.kill('SIGKILL');
    }
  }
});
