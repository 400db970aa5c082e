/**
 * ECS Express Mode end to end, with real Docker, the AWS CLI v1 and SDK v3: one
 * create-express-gateway-service of the busybox httpd image answers on the URL it returns
 * (plain curl, 127.0.0.1); an update to a new image is a new task definition revision rolled out
 * behind the load balancer; delete removes the scaling target and policy, the listener and its
 * rule, the target group and the (no longer used) load balancer. Bad input gets ECS's errors and
 * leaves nothing behind. Without Docker: services of a cluster share one load balancer (25 at
 * most, then a second) with a listener port each; a create that finds no free port undoes what
 * it made; an update of the health check path and scaling alone keeps the task definition.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ApplicationAutoScalingClient, DescribeScalableTargetsCommand, DescribeScalingPoliciesCommand } from '@aws-sdk/client-application-auto-scaling';
import {
  CreateExpressGatewayServiceCommand,
  DeleteExpressGatewayServiceCommand,
  DescribeExpressGatewayServiceCommand,
  DescribeServiceRevisionsCommand,
  DescribeServicesCommand,
  ListServicesCommand,
  UpdateExpressGatewayServiceCommand,
} from '@aws-sdk/client-ecs';
import { DescribeLoadBalancersCommand, DescribeTargetGroupsCommand, ElasticLoadBalancingV2Client, DescribeListenersCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { CloudWatchLogsClient, DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { requireCliV1, runCli } from './helpers/aws-cli.js';
import { credentials, startDockyard, type TestDockyard } from './helpers/dockyard.js';
import { errorOf } from './helpers/errors.js';
import { buildBusyboxImage, buildHttpdImage } from './helpers/images.js';
import { freePort } from './helpers/net.js';

const run = promisify(execFile);
const ROLE = 'arn:aws:iam::000000000000:role/ecsTaskExecutionRole';
const INFRA = 'arn:aws:iam::000000000000:role/ecsInfrastructureRoleForExpressServices';
let d: TestDockyard;
let elb: ElasticLoadBalancingV2Client;
let aas: ApplicationAutoScalingClient;
let image1: string;
let image2: string;

/** `curl -s URL` until the body matches (bounded: 60 tries, 2 s each at most). */
async function curlUntil(url: string, want: RegExp): Promise<string> {
  let last = '';
  for (let i = 0; i < 60; i++) {
    try {
      last = (await run('curl', ['-s', '--max-time', '2', url])).stdout;
      if (want.test(last)) return last;
    } catch (e) {
      last = String((e as { stderr?: string }).stderr ?? e);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${url} never answered ${want}; last: ${last}`);
}

async function nothingLeft() {
  assert.deepEqual((await elb.send(new DescribeLoadBalancersCommand({}))).LoadBalancers, []);
  assert.deepEqual((await elb.send(new DescribeTargetGroupsCommand({}))).TargetGroups, []);
  assert.deepEqual((await aas.send(new DescribeScalableTargetsCommand({ ServiceNamespace: 'ecs' }))).ScalableTargets, []);
  assert.deepEqual((await aas.send(new DescribeScalingPoliciesCommand({ ServiceNamespace: 'ecs' }))).ScalingPolicies, []);
}

before(async () => {
  image1 = buildHttpdImage();
  image2 = buildBusyboxImage('dockyard-test/bb-httpd-express:2', `FROM ${image1}\nCOPY www /www\n`, { 'www/index.html': 'hello from revision 2\n' });
  d = await startDockyard({ embeddedAgent: { bindIp: '127.0.0.1', cleanupDelayMs: 60_000, pollWaitMs: 20_000 }, serviceControllerIdleMs: 500, agentHeartbeatIntervalMs: 500, loadBalancing: { bindHost: '127.0.0.1' } } as never);
  const client = { endpoint: d.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 };
  elb = new ElasticLoadBalancingV2Client(client);
  aas = new ApplicationAutoScalingClient(client);
});

after(async () => {
  elb?.destroy();
  aas?.destroy();
  await d?.stop();
});

describe('ECS Express Mode', { timeout: 120_000 }, () => {
  it('refuses bad input with ECS errors and leaves nothing behind', async () => {
    const create = (over: Record<string, unknown>) =>
      errorOf(d.ecs.send(new CreateExpressGatewayServiceCommand({ executionRoleArn: ROLE, infrastructureRoleArn: INFRA, primaryContainer: { image: image1, containerPort: 8080 }, ...over } as never)));
    assert.equal((await create({ cluster: 'nope' })).name, 'ClusterNotFoundException');
    const cpu = await create({ cpu: '256', memory: '4096' });
    assert.equal(cpu.name, 'InvalidParameterException');
    assert.match(cpu.message, /No Fargate configuration exists for given values: 256 CPU, 4096 memory/);
    assert.equal((await create({ scalingTarget: { minTaskCount: 3, maxTaskCount: 2 } })).name, 'InvalidParameterException');
    assert.equal((await create({ executionRoleArn: 'not-a-role' })).name, 'InvalidParameterException');
    assert.equal((await create({ healthCheckPath: 'health' })).name, 'InvalidParameterException');
    assert.equal((await create({ primaryContainer: { image: image1, containerPort: 70000 } })).name, 'InvalidParameterException');
    const unknown = 'arn:aws:ecs:us-east-1:000000000000:service/default/nope';
    assert.equal((await errorOf(d.ecs.send(new DescribeExpressGatewayServiceCommand({ serviceArn: unknown })))).name, 'ResourceNotFoundException');
    assert.equal((await errorOf(d.ecs.send(new UpdateExpressGatewayServiceCommand({ serviceArn: unknown, cpu: '512', memory: '1024' })))).name, 'ServiceNotFoundException');
    assert.equal((await errorOf(d.ecs.send(new DeleteExpressGatewayServiceCommand({ serviceArn: unknown })))).name, 'ServiceNotFoundException');
    assert.equal((await errorOf(d.ecs.send(new DeleteExpressGatewayServiceCommand({ serviceArn: 'web' })))).name, 'InvalidParameterException');
    assert.deepEqual((await d.ecs.send(new ListServicesCommand({}))).serviceArns, []);
    await nothingLeft();
  });

  it('creates a service that answers on its URL, rolls out a new image, and deletes everything it made', async () => {
    const cliV1 = requireCliV1();
    const created = await runCli(cliV1, d.endpoint, d.cliEnv, [
      'ecs', 'create-express-gateway-service',
      '--service-name', 'web',
      '--execution-role-arn', ROLE,
      '--infrastructure-role-arn', INFRA,
      '--primary-container', JSON.stringify({ image: image1, containerPort: 8080 }),
      '--cpu', '256', '--memory', '512',
      '--scaling-target', 'minTaskCount=1,maxTaskCount=3,autoScalingMetric=AVERAGE_CPU,autoScalingTargetValue=70',
      '--tags', 'key=team,value=web',
    ]);
    assert.equal(created.code, 0, created.stderr);
    const svc = created.json.service;
    assert.equal(svc.serviceName, 'web');
    assert.equal(svc.status.statusCode, 'ACTIVE');
    assert.equal(svc.activeConfigurations.length, 1);
    const url: string = svc.activeConfigurations[0].ingressPaths[0].endpoint;
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(svc.activeConfigurations[0].healthCheckPath, '/');
    assert.deepEqual(svc.activeConfigurations[0].scalingTarget, { minTaskCount: 1, maxTaskCount: 3, autoScalingMetric: 'AVERAGE_CPU', autoScalingTargetValue: 70 });

    assert.equal((await curlUntil(url, /hello from dockyard/)).trim(), 'hello from dockyard');
    // Its awslogs group was made when the task started.
    const logGroup: string = svc.activeConfigurations[0].primaryContainer.awsLogsConfiguration.logGroup;
    assert.match(logGroup, /^\/aws\/ecs\/default\/web-[0-9a-f]{4}$/);
    const logs = new CloudWatchLogsClient({ endpoint: d.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
    try {
      assert.deepEqual((await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: logGroup }))).logGroups!.map((g) => g.logGroupName), [logGroup]);
    } finally {
      logs.destroy();
    }

    // What it made: a task definition, the ECS service behind the target group, the scaling target and policy.
    const ecsSvc = (await d.ecs.send(new DescribeServicesCommand({ services: ['web'], include: ['TAGS'] }))).services![0]!;
    assert.match(ecsSvc.taskDefinition!, /task-definition\/web:1$/);
    assert.deepEqual(ecsSvc.tags, [{ key: 'team', value: 'web' }]);
    const revision = (await d.ecs.send(new DescribeServiceRevisionsCommand({ serviceRevisionArns: [svc.activeConfigurations[0].serviceRevisionArn] }))).serviceRevisions![0]!;
    const ingress = revision.ecsManagedResources!.ingressPaths![0]!;
    const lbArn = ingress.loadBalancer!.arn!;
    const tgArn = ingress.targetGroups![0]!.arn!;
    assert.equal(ecsSvc.loadBalancers![0]!.targetGroupArn, tgArn);
    assert.equal((await elb.send(new DescribeListenersCommand({ LoadBalancerArn: lbArn }))).Listeners![0]!.Port, Number(new URL(url).port));
    assert.equal((await elb.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [tgArn] }))).TargetGroups![0]!.HealthCheckPath, '/');
    const targets = (await aas.send(new DescribeScalableTargetsCommand({ ServiceNamespace: 'ecs' }))).ScalableTargets!;
    assert.deepEqual(targets.map((t) => [t.ResourceId, t.MinCapacity, t.MaxCapacity]), [['service/default/web', 1, 3]]);
    const policies = (await aas.send(new DescribeScalingPoliciesCommand({ ServiceNamespace: 'ecs' }))).ScalingPolicies!;
    assert.equal(policies[0]!.TargetTrackingScalingPolicyConfiguration!.PredefinedMetricSpecification!.PredefinedMetricType, 'ECSServiceAverageCPUUtilization');
    assert.equal(policies[0]!.TargetTrackingScalingPolicyConfiguration!.TargetValue, 70);

    // Update (SDK v3): a new image is a new task definition revision, rolled out behind the load balancer.
    const updated = await d.ecs.send(new UpdateExpressGatewayServiceCommand({ serviceArn: svc.serviceArn, primaryContainer: { image: image2, containerPort: 8080 } }));
    assert.equal(updated.service!.targetConfiguration!.primaryContainer!.image, image2);
    assert.equal((await curlUntil(url, /revision 2/)).trim(), 'hello from revision 2');
    // Both configurations are active while the old task drains and stops (newest first).
    const rolled = (await d.ecs.send(new DescribeExpressGatewayServiceCommand({ serviceArn: svc.serviceArn, include: ['TAGS'] }))).service!;
    assert.equal(rolled.activeConfigurations![0]!.primaryContainer!.image, image2);
    assert.ok(rolled.activeConfigurations!.every((c, i) => i === 0 || c.primaryContainer!.image === image1));
    assert.notEqual(rolled.currentDeployment, undefined);
    assert.deepEqual(rolled.tags, [{ key: 'team', value: 'web' }]);
    assert.match((await d.ecs.send(new DescribeServicesCommand({ services: ['web'] }))).services![0]!.taskDefinition!, /task-definition\/web:2$/);

    // Delete (CLI v1): everything Express made is gone; the service drains.
    const deleted = await runCli(cliV1, d.endpoint, d.cliEnv, ['ecs', 'delete-express-gateway-service', '--service-arn', svc.serviceArn]);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.match(deleted.json.service.status.statusCode, /^(DRAINING|INACTIVE)$/);
    assert.equal((await errorOf(elb.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [lbArn] })))).name, 'LoadBalancerNotFoundException');
    assert.equal((await errorOf(elb.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [tgArn] })))).name, 'TargetGroupNotFoundException');
    await nothingLeft();
    const again = await runCli(cliV1, d.endpoint, d.cliEnv, ['ecs', 'update-express-gateway-service', '--service-arn', svc.serviceArn, '--health-check-path', '/x']);
    assert.match(again.stderr, /ServiceNotActiveException/);
    // The ECS service drains (its tasks stop within their stopTimeout, 30 s for httpd, which ignores SIGTERM as PID 1).
    const gone = (await d.ecs.send(new DescribeExpressGatewayServiceCommand({ serviceArn: svc.serviceArn }))).service!;
    assert.match(gone.status!.statusCode!, /^(DRAINING|INACTIVE)$/);
    assert.deepEqual(gone.activeConfigurations, []);
    assert.match((await d.ecs.send(new DescribeServicesCommand({ services: ['web'] }))).services![0]!.status!, /^(DRAINING|INACTIVE)$/);
    await assert.rejects(run('curl', ['-sf', '--max-time', '2', url]), 'the listener is gone');
  });
});

describe('ECS Express Mode: a shared load balancer, ports, undo', { timeout: 60_000 }, () => {
  let b: TestDockyard;
  let belb: ElasticLoadBalancingV2Client;
  let from: number;

  before(async () => {
    from = await freePort();
    // No agent and no data plane: nothing runs or listens, the API's bookkeeping is what is tested.
    b = await startDockyard({ createDefaultCluster: true, loadBalancing: { dataPlane: false, expressPorts: { from, to: from + 3 } } } as never);
    belb = new ElasticLoadBalancingV2Client({ endpoint: b.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
  });

  after(async () => {
    belb?.destroy();
    await b?.stop();
  });

  it('shares the cluster\'s load balancer, gives each service a port, and undoes a create that cannot finish', async () => {
    const create = (name: string) =>
      b.ecs.send(new CreateExpressGatewayServiceCommand({ serviceName: name, executionRoleArn: ROLE, infrastructureRoleArn: INFRA, primaryContainer: { image: 'example/app:1' }, cpu: '256', memory: '512' }));
    const made: { arn: string; port: number; lb: string }[] = [];
    let refused: Error | undefined;
    // The first two at once: they still get a port (and a listener) each.
    const first = await Promise.all([create('svc0'), create('svc1')]);
    for (let i = 0; i < 5 && !refused; i++) {
      try {
        const s = i < 2 ? first[i]!.service! : (await create(`svc${i}`)).service!;
        const cfg = s.activeConfigurations![0]!;
        assert.equal(cfg.primaryContainer!.containerPort, 80);
        assert.equal(cfg.healthCheckPath, '/');
        assert.deepEqual(cfg.scalingTarget, { minTaskCount: 1, maxTaskCount: 20, autoScalingMetric: 'AVERAGE_CPU', autoScalingTargetValue: 60 });
        const revision = (await b.ecs.send(new DescribeServiceRevisionsCommand({ serviceRevisionArns: [cfg.serviceRevisionArn!] }))).serviceRevisions![0]!;
        made.push({ arn: s.serviceArn!, port: Number(new URL(cfg.ingressPaths![0]!.endpoint!).port), lb: revision.ecsManagedResources!.ingressPaths![0]!.loadBalancer!.arn! });
      } catch (e) {
        refused = e as Error;
      }
    }
    assert.ok(made.length >= 2, `at least two of the four ports are free (${made.length})`);
    assert.equal(new Set(made.map((m) => m.lb)).size, 1, 'one load balancer for the cluster');
    assert.equal(new Set(made.map((m) => m.port)).size, made.length, 'a port each');
    assert.ok(made.every((m) => m.port >= from && m.port <= from + 3));
    assert.equal(refused?.name, 'ClientException');
    assert.match(refused!.message, /No free port is left for an Express service listener/);
    // The refused create left nothing: one target group and listener per service, no service of its name.
    assert.equal((await belb.send(new DescribeTargetGroupsCommand({}))).TargetGroups!.length, made.length);
    assert.equal((await belb.send(new DescribeListenersCommand({ LoadBalancerArn: made[0]!.lb }))).Listeners!.length, made.length);
    const listed = await b.ecs.send(new ListServicesCommand({}));
    assert.equal(listed.serviceArns!.length, made.length);
    assert.deepEqual((await b.ecs.send(new ListServicesCommand({ resourceManagementType: 'ECS' }))).serviceArns!.sort(), made.map((m) => m.arn).sort());
    assert.deepEqual((await b.ecs.send(new ListServicesCommand({ resourceManagementType: 'CUSTOMER' }))).serviceArns, []);

    // An update of the health check path and scaling only: same task definition, a new deployment.
    const target = made[1]!;
    const before = (await b.ecs.send(new DescribeServicesCommand({ services: [target.arn] }))).services![0]!.deployments![0]!.id;
    const up = await b.ecs.send(
      new UpdateExpressGatewayServiceCommand({ serviceArn: target.arn, healthCheckPath: '/health', scalingTarget: { minTaskCount: 2, maxTaskCount: 4, autoScalingMetric: 'REQUEST_COUNT_PER_TARGET', autoScalingTargetValue: 500 } }),
    );
    assert.equal(up.service!.targetConfiguration!.healthCheckPath, '/health');
    assert.equal(up.service!.targetConfiguration!.primaryContainer!.image, 'example/app:1');
    const ecsSvc = (await b.ecs.send(new DescribeServicesCommand({ services: [target.arn] }))).services![0]!;
    assert.match(ecsSvc.taskDefinition!, /task-definition\/svc1:1$/);
    assert.equal(ecsSvc.desiredCount, 2, 'the scalable target brought the service into its new range');
    assert.notEqual(ecsSvc.deployments![0]!.id, before, 'a new deployment');
    const ingress = (await b.ecs.send(new DescribeServiceRevisionsCommand({ serviceRevisionArns: [up.service!.targetConfiguration!.serviceRevisionArn!] }))).serviceRevisions![0]!.ecsManagedResources!.ingressPaths![0]!;
    assert.equal((await belb.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [ingress.targetGroups![0]!.arn!] }))).TargetGroups![0]!.HealthCheckPath, '/health');
    const baas = new ApplicationAutoScalingClient({ endpoint: b.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
    try {
      const st = (await baas.send(new DescribeScalableTargetsCommand({ ServiceNamespace: 'ecs', ResourceIds: ['service/default/svc1'] }))).ScalableTargets![0]!;
      assert.deepEqual([st.MinCapacity, st.MaxCapacity], [2, 4]);
      const policy = (await baas.send(new DescribeScalingPoliciesCommand({ ServiceNamespace: 'ecs', ResourceId: 'service/default/svc1' }))).ScalingPolicies!;
      assert.equal(policy.length, 1);
      const spec = policy[0]!.TargetTrackingScalingPolicyConfiguration!;
      assert.equal(spec.PredefinedMetricSpecification!.PredefinedMetricType, 'ALBRequestCountPerTarget');
      assert.match(spec.PredefinedMetricSpecification!.ResourceLabel!, /^app\/ecs-express-[0-9a-f]{8}-1\/[0-9a-f]{16}\/targetgroup\/ecs-express-tg-[0-9a-f]{12}\/[0-9a-f]{16}$/);
      assert.equal(spec.TargetValue, 500);
    } finally {
      baas.destroy();
    }
    assert.equal((await errorOf(b.ecs.send(new UpdateExpressGatewayServiceCommand({ serviceArn: target.arn, cpu: '256', memory: '4096' })))).name, 'InvalidParameterException');

    // Deleting one keeps the load balancer for the others; deleting the last removes it.
    await b.ecs.send(new DeleteExpressGatewayServiceCommand({ serviceArn: made[0]!.arn }));
    assert.equal((await belb.send(new DescribeLoadBalancersCommand({}))).LoadBalancers!.length, 1);
    assert.equal((await errorOf(b.ecs.send(new DeleteExpressGatewayServiceCommand({ serviceArn: made[0]!.arn })))).name, 'ServiceNotActiveException');
    for (const m of made.slice(1)) await b.ecs.send(new DeleteExpressGatewayServiceCommand({ serviceArn: m.arn }));
    assert.deepEqual((await belb.send(new DescribeLoadBalancersCommand({}))).LoadBalancers, []);
    assert.deepEqual((await belb.send(new DescribeTargetGroupsCommand({}))).TargetGroups, []);
  });
});

describe('ECS Express Mode: 25 services to a load balancer', { timeout: 60_000 }, () => {
  let b: TestDockyard;
  let belb: ElasticLoadBalancingV2Client;

  before(async () => {
    const from = await freePort();
    b = await startDockyard({ loadBalancing: { dataPlane: false, expressPorts: { from, to: from + 39 } } } as never);
    belb = new ElasticLoadBalancingV2Client({ endpoint: b.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
  });

  after(async () => {
    belb?.destroy();
    await b?.stop();
  });

  it('the 26th service of a cluster gets a second load balancer; it goes with its last service', async () => {
    const lbOf = async (s: { activeConfigurations?: { serviceRevisionArn?: string }[] }) =>
      (await b.ecs.send(new DescribeServiceRevisionsCommand({ serviceRevisionArns: [s.activeConfigurations![0]!.serviceRevisionArn!] }))).serviceRevisions![0]!.ecsManagedResources!.ingressPaths![0]!.loadBalancer!.arn!;
    const arns: string[] = [];
    const lbs: string[] = [];
    for (let i = 0; i < 26; i++) {
      const s = (await b.ecs.send(new CreateExpressGatewayServiceCommand({ serviceName: `s${i}`, executionRoleArn: ROLE, infrastructureRoleArn: INFRA, primaryContainer: { image: 'example/app:1' }, cpu: '256', memory: '512' }))).service!;
      arns.push(s.serviceArn!);
      lbs.push(await lbOf(s));
    }
    assert.equal(new Set(lbs.slice(0, 25)).size, 1);
    assert.notEqual(lbs[25], lbs[0]);
    assert.match(lbs[25]!, /loadbalancer\/app\/ecs-express-[0-9a-f]{8}-2\//);
    await b.ecs.send(new DeleteExpressGatewayServiceCommand({ serviceArn: arns[25]! }));
    assert.deepEqual((await belb.send(new DescribeLoadBalancersCommand({}))).LoadBalancers!.map((l) => l.LoadBalancerArn), [lbs[0]]);
    for (const arn of arns.slice(0, 25)) await b.ecs.send(new DeleteExpressGatewayServiceCommand({ serviceArn: arn }));
    assert.deepEqual((await belb.send(new DescribeLoadBalancersCommand({}))).LoadBalancers, []);
  });
});
