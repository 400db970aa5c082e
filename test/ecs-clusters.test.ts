/**
 * Clusters through the AWS SDK v3: create (idempotent, default name), describe with every
 * include section and live counts, list with pagination, update, settings, capacity providers,
 * delete and its refusals. Tasks, services and instances are written straight into the store
 * (their APIs belong to later issues) in the document shapes collections.ts declares.
 */
import {
  CreateClusterCommand,
  DeleteClusterCommand,
  DescribeClustersCommand,
  ListClustersCommand,
  ListTagsForResourceCommand,
  PutClusterCapacityProvidersCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateClusterCommand,
  UpdateClusterSettingsCommand,
} from '@aws-sdk/client-ecs';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as c from '../src/store/collections.js';
import { rejectsWith } from './fixtures/aws-errors.js';
import { startDockyard, type TestDockyard } from './helpers/dockyard.js';

const REGION_ACCOUNT = { accountId: '000000000000', region: 'us-east-1' };
const arnOf = (name: string) => `arn:aws:ecs:us-east-1:000000000000:cluster/${name}`;

function taskDoc(cluster: string, id: string, lastStatus: string, launchType = 'EC2'): c.TaskDoc {
  const taskArn = `arn:aws:ecs:us-east-1:000000000000:task/${cluster}/${id}`;
  return {
    ...REGION_ACCOUNT,
    taskArn,
    clusterArn: arnOf(cluster),
    taskDefinitionArn: 'arn:aws:ecs:us-east-1:000000000000:task-definition/x:1',
    lastStatus,
    desiredStatus: lastStatus === 'STOPPED' ? 'STOPPED' : 'RUNNING',
    launchType,
    family: 'x',
    containers: [],
    overrides: {},
    version: 1,
    createdAt: Date.now() / 1000,
  };
}

function serviceDoc(cluster: string, name: string, status: string, launchType = 'EC2'): c.ServiceDoc {
  return { ...REGION_ACCOUNT, serviceArn: `arn:aws:ecs:us-east-1:000000000000:service/${cluster}/${name}`, serviceName: name, clusterArn: arnOf(cluster), status, launchType };
}

function instanceDoc(cluster: string, id: string, status: string): c.ContainerInstanceDoc {
  return {
    ...REGION_ACCOUNT,
    containerInstanceArn: `arn:aws:ecs:us-east-1:000000000000:container-instance/${cluster}/${id}`,
    clusterArn: arnOf(cluster),
    status,
    agentConnected: true,
    registeredResources: [],
    attributes: [],
  };
}

