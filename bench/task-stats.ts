/**
 * Benchmark: the agent's cost of collecting task stats (agent protocol 1.3).
 *
 *   node --import tsx bench/task-stats.ts [containers=200] [rounds=5] [streamSeconds=10] [concurrency=64]
 *
 * Starts `containers` containers of a tiny busybox `sleep` image with plain `docker run` (not
 * through Dockyard), then, in interleaved rounds (which side goes first alternates):
 *  - agent: one sampling round of the agent's own code (StatsCollector.sample over
 *    DockerRuntime.stats, one-shot, `concurrency` requests in flight) over the same containers, as if each
 *    were a task; its CPU time from process.cpuUsage (this process does nothing else meanwhile);
 *  - reference: `docker stats --no-stream <the same ids>`; its CPU time (the docker CLI's) from
 *    getrusage of its children by a small python3 wrapper.
 * For both, the daemon side's CPU over the round: dockerd, containerd and the containerd shims
 * (/proc/<pid>/stat utime+stime), and the wall time.
 * Then the alternative design, one long-lived stats stream per container (Docker sends a reading
 * per second): the agent's and the daemon side's CPU over `streamSeconds`, scaled to one 20 s
 * sampling interval, against one-shot rounds at one per 20 s.
 * Containers are removed by id at the end. Prints one JSON object (raw rounds included); the
 * result file is bench/results/task-stats.json.
 */
import Docker from 'dockerode';
import { execFile, execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { DEFAULT_STATS_CONCURRENCY, DockerRuntime, newLocalTask, StatsCollector, type LocalTask } from '../src/agent/index.js';
import { containerSpec } from '../src/agent/testing.js';
import { buildBusyboxImage } from '../test/helpers/images.js';
import { round } from './lib/stats.js';

const N = Number(process.argv[2] ?? 200);
const ROUNDS = Number(process.argv[3] ?? 5);
const STREAM_SECONDS = Number(process.argv[4] ?? 10);
const CONCURRENCY = Number(process.argv[5] ?? DEFAULT_STATS_CONCURRENCY);
const INTERVAL_SEC = 20;
const run = promisify(execFile);
const TICK_MS = 1000 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

/** CPU ms (user + system) of the daemon side: dockerd, containerd and every containerd shim. */
function daemonCpuMs(): { dockerd: number; containerd: number; shims: number } {
  const out = { dockerd: 0, containerd: 0, shims: 0 };
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue;
    }
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ms = (Number(fields[11]) + Number(fields[12])) * TICK_MS;
    if (name === 'dockerd') out.dockerd += ms;
    else if (name === 'containerd') out.containerd += ms;
    else if (name.startsWith('containerd-shim')) out.shims += ms;
  }
  return out;
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

interface Measured {
  wallMs: number;
  /** The agent's (this process's) CPU, or the docker CLI's. */
  clientCpuMs: number;
  daemon: { dockerd: number; containerd: number; shims: number; total: number };
}

async function measure(fn: () => Promise<number | void>): Promise<Measured & { clientCpuMsReported?: number }> {
  const d0 = daemonCpuMs();
  const c0 = cpuMs();
  const t0 = performance.now();
  const reported = await fn();
  const wallMs = performance.now() - t0;
  const clientCpuMs = typeof reported === 'number' ? reported : cpuMs() - c0;
  const d1 = daemonCpuMs();
  const daemon = { dockerd: round(d1.dockerd - d0.dockerd), containerd: round(d1.containerd - d0.containerd), shims: round(d1.shims - d0.shims), total: 0 };
  daemon.total = round(daemon.dockerd + daemon.containerd + daemon.shims);
  return { wallMs: round(wallMs), clientCpuMs: round(clientCpuMs), daemon };
}

/** `docker stats --no-stream` over the ids; returns the CLI's CPU ms (getrusage of the wrapper's children). */
async function dockerStatsCli(ids: string[]): Promise<number> {
  const wrapper = 'import resource, subprocess, sys\nsubprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)\nr = resource.getrusage(resource.RUSAGE_CHILDREN)\nprint((r.ru_utime + r.ru_stime) * 1000)';
  const { stdout } = await run('python3', ['-c', wrapper, 'docker', 'stats', '--no-stream', ...ids], { maxBuffer: 64 * 1024 * 1024 });
  return Number(stdout.trim());
}

