/**
 * Services benchmark, two parts (each can run alone):
 *
 *   node --import tsx bench/services.ts docker [rounds=3] [tasks=50]
 *   node --import tsx bench/services.ts simulated [instances=1000] [tasks=10000] [timeoutSeconds=600]
 *
 * docker: time for a service of N tasks (busybox httpd, bridge, dynamic host port) to reach a
 *   steady state through `dockyard up` (CreateService → DescribeServices shows one deployment,
 *   COMPLETED, runningCount = desiredCount, polled every 20 ms), next to the same N containers
 *   started with `docker run -d -p 127.0.0.1::8080` in the same run, all N at once (the agent also
 *   starts a service's tasks all at once). Rounds are interleaved, the order alternates, and one
 *   warm-up of each side runs first. Reports p50 of each and the ratio dockyard / docker run.
 * simulated: a service of `tasks` tasks on `instances` SIMULATED agents (in this process, as in
 *   bench/simulated-agents.ts) reaches a steady state, then rolls to a new revision (100 % / 200 %);
 *   reports both times (the goal for the rolling deployment is < 60 s at 10,000 tasks).
 * Prints one JSON line per part.
 */
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DeleteServiceCommand,
  DescribeServicesCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
  type Service,
} from '@aws-sdk/client-ecs';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Agent } from '../src/agent/index.js';
import { AdminClient } from '../src/cli/admin-client.js';
import { buildHttpdImage } from '../test/helpers/images.js';
import { rssMiB, startDockyardProcess, untilEmbeddedAgentRegistered } from './lib/dockyard-process.js';
import { joinSimulatedAgents } from './lib/simulated-agents.js';
import { percentile, round } from './lib/stats.js';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const steady = (s: Service | undefined) => !!s && s.deployments?.length === 1 && s.deployments[0]!.rolloutState === 'COMPLETED' && s.runningCount === s.desiredCount && s.pendingCount === 0;

async function untilService(ecs: ECSClient, cluster: string, name: string, pred: (s: Service | undefined) => boolean, timeoutMs: number, pollMs: number): Promise<Service | undefined> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const s = (await ecs.send(new DescribeServicesCommand({ cluster, services: [name] }))).services?.[0];
    if (pred(s)) return s;
    if (Date.now() > end) throw new Error(`service ${name} timed out: ${JSON.stringify({ running: s?.runningCount, pending: s?.pendingCount, deployments: s?.deployments?.length, events: s?.events?.slice(0, 3) })}`);
    await sleep(pollMs);
  }
}

async function dockerPart(rounds: number, tasks: number) {
  const image = buildHttpdImage();
  const dy = await startDockyardProcess();
  const ecs = new ECSClient({ endpoint: dy.endpoint, region: 'us-east-1', credentials: dy.credentials });
  let n = 0;
  try {
    await untilEmbeddedAgentRegistered(ecs);
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'bench-svc',
        networkMode: 'bridge',
        containerDefinitions: [{ name: 'web', image, memory: 16, stopTimeout: 1, portMappings: [{ containerPort: 8080, hostPort: 0 }] }],
      }),
    );
    const dockyard = async () => {
      const name = `bench-${++n}`;
      const t0 = performance.now();
      await ecs.send(new CreateServiceCommand({ serviceName: name, taskDefinition: 'bench-svc', desiredCount: tasks }));
      await untilService(ecs, 'default', name, steady, 120_000, 20);
      const ms = performance.now() - t0;
      await ecs.send(new DeleteServiceCommand({ service: name, force: true }));
      await untilService(ecs, 'default', name, (s) => s?.status === 'INACTIVE', 120_000, 100);
      return ms;
    };
    const dockerRun = async () => {
      const t0 = performance.now();
      const ids = await Promise.all(Array.from({ length: tasks }, async () => (await run('docker', ['run', '-d', '-m', '16m', '-p', '127.0.0.1::8080', image])).stdout.trim()));
      const ms = performance.now() - t0;
      await run('docker', ['rm', '-f', ...ids]);
      return ms;
    };
    await dockyard();
    await dockerRun();
    const samples = { dockyard: [] as number[], dockerRun: [] as number[] };
    for (let i = 0; i < rounds; i++) {
      const order = i % 2 === 0 ? (['dockyard', 'dockerRun'] as const) : (['dockerRun', 'dockyard'] as const);
      for (const side of order) samples[side].push(side === 'dockyard' ? await dockyard() : await dockerRun());
    }
    const p50 = { dockyard: round(percentile(samples.dockyard, 50), 0), dockerRun: round(percentile(samples.dockerRun, 50), 0) };
    console.log(
      JSON.stringify({
        benchmark: 'services-docker',
        tasks,
        rounds,
        steadyStateMs: { dockyard: samples.dockyard.map((x) => round(x, 0)), dockerRun: samples.dockerRun.map((x) => round(x, 0)) },
        p50,
        ratio: round(p50.dockyard / p50.dockerRun, 2),
      }),
    );
  } finally {
    ecs.destroy();
    await dy.stop();
  }
}

