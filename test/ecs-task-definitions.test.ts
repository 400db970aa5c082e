/**
 * Task definitions through the AWS SDK v3 (and raw awsJson1_1 where the SDK would hide a wire
 * detail): full-shape round trip, cpu/memory strings, revisions, computed fields, describe by
 * family / family:revision / ARN, list and families with pagination, deregister, delete, tags.
 */
import {
  DeleteTaskDefinitionsCommand,
  DeregisterTaskDefinitionCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  ListTagsForResourceCommand,
  ListTaskDefinitionFamiliesCommand,
  ListTaskDefinitionsCommand,
  RegisterTaskDefinitionCommand,
  TagResourceCommand,
  UntagResourceCommand,
  type ContainerDefinition,
  type ListTaskDefinitionsCommandInput,
  type RegisterTaskDefinitionCommandInput,
} from '@aws-sdk/client-ecs';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadModel } from '../src/aws/model.js';
import { rejectsWith } from './fixtures/aws-errors.js';
import { maximalTaskDefinition } from './fixtures/maximal-task-definition.js';
import { unsetMembers } from './fixtures/model-coverage.js';
import { credentials, startDockyard, type TestDockyard } from './helpers/dockyard.js';
import { LATER_CONTAINER_DEFAULTS, recordedRegistration, withEcsDefaults } from './helpers/ecs-defaults.js';
import { ECS_TARGET, signedJsonCall } from './helpers/sign.js';

const ACCOUNT = '123456789012';

/** A small valid EC2 definition. */
const simple = (family: string, extra: Partial<RegisterTaskDefinitionCommandInput> = {}): RegisterTaskDefinitionCommandInput => ({
  family,
  containerDefinitions: [{ name: 'main', image: 'busybox', memory: 64 }],
  ...extra,
});

/** Drops `undefined` members so deep equality compares what is on the wire. */
const plain = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

async function rawCall(t: TestDockyard, operation: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const { status, json } = await signedJsonCall(t.endpoint, `${ECS_TARGET}.${operation}`, body);
  return { status, json };
}

