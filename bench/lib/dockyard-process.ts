/**
 * Starts `dockyard up` as a separate process for a benchmark (so the load generator and the
 * server are measured as users run them), and stops it by pid.
 */
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
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`dockyard exited with ${child.exitCode}`);
    try {
      const res = await fetch(`${endpoint}/health`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error('dockyard did not become healthy within 60 s');
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    endpoint,
    port,
    pid: child.pid!,
    dataDir,
    credentials: loadOrCreateRootKey(dataDir),
    async stop() {
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
    },
  };
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Resident set size of a process in MiB (Linux /proc). */
export async function rssMiB(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}