async function simulatedPart(instances: number, tasks: number, timeoutS: number) {
  const dy = await startDockyardProcess(['--no-agent']);
  const ecs = new ECSClient({ endpoint: dy.endpoint, region: 'us-east-1', credentials: dy.credentials });
  const admin = new AdminClient({ endpoint: dy.endpoint, region: 'us-east-1', credentials: dy.credentials });
  const { token: joinToken } = await admin.createJoinToken({ description: 'services bench' });
  await admin.close();
  const stateRoot = mkdtempSync(join(tmpdir(), 'dockyard-svc-bench-'));
  const agents: Agent[] = [];
  try {
    await ecs.send(new CreateClusterCommand({ clusterName: 'sim' }));
    for (const tag of ['1', '2']) {
      await ecs.send(new RegisterTaskDefinitionCommand({ family: 'sim', containerDefinitions: [{ name: 'app', image: `simulated/app:${tag}`, cpu: 32, memory: 64 }] }));
    }
    await joinSimulatedAgents({ endpoint: dy.endpoint, cluster: 'sim', joinToken, stateRoot, count: instances, agents });
    const t0 = performance.now();
    await ecs.send(new CreateServiceCommand({ cluster: 'sim', serviceName: 'big', taskDefinition: 'sim:1', desiredCount: tasks }));
    await untilService(ecs, 'sim', 'big', steady, timeoutS * 1000, 250);
    const createMs = performance.now() - t0;
    const t1 = performance.now();
    await ecs.send(new UpdateServiceCommand({ cluster: 'sim', service: 'big', taskDefinition: 'sim:2' }));
    let lowest = Infinity;
    await untilService(
      ecs,
      'sim',
      'big',
      (s) => {
        if (s) lowest = Math.min(lowest, s.runningCount ?? 0);
        return steady(s) && s!.taskDefinition!.endsWith(':2');
      },
      timeoutS * 1000,
      250,
    );
    const rollMs = performance.now() - t1;
    console.log(
      JSON.stringify({
        benchmark: 'services-simulated',
        instances,
        tasks,
        createToSteadyMs: round(createMs, 0),
        rollingDeploymentMs: round(rollMs, 0),
        lowestRunningDuringRollout: lowest,
        controlPlaneRssMiB: round(await rssMiB(dy.pid), 0),
      }),
    );
  } finally {
    await Promise.all(agents.map((a) => a.close().catch(() => undefined)));
    ecs.destroy();
    await dy.stop();
    rmSync(stateRoot, { recursive: true, force: true });
  }
}

const [part = 'docker', ...rest] = process.argv.slice(2);
if (part === 'docker') await dockerPart(Number(rest[0] ?? 3), Number(rest[1] ?? 50));
else if (part === 'simulated') await simulatedPart(Number(rest[0] ?? 1000), Number(rest[1] ?? 10000), Number(rest[2] ?? 600));
else throw new Error(`unknown part ${part}: docker | simulated`);