describe('task definitions (SDK v3)', () => {
  let t: TestDockyard;
  before(async () => {
    t = await startDockyard({ accountId: ACCOUNT });
  });
  after(() => t.stop());

  test('the maximal fixture sets every member the service model declares', () => {
    const model = loadModel('ecs');
    assert.deepEqual(unsetMembers(model, 'RegisterTaskDefinitionRequest', maximalTaskDefinition), []);
  });

  test('every member of a maximal task definition comes back from Register and Describe', async () => {
    const before = Date.now();
    const registered = await t.ecs.send(new RegisterTaskDefinitionCommand(maximalTaskDefinition));
    const td = registered.taskDefinition!;
    const { tags, containerDefinitions, ...taskLevel } = maximalTaskDefinition;

    assert.deepEqual(plain(td.containerDefinitions), plain(containerDefinitions.map((ct) => withEcsDefaults(ct as ContainerDefinition))));
    for (const [name, value] of Object.entries(taskLevel)) {
      assert.deepEqual(plain((td as Record<string, unknown>)[name]), plain(value), `task-level member ${name}`);
    }
    assert.equal(td.taskDefinitionArn, `arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/maximal-app:1`);
    assert.equal(td.revision, 1);
    assert.equal(td.status, 'ACTIVE');
    assert.deepEqual(td.compatibilities, ['EC2']);
    assert.equal(td.registeredBy, `arn:aws:iam::${ACCOUNT}:root`);
    assert.ok(td.registeredAt instanceof Date, 'registeredAt is a Date in the SDK');
    assert.ok(td.registeredAt.getTime() >= before - 1000 && td.registeredAt.getTime() <= Date.now() + 1000);
    const attrs = td.requiresAttributes!.map((a) => a.name);
    for (const expected of [
      'com.amazonaws.ecs.capability.task-iam-role',
      'com.amazonaws.ecs.capability.logging-driver.awslogs',
      'ecs.capability.execution-role-awslogs',
      'ecs.capability.container-health-check',
      'ecs.capability.container-ordering',
      'ecs.capability.secrets.asm.environment-variables',
      'ecs.capability.secrets.ssm.environment-variables',
      'ecs.capability.env-files.s3',
      'com.amazonaws.ecs.capability.private-registry-authentication.secretsmanager',
      'com.amazonaws.ecs.capability.docker-remote-api.1.21',
    ]) {
      assert.ok(attrs.includes(expected), `requiresAttributes has ${expected}: ${attrs.join(', ')}`);
    }
    assert.deepEqual(registered.tags, tags);

    // Describe by family, family:revision and ARN all return the same definition.
    for (const ref of ['maximal-app', 'maximal-app:1', td.taskDefinitionArn!]) {
      const described = await t.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: ref }));
      assert.deepEqual(plain(described.taskDefinition), plain(td), `describe ${ref}`);
      assert.equal(described.tags, undefined, 'tags only with include TAGS');
    }
    const withTags = await t.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'maximal-app', include: ['TAGS'] }));
    assert.deepEqual(withTags.tags, tags);
  });

  test("a recorded AWS exchange: the recorded request registers and the response matches AWS's recorded one", async () => {
    // AWS's own RegisterTaskDefinition example (botocore), sent over the wire as recorded.
    const { input, output } = recordedRegistration as unknown as { input: Record<string, unknown>; output: { taskDefinition: Record<string, unknown> } };
    const reg = await rawCall(t, 'RegisterTaskDefinition', input);
    assert.equal(reg.status, 200, JSON.stringify(reg.json));
    const got = reg.json.taskDefinition as Record<string, unknown>;
    const want = output.taskDefinition;
    // Members AWS has added since the 2016 recording, and nothing else, are allowed on top of it.
    const later = Object.keys(LATER_CONTAINER_DEFAULTS).filter((k) => !(k in (want.containerDefinitions as object[])[0]!));
    const containers = (got.containerDefinitions as Record<string, unknown>[]).map((ct) => Object.fromEntries(Object.entries(ct).filter(([k]) => !later.includes(k))));
    assert.deepEqual(containers, want.containerDefinitions);
    assert.deepEqual(later, ['systemControls']);
    for (const name of ['family', 'revision', 'volumes'] as const) assert.deepEqual(got[name], want[name], name);
    assert.match(String(got.taskDefinitionArn), new RegExp(`^arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/sleep360:1$`));
  });

  test('the wire form of a described definition carries every sent member, registeredAt as epoch seconds', async () => {
    const { tags: _tags, ...sent } = { ...maximalTaskDefinition, family: 'maximal-raw' };
    const reg = await rawCall(t, 'RegisterTaskDefinition', { ...sent, tags: _tags });
    assert.equal(reg.status, 200);
    const described = await rawCall(t, 'DescribeTaskDefinition', { taskDefinition: 'maximal-raw:1', include: ['TAGS'] });
    const td = described.json.taskDefinition as Record<string, unknown>;
    assert.equal(typeof td.registeredAt, 'number');
    assert.ok(Math.abs((td.registeredAt as number) - Date.now() / 1000) < 60);
    const { containerDefinitions, ...taskLevel } = sent;
    assert.deepEqual(td.containerDefinitions, plain(containerDefinitions.map((ct) => withEcsDefaults(ct as ContainerDefinition))));
    for (const [name, value] of Object.entries(taskLevel)) assert.deepEqual(td[name], value, name);
    assert.deepEqual(described.json.tags, _tags);
    // Nothing outside the TaskDefinition shape leaks (internal bookkeeping like accountId/region).
    const model = loadModel('ecs');
    const allowed = new Set(Object.keys(model.shapes.TaskDefinition!.members!));
    assert.deepEqual(Object.keys(td).filter((k) => !allowed.has(k)), []);
  });

  test('task cpu and memory accept vCPU / GB strings and numbers, normalised to units and MiB', async () => {
    const cases: [cpu: string, memory: string, wantCpu: string, wantMemory: string][] = [
      ['1 vCPU', '3GB', '1024', '3072'],
      ['0.25 vcpu', '0.5GB', '256', '512'],
      ['2 vCPU', '4 GB', '2048', '4096'],
      ['512', '1024', '512', '1024'],
      ['4096', '8192', '4096', '8192'],
    ];
    for (const [i, [cpu, memory, wantCpu, wantMemory]] of cases.entries()) {
      const family = `sizes-${i}`;
      const res = await t.ecs.send(
        new RegisterTaskDefinitionCommand({
          family,
          cpu,
          memory,
          networkMode: 'awsvpc',
          requiresCompatibilities: ['FARGATE'],
          containerDefinitions: [{ name: 'web', image: 'nginx:1.25', portMappings: [{ containerPort: 80 }] }],
        }),
      );
      assert.equal(res.taskDefinition!.cpu, wantCpu, `cpu ${cpu}`);
      assert.equal(res.taskDefinition!.memory, wantMemory, `memory ${memory}`);
      assert.deepEqual(res.taskDefinition!.compatibilities, ['EC2', 'FARGATE']);
      assert.deepEqual(res.taskDefinition!.requiresCompatibilities, ['FARGATE']);
    }
  });

  test('revisions are numbered per family from 1 and describe by family picks the latest ACTIVE one', async () => {
    for (let i = 1; i <= 3; i++) {
      const res = await t.ecs.send(new RegisterTaskDefinitionCommand(simple('rev-a', { containerDefinitions: [{ name: 'main', image: `busybox:${i}`, memory: 64 }] })));
      assert.equal(res.taskDefinition!.revision, i);
    }
    assert.equal((await t.ecs.send(new RegisterTaskDefinitionCommand(simple('rev-b')))).taskDefinition!.revision, 1);
    const latest = await t.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'rev-a' }));
    assert.equal(latest.taskDefinition!.revision, 3);
    assert.equal(latest.taskDefinition!.containerDefinitions![0]!.image, 'busybox:3');
    const second = await t.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'rev-a:2' }));
    assert.equal(second.taskDefinition!.containerDefinitions![0]!.image, 'busybox:2');

    await t.ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: 'rev-a:3' }));
    assert.equal((await t.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'rev-a' }))).taskDefinition!.revision, 2);
    // An INACTIVE revision is still describable by revision, as in ECS.
    const inactive = await t.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'rev-a:3' }));
    assert.equal(inactive.taskDefinition!.status, 'INACTIVE');
    // Revisions continue after the highest one even when it was deregistered.
    assert.equal((await t.ecs.send(new RegisterTaskDefinitionCommand(simple('rev-a')))).taskDefinition!.revision, 4);
  });

  test('describe shows changes made after an earlier describe of the same revision (tags, deregister)', async () => {
    const arn = (await t.ecs.send(new RegisterTaskDefinitionCommand(simple('seen-twice', { tags: [{ key: 'v', value: '1' }] })))).taskDefinition!.taskDefinitionArn!;
    const first = await t.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'seen-twice:1', include: ['TAGS'] }));
    assert.deepEqual(first.tags, [{ key: 'v', value: '1' }]);
    await t.ecs.send(new TagResourceCommand({ resourceArn: arn, tags: [{ key: 'v', value: '2' }] }));
    const retagged = await t.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'seen-twice:1', include: ['TAGS'] }));
    assert.deepEqual(retagged.tags, [{ key: 'v', value: '2' }]);
    await t.ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: arn }));
    const after = await t.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: arn }));
    assert.equal(after.taskDefinition!.status, 'INACTIVE');
    assert.ok(after.taskDefinition!.deregisteredAt instanceof Date);
    assert.deepEqual(plain({ ...after.taskDefinition, status: 'ACTIVE', deregisteredAt: undefined }), plain(first.taskDefinition));
    await rejectsWith(t.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'seen-twice' })), 'ClientException');
  });

  test('describe of an unknown family, revision or ARN is a ClientException', async () => {
    await rejectsWith(t.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'no-such-family' })), 'ClientException', /Unable to describe task definition/);
    await rejectsWith(t.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'rev-b:99' })), 'ClientException');
    await rejectsWith(
      t.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: `arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/nope:1` })),
      'ClientException',
    );
  });

  test('deregister marks a revision INACTIVE with deregisteredAt; it needs a revision and an existing definition', async () => {
    await t.ecs.send(new RegisterTaskDefinitionCommand(simple('dereg')));
    const res = await t.ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: 'dereg:1' }));
    assert.equal(res.taskDefinition!.status, 'INACTIVE');
    assert.ok(res.taskDefinition!.deregisteredAt instanceof Date);
    await rejectsWith(t.ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: 'dereg' })), 'ClientException');
    await rejectsWith(t.ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: 'dereg:7' })), 'ClientException');
    await rejectsWith(t.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'dereg' })), 'ClientException');
  });

  test('DeleteTaskDefinitions deletes only INACTIVE revisions and reports the others as failures', async () => {
    await t.ecs.send(new RegisterTaskDefinitionCommand(simple('del')));
    await t.ecs.send(new RegisterTaskDefinitionCommand(simple('del')));
    await t.ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: 'del:1' }));
    const res = await t.ecs.send(new DeleteTaskDefinitionsCommand({ taskDefinitions: ['del:1', 'del:2', 'del:9'] }));
    assert.deepEqual(res.taskDefinitions!.map((d) => [d.taskDefinitionArn, d.status]), [
      [`arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/del:1`, 'DELETE_IN_PROGRESS'],
    ]);
    assert.ok(res.taskDefinitions![0]!.deleteRequestedAt instanceof Date);
    assert.equal(res.failures!.length, 2);
    assert.match(res.failures![0]!.reason!, /ACTIVE/);
    const deleting = await t.ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: 'del', status: 'DELETE_IN_PROGRESS' }));
    assert.deepEqual(deleting.taskDefinitionArns, [`arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/del:1`]);
    const inactive = await t.ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: 'del', status: 'INACTIVE' }));
    assert.deepEqual(inactive.taskDefinitionArns, []);
    await rejectsWith(t.ecs.send(new DeleteTaskDefinitionsCommand({ taskDefinitions: [] })), 'InvalidParameterException');
    // Revision numbers are never reused.
    assert.equal((await t.ecs.send(new RegisterTaskDefinitionCommand(simple('del')))).taskDefinition!.revision, 3);
  });

  test('tags: TagResource, UntagResource and ListTagsForResource on a task definition', async () => {
    const arn = (await t.ecs.send(new RegisterTaskDefinitionCommand(simple('tagged', { tags: [{ key: 'a', value: '1' }] })))).taskDefinition!.taskDefinitionArn!;
    await t.ecs.send(new TagResourceCommand({ resourceArn: arn, tags: [{ key: 'b', value: '2' }, { key: 'a', value: 'one' }] }));
    assert.deepEqual((await t.ecs.send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags, [
      { key: 'a', value: 'one' },
      { key: 'b', value: '2' },
    ]);
    await t.ecs.send(new UntagResourceCommand({ resourceArn: arn, tagKeys: ['a', 'not-there'] }));
    assert.deepEqual((await t.ecs.send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags, [{ key: 'b', value: '2' }]);
    const described = await t.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: arn, include: ['TAGS'] }));
    assert.deepEqual(described.tags, [{ key: 'b', value: '2' }]);

    const fifty = Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: 'v' }));
    await rejectsWith(t.ecs.send(new TagResourceCommand({ resourceArn: arn, tags: fifty })), 'InvalidParameterException');
    await rejectsWith(t.ecs.send(new TagResourceCommand({ resourceArn: arn, tags: [{ key: 'aws:owner', value: 'x' }] })), 'InvalidParameterException');
    assert.deepEqual((await t.ecs.send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags, [{ key: 'b', value: '2' }]);
    await rejectsWith(
      t.ecs.send(new ListTagsForResourceCommand({ resourceArn: `arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/ghost:1` })),
      'InvalidParameterException',
    );
    await rejectsWith(t.ecs.send(new ListTagsForResourceCommand({ resourceArn: 'not-an-arn' })), 'InvalidParameterException');
  });
});

