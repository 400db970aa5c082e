/**
 * Task sets of an EXTERNAL service on SIMULATED agents (no containers): two task sets at 100%
 * and 50% of desiredCount 4 converge to 4 and 2 tasks; UpdateServicePrimaryTaskSet flips the
 * PRIMARY; UpdateTaskSet and UpdateService change the counts; DeleteTaskSet stops its tasks and
 * only its own; a task set behind a target group has its RUNNING tasks registered, and
 * deregistered before they stop; DeleteService with force stops everything.
 */
import {
  CreateClusterCommand,
  CreateServiceCommand,
  CreateTaskSetCommand,
  DeleteServiceCommand,
  DeleteTaskSetCommand,
  DescribeContainerInstancesCommand,
  DescribeServicesCommand,
  DescribeTaskSetsCommand,
  DescribeTasksCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  StopTaskCommand,
  UpdateServiceCommand,
  UpdateServicePrimaryTaskSetCommand,
  UpdateTaskSetCommand,
  type TaskSet,
} from '@aws-sdk/client-ecs';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  ModifyTargetGroupAttributesCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SimulatedRuntime, type Agent } from '../src/agent/index.js';
import { simulatedAgent, sleep } from './agent/helpers.js';
import { credentials, startDockyard, type TestDockyard } from './helpers/dockyard.js';
import { freePort } from './helpers/net.js';

const CLUSTER = 'sets';
let d: TestDockyard;
let elb: ElasticLoadBalancingV2Client;
let stateRoot: string;
const agents: Agent[] = [];

