/**
 * Services with the EXTERNAL deployment controller and their task sets, through the API only (no
 * host: tasks are never placed): CreateService's rules for EXTERNAL and CODE_DEPLOY, the five
 * task-set operations with SDK v3 and both AWS CLIs, their ECS errors, and refusals that leave
 * nothing behind.
 */
import {
  CreateClusterCommand,
  CreateServiceCommand,
  CreateTaskSetCommand,
  DeleteServiceCommand,
  DeleteTaskSetCommand,
  DescribeServicesCommand,
  DescribeTaskSetsCommand,
  ListTagsForResourceCommand,
  RegisterTaskDefinitionCommand,
  TagResourceCommand,
  UpdateServiceCommand,
  UpdateServicePrimaryTaskSetCommand,
  UpdateTaskSetCommand,
  type CreateTaskSetCommandInput,
} from '@aws-sdk/client-ecs';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { AWS_CLI_V2, requireCliV1, runCli } from './helpers/aws-cli.js';
import { startDockyard, type TestDockyard } from './helpers/dockyard.js';

let d: TestDockyard;
const CLUSTER = 'ext';

before(async () => {
  d = await startDockyard({ serviceControllerIdleMs: 300 });
  await d.ecs.send(new CreateClusterCommand({ clusterName: CLUSTER }));
  await d.ecs.send(new RegisterTaskDefinitionCommand({ family: 'a', containerDefinitions: [{ name: 'app', image: 'x', memory: 32, portMappings: [{ containerPort: 80 }] }] }));
  await d.ecs.send(new RegisterTaskDefinitionCommand({ family: 'a', containerDefinitions: [{ name: 'app', image: 'y', memory: 32, portMappings: [{ containerPort: 80 }] }] }));
  await d.ecs.send(new RegisterTaskDefinitionCommand({ family: 'vpc', networkMode: 'awsvpc', containerDefinitions: [{ name: 'app', image: 'x', memory: 32 }] }));
});
after(() => d.stop());

const rejects = async (p: Promise<unknown>, name: string, message: RegExp) =>
  assert.rejects(p, (e: Error & { name: string; $metadata?: { httpStatusCode?: number } }) => {
    assert.equal(e.name, name);
    assert.match(e.message, message);
    assert.equal(e.$metadata?.httpStatusCode, 400);
    return true;
  });

const createService = (name: string, extra: Record<string, unknown> = {}) =>
  d.ecs.send(new CreateServiceCommand({ cluster: CLUSTER, serviceName: name, desiredCount: 4, deploymentController: { type: 'EXTERNAL' }, ...extra }));
const createSet = (o: Partial<CreateTaskSetCommandInput>) => d.ecs.send(new CreateTaskSetCommand({ cluster: CLUSTER, service: 'ext', taskDefinition: 'a:1', ...o }));
const sets = async (service = 'ext') => (await d.ecs.send(new DescribeTaskSetsCommand({ cluster: CLUSTER, service }))).taskSets ?? [];
const service = async (name: string) => (await d.ecs.send(new DescribeServicesCommand({ cluster: CLUSTER, services: [name] }))).services?.[0];

/** Polls (bounded in count and time) until `pred` holds. */
async function until<T>(what: string, get: () => Promise<T>, pred: (v: T) => boolean): Promise<T> {
  let v = await get();
  for (let i = 0; i < 150 && !pred(v); i++) {
    await sleep(100);
    v = await get();
  }
  assert.ok(pred(v), `${what}: ${JSON.stringify(v)}`);
  return v;
}

