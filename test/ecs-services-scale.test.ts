/**
 * Service scheduler at scale and across a restart, on SIMULATED agents (no containers):
 * - a 1,000-task service on 200 instances reaches a steady state, then rolls to a new revision;
 * - a control-plane restart in the middle of a deployment resumes it without duplicate tasks;
 * - a service that cannot be placed says so in its events and retries with back-off.
 */
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeServicesCommand,
  ECSClient,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
  type Service,
} from '@aws-sdk/client-ecs';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SimulatedRuntime, type Agent } from '../src/agent/index.js';
import { simulatedAgent, sleep } from './agent/helpers.js';
import { startDockyard, type TestDockyard } from './helpers/dockyard.js';
import { freePort } from './helpers/net.js';

const steady = (s: Service) => s.deployments?.length === 1 && s.deployments[0]!.rolloutState === 'COMPLETED' && s.runningCount === s.desiredCount && s.pendingCount === 0;

async function waitService(ecs: ECSClient, cluster: string, name: string, pred: (s: Service) => boolean, timeoutMs: number, sample?: (s: Service) => void): Promise<Service> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = (await ecs.send(new DescribeServicesCommand({ cluster, services: [name] }))).services![0]!;
    sample?.(s);
    if (pred(s)) return s;
    if (Date.now() > deadline) throw new Error(`timed out; last seen: ${JSON.stringify({ ...s, events: s.events?.slice(0, 5) }, null, 1)}`);
    await sleep(250);
  }
}

