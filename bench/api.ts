/**
 * API benchmark: DescribeTaskDefinition and RegisterTaskDefinition over keep-alive connections.
 *
 * Starts Dockyard as its own process (`node bin/dockyard.mjs up`, log level warn, temp data
 * dir), seeds a few task definitions, then drives each operation from an undici Pool with raw
 * awsJson1_1 requests (X-Amz-Target, Content-Type and a SigV4 Authorization header signed with
 * the server's root key, as the SDK sends them; each distinct request is signed once and
 * replayed, which SigV4 allows within its 15-minute window, so the client's signing cost
 * stays out of the measurement while the server verifies every request). Each phase is bounded by time and by request count. Prints one JSON
 * document: requests/s, latency percentiles, errors, and the CPU the server and the load
 * generator each used (they share this machine's cores, so the split is part of the result).
 *
 * `--client wrk` drives the same requests from wrk (Lua script) instead of undici: wrk needs far
 * less CPU per request than a Node client, so more of the two cores go to the server.
 *
 * `--compare-verification` measures what signature verification costs: two servers in the same
 * run, one verifying (the default) and one started with `--accept-any-credentials`, each seeded
 * alike and driven in turn (`--rounds` times, alternating) with the same DescribeTaskDefinition
 * requests; it prints both and their ratio.
 *
 *   node --import tsx bench/api.ts [--seconds 8] [--connections 48] [--client undici|wrk] [--sdk] [--cpu-prof DIR]
 *        [--only health,describe,...,describe-uncached,list-tasks,mixed] [--working-set 4000] [--tasks 10000]
 *
 * `describe-uncached` describes `--working-set` definitions in turn (more than the server's describe
 * cache holds); `list-tasks` and `mixed` (DescribeTaskDefinition and ListTasks alternating) run over
 * `--tasks` live tasks placed by RunTask first (not in the default set: seeding takes a while).
 *   node --import tsx bench/api.ts --compare-verification [--rounds 2] [--client wrk] [--seconds 5]
 */
import { ECSClient, DescribeTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { loadOrCreateRootKey, type AccessKey } from '../src/iam/root-key.js';
import { freePort } from '../test/helpers/net.js';
import { signedJsonHeaders } from '../test/helpers/sign.js';
import { untilHealthy } from './lib/dockyard-process.js';
import { latencySummary } from './lib/stats.js';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '8' },
    warmup: { type: 'string', default: '2' },
    connections: { type: 'string', default: '48' },
    'max-requests': { type: 'string', default: '1000000' },
    sdk: { type: 'boolean', default: false },
    'cpu-prof': { type: 'string' },
    only: { type: 'string' },
    'working-set': { type: 'string', default: '4000' },
    tasks: { type: 'string', default: '10000' },
    client: { type: 'string', default: 'undici' },
    'wrk-threads': { type: 'string', default: '1' },
    'compare-verification': { type: 'boolean', default: false },
    rounds: { type: 'string', default: '2' },
  },
});
const SECONDS = Number(args.seconds);
const WARMUP = Number(args.warmup);
const CONNECTIONS = Number(args.connections);
const MAX_REQUESTS = Number(args['max-requests']);
const WRK_THREADS = Number(args['wrk-threads']);
const TARGET_PREFIX = 'AmazonEC2ContainerServiceV20141113';
const ROOT = new URL('..', import.meta.url).pathname;
const TICKS_PER_SECOND = 100; // USER_HZ for /proc/<pid>/stat

/** CPU seconds (user + system) a process has used so far. */
function processCpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

const selfCpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