const image = buildBusyboxImage('dockyard-bench/sleep:1', ['FROM scratch', 'COPY busybox /bin/busybox', 'ENTRYPOINT ["/bin/busybox", "sleep", "36000"]', ''].join('\n'));
const ids: string[] = [];
const docker = new Docker();
const result: Record<string, unknown> = { containers: N, rounds: ROUNDS, concurrency: CONCURRENCY, date: new Date().toISOString(), cpus: Number(execFileSync('nproc', { encoding: 'utf8' }).trim()), note: process.env.BENCH_NOTE ?? '', loadAverageAtStart: Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]) };
try {
  const t0 = performance.now();
  for (let i = 0; i < N; i++) ids.push(execFileSync('docker', ['run', '-d', '--rm', '--label', 'dockyard.bench=task-stats', image], { encoding: 'utf8' }).trim());
  result.startSeconds = round((performance.now() - t0) / 1000, 1);

  // Each container as a one-container task of the agent's, running.
  const tasks = new Map<string, LocalTask>();
  ids.forEach((id, i) => {
    const arn = `arn:aws:ecs:us-east-1:000000000000:task/bench/${i}`;
    const t = newLocalTask({ taskArn: arn, clusterArn: 'arn:cluster', taskDefinitionArn: 'arn:td', family: 'bench', desiredStatus: 'RUNNING', networkMode: 'none', volumes: [], containers: [containerSpec('main')] });
    t.containers.main = { ...t.containers.main!, known: 'RUNNING', runtimeId: id };
    tasks.set(arn, t);
  });
  const quiet = { info() {}, warn() {}, error() {}, debug() {} };
  const collector = new StatsCollector({ runtime: new DockerRuntime({ instanceId: 'bench-task-stats' }), tasks, log: quiet, send: async () => {}, concurrency: CONCURRENCY });
  await collector.sample(); // warm-up: connections, first readings

  const agentRounds: (Measured & { samples: number })[] = [];
  const cliRounds: Measured[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const agent = async () => {
      let samples = 0;
      const m = await measure(async () => void (samples = (await collector.sample()).length));
      agentRounds.push({ ...m, samples });
    };
    const cli = async () => cliRounds.push(await measure(() => dockerStatsCli(ids)));
    if (r % 2 === 0) {
      await agent();
      await cli();
    } else {
      await cli();
      await agent();
    }
  }

  // The alternative: one long-lived stream per container, a reading a second from Docker.
  const streams: NodeJS.ReadableStream[] = [];
  let readings = 0;
  const stream = await measure(async () => {
    for (const id of ids) {
      const s = (await docker.getContainer(id).stats({ stream: true })) as unknown as NodeJS.ReadableStream;
      let buf = '';
      s.on('data', (chunk: Buffer) => {
        buf += chunk.toString('utf8');
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (line.trim()) {
            JSON.parse(line);
            readings++;
          }
        }
      });
      streams.push(s);
    }
    await new Promise((r) => setTimeout(r, STREAM_SECONDS * 1000));
  });
  for (const s of streams) (s as unknown as { destroy(): void }).destroy();

  const mean = (xs: number[]) => round(xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length));
  const scale = INTERVAL_SEC / STREAM_SECONDS;
  result.summary = {
    perRound: {
      agentOneShot: { cpuMs: mean(agentRounds.map((x) => x.clientCpuMs)), wallMs: mean(agentRounds.map((x) => x.wallMs)), daemonCpuMs: mean(agentRounds.map((x) => x.daemon.total)), samples: mean(agentRounds.map((x) => x.samples)) },
      dockerStatsNoStream: { cpuMs: mean(cliRounds.map((x) => x.clientCpuMs)), wallMs: mean(cliRounds.map((x) => x.wallMs)), daemonCpuMs: mean(cliRounds.map((x) => x.daemon.total)) },
    },
    /** CPU % of one core when sampling every 20 s (the ECS agent's interval). */
    cpuPercentAt20s: {
      agentOneShot: round((mean(agentRounds.map((x) => x.clientCpuMs)) / (INTERVAL_SEC * 1000)) * 100, 3),
      agentOneShotDaemonSide: round((mean(agentRounds.map((x) => x.daemon.total)) / (INTERVAL_SEC * 1000)) * 100, 3),
      agentStream: round((stream.clientCpuMs / (STREAM_SECONDS * 1000)) * 100, 3),
      agentStreamDaemonSide: round((stream.daemon.total / (STREAM_SECONDS * 1000)) * 100, 3),
    },
    streamPer20s: { agentCpuMs: round(stream.clientCpuMs * scale), daemonCpuMs: round(stream.daemon.total * scale), readings: Math.round(readings * scale) },
  };
  result.raw = { agentRounds, cliRounds, stream: { ...stream, seconds: STREAM_SECONDS, readings } };
} finally {
  // By id, in batches (docker rm -f with many ids at once).
  for (let i = 0; i < ids.length; i += 50) {
    try {
      execFileSync('docker', ['rm', '-f', ...ids.slice(i, i + 50)], { stdio: 'ignore' });
    } catch {
      // already gone
    }
  }
}
console.log(JSON.stringify(result, null, 2));
process.exit(0);
