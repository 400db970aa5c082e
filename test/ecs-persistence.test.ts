/** Restarting Dockyard on the same data directory loses nothing, and revisions continue. */
import {
  CreateClusterCommand,
  DeregisterTaskDefinitionCommand,
  DescribeClustersCommand,
  DescribeTaskDefinitionCommand,
  ListAccountSettingsCommand,
  ListClustersCommand,
  ListTaskDefinitionsCommand,
  PutAccountSettingCommand,
  RegisterTaskDefinitionCommand,
} from '@aws-sdk/client-ecs';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { maximalTaskDefinition } from './fixtures/maximal-task-definition.js';
import { startDockyard } from './helpers/dockyard.js';

test('clusters, task definitions, tags and account settings survive a restart; revisions continue', async () => {
  let t = await startDockyard({ accountId: '123456789012' });
  try {
    await t.ecs.send(new CreateClusterCommand({ clusterName: 'kept', tags: [{ key: 'k', value: 'v' }] }));
    await t.ecs.send(new CreateClusterCommand({ clusterName: 'gone' }));
    const maximal = (await t.ecs.send(new RegisterTaskDefinitionCommand(maximalTaskDefinition))).taskDefinition!;
    for (let i = 0; i < 3; i++) {
      await t.ecs.send(new RegisterTaskDefinitionCommand({ family: 'web', containerDefinitions: [{ name: 'web', image: `nginx:${i}`, memory: 64 }] }));
    }
    await t.ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: 'web:3' }));
    await t.ecs.send(new PutAccountSettingCommand({ name: 'containerInsights', value: 'enabled' }));
    const beforeList = (await t.ecs.send(new ListTaskDefinitionsCommand({}))).taskDefinitionArns;
    const beforeClusters = (await t.ecs.send(new DescribeClustersCommand({ clusters: ['kept'], include: ['TAGS', 'SETTINGS'] }))).clusters;

    t = await t.restart();

    assert.deepEqual((await t.ecs.send(new ListTaskDefinitionsCommand({}))).taskDefinitionArns, beforeList);
    const again = (await t.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: maximal.taskDefinitionArn! }))).taskDefinition!;
    assert.deepEqual(again, maximal);
    assert.equal((await t.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'web:3' }))).taskDefinition!.status, 'INACTIVE');
    assert.equal((await t.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'web' }))).taskDefinition!.revision, 2);
    const next = await t.ecs.send(new RegisterTaskDefinitionCommand({ family: 'web', containerDefinitions: [{ name: 'web', image: 'nginx:4', memory: 64 }] }));
    assert.equal(next.taskDefinition!.revision, 4);
    assert.deepEqual((await t.ecs.send(new DescribeClustersCommand({ clusters: ['kept'], include: ['TAGS', 'SETTINGS'] }))).clusters, beforeClusters);
    assert.equal((await t.ecs.send(new ListClustersCommand({}))).clusterArns!.length, 2);
    const settings = await t.ecs.send(new ListAccountSettingsCommand({ name: 'containerInsights' }));
    assert.equal(settings.settings![0]!.value, 'enabled');

    // And a second restart after writes made by the restarted server.
    t = await t.restart();
    assert.equal((await t.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'web' }))).taskDefinition!.containerDefinitions![0]!.image, 'nginx:4');
  } finally {
    await t.stop();
  }
});