async function startServer(port: number, dataDir: string, extraArgs: string[] = []): Promise<ChildProcess> {
  const nodeArgs = args['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', args['cpu-prof']] : [];
  // DOCKYARD_BENCH_NODE_ARGS (e.g. "--trace-gc") go to the server's node; with DOCKYARD_BENCH_SERVER_OUT=FILE
  // the server's stdout (its log, --trace-gc lines) is kept in FILE.
  nodeArgs.push(...(process.env.DOCKYARD_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean));
  const out = process.env.DOCKYARD_BENCH_SERVER_OUT ? openSync(process.env.DOCKYARD_BENCH_SERVER_OUT, 'a') : 'ignore';
  const bin = join(ROOT, 'bin/dockyard.mjs');
  // The API is measured alone: no embedded agent (heartbeats, Docker) when `up` has one.
  const noAgent = execFileSync(process.execPath, [bin, 'up', '--help'], { encoding: 'utf8' }).includes('--no-agent') ? ['--no-agent'] : [];
  const child = spawn(
    process.execPath,
    [...nodeArgs, bin, 'up', '--port', String(port), '--host', '127.0.0.1', '--data-dir', dataDir, '--log-level', 'warn', ...noAgent, ...extraArgs],
    // stdout is the server's JSON log, stderr its start-up banner (the root key): neither is part of the result.
    { stdio: ['ignore', out, 'ignore'] },
  );
  try {
    await untilHealthy(child, `http://127.0.0.1:${port}`);
  } catch (e) {
    child.kill('SIGTERM');
    throw e;
  }
  return child;
}

/** One request, signed once (SigV4 signatures stay valid for 15 minutes and may be replayed). */
interface SignedRequest {
  body: string;
  headers: Record<string, string>;
}

async function signRequest(origin: string, key: AccessKey, operation: string, body: string): Promise<SignedRequest> {
  const headers = await signedJsonHeaders(origin, `${TARGET_PREFIX}.${operation}`, body, { credentials: key });
  delete headers.host; // undici and wrk send the same Host themselves
  return { body, headers };
}

/** A realistic two-container EC2 definition (about 1.5 KB of JSON), or a minimal one-container one. */
function taskDefinition(family: string, size: 'realistic' | 'small') {
  if (size === 'small') {
    return { family, containerDefinitions: [{ name: 'web', image: 'nginx:1.25', memory: 256, portMappings: [{ containerPort: 80 }] }] };
  }
  return {
    family,
    networkMode: 'bridge',
    containerDefinitions: [
      {
        name: 'web',
        image: '000000000000.dkr.ecr.us-east-1.amazonaws.com/web:2.3.1',
        memory: 512,
        cpu: 256,
        essential: true,
        portMappings: [{ containerPort: 8080, hostPort: 0, protocol: 'tcp' }],
        environment: [
          { name: 'MODE', value: 'production' },
          { name: 'LOG_LEVEL', value: 'info' },
          { name: 'UPSTREAM', value: 'http://api.internal:9000' },
        ],
        healthCheck: { command: ['CMD-SHELL', 'wget -q -O- http://localhost:8080/health || exit 1'], interval: 10, timeout: 5, retries: 3 },
        logConfiguration: { logDriver: 'json-file', options: { 'max-size': '10m', 'max-file': '3' } },
        dependsOn: [{ containerName: 'sidecar', condition: 'HEALTHY' }],
        dockerLabels: { team: 'payments', tier: 'web' },
        ulimits: [{ name: 'nofile', softLimit: 65536, hardLimit: 65536 }],
      },
      {
        name: 'sidecar',
        image: 'envoyproxy/envoy:v1.29',
        memoryReservation: 128,
        essential: false,
        healthCheck: { command: ['CMD', '/healthcheck'] },
        mountPoints: [{ sourceVolume: 'config', containerPath: '/etc/envoy', readOnly: true }],
      },
    ],
    volumes: [{ name: 'config', host: { sourcePath: '/srv/envoy' } }],
    tags: [{ key: 'bench', value: 'true' }],
  };
}

interface PhaseResult {
  operation: string;
  client: string;
  connections: number;
  requests: number;
  errors: number;
  seconds: number;
  requestsPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  /** Cores each process used during the phase, and the server's CPU time per request (load-independent). */
  cpu: { serverCores: number; loadGeneratorCores: number; serverCpuMsPerRequest: number };
}

const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

/**
 * Runs `concurrency` loops, each sending one request at a time, for `seconds` (after a warm-up
 * whose samples are dropped) or until `MAX_REQUESTS`.
 */
