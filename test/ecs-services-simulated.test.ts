/**
 * ECS services on SIMULATED agents (no containers): steady state, rolling updates within the
 * deployment bounds, draining, the circuit breaker with rollback, DAEMON services following
 * instances, deletion, and a 1,000-task service on 200 instances.
 */
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DeleteServiceCommand,
  DescribeClustersCommand,
  DescribeServicesCommand,
  ListServicesCommand,
  ListTasksCommand,
  DescribeTasksCommand,
  RegisterTaskDefinitionCommand,
  UpdateContainerInstancesStateCommand,
  UpdateServiceCommand,
  ListContainerInstancesCommand,
  ListServiceDeploymentsCommand,
  DescribeServiceDeploymentsCommand,
  DescribeServiceRevisionsCommand,
  type Service,
} from '@aws-sdk/client-ecs';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SimulatedRuntime, type Agent } from '../src/agent/index.js';
import { simulatedAgent, sleep } from './agent/helpers.js';
import { startDockyard, type TestDockyard } from './helpers/dockyard.js';

const CLUSTER = 'svc';
let d: TestDockyard;
let stateRoot: string;
const agents: Agent[] = [];
let joinToken: string;

async function join1(i: number, runtime = new SimulatedRuntime({ cpus: 2, memoryMiB: 4096, pullMs: 5, startMs: 10, failPulls: ['simulated/broken:1'] })): Promise<Agent> {
  const a = await simulatedAgent(d, { cluster: CLUSTER, stateDir: join(stateRoot, `a${i}-${agents.length}`), runtime, pollWaitMs: 5000, cleanupDelayMs: 100, joinToken });
  await a.start();
  agents.push(a);
  return a;
}

async function service(name: string): Promise<Service> {
  const out = await d.ecs.send(new DescribeServicesCommand({ cluster: CLUSTER, services: [name] }));
  return out.services![0]!;
}

/** Polls the service until `pred` holds (bounded); `sample` sees every state on the way. */
async function waitService(name: string, pred: (s: Service) => boolean, timeoutMs = 60_000, sample?: (s: Service) => void): Promise<Service> {
  const deadline = Date.now() + timeoutMs;
  let s = await service(name);
  while (!pred(s)) {
    sample?.(s);
    if (Date.now() > deadline) throw new Error(`timed out; last seen: ${JSON.stringify({ ...s, events: s.events?.slice(0, 8) }, null, 1)}`);
    await sleep(100);
    s = await service(name);
  }
  sample?.(s);
  return s;
}

const steady = (s: Service) => s.deployments?.length === 1 && s.deployments[0]!.rolloutState === 'COMPLETED' && s.runningCount === s.desiredCount && s.pendingCount === 0;

async function runningTasks(serviceName: string) {
  const arns = (await d.ecs.send(new ListTasksCommand({ cluster: CLUSTER, serviceName }))).taskArns ?? [];
  if (arns.length === 0) return [];
  const tasks = [];
  for (let i = 0; i < arns.length; i += 100) tasks.push(...((await d.ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: arns.slice(i, i + 100) }))).tasks ?? []));
  return tasks;
}

before(async () => {
  d = await startDockyard({ serviceControllerIdleMs: 500, agentHeartbeatIntervalMs: 500, agentHeartbeatTtlMs: 5000 });
  stateRoot = mkdtempSync(join(tmpdir(), 'dockyard-svc-sim-'));
  joinToken = (await d.app.agentAuth.createJoinToken({ description: 'services test' }, 'test')).token;
  await d.ecs.send(new CreateClusterCommand({ clusterName: CLUSTER }));
  for (let i = 0; i < 3; i++) await join1(i);
  await d.ecs.send(new RegisterTaskDefinitionCommand({ family: 'web', containerDefinitions: [{ name: 'app', image: 'simulated/web:1', cpu: 128, memory: 128 }] }));
  await d.ecs.send(new RegisterTaskDefinitionCommand({ family: 'web', containerDefinitions: [{ name: 'app', image: 'simulated/web:2', cpu: 128, memory: 128 }] }));
  await d.ecs.send(new RegisterTaskDefinitionCommand({ family: 'web', containerDefinitions: [{ name: 'app', image: 'simulated/broken:1', cpu: 128, memory: 128 }] }));
});

after(async () => {
  await Promise.all(agents.map((a) => a.close().catch(() => undefined)));
  await d.stop();
  rmSync(stateRoot, { recursive: true, force: true });
});

