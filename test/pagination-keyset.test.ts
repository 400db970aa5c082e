/**
 * List operations page through an index with keyset tokens (the position of the last item
 * returned): items created between two pages neither repeat an item nor hide one that sorts after
 * the position, whatever page size; tokens from before the change (`{"after": key}`) still work;
 * a forged token is InvalidParameterException. Real SDK v3 clients against a test server.
 */
import {
  CreateClusterCommand,
  ListClustersCommand,
  ListContainerInstancesCommand,
  ListTaskDefinitionFamiliesCommand,
  ListTaskDefinitionsCommand,
  ListTasksCommand,
  RegisterContainerInstanceCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
} from '@aws-sdk/client-ecs';
import { CreateRepositoryCommand, DescribeRepositoriesCommand, ECRClient } from '@aws-sdk/client-ecr';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { rejectsWith } from './fixtures/aws-errors.js';
import { credentials, startDockyard, type TestDockyard } from './helpers/dockyard.js';

let t: TestDockyard;
let ecr: ECRClient;
const tdArn = (family: string, revision: number) => `arn:aws:ecs:us-east-1:000000000000:task-definition/${family}:${revision}`;
const register = (family: string) =>
  t.ecs.send(new RegisterTaskDefinitionCommand({ family, containerDefinitions: [{ name: 'app', image: 'example/app:1', memory: 16, cpu: 1 }] }));
const legacyToken = (key: string) => Buffer.from(JSON.stringify({ after: key })).toString('base64url');

