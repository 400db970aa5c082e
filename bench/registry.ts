/**
 * Registry benchmark: Dockyard's /v2/ data plane against the CNCF Distribution registry
 * (Debian's `docker-registry`), in the same run, on 127.0.0.1.
 *
 *  - `docker push` / `docker pull` of a ~100 MB image (busybox httpd + N layers of random data,
 *    which gzip cannot shrink). Before each push both registries restart with empty storage
 *    (so every layer is really uploaded); before each pull every local name of the image is
 *    removed (so every layer is really downloaded).
 *  - raw blob upload (POST + one PUT of the whole file) and download of a 100 MB blob with undici.
 *  - Dockyard's resident memory, sampled every 50 ms during each transfer: peak − baseline.
 *
 * Rounds alternate which registry goes first. Prints one JSON document with medians, the spread
 * of the rounds (min, quartiles, max) and the ratio Dockyard / Distribution throughput (1.0 = as
 * fast), overall and per round; a one-line summary per measurement goes to stderr. Removes what it created: images by
 * exact tag, both server processes by pid, temp dirs.
 *
 *   node --import tsx bench/registry.ts [--rounds 5] [--layers 4] [--layer-mb 25] [--raw-mb 100] [--skip-docker] [--skip-raw]
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { request } from 'undici';
import { buildBusyboxImage, buildHttpdImage } from '../test/helpers/images.js';
import { rssMiB, startDockyardProcess, type DockyardProcess } from './lib/dockyard-process.js';
import { percentile } from './lib/stats.js';
import { freePort } from '../test/helpers/net.js';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    layers: { type: 'string', default: '4' },
    'layer-mb': { type: 'string', default: '25' },
    'raw-mb': { type: 'string', default: '100' },
    'skip-docker': { type: 'boolean', default: false },
    'skip-raw': { type: 'boolean', default: false },
  },
});
const ROUNDS = Math.min(20, Number(args.rounds));
const LAYERS = Math.min(8, Number(args.layers));
const LAYER_MB = Math.min(100, Number(args['layer-mb']));
const RAW_MB = Math.min(1024, Number(args['raw-mb']));
const IMAGE = `dockyard-test/bench-registry:${process.pid}`;

const work = mkdtempSync(join(tmpdir(), 'dockyard-bench-registry-'));
const dockerEnv = { ...process.env, DOCKER_CONFIG: join(work, 'docker-config') };
const median = (xs: number[]) => percentile(xs, 50);

interface Spread {
  min: number;
  q1: number;
  median: number;
  q3: number;
  max: number;
}
interface Side {
  MBps: number;
  MBpsSpread: Spread;
}

/** Min, quartiles and max of the rounds, so a reader can tell noise from a gap. */
function spread(xs: number[], digits = 1): Spread {
  const round = (x: number) => +x.toFixed(digits);
  return { min: round(Math.min(...xs)), q1: round(percentile(xs, 25)), median: round(percentile(xs, 50)), q3: round(percentile(xs, 75)), max: round(Math.max(...xs)) };
}

