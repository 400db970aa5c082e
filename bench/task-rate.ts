/**
 * Benchmark: containers started per minute through Dockyard (RunTask, embedded agent), against
 * Docker doing the same work with the same concurrency, in the same run.
 *
 *   node --import tsx bench/task-rate.ts [windowSeconds=60] [maxTasks=300] [rounds=3] [concurrency=20]
 *
 * Both sides keep about `concurrency` starts in flight:
 *   - Dockyard: RunTask with count=10 whenever fewer than `concurrency` tasks are still starting;
 *     a task counts when DescribeTasks shows it RUNNING within the window.
 *   - Reference: `concurrency` workers, each creating and starting containers one after another
 *     through the Docker Engine API (dockerode: POST /containers/create, /start, the calls
 *     Dockyard's agent makes), with the same image, memory limit and a published host port; a
 *     container counts when its start returned within the window.
 * The window is split into `rounds` rounds per side, interleaved (the side going first alternates),
 * after a 5-second warm-up of each side. Between rounds, everything started is stopped and removed
 * (by id), outside the measured windows. Prints one JSON line: per-minute rates, every round's
 * count, and the ratio.
 */
import { DescribeTasksCommand, ECSClient, RegisterTaskDefinitionCommand, RunTaskCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import Docker from 'dockerode';
import { buildHttpdImage } from '../test/helpers/images.js';
import { rssMiB, startDockyardProcess, untilEmbeddedAgentRegistered } from './lib/dockyard-process.js';
import { percentile, round } from './lib/stats.js';

const WINDOW_S = Number(process.argv[2] ?? 60);
const MAX_TASKS = Number(process.argv[3] ?? 300);
const ROUNDS = Math.max(1, Number(process.argv[4] ?? 3));
const CONCURRENCY = Math.max(1, Number(process.argv[5] ?? 20));
const WARMUP_S = 5;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const docker = new Docker();

/** Containers started through the Engine API by CONCURRENCY workers within `seconds`. */
async function engineApiRound(image: string, seconds: number): Promise<number> {
  const started: Docker.Container[] = [];
  let attempts = 0;
  const end = performance.now() + seconds * 1000;
  const worker = async () => {
    while (performance.now() < end && attempts < MAX_TASKS) {
      attempts++;
      const container = await docker.createContainer({
        Image: image,
        HostConfig: { Memory: 16 * 1024 * 1024, PortBindings: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] } },
        ExposedPorts: { '8080/tcp': {} },
      });
      await container.start();
      if (performance.now() <= end) started.push(container);
      else await container.remove({ force: true });
    }
  };
  try {
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    return started.length;
  } finally {
    for (let i = 0; i < started.length; i += CONCURRENCY) await Promise.all(started.slice(i, i + CONCURRENCY).map((c) => c.remove({ force: true }).catch(() => undefined)));
  }
}

/** Tasks RUNNING within `seconds`, keeping about CONCURRENCY starting; all stopped (and waited for) after. */
async function dockyardRound(ecs: ECSClient, seconds: number): Promise<number> {
  const pending = new Set<string>();
  const all: string[] = [];
  let running = 0;
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    if (pending.size < CONCURRENCY && all.length < MAX_TASKS) {
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
          if (performance.now() <= end) running += 1;
          pending.delete(t.taskArn!);
        } else if (t.lastStatus === 'STOPPED') pending.delete(t.taskArn!);
      }
    }
    await sleep(20);
  }
  for (const arn of all) await ecs.send(new StopTaskCommand({ task: arn, reason: 'benchmark round done' }));
  // Wait until the agent has stopped them, so the next round starts on an idle host.
  for (let i = 0; i < all.length; i += 100) {
    const batch = all.slice(i, i + 100);
    for (let tries = 0; tries < 600; tries++) {
      const { tasks } = await ecs.send(new DescribeTasksCommand({ tasks: batch }));
      if ((tasks ?? []).every((t) => t.lastStatus === 'STOPPED')) break;
      await sleep(100);
    }
  }
  return running;
}

async function main() {
  const image = buildHttpdImage();
  const dy = await startDockyardProcess();
  const ecs = new ECSClient({ endpoint: dy.endpoint, region: 'us-east-1', credentials: dy.credentials });
  try {
    await untilEmbeddedAgentRegistered(ecs);
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'bench-rate',
        containerDefinitions: [{ name: 'web', image, memory: 16, stopTimeout: 2, portMappings: [{ containerPort: 8080, hostPort: 0 }] }],
      }),
    );
    await engineApiRound(image, WARMUP_S);
    await dockyardRound(ecs, WARMUP_S);
    const roundSeconds = WINDOW_S / ROUNDS;
    const engine: number[] = [];
    const dockyard: number[] = [];
    const rssBefore = await rssMiB(dy.pid);
    for (let r = 0; r < ROUNDS; r++) {
      if (r % 2 === 0) {
        engine.push(await engineApiRound(image, roundSeconds));
        dockyard.push(await dockyardRound(ecs, roundSeconds));
      } else {
        dockyard.push(await dockyardRound(ecs, roundSeconds));
        engine.push(await engineApiRound(image, roundSeconds));
      }
      process.stderr.write(`round ${r + 1}/${ROUNDS}: Engine API ${engine.at(-1)}, Dockyard ${dockyard.at(-1)} in ${roundSeconds} s each\n`);
    }
    const rssAfter = await rssMiB(dy.pid);
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    const perMin = (xs: number[]) => Math.round((sum(xs) / WINDOW_S) * 60);
    console.log(
      JSON.stringify({
        benchmark: 'task-rate',
        windowSecondsPerSide: WINDOW_S,
        rounds: ROUNDS,
        concurrency: CONCURRENCY,
        reference: `Docker Engine API (dockerode create+start), ${CONCURRENCY} workers`,
        engineApiStartedPerMin: perMin(engine),
        dockyardRunningPerMin: perMin(dockyard),
        engineApiPerRound: engine,
        dockyardPerRound: dockyard,
        ratio: round(sum(dockyard) / Math.max(1, sum(engine))),
        ratioOfRoundMedians: round(percentile(dockyard, 50) / Math.max(1, percentile(engine, 50))),
        dockyardRssMiB: { before: Math.round(rssBefore), after: Math.round(rssAfter) },
      }),
    );
  } finally {
    ecs.destroy();
    await dy.stop(); // removes what the embedded agent created
  }
}

await main();