describe('ECS services on simulated agents', () => {
  it('a REPLICA service reaches a steady state with the shapes, events and counts ECS shows', async () => {
    const created = await d.ecs.send(
      new CreateServiceCommand({ cluster: CLUSTER, serviceName: 'web', taskDefinition: 'web:1', desiredCount: 6, deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } } }),
    );
    assert.equal(created.service!.status, 'ACTIVE');
    assert.equal(created.service!.deployments![0]!.status, 'PRIMARY');
    assert.equal(created.service!.deployments![0]!.rolloutState, 'IN_PROGRESS');
    assert.match(created.service!.deployments![0]!.id!, /^ecs-svc\/\d{19}$/);
    assert.deepEqual(created.service!.deploymentConfiguration!.minimumHealthyPercent, 100);
    assert.deepEqual(created.service!.deploymentConfiguration!.maximumPercent, 200);
    const s = await waitService('web', steady);
    assert.equal(s.runningCount, 6);
    assert.equal(s.deployments![0]!.rolloutStateReason, `ECS deployment ${s.deployments![0]!.id} completed.`);
    const messages = s.events!.map((e) => e.message!);
    assert.equal(messages[0], '(service web) has reached a steady state.');
    assert.ok(messages.some((m) => /^\(service web\) has started \d+ tasks: (\(task [0-9a-f]{32}\) ?)+\.$/.test(m)), messages.join('\n'));
    const tasks = await runningTasks('web');
    assert.equal(tasks.length, 6);
    for (const t of tasks) {
      assert.equal(t.group, 'service:web');
      assert.equal(t.startedBy, s.deployments![0]!.id);
    }
    // Spread over the three instances (the service default strategy spreads over zones, then instances get tasks by the seeded order).
    const cluster = (await d.ecs.send(new DescribeClustersCommand({ clusters: [CLUSTER] }))).clusters![0]!;
    assert.equal(cluster.activeServicesCount, 1);
    assert.equal(cluster.runningTasksCount, 6);
    assert.deepEqual((await d.ecs.send(new ListServicesCommand({ cluster: CLUSTER }))).serviceArns, [s.serviceArn]);
  });

  it('rolls to a new revision without dropping below minimumHealthyPercent nor exceeding maximumPercent', async () => {
    await d.ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: 'web', taskDefinition: 'web:2', deploymentConfiguration: { minimumHealthyPercent: 50, maximumPercent: 150 } }));
    let lowest = Infinity;
    let highest = 0;
    const s = await waitService(
      'web',
      (x) => steady(x) && x.taskDefinition!.endsWith(':2'),
      60_000,
      (x) => {
        lowest = Math.min(lowest, x.runningCount!);
        highest = Math.max(highest, x.runningCount! + x.pendingCount!);
      },
    );
    assert.ok(lowest >= 3, `running count went down to ${lowest} (minimum 3)`);
    assert.ok(highest <= 9, `running + pending went up to ${highest} (maximum 9)`);
    const tasks = await runningTasks('web');
    assert.equal(tasks.length, 6);
    assert.ok(tasks.every((t) => t.taskDefinitionArn!.endsWith(':2')));
    assert.ok(s.events!.some((e) => /^\(service web\) has stopped \d+ running tasks:/.test(e.message!)));
    // The history: two service deployments, the first superseded-or-successful, the second successful.
    const history = await d.ecs.send(new ListServiceDeploymentsCommand({ cluster: CLUSTER, service: 'web' }));
    assert.equal(history.serviceDeployments!.length, 2);
    assert.equal(history.serviceDeployments![0]!.status, 'SUCCESSFUL');
    const described = await d.ecs.send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [history.serviceDeployments![0]!.serviceDeploymentArn!] }));
    const target = described.serviceDeployments![0]!.targetServiceRevision!.arn!;
    const revision = await d.ecs.send(new DescribeServiceRevisionsCommand({ serviceRevisionArns: [target] }));
    assert.ok(revision.serviceRevisions![0]!.taskDefinition!.endsWith(':2'));
  });

  it('a revision that cannot start trips the circuit breaker and rolls back to the last completed deployment', async () => {
    const before = await service('web');
    const completed = before.deployments![0]!.id!;
    await d.ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: 'web', taskDefinition: 'web:3' }));
    const s = await waitService('web', (x) => steady(x) && x.events!.some((e) => e.message!.includes('deployment failed: tasks failed to start')), 60_000);
    assert.ok(s.taskDefinition!.endsWith(':2'), s.taskDefinition);
    assert.match(s.deployments![0]!.rolloutStateReason!, new RegExp(`rolling back to deploymentId ${completed.replace('/', '\\/')}`));
    const messages = s.events!.map((e) => e.message!);
    assert.ok(messages.some((m) => m === `(service web) rolling back to deployment ${completed}.`), messages.join('\n'));
    const history = await d.ecs.send(new ListServiceDeploymentsCommand({ cluster: CLUSTER, service: 'web' }));
    assert.equal(history.serviceDeployments![0]!.status, 'ROLLBACK_SUCCESSFUL');
    assert.ok((await runningTasks('web')).every((t) => t.taskDefinitionArn!.endsWith(':2')));
  });

  it('tasks on a DRAINING instance are replaced elsewhere', async () => {
    const arns = (await d.ecs.send(new ListContainerInstancesCommand({ cluster: CLUSTER }))).containerInstanceArns!;
    const victim = arns[0]!;
    await d.ecs.send(new UpdateContainerInstancesStateCommand({ cluster: CLUSTER, containerInstances: [victim], status: 'DRAINING' }));
    const deadline = Date.now() + 60_000;
    let tasks = await runningTasks('web');
    while (Date.now() < deadline && (tasks.some((t) => t.containerInstanceArn === victim) || tasks.filter((t) => t.lastStatus === 'RUNNING').length < 6)) {
      await sleep(150);
      tasks = await runningTasks('web');
    }
    assert.ok(tasks.every((t) => t.containerInstanceArn !== victim));
    assert.equal(tasks.filter((t) => t.lastStatus === 'RUNNING').length, 6);
    await d.ecs.send(new UpdateContainerInstancesStateCommand({ cluster: CLUSTER, containerInstances: [victim], status: 'ACTIVE' }));
  });

  it('a DAEMON service runs one task per ACTIVE instance and follows joins and drains', async () => {
    await d.ecs.send(new CreateServiceCommand({ cluster: CLUSTER, serviceName: 'agentd', taskDefinition: 'web:1', schedulingStrategy: 'DAEMON' }));
    let s = await waitService('agentd', (x) => steady(x) && x.runningCount === 3);
    assert.equal(s.desiredCount, 3);
    assert.equal(s.deploymentConfiguration!.minimumHealthyPercent, 0);
    assert.equal(s.deploymentConfiguration!.maximumPercent, 100);
    await join1(9);
    s = await waitService('agentd', (x) => steady(x) && x.runningCount === 4);
    const arns = (await d.ecs.send(new ListContainerInstancesCommand({ cluster: CLUSTER }))).containerInstanceArns!;
    await d.ecs.send(new UpdateContainerInstancesStateCommand({ cluster: CLUSTER, containerInstances: [arns[1]!], status: 'DRAINING' }));
    s = await waitService('agentd', (x) => steady(x) && x.runningCount === 3);
    const tasks = await runningTasks('agentd');
    assert.equal(new Set(tasks.map((t) => t.containerInstanceArn)).size, 3);
    assert.ok(tasks.every((t) => t.containerInstanceArn !== arns[1]));
    await d.ecs.send(new UpdateContainerInstancesStateCommand({ cluster: CLUSTER, containerInstances: [arns[1]!], status: 'ACTIVE' }));
  });

  it('deleting a service with running tasks needs force, drains it and ends INACTIVE', async () => {
    await assert.rejects(d.ecs.send(new DeleteServiceCommand({ cluster: CLUSTER, service: 'web' })), /scaled above 0/);
    const out = await d.ecs.send(new DeleteServiceCommand({ cluster: CLUSTER, service: 'web', force: true }));
    assert.equal(out.service!.status, 'DRAINING');
    const s = await waitService('web', (x) => x.status === 'INACTIVE');
    assert.equal(s.runningCount, 0);
    assert.equal((await runningTasks('web')).length, 0);
    await d.ecs.send(new DeleteServiceCommand({ cluster: CLUSTER, service: 'agentd' }));
    await waitService('agentd', (x) => x.status === 'INACTIVE');
    assert.deepEqual((await d.ecs.send(new ListServicesCommand({ cluster: CLUSTER }))).serviceArns, []);
  });
});
