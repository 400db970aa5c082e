/**
 * Benchmark: awslogs and CloudWatch Logs.
 *
 *   node --import tsx bench/logs.ts [lines=200000] [rounds=3] [pad=0]   (LOGS_BENCH=throughput,delay,filter)
 *
 * Against `dockyard up` as its own process (sources through tsx, DOCKYARD_DEV=1), with its
 * embedded agent on Docker:
 *  1. Throughput: a task's container prints `lines` numbered lines as fast as it can (`seq`);
 *     Dockyard's figure is lines / (time from the container's start, as Docker recorded it, to
 *     the last line being returned by FilterLogEvents). The reference, in the same round on the
 *     same container: `docker logs` (Engine API, GET /containers/{id}/logs, the whole output)
 *     read to its end, as lines / read time. Rounds alternate which side reads first. Also the
 *     server's RSS growth while the output streams through (the agent's buffer is 1 MiB).
 *  2. End-to-end delay: a container prints a line every 20 ms for ~6 s; GetLogEvents is polled
 *     with its forward token (every 5 ms); delay = time first seen − the line's timestamp (Docker's
 *     receive time, same host clock).
 *  3. FilterLogEvents over 1,000,000 stored events (10 streams, 12 hours): a time-bounded query
 *     (1 hour, a term), a JSON pattern over 10 minutes, and an unbounded search for a rare term
 *     (one page: the scan budget). Reference: `grep -F` over the same lines in a file.
 * Prints one JSON object; raw results go to bench/results/logs.json.
 */
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  FilterLogEventsCommand,
  GetLogEventsCommand,
  PutLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { DescribeTasksCommand, ECSClient, RegisterTaskDefinitionCommand, RunTaskCommand } from '@aws-sdk/client-ecs';
import Docker from 'dockerode';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildHttpdImage } from '../test/helpers/images.js';
import { rssMiB, startDockyardProcess } from './lib/dockyard-process.js';
import { latencySummary, percentile, round } from './lib/stats.js';

const LINES = Number(process.argv[2] ?? 200_000);
const ROUNDS = Number(process.argv[3] ?? 3);
/** Bytes of padding per line (0: `line N`; 90 makes ~100-byte lines, so 1,000,000 lines are ~100 MB). */
const PAD = Number(process.argv[4] ?? 0);
/** Which parts to run (LOGS_BENCH=throughput,delay,filter). */
const PARTS = new Set((process.env.LOGS_BENCH ?? 'throughput,delay,filter').split(','));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const docker = new Docker();

const server = await startDockyardProcess([], { DOCKYARD_DEV: '1' });
const clientOpts = { endpoint: server.endpoint, region: 'us-east-1', credentials: server.credentials, maxAttempts: 3 };
const logs = new CloudWatchLogsClient(clientOpts);
const ecs = new ECSClient(clientOpts);
const image = buildHttpdImage();
const results: Record<string, unknown> = { lines: LINES, rounds: ROUNDS, date: new Date().toISOString() };

async function runTask(family: string, script: string, group: string): Promise<{ taskArn: string; runtimeId: string; startedMs: number }> {
  await ecs.send(
    new RegisterTaskDefinitionCommand({
      family,
      containerDefinitions: [
        {
          name: 'main',
          image,
          memory: 64,
          entryPoint: ['/bin/sh', '-c'],
          command: [script],
          logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': group, 'awslogs-region': 'us-east-1', 'awslogs-stream-prefix': 'bench', 'awslogs-create-group': 'true' } },
        },
      ],
    }),
  );
  const taskArn = (await ecs.send(new RunTaskCommand({ cluster: 'default', taskDefinition: family }))).tasks![0]!.taskArn!;
  for (let i = 0; i < 6000; i++) {
    const t = (await ecs.send(new DescribeTasksCommand({ cluster: 'default', tasks: [taskArn] }))).tasks![0]!;
    const runtimeId = t.containers?.[0]?.runtimeId;
    if (runtimeId) {
      const info = await docker.getContainer(runtimeId).inspect();
      if (info.State.StartedAt && !info.State.StartedAt.startsWith('0001')) return { taskArn, runtimeId, startedMs: Date.parse(info.State.StartedAt) };
    }
    await sleep(10);
  }
  throw new Error('task did not start');
}

