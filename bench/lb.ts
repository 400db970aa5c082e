/**
 * Load-balancer benchmark: requests/s and latency through a Dockyard listener against Debian's
 * nginx proxying the same two targets, driven by wrk at 50 keep-alive connections.
 *
 * The two targets are plain Node HTTP servers on 127.0.0.1 (keep-alive, a 13-byte body) in their
 * own process, so neither side pays docker-proxy (BASELINES.md §4: busybox httpd closes every
 * connection and its listen backlog of 9 makes it the bottleneck). Dockyard runs as its own
 * process (`dockyard up --no-agent`), configured through the ELBv2 API: a load balancer, a target
 * group with both targets (health checks on, round robin), an HTTP listener forwarding to it.
 * nginx (2 workers as in BASELINES.md, `upstream` with keepalive 64, HTTP/1.1 to the targets,
 * the same X-Forwarded-* headers) listens on another port. After a warm-up of each, the two are
 * measured in turn `--rounds` times (interleaved: nginx, dockyard, nginx, dockyard, …), every run
 * `wrk -t2 -c50 -d<seconds>s --latency`, with the CPU time each side's processes spent on the run
 * (from /proc: the cost per request, which a loaded machine disturbs far less than requests/s).
 * Prints one JSON document with every run, the medians and the ratios (Dockyard ÷ nginx).
 *
 *   node --import tsx bench/lb.ts [--seconds 10] [--rounds 1] [--connections 50] [--nginx-workers 2] [--lb-workers N] [--cpu-prof DIR]
 *
 * Dockyard serves listeners from one worker process per CPU by default, as nginx runs a worker
 * per core; `--lb-workers 1 --nginx-workers 1` compares one process against one.
 * `--cpu-prof DIR` profiles the Dockyard process (node --cpu-prof) for the whole run.
 */
import { CreateListenerCommand, CreateLoadBalancerCommand, CreateTargetGroupCommand, DescribeTargetHealthCommand, ElasticLoadBalancingV2Client, RegisterTargetsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { freePort } from '../test/helpers/net.js';
import { startDockyardProcess, treeCpuSeconds } from './lib/dockyard-process.js';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '1' },
    connections: { type: 'string', default: '50' },
    'cpu-prof': { type: 'string' },
    'nginx-workers': { type: 'string', default: '2' },
    'lb-workers': { type: 'string' },
    /** Said with the results (e.g. how busy the machine was). */
    note: { type: 'string' },
  },
});
const SECONDS = Number(args.seconds);
const ROUNDS = Number(args.rounds);
const CONNECTIONS = Number(args.connections);
const NGINX_WORKERS = Number(args['nginx-workers']);
/** Dockyard's data-plane worker processes (`dockyard up --lb-workers`; default one per CPU). */
const LB_WORKERS = args['lb-workers'];

const TARGETS_SCRIPT = `
const http = require('node:http');
for (const port of process.argv.slice(1).map(Number)) {
  const s = http.createServer((req, res) => { res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 13 }); res.end('hello world\\n!'); });
  s.keepAliveTimeout = 65000;
  s.listen(port, '127.0.0.1');
}
`;

function nginxConfig(dir: string, port: number, targets: number[]): string {
  return `
worker_processes ${NGINX_WORKERS};
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream targets {
${targets.map((p) => `    server 127.0.0.1:${p};`).join('\n')}
    keepalive 64;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://targets;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Port $server_port;
      proxy_set_header X-Amzn-Trace-Id "Root=1-$request_id";
    }
  }
}
`;
}

interface WrkResult {
  requestsPerSecond: number;
  p50Ms: number;
  p75Ms: number;
  p90Ms: number;
  p99Ms: number;
  requests: number;
  non2xx: number;
  socketErrors: string | undefined;
  /** CPU time the side's processes (all workers) spent per request, in microseconds. */
  cpuUsPerRequest?: number;
}

const toMs = (v: string) => {
  const m = /^([\d.]+)(us|ms|s)$/.exec(v.trim());
  if (!m) return NaN;
  return Math.round(Number(m[1]) * (m[2] === 'us' ? 1 : m[2] === 'ms' ? 1000 : 1e6)) / 1000;
};

function parseWrk(out: string): WrkResult {
  const pct = (p: string) => toMs(new RegExp(`^\\s+${p}%\\s+(\\S+)`, 'm').exec(out)?.[1] ?? '');
  return {
    requestsPerSecond: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]),
    p50Ms: pct('50'),
    p75Ms: pct('75'),
    p90Ms: pct('90'),
    p99Ms: pct('99'),
    requests: Number(/(\d+) requests in/.exec(out)?.[1]),
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0),
    socketErrors: /Socket errors: (.*)/.exec(out)?.[1],
  };
}