describe('ListTaskDefinitions and ListTaskDefinitionFamilies', () => {
  let t: TestDockyard;
  const arn = (family: string, revision: number) => `arn:aws:ecs:us-east-1:000000000000:task-definition/${family}:${revision}`;
  before(async () => {
    t = await startDockyard();
    // 105 revisions of `big`, 3 of `web`, 2 of `web-worker`, one INACTIVE family `old`.
    for (let i = 0; i < 105; i++) await t.ecs.send(new RegisterTaskDefinitionCommand(simple('big')));
    for (let i = 0; i < 3; i++) await t.ecs.send(new RegisterTaskDefinitionCommand(simple('web')));
    for (let i = 0; i < 2; i++) await t.ecs.send(new RegisterTaskDefinitionCommand(simple('web-worker')));
    await t.ecs.send(new RegisterTaskDefinitionCommand(simple('old')));
    await t.ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: 'old:1' }));
    await t.ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: 'web:2' }));
  });
  after(() => t.stop());

  async function listAll(input: ListTaskDefinitionsCommandInput): Promise<{ arns: string[]; pages: number }> {
    const arns: string[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const res = await t.ecs.send(new ListTaskDefinitionsCommand({ ...input, nextToken }));
      arns.push(...res.taskDefinitionArns!);
      nextToken = res.nextToken;
      pages += 1;
      assert.ok(pages < 200, 'pagination terminates');
    } while (nextToken);
    return { arns, pages };
  }

  test('default page is 100; nextToken continues without gaps or repeats', async () => {
    const first = await t.ecs.send(new ListTaskDefinitionsCommand({}));
    assert.equal(first.taskDefinitionArns!.length, 100);
    assert.ok(first.nextToken);
    const all = await listAll({});
    const expected = [
      ...Array.from({ length: 105 }, (_, i) => arn('big', i + 1)),
      arn('web', 1),
      arn('web', 3),
      arn('web-worker', 1),
      arn('web-worker', 2),
    ];
    assert.deepEqual(all.arns, expected);
    assert.equal(all.pages, 2);
    const small = await listAll({ maxResults: 7 });
    assert.deepEqual(small.arns, expected);
    assert.equal(small.pages, Math.ceil(expected.length / 7));
  });

  test('sort DESC reverses family and revision order across pages', async () => {
    const desc = await listAll({ sort: 'DESC', maxResults: 50 });
    assert.equal(desc.arns[0], arn('web-worker', 2));
    assert.equal(desc.arns.at(-1), arn('big', 1));
    assert.equal(desc.arns.length, 109);
  });

  test('familyPrefix selects one family (ECS matches the whole name) and status selects INACTIVE', async () => {
    assert.deepEqual((await listAll({ familyPrefix: 'web' })).arns, [arn('web', 1), arn('web', 3)]);
    assert.deepEqual((await listAll({ status: 'INACTIVE' })).arns, [arn('old', 1), arn('web', 2)]);
    assert.deepEqual((await listAll({ familyPrefix: 'web', status: 'INACTIVE' })).arns, [arn('web', 2)]);
  });

  test('bad maxResults and nextToken are InvalidParameterException', async () => {
    await rejectsWith(t.ecs.send(new ListTaskDefinitionsCommand({ maxResults: 0 })), 'InvalidParameterException');
    await rejectsWith(t.ecs.send(new ListTaskDefinitionsCommand({ maxResults: 101 })), 'InvalidParameterException');
    await rejectsWith(t.ecs.send(new ListTaskDefinitionsCommand({ nextToken: 'garbage!' })), 'InvalidParameterException');
    await rejectsWith(
      t.ecs.send(new ListTaskDefinitionsCommand({ status: 'BOGUS' as never })),
      'InvalidParameterException',
      /enum value set/,
    );
  });

  test('ListTaskDefinitionFamilies: prefix match, ACTIVE / INACTIVE / ALL, pagination', async () => {
    const fams = (input: { familyPrefix?: string; status?: 'ACTIVE' | 'INACTIVE' | 'ALL' }) =>
      t.ecs.send(new ListTaskDefinitionFamiliesCommand(input)).then((r) => r.families);
    assert.deepEqual(await fams({}), ['big', 'old', 'web', 'web-worker']);
    assert.deepEqual(await fams({ familyPrefix: 'web' }), ['web', 'web-worker']);
    assert.deepEqual(await fams({ status: 'ACTIVE' }), ['big', 'web', 'web-worker']);
    assert.deepEqual(await fams({ status: 'INACTIVE' }), ['old']);
    const page1 = await t.ecs.send(new ListTaskDefinitionFamiliesCommand({ maxResults: 3 }));
    assert.deepEqual(page1.families, ['big', 'old', 'web']);
    const page2 = await t.ecs.send(new ListTaskDefinitionFamiliesCommand({ maxResults: 3, nextToken: page1.nextToken }));
    assert.deepEqual(page2.families, ['web-worker']);
    assert.equal(page2.nextToken, undefined);
  });
});