async function phase(
  operation: string,
  client: string,
  concurrency: number,
  serverPid: number,
  send: (i: number) => Promise<boolean>,
): Promise<PhaseResult> {
  const latencies = new Float64Array(MAX_REQUESTS);
  let recorded = 0;
  let errors = 0;
  let issued = 0;
  let measuring = false;
  const warmupEnd = Date.now() + WARMUP * 1000;
  let end = warmupEnd + SECONDS * 1000;
  let startedAt = 0;
  let serverCpu0 = 0;
  let selfCpu0 = 0;

  const loop = async () => {
    while (Date.now() < end && recorded < MAX_REQUESTS) {
      if (!measuring && Date.now() >= warmupEnd) {
        measuring = true;
        startedAt = performance.now();
        serverCpu0 = processCpuSeconds(serverPid);
        selfCpu0 = selfCpuSeconds();
        end = Date.now() + SECONDS * 1000;
      }
      const t0 = performance.now();
      const ok = await send(issued++);
      const elapsed = performance.now() - t0;
      if (!measuring) continue;
      if (!ok) errors++;
      latencies[recorded++] = elapsed;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  const seconds = (performance.now() - startedAt) / 1000;
  const serverCores = (processCpuSeconds(serverPid) - serverCpu0) / seconds;
  const selfCores = (selfCpuSeconds() - selfCpu0) / seconds;
  const latency = latencySummary(latencies.subarray(0, recorded));
  return {
    operation,
    client,
    connections: concurrency,
    requests: recorded,
    errors,
    seconds: round(seconds),
    requestsPerSecond: Math.round(recorded / seconds),
    latencyMs: { p50: latency.p50, p90: latency.p90, p99: latency.p99, max: latency.max },
    cpu: { serverCores: round(serverCores), loadGeneratorCores: round(selfCores), serverCpuMsPerRequest: round((serverCores * seconds * 1000) / recorded, 3) },
  };
}

/** The same measurement with wrk as the client: a warm-up run, then a measured run with --latency. */
async function wrkPhase(operation: string, origin: string, serverPid: number, request: { method: 'GET' | 'POST'; path: string; requests?: SignedRequest[] }, workDir: string): Promise<PhaseResult> {
  const script = join(workDir, 'bench.lua');
  const luaHeaders = (h: Record<string, string>) => `{${Object.entries(h).map(([k, v]) => `["${k}"] = "${v}"`).join(', ')}}`;
  const host = new URL(origin).host; // what the requests were signed for
  const lua = request.requests
    ? [
        // Every request is formatted once (per thread, at init): wrk replays them in turn.
        'local requests = {}',
        'local i = 0',
        `init = function(args) requests = {${request.requests.map((r) => `wrk.format("POST", "${request.path}", ${luaHeaders({ Host: host, ...r.headers })}, [==[${r.body}]==])`).join(',\n')}} end`,
        'request = function() i = i + 1; return requests[(i % #requests) + 1] end',
      ].join('\n')
    : `wrk.method = "${request.method}"\nrequest = function() return wrk.format(nil, "${request.path}") end`;
  writeFileSync(script, lua);
  const run = (seconds: number) =>
    new Promise<string>((resolve, reject) => {
      const wrkArgs = ['-t', String(WRK_THREADS), '-c', String(CONNECTIONS), '-d', `${seconds}s`, '--latency', '-s', script, origin];
      execFile('wrk', wrkArgs, { timeout: (seconds + 30) * 1000 }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
    });
  await run(Math.max(1, WARMUP));
  const serverCpu0 = processCpuSeconds(serverPid);
  const t0 = performance.now();
  const out = await run(SECONDS);
  const seconds = (performance.now() - t0) / 1000;
  const serverCores = (processCpuSeconds(serverPid) - serverCpu0) / seconds;
  const ms = (label: string) => {
    const m = new RegExp(`^\\s*${label}%\\s+([\\d.]+)(us|ms|s)`, 'm').exec(out);
    if (!m) return NaN;
    const v = Number(m[1]);
    return round(m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v);
  };
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const maxMatch = /Latency\s+\S+\s+\S+\s+([\d.]+)(us|ms|s)/.exec(out);
  const max = maxMatch ? (maxMatch[2] === 'us' ? Number(maxMatch[1]) / 1000 : maxMatch[2] === 's' ? Number(maxMatch[1]) * 1000 : Number(maxMatch[1])) : NaN;
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0);
  return {
    operation,
    client: `wrk -t${WRK_THREADS}`,
    connections: CONNECTIONS,
    requests,
    errors: non2xx + (socketErrors ? socketErrors.slice(1).reduce((a, b) => a + Number(b), 0) : 0),
    seconds: round(seconds),
    requestsPerSecond: Math.round(rps),
    latencyMs: { p50: ms('50'), p90: ms('90'), p99: ms('99'), max: round(max) },
    // wrk's own CPU is not measured here; it is the rest of the machine.
    cpu: { serverCores: round(serverCores), loadGeneratorCores: NaN, serverCpuMsPerRequest: round((serverCores * seconds * 1000) / Math.max(1, requests), 3) },
  };
}

/** A Dockyard process under test, with a keep-alive pool and its root key. */
interface BenchServer {
  origin: string;
  pid: number;
  key: AccessKey;
  pool: Pool;
  dataDir: string;
  send(request: SignedRequest): Promise<boolean>;
  sign(operation: string, body: string): Promise<SignedRequest>;
  stop(): Promise<void>;
}

async function startBenchServer(extraArgs: string[] = []): Promise<BenchServer> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'dockyard-bench-'));
  const child = await startServer(port, dataDir, extraArgs);
  const origin = `http://127.0.0.1:${port}`;
  const pool = new Pool(origin, { connections: CONNECTIONS, pipelining: 1, keepAliveTimeout: 30_000 });
  const key = loadOrCreateRootKey(dataDir);
  return {
    origin,
    pid: child.pid!,
    key,
    pool,
    dataDir,
    async send(request) {
      const res = await pool.request({ path: '/', method: 'POST', headers: request.headers, body: request.body });
      await res.body.text();
      return res.statusCode === 200;
    },
    sign: (operation, body) => signRequest(origin, key, operation, body),
    async stop() {
      await pool.close();
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** 5 revisions of each of 20 families of each size, so describes hit a table that is not trivially small. */
async function seed(server: BenchServer): Promise<void> {
  for (const size of ['realistic', 'small'] as const) {
    for (let f = 0; f < 20; f++) {
      const request = await server.sign('RegisterTaskDefinition', JSON.stringify(taskDefinition(`seed-${size}-${f}`, size)));
      for (let r = 0; r < 5; r++) if (!(await server.send(request))) throw new Error('seeding failed');
    }
  }
}

/**
 * `n` more families of one revision each, for a describe working set larger than the server's
 * describe cache (TaskDefinitionWireCache keeps 2,000 revisions): most describes then miss it.
 */
async function seedWorkingSet(server: BenchServer, n: number): Promise<void> {
  for (let f = 0; f < n; f++) {
    if (!(await server.send(await server.sign('RegisterTaskDefinition', JSON.stringify(taskDefinition(`wide-${f}`, 'realistic')))))) throw new Error('seeding failed');
  }
}

/** `n` live tasks in cluster `bench` (RunTask, 10 at a time, on one roomy container instance registered through the API). */
async function seedTasks(server: BenchServer, n: number): Promise<void> {
  const ok = async (operation: string, body: unknown) => {
    if (!(await server.send(await server.sign(operation, JSON.stringify(body))))) throw new Error(`seeding ${operation} failed`);
  };
  await ok('CreateCluster', { clusterName: 'bench' });
  await ok('RegisterContainerInstance', {
    cluster: 'bench',
    totalResources: [
      { name: 'CPU', type: 'INTEGER', integerValue: 10_000_000 },
      { name: 'MEMORY', type: 'INTEGER', integerValue: 10_000_000 },
    ],
  });
  await ok('RegisterTaskDefinition', taskDefinition('bench-task', 'small'));
  const run = await server.sign('RunTask', JSON.stringify({ cluster: 'bench', taskDefinition: 'bench-task', count: 10 }));
  for (let i = 0; i < n; i += 10) if (!(await server.send(run))) throw new Error('seeding RunTask failed');
}

const bodies = (n: number, body: (i: number) => unknown) => Array.from({ length: n }, (_, i) => JSON.stringify(body(i)));
const DESCRIBE_LATEST = 'DescribeTaskDefinition family → latest (2 containers, 2.4 KB)';
const describeLatestBodies = () => bodies(20, (f) => ({ taskDefinition: `seed-realistic-${f}`, include: ['TAGS'] }));

/** One measured phase of `operation` over `list` (signed for `server`), by the chosen client. */
async function measure(server: BenchServer, label: string, operation: string | undefined, list: string[] = []): Promise<PhaseResult> {
  return measureSigned(server, label, operation ? await Promise.all(list.map((b) => server.sign(operation, b))) : undefined);
}

/** One measured phase over requests already signed (undefined: GET /health). */
async function measureSigned(server: BenchServer, label: string, requests: SignedRequest[] | undefined): Promise<PhaseResult> {
  if (args.client === 'wrk') {
    const request = requests ? { method: 'POST' as const, path: '/', requests } : { method: 'GET' as const, path: '/health' };
    return wrkPhase(label, server.origin, server.pid, request, server.dataDir);
  }
  if (requests) return phase(label, 'undici', CONNECTIONS, server.pid, (i) => server.send(requests[i % requests.length]!));
  return phase(label, 'undici', CONNECTIONS, server.pid, async () => {
    const res = await server.pool.request({ path: '/health', method: 'GET' });
    await res.body.text();
    return res.statusCode === 200;
  });
}

async function main() {
  const server = await startBenchServer();
  const results: PhaseResult[] = [];
  try {
    await seed(server);
    const phases: { name: string; label: string; target?: string; bodies?: string[] }[] = [
      { name: 'health', label: 'GET /health (HTTP floor)' },
      { name: 'describe', label: DESCRIBE_LATEST, target: 'DescribeTaskDefinition', bodies: describeLatestBodies() },
      { name: 'describe-revision', label: 'DescribeTaskDefinition family:revision (2 containers, 2.4 KB)', target: 'DescribeTaskDefinition', bodies: bodies(20, (f) => ({ taskDefinition: `seed-realistic-${f}:3` })) },
      { name: 'describe-small', label: 'DescribeTaskDefinition family:revision (1 container, 0.5 KB)', target: 'DescribeTaskDefinition', bodies: bodies(20, (f) => ({ taskDefinition: `seed-small-${f}:3` })) },
      { name: 'register', label: 'RegisterTaskDefinition (2 containers, 1.5 KB)', target: 'RegisterTaskDefinition', bodies: bodies(50, (f) => taskDefinition(`bench-${f}`, 'realistic')) },
      { name: 'register-small', label: 'RegisterTaskDefinition (1 container, 0.2 KB)', target: 'RegisterTaskDefinition', bodies: bodies(50, (f) => taskDefinition(`bench-small-${f}`, 'small')) },
    ];
    const workingSet = Number(args['working-set']);
    const taskCount = Number(args.tasks);
    phases.push(
      { name: 'describe-uncached', label: `DescribeTaskDefinition family:1 over ${workingSet} definitions, more than the 2,000 the describe cache keeps`, target: 'DescribeTaskDefinition', bodies: bodies(workingSet, (f) => ({ taskDefinition: `wide-${f}:1` })) },
      { name: 'list-tasks', label: `ListTasks first page (100 of ${taskCount} RUNNING-desired tasks)`, target: 'ListTasks', bodies: [JSON.stringify({ cluster: 'bench' })] },
      { name: 'mixed', label: `DescribeTaskDefinition and ListTasks (${taskCount} tasks) alternating`, target: 'mixed', bodies: [] },
    );
    const only = args.only?.split(',') ?? ['health', 'describe', 'describe-revision', 'describe-small', 'register', 'register-small', 'describe-uncached'];
    if (only.includes('describe-uncached')) await seedWorkingSet(server, workingSet);
    if (only.includes('list-tasks') || only.includes('mixed')) await seedTasks(server, taskCount);
    for (const p of phases.filter((x) => only.includes(x.name))) {
      if (p.target === 'mixed') {
        // Two operations in one phase: signed requests of both, alternating.
        const list = [...describeLatestBodies().map((b) => ['DescribeTaskDefinition', b] as const), ...Array.from({ length: 20 }, () => ['ListTasks', JSON.stringify({ cluster: 'bench' })] as const)];
        results.push(await measureSigned(server, p.label, await Promise.all(list.map(([op, b]) => server.sign(op, b)))));
      } else results.push(await measure(server, p.label, p.target, p.bodies));
    }
    if (args.sdk) {
      const ecs = new ECSClient({ endpoint: server.origin, region: 'us-east-1', credentials: server.key, maxAttempts: 1 });
      try {
        results.push(
          await phase(DESCRIBE_LATEST, '@aws-sdk/client-ecs', 32, server.pid, (i) =>
            ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: `seed-realistic-${i % 20}` })).then(
              () => true,
              () => false,
            ),
          ),
        );
      } finally {
        ecs.destroy();
      }
    }
  } finally {
    await server.stop();
  }
  console.log(JSON.stringify({ ...header(), results }, null, 2));
}

