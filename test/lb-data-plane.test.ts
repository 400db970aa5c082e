/**
 * The load balancer's data plane, end to end over real sockets on 127.0.0.1: listeners created
 * with SDK v3 serve traffic to plain Node HTTP targets. Round robin, X-Forwarded-* and the trace
 * id, active health checks (only healthy targets get traffic, a killed target stops getting it,
 * fail-open), path / host / method rules, fixed responses and redirects, weighted forwards,
 * lb_cookie stickiness, least outstanding requests, draining that lets in-flight requests finish,
 * 502 / 503 / 504, WebSocket upgrades, and configuration changes applied on an open connection.
 */
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateRuleCommand,
  CreateTargetGroupCommand,
  DeregisterTargetsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  ModifyListenerCommand,
  ModifyLoadBalancerAttributesCommand,
  ModifyTargetGroupAttributesCommand,
  RegisterTargetsCommand,
  type Action,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { credentials, startDockyard, type TestDockyard } from './helpers/dockyard.js';
import { backendOf, eventually, hit, startBackend, type Backend } from './helpers/lb.js';
import { freePort } from './helpers/net.js';

let d: TestDockyard;
let elb: ElasticLoadBalancingV2Client;
const backends: Backend[] = [];

before(async () => {
  d = await startDockyard();
  elb = new ElasticLoadBalancingV2Client({ endpoint: d.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
});
after(async () => {
  elb.destroy();
  await d.stop();
  await Promise.all(backends.map((b) => b.close()));
});

async function backend(name: string) {
  const b = await startBackend(name);
  backends.push(b);
  return b;
}

let counter = 0;
/** A target group (health checks off unless given) with `targets` registered. */
async function targetGroup(targets: Backend[], opts: { healthCheck?: boolean; attributes?: Record<string, string> } = {}) {
  const tg = (
    await elb.send(
      new CreateTargetGroupCommand({
        Name: `tg-${++counter}`,
        Protocol: 'HTTP',
        Port: 80,
        VpcId: 'vpc-1',
        TargetType: 'ip',
        HealthCheckEnabled: opts.healthCheck ?? false,
        HealthCheckPath: '/health',
        HealthCheckIntervalSeconds: 5,
        HealthCheckTimeoutSeconds: 2,
        HealthyThresholdCount: 2,
        UnhealthyThresholdCount: 2,
      }),
    )
  ).TargetGroups![0]!;
  if (opts.attributes) await elb.send(new ModifyTargetGroupAttributesCommand({ TargetGroupArn: tg.TargetGroupArn, Attributes: Object.entries(opts.attributes).map(([Key, Value]) => ({ Key, Value })) }));
  if (targets.length) await elb.send(new RegisterTargetsCommand({ TargetGroupArn: tg.TargetGroupArn, Targets: targets.map((b) => ({ Id: '127.0.0.1', Port: b.port })) }));
  return tg.TargetGroupArn!;
}

/** A load balancer with one HTTP listener on a free port; resolves once the listener answers. */
async function listener(defaultActions: Action[], lbAttributes: Record<string, string> = {}) {
  const lb = (await elb.send(new CreateLoadBalancerCommand({ Name: `lb-${++counter}` }))).LoadBalancers![0]!;
  if (Object.keys(lbAttributes).length) await elb.send(new ModifyLoadBalancerAttributesCommand({ LoadBalancerArn: lb.LoadBalancerArn, Attributes: Object.entries(lbAttributes).map(([Key, Value]) => ({ Key, Value })) }));
  const port = await freePort();
  const l = (await elb.send(new CreateListenerCommand({ LoadBalancerArn: lb.LoadBalancerArn, Port: port, Protocol: 'HTTP', DefaultActions: defaultActions }))).Listeners![0]!;
  await d.app.loadBalancing!.settled();
  await eventually(() => hit(port, '/__ready').then(() => true), `listener on ${port}`);
  return { port, listenerArn: l.ListenerArn!, lbArn: lb.LoadBalancerArn!, dnsName: lb.DNSName! };
}

const forward = (tg: string): Action[] => [{ Type: 'forward', TargetGroupArn: tg }];

async function states(tg: string) {
  const h = (await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg }))).TargetHealthDescriptions!;
  return Object.fromEntries(h.map((x) => [x.Target!.Port!, `${x.TargetHealth!.State}${x.TargetHealth!.Reason ? ` ${x.TargetHealth!.Reason}` : ''}`]));
}

