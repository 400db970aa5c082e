/**
 * Benchmark: how long a task takes to start through Dockyard, against Docker starting the same
 * image in the same run, measured the same way on every side.
 *
 *   node --import tsx bench/task-start.ts [runs=15]
 *
 * Every side publishes container port 8080 on a host port chosen (free) before the clock starts,
 * so no side pays for discovering the port, and "first HTTP 200" is the time from the request
 * to the first 200 from http://127.0.0.1:PORT/ (polled every 2 ms from the moment the request
 * is sent). The sides:
 *   - docker CLI:  `docker run -d -p 127.0.0.1:PORT:8080 IMAGE` (one CLI process: what a user types);
 *   - Engine API:  POST /containers/create + /start over the Docker socket (dockerode), which is also
 *                  what Dockyard's agent does (so the gap to it is Dockyard's own overhead);
 *   - Dockyard:    RunTask of a bridge-mode definition with hostPort PORT (a new revision per run,
 *                  registered before the clock starts); "returned" is DescribeTasks showing RUNNING
 *                  (polled every 5 ms, in parallel with the HTTP polling).
 * Runs are interleaved and the order of the sides rotates each round; one warm-up of each first.
 * Prints one JSON line with p50/p90 (nearest rank) of each and the ratios to both references.
 */
import {
  DescribeTasksCommand,
  ECSClient,
  ListContainerInstancesCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
} from '@aws-sdk/client-ecs';
import Docker from 'dockerode';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { buildHttpdImage } from '../test/helpers/images.js';
import { freePort } from '../test/helpers/net.js';
import { startDockyardProcess } from './lib/dockyard-process.js';
import { percentile, round } from './lib/stats.js';

const run = promisify(execFile);
const RUNS = Number(process.argv[2] ?? 15);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const docker = new Docker();

/** Polls until the port answers 200; resolves with the time it did (performance.now()). */
async function firstOk(port: number, deadlineMs = 30_000): Promise<number> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/`);
      await res.arrayBuffer();
      if (res.ok) return performance.now();
    } catch {
      // not answering yet
    }
    if (Date.now() > end) throw new Error(`no HTTP 200 from port ${port}`);
    await sleep(2);
  }
}

interface Sample {
  returned: number;
  answered: number;
}

async function dockerCli(image: string): Promise<Sample> {
  const port = await freePort();
  const t0 = performance.now();
  const answered = firstOk(port);
  const { stdout } = await run('docker', ['run', '-d', '-p', `127.0.0.1:${port}:8080`, image]);
  const returned = performance.now() - t0;
  const sample = { returned, answered: (await answered) - t0 };
  await run('docker', ['rm', '-f', stdout.trim()]);
  return sample;
}

async function engineApi(image: string): Promise<Sample> {
  const port = await freePort();
  const t0 = performance.now();
  const answered = firstOk(port);
  const container = await docker.createContainer({
    Image: image,
    ExposedPorts: { '8080/tcp': {} },
    HostConfig: { PortBindings: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: String(port) }] } },
  });
  await container.start();
  const returned = performance.now() - t0;
  const sample = { returned, answered: (await answered) - t0 };
  await container.remove({ force: true });
  return sample;
}

async function dockyardRun(ecs: ECSClient, image: string): Promise<Sample> {
  const port = await freePort();
  const family = 'bench-start';
  await ecs.send(
    new RegisterTaskDefinitionCommand({
      family,
      networkMode: 'bridge',
      containerDefinitions: [{ name: 'web', image, memory: 64, stopTimeout: 2, portMappings: [{ containerPort: 8080, hostPort: port }] }],
    }),
  );
  const t0 = performance.now();
  const answered = firstOk(port);
  const out = await ecs.send(new RunTaskCommand({ taskDefinition: family }));
  const arn = out.tasks?.[0]?.taskArn;
  if (!arn) throw new Error(`RunTask placed nothing: ${JSON.stringify(out.failures)}`);
  let running = 0;
  const end = Date.now() + 30_000;
  while (!running) {
    const task = (await ecs.send(new DescribeTasksCommand({ tasks: [arn] }))).tasks?.[0];
    if (task?.lastStatus === 'RUNNING') running = performance.now() - t0;
    else if (task?.lastStatus === 'STOPPED') throw new Error(`task stopped: ${task.stoppedReason}`);
    else if (Date.now() > end) throw new Error('task did not reach RUNNING in 30 s');
    else await sleep(5);
  }
  const sample = { returned: running, answered: (await answered) - t0 };
  await ecs.send(new StopTaskCommand({ task: arn, reason: 'benchmark' }));
  for (let i = 0; i < 600; i++) {
    const task = (await ecs.send(new DescribeTasksCommand({ tasks: [arn] }))).tasks?.[0];
    if (task?.lastStatus === 'STOPPED') break;
    await sleep(50);
  }
  return sample;
}

async function main() {
  const image = buildHttpdImage();
  const dy = await startDockyardProcess();
  const ecs = new ECSClient({ endpoint: dy.endpoint, region: 'us-east-1', credentials: dy.credentials });
  try {
    for (let i = 0; i < 100; i++) {
      const { containerInstanceArns } = await ecs.send(new ListContainerInstancesCommand({}));
      if (containerInstanceArns?.length) break;
      await sleep(100);
    }
    const sides: [name: 'dockerCli' | 'engineApi' | 'dockyard', start: () => Promise<Sample>][] = [
      ['dockerCli', () => dockerCli(image)],
      ['engineApi', () => engineApi(image)],
      ['dockyard', () => dockyardRun(ecs, image)],
    ];
    // Warm-up: the first start of each path pays for page cache and network set-up.
    for (const [, start] of sides) await start();
    const samples = { dockerCli: [] as Sample[], engineApi: [] as Sample[], dockyard: [] as Sample[] };
    for (let i = 0; i < RUNS; i++) {
      for (let k = 0; k < sides.length; k++) {
        const [name, start] = sides[(i + k) % sides.length]!;
        samples[name].push(await start());
      }
    }
    const stats = (xs: Sample[], field: keyof Sample) => ({
      p50: round(percentile(xs.map((s) => s[field]), 50), 1),
      p90: round(percentile(xs.map((s) => s[field]), 90), 1),
    });
    const p50 = (xs: Sample[], field: keyof Sample) => percentile(xs.map((s) => s[field]), 50);
    console.log(
      JSON.stringify({
        benchmark: 'task-start',
        runs: RUNS,
        method: 'host port chosen before the clock starts on every side; first 200 polled every 2 ms from the request; sides interleaved, order rotating',
        dockerCliReturnedMs: stats(samples.dockerCli, 'returned'),
        dockerCliFirst200Ms: stats(samples.dockerCli, 'answered'),
        engineApiCreateStartReturnedMs: stats(samples.engineApi, 'returned'),
        engineApiFirst200Ms: stats(samples.engineApi, 'answered'),
        dockyardRunTaskToRunningMs: stats(samples.dockyard, 'returned'),
        dockyardRunTaskFirst200Ms: stats(samples.dockyard, 'answered'),
        ratioFirst200VsDockerCli: round(p50(samples.dockyard, 'answered') / p50(samples.dockerCli, 'answered')),
        ratioFirst200VsEngineApi: round(p50(samples.dockyard, 'answered') / p50(samples.engineApi, 'answered')),
      }),
    );
  } finally {
    ecs.destroy();
    await dy.stop(); // removes what the embedded agent created
  }
}

await main();
