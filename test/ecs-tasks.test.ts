/**
 * RunTask / StartTask / StopTask / DescribeTasks / ListTasks through the AWS SDK v3, without
 * Docker: container instances are written straight into the store (no agent runs), so these
 * tests pin down placement, validation and the task documents the control plane writes.
 */
import {
  DescribeTasksCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StartTaskCommand,
  StopTaskCommand,
  CreateClusterCommand,
  DeleteClusterCommand,
  DescribeClustersCommand,
} from '@aws-sdk/client-ecs';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as c from '../src/store/collections.js';
import { startDockyard, type TestDockyard } from './helpers/dockyard.js';

let dy: TestDockyard;
const CLUSTER = 'tasks-test';
const clusterArn = 'arn:aws:ecs:us-east-1:000000000000:cluster/' + CLUSTER;

async function addInstance(id: string, opts: { cpu?: number; memory?: number; fargate?: boolean; attributes?: Record<string, string> } = {}) {
  const arn = `arn:aws:ecs:us-east-1:000000000000:container-instance/${CLUSTER}/${id}`;
  const capabilities = ['1.17', '1.18', '1.19', '1.20', '1.21', '1.22', '1.23', '1.24', '1.25'].map((v) => `com.amazonaws.ecs.capability.docker-remote-api.${v}`);
  const attributes: { name: string; value?: string }[] = [
    ...Object.entries({ 'ecs.os-type': 'linux', 'ecs.availability-zone': 'local-1a', ...opts.attributes }).map(([name, value]) => ({ name, value })),
    ...capabilities.map((name) => ({ name })),
  ];
  if (opts.fargate) attributes.push({ name: 'dockyard.capacity.fargate', value: 'true' }, { name: 'ecs.capability.task-eni' });
  await dy.app.store.write((tx) =>
    tx.insert(c.containerInstances, arn, {
      accountId: '000000000000',
      region: 'us-east-1',
      containerInstanceArn: arn,
      clusterArn,
      ec2InstanceId: `i-${id}`,
      status: 'ACTIVE',
      agentConnected: true,
      versionInfo: { agentVersion: '0.1.0' },
      registeredAt: 0,
      version: 1,
      tags: [],
      attributes,
      registeredResources: [
        { name: 'CPU', type: 'INTEGER', integerValue: opts.cpu ?? 2048 },
        { name: 'MEMORY', type: 'INTEGER', integerValue: opts.memory ?? 4096 },
        { name: 'PORTS', type: 'STRINGSET', stringSetValue: ['22'] },
        { name: 'PORTS_UDP', type: 'STRINGSET', stringSetValue: [] },
      ],
    }),
  );
  return arn;
}

before(async () => {
  dy = await startDockyard();
  await dy.ecs.send(new CreateClusterCommand({ clusterName: CLUSTER }));
  await dy.ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'web',
      containerDefinitions: [
        { name: 'web', image: 'example/web:1', memory: 512, cpu: 256, portMappings: [{ containerPort: 8080, hostPort: 8080 }] },
        { name: 'sidecar', image: 'example/sidecar:1', memoryReservation: 64, essential: false },
      ],
    }),
  );
  await dy.ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'worker',
      containerDefinitions: [{ name: 'w', image: 'example/worker:1', memory: 1024 }],
    }),
  );
  await dy.ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'fg',
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      cpu: '256',
      memory: '512',
      containerDefinitions: [{ name: 'app', image: 'example/app:1', portMappings: [{ containerPort: 80 }] }],
    }),
  );
});

after(async () => {
  await dy.stop();
});

