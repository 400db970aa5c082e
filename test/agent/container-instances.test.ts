/**
 * Container instances through the ECS API and the agent protocol, with agents on the SIMULATED
 * runtime (no Docker): registration, describe, list filters, attributes, draining,
 * deregistration, liveness, and a task run end to end through the protocol.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CreateClusterCommand,
  DeleteAttributesCommand,
  DeregisterContainerInstanceCommand,
  DescribeContainerInstancesCommand,
  ListAttributesCommand,
  ListContainerInstancesCommand,
  PutAttributesCommand,
  RegisterContainerInstanceCommand,
  RunTaskCommand,
  StopTaskCommand,
  UpdateContainerInstancesStateCommand,
} from '@aws-sdk/client-ecs';
import { SimulatedRuntime, type Agent } from '../../src/agent/index.js';
import { startDockyard, type TestDockyard } from '../helpers/dockyard.js';
import { describe as describeTask, isRunning, isStopped, register, simulatedAgent, sleep, waitTask } from './helpers.js';

const CLUSTER = 'sim';

describe('container instances and the agent protocol (simulated runtime)', () => {
  let d: TestDockyard;
  const stateDir = mkdtempSync(join(tmpdir(), 'dockyard-agent-state-'));
  const agents: Agent[] = [];
  const runtime = new SimulatedRuntime({ cpus: 2, memoryMiB: 4096 });
  let joinToken: string;
  const newAgent = async (dir = stateDir, runtime = new SimulatedRuntime({ cpus: 2, memoryMiB: 4096 })) => {
    const a = await simulatedAgent(d, { cluster: CLUSTER, stateDir: dir, runtime, pollWaitMs: 5000, cleanupDelayMs: 100, joinToken });
    agents.push(a);
    return a;
  };
  const describeInstance = async (arn: string, include?: ('TAGS' | 'CONTAINER_INSTANCE_HEALTH')[]) =>
    (await d.ecs.send(new DescribeContainerInstancesCommand({ cluster: CLUSTER, containerInstances: [arn], include }))).containerInstances![0]!;

  before(async () => {
    d = await startDockyard({ agentHeartbeatIntervalMs: 100, agentHeartbeatTtlMs: 600 });
    await d.ecs.send(new CreateClusterCommand({ clusterName: CLUSTER }));
    joinToken = (await d.app.agentAuth.createJoinToken({ description: 'container-instances test' }, 'test')).token;
  });

  after(async () => {
    for (const a of agents) await a.close();
    await d?.stop();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('registers an agent with its resources, attributes and version, idempotently by instance id', async () => {
    const a = await newAgent(stateDir, runtime);
    await a.start();
    const ci = await describeInstance(a.containerInstanceArn!, ['CONTAINER_INSTANCE_HEALTH']);
    assert.equal(ci.status, 'ACTIVE');
    assert.equal(ci.agentConnected, true);
    assert.equal(ci.containerInstanceArn, `arn:aws:ecs:us-east-1:000000000000:container-instance/${CLUSTER}/${a.instanceId}`);
    const res = Object.fromEntries(ci.registeredResources!.map((r) => [r.name, r]));
    assert.equal(res.CPU!.integerValue, 2048);
    assert.equal(res.MEMORY!.integerValue, 4096);
    assert.ok(res.PORTS!.stringSetValue!.includes('22'));
    assert.deepEqual(res.PORTS_UDP!.stringSetValue, []);
    const attrs = Object.fromEntries(ci.attributes!.map((x) => [x.name, x.value]));
    assert.equal(attrs['ecs.os-type'], 'linux');
    assert.equal(attrs['ecs.cpu-architecture'], 'x86_64');
    assert.ok('com.amazonaws.ecs.capability.docker-remote-api.1.41' in attrs);
    assert.equal(ci.versionInfo!.agentVersion, '0.1.0');
    assert.equal(ci.healthStatus!.overallStatus, 'OK');
    assert.equal(ci.runningTasksCount, 0);

    const again = await newAgent();
    await again.start();
    assert.equal(again.containerInstanceArn, a.containerInstanceArn, 'same state dir, same instance');
    await again.close();
    const list = await d.ecs.send(new ListContainerInstancesCommand({ cluster: CLUSTER }));
    assert.deepEqual(list.containerInstanceArns, [a.containerInstanceArn]);
  });

  it('fails registration into a cluster that does not exist', async () => {
    const a = await simulatedAgent(d, { cluster: 'no-such-cluster', stateDir: join(stateDir, 'no-cluster'), runtime: new SimulatedRuntime(), joinToken });
    await assert.rejects(a.start(), /Cluster not found/);
    await a.close();
  });

  it('refuses an unknown major protocol version with 400', async () => {
    const res = await fetch(`${d.endpoint}/agent/v1/register`, { method: 'POST', headers: { authorization: `Bearer ${joinToken}` }, body: JSON.stringify({ protocolVersion: '2.0' }) });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { error: string }).error, 'UnsupportedProtocolVersion');
    const bad = await fetch(`${d.endpoint}/agent/v1/register`, { method: 'POST', headers: { authorization: `Bearer ${joinToken}` }, body: JSON.stringify({ protocolVersion: '1.0' }) });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: string }).error, 'BadRequest');
  });

  it('runs a task through the protocol and counts it against the instance', async () => {
    const arn = agents[0]!.containerInstanceArn!;
    const family = await register(d, [{ name: 'app', image: 'sim:1', cpu: 256, memory: 512, portMappings: [{ containerPort: 80 }] }]);
    const run = await d.ecs.send(new RunTaskCommand({ cluster: CLUSTER, taskDefinition: family }));
    const taskArn = run.tasks![0]!.taskArn!;
    const task = await waitTask(d, taskArn, isRunning, 10_000).catch(async () => describeTask(d, taskArn));
    assert.equal(task.lastStatus, 'RUNNING', JSON.stringify(task));
    const ci = await describeInstance(arn);
    assert.equal(ci.runningTasksCount, 1);
    const remaining = Object.fromEntries(ci.remainingResources!.map((r) => [r.name, r]));
    assert.equal(remaining.CPU!.integerValue, 2048 - 256);
    assert.equal(remaining.MEMORY!.integerValue, 4096 - 512);
    assert.ok(remaining.PORTS!.stringSetValue!.includes(String(task.containers![0]!.networkBindings![0]!.hostPort)));

    await assert.rejects(d.ecs.send(new DeregisterContainerInstanceCommand({ cluster: CLUSTER, containerInstance: arn })), /running tasks/);
    await d.ecs.send(new StopTaskCommand({ cluster: CLUSTER, task: taskArn }));
    const stopped = await waitTask(d, taskArn, isStopped, 10_000);
    assert.equal(stopped.containers![0]!.exitCode, 143);
    // After the cleanup delay (100 ms here) the containers are removed and the task forgotten.
    const agent = agents[0]!;
    for (let i = 0; i < 50 && agent.supervisor.tasks.has(taskArn); i++) await sleep(100);
    assert.equal(agent.supervisor.tasks.has(taskArn), false);
    assert.deepEqual(await runtime.list(), []);
  });

  it('puts, lists and deletes custom attributes; filters instances by cluster query and status', async () => {
    const arn = agents[0]!.containerInstanceArn!;
    await d.ecs.send(new PutAttributesCommand({ cluster: CLUSTER, attributes: [{ name: 'stack', value: 'prod', targetId: arn }] }));
    const listed = await d.ecs.send(new ListAttributesCommand({ cluster: CLUSTER, targetType: 'container-instance', attributeName: 'stack' }));
    assert.deepEqual(listed.attributes, [{ name: 'stack', value: 'prod', targetType: 'container-instance', targetId: arn }]);
    const match = await d.ecs.send(new ListContainerInstancesCommand({ cluster: CLUSTER, filter: 'attribute:stack == prod and attribute:ecs.os-type == linux' }));
    assert.deepEqual(match.containerInstanceArns, [arn]);
    const none = await d.ecs.send(new ListContainerInstancesCommand({ cluster: CLUSTER, filter: 'attribute:stack == dev' }));
    assert.deepEqual(none.containerInstanceArns, []);
    await assert.rejects(d.ecs.send(new ListContainerInstancesCommand({ cluster: CLUSTER, filter: 'attribute:stack ==' })), /InvalidParameter|not valid/);
    await assert.rejects(d.ecs.send(new PutAttributesCommand({ cluster: CLUSTER, attributes: [{ name: 'ecs.mine', value: 'x', targetId: arn }] })), /reserved/);
    await assert.rejects(
      d.ecs.send(new PutAttributesCommand({ cluster: CLUSTER, attributes: [{ name: 'stack', value: 'x', targetId: 'nope' }] })),
      (e: Error) => e.name === 'TargetNotFoundException',
    );
    await d.ecs.send(new DeleteAttributesCommand({ cluster: CLUSTER, attributes: [{ name: 'stack', targetId: arn }] }));
    const after = await d.ecs.send(new ListAttributesCommand({ cluster: CLUSTER, targetType: 'container-instance', attributeName: 'stack' }));
    assert.deepEqual(after.attributes, []);

    const drained = await d.ecs.send(new UpdateContainerInstancesStateCommand({ cluster: CLUSTER, containerInstances: [arn], status: 'DRAINING' }));
    assert.equal(drained.containerInstances![0]!.status, 'DRAINING');
    const draining = await d.ecs.send(new ListContainerInstancesCommand({ cluster: CLUSTER, status: 'DRAINING' }));
    assert.deepEqual(draining.containerInstanceArns, [arn]);
    const active = await d.ecs.send(new ListContainerInstancesCommand({ cluster: CLUSTER, status: 'ACTIVE' }));
    assert.deepEqual(active.containerInstanceArns, []);
    await d.ecs.send(new UpdateContainerInstancesStateCommand({ cluster: CLUSTER, containerInstances: [arn], status: 'ACTIVE' }));
  });

  it('registers through the ECS API too', async () => {
    const res = await d.ecs.send(
      new RegisterContainerInstanceCommand({
        cluster: CLUSTER,
        instanceIdentityDocument: JSON.stringify({ instanceId: 'i-0123456789abcdef0', instanceType: 'm5.large', availabilityZone: 'us-east-1b' }),
        totalResources: [
          { name: 'CPU', type: 'INTEGER', integerValue: 2048 },
          { name: 'MEMORY', type: 'INTEGER', integerValue: 7680 },
        ],
        versionInfo: { agentVersion: '1.80.0', dockerVersion: 'DockerVersion: 20.10.24' },
        tags: [{ key: 'team', value: 'a' }],
      }),
    );
    const ci = res.containerInstance!;
    assert.equal(ci.ec2InstanceId, 'i-0123456789abcdef0');
    assert.ok(ci.attributes!.some((a) => a.name === 'ecs.instance-type' && a.value === 'm5.large'));
    const described = await describeInstance(ci.containerInstanceArn!, ['TAGS']);
    assert.deepEqual(described.tags, [{ key: 'team', value: 'a' }]);
    const gone = await d.ecs.send(new DeregisterContainerInstanceCommand({ cluster: CLUSTER, containerInstance: ci.containerInstanceArn! }));
    assert.equal(gone.containerInstance!.status, 'INACTIVE');
  });

  it('marks agentConnected=false when heartbeats stop, and true again when they resume', async () => {
    const a = agents[0]!;
    const arn = a.containerInstanceArn!;
    await a.close();
    let ci = await describeInstance(arn);
    for (let i = 0; i < 40 && ci.agentConnected; i++) {
      await sleep(100);
      ci = await describeInstance(arn);
    }
    assert.equal(ci.agentConnected, false);
    const back = await newAgent();
    await back.start();
    ci = await describeInstance(arn);
    assert.equal(ci.agentConnected, true);
  });

  it('force-deregisters an instance with running tasks; its agent then stops them', async () => {
    const a = agents[agents.length - 1]!;
    const arn = a.containerInstanceArn!;
    const family = await register(d, [{ name: 'app', image: 'sim:1', memory: 64 }]);
    const run = await d.ecs.send(new RunTaskCommand({ cluster: CLUSTER, taskDefinition: family }));
    const taskArn = run.tasks![0]!.taskArn!;
    await waitTask(d, taskArn, isRunning, 10_000);
    const res = await d.ecs.send(new DeregisterContainerInstanceCommand({ cluster: CLUSTER, containerInstance: arn, force: true }));
    assert.equal(res.containerInstance!.status, 'INACTIVE');
    for (let i = 0; i < 50 && !a.inactive; i++) await sleep(100);
    assert.equal(a.inactive, true);
    const local = a.supervisor.tasks.get(taskArn);
    assert.ok(!local || local.desired === 'STOPPED');
    // Its final state still reaches the control plane.
    const t = await waitTask(d, taskArn, isStopped, 10_000);
    assert.equal(t.containers![0]!.lastStatus, 'STOPPED');
  });
});
