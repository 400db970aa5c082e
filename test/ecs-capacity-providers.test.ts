/**
 * Capacity providers: the API's shapes and validation through the SDK v3 and both AWS CLIs, and
 * RunTask with a capacity provider strategy across two providers on simulated agents.
 */
import {
  CreateCapacityProviderCommand,
  CreateClusterCommand,
  DeleteCapacityProviderCommand,
  DescribeCapacityProvidersCommand,
  DescribeClustersCommand,
  DescribeContainerInstancesCommand,
  ListContainerInstancesCommand,
  ListTagsForResourceCommand,
  PutClusterCapacityProvidersCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
  TagResourceCommand,
  UpdateCapacityProviderCommand,
  type Task,
} from '@aws-sdk/client-ecs';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { SimulatedRuntime, type Agent } from '../src/agent/index.js';
import { systemClock } from '../src/core/clock.js';
import { splitAcrossProviders } from '../src/scheduler/index.js';
import { resolveCapacity, tasksPerProvider } from '../src/services/ecs/capacity-placement.js';
import type { ClusterRecord } from '../src/services/ecs/clusters.js';
import { findTaskDefinition } from '../src/services/ecs/task-definitions.js';
import { Tasks, type PlaceInput } from '../src/services/ecs/tasks.js';
import * as c from '../src/store/collections.js';
import { simulatedAgent } from './agent/helpers.js';
import { rejectsWith } from './fixtures/aws-errors.js';
import { AWS_CLI_V2, requireCliV1 } from './helpers/aws-cli.js';
import { startDockyard, type TestDockyard } from './helpers/dockyard.js';

const ACCOUNT = '123456789012';
const ASG = (name: string) => `arn:aws:autoscaling:us-east-1:${ACCOUNT}:autoScalingGroup:0f0e4f0c-1111-2222-3333-444455556666:autoScalingGroupName/${name}`;
const run = promisify(execFile);

