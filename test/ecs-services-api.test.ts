/**
 * The service API's shapes and validation, without any host: CreateService's checks and client
 * token, ListServices' pages and filters, DescribeServices' failures, UpdateService and
 * DeleteService on services that are not ACTIVE, and refusals that leave nothing behind.
 */
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DeleteClusterCommand,
  DeleteServiceCommand,
  DescribeServicesCommand,
  ListServicesCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
  ListServiceDeploymentsCommand,
  type CreateServiceCommandInput,
} from '@aws-sdk/client-ecs';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startDockyard, type TestDockyard } from './helpers/dockyard.js';

let d: TestDockyard;
const CLUSTER = 'api';

before(async () => {
  d = await startDockyard({ serviceControllerIdleMs: 500 });
  await d.ecs.send(new CreateClusterCommand({ clusterName: CLUSTER }));
  await d.ecs.send(new RegisterTaskDefinitionCommand({ family: 'a', containerDefinitions: [{ name: 'app', image: 'x', memory: 32 }] }));
  await d.ecs.send(new RegisterTaskDefinitionCommand({ family: 'vpc', networkMode: 'awsvpc', containerDefinitions: [{ name: 'app', image: 'x', memory: 32 }] }));
});
after(() => d.stop());

const create = (o: Partial<CreateServiceCommandInput>) => d.ecs.send(new CreateServiceCommand({ cluster: CLUSTER, serviceName: 's', taskDefinition: 'a', desiredCount: 1, ...o }));
const rejects = async (p: Promise<unknown>, name: string, message: RegExp) =>
  assert.rejects(p, (e: Error & { name: string }) => {
    assert.equal(e.name, name);
    assert.match(e.message, message);
    return true;
  });