function run(file: string, argv: string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(file, argv, { env: opts.env ?? dockerEnv, timeout: 300_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${file} ${argv.join(' ')}: ${stderr || err.message}`)) : resolve(stdout),
    );
    if (opts.input !== undefined) child.stdin!.end(opts.input);
  });
}
const docker = (...argv: string[]) => run('docker', argv);

interface Registry {
  name: 'dockyard' | 'distribution';
  host: string;
  pid: number;
  /** Authorization header for raw requests (Dockyard needs its ECR token). */
  auth?: string;
  stop(): Promise<void>;
}

async function startDockyard(): Promise<Registry> {
  const p: DockyardProcess = await startDockyardProcess(['--ecr-create-on-push']);
  const host = `127.0.0.1:${p.port}`;
  const env = { ...dockerEnv, AWS_ACCESS_KEY_ID: p.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: p.credentials.secretAccessKey, AWS_DEFAULT_REGION: 'us-east-1', AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null' };
  const password = (await run('/usr/bin/aws', ['--endpoint-url', p.endpoint, 'ecr', 'get-login-password'], { env })).trim();
  await run('docker', ['login', '--username', 'AWS', '--password-stdin', host], { input: password });
  return { name: 'dockyard', host, pid: p.pid, auth: `Basic ${Buffer.from(`AWS:${password}`).toString('base64')}`, stop: () => p.stop() };
}

async function startDistribution(): Promise<Registry> {
  const port = await freePort();
  const dir = mkdtempSync(join(work, 'distribution-'));
  const config = join(dir, 'config.yml');
  writeFileSync(
    config,
    [
      'version: 0.1',
      'log:',
      '  level: error',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${join(dir, 'storage')}`,
      '  delete:',
      '    enabled: true',
      'http:',
      `  addr: 127.0.0.1:${port}`,
      '',
    ].join('\n'),
  );
  // Distribution logs every 404 HEAD at level error: keep its output out of the report.
  const child: ChildProcess = spawn('docker-registry', ['serve', config], { stdio: 'ignore' });
  // A missing binary must fail this start (and let the caller stop Dockyard), not crash the process.
  let spawnError: Error | undefined;
  child.once('error', (e) => (spawnError = e));
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/v2/`)).ok) break;
    } catch {
      // not up yet
    }
    if (spawnError) throw new Error(`docker-registry could not be started (${spawnError.message}); scripts/bench.sh installs it`);
    if (child.exitCode !== null || Date.now() > deadline) throw new Error('docker-registry did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    name: 'distribution',
    host: `127.0.0.1:${port}`,
    pid: child.pid!,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const start = (name: Registry['name']) => (name === 'dockyard' ? startDockyard() : startDistribution());

/** CPU seconds (user + system) a process has used so far, from /proc (100 ticks/s). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * Runs `fn`, sampling the server's RSS every 50 ms: returns fn's seconds, the server's CPU
 * seconds (a measure that other load on the machine disturbs less than wall time), and its
 * peak − baseline RSS in MiB.
 */
async function measured(pid: number, fn: () => Promise<unknown>): Promise<Sample> {
  const baseline = await rssMiB(pid);
  const cpu0 = cpuSeconds(pid);
  let peak = baseline;
  const timer = setInterval(() => {
    rssMiB(pid).then((v) => (peak = Math.max(peak, v)), () => undefined);
  }, 50);
  const t0 = performance.now();
  try {
    await fn();
  } finally {
    clearInterval(timer);
  }
  const seconds = (performance.now() - t0) / 1000;
  peak = Math.max(peak, await rssMiB(pid));
  return { seconds, serverCpuSeconds: cpuSeconds(pid) - cpu0, rssDeltaMiB: peak - baseline, baselineMiB: baseline };
}

async function removeLocal(refs: string[]) {
  for (const ref of refs) await docker('rmi', ref).catch(() => undefined);
}

type Sample = { seconds: number; serverCpuSeconds: number; rssDeltaMiB: number; baselineMiB: number };
const results: Record<string, Record<Registry['name'], Sample[]>> = {};
const record = (what: string, who: Registry['name'], s: Sample) => {
  results[what] ??= { dockyard: [], distribution: [] };
  results[what][who].push(s);
};

async function dockerRounds(imageBytes: number) {
  for (let round = 0; round < ROUNDS; round++) {
    const order: Registry['name'][] = round % 2 === 0 ? ['dockyard', 'distribution'] : ['distribution', 'dockyard'];
    const registries: Registry[] = [];
    try {
      for (const name of order) registries.push(await start(name));
      // Push: fresh storage on both sides, so every layer is compressed and uploaded.
      for (const r of registries) {
        const ref = `${r.host}/bench/big:r${round}`;
        await docker('tag', IMAGE, ref);
        record('docker push', r.name, await measured(r.pid, () => docker('push', '-q', ref)));
      }
      // Pull: no local copy of any layer, so every layer is downloaded, verified and unpacked.
      const allRefs = [IMAGE, ...registries.map((r) => `${r.host}/bench/big:r${round}`)];
      for (const r of registries) {
        const ref = `${r.host}/bench/big:r${round}`;
        await removeLocal(allRefs);
        record('docker pull', r.name, await measured(r.pid, () => docker('pull', '-q', ref)));
        await docker('tag', ref, IMAGE);
      }
      await removeLocal(allRefs.slice(1));
      process.stderr.write(`round ${round + 1}/${ROUNDS} done (image ${(imageBytes / 1e6).toFixed(0)} MB)\n`);
    } finally {
      for (const r of registries) await r.stop();
    }
  }
}

async function rawRounds() {
  const file = join(work, 'raw.bin');
  const data = randomBytes(RAW_MB * 1024 * 1024);
  writeFileSync(file, data);
  const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
  const warmFile = join(work, 'warm.bin');
  const warm = randomBytes(1 << 20);
  writeFileSync(warmFile, warm);
  const warmDigest = `sha256:${createHash('sha256').update(warm).digest('hex')}`;
  for (let round = 0; round < ROUNDS; round++) {
    const order: Registry['name'][] = round % 2 === 0 ? ['dockyard', 'distribution'] : ['distribution', 'dockyard'];
    for (const name of order) {
      const r = await start(name);
      try {
        const headers = r.auth ? { authorization: r.auth } : {};
        const base = `http://${r.host}`;
        const upload = async (path: string, blobDigest: string, length: number) => {
          const post = await request(`${base}/v2/raw/blob/blobs/uploads/`, { method: 'POST', headers });
          await post.body.dump();
          if (post.statusCode !== 202) throw new Error(`POST ${post.statusCode}`);
          const location = new URL(String(post.headers.location), base);
          location.searchParams.set('digest', blobDigest);
          const put = await request(location, {
            method: 'PUT',
            headers: { ...headers, 'content-type': 'application/octet-stream', 'content-length': String(length) },
            body: createReadStream(path, { highWaterMark: 1 << 20 }),
          });
          await put.body.dump();
          if (put.statusCode !== 201) throw new Error(`PUT ${put.statusCode}`);
        };
        const download = async (blobDigest: string, length: number) => {
          const get = await request(`${base}/v2/raw/blob/blobs/${blobDigest}`, { headers });
          let n = 0;
          for await (const chunk of get.body) n += (chunk as Buffer).length;
          if (get.statusCode !== 200 || n !== length) throw new Error(`GET ${get.statusCode} ${n}`);
        };
        // Warm both servers up with a 1 MiB blob first: a registry serves many requests, and a
        // freshly started process (JIT, first store read) would otherwise dominate.
        await upload(warmFile, warmDigest, warm.length);
        await download(warmDigest, warm.length);
        record('raw blob upload', name, await measured(r.pid, () => upload(file, digest, data.length)));
        // Downloads are page-cached on both sides, as in BASELINES.md.
        record('raw blob download', name, await measured(r.pid, () => download(digest, data.length)));
      } finally {
        await r.stop();
      }
    }
  }
}