async function allTaskArns(ecs: ECSClient, cluster: string, serviceName: string, desiredStatus: 'RUNNING' | 'STOPPED'): Promise<string[]> {
  const out: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await ecs.send(new ListTasksCommand({ cluster, serviceName, desiredStatus, nextToken, maxResults: 100 }));
    out.push(...(page.taskArns ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return out;
}

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

async function fleet(d: TestDockyard, cluster: string, n: number, runtime: () => SimulatedRuntime): Promise<Agent[]> {
  const stateRoot = mkdtempSync(join(tmpdir(), 'dockyard-svc-scale-'));
  cleanups.push(async () => rmSync(stateRoot, { recursive: true, force: true }));
  const joinToken = (await d.app.agentAuth.createJoinToken({ description: 'scale test' }, 'test')).token;
  const agents: Agent[] = [];
  cleanups.push(async () => {
    await Promise.all(agents.map((a) => a.close().catch(() => undefined)));
  });
  for (let i = 0; i < n; i += 25) {
    await Promise.all(
      Array.from({ length: Math.min(25, n - i) }, async (_, j) => {
        const a = await simulatedAgent(d, { cluster, stateDir: join(stateRoot, String(i + j)), runtime: runtime(), pollWaitMs: 10_000, cleanupDelayMs: 100, joinToken, host: { fargateCapacity: false, availabilityZone: `sim-1${'abc'[(i + j) % 3]}` } });
        await a.start();
        agents.push(a);
      }),
    );
  }
  return agents;
}

describe('ECS services at scale (simulated agents)', () => {
  it('a 1,000-task service on 200 instances reaches a steady state, then rolls to a new revision', async () => {
    const d = await startDockyard({ serviceControllerIdleMs: 1000, agentHeartbeatIntervalMs: 5000, agentHeartbeatTtlMs: 60_000 });
    cleanups.push(() => d.stop());
    await d.ecs.send(new CreateClusterCommand({ clusterName: 'big' }));
    await fleet(d, 'big', 200, () => new SimulatedRuntime({ cpus: 4, memoryMiB: 8192, pullMs: 5, startMs: 10 }));
    for (const tag of ['1', '2']) {
      await d.ecs.send(new RegisterTaskDefinitionCommand({ family: 'big', containerDefinitions: [{ name: 'app', image: `simulated/app:${tag}`, cpu: 64, memory: 128 }] }));
    }
    await d.ecs.send(new CreateServiceCommand({ cluster: 'big', serviceName: 'big', taskDefinition: 'big:1', desiredCount: 1000 }));
    await waitService(d.ecs, 'big', 'big', steady, 240_000);
    assert.equal((await allTaskArns(d.ecs, 'big', 'big', 'RUNNING')).length, 1000);

    await d.ecs.send(new UpdateServiceCommand({ cluster: 'big', service: 'big', taskDefinition: 'big:2' }));
    let lowest = Infinity;
    const s = await waitService(d.ecs, 'big', 'big', (x) => steady(x) && x.taskDefinition!.endsWith(':2'), 240_000, (x) => {
      lowest = Math.min(lowest, x.runningCount!);
    });
    assert.ok(lowest >= 1000, `running count fell to ${lowest} during a 100%-minimum rollout`);
    assert.equal(s.runningCount, 1000);
    assert.equal((await allTaskArns(d.ecs, 'big', 'big', 'RUNNING')).length, 1000);
  });

  it('a restart in the middle of a deployment resumes it without starting duplicate tasks', async () => {
    const port = await freePort();
    let d = await startDockyard({ port, serviceControllerIdleMs: 500, agentHeartbeatIntervalMs: 500, agentHeartbeatTtlMs: 10_000 });
    cleanups.push(() => d.stop());
    await d.ecs.send(new CreateClusterCommand({ clusterName: 'rs' }));
    // Slow starts: the restart lands while the tasks are still PENDING.
    await fleet(d, 'rs', 3, () => new SimulatedRuntime({ cpus: 2, memoryMiB: 4096, pullMs: 1500, startMs: 10 }));
    await d.ecs.send(new RegisterTaskDefinitionCommand({ family: 'rs', containerDefinitions: [{ name: 'app', image: 'simulated/app:1', cpu: 64, memory: 64 }] }));
    await d.ecs.send(new CreateServiceCommand({ cluster: 'rs', serviceName: 'rs', taskDefinition: 'rs', desiredCount: 8 }));
    await waitService(d.ecs, 'rs', 'rs', (x) => x.pendingCount! + x.runningCount! === 8, 30_000);
    d = await d.restart();
    cleanups.push(() => d.stop());
    const s = await waitService(d.ecs, 'rs', 'rs', steady, 60_000);
    assert.equal(s.runningCount, 8);
    assert.equal((await allTaskArns(d.ecs, 'rs', 'rs', 'RUNNING')).length, 8);
    assert.deepEqual(await allTaskArns(d.ecs, 'rs', 'rs', 'STOPPED'), [], 'no task was started twice and stopped');
  });

  it('a task that fits nowhere becomes a service event, and placement is retried with back-off', async () => {
    const d = await startDockyard({ serviceControllerIdleMs: 300 });
    cleanups.push(() => d.stop());
    await d.ecs.send(new CreateClusterCommand({ clusterName: 'empty' }));
    await d.ecs.send(new RegisterTaskDefinitionCommand({ family: 'e', containerDefinitions: [{ name: 'app', image: 'simulated/app:1', cpu: 64, memory: 64 }] }));
    await d.ecs.send(new CreateServiceCommand({ cluster: 'empty', serviceName: 'e', taskDefinition: 'e', desiredCount: 2 }));
    const s = await waitService(d.ecs, 'empty', 'e', (x) => (x.events?.length ?? 0) >= 3, 30_000);
    const messages = s.events!.map((e) => e.message!);
    assert.equal(
      messages[0],
      '(service e) was unable to place a task because no container instance met all of its requirements. Reason: No Container Instances were found in your cluster. For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.',
    );
    // Back-off: 1 s, 2 s, 4 s… between attempts.
    const times = s.events!.map((e) => e.createdAt!.getTime()).reverse();
    assert.ok(times[2]! - times[1]! >= times[1]! - times[0]! - 50, `gaps ${times.join(', ')}`);
    await fleet(d, 'empty', 1, () => new SimulatedRuntime({ cpus: 2, memoryMiB: 4096 }));
    await waitService(d.ecs, 'empty', 'e', steady, 60_000);
  });
});