before(async () => {
  t = await startDockyard();
  ecr = new ECRClient({ endpoint: t.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
});
after(async () => {
  ecr.destroy();
  await t.stop();
});

test('ListTaskDefinitions: a family registered between pages is not returned twice, and later ones still come', async () => {
  await register('c');
  await register('e');
  await register('a');
  const page1 = await t.ecs.send(new ListTaskDefinitionsCommand({ maxResults: 2 }));
  assert.deepEqual(page1.taskDefinitionArns, [tdArn('a', 1), tdArn('c', 1)]);
  // `b` sorts before the position, `d` after it, `c:2` right after it.
  await register('b');
  await register('d');
  await register('c');
  const page2 = await t.ecs.send(new ListTaskDefinitionsCommand({ maxResults: 2, nextToken: page1.nextToken }));
  assert.deepEqual(page2.taskDefinitionArns, [tdArn('c', 2), tdArn('d', 1)]);
  const page3 = await t.ecs.send(new ListTaskDefinitionsCommand({ maxResults: 2, nextToken: page2.nextToken }));
  assert.deepEqual(page3.taskDefinitionArns, [tdArn('e', 1)]);
  assert.equal(page3.nextToken, undefined);
  // DESC pages walk the same index backwards.
  const desc1 = await t.ecs.send(new ListTaskDefinitionsCommand({ maxResults: 3, sort: 'DESC' }));
  assert.deepEqual(desc1.taskDefinitionArns, [tdArn('e', 1), tdArn('d', 1), tdArn('c', 2)]);
  const desc2 = await t.ecs.send(new ListTaskDefinitionsCommand({ maxResults: 3, sort: 'DESC', nextToken: desc1.nextToken }));
  assert.deepEqual(desc2.taskDefinitionArns, [tdArn('c', 1), tdArn('b', 1), tdArn('a', 1)]);
  assert.equal(desc2.nextToken, undefined);
  // A token with the wrong shape for this list is refused, not misread.
  await rejectsWith(t.ecs.send(new ListTaskDefinitionsCommand({ nextToken: legacyToken('a') })), 'InvalidParameterException');
  await rejectsWith(t.ecs.send(new ListTaskDefinitionsCommand({ nextToken: Buffer.from('{"after":["a","1"]}').toString('base64url') })), 'InvalidParameterException');
});

test('ListTaskDefinitionFamilies: pages by family across inserts; an old-style token continues after its family', async () => {
  const page1 = await t.ecs.send(new ListTaskDefinitionFamiliesCommand({ maxResults: 2 }));
  assert.deepEqual(page1.families, ['a', 'b']);
  await register('aa'); // before the position: not seen on later pages
  await register('bb'); // after it
  const page2 = await t.ecs.send(new ListTaskDefinitionFamiliesCommand({ maxResults: 3, nextToken: page1.nextToken }));
  assert.deepEqual(page2.families, ['bb', 'c', 'd']);
  const page3 = await t.ecs.send(new ListTaskDefinitionFamiliesCommand({ maxResults: 3, nextToken: page2.nextToken }));
  assert.deepEqual(page3.families, ['e']);
  assert.equal(page3.nextToken, undefined);
  const legacy = await t.ecs.send(new ListTaskDefinitionFamiliesCommand({ nextToken: legacyToken('c') }));
  assert.deepEqual(legacy.families, ['d', 'e']);
});

test('ListClusters: clusters created between pages', async () => {
  for (const name of ['k2', 'k4']) await t.ecs.send(new CreateClusterCommand({ clusterName: name }));
  const arn = (name: string) => `arn:aws:ecs:us-east-1:000000000000:cluster/${name}`;
  const page1 = await t.ecs.send(new ListClustersCommand({ maxResults: 1 }));
  assert.deepEqual(page1.clusterArns, [arn('k2')]);
  for (const name of ['k1', 'k3']) await t.ecs.send(new CreateClusterCommand({ clusterName: name }));
  const page2 = await t.ecs.send(new ListClustersCommand({ maxResults: 5, nextToken: page1.nextToken }));
  assert.deepEqual(page2.clusterArns, [arn('k3'), arn('k4')]);
  assert.equal(page2.nextToken, undefined);
});

test('ListContainerInstances (with and without a filter) and ListTasks: pages stay right while instances and tasks are added', async () => {
  await t.ecs.send(new CreateClusterCommand({ clusterName: 'paged' }));
  const addInstance = async (zone: string) =>
    (
      await t.ecs.send(
        new RegisterContainerInstanceCommand({
          cluster: 'paged',
          totalResources: [
            { name: 'CPU', type: 'INTEGER', integerValue: 100_000 },
            { name: 'MEMORY', type: 'INTEGER', integerValue: 100_000 },
          ],
          attributes: [{ name: 'ecs.availability-zone', value: zone }],
        }),
      )
    ).containerInstance!.containerInstanceArn!;
  const zoneA: string[] = [];
  for (let i = 0; i < 7; i++) {
    const arn = await addInstance(i % 2 === 0 ? 'zone-a' : 'zone-b');
    if (i % 2 === 0) zoneA.push(arn);
  }
  const listAll = async (filter?: string) => {
    const out: string[] = [];
    let nextToken: string | undefined;
    for (let pages = 0; pages < 50; pages++) {
      const res = await t.ecs.send(new ListContainerInstancesCommand({ cluster: 'paged', filter, maxResults: 2, nextToken }));
      out.push(...res.containerInstanceArns!);
      // An instance added mid-listing sorts anywhere (random id): it is seen at most once.
      if (pages === 0) await addInstance('zone-c');
      nextToken = res.nextToken;
      if (!nextToken) return out;
    }
    throw new Error('pagination did not end');
  };
  const filtered = await listAll('attribute:ecs.availability-zone == zone-a');
  assert.deepEqual(filtered, [...zoneA].sort());
  const all = await listAll();
  assert.equal(new Set(all).size, all.length, 'no instance twice');
  assert.ok(all.length >= 8 && all.length <= 9, `${all.length} instances listed`);

  await register('paged-task');
  const run = async (n: number) => (await t.ecs.send(new RunTaskCommand({ cluster: 'paged', taskDefinition: 'paged-task', count: n }))).tasks!.map((x) => x.taskArn!);
  const first = [...(await run(10)), ...(await run(10))].sort();
  const page1 = await t.ecs.send(new ListTasksCommand({ cluster: 'paged', maxResults: 8 }));
  assert.deepEqual(page1.taskArns, first.slice(0, 8));
  const later = await run(10);
  const rest: string[] = [];
  let nextToken = page1.nextToken;
  while (nextToken) {
    const res = await t.ecs.send(new ListTasksCommand({ cluster: 'paged', maxResults: 8, nextToken }));
    rest.push(...res.taskArns!);
    nextToken = res.nextToken;
  }
  const position = first[7]!;
  const expected = [...first.slice(8), ...later.filter((arn) => arn > position)].sort();
  assert.deepEqual(rest, expected);
  await rejectsWith(t.ecs.send(new ListTasksCommand({ cluster: 'paged', nextToken: 'not-a-token' })), 'InvalidParameterException');
});

test('DescribeRepositories: repositories created between pages', async () => {
  for (const name of ['r2', 'r4', 'r6']) await ecr.send(new CreateRepositoryCommand({ repositoryName: name }));
  const page1 = await ecr.send(new DescribeRepositoriesCommand({ maxResults: 2 }));
  assert.deepEqual(page1.repositories!.map((r) => r.repositoryName), ['r2', 'r4']);
  for (const name of ['r1', 'r5']) await ecr.send(new CreateRepositoryCommand({ repositoryName: name }));
  const page2 = await ecr.send(new DescribeRepositoriesCommand({ maxResults: 2, nextToken: page1.nextToken }));
  assert.deepEqual(page2.repositories!.map((r) => r.repositoryName), ['r5', 'r6']);
  assert.ok(page2.repositories![0]!.repositoryUri?.endsWith('/r5'));
  assert.equal(page2.nextToken, undefined);
  await rejectsWith(ecr.send(new DescribeRepositoriesCommand({ nextToken: 'garbage!' })), 'InvalidParameterException');
});