async function main() {
  const summary: Record<string, unknown> = { rounds: ROUNDS, machine: { node: process.version } };
  try {
    if (!args['skip-docker']) {
      buildHttpdImage();
      const files: Record<string, Buffer> = {};
      const lines = ['FROM dockyard-test/bb-httpd:1'];
      for (let i = 0; i < LAYERS; i++) {
        files[`layer${i}.bin`] = randomBytes(LAYER_MB * 1024 * 1024);
        lines.push(`COPY layer${i}.bin /data/layer${i}.bin`);
      }
      buildBusyboxImage(IMAGE, `${lines.join('\n')}\n`, files);
      const imageBytes = Number(execFileSync('docker', ['image', 'inspect', '--format', '{{.Size}}', IMAGE], { encoding: 'utf8' }).trim());
      summary.image = { layers: LAYERS, layerMiB: LAYER_MB, bytes: imageBytes };
      await dockerRounds(imageBytes);
      summary.imageMB = imageBytes / 1e6;
    }
    if (!args['skip-raw']) {
      await rawRounds();
      summary.rawMB = (RAW_MB * 1024 * 1024) / 1e6;
    }
    const table: Record<string, unknown> = {};
    for (const [what, by] of Object.entries(results)) {
      const mb = what.startsWith('raw') ? (RAW_MB * 1024 * 1024) / 1e6 : (summary.imageMB as number);
      const dy = median(by.dockyard.map((s) => s.seconds));
      const di = median(by.distribution.map((s) => s.seconds));
      // Round i of both sides ran back to back, so their ratio per round shows how much of a
      // gap is noise: a median ratio below 1 with rounds above 1 is not a measured gap.
      const roundRatios = by.dockyard.map((s, i) => by.distribution[i]!.seconds / s.seconds).filter(Number.isFinite);
      table[what] = {
        dockyard: { medianSeconds: +dy.toFixed(3), MBps: +(mb / dy).toFixed(1), MBpsSpread: spread(by.dockyard.map((s) => mb / s.seconds)), all: by.dockyard.map((s) => +s.seconds.toFixed(3)) },
        distribution: { medianSeconds: +di.toFixed(3), MBps: +(mb / di).toFixed(1), MBpsSpread: spread(by.distribution.map((s) => mb / s.seconds)), all: by.distribution.map((s) => +s.seconds.toFixed(3)) },
        // Dockyard throughput as a fraction of Distribution's (≥ 0.9 is the target).
        throughputRatio: +(di / dy).toFixed(3),
        throughputRatioByRound: { ...spread(roundRatios, 3), all: roundRatios.map((r) => +r.toFixed(3)) },
        serverCpuSecondsMedian: {
          dockyard: +median(by.dockyard.map((s) => s.serverCpuSeconds)).toFixed(2),
          distribution: +median(by.distribution.map((s) => s.serverCpuSeconds)).toFixed(2),
        },
        dockyardRssDeltaMiB: { median: +median(by.dockyard.map((s) => s.rssDeltaMiB)).toFixed(1), max: +Math.max(...by.dockyard.map((s) => s.rssDeltaMiB)).toFixed(1) },
        dockyardRssBaselineMiB: +median(by.dockyard.map((s) => s.baselineMiB)).toFixed(1),
      };
    }
    summary.results = table;
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    for (const [what, row] of Object.entries(table) as [string, { dockyard: Side; distribution: Side; throughputRatio: number; throughputRatioByRound: Spread }][]) {
      const side = (x: Side) => `${x.MBps} MB/s (rounds ${x.MBpsSpread.min}–${x.MBpsSpread.max}, IQR ${x.MBpsSpread.q1}–${x.MBpsSpread.q3})`;
      const r = row.throughputRatioByRound;
      process.stderr.write(`${what}: Dockyard ${side(row.dockyard)} vs Distribution ${side(row.distribution)}; ratio ${row.throughputRatio} (per round ${r.min}–${r.max})\n`);
    }
  } finally {
    await docker('rmi', IMAGE).catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