describe('load balancer data plane', () => {
  test('round robin over the targets, with X-Forwarded-For/-Proto/-Port and X-Amzn-Trace-Id, bodies both ways', async () => {
    const [a, b] = [await backend('a'), await backend('b')];
    const tg = await targetGroup([a, b]);
    const { port } = await listener(forward(tg));
    const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => hit(port, `/p${i}`)));
    assert.deepEqual(answers.map((x) => x.status), [200, 200, 200, 200, 200, 200]);
    const counts = new Map<string, number>();
    for (const x of answers) counts.set(backendOf(x), (counts.get(backendOf(x)) ?? 0) + 1);
    assert.deepEqual([...counts.entries()].sort(), [['a', 3], ['b', 3]]);
    const seen = JSON.parse(answers[0]!.body) as { headers: Record<string, string> };
    assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(seen.headers['x-forwarded-proto'], 'http');
    assert.equal(seen.headers['x-forwarded-port'], String(port));
    assert.match(seen.headers['x-amzn-trace-id']!, /^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$/);
    assert.equal(answers[0]!.headers['set-cookie']?.[0], 'app=1; Path=/', "the target's own headers come back");
    // An X-Forwarded-For from the client is appended to; a body streams to the target.
    const appended = JSON.parse((await hit(port, '/', { headers: { 'x-forwarded-for': '203.0.113.7' } })).body) as { headers: Record<string, string> };
    assert.equal(appended.headers['x-forwarded-for'], '203.0.113.7, 127.0.0.1');
    const big = Buffer.alloc(3 * 1024 * 1024, 7);
    const posted = await hit(port, '/upload', { method: 'POST', body: big, headers: { 'content-type': 'application/octet-stream' } });
    assert.match(posted.body, /^[ab] got 3145728 bytes$/);
  });

  test('health checks: traffic only to healthy targets, a killed target stops getting traffic, fail-open when none is healthy', async () => {
    const [a, b, c] = [await backend('hc-a'), await backend('hc-b'), await backend('hc-c')];
    c.healthStatus = 500;
    const tg = await targetGroup([a, b, c], { healthCheck: true });
    const { port } = await listener(forward(tg));
    await eventually(async () => {
      const s = await states(tg);
      return s[a.port] === 'healthy' && s[b.port] === 'healthy' && s[c.port] === 'unhealthy Target.ResponseCodeMismatch' ? s : undefined;
    }, 'a and b healthy, c unhealthy');
    const h = (await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg, Targets: [{ Id: '127.0.0.1', Port: c.port }] }))).TargetHealthDescriptions![0]!;
    assert.equal(h.TargetHealth?.Description, 'Health checks failed with these codes: [500]');
    assert.ok(a.seen.some((r) => r.path === '/health' && r.headers['user-agent'] === 'ELB-HealthChecker/2.0'));
    const before = await Promise.all(Array.from({ length: 8 }, () => hit(port, '/')));
    assert.deepEqual([...new Set(before.map(backendOf))].sort(), ['hc-a', 'hc-b'], 'the unhealthy target gets nothing');

    await b.close();
    await eventually(async () => ((await states(tg))[b.port] === 'unhealthy Target.FailedHealthChecks' ? true : undefined), 'the killed target unhealthy');
    const afterKill = await Promise.all(Array.from({ length: 8 }, () => hit(port, '/')));
    assert.deepEqual(afterKill.map(backendOf), Array(8).fill('hc-a'));

    a.healthStatus = 503;
    await eventually(async () => ((await states(tg))[a.port] === 'unhealthy Target.ResponseCodeMismatch' ? true : undefined), 'every target unhealthy');
    // None healthy: ALB fails open and spreads requests over every target (hc-b is gone, so some are 502s).
    const failOpen = await Promise.all(Array.from({ length: 9 }, () => hit(port, '/')));
    const who = new Set(failOpen.map(backendOf));
    assert.ok(who.has('hc-a') && who.has('hc-c'), `fail-open reached ${[...who].join(', ')}`);
  });

  test('rules in priority order: path, host, method; fixed responses, redirects; 503 without targets; live changes on an open connection', async () => {
    const [api, web, other] = [await backend('api'), await backend('web'), await backend('other')];
    const [apiTg, webTg, otherTg, emptyTg] = [await targetGroup([api]), await targetGroup([web]), await targetGroup([other]), await targetGroup([])];
    const { port, listenerArn } = await listener(forward(webTg));
    const rule = (Priority: number, Conditions: object[], Actions: Action[]) => elb.send(new CreateRuleCommand({ ListenerArn: listenerArn, Priority, Conditions, Actions }));
    await rule(30, [{ Field: 'path-pattern', Values: ['/api/*'] }], forward(otherTg));
    await rule(10, [{ Field: 'path-pattern', Values: ['/api/*'] }, { Field: 'http-request-method', HttpRequestMethodConfig: { Values: ['GET'] } }], forward(apiTg));
    await rule(20, [{ Field: 'host-header', Values: ['admin.*'] }], [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '403', ContentType: 'application/json', MessageBody: '{"denied":true}' } }]);
    await rule(40, [{ Field: 'path-pattern', Values: ['/old/*'] }], [{ Type: 'redirect', RedirectConfig: { Protocol: 'HTTPS', Port: '443', Host: 'new.example.com', Path: '/new/#{path}', StatusCode: 'HTTP_301' } }]);
    await rule(50, [{ Field: 'path-pattern', Values: ['/empty'] }], forward(emptyTg));
    await d.app.loadBalancing!.settled();

    assert.equal(backendOf(await hit(port, '/api/users')), 'api', 'priority 10 wins over 30');
    assert.equal(backendOf(await hit(port, '/api/users', { method: 'POST', body: 'x' })), 'other', 'a POST falls through to 30');
    assert.equal(backendOf(await hit(port, '/')), 'web', 'the default action');
    const denied = await hit(port, '/api/x', { headers: { host: 'admin.example.com' } });
    assert.equal(backendOf(denied), 'api', 'priority 10 (path) before 20 (host)');
    const admin = await hit(port, '/', { headers: { host: 'ADMIN.example.com:8080' } });
    assert.deepEqual([admin.status, admin.headers['content-type'], admin.body, admin.headers.server], [403, 'application/json', '{"denied":true}', 'awselb/2.0']);
    const moved = await hit(port, '/old/page?q=1');
    assert.deepEqual([moved.status, moved.headers.location], [301, 'https://new.example.com/new/old/page?q=1']);
    const empty = await hit(port, '/empty');
    assert.equal(empty.status, 503);
    assert.match(empty.body, /503 Service Temporarily Unavailable/);

    // A change applies to the next request on the same keep-alive connection.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      assert.equal(backendOf(await hit(port, '/', { agent })), 'web');
      await elb.send(new ModifyListenerCommand({ ListenerArn: listenerArn, DefaultActions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '200', MessageBody: 'changed' } }] }));
      await d.app.loadBalancing!.settled();
      const changed = await hit(port, '/', { agent });
      assert.deepEqual([changed.body, changed.reusedSocket], ['changed', true]);
    } finally {
      agent.destroy();
    }
  });

  test('weighted forwards and lb_cookie stickiness', async () => {
    const [blue, green] = [await backend('blue'), await backend('green')];
    const [blueTg, greenTg] = [await targetGroup([blue]), await targetGroup([green])];
    const weighted = (b: number, g: number): Action[] => [{ Type: 'forward', ForwardConfig: { TargetGroups: [{ TargetGroupArn: blueTg, Weight: b }, { TargetGroupArn: greenTg, Weight: g }] } }];
    const { port, listenerArn } = await listener(weighted(1, 0));
    const all = async (n: number) => (await Promise.all(Array.from({ length: n }, () => hit(port, '/')))).map(backendOf);
    assert.deepEqual(new Set(await all(10)), new Set(['blue']));
    await elb.send(new ModifyListenerCommand({ ListenerArn: listenerArn, DefaultActions: weighted(0, 100) }));
    await d.app.loadBalancing!.settled();
    assert.deepEqual(new Set(await all(10)), new Set(['green']));
    await elb.send(new ModifyListenerCommand({ ListenerArn: listenerArn, DefaultActions: weighted(50, 50) }));
    await d.app.loadBalancing!.settled();
    assert.deepEqual(new Set(await all(60)), new Set(['blue', 'green']), '50/50: both get traffic');

    // Stickiness: AWSALB names the target; requests carrying it stay there.
    const [s1, s2] = [await backend('s1'), await backend('s2')];
    const stickyTg = await targetGroup([s1, s2], { attributes: { 'stickiness.enabled': 'true', 'stickiness.lb_cookie.duration_seconds': '60' } });
    await elb.send(new ModifyListenerCommand({ ListenerArn: listenerArn, DefaultActions: forward(stickyTg) }));
    await d.app.loadBalancing!.settled();
    const first = await hit(port, '/');
    const cookie = (first.headers['set-cookie'] ?? []).find((c) => c.startsWith('AWSALB='));
    assert.ok(cookie, `AWSALB set: ${first.headers['set-cookie']}`);
    assert.match(cookie, /Expires=/);
    const again = await Promise.all(Array.from({ length: 10 }, () => hit(port, '/', { headers: { cookie: `x=1; ${cookie.split(';')[0]}` } })));
    assert.deepEqual(new Set(again.map(backendOf)), new Set([backendOf(first)]));
    const without = await Promise.all(Array.from({ length: 10 }, () => hit(port, '/')));
    assert.deepEqual(new Set(without.map(backendOf)), new Set(['s1', 's2']));
  });

  test('least outstanding requests sends new requests to the idle target', async () => {
    const [busy, idle] = [await backend('busy'), await backend('idle')];
    const tg = await targetGroup([busy], { attributes: { 'load_balancing.algorithm.type': 'least_outstanding_requests' } });
    const { port } = await listener(forward(tg));
    const slow = [hit(port, '/slow?ms=1500'), hit(port, '/slow?ms=1500')];
    await eventually(async () => (busy.seen.filter((r) => r.path === '/slow').length === 2 ? true : undefined), 'two slow requests at busy');
    await elb.send(new RegisterTargetsCommand({ TargetGroupArn: tg, Targets: [{ Id: '127.0.0.1', Port: idle.port }] }));
    await d.app.loadBalancing!.settled();
    const quick = [];
    for (let i = 0; i < 4; i++) quick.push(backendOf(await hit(port, '/')));
    assert.deepEqual(quick, ['idle', 'idle', 'idle', 'idle']);
    assert.deepEqual((await Promise.all(slow)).map(backendOf), ['busy', 'busy']);
  });

  test('deregistration drains: in-flight requests finish, new ones go elsewhere, then the target is gone', async () => {
    const [old, fresh] = [await backend('old'), await backend('fresh')];
    const tg = await targetGroup([old], { attributes: { 'deregistration_delay.timeout_seconds': '60' } });
    const { port } = await listener(forward(tg));
    const inFlight = hit(port, '/slow?ms=2000');
    await eventually(async () => (old.seen.some((r) => r.path === '/slow') ? true : undefined), 'the slow request at old');
    await elb.send(new RegisterTargetsCommand({ TargetGroupArn: tg, Targets: [{ Id: '127.0.0.1', Port: fresh.port }] }));
    await elb.send(new DeregisterTargetsCommand({ TargetGroupArn: tg, Targets: [{ Id: '127.0.0.1', Port: old.port }] }));
    await d.app.loadBalancing!.settled();
    assert.equal((await states(tg))[old.port], 'draining Target.DeregistrationInProgress');
    const during = await Promise.all(Array.from({ length: 5 }, () => hit(port, '/')));
    assert.deepEqual(during.map(backendOf), Array(5).fill('fresh'));
    const done = d.app.elbv2.targets.waitForDeregistration(tg, [{ id: '127.0.0.1', port: old.port }]);
    const finished = await inFlight;
    assert.deepEqual([finished.status, backendOf(finished)], [200, 'old'], 'the in-flight request finished on the draining target');
    // Nothing in flight any more: the drain ends well before the 60 s delay.
    await done;
    assert.deepEqual(Object.keys(await states(tg)), [String(fresh.port)]);
  });

  test('502 when the target refuses, 504 when it does not answer within the idle timeout', async () => {
    const closedPort = await freePort();
    const silent = await backend('silent');
    const refused = await targetGroup([]);
    await elb.send(new RegisterTargetsCommand({ TargetGroupArn: refused, Targets: [{ Id: '127.0.0.1', Port: closedPort }] }));
    const { port } = await listener(forward(refused));
    const bad = await hit(port, '/');
    assert.equal(bad.status, 502);
    assert.match(bad.body, /502 Bad Gateway/);
    const { port: port2 } = await listener(forward(await targetGroup([silent])), { 'idle_timeout.timeout_seconds': '1' });
    const timedOut = await hit(port2, '/never');
    assert.equal(timedOut.status, 504);
    assert.match(timedOut.body, /504 Gateway Time-out/);
  });

  test('WebSocket upgrades pass through to the target', async () => {
    const ws = await backend('ws');
    const { port } = await listener(forward(await targetGroup([ws])));
    const echoed = await new Promise<string>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/socket', headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' } });
      req.on('upgrade', (res, socket) => {
        assert.equal(res.statusCode, 101);
        assert.equal(res.headers['x-backend'], 'ws');
        socket.once('data', (d: Buffer) => {
          resolve(d.toString());
          socket.destroy();
        });
        socket.write('ping');
      });
      req.on('response', (res) => reject(new Error(`no upgrade: ${res.statusCode}`)));
      req.on('error', reject);
      req.end();
    });
    assert.equal(echoed, 'ws:ping');
    const upgraded = ws.seen.find((r) => r.path === '/socket')!;
    assert.equal(upgraded.headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(upgraded.headers.upgrade, 'websocket');
  });
});
