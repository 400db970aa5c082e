/**
 * Where the listeners are served: in the Dockyard process (`loadBalancing.workers: 1`) or in
 * data-plane worker processes. In process: a listener serves, a change applies live and the
 * counters are published. With two workers: a worker killed with SIGKILL is replaced, the listener
 * keeps answering meanwhile, and the replacement is sent the configuration (a change made after
 * it started is answered on every new connection).
 */
import { CloudWatchClient, GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import { CreateListenerCommand, CreateLoadBalancerCommand, CreateTargetGroupCommand, ElasticLoadBalancingV2Client, ModifyListenerCommand, RegisterTargetsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { credentials, startDockyard, type TestDockyard } from './helpers/dockyard.js';
import { backendOf, eventually, hit, startBackend, type Backend } from './helpers/lb.js';
import { freePort } from './helpers/net.js';

const started: { d: TestDockyard; elb: ElasticLoadBalancingV2Client }[] = [];
const backends: Backend[] = [];
after(async () => {
  for (const s of started) {
    s.elb.destroy();
    await s.d.stop();
  }
  await Promise.all(backends.map((b) => b.close()));
});

/** A Dockyard with `workers` data-plane processes and one listener forwarding to a backend. */
async function setup(workers: number) {
  const d = await startDockyard({ loadBalancing: { workers }, metrics: { loadBalancerMetricsIntervalMs: 200, alarmEvaluationIntervalMs: 0, scheduledActionIntervalMs: 0 } });
  const elb = new ElasticLoadBalancingV2Client({ endpoint: d.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
  started.push({ d, elb });
  const b = await startBackend(`b${workers}`);
  backends.push(b);
  const tg = (await elb.send(new CreateTargetGroupCommand({ Name: 'tg', Protocol: 'HTTP', Port: 80, VpcId: 'vpc-1', TargetType: 'ip', HealthCheckEnabled: false }))).TargetGroups![0]!;
  await elb.send(new RegisterTargetsCommand({ TargetGroupArn: tg.TargetGroupArn, Targets: [{ Id: '127.0.0.1', Port: b.port }] }));
  const lb = (await elb.send(new CreateLoadBalancerCommand({ Name: 'lb' }))).LoadBalancers![0]!;
  const port = await freePort();
  const l = (await elb.send(new CreateListenerCommand({ LoadBalancerArn: lb.LoadBalancerArn, Port: port, Protocol: 'HTTP', DefaultActions: [{ Type: 'forward', TargetGroupArn: tg.TargetGroupArn }] }))).Listeners![0]!;
  await d.app.loadBalancing!.settled();
  await eventually(() => hit(port, '/').then(() => true), `listener on ${port}`);
  const fixed = async (body: string) => {
    await elb.send(new ModifyListenerCommand({ ListenerArn: l.ListenerArn, DefaultActions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '200', ContentType: 'text/plain', MessageBody: body } }] }));
    await d.app.loadBalancing!.settled();
  };
  return { d, port, lbArn: lb.LoadBalancerArn!, backend: b, fixed };
}

describe('load balancer data-plane processes', () => {
  it('serves in the Dockyard process with workers: 1, applies changes live and publishes its counters', async () => {
    const { d, port, lbArn, backend, fixed } = await setup(1);
    assert.deepEqual(d.app.loadBalancing!.workerPids(), []);
    for (let i = 0; i < 3; i++) assert.equal(backendOf(await hit(port, '/')), backend.name);
    await fixed('in process');
    assert.equal((await hit(port, '/')).body, 'in process');
    const cw = new CloudWatchClient({ endpoint: d.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
    try {
      const dims = [{ Name: 'LoadBalancer', Value: lbArn.split(':loadbalancer/')[1]! }];
      const requests = async () =>
        (await cw.send(new GetMetricStatisticsCommand({ Namespace: 'AWS/ApplicationELB', MetricName: 'RequestCount', Dimensions: dims, Statistics: ['Sum'], Period: 60, StartTime: new Date(Date.now() - 600_000), EndTime: new Date(Date.now() + 120_000) }))).Datapoints!.reduce((s, p) => s + p.Sum!, 0);
      // The first request (the readiness probe) and the three above reached the target; the fixed response is no target's.
      await eventually(async () => ((await requests()) === 4 ? true : undefined), 'RequestCount 4');
    } finally {
      cw.destroy();
    }
  });

  it('replaces a killed worker and sends it the configuration', async () => {
    const { d, port, backend, fixed } = await setup(2);
    const dp = d.app.loadBalancing!;
    await eventually(async () => (dp.workerPids().length === 2 ? true : undefined), 'two workers');
    const [victim, survivor] = dp.workerPids();
    process.kill(victim!, 'SIGKILL');
    // The survivor accepts on the shared socket meanwhile.
    for (let i = 0; i < 5; i++) assert.equal(backendOf(await hit(port, '/')), backend.name);
    await eventually(async () => {
      const pids = dp.workerPids();
      return pids.length === 2 && !pids.includes(victim!) && pids.includes(survivor!) ? true : undefined;
    }, 'a replacement worker');
    await fixed('after the replacement');
    // Every new connection lands on one of the two workers: all answer with the new configuration.
    const bodies = await Promise.all(Array.from({ length: 12 }, () => hit(port, '/').then((r) => r.body)));
    assert.deepEqual(new Set(bodies), new Set(['after the replacement']));
  });
});
