/**
 * Benchmark: how long a task takes to start through Dockyard, against a plain `docker run -d`
 * of the same image in the same run (interleaved, so machine noise hits both alike).
 *
 *   node --import tsx bench/task-start.ts [runs=15]
 *
 * Reference: `docker run -d -p 127.0.0.1::8080 dockyard-test/bb-httpd:1`, timed to the moment
 * it returns and to the first HTTP 200 on the published port.
 * Dockyard: RunTask of a bridge-mode task definition with the same image and a dynamic host
 * port, timed to DescribeTasks showing RUNNING (polled every 5 ms) and to the first HTTP 200.
 * Prints one JSON line with p50/p90 of each and the ratios.
 */
import {
  DescribeTasksCommand,
  ECSClient,
  ListContainerInstancesCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
} from '@aws-sdk/client-ecs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { buildHttpdImage } from '../test/helpers/images.js';
import { percentile, startDockyardProcess } from './lib/dockyard-process.js';

const run = promisify(execFile);
const RUNS = Number(process.argv[2] ?? 15);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function firstOk(url: string, deadlineMs = 30_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not answering yet
    }
    if (Date.now() > end) throw new Error(`no HTTP 200 from ${url}`);
    await sleep(2);
  }
}

async function dockerRun(image: string) {
  const t0 = performance.now();
  const { stdout } = await run('docker', ['run', '-d', '-p', '127.0.0.1::8080', image]);
  const returned = performance.now() - t0;
  const id = stdout.trim();
  const port = (await run('docker', ['port', id, '8080/tcp'])).stdout.trim().split(':').pop();
  await firstOk(`http://127.0.0.1:${port}/`);
  const answered = performance.now() - t0;
  await run('docker', ['rm', '-f', id]);
  return { returned, answered };
}

async function dockyardRun(ecs: ECSClient, family: string) {
  const t0 = performance.now();
  const out = await ecs.send(new RunTaskCommand({ taskDefinition: family }));
  const arn = out.tasks?.[0]?.taskArn;
  if (!arn) throw new Error(`RunTask placed nothing: ${JSON.stringify(out.failures)}`);
  let running = 0;
  let port: number | undefined;
  const end = Date.now() + 30_000;
  while (!running) {
    const task = (await ecs.send(new DescribeTasksCommand({ tasks: [arn] }))).tasks?.[0];
    if (task?.lastStatus === 'RUNNING') {
      running = performance.now() - t0;
      port = task.containers?.[0]?.networkBindings?.[0]?.hostPort;
    } else if (task?.lastStatus === 'STOPPED') throw new Error(`task stopped: ${task.stoppedReason}`);
    else if (Date.now() > end) throw new Error('task did not reach RUNNING in 30 s');
    else await sleep(5);
  }
  await firstOk(`http://127.0.0.1:${port}/`);
  const answered = performance.now() - t0;
  await ecs.send(new StopTaskCommand({ task: arn, reason: 'benchmark' }));
  for (let i = 0; i < 600; i++) {
    const task = (await ecs.send(new DescribeTasksCommand({ tasks: [arn] }))).tasks?.[0];
    if (task?.lastStatus === 'STOPPED') break;
    await sleep(50);
  }
  return { running, answered };
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
    const family = 'bench-start';
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family,
        networkMode: 'bridge',
        containerDefinitions: [{ name: 'web', image, memory: 64, stopTimeout: 2, portMappings: [{ containerPort: 8080, hostPort: 0 }] }],
      }),
    );
    // One warm-up of each path (first container start pays for page cache and network set-up).
    await dockerRun(image);
    await dockyardRun(ecs, family);
    const docker = { returned: [] as number[], answered: [] as number[] };
    const dockyard = { running: [] as number[], answered: [] as number[] };
    for (let i = 0; i < RUNS; i++) {
      const d = await dockerRun(image);
      docker.returned.push(d.returned);
      docker.answered.push(d.answered);
      const y = await dockyardRun(ecs, family);
      dockyard.running.push(y.running);
      dockyard.answered.push(y.answered);
    }
    const p = (v: number[], q: number) => Math.round(percentile(v, q) * 10) / 10;
    const result = {
      benchmark: 'task-start',
      runs: RUNS,
      dockerRunReturnedMs: { p50: p(docker.returned, 50), p90: p(docker.returned, 90) },
      dockerRunFirst200Ms: { p50: p(docker.answered, 50), p90: p(docker.answered, 90) },
      dockyardRunTaskToRunningMs: { p50: p(dockyard.running, 50), p90: p(dockyard.running, 90) },
      dockyardRunTaskFirst200Ms: { p50: p(dockyard.answered, 50), p90: p(dockyard.answered, 90) },
      ratioRunningVsDockerRun: Math.round((percentile(dockyard.running, 50) / percentile(docker.returned, 50)) * 100) / 100,
      ratioFirst200: Math.round((percentile(dockyard.answered, 50) / percentile(docker.answered, 50)) * 100) / 100,
    };
    console.log(JSON.stringify(result));
  } finally {
    ecs.destroy();
    await dy.stop(); // removes what the embedded agent created
  }
}

await main();