/** Reads the container's whole output through the Engine API; returns lines and ms. */
async function dockerLogsRead(runtimeId: string): Promise<{ lines: number; ms: number }> {
  const t0 = performance.now();
  const stream = (await docker.getContainer(runtimeId).logs({ follow: false, stdout: true, stderr: true, timestamps: true } as never)) as unknown as Buffer;
  // Demultiplexed count of newline-terminated payloads.
  let lines = 0;
  for (let off = 0; off + 8 <= stream.length; ) {
    const size = stream.readUInt32BE(off + 4);
    if (stream[off + 8 + size - 1] === 10) lines++;
    off += 8 + size;
  }
  return { lines, ms: performance.now() - t0 };
}

// ---- 1. throughput ----
if (PARTS.has('throughput')) {
  const dockyardRates: number[] = [];
  const dockerRates: number[] = [];
  const rssGrowth: number[] = [];
  for (let round = 0; round < ROUNDS + 1; round++) {
    const warm = round === 0;
    const group = `/bench/throughput-${round}`;
    const rssBefore = await rssMiB(server.pid);
    let rssPeak = rssBefore;
    const pad = 'x'.repeat(PAD);
    const { taskArn, runtimeId, startedMs } = await runTask(`bench-tp-${round}`, `seq 1 ${warm ? 1000 : LINES} | sed 's/^/line ${pad}/'`, group);
    const last = `line ${pad}${warm ? 1000 : LINES}`;
    const stream = `bench/main/${taskArn.split('/').pop()}`;
    let searchableMs = NaN;
    const readDockyard = async () => {
      for (let i = 0; i < 60_000; i++) {
        rssPeak = Math.max(rssPeak, await rssMiB(server.pid));
        // The newest event (an index seek, so polling costs the server little); once it is the last line, search for it.
        const r = await logs.send(new GetLogEventsCommand({ logGroupName: group, logStreamName: stream, limit: 1 })).catch(() => undefined);
        if (r?.events?.some((e) => e.message === last)) {
          searchableMs = Date.now() - startedMs;
          const found = await logs.send(new FilterLogEventsCommand({ logGroupName: group, logStreamNames: [stream], filterPattern: `"${last}"`, startTime: r.events[0]!.timestamp }));
          if (!found.events?.some((e) => e.message === last)) throw new Error('the last line is stored but not searchable');
          return;
        }
        await sleep(20);
      }
      throw new Error('the last line never became searchable');
    };
    let dockerRead = { lines: 0, ms: NaN };
    const readDocker = async () => {
      // The container has finished writing once Docker says it exited.
      while ((await docker.getContainer(runtimeId).inspect()).State.Running) await sleep(20);
      dockerRead = await dockerLogsRead(runtimeId);
    };
    if (round % 2 === 0) {
      await readDockyard();
      await readDocker();
    } else {
      await readDocker();
      await readDockyard();
    }
    if (warm) continue;
    dockyardRates.push(LINES / (searchableMs / 1000));
    dockerRates.push(dockerRead.lines / (dockerRead.ms / 1000));
    rssGrowth.push(rssPeak - rssBefore);
    if (dockerRead.lines !== LINES) throw new Error(`docker logs returned ${dockerRead.lines} lines`);
  }
  const p50 = (v: number[]) => percentile(v, 50);
  results.throughput = {
    dockyardLinesPerSecToSearchable: dockyardRates.map((v) => Math.round(v)),
    dockerLogsReadLinesPerSec: dockerRates.map((v) => Math.round(v)),
    p50Dockyard: Math.round(p50(dockyardRates)),
    p50DockerLogs: Math.round(p50(dockerRates)),
    ratio: round(p50(dockyardRates) / p50(dockerRates), 3),
    serverRssGrowthMiB: rssGrowth.map((v) => round(v, 1)),
    outputMiB: round((LINES * (`line ${LINES}`.length + PAD + 1)) / 1048576, 1),
  };
  console.error(JSON.stringify(results.throughput));
}

// ---- 2. end-to-end delay ----
if (PARTS.has('delay')) {
  const group = '/bench/delay';
  const { taskArn } = await runTask('bench-delay', 'i=0; while [ $i -lt 300 ]; do i=$((i+1)); echo "tick $i"; usleep 20000; done', group);
  const stream = `bench/main/${taskArn.split('/').pop()}`;
  const delays: number[] = [];
  let token: string | undefined;
  const deadline = Date.now() + 60_000;
  while (delays.length < 300 && Date.now() < deadline) {
    const r = await logs
      .send(new GetLogEventsCommand({ logGroupName: group, logStreamName: stream, startFromHead: true, nextToken: token }))
      .catch(() => undefined);
    const now = Date.now();
    if (r) {
      for (const e of r.events ?? []) delays.push(now - e.timestamp!);
      token = r.nextForwardToken;
    }
    await sleep(5);
  }
  // The first lines were written before the stream existed for the poller: skip them (warm-up).
  results.endToEndDelayMs = latencySummary(delays.slice(20), 1);
  console.error(JSON.stringify(results.endToEndDelayMs));
}

