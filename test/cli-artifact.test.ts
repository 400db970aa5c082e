/**
 * The built artifact: bin/dockyard.mjs runs dist/ (compiled by `npm run build`; `npm test` and
 * ./dockyard build it first), DOCKYARD_DEV=1 runs the sources through tsx, and each command loads
 * only what it runs: `dockyard agent` never loads the control plane (fastify, better-sqlite3,
 * the server, store, services and registry modules). Which modules a process loaded is read from
 * a resolve hook (test/helpers/record-modules.mjs) that logs every URL the loader resolves.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = new URL('..', import.meta.url).pathname;
const BIN = join(ROOT, 'bin/dockyard.mjs');
const HOOK = new URL('./helpers/record-modules.mjs', import.meta.url).href;
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const work = mkdtempSync(join(tmpdir(), 'dockyard-artifact-'));
after(() => rmSync(work, { recursive: true, force: true }));

let logs = 0;
/** Runs node with the recording hook; returns its exit code, output and the resolved module URLs. */
async function loaded(args: string[], env: NodeJS.ProcessEnv = {}) {
  const log = join(work, `modules-${++logs}.txt`);
  const { DOCKYARD_DEV: _dev, ...base } = process.env;
  const done = await run(process.execPath, ['--import', HOOK, ...args], { cwd: ROOT, env: { ...base, ...env, DOCKYARD_MODULE_LOG: log }, timeout: 30_000 }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
  let urls: string[] = [];
  try {
    urls = readFileSync(log, 'utf8').split('\n').filter(Boolean);
  } catch {
    // nothing was resolved (the process failed before loading anything)
  }
  return { ...done, urls };
}

const isPackage = (url: string, name: string) => url.includes(`/node_modules/${name}/`);
const dist = (url: string) => (url.startsWith(`file://${ROOT}dist/`) ? url.slice(`file://${ROOT}dist/`.length) : undefined);
/** The control plane's modules and packages; server/config.js and server/version.js are its settings and version string (node built-ins only), which the CLI's flags need. */
function controlPlane(urls: string[]): string[] {
  return urls.filter((url) => {
    if (isPackage(url, 'fastify') || isPackage(url, 'better-sqlite3')) return true;
    const file = dist(url) ?? (url.startsWith(`file://${ROOT}src/`) ? url.slice(`file://${ROOT}src/`.length) : undefined);
    if (!file) return false;
    return /^(server|store|services|registry)\//.test(file) && !/^server\/(config|version)\.(js|ts)$/.test(file);
  });
}

test('the recording hook sees fastify and better-sqlite3 when they are imported (the checks below can fail)', async () => {
  const r = await loaded(['--input-type=module', '-e', "await import('fastify'); await import('better-sqlite3');"]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.urls.some((u) => isPackage(u, 'fastify')), 'fastify recorded');
  assert.ok(r.urls.some((u) => isPackage(u, 'better-sqlite3')), 'better-sqlite3 recorded');
});

test('dockyard --version runs the built JavaScript: no tsx, no TypeScript, no control plane', async () => {
  const r = await loaded([BIN, '--version']);
  assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`);
  assert.equal(r.stdout.trim(), VERSION);
  assert.ok(r.urls.some((u) => dist(u) === 'cli/main.js'), `dist/cli/main.js loaded; got ${r.urls.join(' ')}`);
  assert.deepEqual(r.urls.filter((u) => isPackage(u, 'tsx') || u.endsWith('.ts')), []);
  assert.deepEqual(controlPlane(r.urls), []);
});

test('DOCKYARD_DEV=1 runs the TypeScript sources through tsx', async () => {
  const r = await loaded([BIN, '--version'], { DOCKYARD_DEV: '1' });
  assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`);
  assert.equal(r.stdout.trim(), VERSION);
  assert.ok(r.urls.includes(`file://${ROOT}src/cli/main.ts`), 'src/cli/main.ts loaded');
  assert.ok(!r.urls.some((u) => dist(u)), 'nothing from dist/');
});

test('dockyard agent loads the agent and not the control plane', async () => {
  // A Docker socket that does not exist: the agent loads everything it runs, fails its first
  // Docker call (adopting containers) and exits 1 without touching this host's Docker Engine.
  const r = await loaded([BIN, 'agent', '--endpoint', 'http://127.0.0.1:9', '--token', 'dyjt.000000000000.x', '--state-dir', join(work, 'agent-state'), '--docker-socket', join(work, 'no-docker.sock'), '--no-task-endpoint', '--log-level', 'error']);
  assert.equal(r.code, 1, `the agent should fail on the missing socket; stderr: ${r.stderr}`);
  assert.match(r.stdout, /could not join the control plane/);
  for (const module of ['agent/agent.js', 'agent/runtime/docker.js', 'agent/client.js']) {
    assert.ok(r.urls.some((u) => dist(u) === module), `dist/${module} loaded`);
  }
  assert.ok(r.urls.some((u) => isPackage(u, 'dockerode')), 'dockerode loaded');
  assert.deepEqual(controlPlane(r.urls), [], 'control-plane modules loaded by `dockyard agent`');
});