function wrk(url: string, seconds: number): Promise<WrkResult> {
  return new Promise((resolve, reject) =>
    execFile('wrk', ['-t2', `-c${CONNECTIONS}`, `-d${seconds}s`, '--latency', url], { timeout: (seconds + 30) * 1000 }, (err, stdout) => (err ? reject(err) : resolve(parseWrk(stdout)))),
  );
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

const LOAD_AT_START = loadavg()[0]!;

async function main() {
  const children: ChildProcess[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'dockyard-bench-lb-'));
  const stopChild = async (c: ChildProcess) => {
    if (c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  };
  // startDockyardProcess passes DOCKYARD_BENCH_NODE_ARGS to the server's node.
  if (args['cpu-prof']) process.env.DOCKYARD_BENCH_NODE_ARGS = `--cpu-prof --cpu-prof-dir=${args['cpu-prof']}`;
  const dockyard = await startDockyardProcess(['--no-agent', ...(LB_WORKERS ? ['--lb-workers', LB_WORKERS] : [])]);
  try {
    const targetPorts = [await freePort(), await freePort()];
    const targets = spawn(process.execPath, ['-e', TARGETS_SCRIPT, ...targetPorts.map(String)], { stdio: 'ignore' });
    children.push(targets);

    const nginxPort = await freePort();
    writeFileSync(join(dir, 'nginx.conf'), nginxConfig(dir, nginxPort, targetPorts));
    const nginx = spawn('nginx', ['-c', join(dir, 'nginx.conf'), '-p', dir, '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'inherit'] });
    children.push(nginx);

    const elb = new ElasticLoadBalancingV2Client({ endpoint: dockyard.endpoint, region: 'us-east-1', credentials: dockyard.credentials, maxAttempts: 1 });
    const lb = (await elb.send(new CreateLoadBalancerCommand({ Name: 'bench' }))).LoadBalancers![0]!;
    const tg = (await elb.send(new CreateTargetGroupCommand({ Name: 'bench', Protocol: 'HTTP', Port: 80, VpcId: 'vpc-1', TargetType: 'ip', HealthCheckIntervalSeconds: 5, HealthCheckTimeoutSeconds: 2, HealthyThresholdCount: 2 }))).TargetGroups![0]!;
    await elb.send(new RegisterTargetsCommand({ TargetGroupArn: tg.TargetGroupArn, Targets: targetPorts.map((Port) => ({ Id: '127.0.0.1', Port })) }));
    const lbPort = await freePort();
    await elb.send(new CreateListenerCommand({ LoadBalancerArn: lb.LoadBalancerArn, Port: lbPort, Protocol: 'HTTP', DefaultActions: [{ Type: 'forward', TargetGroupArn: tg.TargetGroupArn }] }));
    // Both targets healthy before measuring (bounded: 60 s).
    const deadline = Date.now() + 60_000;
    for (;;) {
      const h = (await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg.TargetGroupArn }))).TargetHealthDescriptions!;
      if (h.length === 2 && h.every((x) => x.TargetHealth?.State === 'healthy')) break;
      if (Date.now() > deadline) throw new Error(`targets not healthy: ${JSON.stringify(h.map((x) => x.TargetHealth))}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    elb.destroy();

    const urls = { nginx: `http://127.0.0.1:${nginxPort}/`, dockyard: `http://127.0.0.1:${lbPort}/` };
    for (const url of Object.values(urls)) {
      const r = await fetch(url);
      if (r.status !== 200 || (await r.text()) !== 'hello world\n!') throw new Error(`${url} does not proxy to the targets`);
    }
    // Warm-up (JIT, connection pools on both sides).
    await wrk(urls.nginx, 3);
    await wrk(urls.dockyard, 3);
    const runs: { side: 'nginx' | 'dockyard'; round: number; result: WrkResult }[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      for (const side of ['nginx', 'dockyard'] as const) {
        const pid = side === 'nginx' ? nginx.pid! : dockyard.pid;
        const cpuBefore = await treeCpuSeconds(pid);
        const result = await wrk(urls[side], SECONDS);
        result.cpuUsPerRequest = Math.round((((await treeCpuSeconds(pid)) - cpuBefore) / result.requests) * 1e6 * 10) / 10;
        runs.push({ side, round, result });
        process.stderr.write(`${side} round ${round}: ${result.requestsPerSecond.toFixed(0)} req/s, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, ${result.cpuUsPerRequest} µs CPU per request\n`);
      }
    }
    const summary = (side: 'nginx' | 'dockyard') => {
      const mine = runs.filter((r) => r.side === side).map((r) => r.result);
      return {
        requestsPerSecond: median(mine.map((r) => r.requestsPerSecond)),
        p50Ms: median(mine.map((r) => r.p50Ms)),
        p99Ms: median(mine.map((r) => r.p99Ms)),
        cpuUsPerRequest: median(mine.map((r) => r.cpuUsPerRequest!)),
        non2xx: mine.reduce((s, r) => s + r.non2xx, 0),
      };
    };
    const n = summary('nginx');
    const dy = summary('dockyard');
    console.log(
      JSON.stringify(
        {
          benchmark: 'lb',
          date: new Date().toISOString(),
          ...(args.note ? { note: args.note } : {}),
          loadAverageAtStart: LOAD_AT_START,
          command: `node --import tsx bench/lb.ts --seconds ${SECONDS} --rounds ${ROUNDS} --connections ${CONNECTIONS} --nginx-workers ${NGINX_WORKERS}${LB_WORKERS ? ` --lb-workers ${LB_WORKERS}` : ''}`,
          nginxWorkers: NGINX_WORKERS,
          dockyardWorkers: LB_WORKERS ? Number(LB_WORKERS) : availableParallelism(),
          client: `wrk -t2 -c${CONNECTIONS} -d${SECONDS}s --latency`,
          targets: 'two Node http servers on 127.0.0.1 (one process), keep-alive, 13-byte body',
          nginx: n,
          dockyard: dy,
          ratio: { throughput: Math.round((dy.requestsPerSecond / n.requestsPerSecond) * 1000) / 1000, p50: Math.round((dy.p50Ms / n.p50Ms) * 100) / 100, p99: Math.round((dy.p99Ms / n.p99Ms) * 100) / 100, cpuPerRequest: Math.round((dy.cpuUsPerRequest / n.cpuUsPerRequest) * 100) / 100 },
          goal: { throughputAtLeast: 0.7, p99AtMost: 1 },
          runs,
        },
        null,
        2,
      ),
    );
  } finally {
    for (const c of children.reverse()) await stopChild(c);
    await dockyard.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