// ---- 3. FilterLogEvents over 1,000,000 events ----
if (PARTS.has('filter')) {
  const group = '/bench/filter';
  const TOTAL = 1_000_000;
  const STREAMS = 10;
  const SPAN_MS = 12 * 3600_000;
  const end = Date.now() - 60_000;
  const start = end - SPAN_MS;
  await logs.send(new CreateLogGroupCommand({ logGroupName: group }));
  for (let s = 0; s < STREAMS; s++) await logs.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: `s${s}` }));
  const messageOf = (i: number) =>
    i % 3 === 0
      ? `{"level":"${i % 97 === 0 ? 'error' : 'info'}","latency":${i % 1000},"path":"/api/items/${i % 500}","request":${i}}`
      : i === 777_777
        ? `GET /rare needle-${i} 500`
        : `${i % 11 === 0 ? 'WARN' : 'INFO'} request ${i} served /api/items/${i % 500} in ${i % 1000} ms`;
  const file = join(mkdtempSync(join(tmpdir(), 'bench-logs-')), 'lines.txt');
  const fileLines: string[] = [];
  const t0 = performance.now();
  const perStream = TOTAL / STREAMS;
  const BATCH = 10_000;
  for (let s = 0; s < STREAMS; s++) {
    for (let b = 0; b < perStream; b += BATCH) {
      const logEvents = [];
      for (let k = b; k < b + BATCH; k++) {
        const i = s * perStream + k;
        const m = messageOf(i);
        fileLines.push(m);
        logEvents.push({ timestamp: start + Math.floor((k / perStream) * SPAN_MS), message: m });
      }
      await logs.send(new PutLogEventsCommand({ logGroupName: group, logStreamName: `s${s}`, logEvents }));
    }
  }
  const loadSec = (performance.now() - t0) / 1000;
  writeFileSync(file, fileLines.join('\n') + '\n');
  const time = async (input: Record<string, unknown>, reps = 5) => {
    const ms: number[] = [];
    let events = 0;
    let more = false;
    for (let r = 0; r < reps; r++) {
      const q0 = performance.now();
      const res = await logs.send(new FilterLogEventsCommand({ logGroupName: group, ...input }));
      ms.push(performance.now() - q0);
      events = res.events!.length;
      more = res.nextToken !== undefined;
    }
    return { p50Ms: round(percentile(ms, 50), 1), maxMs: round(Math.max(...ms), 1), events, nextToken: more };
  };
  const grep = (term: string, reps = 5) => {
    const ms: number[] = [];
    for (let r = 0; r < reps; r++) {
      const q0 = performance.now();
      try {
        execFileSync('grep', ['-c', '-F', term, file]);
      } catch {
        // no match: exit 1
      }
      ms.push(performance.now() - q0);
    }
    return round(percentile(ms, 50), 1);
  };
  const hour = start + 6 * 3600_000;
  results.filter = {
    events: TOTAL,
    loadSeconds: round(loadSec, 1),
    loadEventsPerSec: Math.round(TOTAL / loadSec),
    oneHourTerm: await time({ startTime: hour, endTime: hour + 3600_000, filterPattern: 'WARN' }),
    tenMinutesJson: await time({ startTime: hour, endTime: hour + 600_000, filterPattern: '{ $.level = "error" && $.latency > 100 }' }),
    oneHourNoPattern: await time({ startTime: hour, endTime: hour + 3600_000, limit: 100 }),
    wholeRangeRareTerm: await time({ filterPattern: '"needle-777777"' }),
    grepWholeFileRareTerm: grep('needle-777777'),
  };
  rmSync(join(file, '..'), { recursive: true, force: true });
  console.error(JSON.stringify(results.filter));
}

console.log(JSON.stringify(results));
writeFileSync(new URL(process.env.LOGS_BENCH_OUT ?? './results/logs.json', import.meta.url), JSON.stringify(results, null, 1) + '\n');
logs.destroy();
ecs.destroy();
await server.stop();