describe('EXTERNAL deployment controller: services', () => {
  it('CreateService refuses CODE_DEPLOY, DAEMON and task-set parameters, and creates nothing', async () => {
    await rejects(createService('x', { deploymentController: { type: 'CODE_DEPLOY' } }), 'InvalidParameterException', /CODE_DEPLOY deployment controller is not supported.*EXTERNAL/);
    await rejects(createService('x', { taskDefinition: 'a:1' }), 'InvalidParameterException', /taskDefinition cannot be specified for a service with the EXTERNAL deployment controller/);
    await rejects(createService('x', { loadBalancers: [{ targetGroupArn: 'arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/t/1', containerName: 'app', containerPort: 80 }] }), 'InvalidParameterException', /loadBalancers/);
    await rejects(createService('x', { networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-1'] } } }), 'InvalidParameterException', /networkConfiguration/);
    await rejects(createService('x', { launchType: 'EC2' }), 'InvalidParameterException', /launchType/);
    await rejects(createService('x', { schedulingStrategy: 'DAEMON', desiredCount: undefined }), 'InvalidParameterException', /DAEMON/);
    assert.equal(await service('x'), undefined);
  });

  it('CreateService with EXTERNAL: no task definition, no deployments, task sets instead', async () => {
    const s = (await createService('ext', { tags: [{ key: 'team', value: 'a' }] })).service!;
    assert.deepEqual(s.deploymentController, { type: 'EXTERNAL' });
    assert.equal(s.status, 'ACTIVE');
    assert.equal(s.desiredCount, 4);
    assert.equal(s.taskDefinition, undefined);
    // No PRIMARY task set yet: the task-set fields are absent.
    assert.equal(s.launchType, undefined);
    assert.equal(s.loadBalancers, undefined);
    assert.deepEqual(s.taskSets, []);
    assert.equal(s.deployments, undefined);
    assert.deepEqual(s.tags, [{ key: 'team', value: 'a' }]);
  });
});

describe('EXTERNAL deployment controller: task sets', () => {
  let first: string;
  let second: string;

  it('CreateTaskSet: the TaskSet shape, scale, defaults and an idempotent client token', async () => {
    const t = (await createSet({ externalId: 'deploy-1', scale: { value: 100, unit: 'PERCENT' }, clientToken: 'tok-1', tags: [{ key: 'k', value: 'v' }] })).taskSet!;
    first = t.id!;
    assert.match(t.id!, /^ecs-svc\/\d{19}$/);
    assert.equal(t.taskSetArn, `arn:aws:ecs:us-east-1:000000000000:task-set/${CLUSTER}/ext/${t.id}`);
    assert.equal(t.serviceArn, `arn:aws:ecs:us-east-1:000000000000:service/${CLUSTER}/ext`);
    assert.equal(t.clusterArn, `arn:aws:ecs:us-east-1:000000000000:cluster/${CLUSTER}`);
    assert.equal(t.status, 'ACTIVE');
    assert.equal(t.externalId, 'deploy-1');
    assert.equal(t.taskDefinition, 'arn:aws:ecs:us-east-1:000000000000:task-definition/a:1');
    assert.equal(t.computedDesiredCount, 4);
    assert.equal(t.runningCount, 0);
    assert.equal(t.pendingCount, 0);
    assert.equal(t.launchType, 'EC2');
    assert.deepEqual(t.scale, { value: 100, unit: 'PERCENT' });
    assert.equal(t.stabilityStatus, 'STABILIZING');
    assert.ok(t.createdAt instanceof Date && t.updatedAt instanceof Date && t.stabilityStatusAt instanceof Date);
    assert.deepEqual(t.tags, [{ key: 'k', value: 'v' }]);
    const again = (await createSet({ externalId: 'deploy-1', scale: { value: 100, unit: 'PERCENT' }, clientToken: 'tok-1', tags: [{ key: 'k', value: 'v' }] })).taskSet!;
    assert.equal(again.id, t.id);
    await rejects(createSet({ externalId: 'other', clientToken: 'tok-1' }), 'InvalidParameterException', /not idempotent/);
    const s2 = (await createSet({ taskDefinition: 'a:2', scale: { value: 50, unit: 'PERCENT' } })).taskSet!;
    second = s2.id!;
    assert.equal(s2.computedDesiredCount, 2);
    assert.equal((await sets()).length, 2);
  });

  it('CreateTaskSet refuses bad input with ECS errors and creates nothing', async () => {
    await rejects(createSet({ service: 'missing' }), 'ServiceNotFoundException', /Service not found/);
    await rejects(createSet({ cluster: 'missing' }), 'ClusterNotFoundException', /Cluster not found/);
    await rejects(createSet({ scale: { value: 101, unit: 'PERCENT' } }), 'InvalidParameterException', /Scale value/);
    await rejects(createSet({ scale: { value: -1, unit: 'PERCENT' } }), 'InvalidParameterException', /Scale value/);
    await rejects(createSet({ taskDefinition: 'nope' }), 'ClientException', /Unable to find task definition/);
    await rejects(createSet({ taskDefinition: 'vpc' }), 'InvalidParameterException', /Network Configuration must be provided/);
    await rejects(createSet({ launchType: 'EC2', capacityProviderStrategy: [{ capacityProvider: 'FARGATE' }] }), 'InvalidParameterException', /launchType and capacityProviderStrategy/);
    await rejects(createSet({ loadBalancers: [{ targetGroupArn: 'arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/none/1', containerName: 'app', containerPort: 80 }] }), 'InvalidParameterException', /Unable to find target group/);
    await rejects(createSet({ loadBalancers: [{ targetGroupArn: 'arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/none/1', containerName: 'nope', containerPort: 80 }] }), 'InvalidParameterException', /container nope does not exist/);
    // A service with the ECS controller has no task sets.
    await d.ecs.send(new CreateServiceCommand({ cluster: CLUSTER, serviceName: 'plain', taskDefinition: 'a:1', desiredCount: 0 }));
    await rejects(createSet({ service: 'plain' }), 'InvalidParameterException', /EXTERNAL deployment controller/);
    await rejects(d.ecs.send(new DescribeTaskSetsCommand({ cluster: CLUSTER, service: 'plain' })), 'InvalidParameterException', /EXTERNAL deployment controller/);
    assert.equal((await sets()).length, 2);
  });

  it('DescribeTaskSets: by ID and ARN, MISSING failures, TAGS only when asked', async () => {
    const all = await sets();
    assert.deepEqual(all.map((s) => s.id), [first, second]);
    assert.equal(all[0]!.tags, undefined);
    const arn = all[1]!.taskSetArn!;
    const out = await d.ecs.send(new DescribeTaskSetsCommand({ cluster: CLUSTER, service: 'ext', taskSets: [first, arn, 'ecs-svc/1234567890123456789'], include: ['TAGS'] }));
    assert.deepEqual(out.taskSets!.map((s) => s.id), [first, second]);
    assert.deepEqual(out.taskSets![0]!.tags, [{ key: 'k', value: 'v' }]);
    assert.deepEqual(out.failures, [{ arn: `arn:aws:ecs:us-east-1:000000000000:task-set/${CLUSTER}/ext/ecs-svc/1234567890123456789`, reason: 'MISSING' }]);
    await rejects(d.ecs.send(new DescribeTaskSetsCommand({ cluster: CLUSTER, service: 'missing' })), 'ServiceNotFoundException', /Service not found/);
    // TagResource / ListTagsForResource take a task set's ARN.
    await d.ecs.send(new TagResourceCommand({ resourceArn: all[0]!.taskSetArn!, tags: [{ key: 'k2', value: 'v2' }] }));
    assert.deepEqual((await d.ecs.send(new ListTagsForResourceCommand({ resourceArn: all[0]!.taskSetArn! }))).tags, [
      { key: 'k', value: 'v' },
      { key: 'k2', value: 'v2' },
    ]);
  });

  it('UpdateTaskSet scales; UpdateService recomputes every computedDesiredCount and refuses what belongs to task sets', async () => {
    const t = (await d.ecs.send(new UpdateTaskSetCommand({ cluster: CLUSTER, service: 'ext', taskSet: second, scale: { value: 25, unit: 'PERCENT' } }))).taskSet!;
    assert.deepEqual(t.scale, { value: 25, unit: 'PERCENT' });
    assert.equal(t.computedDesiredCount, 1);
    await rejects(d.ecs.send(new UpdateTaskSetCommand({ cluster: CLUSTER, service: 'ext', taskSet: 'ecs-svc/1', scale: { value: 5, unit: 'PERCENT' } })), 'TaskSetNotFoundException', /task set/);
    await rejects(d.ecs.send(new UpdateTaskSetCommand({ cluster: CLUSTER, service: 'ext', taskSet: second, scale: { value: 500, unit: 'PERCENT' } })), 'InvalidParameterException', /Scale value/);
    await rejects(d.ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: 'ext', taskDefinition: 'a:2' })), 'InvalidParameterException', /taskDefinition cannot be updated on a service with the EXTERNAL deployment controller/);
    await rejects(d.ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: 'ext', forceNewDeployment: true })), 'InvalidParameterException', /forceNewDeployment/);
    const s = (await d.ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: 'ext', desiredCount: 10 }))).service!;
    assert.equal(s.desiredCount, 10);
    assert.deepEqual(
      s.taskSets!.map((x) => [x.id, x.computedDesiredCount]),
      [
        [second, 3],
        [first, 10],
      ],
    );
    assert.equal((await sets()).find((x) => x.id === second)!.computedDesiredCount, 3);
  });

  it('UpdateServicePrimaryTaskSet flips the PRIMARY; DescribeServices shows its configuration', async () => {
    const p = (await d.ecs.send(new UpdateServicePrimaryTaskSetCommand({ cluster: CLUSTER, service: 'ext', primaryTaskSet: first }))).taskSet!;
    assert.equal(p.status, 'PRIMARY');
    let s = (await service('ext'))!;
    assert.equal(s.taskDefinition, 'arn:aws:ecs:us-east-1:000000000000:task-definition/a:1');
    assert.equal(s.taskSets![0]!.id, first);
    assert.deepEqual(s.taskSets!.map((x) => x.status), ['PRIMARY', 'ACTIVE']);
    const arn = s.taskSets![1]!.taskSetArn!;
    await d.ecs.send(new UpdateServicePrimaryTaskSetCommand({ cluster: CLUSTER, service: 'ext', primaryTaskSet: arn }));
    s = (await service('ext'))!;
    assert.equal(s.taskDefinition, 'arn:aws:ecs:us-east-1:000000000000:task-definition/a:2');
    assert.deepEqual(s.taskSets!.map((x) => [x.id, x.status]), [
      [second, 'PRIMARY'],
      [first, 'ACTIVE'],
    ]);
    await rejects(d.ecs.send(new UpdateServicePrimaryTaskSetCommand({ cluster: CLUSTER, service: 'ext', primaryTaskSet: 'ecs-svc/42' })), 'TaskSetNotFoundException', /task set/);
  });

  it('DeleteTaskSet needs force while scaled above 0; a deleted task set drains, then is gone', async () => {
    await rejects(d.ecs.send(new DeleteTaskSetCommand({ cluster: CLUSTER, service: 'ext', taskSet: first })), 'InvalidParameterException', /scaled above 0/);
    assert.equal((await sets()).length, 2);
    await d.ecs.send(new UpdateTaskSetCommand({ cluster: CLUSTER, service: 'ext', taskSet: first, scale: { value: 0, unit: 'PERCENT' } }));
    const gone = (await d.ecs.send(new DeleteTaskSetCommand({ cluster: CLUSTER, service: 'ext', taskSet: first }))).taskSet!;
    assert.equal(gone.status, 'DRAINING');
    assert.equal(gone.computedDesiredCount, 0);
    await until('the drained task set removed', () => sets(), (x) => x.length === 1);
    const out = await d.ecs.send(new DescribeTaskSetsCommand({ cluster: CLUSTER, service: 'ext', taskSets: [first] }));
    assert.equal(out.failures![0]!.reason, 'MISSING');
    await rejects(d.ecs.send(new DeleteTaskSetCommand({ cluster: CLUSTER, service: 'ext', taskSet: first })), 'TaskSetNotFoundException', /task set/);
  });

  it('DeleteService of an EXTERNAL service needs force while it has task sets', async () => {
    await d.ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: 'ext', desiredCount: 0 }));
    await rejects(d.ecs.send(new DeleteServiceCommand({ cluster: CLUSTER, service: 'ext' })), 'InvalidParameterException', /deployments are active/);
    assert.equal((await service('ext'))!.status, 'ACTIVE');
    const s = (await d.ecs.send(new DeleteServiceCommand({ cluster: CLUSTER, service: 'ext', force: true }))).service!;
    assert.equal(s.status, 'DRAINING');
    await rejects(createSet({}), 'ServiceNotActiveException', /not ACTIVE/);
    await until('the service INACTIVE', () => service('ext'), (x) => x?.status === 'INACTIVE');
    await rejects(createSet({}), 'ServiceNotFoundException', /Service not found/);
  });
});