describe('capacity providers: API (SDK v3)', () => {
  let t: TestDockyard;
  before(async () => {
    t = await startDockyard({ accountId: ACCOUNT });
  });
  after(() => t.stop());

  test('FARGATE and FARGATE_SPOT are there for every account; created providers get ECS defaults and ARNs', async () => {
    const initial = await t.ecs.send(new DescribeCapacityProvidersCommand({}));
    assert.deepEqual(
      initial.capacityProviders!.map((p) => [p.name, p.type, p.status, p.capacityProviderArn]),
      [
        ['FARGATE', 'FARGATE', 'ACTIVE', `arn:aws:ecs:us-east-1:${ACCOUNT}:capacity-provider/FARGATE`],
        ['FARGATE_SPOT', 'FARGATE_SPOT', 'ACTIVE', `arn:aws:ecs:us-east-1:${ACCOUNT}:capacity-provider/FARGATE_SPOT`],
      ],
    );
    const created = await t.ecs.send(
      new CreateCapacityProviderCommand({
        name: 'api-cp',
        autoScalingGroupProvider: { autoScalingGroupArn: ASG('api'), managedScaling: { status: 'ENABLED', targetCapacity: 80 } },
        tags: [{ key: 'team', value: 'infra' }],
      }),
    );
    assert.deepEqual(created.capacityProvider, {
      capacityProviderArn: `arn:aws:ecs:us-east-1:${ACCOUNT}:capacity-provider/api-cp`,
      name: 'api-cp',
      status: 'ACTIVE',
      type: 'EC2_AUTOSCALING',
      autoScalingGroupProvider: {
        autoScalingGroupArn: ASG('api'),
        managedScaling: { status: 'ENABLED', targetCapacity: 80, minimumScalingStepSize: 1, maximumScalingStepSize: 10000, instanceWarmupPeriod: 300 },
        managedTerminationProtection: 'DISABLED',
        managedDraining: 'ENABLED',
      },
      tags: [{ key: 'team', value: 'infra' }],
    });
    // By name and by ARN; TAGS only when asked; a missing one is a failure, not an error.
    const described = await t.ecs.send(
      new DescribeCapacityProvidersCommand({ capacityProviders: ['api-cp', created.capacityProvider!.capacityProviderArn!, 'nope'], include: ['TAGS'] }),
    );
    assert.deepEqual(described.capacityProviders!.map((p) => [p.name, p.tags]), [
      ['api-cp', [{ key: 'team', value: 'infra' }]],
      ['api-cp', [{ key: 'team', value: 'infra' }]],
    ]);
    assert.deepEqual(described.failures, [{ arn: `arn:aws:ecs:us-east-1:${ACCOUNT}:capacity-provider/nope`, reason: 'MISSING' }]);
    const untagged = await t.ecs.send(new DescribeCapacityProvidersCommand({ capacityProviders: ['api-cp'] }));
    assert.equal(untagged.capacityProviders![0]!.tags, undefined);
    // Tagging works on its ARN.
    await t.ecs.send(new TagResourceCommand({ resourceArn: created.capacityProvider!.capacityProviderArn!, tags: [{ key: 'env', value: 'dev' }] }));
    const tags = await t.ecs.send(new ListTagsForResourceCommand({ resourceArn: created.capacityProvider!.capacityProviderArn! }));
    assert.deepEqual(tags.tags, [{ key: 'team', value: 'infra' }, { key: 'env', value: 'dev' }]);
  });

  test('DescribeCapacityProviders pages with maxResults and nextToken', async () => {
    for (const n of ['page-a', 'page-b']) {
      await t.ecs.send(new CreateCapacityProviderCommand({ name: n, autoScalingGroupProvider: { autoScalingGroupArn: ASG(n) } }));
    }
    const names: string[] = [];
    let nextToken: string | undefined;
    for (let i = 0; i < 20; i++) {
      const page = await t.ecs.send(new DescribeCapacityProvidersCommand({ maxResults: 2, nextToken }));
      assert.ok(page.capacityProviders!.length <= 2);
      names.push(...page.capacityProviders!.map((p) => p.name!));
      nextToken = page.nextToken;
      if (!nextToken) break;
    }
    assert.deepEqual(names, ['FARGATE', 'FARGATE_SPOT', 'api-cp', 'page-a', 'page-b']);
    await rejectsWith(t.ecs.send(new DescribeCapacityProvidersCommand({ maxResults: 11 })), 'InvalidParameterException', /maxResults/);
    await rejectsWith(t.ecs.send(new DescribeCapacityProvidersCommand({ nextToken: 'garbage!' })), 'InvalidParameterException');
  });

  test('bad input gets ECS errors and writes nothing', async () => {
    const create = (input: Record<string, unknown>) => t.ecs.send(new CreateCapacityProviderCommand({ name: 'x', autoScalingGroupProvider: { autoScalingGroupArn: ASG('x') }, ...input }));
    await rejectsWith(create({ name: 'fargate-mine' }), 'InvalidParameterException', /cannot begin with/);
    await rejectsWith(create({ name: 'ECS_things' }), 'InvalidParameterException', /cannot begin with/);
    await rejectsWith(create({ name: 'has space' }), 'InvalidParameterException', /letters, numbers/);
    await rejectsWith(create({ autoScalingGroupProvider: { autoScalingGroupArn: 'my-asg' } }), 'InvalidParameterException', /ARN/);
    await rejectsWith(create({ autoScalingGroupProvider: undefined }), 'InvalidParameterException', /autoScalingGroupProvider/);
    await rejectsWith(create({ autoScalingGroupProvider: { autoScalingGroupArn: ASG('api') } }), 'InvalidParameterException', /already used by the capacity provider api-cp/);
    await rejectsWith(create({ name: 'api-cp' }), 'ClientException', /already exists/);
    await rejectsWith(
      create({ autoScalingGroupProvider: { autoScalingGroupArn: ASG('x'), managedScaling: { minimumScalingStepSize: 20, maximumScalingStepSize: 10 } } }),
      'InvalidParameterException',
      /minimumScalingStepSize/,
    );
    await rejectsWith(create({ autoScalingGroupProvider: { autoScalingGroupArn: ASG('x'), managedScaling: { targetCapacity: 101 } } }), 'InvalidParameterException');
    const none = await t.ecs.send(new DescribeCapacityProvidersCommand({ capacityProviders: ['x', 'fargate-mine'] }));
    assert.equal(none.capacityProviders!.length, 0);
    assert.equal(none.failures!.length, 2);
    await rejectsWith(t.ecs.send(new UpdateCapacityProviderCommand({ name: 'FARGATE', autoScalingGroupProvider: {} })), 'ClientException');
    await rejectsWith(t.ecs.send(new DeleteCapacityProviderCommand({ capacityProvider: 'FARGATE_SPOT' })), 'ClientException');
    await rejectsWith(t.ecs.send(new DeleteCapacityProviderCommand({ capacityProvider: 'nope' })), 'ClientException', /capacity provider does not exist/);
  });

  test('UpdateCapacityProvider changes the managed settings and reports UPDATE_COMPLETE', async () => {
    const updated = await t.ecs.send(
      new UpdateCapacityProviderCommand({ name: 'api-cp', autoScalingGroupProvider: { managedScaling: { targetCapacity: 50 }, managedTerminationProtection: 'ENABLED' } }),
    );
    assert.equal(updated.capacityProvider!.updateStatus, 'UPDATE_COMPLETE');
    assert.equal(updated.capacityProvider!.autoScalingGroupProvider!.managedScaling!.targetCapacity, 50);
    assert.equal(updated.capacityProvider!.autoScalingGroupProvider!.managedScaling!.status, 'ENABLED');
    assert.equal(updated.capacityProvider!.autoScalingGroupProvider!.managedTerminationProtection, 'ENABLED');
    assert.equal(updated.capacityProvider!.autoScalingGroupProvider!.autoScalingGroupArn, ASG('api'));
  });

  test('PutClusterCapacityProviders takes real providers with a default strategy; a provider in use cannot be deleted', async () => {
    await t.ecs.send(new CreateClusterCommand({ clusterName: 'cp-cluster' }));
    await rejectsWith(
      t.ecs.send(new PutClusterCapacityProvidersCommand({ cluster: 'cp-cluster', capacityProviders: ['nope'], defaultCapacityProviderStrategy: [] })),
      'InvalidParameterException',
      /nope does not exist/,
    );
    const strategyError = async (strategy: { capacityProvider: string; base?: number; weight?: number }[], message: RegExp) =>
      rejectsWith(
        t.ecs.send(new PutClusterCapacityProvidersCommand({ cluster: 'cp-cluster', capacityProviders: ['api-cp', 'page-a', 'FARGATE'], defaultCapacityProviderStrategy: strategy })),
        'InvalidParameterException',
        message,
      );
    await strategyError([{ capacityProvider: 'api-cp', base: 1, weight: 1 }, { capacityProvider: 'page-a', base: 1, weight: 1 }], /Only one capacity provider/);
    await strategyError([{ capacityProvider: 'api-cp', weight: 1 }, { capacityProvider: 'FARGATE', weight: 1 }], /mix of capacity providers/);
    await strategyError([{ capacityProvider: 'page-b', weight: 1 }], /not associated with the cluster/);
    await strategyError([{ capacityProvider: 'api-cp' }, { capacityProvider: 'page-a' }], /weight greater than zero/);
    const put = await t.ecs.send(
      new PutClusterCapacityProvidersCommand({
        cluster: 'cp-cluster',
        capacityProviders: ['api-cp', `arn:aws:ecs:us-east-1:${ACCOUNT}:capacity-provider/page-a`],
        defaultCapacityProviderStrategy: [{ capacityProvider: 'api-cp', base: 1, weight: 1 }, { capacityProvider: 'page-a', weight: 2 }],
      }),
    );
    assert.deepEqual(put.cluster!.capacityProviders, ['api-cp', 'page-a']);
    assert.deepEqual(put.cluster!.defaultCapacityProviderStrategy, [{ capacityProvider: 'api-cp', base: 1, weight: 1 }, { capacityProvider: 'page-a', weight: 2, base: 0 }]);
    await rejectsWith(t.ecs.send(new DeleteCapacityProviderCommand({ capacityProvider: 'api-cp' })), 'ClientException', /in use .* cp-cluster/);
    // Removed from the cluster, it can go: INACTIVE, still describable by name, then gone from the list.
    await t.ecs.send(new PutClusterCapacityProvidersCommand({ cluster: 'cp-cluster', capacityProviders: ['page-a'], defaultCapacityProviderStrategy: [] }));
    const deleted = await t.ecs.send(new DeleteCapacityProviderCommand({ capacityProvider: `arn:aws:ecs:us-east-1:${ACCOUNT}:capacity-provider/api-cp` }));
    assert.equal(deleted.capacityProvider!.status, 'INACTIVE');
    const after = await t.ecs.send(new DescribeCapacityProvidersCommand({ capacityProviders: ['api-cp'] }));
    assert.equal(after.capacityProviders![0]!.status, 'INACTIVE');
    const listed = await t.ecs.send(new DescribeCapacityProvidersCommand({}));
    assert.ok(!listed.capacityProviders!.some((p) => p.name === 'api-cp'));
    await rejectsWith(t.ecs.send(new DeleteCapacityProviderCommand({ capacityProvider: 'api-cp' })), 'ClientException', /does not exist/);
    // The name can be used again.
    const again = await t.ecs.send(new CreateCapacityProviderCommand({ name: 'api-cp', autoScalingGroupProvider: { autoScalingGroupArn: ASG('api2') } }));
    assert.equal(again.capacityProvider!.status, 'ACTIVE');
  });

  test("a service's strategy keeps its provider in use (the service as the services module stores it)", async () => {
    await t.ecs.send(new CreateCapacityProviderCommand({ name: 'svc-cp', autoScalingGroupProvider: { autoScalingGroupArn: ASG('svc') } }));
    await t.ecs.send(new CreateClusterCommand({ clusterName: 'svc-cluster' }));
    await t.ecs.send(new PutClusterCapacityProvidersCommand({ cluster: 'svc-cluster', capacityProviders: ['svc-cp'], defaultCapacityProviderStrategy: [] }));
    const clusterArn = `arn:aws:ecs:us-east-1:${ACCOUNT}:cluster/svc-cluster`;
    const serviceArn = `arn:aws:ecs:us-east-1:${ACCOUNT}:service/svc-cluster/web`;
    await t.app.store.write((tx) =>
      tx.insert(c.services, serviceArn, {
        accountId: ACCOUNT,
        region: 'us-east-1',
        serviceArn,
        serviceName: 'web',
        clusterArn,
        status: 'ACTIVE',
        capacityProviderStrategy: [{ capacityProvider: 'svc-cp', weight: 1, base: 0 }],
      }),
    );
    await rejectsWith(
      t.ecs.send(new PutClusterCapacityProvidersCommand({ cluster: 'svc-cluster', capacityProviders: [], defaultCapacityProviderStrategy: [] })),
      'ResourceInUseException',
      /svc-cp/,
    );
    const cluster = (await t.ecs.send(new DescribeClustersCommand({ clusters: ['svc-cluster'] }))).clusters![0]!;
    assert.deepEqual(cluster.capacityProviders, ['svc-cp']);
    await rejectsWith(t.ecs.send(new DeleteCapacityProviderCommand({ capacityProvider: 'svc-cp' })), 'ClientException', /in use/);
  });
});