describe('clusters (SDK v3)', () => {
  let t: TestDockyard;
  before(async () => {
    t = await startDockyard();
  });
  after(() => t.stop());

  test('CreateCluster returns the cluster in ECS shape; a second call with the same name returns the same cluster', async () => {
    const first = await t.ecs.send(
      new CreateClusterCommand({
        clusterName: 'prod',
        tags: [{ key: 'team', value: 'payments' }],
        settings: [{ name: 'containerInsights', value: 'enabled' }],
        configuration: { executeCommandConfiguration: { logging: 'DEFAULT' } },
        capacityProviders: ['FARGATE', 'FARGATE_SPOT'],
        defaultCapacityProviderStrategy: [{ capacityProvider: 'FARGATE', weight: 1, base: 1 }],
      }),
    );
    const cl = first.cluster!;
    assert.equal(cl.clusterArn, arnOf('prod'));
    assert.equal(cl.clusterName, 'prod');
    assert.equal(cl.status, 'ACTIVE');
    assert.equal(cl.registeredContainerInstancesCount, 0);
    assert.equal(cl.runningTasksCount, 0);
    assert.equal(cl.pendingTasksCount, 0);
    assert.equal(cl.activeServicesCount, 0);
    assert.deepEqual(cl.settings, [{ name: 'containerInsights', value: 'enabled' }]);
    assert.deepEqual(cl.tags, [{ key: 'team', value: 'payments' }]);
    assert.deepEqual(cl.capacityProviders, ['FARGATE', 'FARGATE_SPOT']);
    assert.deepEqual(cl.defaultCapacityProviderStrategy, [{ capacityProvider: 'FARGATE', weight: 1, base: 1 }]);
    assert.deepEqual(cl.configuration, { executeCommandConfiguration: { logging: 'DEFAULT' } });

    const again = await t.ecs.send(new CreateClusterCommand({ clusterName: 'prod' }));
    assert.deepEqual(again.cluster, cl);
    const list = await t.ecs.send(new ListClustersCommand({}));
    assert.equal(list.clusterArns!.filter((a) => a === arnOf('prod')).length, 1);
  });

  test('a request that names no cluster uses `default`', async () => {
    const described = await t.ecs.send(new DescribeClustersCommand({}));
    assert.deepEqual(described.clusters, []);
    assert.deepEqual(described.failures, [{ arn: arnOf('default'), reason: 'MISSING' }]);
    const created = await t.ecs.send(new CreateClusterCommand({}));
    assert.equal(created.cluster!.clusterName, 'default');
    const again = await t.ecs.send(new DescribeClustersCommand({}));
    assert.deepEqual(again.clusters!.map((x) => x.clusterArn), [arnOf('default')]);
  });

  test('DescribeClusters by name and ARN; include sections appear only when asked for', async () => {
    await t.ecs.send(new CreateClusterCommand({ clusterName: 'inc', tags: [{ key: 'k', value: 'v' }], configuration: { executeCommandConfiguration: { logging: 'NONE' } } }));
    const bare = await t.ecs.send(new DescribeClustersCommand({ clusters: ['inc', arnOf('inc'), 'ghost'] }));
    assert.equal(bare.clusters!.length, 2);
    assert.deepEqual(bare.failures, [{ arn: arnOf('ghost'), reason: 'MISSING' }]);
    const one = bare.clusters![0]!;
    assert.equal(one.settings, undefined);
    assert.equal(one.configuration, undefined);
    assert.deepEqual(one.tags ?? [], []);
    assert.deepEqual(one.statistics ?? [], []);

    const full = await t.ecs.send(new DescribeClustersCommand({ clusters: ['inc'], include: ['SETTINGS', 'STATISTICS', 'TAGS', 'CONFIGURATIONS'] }));
    const cl = full.clusters![0]!;
    assert.deepEqual(cl.settings, [{ name: 'containerInsights', value: 'disabled' }]);
    assert.deepEqual(cl.tags, [{ key: 'k', value: 'v' }]);
    assert.deepEqual(cl.configuration, { executeCommandConfiguration: { logging: 'NONE' } });
    assert.equal(cl.statistics!.length, 10);
    assert.ok(cl.statistics!.every((s) => s.value === '0'));
  });

  test('counts and STATISTICS reflect tasks, services and instances in the store', async () => {
    await t.ecs.send(new CreateClusterCommand({ clusterName: 'busy' }));
    await t.app.store.write(async (tx) => {
      await tx.insert(c.tasks, 't1', taskDoc('busy', 't1', 'RUNNING'));
      await tx.insert(c.tasks, 't2', taskDoc('busy', 't2', 'RUNNING', 'FARGATE'));
      await tx.insert(c.tasks, 't3', taskDoc('busy', 't3', 'PENDING'));
      await tx.insert(c.tasks, 't4', taskDoc('busy', 't4', 'STOPPED'));
      await tx.insert(c.services, 's1', serviceDoc('busy', 's1', 'ACTIVE'));
      await tx.insert(c.services, 's2', serviceDoc('busy', 's2', 'ACTIVE', 'FARGATE'));
      await tx.insert(c.services, 's3', serviceDoc('busy', 's3', 'INACTIVE'));
      await tx.insert(c.containerInstances, 'i1', instanceDoc('busy', 'i1', 'ACTIVE'));
      await tx.insert(c.containerInstances, 'i2', instanceDoc('busy', 'i2', 'DRAINING'));
      await tx.insert(c.containerInstances, 'i3', instanceDoc('busy', 'i3', 'INACTIVE'));
    });
    const cl = (await t.ecs.send(new DescribeClustersCommand({ clusters: ['busy'], include: ['STATISTICS'] }))).clusters![0]!;
    assert.equal(cl.runningTasksCount, 2);
    assert.equal(cl.pendingTasksCount, 1);
    assert.equal(cl.activeServicesCount, 2);
    assert.equal(cl.registeredContainerInstancesCount, 2);
    const stats = Object.fromEntries(cl.statistics!.map((s) => [s.name, s.value]));
    assert.equal(stats.runningEC2TasksCount, '1');
    assert.equal(stats.runningFargateTasksCount, '1');
    assert.equal(stats.pendingEC2TasksCount, '1');
    assert.equal(stats.activeEC2ServiceCount, '1');
    assert.equal(stats.activeFargateServiceCount, '1');
  });

  test('DeleteCluster is refused while services, tasks or container instances remain, then succeeds', async () => {
    await t.ecs.send(new CreateClusterCommand({ clusterName: 'doomed' }));
    await t.app.store.write(async (tx) => {
      await tx.insert(c.services, 'ds', serviceDoc('doomed', 'svc', 'ACTIVE'));
      await tx.insert(c.tasks, 'dt', taskDoc('doomed', 'dt', 'RUNNING'));
      await tx.insert(c.containerInstances, 'di', instanceDoc('doomed', 'di', 'ACTIVE'));
    });
    const del = () => t.ecs.send(new DeleteClusterCommand({ cluster: 'doomed' }));
    await rejectsWith(del(), 'ClusterContainsServicesException');
    await t.app.store.write(async (tx) => void (await tx.delete(c.services, 'ds')));
    await rejectsWith(del(), 'ClusterContainsTasksException');
    await t.app.store.write(async (tx) => {
      const row = (await tx.get(c.tasks, 'dt'))!;
      await tx.update(c.tasks, row, { ...row.data, lastStatus: 'STOPPED', desiredStatus: 'STOPPED' });
    });
    await rejectsWith(del(), 'ClusterContainsContainerInstancesException');
    // Refusals changed nothing.
    assert.equal((await t.ecs.send(new DescribeClustersCommand({ clusters: ['doomed'] }))).clusters![0]!.status, 'ACTIVE');
    await t.app.store.write(async (tx) => {
      const row = (await tx.get(c.containerInstances, 'di'))!;
      await tx.update(c.containerInstances, row, { ...row.data, status: 'INACTIVE' });
    });

    const deleted = await del();
    assert.equal(deleted.cluster!.status, 'INACTIVE');
    const described = await t.ecs.send(new DescribeClustersCommand({ clusters: ['doomed'] }));
    assert.equal(described.clusters![0]!.status, 'INACTIVE');
    assert.ok(!(await t.ecs.send(new ListClustersCommand({}))).clusterArns!.includes(arnOf('doomed')));
    await rejectsWith(del(), 'ClusterNotFoundException');
    await rejectsWith(t.ecs.send(new UpdateClusterSettingsCommand({ cluster: 'doomed', settings: [{ name: 'containerInsights', value: 'enabled' }] })), 'ClusterNotFoundException');
    // Creating it again brings it back ACTIVE.
    assert.equal((await t.ecs.send(new CreateClusterCommand({ clusterName: 'doomed' }))).cluster!.status, 'ACTIVE');
  });

  test('UpdateCluster, UpdateClusterSettings and PutClusterCapacityProviders change what Describe shows', async () => {
    await t.ecs.send(new CreateClusterCommand({ clusterName: 'upd' }));
    const updated = await t.ecs.send(
      new UpdateClusterCommand({
        cluster: 'upd',
        settings: [{ name: 'containerInsights', value: 'enhanced' }],
        configuration: { executeCommandConfiguration: { logging: 'OVERRIDE', logConfiguration: { cloudWatchLogGroupName: '/ecs/exec' } } },
      }),
    );
    assert.deepEqual(updated.cluster!.settings, [{ name: 'containerInsights', value: 'enhanced' }]);
    const settings = await t.ecs.send(new UpdateClusterSettingsCommand({ cluster: arnOf('upd'), settings: [{ name: 'containerInsights', value: 'disabled' }] }));
    assert.deepEqual(settings.cluster!.settings, [{ name: 'containerInsights', value: 'disabled' }]);
    const cps = await t.ecs.send(
      new PutClusterCapacityProvidersCommand({
        cluster: 'upd',
        capacityProviders: ['FARGATE_SPOT'],
        defaultCapacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 2 }],
      }),
    );
    assert.deepEqual(cps.cluster!.capacityProviders, ['FARGATE_SPOT']);
    const cl = (await t.ecs.send(new DescribeClustersCommand({ clusters: ['upd'], include: ['SETTINGS', 'CONFIGURATIONS'] }))).clusters![0]!;
    assert.deepEqual(cl.settings, [{ name: 'containerInsights', value: 'disabled' }]);
    assert.deepEqual(cl.configuration, { executeCommandConfiguration: { logging: 'OVERRIDE', logConfiguration: { cloudWatchLogGroupName: '/ecs/exec' } } });
    assert.deepEqual(cl.defaultCapacityProviderStrategy, [{ capacityProvider: 'FARGATE_SPOT', weight: 2, base: 0 }]);

    await rejectsWith(t.ecs.send(new UpdateClusterSettingsCommand({ cluster: 'upd', settings: [{ name: 'containerInsights', value: 'sometimes' }] })), 'InvalidParameterException');
    await rejectsWith(
      t.ecs.send(new PutClusterCapacityProvidersCommand({ cluster: 'upd', capacityProviders: ['no-such-provider'], defaultCapacityProviderStrategy: [] })),
      'InvalidParameterException',
    );
    await rejectsWith(
      t.ecs.send(new PutClusterCapacityProvidersCommand({ cluster: 'upd', capacityProviders: ['FARGATE'], defaultCapacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT' }] })),
      'InvalidParameterException',
    );
    await rejectsWith(t.ecs.send(new UpdateClusterCommand({ cluster: 'nowhere', settings: [] })), 'ClusterNotFoundException');
    // Failed updates left the cluster as it was.
    assert.deepEqual((await t.ecs.send(new DescribeClustersCommand({ clusters: ['upd'] }))).clusters![0]!.capacityProviders, ['FARGATE_SPOT']);
  });

  test('bad cluster names, too many tags and bad settings are InvalidParameterException and create nothing', async () => {
    const before = (await t.ecs.send(new ListClustersCommand({}))).clusterArns;
    await rejectsWith(t.ecs.send(new CreateClusterCommand({ clusterName: 'bad name!' })), 'InvalidParameterException');
    await rejectsWith(t.ecs.send(new CreateClusterCommand({ clusterName: 'x'.repeat(256) })), 'InvalidParameterException');
    const tags = Array.from({ length: 51 }, (_, i) => ({ key: `k${i}`, value: 'v' }));
    await rejectsWith(t.ecs.send(new CreateClusterCommand({ clusterName: 'many-tags', tags })), 'InvalidParameterException');
    await rejectsWith(t.ecs.send(new CreateClusterCommand({ clusterName: 'bad-setting', settings: [{ name: 'containerInsights', value: 'maybe' }] })), 'InvalidParameterException');
    await rejectsWith(t.ecs.send(new CreateClusterCommand({ clusterName: 'bad-enum', settings: [{ name: 'nope' as never, value: 'enabled' }] })), 'InvalidParameterException');
    assert.deepEqual((await t.ecs.send(new ListClustersCommand({}))).clusterArns, before);
  });

  test('cluster tags through TagResource / UntagResource / ListTagsForResource', async () => {
    await t.ecs.send(new CreateClusterCommand({ clusterName: 'tags' }));
    await t.ecs.send(new TagResourceCommand({ resourceArn: arnOf('tags'), tags: [{ key: 'a', value: '1' }, { key: 'b', value: '2' }] }));
    await t.ecs.send(new UntagResourceCommand({ resourceArn: arnOf('tags'), tagKeys: ['a'] }));
    assert.deepEqual((await t.ecs.send(new ListTagsForResourceCommand({ resourceArn: arnOf('tags') }))).tags, [{ key: 'b', value: '2' }]);
    const cl = (await t.ecs.send(new DescribeClustersCommand({ clusters: ['tags'], include: ['TAGS'] }))).clusters![0]!;
    assert.deepEqual(cl.tags, [{ key: 'b', value: '2' }]);
    await rejectsWith(t.ecs.send(new TagResourceCommand({ resourceArn: arnOf('no-such'), tags: [{ key: 'a', value: '1' }] })), 'ClusterNotFoundException');
  });

  test('ListClusters pages with maxResults / nextToken', async () => {
    for (let i = 0; i < 12; i++) await t.ecs.send(new CreateClusterCommand({ clusterName: `page-${String(i).padStart(2, '0')}` }));
    const all = (await t.ecs.send(new ListClustersCommand({}))).clusterArns!;
    const paged: string[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const res = await t.ecs.send(new ListClustersCommand({ maxResults: 5, nextToken }));
      assert.ok(res.clusterArns!.length <= 5);
      paged.push(...res.clusterArns!);
      nextToken = res.nextToken;
      pages += 1;
    } while (nextToken && pages < 50);
    assert.deepEqual(paged, all);
    assert.equal(pages, Math.ceil(all.length / 5));
    assert.ok(all.includes(arnOf('page-11')));
    await rejectsWith(t.ecs.send(new ListClustersCommand({ maxResults: 101 })), 'InvalidParameterException');
  });
});
