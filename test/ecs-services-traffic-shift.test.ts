/**
 * ECS BLUE_GREEN, LINEAR and CANARY deployments on simulated agents, with SDK v3 (ECS and ELBv2)
 * and the AWS CLI v1: a service behind two target groups (primary and alternate) and two
 * listeners (production and test). Blue/green flips the production listener to the green target
 * group after green is healthy, bakes, then stops blue; the roles of the two target groups swap
 * for the next deployment; a rollback during the bake puts traffic back and stops green; linear
 * and canary move the listener's weights in their steps; a PAUSE hook waits for
 * ContinueServiceDeployment; bad configurations are refused with ECS's error. A minute of bake
 * time is one second here (deploymentMinuteSeconds). No data plane runs: registered targets
 * count as healthy.
 */
import {
  ContinueServiceDeploymentCommand,
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeServiceDeploymentsCommand,
  DescribeServicesCommand,
  ListServicesCommand,
  RegisterTaskDefinitionCommand,
  StopServiceDeploymentCommand,
  UpdateServiceCommand,
  type CreateServiceCommandInput,
  type Service,
} from '@aws-sdk/client-ecs';
import { CreateListenerCommand, CreateLoadBalancerCommand, CreateRuleCommand, CreateTargetGroupCommand, DescribeListenersCommand, DescribeTargetHealthCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { CloudWatchClient, PutMetricAlarmCommand, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { SimulatedRuntime, type Agent } from '../src/agent/index.js';
import { simulatedAgent } from './agent/helpers.js';
import { requireCliV1 } from './helpers/aws-cli.js';
import { credentials, startDockyard, type TestDockyard } from './helpers/dockyard.js';
import { eventually } from './helpers/lb.js';

const CLUSTER = 'shift';
let d: TestDockyard;
let elb: ElasticLoadBalancingV2Client;
let stateRoot: string;
const agents: Agent[] = [];
let blueTg: string;
let greenTg: string;
let prodListener: string;
let testListener: string;

const service = async (name = 'web') => (await d.ecs.send(new DescribeServicesCommand({ cluster: CLUSTER, services: [name] }))).services![0]!;
const history = async (arn: string) => (await d.ecs.send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [arn] }))).serviceDeployments![0]!;
/** The listener's forward weights, `tg=weight` by target group (blue / green). */
async function weights(listener: string): Promise<{ blue: number; green: number }> {
  const l = (await elb.send(new DescribeListenersCommand({ ListenerArns: [listener] }))).Listeners![0]!;
  const groups = l.DefaultActions![0]!.ForwardConfig!.TargetGroups!;
  const of = (tg: string) => groups.find((g) => g.TargetGroupArn === tg)?.Weight ?? 0;
  return { blue: of(blueTg), green: of(greenTg) };
}
const targets = async (tg: string) => ((await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg }))).TargetHealthDescriptions ?? []).length;
const steadyOn = (rev: number, name = 'web') => async () => {
  const s = await service(name);
  return s.deployments?.length === 1 && s.deployments[0]!.rolloutState === 'COMPLETED' && s.runningCount === 2 && s.taskDefinition!.endsWith(`:${rev}`) ? s : undefined;
};
const events = (s: Service) => (s.events ?? []).map((e) => e.message!).join('\n');
const lbs = (tg = blueTg, alt = greenTg) => [
  { targetGroupArn: tg, containerName: 'app', containerPort: 8080, advancedConfiguration: { alternateTargetGroupArn: alt, productionListenerRule: prodListener, testListenerRule: testListener, roleArn: 'arn:aws:iam::000000000000:role/ecsInfrastructure' } },
];

