/**
 * Secrets benchmark, one Dockyard process (`dockyard up` with its embedded agent), one run:
 *
 * 1. Reads with wrk: GetParameter (SecureString, WithDecryption) and GetSecretValue next to
 *    DescribeTaskDefinition, the reference read of the same server. Each request is signed once
 *    with the root key and replayed by wrk (SigV4 allows it within 15 minutes), so the server
 *    verifies every request. Phases are interleaved over `--rounds` (order rotating), each
 *    warmed first; requests/s and p99 per operation (the median over rounds) and each one's
 *    ratio to DescribeTaskDefinition.
 * 2. Task start: RunTask → DescribeTasks RUNNING for a task whose container has ten secrets
 *    (five SSM SecureStrings, five Secrets Manager JSON keys) against the same definition
 *    without them, both with the same execution role; runs interleaved, one warm-up of each;
 *    the ratio of the p50s is the added start time.
 *
 *   node --import tsx bench/secrets.ts [--seconds 5] [--connections 32] [--rounds 2] [--starts 8] [--out bench/results/secrets.json]
 */
import { DescribeTasksCommand, ECSClient, RegisterTaskDefinitionCommand, RunTaskCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import { CreateRoleCommand, IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildHttpdImage } from '../test/helpers/images.js';
import { signedJsonHeaders } from '../test/helpers/sign.js';
import { startDockyardProcess, type DockyardProcess } from './lib/dockyard-process.js';
import { percentile, round } from './lib/stats.js';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '1' },
    connections: { type: 'string', default: '32' },
    rounds: { type: 'string', default: '2' },
    starts: { type: 'string', default: '8' },
    out: { type: 'string' },
  },
});
const SECONDS = Number(args.seconds);
const WARMUP = Number(args.warmup);
const CONNECTIONS = Number(args.connections);
const ROUNDS = Number(args.rounds);
const STARTS = Number(args.starts);
const TICKS_PER_SECOND = 100;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const cpuSeconds = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / TICKS_PER_SECOND;
};

interface Op {
  label: string;
  service: string;
  target: string;
  body: string;
}

interface WrkResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  serverCpuMsPerRequest: number;
}

/** One wrk run of `op` (warm-up first), parsed. */
async function wrk(server: DockyardProcess, op: Op, dir: string): Promise<WrkResult> {
  const headers = await signedJsonHeaders(server.endpoint, op.target, op.body, { credentials: server.credentials, service: op.service });
  const lua = join(dir, `${op.label}.lua`);
  const h = Object.entries(headers)
    .map(([k, v]) => `["${k}"] = "${v}"`)
    .join(', ');
  writeFileSync(lua, `local r\ninit = function(args) r = wrk.format("POST", "/", {${h}}, [==[${op.body}]==]) end\nrequest = function() return r end\n`);
  const run = (seconds: number) =>
    new Promise<string>((resolve, reject) =>
      execFile('wrk', ['-t', '1', '-c', String(CONNECTIONS), '-d', `${seconds}s`, '--latency', '-s', lua, server.endpoint], { timeout: (seconds + 30) * 1000 }, (e, out) => (e ? reject(e) : resolve(out))),
    );
  await run(WARMUP);
  const cpu0 = cpuSeconds(server.pid);
  const out = await run(SECONDS);
  const cpu = cpuSeconds(server.pid) - cpu0;
  const ms = (label: string) => {
    const m = new RegExp(`^\\s*${label}%\\s+([\\d.]+)(us|ms|s)`, 'm').exec(out);
    if (!m) return NaN;
    return round(m[2] === 'us' ? Number(m[1]) / 1000 : m[2] === 's' ? Number(m[1]) * 1000 : Number(m[1]));
  };
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return {
    requestsPerSecond: Math.round(Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0)),
    p50Ms: ms('50'),
    p99Ms: ms('99'),
    errors: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0) + (socket ? socket.slice(1).reduce((a, b) => a + Number(b), 0) : 0),
    serverCpuMsPerRequest: round((cpu * 1000) / Math.max(1, requests), 3),
  };
}

const median = (xs: number[]) => percentile(xs, 50);

