/**
 * An ECS BLUE_GREEN deployment with real Docker behind Dockyard's load balancer: a 2-task busybox
 * httpd service in the primary target group, a new revision whose page differs deployed into the
 * alternate target group, production traffic flipped on the listener once green is healthy, a
 * short bake, blue drained and stopped. A bounded request loop on the listener (127.0.0.1) sees
 * no failed request and, at the end, only the new page. A minute of bake time is one second here.
 */
import { CreateServiceCommand, DescribeServiceDeploymentsCommand, DescribeServicesCommand, RegisterTaskDefinitionCommand, StopServiceDeploymentCommand, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { CreateListenerCommand, CreateLoadBalancerCommand, CreateTargetGroupCommand, ElasticLoadBalancingV2Client, ModifyTargetGroupAttributesCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { credentials, startDockyard, type TestDockyard } from './helpers/dockyard.js';
import { buildHttpdImage } from './helpers/images.js';
import { eventually, hit } from './helpers/lb.js';
import { freePort } from './helpers/net.js';

let d: TestDockyard;
let elb: ElasticLoadBalancingV2Client;
let listenerPort: number;
let blueTg: string;
let greenTg: string;
let listenerArn: string;

const service = async () => (await d.ecs.send(new DescribeServicesCommand({ services: ['bg'] }))).services![0]!;
const steadyOn = (rev: string) => async () => {
  const s = await service();
  return s.deployments?.length === 1 && s.deployments[0]!.rolloutState === 'COMPLETED' && s.runningCount === 2 && s.taskDefinition!.endsWith(`:${rev}`) ? s : undefined;
};

before(async () => {
  const image = buildHttpdImage();
  d = await startDockyard({ embeddedAgent: { bindIp: '127.0.0.1', cleanupDelayMs: 60_000, pollWaitMs: 20_000 }, serviceControllerIdleMs: 500, agentHeartbeatIntervalMs: 500, deploymentMinuteSeconds: 1, loadBalancing: { bindHost: '127.0.0.1' } } as never);
  elb = new ElasticLoadBalancingV2Client({ endpoint: d.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
  for (const rev of ['1', '2', '3', '4', '5']) {
    await d.ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'bg-web',
        containerDefinitions: [
          {
            name: 'web',
            image,
            memory: 32,
            essential: true,
            stopTimeout: 1,
            portMappings: [{ containerPort: 8080, hostPort: 0 }],
            entryPoint: ['/bin/sh', '-c'],
            command: [`echo "page of revision ${rev}" > /www/index.html && exec httpd -f -p 8080 -h /www`],
          },
        ],
      }),
    );
  }
  const lb = (await elb.send(new CreateLoadBalancerCommand({ Name: 'bg', Subnets: ['subnet-1'] }))).LoadBalancers![0]!;
  const tg = async (name: string) => {
    const arn = (
      await elb.send(new CreateTargetGroupCommand({ Name: name, Protocol: 'HTTP', Port: 8080, VpcId: 'vpc-1', HealthCheckPath: '/', HealthCheckIntervalSeconds: 5, HealthCheckTimeoutSeconds: 2, HealthyThresholdCount: 2, UnhealthyThresholdCount: 2 }))
    ).TargetGroups![0]!.TargetGroupArn!;
    await elb.send(new ModifyTargetGroupAttributesCommand({ TargetGroupArn: arn, Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '3' }] }));
    return arn;
  };
  blueTg = await tg('bg-blue');
  greenTg = await tg('bg-green');
  listenerPort = await freePort();
  // Production forwards to both groups (green at weight 0), as ECS blue/green expects of its listener rule.
  listenerArn = (
    await elb.send(
      new CreateListenerCommand({
        LoadBalancerArn: lb.LoadBalancerArn,
        Protocol: 'HTTP',
        Port: listenerPort,
        DefaultActions: [{ Type: 'forward', ForwardConfig: { TargetGroups: [{ TargetGroupArn: blueTg, Weight: 100 }, { TargetGroupArn: greenTg, Weight: 0 }] } }],
      }),
    )
  ).Listeners![0]!.ListenerArn!;
});

after(async () => {
  await d.stop();
});

/**
 * Runs `during` under a steady request loop on the listener: three clients, one request at a time
 * each, 5 ms apart, bounded in count (30 000 in all) and time (90 s); goes on until 30 more answers
 * came after `during`. Returns what the clients saw, in order.
 */