describe('service API', () => {
  it('refuses bad input with ECS errors and creates nothing', async () => {
    await rejects(create({ launchType: 'EC2', capacityProviderStrategy: [{ capacityProvider: 'FARGATE' }] }), 'InvalidParameterException', /launchType and capacityProviderStrategy/);
    await rejects(create({ deploymentConfiguration: { minimumHealthyPercent: 101 } }), 'InvalidParameterException', /minimumHealthyPercent/);
    await rejects(create({ deploymentConfiguration: { maximumPercent: 99 } }), 'InvalidParameterException', /maximumPercent/);
    await rejects(create({ schedulingStrategy: 'DAEMON', desiredCount: undefined, placementStrategy: [{ type: 'spread', field: 'instanceId' }] }), 'InvalidParameterException', /DAEMON/);
    await rejects(create({ desiredCount: 10_001 }), 'InvalidParameterException', /desiredCount/);
    await rejects(create({ serviceName: 'bad name!' }), 'InvalidParameterException', /Service name/);
    await rejects(create({ taskDefinition: 'nope' }), 'ClientException', /Unable to find task definition/);
    await rejects(create({ taskDefinition: 'vpc' }), 'InvalidParameterException', /Network Configuration must be provided/);
    await rejects(create({ cluster: 'missing' }), 'ClusterNotFoundException', /Cluster not found/);
    await rejects(create({ deploymentController: { type: 'CODE_DEPLOY' } }), 'InvalidParameterException', /deployment controller/);
    assert.deepEqual((await d.ecs.send(new ListServicesCommand({ cluster: CLUSTER }))).serviceArns, []);
  });

  it('CreateService: client token retries return the service; another create of the name is refused', async () => {
    const first = await create({ clientToken: 'tok-1', tags: [{ key: 'k', value: 'v' }] });
    const again = await create({ clientToken: 'tok-1', tags: [{ key: 'k', value: 'v' }] });
    assert.equal(again.service!.serviceArn, first.service!.serviceArn);
    assert.equal(again.service!.deployments![0]!.id, first.service!.deployments![0]!.id);
    await rejects(create({ clientToken: 'tok-1', desiredCount: 2 }), 'InvalidParameterException', /^Creation of service was not idempotent\.$/);
    await rejects(create({}), 'InvalidParameterException', /^Creation of service was not idempotent\.$/);
    assert.equal((await d.ecs.send(new ListServiceDeploymentsCommand({ cluster: CLUSTER, service: 's' }))).serviceDeployments!.length, 1);
    const s = first.service!;
    assert.equal(s.serviceArn, `arn:aws:ecs:us-east-1:000000000000:service/${CLUSTER}/s`);
    assert.equal(s.launchType, 'EC2');
    assert.equal(s.schedulingStrategy, 'REPLICA');
    assert.deepEqual(s.deploymentController, { type: 'ECS' });
    assert.deepEqual(s.deploymentConfiguration!.deploymentCircuitBreaker, { enable: false, rollback: false });
    assert.equal(s.propagateTags, 'NONE');
    const [history] = (await d.ecs.send(new ListServiceDeploymentsCommand({ cluster: CLUSTER, service: 's' }))).serviceDeployments!;
    assert.equal(s.currentServiceDeployment, history!.serviceDeploymentArn);
    assert.match(history!.serviceDeploymentArn!, new RegExp(`^arn:aws:ecs:us-east-1:000000000000:service-deployment/${CLUSTER}/s/`));
    const described = await d.ecs.send(new DescribeServicesCommand({ cluster: CLUSTER, services: ['s', 'ghost'], include: ['TAGS'] }));
    assert.deepEqual(described.services![0]!.tags, [{ key: 'k', value: 'v' }]);
    assert.deepEqual(described.failures, [{ arn: `arn:aws:ecs:us-east-1:000000000000:service/${CLUSTER}/ghost`, reason: 'MISSING' }]);
  });

  it('ListServices pages (10 by default) and filters by scheduling strategy and launch type', async () => {
    for (let i = 0; i < 11; i++) await create({ serviceName: `p${String(i).padStart(2, '0')}`, desiredCount: 0 });
    const page1 = await d.ecs.send(new ListServicesCommand({ cluster: CLUSTER }));
    assert.equal(page1.serviceArns!.length, 10);
    const page2 = await d.ecs.send(new ListServicesCommand({ cluster: CLUSTER, nextToken: page1.nextToken }));
    assert.equal(page2.serviceArns!.length, 2);
    assert.equal(page2.nextToken, undefined);
    assert.equal(new Set([...page1.serviceArns!, ...page2.serviceArns!]).size, 12);
    assert.deepEqual((await d.ecs.send(new ListServicesCommand({ cluster: CLUSTER, schedulingStrategy: 'DAEMON' }))).serviceArns, []);
    assert.equal((await d.ecs.send(new ListServicesCommand({ cluster: CLUSTER, launchType: 'EC2', maxResults: 100 }))).serviceArns!.length, 12);
    await rejects(d.ecs.send(new ListServicesCommand({ cluster: CLUSTER, maxResults: 101 })), 'InvalidParameterException', /maxResults/);
  });

  it('UpdateService: desiredCount in place, a new revision as a new deployment; DeleteService states', async () => {
    await d.ecs.send(new RegisterTaskDefinitionCommand({ family: 'a', containerDefinitions: [{ name: 'app', image: 'y', memory: 32 }] }));
    const scaled = await d.ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: 's', desiredCount: 3 }));
    assert.equal(scaled.service!.deployments!.length, 1);
    assert.equal(scaled.service!.desiredCount, 3);
    const rolled = await d.ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: 's', taskDefinition: 'a:2' }));
    assert.equal(rolled.service!.deployments!.length, 2);
    assert.deepEqual(rolled.service!.deployments!.map((x) => x.status), ['PRIMARY', 'ACTIVE']);
    assert.ok(rolled.service!.taskDefinition!.endsWith('a:2'));
    const forced = await d.ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: 's', forceNewDeployment: true }));
    assert.equal(forced.service!.deployments!.length, 3);
    await rejects(d.ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: 'ghost', desiredCount: 1 })), 'ServiceNotFoundException', /Service not found/);
    await rejects(d.ecs.send(new DeleteServiceCommand({ cluster: CLUSTER, service: 's' })), 'InvalidParameterException', /^The service cannot be stopped while it is scaled above 0\.$/);
    // A cluster with services cannot be deleted.
    await rejects(d.ecs.send(new DeleteClusterCommand({ cluster: CLUSTER })), 'ClusterContainsServicesException', /Services are active/);
    const deleted = await d.ecs.send(new DeleteServiceCommand({ cluster: CLUSTER, service: 's', force: true }));
    assert.equal(deleted.service!.status, 'DRAINING');
    await rejects(d.ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: 's', desiredCount: 1 })), 'ServiceNotActiveException', /Service was not ACTIVE/);
    // No task ever ran: the controller makes it INACTIVE, and its name can be used again.
    const deadline = Date.now() + 20_000;
    let status = 'DRAINING';
    while (status !== 'INACTIVE' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      status = (await d.ecs.send(new DescribeServicesCommand({ cluster: CLUSTER, services: ['s'] }))).services![0]!.status!;
    }
    assert.equal(status, 'INACTIVE');
    const recreated = await create({ desiredCount: 0 });
    assert.equal(recreated.service!.status, 'ACTIVE');
    assert.equal(recreated.service!.deployments!.length, 1);
  });
});