async function main() {
  const server = await startDockyardProcess();
  const dir = mkdtempSync(join(tmpdir(), 'dockyard-bench-secrets-'));
  const client = { endpoint: server.endpoint, region: 'us-east-1', credentials: server.credentials, maxAttempts: 1 };
  const ecs = new ECSClient(client);
  const ssm = new SSMClient(client);
  const sm = new SecretsManagerClient(client);
  const iam = new IAMClient(client);
  try {
    // Seed: one definition to describe, one parameter and one secret to read.
    const image = buildHttpdImage();
    await ssm.send(new PutParameterCommand({ Name: '/bench/db/password', Value: 'p'.repeat(32), Type: 'SecureString' }));
    const secret = await sm.send(new CreateSecretCommand({ Name: 'bench/db', SecretString: JSON.stringify({ username: 'app', password: 'p'.repeat(32) }) }));
    const role = (
      await iam.send(
        new CreateRoleCommand({
          RoleName: 'bench-execution',
          AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ecs-tasks.amazonaws.com' }, Action: 'sts:AssumeRole' }] }),
        }),
      )
    ).Role!.Arn!;
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: 'bench-execution',
        PolicyName: 'secrets',
        PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['ssm:GetParameters', 'secretsmanager:GetSecretValue'], Resource: '*' }] }),
      }),
    );
    const secrets: { name: string; valueFrom: string }[] = [];
    for (let i = 0; i < 5; i++) {
      await ssm.send(new PutParameterCommand({ Name: `/bench/s${i}`, Value: `value-${i}`, Type: 'SecureString' }));
      secrets.push({ name: `SSM_${i}`, valueFrom: `/bench/s${i}` });
      const arn = (await sm.send(new CreateSecretCommand({ Name: `bench/s${i}`, SecretString: JSON.stringify({ key: `v${i}` }) }))).ARN!;
      secrets.push({ name: `ASM_${i}`, valueFrom: `${arn}:key::` });
    }
    const container = { name: 'web', image, memory: 32, stopTimeout: 2 };
    await ecs.send(new RegisterTaskDefinitionCommand({ family: 'bench-plain', executionRoleArn: role, containerDefinitions: [container] }));
    await ecs.send(new RegisterTaskDefinitionCommand({ family: 'bench-secrets', executionRoleArn: role, containerDefinitions: [{ ...container, secrets }] }));

    // 1. Reads with wrk, interleaved.
    const ops: Op[] = [
      { label: 'DescribeTaskDefinition', service: 'ecs', target: 'AmazonEC2ContainerServiceV20141113.DescribeTaskDefinition', body: JSON.stringify({ taskDefinition: 'bench-secrets' }) },
      { label: 'GetParameter', service: 'ssm', target: 'AmazonSSM.GetParameter', body: JSON.stringify({ Name: '/bench/db/password', WithDecryption: true }) },
      { label: 'GetSecretValue', service: 'secretsmanager', target: 'secretsmanager.GetSecretValue', body: JSON.stringify({ SecretId: secret.ARN }) },
    ];
    const samples = new Map<string, WrkResult[]>(ops.map((o) => [o.label, []]));
    for (let r = 0; r < ROUNDS; r++) {
      for (let i = 0; i < ops.length; i++) {
        const op = ops[(i + r) % ops.length]!;
        samples.get(op.label)!.push(await wrk(server, op, dir));
      }
    }
    const reads = Object.fromEntries(
      [...samples].map(([label, rs]) => [
        label,
        {
          requestsPerSecond: median(rs.map((x) => x.requestsPerSecond)),
          p99Ms: median(rs.map((x) => x.p99Ms)),
          p50Ms: median(rs.map((x) => x.p50Ms)),
          serverCpuMsPerRequest: median(rs.map((x) => x.serverCpuMsPerRequest)),
          errors: rs.reduce((a, x) => a + x.errors, 0),
          rounds: rs,
        },
      ]),
    );
    const ref = reads.DescribeTaskDefinition!;
    const readRatios = Object.fromEntries(
      ['GetParameter', 'GetSecretValue'].map((l) => [l, { requestsPerSecond: round(reads[l]!.requestsPerSecond / ref.requestsPerSecond), p99: round(reads[l]!.p99Ms / ref.p99Ms) }]),
    );

    // 2. Task start with ten secrets vs without, interleaved.
    const startOnce = async (family: string): Promise<number> => {
      const t0 = performance.now();
      const res = await ecs.send(new RunTaskCommand({ cluster: 'default', taskDefinition: family }));
      const arn = res.tasks?.[0]?.taskArn;
      if (!arn) throw new Error(`RunTask failed: ${JSON.stringify(res.failures)}`);
      const deadline = Date.now() + 60_000;
      for (;;) {
        const t = (await ecs.send(new DescribeTasksCommand({ cluster: 'default', tasks: [arn] }))).tasks![0]!;
        if (t.lastStatus === 'RUNNING') break;
        if (t.lastStatus === 'STOPPED') throw new Error(`task stopped: ${t.stoppedReason}`);
        if (Date.now() > deadline) throw new Error('task did not start in 60 s');
        await sleep(5);
      }
      const elapsed = performance.now() - t0;
      await ecs.send(new StopTaskCommand({ cluster: 'default', task: arn }));
      return elapsed;
    };
    const starts: Record<string, number[]> = { 'bench-plain': [], 'bench-secrets': [] };
    await startOnce('bench-plain');
    await startOnce('bench-secrets');
    for (let i = 0; i < STARTS; i++) {
      const order = i % 2 ? ['bench-secrets', 'bench-plain'] : ['bench-plain', 'bench-secrets'];
      for (const f of order) starts[f]!.push(await startOnce(f));
    }
    const p50 = (xs: number[]) => round(percentile(xs, 50), 1);
    const taskStart = {
      runs: STARTS,
      withoutSecrets: { p50Ms: p50(starts['bench-plain']!), p90Ms: round(percentile(starts['bench-plain']!, 90), 1) },
      withTenSecrets: { p50Ms: p50(starts['bench-secrets']!), p90Ms: round(percentile(starts['bench-secrets']!, 90), 1) },
      ratioP50: round(p50(starts['bench-secrets']!) / p50(starts['bench-plain']!), 3),
      addedP50Ms: round(p50(starts['bench-secrets']!) - p50(starts['bench-plain']!), 1),
      // Each round's two starts run back to back: the median of their differences is less exposed to load drifting over the run.
      medianPairedDifferenceMs: round(percentile(starts['bench-secrets']!.map((x, i) => x - starts['bench-plain']![i]!), 50), 1),
    };
    const result = {
      benchmark: 'secrets',
      date: new Date().toISOString(),
      // The machine is shared: its load over the run says how much to trust the figures.
      loadAverageAtEnd: loadavg().map((x) => round(x)),
      settings: { seconds: SECONDS, warmup: WARMUP, connections: CONNECTIONS, rounds: ROUNDS, client: 'wrk -t1' },
      reads,
      readRatiosToDescribeTaskDefinition: readRatios,
      taskStart,
    };
    const text = JSON.stringify(result, null, 2);
    console.log(text);
    if (args.out) writeFileSync(args.out, text + '\n');
  } finally {
    for (const c of [ecs, ssm, sm, iam]) c.destroy();
    rmSync(dir, { recursive: true, force: true });
    await server.stop();
  }
}

await main();