describe('capacity providers: RunTask with a strategy on simulated agents', () => {
  let t: TestDockyard;
  const agents: Agent[] = [];
  let stateDir: string;
  let instanceOf: Record<string, string>;
  before(async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'dockyard-cp-agents-'));
    // The embedded agent on the simulated runtime is the Dockyard-managed (Fargate) capacity.
    t = await startDockyard(
      { accountId: ACCOUNT, embeddedAgent: { cleanupDelayMs: 60_000, pollWaitMs: 2000 }, agentHeartbeatIntervalMs: 500 },
      undefined,
      { agentRuntime: new SimulatedRuntime({ cpus: 16, memoryMiB: 32768 }) },
    );
    instanceOf = {};
    for (const name of ['on-demand', 'spot-fleet']) {
      await t.ecs.send(new CreateCapacityProviderCommand({ name, autoScalingGroupProvider: { autoScalingGroupArn: ASG(name) } }));
      const agent = await simulatedAgent(t, { cluster: 'default', stateDir: join(stateDir, name), host: { fargateCapacity: false, capacityProvider: name }, pollWaitMs: 2000 });
      await agent.start();
      agents.push(agent);
      instanceOf[name] = agent.containerInstanceArn!;
    }
    await t.ecs.send(new RegisterTaskDefinitionCommand({ family: 'cp-web', requiresCompatibilities: ['EC2', 'FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512', containerDefinitions: [{ name: 'web', image: 'busybox' }] }));
  });
  after(async () => {
    for (const a of agents) await a.close();
    await t.stop();
    rmSync(stateDir, { recursive: true, force: true });
  });

  const network = { awsvpcConfiguration: { subnets: ['subnet-local'] } };
  const byProvider = (tasks: Task[]) => {
    const out: Record<string, number> = {};
    for (const task of tasks) out[task.capacityProviderName!] = (out[task.capacityProviderName!] ?? 0) + 1;
    return out;
  };

  test('the agents’ instances belong to their providers (capacityProviderName)', async () => {
    const arns = (await t.ecs.send(new ListContainerInstancesCommand({ cluster: 'default' }))).containerInstanceArns!;
    const described = await t.ecs.send(new DescribeContainerInstancesCommand({ cluster: 'default', containerInstances: arns }));
    const names = Object.fromEntries(described.containerInstances!.map((i) => [i.containerInstanceArn, i.capacityProviderName]));
    assert.equal(names[instanceOf['on-demand']!], 'on-demand');
    assert.equal(names[instanceOf['spot-fleet']!], 'spot-fleet');
    assert.equal(arns.length, 3);
  });

  test('base 2 on one provider, weights 1:3: ten tasks land 4 and 6, each on its provider’s instances', async () => {
    await t.ecs.send(new PutClusterCapacityProvidersCommand({ cluster: 'default', capacityProviders: ['on-demand', 'spot-fleet', 'FARGATE', 'FARGATE_SPOT'], defaultCapacityProviderStrategy: [] }));
    const strategy = [{ capacityProvider: 'on-demand', base: 2, weight: 1 }, { capacityProvider: 'spot-fleet', weight: 3 }];
    const res = await t.ecs.send(new RunTaskCommand({ taskDefinition: 'cp-web', count: 10, capacityProviderStrategy: strategy, networkConfiguration: network }));
    assert.deepEqual(res.failures, []);
    assert.deepEqual(byProvider(res.tasks!), { 'on-demand': 4, 'spot-fleet': 6 });
    for (const task of res.tasks!) {
      assert.equal(task.launchType, 'EC2');
      assert.equal(task.containerInstanceArn, instanceOf[task.capacityProviderName!]);
    }
    // Only 2 tasks: the base comes first.
    const two = await t.ecs.send(new RunTaskCommand({ taskDefinition: 'cp-web', count: 2, capacityProviderStrategy: strategy, networkConfiguration: network }));
    assert.deepEqual(byProvider(two.tasks!), { 'on-demand': 2 });
    for (const task of [...res.tasks!, ...two.tasks!]) await t.ecs.send(new StopTaskCommand({ task: task.taskArn! }));
  });

  test('the cluster default strategy applies when RunTask names neither a launch type nor a strategy', async () => {
    await t.ecs.send(
      new PutClusterCapacityProvidersCommand({
        cluster: 'default',
        capacityProviders: ['on-demand', 'spot-fleet', 'FARGATE', 'FARGATE_SPOT'],
        defaultCapacityProviderStrategy: [{ capacityProvider: 'on-demand', weight: 1 }, { capacityProvider: 'spot-fleet', weight: 1 }],
      }),
    );
    const res = await t.ecs.send(new RunTaskCommand({ taskDefinition: 'cp-web', count: 6, networkConfiguration: network }));
    assert.deepEqual(byProvider(res.tasks!), { 'on-demand': 3, 'spot-fleet': 3 });
    // A provider of the strategy must be associated with the cluster.
    await rejectsWith(
      t.ecs.send(new RunTaskCommand({ taskDefinition: 'cp-web', capacityProviderStrategy: [{ capacityProvider: 'nope', weight: 1 }], networkConfiguration: network })),
      'InvalidParameterException',
      /nope does not exist/,
    );
    await rejectsWith(
      t.ecs.send(new RunTaskCommand({ taskDefinition: 'cp-web', launchType: 'EC2', capacityProviderStrategy: [{ capacityProvider: 'on-demand', weight: 1 }], networkConfiguration: network })),
      'InvalidParameterException',
      /both a launchType and capacityProviderStrategy/,
    );
    // A live task keeps its provider associated.
    await rejectsWith(
      t.ecs.send(new PutClusterCapacityProvidersCommand({ cluster: 'default', capacityProviders: ['spot-fleet'], defaultCapacityProviderStrategy: [] })),
      'ResourceInUseException',
      /on-demand/,
    );
    for (const task of res.tasks!) await t.ecs.send(new StopTaskCommand({ task: task.taskArn! }));
  });

  test('FARGATE base 1 (weight 0) and FARGATE_SPOT weight 1 run on the Dockyard-managed host, launch type FARGATE', async () => {
    const res = await t.ecs.send(
      new RunTaskCommand({
        taskDefinition: 'cp-web',
        count: 5,
        capacityProviderStrategy: [{ capacityProvider: 'FARGATE', base: 1, weight: 0 }, { capacityProvider: 'FARGATE_SPOT', weight: 1 }],
        networkConfiguration: network,
      }),
    );
    assert.deepEqual(res.failures, []);
    assert.deepEqual(byProvider(res.tasks!), { FARGATE: 1, FARGATE_SPOT: 4 });
    for (const task of res.tasks!) {
      assert.equal(task.launchType, 'FARGATE');
      assert.equal(task.containerInstanceArn, undefined);
    }
    for (const task of res.tasks!) await t.ecs.send(new StopTaskCommand({ task: task.taskArn! }));
  });

  test('Tasks.place, the path services place through, counts what the service already runs per provider', async () => {
    const strategy = [{ capacityProvider: 'on-demand', base: 2, weight: 1 }, { capacityProvider: 'spot-fleet', weight: 1 }];
    const group = 'service:shared-path';
    const first = await t.ecs.send(new RunTaskCommand({ taskDefinition: 'cp-web', count: 2, group, capacityProviderStrategy: strategy, networkConfiguration: network }));
    assert.deepEqual(byProvider(first.tasks!), { 'on-demand': 2 });
    const scope = { accountId: ACCOUNT, region: 'us-east-1' };
    const clusterArn = `arn:aws:ecs:us-east-1:${ACCOUNT}:cluster/default`;
    const tasks = new Tasks(t.app.store, systemClock);
    const place = (extra: Partial<PlaceInput>) =>
      t.app.store.write(async (tx) => {
        const cluster = (await tx.get(c.clusters, clusterArn))!.data as ClusterRecord;
        const td = (await findTaskDefinition(tx, scope, 'cp-web'))!.data;
        assert.deepEqual(await tasksPerProvider(tx, clusterArn, group), { 'on-demand': 2 });
        return tasks.place(tx, scope, cluster, td, { taskDefinition: 'cp-web', count: 4, group, capacityProviderStrategy: strategy, networkConfiguration: network, ...extra });
      });
    // As RunTask (no service): the base applies to this call again → 2 + 1 and 1.
    const asRunTask = await t.app.store.write(async (tx) => {
      const cluster = (await tx.get(c.clusters, clusterArn))!.data as ClusterRecord;
      const capacity = await resolveCapacity(tx, scope, cluster, { capacityProviderStrategy: strategy });
      return splitAcrossProviders(capacity.strategy!.map((s) => s.item), 4);
    });
    assert.deepEqual(asRunTask.map((s) => s.count), [3, 1]);
    // For a service, the 2 running tasks already meet the base: the 4 new ones split 1:1.
    const placed = await place({ serviceName: 'shared-path' });
    assert.deepEqual(byProvider(placed.tasks as unknown as Task[]), { 'on-demand': 2, 'spot-fleet': 2 });
    assert.ok(placed.tasks.every((task) => task.serviceName === 'shared-path'));
    for (const task of [...first.tasks!, ...(placed.tasks as unknown as Task[])]) await t.ecs.send(new StopTaskCommand({ task: task.taskArn! }));
  });

  test('Tasks.place with onInstance places only on that instance (a DAEMON task)', async () => {
    const scope = { accountId: ACCOUNT, region: 'us-east-1' };
    const clusterArn = `arn:aws:ecs:us-east-1:${ACCOUNT}:cluster/default`;
    const placed = await t.app.store.write(async (tx) => {
      const cluster = (await tx.get(c.clusters, clusterArn))!.data as ClusterRecord;
      const td = (await findTaskDefinition(tx, scope, 'cp-web'))!.data;
      return new Tasks(t.app.store, systemClock).place(tx, scope, cluster, td, { taskDefinition: 'cp-web', count: 1, launchType: 'EC2', onInstance: instanceOf['spot-fleet'], networkConfiguration: network });
    });
    assert.deepEqual(placed.tasks.map((task) => task.placedOn), [instanceOf['spot-fleet']]);
    await t.ecs.send(new StopTaskCommand({ task: placed.tasks[0]!.taskArn }));
  });

  test('a provider whose instances are full reports failures; its share does not spill over', async () => {
    // Each simulated agent has 2 vCPU (2048 units): at 256 units, 8 tasks fit per agent.
    const res = await t.ecs.send(
      new RunTaskCommand({ taskDefinition: 'cp-web', count: 10, capacityProviderStrategy: [{ capacityProvider: 'on-demand', weight: 1 }], networkConfiguration: network }),
    );
    // Earlier tests' stopped tasks may still hold resources until their agent reports them STOPPED: at most 8 fit.
    assert.ok(res.tasks!.length <= 8, `placed ${res.tasks!.length}`);
    assert.ok(res.failures!.length > 0);
    assert.match(res.failures![0]!.reason!, /^RESOURCE:CPU|^RESOURCE:MEMORY/);
    assert.ok(res.tasks!.every((task) => task.capacityProviderName === 'on-demand'));
    for (const task of res.tasks!) await t.ecs.send(new StopTaskCommand({ task: task.taskArn! }));
  });
});