before(async () => {
  d = await startDockyard({ serviceControllerIdleMs: 200, agentHeartbeatIntervalMs: 500, deploymentMinuteSeconds: 1, loadBalancing: { dataPlane: false }, metrics: { alarmEvaluationIntervalMs: 0 } });
  elb = new ElasticLoadBalancingV2Client({ endpoint: d.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
  stateRoot = mkdtempSync(join(tmpdir(), 'dockyard-shift-'));
  await d.ecs.send(new CreateClusterCommand({ clusterName: CLUSTER }));
  const joinToken = (await d.app.agentAuth.createJoinToken({ description: 'traffic shift test' }, 'test')).token;
  for (let i = 0; i < 2; i++) {
    const a = await simulatedAgent(d, { cluster: CLUSTER, stateDir: join(stateRoot, String(i)), runtime: new SimulatedRuntime({ cpus: 4, memoryMiB: 8192, startMs: 20, failPulls: ['simulated/broken:1'] }), joinToken, pollWaitMs: 5000 });
    await a.start();
    agents.push(a);
  }
  for (let rev = 1; rev <= 6; rev++) {
    await d.ecs.send(new RegisterTaskDefinitionCommand({ family: 'web', containerDefinitions: [{ name: 'app', image: `simulated/web:${rev}`, cpu: 64, memory: 64, portMappings: [{ containerPort: 8080, hostPort: 0 }] }] }));
  }
  await d.ecs.send(new RegisterTaskDefinitionCommand({ family: 'web', containerDefinitions: [{ name: 'app', image: 'simulated/broken:1', cpu: 64, memory: 64, portMappings: [{ containerPort: 8080, hostPort: 0 }] }] }));
  const lb = (await elb.send(new CreateLoadBalancerCommand({ Name: 'shift', Subnets: ['subnet-1'] }))).LoadBalancers![0]!;
  const tg = async (name: string) => (await elb.send(new CreateTargetGroupCommand({ Name: name, Protocol: 'HTTP', Port: 8080, VpcId: 'vpc-1' }))).TargetGroups![0]!.TargetGroupArn!;
  blueTg = await tg('blue');
  greenTg = await tg('green');
  const forward = [{ Type: 'forward' as const, ForwardConfig: { TargetGroups: [{ TargetGroupArn: blueTg, Weight: 100 }, { TargetGroupArn: greenTg, Weight: 0 }] } }];
  prodListener = (await elb.send(new CreateListenerCommand({ LoadBalancerArn: lb.LoadBalancerArn, Protocol: 'HTTP', Port: 18080, DefaultActions: forward }))).Listeners![0]!.ListenerArn!;
  testListener = (await elb.send(new CreateListenerCommand({ LoadBalancerArn: lb.LoadBalancerArn, Protocol: 'HTTP', Port: 18081, DefaultActions: forward }))).Listeners![0]!.ListenerArn!;
});

after(async () => {
  await Promise.all(agents.map((a) => a.close().catch(() => undefined)));
  await d.stop();
  rmSync(stateRoot, { recursive: true, force: true });
});

describe('ECS traffic-shifting deployments', { timeout: 180_000 }, () => {
  it('refuses BLUE_GREEN, LINEAR and CANARY configurations ECS refuses, in its words, leaving nothing behind', async () => {
    const create = async (over: Partial<CreateServiceCommandInput>) => {
      try {
        await d.ecs.send(new CreateServiceCommand({ cluster: CLUSTER, serviceName: 'bad', taskDefinition: 'web:1', desiredCount: 1, deploymentConfiguration: { strategy: 'BLUE_GREEN' }, loadBalancers: lbs(), ...over }));
      } catch (e) {
        return `${(e as Error).name}: ${(e as Error).message}`;
      }
      throw new Error('expected CreateService to fail');
    };
    const plain = [{ targetGroupArn: blueTg, containerName: 'app', containerPort: 8080 }];
    assert.match(await create({ loadBalancers: plain }), /^InvalidParameterException: advancedConfiguration is required for each load balancer when the deployment strategy is BLUE_GREEN\.$/);
    assert.match(await create({ loadBalancers: [] }), /^InvalidParameterException: The BLUE_GREEN deployment strategy requires a load balancer/);
    assert.match(await create({ loadBalancers: lbs(blueTg, blueTg) }), /^InvalidParameterException: alternateTargetGroupArn must be different from targetGroupArn\.$/);
    const noRole = lbs();
    delete (noRole[0]!.advancedConfiguration as { roleArn?: string }).roleArn;
    assert.match(await create({ loadBalancers: noRole }), /^InvalidParameterException: roleArn can not be blank\.$/);
    const badRule = lbs();
    badRule[0]!.advancedConfiguration.productionListenerRule = `${prodListener.replace(':listener/', ':listener-rule/')}/0123456789abcdef`;
    assert.match(await create({ loadBalancers: badRule }), /^InvalidParameterException: Unable to find listener or listener rule with productionListenerRule /);
    const fixed = (
      await elb.send(new CreateRuleCommand({ ListenerArn: prodListener, Priority: 10, Conditions: [{ Field: 'path-pattern', Values: ['/maintenance'] }], Actions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '503' } }] }))
    ).Rules![0]!.RuleArn!;
    const fixedRule = lbs();
    fixedRule[0]!.advancedConfiguration.productionListenerRule = fixed;
    assert.match(await create({ loadBalancers: fixedRule }), /^InvalidParameterException: The productionListenerRule .* has actions other than forward, which BLUE_GREEN deployments do not support\.$/);
    const lambda = { hookTargetArn: 'arn:aws:lambda:us-east-1:000000000000:function:check', roleArn: 'arn:aws:iam::000000000000:role/hooks', lifecycleStages: ['POST_SCALE_UP' as const] };
    assert.match(await create({ deploymentConfiguration: { strategy: 'BLUE_GREEN', lifecycleHooks: [lambda] } }), /^InvalidParameterException: Lifecycle hooks of target type AWS_LAMBDA are not supported.*targetType PAUSE/);
    assert.match(await create({ deploymentConfiguration: { strategy: 'LINEAR', linearConfiguration: { stepPercent: 1 } } }), /^InvalidParameterException: stepPercent must be a multiple of 0\.1 between 3\.0 and 100\.0\.$/);
    assert.match(await create({ deploymentConfiguration: { strategy: 'CANARY', canaryConfiguration: { canaryPercent: 5, canaryBakeTimeInMinutes: 2000 } } }), /^InvalidParameterException: canaryBakeTimeInMinutes must be between 0 and 1440\.$/);
    assert.match(await create({ deploymentConfiguration: { strategy: 'ROLLING', lifecycleHooks: [{ targetType: 'PAUSE', lifecycleStages: ['POST_SCALE_UP'] }] } }), /^InvalidParameterException: Lifecycle hooks are only supported with/);
    assert.deepEqual((await d.ecs.send(new ListServicesCommand({ cluster: CLUSTER }))).serviceArns, [], 'no half-created service');
  });

  it('blue/green: green behind the alternate target group, test then production traffic, bake, blue stopped; the target groups swap roles', async () => {
    await d.ecs.send(new CreateServiceCommand({ cluster: CLUSTER, serviceName: 'web', taskDefinition: 'web:1', desiredCount: 2, deploymentConfiguration: { strategy: 'BLUE_GREEN', bakeTimeInMinutes: 3 }, loadBalancers: lbs() }));
    await eventually(steadyOn(1), 'the service steady on revision 1', 30_000);
    assert.equal(await targets(blueTg), 2);
    assert.equal(await targets(greenTg), 0);

    await d.ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: 'web', taskDefinition: 'web:2' }));
    const arn = (await service()).currentServiceDeployment!;
    const stagesSeen = new Set<string>();
    // During the bake: production on green, both revisions running, blue still registered.
    const baking = await eventually(async () => {
      const h = await history(arn);
      stagesSeen.add(h.lifecycleStage!);
      return h.lifecycleStage === 'BAKE_TIME' ? h : undefined;
    }, 'the bake', 30_000);
    assert.equal(baking.status, 'IN_PROGRESS');
    assert.deepEqual(await weights(prodListener), { blue: 0, green: 100 });
    assert.deepEqual(await weights(testListener), { blue: 0, green: 100 });
    const during = await service();
    assert.equal(during.deployments!.length, 2);
    assert.equal(during.runningCount, 4, 'green at full count beside blue');
    assert.equal(await targets(blueTg), 2);
    assert.equal(await targets(greenTg), 2);

    await eventually(steadyOn(2), 'the service steady on revision 2', 30_000);
    for (const s of ['SCALE_UP', 'BAKE_TIME']) assert.ok(stagesSeen.has(s), [...stagesSeen].join(','));
    const done = await eventually(async () => {
      const h = await history(arn);
      return h.status === 'SUCCESSFUL' ? h : undefined;
    }, 'the service deployment SUCCESSFUL', 10_000);
    assert.equal(done.lifecycleStage, 'CLEAN_UP');
    await eventually(async () => ((await targets(blueTg)) === 0 ? true : undefined), 'blue deregistered', 10_000);
    assert.equal(await targets(greenTg), 2);
    assert.deepEqual(await weights(prodListener), { blue: 0, green: 100 });
    assert.match(events(await service()), /shifted 100% of production traffic to the new service revision/);

    // The next deployment's green is the former blue target group.
    await d.ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: 'web', taskDefinition: 'web:3', deploymentConfiguration: { strategy: 'BLUE_GREEN', bakeTimeInMinutes: 0 } }));
    await eventually(steadyOn(3), 'the service steady on revision 3', 30_000);
    assert.deepEqual(await weights(prodListener), { blue: 100, green: 0 });
    await eventually(async () => ((await targets(greenTg)) === 0 ? true : undefined), 'the old green deregistered', 10_000);
    assert.equal(await targets(blueTg), 2);
  });

  it('a rollback during the bake (StopServiceDeployment) puts production traffic back and stops green', async () => {
    await d.ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: 'web', taskDefinition: 'web:4', deploymentConfiguration: { strategy: 'BLUE_GREEN', bakeTimeInMinutes: 60 } }));
    const arn = (await service()).currentServiceDeployment!;
    await eventually(async () => ((await history(arn)).lifecycleStage === 'BAKE_TIME' ? true : undefined), 'the bake', 30_000);
    assert.deepEqual(await weights(prodListener), { blue: 0, green: 100 }, 'production on the new revision (in the former green group)');
    await d.ecs.send(new StopServiceDeploymentCommand({ serviceDeploymentArn: arn, stopType: 'ROLLBACK' }));
    assert.equal((await history(arn)).status, 'ROLLBACK_IN_PROGRESS');
    await eventually(steadyOn(3), 'back on revision 3', 30_000);
    assert.deepEqual(await weights(prodListener), { blue: 100, green: 0 });
    const h = await eventually(async () => {
      const h = await history(arn);
      return h.status === 'ROLLBACK_SUCCESSFUL' ? h : undefined;
    }, 'ROLLBACK_SUCCESSFUL', 10_000);
    assert.ok(h.rollback?.reason);
    await eventually(async () => ((await targets(greenTg)) === 0 ? true : undefined), 'green deregistered', 10_000);
    assert.match(events(await service()), /rolling back to deployment/);
  });

  it('linear: production weights move in stepPercent steps', async () => {
    await d.ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: 'web', taskDefinition: 'web:5', deploymentConfiguration: { strategy: 'LINEAR', linearConfiguration: { stepPercent: 50, stepBakeTimeInMinutes: 2 }, bakeTimeInMinutes: 0 } }));
    const seen = new Set<number>();
    await eventually(async () => {
      seen.add((await weights(prodListener)).green);
      return (await steadyOn(5)()) ? true : undefined;
    }, 'the service steady on revision 5', 40_000);
    assert.deepEqual([...seen].sort((a, b) => a - b), [0, 50, 100]);
    assert.deepEqual(await weights(prodListener), { blue: 0, green: 100 });
    assert.match(events(await service()), /shifted 50% of production traffic/);
  });

  it('canary with a PAUSE hook: waits for ContinueServiceDeployment, then canaryPercent, then the rest', async () => {
    await d.ecs.send(
      new UpdateServiceCommand({
        cluster: CLUSTER,
        service: 'web',
        taskDefinition: 'web:6',
        deploymentConfiguration: { strategy: 'CANARY', canaryConfiguration: { canaryPercent: 20, canaryBakeTimeInMinutes: 3 }, bakeTimeInMinutes: 0, lifecycleHooks: [{ targetType: 'PAUSE', lifecycleStages: ['POST_SCALE_UP'] }] },
      }),
    );
    const arn = (await service()).currentServiceDeployment!;
    const hook = await eventually(async () => (await history(arn)).lifecycleHookDetails?.find((x) => x.status === 'AWAITING_ACTION'), 'the pause hook', 30_000);
    assert.match(hook.hookId!, /^ecs-pause-/);
    assert.equal(hook.targetType, 'PAUSE');
    assert.equal((await history(arn)).lifecycleStage, 'POST_SCALE_UP');
    // Paused: no traffic moves (bounded look).
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal((await history(arn)).lifecycleStage, 'POST_SCALE_UP');
    assert.deepEqual(await weights(prodListener), { blue: 0, green: 100 }, 'production still on revision 5 (in the green group)');
    // A hook id that does not exist is refused.
    await assert.rejects(d.ecs.send(new ContinueServiceDeploymentCommand({ serviceDeploymentArn: arn, hookId: 'ecs-pause-nope' })), /InvalidParameterException|was not found/);
    // Continued with the AWS CLI v1.
    const { stdout } = await promisify(execFile)(requireCliV1(), ['ecs', 'continue-service-deployment', '--service-deployment-arn', arn, '--hook-id', hook.hookId!, '--action', 'CONTINUE', '--endpoint-url', d.endpoint, '--output', 'json'], { env: d.cliEnv, timeout: 60_000 });
    assert.equal(JSON.parse(stdout).serviceDeploymentArn, arn);
    // 0 before (asserted above while paused); the CLI takes a second to start, so the canary is looked for from there.
    const seen = new Set<number>([0]);
    await eventually(async () => {
      seen.add((await weights(prodListener)).blue);
      return (await steadyOn(6)()) ? true : undefined;
    }, 'the service steady on revision 6', 40_000);
    assert.deepEqual([...seen].sort((a, b) => a - b), [0, 20, 100], 'revision 6 (blue group) took 20% before all of it');
    assert.equal((await history(arn)).lifecycleHookDetails![0]!.status, 'SUCCEEDED');
  });

  it('the circuit breaker rolls a blue/green deployment whose tasks fail back, traffic never leaving the old revision', async () => {
    const before = await weights(prodListener);
    await d.ecs.send(
      new UpdateServiceCommand({
        cluster: CLUSTER,
        service: 'web',
        taskDefinition: 'web:7',
        deploymentConfiguration: { strategy: 'BLUE_GREEN', bakeTimeInMinutes: 0, lifecycleHooks: [], deploymentCircuitBreaker: { enable: true, rollback: true } },
      }),
    );
    const arn = (await service()).currentServiceDeployment!;
    const h = await eventually(async () => {
      const h = await history(arn);
      return h.status === 'ROLLBACK_SUCCESSFUL' ? h : undefined;
    }, 'the rollback', 60_000);
    assert.equal(h.deploymentCircuitBreaker?.status, 'TRIGGERED');
    await eventually(steadyOn(6), 'back on revision 6', 30_000);
    assert.deepEqual(await weights(prodListener), before);
    assert.match(events(await service()), /deployment failed: tasks failed to start/);
  });

  it('ContinueServiceDeployment with ROLLBACK at a PAUSE hook returns to the old revision', async () => {
    await d.ecs.send(
      new UpdateServiceCommand({ cluster: CLUSTER, service: 'web', taskDefinition: 'web:5', deploymentConfiguration: { strategy: 'BLUE_GREEN', lifecycleHooks: [{ targetType: 'PAUSE', lifecycleStages: ['PRE_SCALE_UP'] }] } }),
    );
    const arn = (await service()).currentServiceDeployment!;
    const hook = await eventually(async () => (await history(arn)).lifecycleHookDetails?.find((x) => x.status === 'AWAITING_ACTION'), 'the pause hook', 30_000);
    assert.equal((await service()).runningCount, 2, 'paused before scale-up: no new task');
    await d.ecs.send(new ContinueServiceDeploymentCommand({ serviceDeploymentArn: arn, hookId: hook.hookId!, action: 'ROLLBACK' }));
    await eventually(async () => ((await history(arn)).status === 'ROLLBACK_SUCCESSFUL' ? true : undefined), 'the rollback', 30_000);
    await eventually(steadyOn(6), 'back on revision 6', 30_000);
    // The hook is settled: acting on it again is refused.
    await assert.rejects(d.ecs.send(new ContinueServiceDeploymentCommand({ serviceDeploymentArn: arn, hookId: hook.hookId! })), /not in progress|not awaiting/);
  });

  it('a deployment alarm in ALARM during the bake rolls back: traffic returns, the history says TRIGGERED', async () => {
    const cw = new CloudWatchClient({ endpoint: d.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
    await cw.send(new PutMetricAlarmCommand({ AlarmName: 'web-5xx', Namespace: 'AWS/ApplicationELB', MetricName: 'HTTPCode_Target_5XX_Count', Statistic: 'Sum', Period: 60, EvaluationPeriods: 1, Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' }));
    const before = await weights(prodListener);
    await d.ecs.send(
      new UpdateServiceCommand({
        cluster: CLUSTER,
        service: 'web',
        taskDefinition: 'web:5',
        deploymentConfiguration: { strategy: 'BLUE_GREEN', bakeTimeInMinutes: 60, lifecycleHooks: [], alarms: { alarmNames: ['web-5xx'], enable: true, rollback: true } },
      }),
    );
    const arn = (await service()).currentServiceDeployment!;
    await eventually(async () => ((await history(arn)).lifecycleStage === 'BAKE_TIME' ? true : undefined), 'the bake', 30_000);
    assert.notDeepEqual(await weights(prodListener), before, 'production on the new revision while baking');
    await cw.send(new SetAlarmStateCommand({ AlarmName: 'web-5xx', StateValue: 'ALARM', StateReason: 'test' }));
    const h = await eventually(async () => {
      const h = await history(arn);
      return h.status === 'ROLLBACK_SUCCESSFUL' ? h : undefined;
    }, 'the rollback', 30_000);
    assert.equal(h.alarms?.status, 'TRIGGERED');
    assert.deepEqual(h.alarms?.triggeredAlarmNames, ['web-5xx']);
    await eventually(steadyOn(6), 'back on revision 6', 30_000);
    assert.deepEqual(await weights(prodListener), before);
    assert.match(events(await service()), /deployment failed: alarm web-5xx is in ALARM state/);
  });

  it('a ROLLING deployment is rolled back by its deployment alarm too; the rollback itself is not failed by the alarm still in ALARM', async () => {
    await d.ecs.send(
      new UpdateServiceCommand({
        cluster: CLUSTER,
        service: 'web',
        taskDefinition: 'web:7',
        deploymentConfiguration: { strategy: 'ROLLING', deploymentCircuitBreaker: { enable: false, rollback: false }, alarms: { alarmNames: ['web-5xx'], enable: true, rollback: true } },
      }),
    );
    const arn = (await service()).currentServiceDeployment!;
    const h = await eventually(async () => {
      const h = await history(arn);
      return h.status === 'ROLLBACK_SUCCESSFUL' ? h : undefined;
    }, 'the rollback', 30_000);
    assert.equal(h.alarms?.status, 'TRIGGERED');
    const s = await eventually(steadyOn(6), 'back on revision 6', 30_000);
    assert.match(s.deployments![0]!.rolloutStateReason!, /CloudWatch alarm web-5xx is in ALARM state/);
  });
});