describe('RunTask', () => {
  test('refuses a cluster with no container instances, writing nothing', async () => {
    await assert.rejects(dy.ecs.send(new RunTaskCommand({ cluster: CLUSTER, taskDefinition: 'worker' })), {
      name: 'InvalidParameterException',
      message: 'No Container Instances were found in your cluster.',
    });
    const listed = await dy.ecs.send(new ListTasksCommand({ cluster: CLUSTER }));
    assert.deepEqual(listed.taskArns, []);
  });

  test('places tasks, fills the ECS task shape and reports what did not fit', async () => {
    const a = await addInstance('a');
    const out = await dy.ecs.send(new RunTaskCommand({ cluster: CLUSTER, taskDefinition: 'web:1', startedBy: 'ci', tags: [{ key: 'team', value: 'x' }] }));
    assert.equal(out.tasks?.length, 1);
    assert.deepEqual(out.failures, []);
    const t = out.tasks![0]!;
    assert.match(t.taskArn!, /^arn:aws:ecs:us-east-1:000000000000:task\/tasks-test\/[0-9a-f]{32}$/);
    assert.equal(t.containerInstanceArn, a);
    assert.equal(t.lastStatus, 'PENDING');
    assert.equal(t.desiredStatus, 'RUNNING');
    assert.equal(t.launchType, 'EC2');
    assert.equal(t.group, 'family:web');
    assert.equal(t.startedBy, 'ci');
    assert.equal(t.cpu, '256');
    assert.equal(t.memory, '576');
    assert.equal(t.version, 1);
    assert.ok(t.createdAt instanceof Date);
    assert.deepEqual(t.tags, [{ key: 'team', value: 'x' }]);
    assert.deepEqual(t.containers?.map((ct) => [ct.name, ct.lastStatus, ct.memory, ct.memoryReservation]), [
      ['web', 'PENDING', '512', undefined],
      ['sidecar', 'PENDING', undefined, '64'],
    ]);
    // Static host port 8080 is now taken on the only instance.
    const second = await dy.ecs.send(new RunTaskCommand({ cluster: CLUSTER, taskDefinition: 'web' }));
    assert.deepEqual(second.tasks, []);
    assert.deepEqual(second.failures?.map((f) => [f.arn, f.reason]), [[a, 'RESOURCE:PORTS']]);
  });

  test('count places several tasks without over-committing memory', async () => {
    // Instance a has 4096 MiB, 576 held by the web task: three 1024 MiB workers fit, not four.
    const out = await dy.ecs.send(new RunTaskCommand({ cluster: CLUSTER, taskDefinition: 'worker', count: 4 }));
    assert.equal(out.tasks?.length, 3);
    assert.ok(out.failures?.some((f) => f.reason === 'RESOURCE:MEMORY'));
  });

  test('applies container overrides to the placement and the task', async () => {
    const b = await addInstance('b', { memory: 8192 });
    const out = await dy.ecs.send(
      new RunTaskCommand({
        cluster: CLUSTER,
        taskDefinition: 'worker',
        overrides: { containerOverrides: [{ name: 'w', memory: 6000, command: ['run', 'fast'], environment: [{ name: 'MODE', value: 'x' }] }] },
      }),
    );
    assert.equal(out.tasks?.[0]?.containerInstanceArn, b);
    assert.equal(out.tasks?.[0]?.memory, '6000');
    assert.deepEqual(out.tasks?.[0]?.overrides?.containerOverrides?.[0]?.command, ['run', 'fast']);
  });

  test('rejects bad requests with ECS exceptions and writes nothing', async () => {
    const before = (await dy.ecs.send(new ListTasksCommand({ cluster: CLUSTER }))).taskArns?.length;
    const cases: [object, string][] = [
      [{ taskDefinition: 'nope' }, 'ClientException'],
      [{ taskDefinition: 'worker', count: 11 }, 'InvalidParameterException'],
      [{ taskDefinition: 'worker', launchType: 'EC2', capacityProviderStrategy: [{ capacityProvider: 'FARGATE' }] }, 'InvalidParameterException'],
      [{ taskDefinition: 'worker', overrides: { containerOverrides: [{ name: 'ghost' }] } }, 'InvalidParameterException'],
      [{ taskDefinition: 'worker', launchType: 'FARGATE' }, 'InvalidParameterException'],
      [{ taskDefinition: 'fg', launchType: 'FARGATE' }, 'InvalidParameterException'],
      [{ taskDefinition: 'worker', networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-1'] } } }, 'InvalidParameterException'],
      [{ taskDefinition: 'worker', placementConstraints: [{ type: 'memberOf', expression: 'attribute:ecs.instance-type ==' }] }, 'InvalidParameterException'],
      [{ taskDefinition: 'worker', cluster: 'missing-cluster' }, 'ClusterNotFoundException'],
    ];
    for (const [input, name] of cases) {
      await assert.rejects(dy.ecs.send(new RunTaskCommand({ cluster: CLUSTER, ...input } as never)), { name }, JSON.stringify(input));
    }
    assert.equal((await dy.ecs.send(new ListTasksCommand({ cluster: CLUSTER }))).taskArns?.length, before);
  });

  test('memberOf constraints pick instances by attribute', async () => {
    const big = await addInstance('c', { memory: 8192, attributes: { 'ecs.instance-type': 'big' } });
    const out = await dy.ecs.send(
      new RunTaskCommand({
        cluster: CLUSTER,
        taskDefinition: 'worker',
        count: 2,
        placementConstraints: [{ type: 'memberOf', expression: 'attribute:ecs.instance-type == big' }],
      }),
    );
    assert.deepEqual(out.tasks?.map((t) => t.containerInstanceArn), [big, big]);
  });

  test('memberOf sees the agent version, as ListContainerInstances filters do', async () => {
    const out = await dy.ecs.send(
      new RunTaskCommand({ cluster: CLUSTER, taskDefinition: 'worker', placementConstraints: [{ type: 'memberOf', expression: 'agentVersion >= 0.1.0' }] }),
    );
    assert.equal(out.tasks?.length, 1, JSON.stringify(out.failures));
    const none = await dy.ecs.send(
      new RunTaskCommand({ cluster: CLUSTER, taskDefinition: 'worker', placementConstraints: [{ type: 'memberOf', expression: 'agentVersion >= 9.0.0' }] }),
    );
    assert.deepEqual(none.tasks, []);
  });

  test('FARGATE tasks go only to Fargate capacity and hide the instance', async () => {
    await assert.rejects(
      dy.ecs.send(new RunTaskCommand({ cluster: CLUSTER, taskDefinition: 'fg', launchType: 'FARGATE', networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-1'] } } })),
      { name: 'InvalidParameterException' },
    );
    await addInstance('fargate', { fargate: true });
    const out = await dy.ecs.send(
      new RunTaskCommand({ cluster: CLUSTER, taskDefinition: 'fg', launchType: 'FARGATE', networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-1'] } } }),
    );
    const t = out.tasks![0]!;
    assert.equal(t.launchType, 'FARGATE');
    assert.equal(t.containerInstanceArn, undefined);
    assert.equal(t.lastStatus, 'PROVISIONING');
    assert.equal(t.platformVersion, '1.4.0');
    assert.equal(t.cpu, '256');
    assert.equal(t.memory, '512');
  });
});

describe('StartTask, StopTask, DescribeTasks, ListTasks', () => {
  test('StartTask runs on the named instance and fails where it does not fit', async () => {
    const small = await addInstance('small', { memory: 512 });
    const out = await dy.ecs.send(new StartTaskCommand({ cluster: CLUSTER, taskDefinition: 'worker', containerInstances: [small, 'missing-id'] }));
    assert.deepEqual(out.tasks, []);
    assert.deepEqual(out.failures?.map((f) => f.reason).sort(), ['MISSING', 'RESOURCE:MEMORY']);
    const ok = await dy.ecs.send(new StartTaskCommand({ cluster: CLUSTER, taskDefinition: 'web', containerInstances: ['b'], startedBy: 'starter' }));
    assert.equal(ok.tasks?.length, 1);
    assert.match(ok.tasks![0]!.containerInstanceArn!, /\/b$/);
  });

  test('StopTask records who stopped it and why; ListTasks filters', async () => {
    const listed = await dy.ecs.send(new ListTasksCommand({ cluster: CLUSTER, startedBy: 'starter' }));
    assert.equal(listed.taskArns?.length, 1);
    const arn = listed.taskArns![0]!;
    const id = arn.split('/').pop()!;
    const stopped = await dy.ecs.send(new StopTaskCommand({ cluster: CLUSTER, task: id, reason: 'maintenance' }));
    assert.equal(stopped.task?.desiredStatus, 'STOPPED');
    assert.equal(stopped.task?.stopCode, 'UserInitiated');
    assert.equal(stopped.task?.stoppedReason, 'maintenance');
    assert.ok(stopped.task?.stoppingAt instanceof Date);
    assert.equal(stopped.task?.version, 2);
    const running = await dy.ecs.send(new ListTasksCommand({ cluster: CLUSTER, startedBy: 'starter' }));
    assert.deepEqual(running.taskArns, []);
    const stoppedList = await dy.ecs.send(new ListTasksCommand({ cluster: CLUSTER, startedBy: 'starter', desiredStatus: 'STOPPED' }));
    assert.deepEqual(stoppedList.taskArns, [arn]);
    await assert.rejects(dy.ecs.send(new StopTaskCommand({ cluster: CLUSTER, task: 'ffffffffffffffffffffffffffffffff' })), { name: 'InvalidParameterException' });
  });

  test('DescribeTasks by id or ARN, MISSING failures, tags only on request', async () => {
    const { taskArns } = await dy.ecs.send(new ListTasksCommand({ cluster: CLUSTER, family: 'web' }));
    assert.ok(taskArns!.length >= 1);
    const id = taskArns![0]!.split('/').pop()!;
    const out = await dy.ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: [id, 'nope'], include: ['TAGS'] }));
    assert.equal(out.tasks?.[0]?.taskArn, taskArns![0]);
    assert.deepEqual(out.failures, [{ arn: 'nope', reason: 'MISSING' }]);
    const paged = await dy.ecs.send(new ListTasksCommand({ cluster: CLUSTER, maxResults: 2 }));
    assert.equal(paged.taskArns?.length, 2);
    assert.ok(paged.nextToken);
    const rest = await dy.ecs.send(new ListTasksCommand({ cluster: CLUSTER, maxResults: 100, nextToken: paged.nextToken }));
    assert.ok(!rest.taskArns!.some((a) => paged.taskArns!.includes(a)));
  });

  test('cluster counts reflect tasks, and DeleteCluster refuses while tasks remain', async () => {
    const d = await dy.ecs.send(new DescribeClustersCommand({ clusters: [CLUSTER] }));
    assert.ok((d.clusters?.[0]?.pendingTasksCount ?? 0) > 0);
    assert.equal(d.clusters?.[0]?.registeredContainerInstancesCount, 5);
    await assert.rejects(dy.ecs.send(new DeleteClusterCommand({ cluster: CLUSTER })), { name: 'ClusterContainsTasksException' });
  });
});