describe('task sets with the AWS CLIs', () => {
  for (const [label, bin] of [
    ['v1', () => requireCliV1()],
    ['v2', () => AWS_CLI_V2],
  ] as const) {
    it(`AWS CLI ${label}: create, describe, update, make primary, delete, and an error`, async () => {
      const cli = (args: string[]) => runCli(bin(), d.endpoint, d.cliEnv, args);
      const name = `cli-${label}`;
      await createService(name, { desiredCount: 2 });
      const created = await cli(['ecs', 'create-task-set', '--cluster', CLUSTER, '--service', name, '--task-definition', 'a:1', '--external-id', 'e1', '--scale', 'value=50,unit=PERCENT']);
      assert.equal(created.code, 0, created.stderr);
      const id = created.json.taskSet.id as string;
      assert.match(id, /^ecs-svc\/\d{19}$/);
      assert.equal(created.json.taskSet.computedDesiredCount, 1);
      const described = await cli(['ecs', 'describe-task-sets', '--cluster', CLUSTER, '--service', name, '--task-sets', id, '--include', 'TAGS']);
      assert.equal(described.code, 0, described.stderr);
      assert.equal(described.json.taskSets[0].externalId, 'e1');
      const updated = await cli(['ecs', 'update-task-set', '--cluster', CLUSTER, '--service', name, '--task-set', id, '--scale', 'value=100,unit=PERCENT']);
      assert.equal(updated.code, 0, updated.stderr);
      assert.equal(updated.json.taskSet.computedDesiredCount, 2);
      const primary = await cli(['ecs', 'update-service-primary-task-set', '--cluster', CLUSTER, '--service', name, '--primary-task-set', id]);
      assert.equal(primary.code, 0, primary.stderr);
      assert.equal(primary.json.taskSet.status, 'PRIMARY');
      const refused = await cli(['ecs', 'delete-task-set', '--cluster', CLUSTER, '--service', name, '--task-set', id]);
      assert.notEqual(refused.code, 0);
      assert.match(refused.stderr, /InvalidParameterException/);
      const deleted = await cli(['ecs', 'delete-task-set', '--cluster', CLUSTER, '--service', name, '--task-set', id, '--force']);
      assert.equal(deleted.code, 0, deleted.stderr);
      assert.equal(deleted.json.taskSet.status, 'DRAINING');
      const missing = await cli(['ecs', 'update-task-set', '--cluster', CLUSTER, '--service', name, '--task-set', 'ecs-svc/7', '--scale', 'value=1,unit=PERCENT']);
      assert.notEqual(missing.code, 0);
      assert.match(missing.stderr, /TaskSetNotFoundException/);
      const noService = await cli(['ecs', 'describe-task-sets', '--cluster', CLUSTER, '--service', 'nope']);
      assert.match(noService.stderr, /ServiceNotFoundException/);
    });
  }
});