describe('capacity providers: AWS CLI v1 and v2', () => {
  let t: TestDockyard;
  before(async () => {
    t = await startDockyard({ accountId: ACCOUNT });
  });
  after(() => t.stop());

  for (const [label, bin] of [
    ['v1', () => requireCliV1()],
    ['v2', () => AWS_CLI_V2],
  ] as const) {
    test(`create, describe, associate, delete with the AWS CLI ${label}`, async () => {
      const aws = async (...args: string[]) => JSON.parse((await run(bin(), ['--endpoint-url', t.endpoint, '--output', 'json', 'ecs', ...args], { env: t.cliEnv })).stdout || '{}');
      const name = `cli-${label}`;
      const created = await aws('create-capacity-provider', '--name', name, '--auto-scaling-group-provider', `autoScalingGroupArn=${ASG(name)},managedScaling={status=ENABLED,targetCapacity=90},managedTerminationProtection=DISABLED`);
      assert.equal(created.capacityProvider.name, name);
      assert.equal(created.capacityProvider.autoScalingGroupProvider.managedScaling.targetCapacity, 90);
      const described = await aws('describe-capacity-providers', '--capacity-providers', name, 'FARGATE_SPOT', '--include', 'TAGS');
      assert.deepEqual(described.capacityProviders.map((p: { name: string }) => p.name), [name, 'FARGATE_SPOT']);
      await aws('create-cluster', '--cluster-name', name);
      const put = await aws(
        'put-cluster-capacity-providers',
        '--cluster', name,
        '--capacity-providers', name,
        '--default-capacity-provider-strategy', `capacityProvider=${name},base=1,weight=1`,
      );
      assert.deepEqual(put.cluster.defaultCapacityProviderStrategy, [{ capacityProvider: name, base: 1, weight: 1 }]);
      await assert.rejects(aws('delete-capacity-provider', '--capacity-provider', name), /ClientException.*in use/s);
      await aws('put-cluster-capacity-providers', '--cluster', name, '--capacity-providers', '[]', '--default-capacity-provider-strategy', '[]');
      const deleted = await aws('delete-capacity-provider', '--capacity-provider', name);
      assert.equal(deleted.capacityProvider.status, 'INACTIVE');
    });
  }
});
