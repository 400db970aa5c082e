/**
 * Scale benchmark: one control plane (`dockyard up --no-agent`, a separate process) driving
 * many agents that use the SIMULATED runtime (no containers: the runtime exists only for scale
 * tests). Measures agent registration, RunTask submission and the time until every task is
 * RUNNING, plus the control plane's memory.
 *
 *   node --import tsx bench/simulated-agents.ts [agents=1000] [tasks=10000] [timeoutSeconds=900]
 *
 * Every agent runs in this process (each with its own protocol client and long-poll), over
 * loopback only. Prints one JSON line.
 */
import { CreateClusterCommand, DescribeClustersCommand, ECSClient, RegisterTaskDefinitionCommand, RunTaskCommand } from '@aws-sdk/client-ecs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Agent } from '../src/agent/index.js';
import { AdminClient } from '../src/cli/admin-client.js';
import { rssMiB, startDockyardProcess } from './lib/dockyard-process.js';
import { joinSimulatedAgents } from './lib/simulated-agents.js';

const AGENTS = Number(process.argv[2] ?? 1000);
const TASKS = Number(process.argv[3] ?? 10000);
const TIMEOUT_S = Number(process.argv[4] ?? 900);
const CLUSTER = 'sim';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const dy = await startDockyardProcess(['--no-agent']);
  const ecs = new ECSClient({ endpoint: dy.endpoint, region: 'us-east-1', credentials: dy.credentials });
  // Every simulated host joins with one join token, as an operator would hand it out.
  const admin = new AdminClient({ endpoint: dy.endpoint, region: 'us-east-1', credentials: dy.credentials });
  const { token: joinToken } = await admin.createJoinToken({ description: 'simulated agents' });
  await admin.close();
  const stateRoot = mkdtempSync(join(tmpdir(), 'dockyard-sim-agents-'));
  const agents: Agent[] = [];
  const deadline = Date.now() + TIMEOUT_S * 1000;
  try {
    await ecs.send(new CreateClusterCommand({ clusterName: CLUSTER }));
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'sim',
        containerDefinitions: [{ name: 'app', image: 'simulated/app:1', cpu: 128, memory: 256, portMappings: [{ containerPort: 8080, hostPort: 0 }] }],
      }),
    );
    const rssIdle = await rssMiB(dy.pid);

    const t0 = performance.now();
    await joinSimulatedAgents({ endpoint: dy.endpoint, cluster: CLUSTER, joinToken, stateRoot, count: AGENTS, agents });
    const registeredMs = performance.now() - t0;

    const t1 = performance.now();
    let submitted = 0;
    const failures: Record<string, number> = {};
    const calls = Math.ceil(TASKS / 10);
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < calls && Date.now() < deadline) {
          const n = Math.min(10, TASKS - next * 10);
          next += 1;
          const out = await ecs.send(new RunTaskCommand({ cluster: CLUSTER, taskDefinition: 'sim', count: n }));
          submitted += out.tasks?.length ?? 0;
          for (const f of out.failures ?? []) failures[f.reason!] = (failures[f.reason!] ?? 0) + 1;
        }
      }),
    );
    const submitMs = performance.now() - t1;

    let running = 0;
    while (running < submitted && Date.now() < deadline) {
      const { clusters } = await ecs.send(new DescribeClustersCommand({ clusters: [CLUSTER] }));
      running = clusters?.[0]?.runningTasksCount ?? 0;
      if (running < submitted) await sleep(250);
    }
    const allRunningMs = performance.now() - t1;
    console.log(
      JSON.stringify({
        benchmark: 'simulated-agents',
        agents: AGENTS,
        tasksRequested: TASKS,
        tasksPlaced: submitted,
        tasksRunning: running,
        placementFailures: failures,
        registerAllAgentsMs: Math.round(registeredMs),
        submitAllRunTasksMs: Math.round(submitMs),
        runTaskToAllRunningMs: Math.round(allRunningMs),
        timedOut: running < submitted,
        controlPlaneRssMiB: { idle: Math.round(rssIdle), end: Math.round(await rssMiB(dy.pid)) },
      }),
    );
  } finally {
    await Promise.all(agents.map((a) => a.close().catch(() => undefined)));
    ecs.destroy();
    await dy.stop();
    rmSync(stateRoot, { recursive: true, force: true });
  }
}

await main();
