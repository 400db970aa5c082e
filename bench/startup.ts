/**
 * Start-up time as a user sees it: `./dockyard --version` until it exits, and `./dockyard up`
 * (a fresh data dir each time; with the embedded agent, and with --no-agent) until GET /health
 * answers 200. Three builds of Dockyard, interleaved round by round so that load from other work
 * on the machine falls on all of them alike:
 *   before   a ref of this repository (default 7820b24, the last commit before the built artifact and issue 7) exported with `git archive` and run as it
 *            is there (bin/dockyard.mjs through tsx from the sources), sharing this tree's node_modules
 *   dev      this tree through tsx from the sources (DOCKYARD_DEV=1)
 *   after    this tree's built JavaScript in dist/ (./dockyard builds it before the first round)
 * Each figure is the median of the rounds, with min and max beside it. Output: JSON on stdout.
 *   node --import tsx bench/startup.ts [--rounds 7] [--before-ref 7820b24] > bench/results/startup.json
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { freePort } from '../test/helpers/net.js';
import { stopAndRemove, untilHealthy } from './lib/dockyard-process.js';
import { percentiles, round } from './lib/stats.js';

const { values: flags } = parseArgs({ options: { rounds: { type: 'string', default: '7' }, 'before-ref': { type: 'string', default: '7820b24' } } });
const rounds = Number(flags.rounds);
const beforeRef = flags['before-ref']!;
const here = new URL('..', import.meta.url).pathname;

interface Variant {
  name: string;
  describe: string;
  root: string;
  env: NodeJS.ProcessEnv;
}

/** The `before` tree: `git archive <ref>`, with this tree's node_modules (tsx and every runtime package are there). */
function exportRef(ref: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'dockyard-startup-before-'));
  execFileSync('bash', ['-c', `git -C "${here}" archive "${ref}" | tar -x -C "${dir}"`]);
  symlinkSync(join(here, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

const beforeRoot = exportRef(beforeRef);
const beforeCommit = execFileSync('git', ['-C', here, 'rev-parse', '--short', beforeRef], { encoding: 'utf8' }).trim();
const afterCommit = execFileSync('git', ['-C', here, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
const { DOCKYARD_DEV: _dev, ...env } = process.env;
const variants: Variant[] = [
  { name: 'before', describe: `${beforeRef} (${beforeCommit}): bin/dockyard.mjs runs src/ through tsx`, root: beforeRoot, env },
  { name: 'dev', describe: `this tree (${afterCommit}) with DOCKYARD_DEV=1: src/ through tsx, commands imported lazily`, root: here, env: { ...env, DOCKYARD_DEV: '1' } },
  { name: 'after', describe: `this tree (${afterCommit}): the built JavaScript in dist/`, root: here, env },
];

const now = () => performance.now();

/** `./dockyard --version`: spawn to exit, in ms. */
async function versionMs(v: Variant): Promise<number> {
  const start = now();
  const child = spawn(join(v.root, 'dockyard'), ['--version'], { env: v.env, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d));
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  const ms = now() - start;
  if (code !== 0 || !/^\d+\.\d+\.\d+/.test(out)) throw new Error(`${v.name}: dockyard --version exited ${code}: ${out}`);
  return ms;
}

/** `./dockyard up` with a fresh data dir: spawn until GET /health answers 200, in ms; then SIGTERM and clean up. */
async function upMs(v: Variant, extra: string[]): Promise<number> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'dockyard-startup-'));
  const start = now();
  const child = spawn(join(v.root, 'dockyard'), ['up', '--port', String(port), '--data-dir', dataDir, '--log-level', 'warn', ...extra], { env: v.env, stdio: ['ignore', 'ignore', 'ignore'] });
  try {
    await untilHealthy(child, `http://127.0.0.1:${port}`, 5).catch((e: Error) => {
      throw new Error(`${v.name}: ${e.message}`);
    });
    return now() - start;
  } finally {
    await stopAndRemove(child, dataDir);
  }
}

const measures: [name: string, run: (v: Variant) => Promise<number>][] = [
  ['version', versionMs],
  ['upWithAgent', (v) => upMs(v, [])],
  ['upNoAgent', (v) => upMs(v, ['--no-agent'])],
];

const loadBefore = loadavg();
const startedAt = new Date().toISOString();
// Warm-up (page cache, the first build of dist/ by ./dockyard, Docker's first answers), not counted.
for (const v of variants) for (const [, run] of measures) await run(v);
const samples: Record<string, Record<string, number[]>> = Object.fromEntries(variants.map((v) => [v.name, Object.fromEntries(measures.map(([m]) => [m, []]))]));
for (let r = 0; r < rounds; r++) {
  // Rotate which variant goes first each round.
  for (let i = 0; i < variants.length; i++) {
    const v = variants[(r + i) % variants.length]!;
    for (const [m, run] of measures) samples[v.name]![m]!.push(await run(v));
  }
  process.stderr.write(`round ${r + 1}/${rounds} done\n`);
}
rmSync(beforeRoot, { recursive: true, force: true });

const summary = (xs: number[]) => {
  const [min, median, max] = percentiles(xs, [0, 50, 100]).map((x) => round(x, 0));
  return { medianMs: median, minMs: min, maxMs: max, samplesMs: xs.map((x) => round(x, 1)) };
};
process.stdout.write(
  `${JSON.stringify(
    {
      benchmark: 'startup',
      startedAt,
      finishedAt: new Date().toISOString(),
      machine: { cpus: cpus().length, node: process.version, loadavgBefore: loadBefore.map((x) => round(x, 2)), loadavgAfter: loadavg().map((x) => round(x, 2)), note: 'shared machine: other engineers\u2019 work ran at the same time' },
      how: 'spawned as a user runs it: ./dockyard <args> (its install checks included); up with a fresh --data-dir, timed to the first GET /health 200; median of the rounds (nearest rank), variants interleaved and rotated',
      rounds,
      variants: variants.map((v) => ({ name: v.name, describe: v.describe, ...Object.fromEntries(measures.map(([m]) => [m, summary(samples[v.name]![m]!)])) })),
    },
    null,
    2,
  )}\n`,
);
