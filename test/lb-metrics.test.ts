/**
 * The load balancer's `AWS/ApplicationELB` metrics: requests through a listener served by two
 * data-plane workers are counted, aggregated and published (every 300 ms here instead of every
 * minute), then read with CLI v1 get-metric-statistics and SDK v3 GetMetricData: RequestCount by
 * load balancer and by target group, RequestCountPerTarget, the target's 2XX, the load balancer's
 * own 503, TargetResponseTime, Healthy/UnHealthyHostCount, connection counts; and the alarm an
 * ALBRequestCountPerTarget target-tracking policy creates reads the same series.
 */
import { ApplicationAutoScalingClient, PutScalingPolicyCommand, RegisterScalableTargetCommand } from '@aws-sdk/client-application-auto-scaling';
import { CloudWatchClient, DescribeAlarmsCommand, GetMetricDataCommand, GetMetricStatisticsCommand, type Dimension } from '@aws-sdk/client-cloudwatch';
import { CreateClusterCommand, CreateServiceCommand, RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { CreateListenerCommand, CreateLoadBalancerCommand, CreateRuleCommand, CreateTargetGroupCommand, DescribeTargetHealthCommand, ElasticLoadBalancingV2Client, RegisterTargetsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { requireCliV1, runCli } from './helpers/aws-cli.js';
import { credentials, startDockyard, type TestDockyard } from './helpers/dockyard.js';
import { eventually, hit, startBackend, type Backend } from './helpers/lb.js';
import { freePort } from './helpers/net.js';

describe('load balancer metrics', () => {
  let d: TestDockyard;
  let elb: ElasticLoadBalancingV2Client;
  let cw: CloudWatchClient;
  let aas: ApplicationAutoScalingClient;
  const backends: Backend[] = [];
  const agent = new Agent({ keepAlive: true, maxSockets: 2 });
  let lbDim = '';
  let tgDim = '';
  let resourceLabel = '';

  before(async () => {
    d = await startDockyard({ loadBalancing: { workers: 2 }, metrics: { loadBalancerMetricsIntervalMs: 300, alarmEvaluationIntervalMs: 0, scheduledActionIntervalMs: 0 } });
    elb = new ElasticLoadBalancingV2Client({ endpoint: d.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
    cw = new CloudWatchClient({ endpoint: d.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
    aas = new ApplicationAutoScalingClient({ endpoint: d.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
  });
  after(async () => {
    agent.destroy();
    elb.destroy();
    cw.destroy();
    aas.destroy();
    await d.stop();
    await Promise.all(backends.map((b) => b.close()));
  });

  const range = () => ({ StartTime: new Date(Date.now() - 600_000), EndTime: new Date(Date.now() + 120_000), Period: 60 });
  const sum = async (metric: string, dims: Dimension[], stat: 'Sum' | 'Maximum' | 'Average' = 'Sum') => {
    const r = await cw.send(new GetMetricStatisticsCommand({ Namespace: 'AWS/ApplicationELB', MetricName: metric, Dimensions: dims, Statistics: [stat], ...range() }));
    return r.Datapoints!.reduce((s, p) => (stat === 'Sum' ? s + p.Sum! : Math.max(s, p[stat]!)), 0);
  };

  it('publishes request, response, error, connection and health metrics as ALB does', async () => {
    backends.push(await startBackend('a'), await startBackend('b'));
    const tg = (await elb.send(new CreateTargetGroupCommand({ Name: 'web', Protocol: 'HTTP', Port: 80, VpcId: 'vpc-1', TargetType: 'ip', HealthCheckPath: '/health', HealthCheckIntervalSeconds: 5, HealthCheckTimeoutSeconds: 2, HealthyThresholdCount: 2 }))).TargetGroups![0]!;
    const empty = (await elb.send(new CreateTargetGroupCommand({ Name: 'empty', Protocol: 'HTTP', Port: 80, VpcId: 'vpc-1', TargetType: 'ip' }))).TargetGroups![0]!;
    await elb.send(new RegisterTargetsCommand({ TargetGroupArn: tg.TargetGroupArn, Targets: backends.map((b) => ({ Id: '127.0.0.1', Port: b.port })) }));
    const lb = (await elb.send(new CreateLoadBalancerCommand({ Name: 'shop' }))).LoadBalancers![0]!;
    const port = await freePort();
    const listener = (await elb.send(new CreateListenerCommand({ LoadBalancerArn: lb.LoadBalancerArn, Port: port, Protocol: 'HTTP', DefaultActions: [{ Type: 'forward', TargetGroupArn: tg.TargetGroupArn }] }))).Listeners![0]!;
    await elb.send(new CreateRuleCommand({ ListenerArn: listener.ListenerArn, Priority: 1, Conditions: [{ Field: 'path-pattern', Values: ['/empty'] }], Actions: [{ Type: 'forward', TargetGroupArn: empty.TargetGroupArn }] }));
    await d.app.loadBalancing!.settled();
    await eventually(async () => {
      const h = (await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg.TargetGroupArn }))).TargetHealthDescriptions!;
      return h.every((x) => x.TargetHealth!.State === 'healthy') ? true : undefined;
    }, 'both targets healthy');

    for (let i = 0; i < 10; i++) assert.equal((await hit(port, `/r${i}`, { agent })).status, 200);
    assert.equal((await hit(port, '/empty', { agent })).status, 503);

    lbDim = lb.LoadBalancerArn!.split(':loadbalancer/')[1]!;
    tgDim = tg.TargetGroupArn!.split(':').at(-1)!;
    resourceLabel = `${lbDim}/${tgDim}`;
    assert.match(lbDim, /^app\/shop\/[0-9a-f]{16}$/);
    const byLb = [{ Name: 'LoadBalancer', Value: lbDim }];
    const byGroup = [{ Name: 'TargetGroup', Value: tgDim }];
    const both = [...byGroup, ...byLb];
    // Published every 300 ms: wait (bounded) for the period holding the requests.
    await eventually(async () => ((await sum('RequestCount', byLb)) === 10 ? true : undefined), 'RequestCount 10');

    const cli = await runCli(requireCliV1(), d.endpoint, d.cliEnv, ['cloudwatch', 'get-metric-statistics', '--namespace', 'AWS/ApplicationELB', '--metric-name', 'RequestCount', '--dimensions', `Name=LoadBalancer,Value=${lbDim}`, '--statistics', 'Sum', '--period', '60', '--start-time', range().StartTime.toISOString(), '--end-time', range().EndTime.toISOString()]);
    assert.equal(cli.code, 0, cli.stderr);
    assert.equal((cli.json.Datapoints as { Sum: number }[]).reduce((s, p) => s + p.Sum, 0), 10);

    const q = (Id: string, MetricName: string, Dimensions: Dimension[], Stat = 'Sum') => ({ Id, MetricStat: { Metric: { Namespace: 'AWS/ApplicationELB', MetricName, Dimensions }, Period: 60, Stat } });
    const data = await cw.send(
      new GetMetricDataCommand({
        ...range(),
        MetricDataQueries: [
          q('requests', 'RequestCount', both),
          q('pertarget', 'RequestCountPerTarget', byGroup),
          q('ok', 'HTTPCode_Target_2XX_Count', both),
          q('elb503', 'HTTPCode_ELB_503_Count', byLb),
          q('elb5xx', 'HTTPCode_ELB_5XX_Count', byLb),
          q('healthy', 'HealthyHostCount', both, 'Maximum'),
          q('unhealthy', 'UnHealthyHostCount', both, 'Maximum'),
          q('time', 'TargetResponseTime', both, 'Average'),
          q('newconn', 'NewConnectionCount', byLb),
        ],
      }),
    );
    const v = Object.fromEntries(data.MetricDataResults!.map((r) => [r.Id, r.Values!.reduce((s, x) => (r.Id === 'healthy' || r.Id === 'unhealthy' || r.Id === 'time' ? Math.max(s, x) : s + x), 0)]));
    assert.equal(v.requests, 10);
    assert.equal(v.pertarget, 5, 'ten requests over two healthy targets');
    assert.equal(v.ok, 10);
    assert.equal(v.elb503, 1);
    assert.equal(v.elb5xx, 1);
    assert.equal(v.healthy, 2);
    assert.equal(v.unhealthy, 0);
    assert.ok(v.time! > 0 && v.time! < 5, `TargetResponseTime ${v.time}`);
    assert.ok(v.newconn! >= 1 && v.newconn! <= 11, `NewConnectionCount ${v.newconn}`);
  });

  it('the ALBRequestCountPerTarget alarm of a target-tracking policy reads the published series', async () => {
    await d.ecs.send(new CreateClusterCommand({ clusterName: 'default' }));
    await d.ecs.send(new RegisterTaskDefinitionCommand({ family: 'web', containerDefinitions: [{ name: 'app', image: 'simulated/web:1', memory: 128 }] }));
    await d.ecs.send(new CreateServiceCommand({ serviceName: 'web', taskDefinition: 'web:1', desiredCount: 0 }));
    const target = { ServiceNamespace: 'ecs', ResourceId: 'service/default/web', ScalableDimension: 'ecs:service:DesiredCount' } as const;
    await aas.send(new RegisterScalableTargetCommand({ ...target, MinCapacity: 1, MaxCapacity: 4 }));
    const policy = await aas.send(
      new PutScalingPolicyCommand({
        ...target,
        PolicyName: 'rps',
        PolicyType: 'TargetTrackingScaling',
        TargetTrackingScalingPolicyConfiguration: { TargetValue: 100, DisableScaleIn: true, PredefinedMetricSpecification: { PredefinedMetricType: 'ALBRequestCountPerTarget', ResourceLabel: resourceLabel } },
      }),
    );
    const [alarm] = (await cw.send(new DescribeAlarmsCommand({ AlarmNames: [policy.Alarms![0]!.AlarmName!] }))).MetricAlarms!;
    assert.equal(await sum(alarm!.MetricName!, alarm!.Dimensions!, alarm!.Statistic as 'Sum'), 5);
  });
});
