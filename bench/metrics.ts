/**
 * GetMetricData over 1,000 tasks × 24 hours of one-minute data, against the same reads done
 * straight on the metric SQLite file (the storage's own floor: same rows, same buckets, no HTTP,
 * SigV4, model validation or math), interleaved and warmed, in one run. Also: how fast the
 * points were written and how many bytes a stored point takes (the retention arithmetic).
 *
 *   node --import tsx bench/metrics.ts [--tasks 1000] [--hours 24] [--rounds 15] [--out bench/results/metrics.json]
 *
 * Queries (each both ways):
 *   one-task  — one task's CPUUtilization, 24 h at 60 s (1,440 points)
 *   fleet     — 500 tasks' CPUUtilization at 300 s, AVG(METRICS()) returned (720,000 rows read)
 *   hourly    — 1,000 tasks' series at 3,600 s from the hourly rollups, SUM(METRICS())
 */
import { CloudWatchClient, GetMetricDataCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createApp } from '../src/server/app.js';
import { defaultConfig } from '../src/server/config.js';
import { MetricStore, type PointInput } from '../src/services/cloudwatch/metric-store.js';
import { latencySummary, round } from './lib/stats.js';

const { values: args } = parseArgs({
  options: {
    tasks: { type: 'string', default: '1000' },
    hours: { type: 'string', default: '24' },
    rounds: { type: 'string', default: '15' },
    out: { type: 'string', default: 'bench/results/metrics.json' },
  },
});
const TASKS = Number(args.tasks);
const MINUTES = Number(args.hours) * 60;
const ROUNDS = Number(args.rounds);
const ACCOUNT = '000000000000';
const SCOPE = `${ACCOUNT}:us-east-1`;
const credentials = { accessKeyId: 'AKIABENCHMETRICS0000', secretAccessKey: 'bench/metrics+secret0123456789abcdefghij' };

const dataDir = mkdtempSync(join(tmpdir(), 'dockyard-bench-metrics-'));
const end = Math.floor(Date.now() / 1000 / 3600) * 3600;
const start = end - MINUTES * 60;
const taskDims = (i: number) => [
  { Name: 'ClusterName', Value: 'bench' },
  { Name: 'ServiceName', Value: `svc-${i % 50}` },
  { Name: 'TaskId', Value: `task-${String(i).padStart(5, '0')}` },
];

// 1. Seed: every task's CPUUtilization, one point a minute, written as the agent's batches would be (one minute of the fleet per batch).
const seedStore = new MetricStore(dataDir);
const seedStarted = process.hrtime.bigint();
for (let m = 0; m < MINUTES; m++) {
  const t = start + m * 60;
  const batch: PointInput[] = [];
  for (let i = 0; i < TASKS; i++) {
    const v = 20 + ((i * 7 + m) % 60) + (m % 13) / 10;
    batch.push({ key: { scope: SCOPE, namespace: 'ECS/ContainerInsights', metricName: 'CpuUtilized', dimensions: taskDims(i) }, unit: 'Percent', timestamp: t, count: 1, sum: v, min: v, max: v });
  }
  seedStore.put(batch);
}
const seedSeconds = Number(process.hrtime.bigint() - seedStarted) / 1e9;
seedStore.close();
const points = TASKS * MINUTES;
const fileBytes = statSync(join(dataDir, 'metrics.sqlite')).size + (() => {
  try {
    return statSync(join(dataDir, 'metrics.sqlite-wal')).size;
  } catch {
    return 0;
  }
})();