describe('ARNs follow the account id and the SigV4 region', () => {
  let t: TestDockyard;
  let euWest: ECSClient;
  before(async () => {
    t = await startDockyard({ accountId: ACCOUNT });
    euWest = new ECSClient({ endpoint: t.endpoint, region: 'eu-west-1', credentials, maxAttempts: 1 });
  });
  after(async () => {
    euWest.destroy();
    await t.stop();
  });

  test('a client in eu-west-1 gets eu-west-1 ARNs and resources separate from us-east-1', async () => {
    const eu = await euWest.send(new RegisterTaskDefinitionCommand(simple('regional')));
    assert.equal(eu.taskDefinition!.taskDefinitionArn, `arn:aws:ecs:eu-west-1:${ACCOUNT}:task-definition/regional:1`);
    assert.equal(eu.taskDefinition!.registeredBy, `arn:aws:iam::${ACCOUNT}:root`);
    await rejectsWith(t.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'regional' })), 'ClientException');
    const us = await t.ecs.send(new RegisterTaskDefinitionCommand(simple('regional')));
    assert.equal(us.taskDefinition!.taskDefinitionArn, `arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/regional:1`);
    assert.equal((await euWest.send(new RegisterTaskDefinitionCommand(simple('regional')))).taskDefinition!.revision, 2);
    assert.deepEqual((await euWest.send(new ListTaskDefinitionsCommand({}))).taskDefinitionArns, [
      `arn:aws:ecs:eu-west-1:${ACCOUNT}:task-definition/regional:1`,
      `arn:aws:ecs:eu-west-1:${ACCOUNT}:task-definition/regional:2`,
    ]);
  });
});

