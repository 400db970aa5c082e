/**
 * Starts `dockyard up` as a separate process for a benchmark (so the load generator and the
 * server are measured as users run them), and stops it by pid.
 */
import { ListContainerInstancesCommand, type ECSClient } from '@aws-sdk/client-ecs';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadOrCreateRootKey, type AccessKey } from '../../src/iam/root-key.js';
import { removeAgentLeftovers } from '../../test/helpers/docker.js';
import { freePort } from '../../test/helpers/net.js';

export interface DockyardProcess {
  endpoint: string;
  port: number;
  pid: number;
  dataDir: string;
  /** The root access key `up` created in the data dir (what the benchmark's clients sign with). */
  credentials: AccessKey;
  stop(): Promise<void>;
}

export async function startDockyardProcess(args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<DockyardProcess> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'dockyard-bench-'));
  const bin = fileURLToPath(new URL('../../bin/dockyard.mjs', import.meta.url));
  // DOCKYARD_BENCH_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", profiles the server.
  const nodeArgs = (process.env.DOCKYARD_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, bin, 'up', '--port', String(port), '--data-dir', dataDir, '--log-level', 'warn', ...args], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, ...env },
  });
  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await untilHealthy(child, endpoint);
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  return {
    endpoint,
    port,
    pid: child.pid!,
    dataDir,
    credentials: loadOrCreateRootKey(dataDir),
    stop: () => stopAndRemove(child, dataDir),
  };
}

/**
 * Waits until `dockyard up` (the child) answers GET /health 200, polling every `pollMs`; throws
 * when the child exits first or 60 s pass (the caller decides how to end the child).
 */
export async function untilHealthy(child: ChildProcess, endpoint: string, pollMs = 100): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`dockyard exited with ${child.exitCode}`);
    const ok = await fetch(`${endpoint}/health`).then((r) => r.status === 200, () => false); // false: not listening yet
    if (ok) return;
    if (Date.now() > deadline) throw new Error('dockyard did not become healthy within 60 s');
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** Stops a `dockyard up` (SIGTERM, SIGKILL after 20 s), removes what its embedded agent left in Docker, and its data dir. */
export async function stopAndRemove(child: ChildProcess, dataDir: string): Promise<void> {
  if (child.exitCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
  // The embedded agent leaves stopped containers for its cleanup delay: remove them (by its instance label).
  const instanceFile = join(dataDir, 'agent', 'instance.json');
  if (existsSync(instanceFile)) removeAgentLeftovers((JSON.parse(readFileSync(instanceFile, 'utf8')) as { instanceId: string }).instanceId);
  rmSync(dataDir, { recursive: true, force: true });
}

/** Resident set size of a process in MiB (Linux /proc). */
export async function rssMiB(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

/**
 * CPU time (user + system, seconds) used so far by a process and all its live descendants (Linux
 * /proc; clock ticks of 10 ms). Read before and after a run, it gives the CPU a side spent on it.
 */
export async function treeCpuSeconds(rootPid: number): Promise<number> {
  const { readdir, readFile } = await import('node:fs/promises');
  const stats: { pid: number; ppid: number; ticks: number }[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const text = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => undefined); // gone meanwhile
    if (!text) continue;
    // Fields after the parenthesised command: state ppid … utime(14) stime(15).
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    stats.push({ pid: Number(name), ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) });
  }
  const tree = new Set([rootPid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const s of stats) if (!tree.has(s.pid) && tree.has(s.ppid)) (tree.add(s.pid), (grew = true));
  }
  return stats.filter((s) => tree.has(s.pid)).reduce((sum, s) => sum + s.ticks, 0) / 100;
}

/** Waits (at most 10 s) until the embedded agent of `dockyard up` has registered its container instance. */
export async function untilEmbeddedAgentRegistered(ecs: ECSClient): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if ((await ecs.send(new ListContainerInstancesCommand({}))).containerInstanceArns?.length) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}