before(async () => {
  d = await startDockyard({ serviceControllerIdleMs: 300, agentHeartbeatIntervalMs: 500, agentHeartbeatTtlMs: 5000 });
  elb = new ElasticLoadBalancingV2Client({ endpoint: d.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
  stateRoot = mkdtempSync(join(tmpdir(), 'dockyard-task-sets-'));
  const joinToken = (await d.app.agentAuth.createJoinToken({ description: 'task sets test' }, 'test')).token;
  await d.ecs.send(new CreateClusterCommand({ clusterName: CLUSTER }));
  for (let i = 0; i < 2; i++) {
    const runtime = new SimulatedRuntime({ cpus: 4, memoryMiB: 8192, pullMs: 5, startMs: 10 });
    const a = await simulatedAgent(d, { cluster: CLUSTER, stateDir: join(stateRoot, `a${i}`), runtime, pollWaitMs: 5000, cleanupDelayMs: 100, joinToken });
    await a.start();
    agents.push(a);
  }
  for (const image of ['simulated/web:1', 'simulated/web:2']) {
    await d.ecs.send(new RegisterTaskDefinitionCommand({ family: 'web', containerDefinitions: [{ name: 'app', image, cpu: 64, memory: 64, portMappings: [{ containerPort: 80, hostPort: 0 }] }] }));
  }
});

after(async () => {
  await Promise.all(agents.map((a) => a.close().catch(() => undefined)));
  await d.stop();
  rmSync(stateRoot, { recursive: true, force: true });
});

const setsOf = async (service: string) => (await d.ecs.send(new DescribeTaskSetsCommand({ cluster: CLUSTER, service }))).taskSets ?? [];
const byId = (sets: TaskSet[], id: string) => sets.find((s) => s.id === id);

/** Polls (bounded in count and time) until `pred` holds; the failure shows the last value. */
async function until<T>(what: string, get: () => Promise<T>, pred: (v: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let v = await get();
  while (!pred(v)) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}; last: ${JSON.stringify(v, null, 1).slice(0, 4000)}`);
    await sleep(100);
    v = await get();
  }
  return v;
}

/** The service's tasks that are meant to run (desiredStatus RUNNING), with their details. */
async function liveTasks(service: string) {
  const arns = (await d.ecs.send(new ListTasksCommand({ cluster: CLUSTER, serviceName: service, desiredStatus: 'RUNNING' }))).taskArns ?? [];
  if (arns.length === 0) return [];
  return (await d.ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: arns }))).tasks ?? [];
}

const converged = (s: TaskSet | undefined, n: number) => s?.computedDesiredCount === n && s.runningCount === n && s.pendingCount === 0 && s.stabilityStatus === 'STEADY_STATE';

describe('task sets on simulated agents', () => {
  it('two task sets converge, flip primary, scale, and a deleted one stops only its tasks', async () => {
    await d.ecs.send(new CreateServiceCommand({ cluster: CLUSTER, serviceName: 'ext', desiredCount: 4, deploymentController: { type: 'EXTERNAL' } }));
    const blue = (await d.ecs.send(new CreateTaskSetCommand({ cluster: CLUSTER, service: 'ext', taskDefinition: 'web:1', scale: { value: 100, unit: 'PERCENT' } }))).taskSet!.id!;
    const green = (await d.ecs.send(new CreateTaskSetCommand({ cluster: CLUSTER, service: 'ext', taskDefinition: 'web:2', scale: { value: 50, unit: 'PERCENT' } }))).taskSet!.id!;
    await d.ecs.send(new UpdateServicePrimaryTaskSetCommand({ cluster: CLUSTER, service: 'ext', primaryTaskSet: blue }));

    let sets = await until('4 blue and 2 green tasks', () => setsOf('ext'), (x) => converged(byId(x, blue), 4) && converged(byId(x, green), 2));
    assert.equal(byId(sets, blue)!.status, 'PRIMARY');
    let tasks = await liveTasks('ext');
    assert.equal(tasks.length, 6);
    for (const t of tasks) assert.equal(t.group, 'service:ext');
    assert.equal(tasks.filter((t) => t.startedBy === blue && t.taskDefinitionArn!.endsWith('web:1')).length, 4);
    assert.equal(tasks.filter((t) => t.startedBy === green && t.taskDefinitionArn!.endsWith('web:2')).length, 2);
    let svc = await until('service counts', async () => (await d.ecs.send(new DescribeServicesCommand({ cluster: CLUSTER, services: ['ext'] }))).services![0]!, (s) => s.runningCount === 6 && s.pendingCount === 0);
    assert.ok(svc.taskDefinition!.endsWith('web:1'));
    assert.equal(svc.deployments, undefined);
    const messages = svc.events!.map((e) => e.message!);
    assert.ok(messages.some((m) => m.startsWith(`(service ext, taskSet ${green}) has started 2 tasks: (task `)), messages.join('\n'));
    assert.equal(messages[0], '(service ext) has reached a steady state.');

    // A task that stops is replaced within its task set.
    const victim = tasks.find((t) => t.startedBy === green)!.taskArn!;
    await d.ecs.send(new StopTaskCommand({ cluster: CLUSTER, task: victim, reason: 'test' }));
    await until('the stopped green task replaced', () => liveTasks('ext'), (x) => x.length === 6 && !x.some((t) => t.taskArn === victim) && x.filter((t) => t.startedBy === green).length === 2);
    await until('green steady again', () => setsOf('ext'), (x) => converged(byId(x, green), 2));

    // Green takes over: primary, then 100%; blue down to 25% (ceil(4 × 25%) = 1).
    await d.ecs.send(new UpdateServicePrimaryTaskSetCommand({ cluster: CLUSTER, service: 'ext', primaryTaskSet: green }));
    await d.ecs.send(new UpdateTaskSetCommand({ cluster: CLUSTER, service: 'ext', taskSet: green, scale: { value: 100, unit: 'PERCENT' } }));
    await d.ecs.send(new UpdateTaskSetCommand({ cluster: CLUSTER, service: 'ext', taskSet: blue, scale: { value: 25, unit: 'PERCENT' } }));
    sets = await until('4 green and 1 blue task', () => setsOf('ext'), (x) => converged(byId(x, green), 4) && converged(byId(x, blue), 1));
    assert.deepEqual([byId(sets, green)!.status, byId(sets, blue)!.status], ['PRIMARY', 'ACTIVE']);
    svc = (await d.ecs.send(new DescribeServicesCommand({ cluster: CLUSTER, services: ['ext'] }))).services![0]!;
    assert.ok(svc.taskDefinition!.endsWith('web:2'));
    tasks = await until('5 live tasks', () => liveTasks('ext'), (x) => x.length === 5);
    assert.equal(tasks.filter((t) => t.startedBy === blue).length, 1);

    // desiredCount recomputes every task set: 2 → green 2, blue ceil(0.5) = 1.
    await d.ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: 'ext', desiredCount: 2 }));
    await until('2 green and 1 blue task', () => setsOf('ext'), (x) => converged(byId(x, green), 2) && converged(byId(x, blue), 1));
    const greenTasks = (await liveTasks('ext')).filter((t) => t.startedBy === green).map((t) => t.taskArn).sort();
    assert.equal(greenTasks.length, 2);

    // Deleting blue (forced: still scaled above 0) stops its task and leaves green's alone.
    await d.ecs.send(new DeleteTaskSetCommand({ cluster: CLUSTER, service: 'ext', taskSet: blue, force: true }));
    await until('blue gone', () => setsOf('ext'), (x) => x.length === 1 && x[0]!.id === green);
    tasks = await until('only green tasks', () => liveTasks('ext'), (x) => x.length === 2);
    assert.deepEqual(tasks.map((t) => t.taskArn).sort(), greenTasks);
    const stopped = (await d.ecs.send(new ListTasksCommand({ cluster: CLUSTER, serviceName: 'ext', desiredStatus: 'STOPPED' }))).taskArns ?? [];
    const stoppedTasks = (await d.ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: stopped }))).tasks ?? [];
    const blueStopped = stoppedTasks.filter((t) => t.startedBy === blue);
    assert.ok(blueStopped.length >= 1);
    for (const t of blueStopped) assert.equal(t.stopCode, 'ServiceSchedulerInitiated');

    // The service deleted with force: every task stops, then the service is INACTIVE.
    await d.ecs.send(new DeleteServiceCommand({ cluster: CLUSTER, service: 'ext', force: true }));
    await until('service INACTIVE', async () => (await d.ecs.send(new DescribeServicesCommand({ cluster: CLUSTER, services: ['ext'] }))).services![0]!.status, (s) => s === 'INACTIVE');
    assert.equal((await liveTasks('ext')).length, 0);
  });

  it('a task its target group finds unhealthy is replaced after the grace period, with ECS words', async () => {
    const lbArn = (await elb.send(new CreateLoadBalancerCommand({ Name: 'sets-bad' }))).LoadBalancers![0]!.LoadBalancerArn!;
    // Nothing listens on a simulated task's host port: the health check fails (5 s interval, 2 failures).
    const tgArn = (
      await elb.send(new CreateTargetGroupCommand({ Name: 'sets-bad', Protocol: 'HTTP', Port: 80, VpcId: 'vpc-1', TargetType: 'instance', HealthCheckIntervalSeconds: 5, HealthCheckTimeoutSeconds: 2, UnhealthyThresholdCount: 2 }))
    ).TargetGroups![0]!.TargetGroupArn!;
    await elb.send(new ModifyTargetGroupAttributesCommand({ TargetGroupArn: tgArn, Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '0' }] }));
    await elb.send(new CreateListenerCommand({ LoadBalancerArn: lbArn, Protocol: 'HTTP', Port: await freePort(), DefaultActions: [{ Type: 'forward', TargetGroupArn: tgArn }] }));
    await d.ecs.send(new CreateServiceCommand({ cluster: CLUSTER, serviceName: 'bad', desiredCount: 1, healthCheckGracePeriodSeconds: 0, deploymentController: { type: 'EXTERNAL' } }));
    const set = (await d.ecs.send(new CreateTaskSetCommand({ cluster: CLUSTER, service: 'bad', taskDefinition: 'web:1', loadBalancers: [{ targetGroupArn: tgArn, containerName: 'app', containerPort: 80 }] }))).taskSet!;
    const first = (await until('a RUNNING task', () => liveTasks('bad'), (x) => x.length === 1 && x[0]!.lastStatus === 'RUNNING'))[0]!.taskArn!;
    await until('the unhealthy task replaced', () => liveTasks('bad'), (x) => x.length === 1 && x[0]!.taskArn !== first, 45_000);
    const stopped = (await d.ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: [first] }))).tasks![0]!;
    assert.equal(stopped.stoppedReason, `Task failed ELB health checks in (target-group ${tgArn})`);
    const svc = (await d.ecs.send(new DescribeServicesCommand({ cluster: CLUSTER, services: ['bad'] }))).services![0]!;
    const messages = svc.events!.map((e) => e.message!);
    assert.ok(messages.some((m) => m.startsWith(`(service bad, taskSet ${set.id}) (instance i-`) && m.includes(`is unhealthy in (target-group ${tgArn}) due to (reason `)), messages.join('\n'));
    const described = byId(await setsOf('bad'), set.id!)!;
    assert.equal(described.stabilityStatus, 'STABILIZING');
    await d.ecs.send(new DeleteServiceCommand({ cluster: CLUSTER, service: 'bad', force: true }));
  });

  it("a task set's RUNNING tasks are registered in its target group, and deregistered before they stop", async () => {
    const lbArn = (await elb.send(new CreateLoadBalancerCommand({ Name: 'sets-lb' }))).LoadBalancers![0]!.LoadBalancerArn!;
    const tgArn = (await elb.send(new CreateTargetGroupCommand({ Name: 'sets-tg', Protocol: 'HTTP', Port: 80, VpcId: 'vpc-1', TargetType: 'instance' }))).TargetGroups![0]!.TargetGroupArn!;
    await elb.send(new ModifyTargetGroupAttributesCommand({ TargetGroupArn: tgArn, Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '0' }] }));
    await elb.send(new CreateListenerCommand({ LoadBalancerArn: lbArn, Protocol: 'HTTP', Port: await freePort(), DefaultActions: [{ Type: 'forward', TargetGroupArn: tgArn }] }));
    await d.ecs.send(new CreateServiceCommand({ cluster: CLUSTER, serviceName: 'lb', desiredCount: 2, deploymentController: { type: 'EXTERNAL' } }));
    const set = (
      await d.ecs.send(new CreateTaskSetCommand({ cluster: CLUSTER, service: 'lb', taskDefinition: 'web:1', loadBalancers: [{ targetGroupArn: tgArn, containerName: 'app', containerPort: 80 }] }))
    ).taskSet!;
    assert.deepEqual(set.loadBalancers, [{ targetGroupArn: tgArn, containerName: 'app', containerPort: 80 }]);
    const targets = async () => ((await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: tgArn }))).TargetHealthDescriptions ?? []).map((t) => `${t.Target!.Id}:${t.Target!.Port}`).sort();
    const running = await until('2 RUNNING tasks', () => liveTasks('lb'), (x) => x.length === 2 && x.every((t) => t.lastStatus === 'RUNNING'));
    const instanceArns = [...new Set(running.map((t) => t.containerInstanceArn!))];
    const described = (await d.ecs.send(new DescribeContainerInstancesCommand({ cluster: CLUSTER, containerInstances: instanceArns }))).containerInstances!;
    const instances = new Map(described.map((ci) => [ci.containerInstanceArn!, ci.ec2InstanceId!]));
    const expected = running.map((t) => `${instances.get(t.containerInstanceArn!)}:${t.containers![0]!.networkBindings![0]!.hostPort}`).sort();
    await until('both tasks registered', targets, (x) => JSON.stringify(x) === JSON.stringify(expected));

    // Scaled to 0: deregistered (the target group forgets them), then stopped.
    await d.ecs.send(new UpdateTaskSetCommand({ cluster: CLUSTER, service: 'lb', taskSet: set.id!, scale: { value: 0, unit: 'PERCENT' } }));
    await until('targets deregistered', targets, (x) => x.length === 0);
    await until('tasks stopped', () => liveTasks('lb'), (x) => x.length === 0);
    const arns = running.map((t) => t.taskArn!);
    const after = (await d.ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: arns }))).tasks!;
    for (const t of after) assert.equal(t.stoppedReason, `Scaling activity initiated by (deployment ${set.id})`);
  });
});
