/**
 * Benchmark: tasks started per minute by the embedded agent, against `docker run -d` started
 * one after another for the same window in the same run.
 *
 *   node --import tsx bench/task-rate.ts [windowSeconds=60] [maxTasks=300]
 *
 * Dockyard: RunTask with count=10 whenever fewer than 20 tasks are still starting, for the
 * window; a task counts when DescribeTasks shows it RUNNING within the window. Every task and
 * container is stopped and removed (by id) at the end. Prints one JSON line.
 */
import { DescribeTasksCommand, ECSClient, ListContainerInstancesCommand, RegisterTaskDefinitionCommand, RunTaskCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { buildHttpdImage } from '../test/helpers/images.js';
import { rssMiB, startDockyardProcess } from './lib/dockyard-process.js';

const run = promisify(execFile);
const WINDOW_S = Number(process.argv[2] ?? 60);
const MAX_TASKS = Number(process.argv[3] ?? 300);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function dockerRate(image: string): Promise<number> {
  const ids: string[] = [];
  const end = performance.now() + WINDOW_S * 1000;
  try {
    while (performance.now() < end && ids.length < MAX_TASKS) {
      const { stdout } = await run('docker', ['run', '-d', '-m', '16m', '-p', '127.0.0.1::8080', image]);
      ids.push(stdout.trim());
    }
    return ids.length;
  } finally {
    for (let i = 0; i < ids.length; i += 50) await run('docker', ['rm', '-f', ...ids.slice(i, i + 50)]).catch(() => undefined);
  }
}

async function dockyardRate(ecs: ECSClient): Promise<{ running: number; launched: number }> {
  const pending = new Set<string>();
  const all: string[] = [];
  let running = 0;
  const end = performance.now() + WINDOW_S * 1000;
  while (performance.now() < end) {
    if (pending.size < 20 && all.length < MAX_TASKS) {
      const out = await ecs.send(new RunTaskCommand({ taskDefinition: 'bench-rate', count: Math.min(10, MAX_TASKS - all.length) }));
      for (const t of out.tasks ?? []) {
        pending.add(t.taskArn!);
        all.push(t.taskArn!);
      }
    }
    const arns = [...pending].slice(0, 100);
    if (arns.length) {
      const { tasks } = await ecs.send(new DescribeTasksCommand({ tasks: arns }));
      for (const t of tasks ?? []) {
        if (t.lastStatus === 'RUNNING') {
          running += 1;
          pending.delete(t.taskArn!);
        } else if (t.lastStatus === 'STOPPED') pending.delete(t.taskArn!);
      }
    }
    await sleep(20);
  }
  for (const arn of all) await ecs.send(new StopTaskCommand({ task: arn, reason: 'benchmark done' }));
  return { running, launched: all.length };
}

async function main() {
  const image = buildHttpdImage();
  const dy = await startDockyardProcess();
  const ecs = new ECSClient({ endpoint: dy.endpoint, region: 'us-east-1', credentials: dy.credentials });
  try {
    for (let i = 0; i < 100; i++) {
      if ((await ecs.send(new ListContainerInstancesCommand({}))).containerInstanceArns?.length) break;
      await sleep(100);
    }
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'bench-rate',
        containerDefinitions: [{ name: 'web', image, memory: 16, stopTimeout: 2, portMappings: [{ containerPort: 8080, hostPort: 0 }] }],
      }),
    );
    const dockerStarted = await dockerRate(image);
    const rssBefore = await rssMiB(dy.pid);
    const dy0 = await dockyardRate(ecs);
    const rssAfter = await rssMiB(dy.pid);
    const perMin = (n: number) => Math.round((n / WINDOW_S) * 60);
    console.log(
      JSON.stringify({
        benchmark: 'task-rate',
        windowSeconds: WINDOW_S,
        dockerRunSequentialPerMin: perMin(dockerStarted),
        dockyardRunningPerMin: perMin(dy0.running),
        dockyardLaunched: dy0.launched,
        ratio: Math.round((dy0.running / Math.max(1, dockerStarted)) * 100) / 100,
        dockyardRssMiB: { before: Math.round(rssBefore), after: Math.round(rssAfter) },
      }),
    );
    // Let the agent stop what it started before the server goes away.
    await sleep(Math.min(60_000, 2000 + dy0.launched * 100));
  } finally {
    ecs.destroy();
    await dy.stop(); // removes what the embedded agent created
  }
}

await main();