async function underLoad(during: () => Promise<void>) {
  const results = { ok: 0, failed: [] as string[], pages: [] as string[] };
  let stop = false;
  let budget = 30_000;
  const deadline = Date.now() + 90_000;
  const t0 = Date.now();
  const client = async () => {
    while (!stop && budget-- > 0 && Date.now() < deadline) {
      try {
        const a = await hit(listenerPort, '/', { timeoutMs: 10_000 });
        if (a.status === 200) {
          results.ok += 1;
          results.pages.push(a.body.trim());
        } else results.failed.push(`${a.status} at ${Date.now() - t0} ms`);
      } catch (e) {
        results.failed.push(`${String(e)} at ${Date.now() - t0} ms`);
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  const loop = Promise.all([client(), client(), client()]);
  try {
    await during();
    const before = results.ok;
    await eventually(async () => (results.ok > before + 30 ? true : undefined), 'requests after the deployment', 20_000);
  } finally {
    stop = true;
    await loop;
  }
  return results;
}

it('a blue/green deployment under a steady request loop fails no request and ends on the new page', { timeout: 180_000 }, async () => {
  await d.ecs.send(
    new CreateServiceCommand({
      serviceName: 'bg',
      taskDefinition: 'bg-web:1',
      desiredCount: 2,
      healthCheckGracePeriodSeconds: 0,
      deploymentConfiguration: { strategy: 'BLUE_GREEN', bakeTimeInMinutes: 2 },
      loadBalancers: [{ targetGroupArn: blueTg, containerName: 'web', containerPort: 8080, advancedConfiguration: { alternateTargetGroupArn: greenTg, productionListenerRule: listenerArn, roleArn: 'arn:aws:iam::000000000000:role/ecsInfrastructure' } }],
    }),
  );
  await eventually(steadyOn('1'), 'the service steady on revision 1', 45_000);
  await eventually(async () => ((await hit(listenerPort, '/', { timeoutMs: 5_000 })).body.includes('revision 1') ? true : undefined), 'revision 1 served', 20_000);

  let arn: string;
  const results = await underLoad(async () => {
    await d.ecs.send(new UpdateServiceCommand({ service: 'bg', taskDefinition: 'bg-web:2' }));
    arn = (await service()).currentServiceDeployment!;
    await eventually(steadyOn('2'), 'the service steady on revision 2', 60_000);
  });
  assert.deepEqual(results.failed, [], `${results.failed.length} failed of ${results.ok + results.failed.length}`);
  const distinct = [...new Set(results.pages)];
  assert.deepEqual(distinct.sort(), ['page of revision 1', 'page of revision 2']);
  // Once production flipped, revision 1 never answered again: the last 30 answers are all revision 2.
  assert.deepEqual([...new Set(results.pages.slice(-30))], ['page of revision 2']);
  const firstNew = results.pages.indexOf('page of revision 2');
  assert.ok(results.pages.lastIndexOf('page of revision 1') < firstNew + 50, 'the flip is one switch, not a long mix');
  const h = (await d.ecs.send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [arn!] }))).serviceDeployments![0]!;
  assert.equal(h.status, 'SUCCESSFUL');
  assert.equal(h.lifecycleStage, 'CLEAN_UP');
});

it('linear and canary deployments, and a canary rolled back, under a steady request loop fail no request', { timeout: 240_000 }, async () => {
  const lbRef = { targetGroupArn: blueTg, containerName: 'web', containerPort: 8080, advancedConfiguration: { alternateTargetGroupArn: greenTg, productionListenerRule: listenerArn, roleArn: 'arn:aws:iam::000000000000:role/ecsInfrastructure' } };
  // LINEAR in two steps of 50 %, then CANARY with 20 % first: both end on the new page.
  const linear = await underLoad(async () => {
    await d.ecs.send(new UpdateServiceCommand({ service: 'bg', taskDefinition: 'bg-web:3', loadBalancers: [lbRef], deploymentConfiguration: { strategy: 'LINEAR', linearConfiguration: { stepPercent: 50, stepBakeTimeInMinutes: 2 } } }));
    await eventually(steadyOn('3'), 'the service steady on revision 3 (linear)', 90_000);
  });
  assert.deepEqual(linear.failed, [], `linear: ${linear.failed.length} failed of ${linear.ok + linear.failed.length}`);
  assert.deepEqual([...new Set(linear.pages)].sort(), ['page of revision 2', 'page of revision 3']);
  assert.deepEqual([...new Set(linear.pages.slice(-30))], ['page of revision 3']);

  const canary = await underLoad(async () => {
    await d.ecs.send(new UpdateServiceCommand({ service: 'bg', taskDefinition: 'bg-web:4', deploymentConfiguration: { strategy: 'CANARY', canaryConfiguration: { canaryPercent: 20, canaryBakeTimeInMinutes: 3 } } }));
    await eventually(steadyOn('4'), 'the service steady on revision 4 (canary)', 90_000);
  });
  assert.deepEqual(canary.failed, [], `canary: ${canary.failed.length} failed of ${canary.ok + canary.failed.length}`);
  assert.deepEqual([...new Set(canary.pages.slice(-30))], ['page of revision 4']);

  // A canary stopped with ROLLBACK while its 20 % bakes: traffic goes back to revision 4 and stays.
  let arn: string;
  const rolledBack = await underLoad(async () => {
    await d.ecs.send(new UpdateServiceCommand({ service: 'bg', taskDefinition: 'bg-web:5', deploymentConfiguration: { strategy: 'CANARY', canaryConfiguration: { canaryPercent: 20, canaryBakeTimeInMinutes: 600 } } }));
    arn = (await service()).currentServiceDeployment!;
    const stage = async () => (await d.ecs.send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [arn] }))).serviceDeployments![0]!.lifecycleStage;
    await eventually(async () => ((await stage()) === 'PRODUCTION_TRAFFIC_SHIFT' ? true : undefined), 'the canary shifting production traffic', 60_000);
    await d.ecs.send(new StopServiceDeploymentCommand({ serviceDeploymentArn: arn, stopType: 'ROLLBACK' }));
    await eventually(steadyOn('4'), 'the service back on revision 4', 60_000);
  });
  assert.deepEqual(rolledBack.failed, [], `rollback: ${rolledBack.failed.length} failed of ${rolledBack.ok + rolledBack.failed.length}`);
  assert.deepEqual([...new Set(rolledBack.pages.slice(-30))], ['page of revision 4']);
  const h = (await d.ecs.send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [arn!] }))).serviceDeployments![0]!;
  assert.equal(h.status, 'ROLLBACK_SUCCESSFUL');
});