/**
 * Signature verification on vs. `--accept-any-credentials`: two servers seeded alike, measured in
 * turn with the same requests, `--rounds` times each (alternating, so drift on a shared machine
 * hits both); the summary takes each side's median round.
 */
async function compareVerification() {
  const verifying = await startBenchServer();
  const acceptAny = await startBenchServer(['--accept-any-credentials']);
  const rounds: { round: number; verification: PhaseResult; acceptAny: PhaseResult }[] = [];
  try {
    await seed(verifying);
    await seed(acceptAny);
    const list = describeLatestBodies();
    for (let round = 1; round <= Number(args.rounds); round++) {
      // Alternate which goes first.
      const order = round % 2 === 1 ? [verifying, acceptAny] : [acceptAny, verifying];
      const [first, second] = [await measure(order[0]!, DESCRIBE_LATEST, 'DescribeTaskDefinition', list), await measure(order[1]!, DESCRIBE_LATEST, 'DescribeTaskDefinition', list)];
      const [on, any] = order[0] === verifying ? [first, second] : [second, first];
      rounds.push({ round, verification: on, acceptAny: any });
    }
  } finally {
    await verifying.stop();
    await acceptAny.stop();
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
  const side = (pick: (r: (typeof rounds)[number]) => PhaseResult) => ({
    requestsPerSecond: median(rounds.map((r) => pick(r).requestsPerSecond)),
    p99Ms: median(rounds.map((r) => pick(r).latencyMs.p99)),
    serverCpuMsPerRequest: median(rounds.map((r) => pick(r).cpu.serverCpuMsPerRequest)),
    errors: rounds.reduce((n, r) => n + pick(r).errors, 0),
  });
  const on = side((r) => r.verification);
  const any = side((r) => r.acceptAny);
  const summary = {
    operation: DESCRIBE_LATEST,
    verification: on,
    acceptAnyCredentials: any,
    throughputRatio: round(on.requestsPerSecond / any.requestsPerSecond, 3),
    p99Ratio: round(on.p99Ms / any.p99Ms, 3),
    serverCpuPerRequestRatio: round(on.serverCpuMsPerRequest / any.serverCpuMsPerRequest, 3),
    goal: 'verification costs < 10 %: throughputRatio > 0.90',
  };
  console.log(JSON.stringify({ ...header(), summary, rounds }, null, 2));
}

function header() {
  return {
    machine: { cores: cpus().length, cpu: cpus()[0]?.model, node: process.version },
    note: 'server and load generator share the machine; cpu.* are cores each used during the phase',
    client: args.client,
    connections: CONNECTIONS,
    seconds: SECONDS,
    startedAt: new Date().toISOString(),
  };
}

await (args['compare-verification'] ? compareVerification() : main());
