/**
 * Per-step latency of the agent path for one busybox task, on the real Docker Engine:
 * RunTask → assignment wake-up (long-poll answered) → pull (image present: inspect only,
 * prefer-cached) → create → start → RUNNING report applied in the store. Compared, in the same
 * run, with a raw Engine API create+start of the same image and port binding (BASELINES.md §1
 * "API create+start returned").
 *
 *   node --import tsx bench/agent-steps.ts [runs=15]
 *
 * In-process control plane and agent, loopback only; each task is stopped and its container
 * removed before the next run. Prints a table of p50/p90/min per step (ms) and one JSON line.
 */
import { CreateClusterCommand, RegisterTaskDefinitionCommand, RunTaskCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, DockerRuntime, loadInstanceId, type Runtime } from '../src/agent/index.js';
import * as c from '../src/store/collections.js';
import { startDockyard } from '../test/helpers/dockyard.js';
import { buildHttpdImage } from '../test/helpers/images.js';
import { percentile } from './lib/stats.js';

const RUNS = Number(process.argv[2] ?? 15);
const quiet = { info() {}, warn() {}, error() {}, debug() {} };

type Marks = Partial<Record<'runTaskSent' | 'runTaskReturned' | 'assignment' | 'pulled' | 'created' | 'started' | 'running', number>>;

function timed(rt: DockerRuntime, marks: () => Marks): Runtime {
  return new Proxy(rt, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver);
      if (typeof v !== 'function') return v;
      const step = prop === 'pull' ? 'pulled' : prop === 'create' ? 'created' : prop === 'start' ? 'started' : undefined;
      if (!step) return v.bind(target);
      return async (...args: unknown[]) => {
        const out = await v.apply(target, args);
        marks()[step] ??= performance.now();
        return out;
      };
    },
  }) as Runtime;
}


async function rawCreateStart(rt: DockerRuntime, image: string): Promise<number> {
  const t0 = performance.now();
  const ctr = await rt.docker.createContainer({ Image: image, HostConfig: { PortBindings: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] } } });
  await ctr.start();
  const ms = performance.now() - t0;
  await ctr.remove({ force: true });
  return ms;
}

async function main() {
  const image = buildHttpdImage();
  const d = await startDockyard({ agentHeartbeatIntervalMs: 1000 });
  const stateDir = mkdtempSync(join(tmpdir(), 'dockyard-bench-agent-'));
  let current: Marks = {};
  const instanceId = loadInstanceId(stateDir);
  const docker = new DockerRuntime({ instanceId });
  const { token: joinToken } = await d.app.agentAuth.createJoinToken({ description: 'agent-steps bench' }, 'bench');
  const agent = new Agent({ endpoint: d.endpoint, cluster: 'bench', stateDir, joinToken, runtime: timed(docker, () => current), log: quiet, cleanupDelayMs: 0, pollWaitMs: 30_000 });
  agent.onAssignments = (tasks) => {
    if (tasks.some((t) => t.desiredStatus === 'RUNNING')) current.assignment ??= performance.now();
  };
  const rows: Marks[] = [];
  const raw: number[] = [];
  try {
    await d.ecs.send(new CreateClusterCommand({ clusterName: 'bench' }));
    await agent.start();
    await d.ecs.send(new RegisterTaskDefinitionCommand({ family: 'bench-web', containerDefinitions: [{ name: 'web', image, memory: 32, stopTimeout: 1, portMappings: [{ containerPort: 8080 }] }] }));
    for (let i = 0; i < RUNS + 1; i++) {
      current = {};
      const marks = current;
      marks.runTaskSent = performance.now();
      const res = await d.ecs.send(new RunTaskCommand({ cluster: 'bench', taskDefinition: 'bench-web' }));
      marks.runTaskReturned = performance.now();
      const arn = res.tasks![0]!.taskArn!;
      const deadline = Date.now() + 30_000;
      let index = d.app.store.changeIndex();
      while (Date.now() < deadline) {
        const doc = await d.app.store.read((tx) => tx.get(c.tasks, arn));
        if (doc?.data.lastStatus === 'RUNNING') {
          marks.running = performance.now();
          break;
        }
        index = await d.app.store.waitForChange(index, 1000);
      }
      if (i > 0) rows.push(marks); // the first run warms caches (pause of nothing, image inspect, JIT)
      await d.ecs.send(new StopTaskCommand({ cluster: 'bench', task: arn }));
      for (let j = 0; j < 100; j++) {
        const doc = await d.app.store.read((tx) => tx.get(c.tasks, arn));
        if (doc?.data.lastStatus === 'STOPPED') break;
        await new Promise((r) => setTimeout(r, 50));
      }
      if (i > 0) raw.push(await rawCreateStart(docker, image));
    }
  } finally {
    await agent.close();
    for (const id of (await docker.list()).map((x) => x.runtimeId)) await docker.docker.getContainer(id).remove({ force: true }).catch(() => undefined);
    await d.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
  const step = (from: keyof Marks, to: keyof Marks) => rows.map((m) => m[to]! - m[from]!);
  const table: [string, number[]][] = [
    ['RunTask call (placement + write)', step('runTaskSent', 'runTaskReturned')],
    ['RunTask returned → assignment received', step('runTaskReturned', 'assignment')],
    ['assignment → image ready (prefer-cached inspect)', step('assignment', 'pulled')],
    ['image ready → container created', step('pulled', 'created')],
    ['created → started (start + inspect)', step('created', 'started')],
    ['start returned → RUNNING report applied (<0: Docker start event won)', step('started', 'running')],
    ['total: RunTask sent → RUNNING in store', step('runTaskSent', 'running')],
    ['reference: raw Engine API create+start, same image/port', raw],
  ];
  console.log(`agent path, ${rows.length} runs (ms)\n${'step'.padEnd(70)} p50     p90     min`);
  const summary: Record<string, { p50: number; p90: number; min: number }> = {};
  for (const [name, xs] of table) {
    const s = { p50: +percentile(xs, 50).toFixed(1), p90: +percentile(xs, 90).toFixed(1), min: +Math.min(...xs).toFixed(1) };
    summary[name] = s;
    console.log(`${name.padEnd(70)} ${String(s.p50).padEnd(7)} ${String(s.p90).padEnd(7)} ${s.min}`);
  }
  console.log(JSON.stringify({ bench: 'agent-steps', runs: rows.length, summary }));
}

await main();