// 2. The server (in process) and an SDK v3 client.
const app = await createApp({ ...defaultConfig({}), host: '127.0.0.1', port: 0, dataDir, logLevel: 'silent', rootKey: credentials, metrics: { alarmEvaluationIntervalMs: 0, scheduledActionIntervalMs: 0 } }, { logger: false });
const port = await app.listen();
const cw = new CloudWatchClient({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', credentials, maxAttempts: 1 });

// 3. The reference: the same rows read straight from the file.
const db = new Database(join(dataDir, 'metrics.sqlite'), { readonly: true });
const seriesIds = new Map((db.prepare("SELECT id, dims FROM series WHERE metric = 'CpuUtilized'").all() as { id: number; dims: string }[]).map((r) => [JSON.parse(r.dims).find((d: string[]) => d[0] === 'TaskId')[1] as string, r.id]));
const tables = (prefix: string, bucket: number, segment: number) => {
  const first = Math.floor(start / segment);
  const last = Math.floor((end - 1) / segment);
  const names: string[] = [];
  for (let s = first; s <= last; s++) if (db.prepare("SELECT 1 FROM sqlite_master WHERE name = ?").get(`${prefix}_${s}`)) names.push(`${prefix}_${s}`);
  return names.map((n) => db.prepare(`SELECT b, n, sum FROM ${n} WHERE s = ? AND b >= ? AND b < ?`).raw()).map((stmt) => (id: number) => stmt.all(id, start / bucket, end / bucket) as [number, number, number][]);
};
const minuteReaders = tables('m', 60, 86400);
const hourReaders = tables('h', 3600, 32 * 86400);
function directAverage(ids: number[], period: number, readers: typeof minuteReaders, bucket: number): Map<number, number> {
  // Per series and period: the average; then the average over series, as AVG(METRICS()).
  const acc = new Map<number, [number, number]>();
  for (const id of ids) {
    const perPeriod = new Map<number, [number, number]>();
    for (const read of readers) {
      for (const [b, n, sum] of read(id)) {
        const key = start + Math.floor((b * bucket - start) / period) * period;
        const p = perPeriod.get(key) ?? perPeriod.set(key, [0, 0]).get(key)!;
        p[0] += sum;
        p[1] += n;
      }
    }
    for (const [t, [sum, n]] of perPeriod) {
      const a = acc.get(t) ?? acc.set(t, [0, 0]).get(t)!;
      a[0] += sum / n;
      a[1] += 1;
    }
  }
  return new Map([...acc].map(([t, [s, n]]) => [t, s / n]));
}

const task = (i: number) => `task-${String(i).padStart(5, '0')}`;
const stat = (i: number, period: number, stat = 'Average'): MetricDataQuery => ({
  Id: `m${i}`,
  MetricStat: { Metric: { Namespace: 'ECS/ContainerInsights', MetricName: 'CpuUtilized', Dimensions: taskDims(i) }, Period: period, Stat: stat },
  ReturnData: false,
});
const fleet = Math.min(500, TASKS);
const cases = {
  'one-task': {
    api: () => ({ MetricDataQueries: [{ ...stat(7, 60), ReturnData: true }] }),
    direct: () => directAverage([seriesIds.get(task(7))!], 60, minuteReaders, 60),
    points: MINUTES,
  },
  fleet: {
    api: () => ({ MetricDataQueries: [...Array.from({ length: fleet }, (_, i) => stat(i, 300)), { Id: 'avg', Expression: 'AVG(METRICS())' }] }),
    direct: () => directAverage(Array.from({ length: fleet }, (_, i) => seriesIds.get(task(i))!), 300, minuteReaders, 60),
    points: MINUTES / 5,
  },
  hourly: {
    // 500 queries is GetMetricData's limit: two requests cover the 1,000 tasks.
    api: (half: number) => ({ MetricDataQueries: [...Array.from({ length: Math.min(500, TASKS) }, (_, i) => stat(half * 500 + i, 3600, 'Sum')), { Id: 'sum', Expression: 'SUM(METRICS())' }] }),
    direct: () => directAverage(Array.from({ length: TASKS }, (_, i) => seriesIds.get(task(i))!), 3600, hourReaders, 3600),
    points: MINUTES / 60,
  },
} as const;

async function runApi(name: keyof typeof cases): Promise<number> {
  const t0 = process.hrtime.bigint();
  const requests = name === 'hourly' ? Math.ceil(TASKS / 500) : 1;
  let returned = 0;
  for (let h = 0; h < requests; h++) {
    const out = await cw.send(new GetMetricDataCommand({ ...cases[name].api(h), StartTime: new Date(start * 1000), EndTime: new Date(end * 1000), ScanBy: 'TimestampAscending' }));
    returned += out.MetricDataResults![0]!.Values!.length;
  }
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (returned !== cases[name].points * requests) throw new Error(`${name}: ${returned} points returned, expected ${cases[name].points * requests}`);
  return ms;
}
function runDirect(name: keyof typeof cases): number {
  const t0 = process.hrtime.bigint();
  const out = cases[name].direct();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (out.size !== cases[name].points) throw new Error(`${name} (direct): ${out.size} points`);
  return ms;
}

const samples: Record<string, { api: number[]; direct: number[] }> = {};
for (const name of Object.keys(cases) as (keyof typeof cases)[]) {
  samples[name] = { api: [], direct: [] };
  await runApi(name);
  runDirect(name);
  // Interleaved: API, then the same reads directly, round after round.
  for (let r = 0; r < ROUNDS; r++) {
    samples[name]!.api.push(await runApi(name));
    samples[name]!.direct.push(runDirect(name));
  }
}

const result = {
  when: new Date().toISOString(),
  command: `node --import tsx bench/metrics.ts --tasks ${TASKS} --hours ${MINUTES / 60} --rounds ${ROUNDS}`,
  seed: { points, seconds: round(seedSeconds, 1), pointsPerSecond: Math.round(points / seedSeconds), fileBytes, bytesPerPoint: round(fileBytes / points, 1) },
  getMetricDataMs: Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, { api: latencySummary(v.api), direct: latencySummary(v.direct) }])),
};
console.log(JSON.stringify(result, null, 2));
writeFileSync(args.out, `${JSON.stringify(result, null, 2)}\n`);
cw.destroy();
db.close();
await app.close();
rmSync(dataDir, { recursive: true, force: true });
