/**
 * The ELBv2 API over awsQuery with the real clients: SDK v3 for the whole surface (create,
 * describe, modify, delete of load balancers, target groups, listeners and rules, attributes,
 * targets, tags, limits, SSL policies) with ELBv2's error codes, then the same flow through AWS
 * CLI v1 and v2. Listeners are not served here (no data plane): see lb-data-plane.test.ts.
 */
import {
  AddTagsCommand,
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateRuleCommand,
  CreateTargetGroupCommand,
  DeleteListenerCommand,
  DeleteLoadBalancerCommand,
  DeleteRuleCommand,
  DeleteTargetGroupCommand,
  DeregisterTargetsCommand,
  DescribeAccountLimitsCommand,
  DescribeListenerAttributesCommand,
  DescribeListenersCommand,
  DescribeLoadBalancerAttributesCommand,
  DescribeLoadBalancersCommand,
  DescribeRulesCommand,
  DescribeSSLPoliciesCommand,
  DescribeTagsCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  ModifyListenerCommand,
  ModifyLoadBalancerAttributesCommand,
  ModifyRuleCommand,
  ModifyTargetGroupAttributesCommand,
  ModifyTargetGroupCommand,
  RegisterTargetsCommand,
  RemoveTagsCommand,
  SetRulePrioritiesCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { AWS_CLI_V2, requireCliV1 } from './helpers/aws-cli.js';
import { credentials, startDockyard, type TestDockyard } from './helpers/dockyard.js';

const run = promisify(execFile);
let d: TestDockyard;
let elb: ElasticLoadBalancingV2Client;

before(async () => {
  d = await startDockyard({ loadBalancing: { dataPlane: false } });
  elb = new ElasticLoadBalancingV2Client({ endpoint: d.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
});
after(async () => {
  elb.destroy();
  await d.stop();
});

/** The error code a rejected SDK call carries (the awsQuery <Code>). */
async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as { Code?: string; name: string }).Code ?? (e as Error).name;
  }
  assert.fail('expected the call to fail');
}

describe('ELBv2 with SDK v3', () => {
  test('load balancers: create (idempotent), describe, attributes, duplicate names, delete', async () => {
    const created = (await elb.send(new CreateLoadBalancerCommand({ Name: 'api-lb', Subnets: ['subnet-aaa', 'subnet-bbb'], SecurityGroups: ['sg-123'], Scheme: 'internal', Tags: [{ Key: 'team', Value: 'web' }] }))).LoadBalancers![0]!;
    assert.match(created.LoadBalancerArn!, /^arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer\/app\/api-lb\/[0-9a-f]{16}$/);
    assert.match(created.DNSName!, /^internal-api-lb-\d{10}\.us-east-1\.elb\.localhost$/);
    assert.equal(created.Type, 'application');
    assert.equal(created.Scheme, 'internal');
    assert.equal(created.State?.Code, 'active');
    assert.deepEqual(created.AvailabilityZones?.map((z) => z.SubnetId), ['subnet-aaa', 'subnet-bbb']);
    assert.deepEqual(created.SecurityGroups, ['sg-123']);
    assert.ok(created.CreatedTime instanceof Date);

    const again = (await elb.send(new CreateLoadBalancerCommand({ Name: 'api-lb', Subnets: ['subnet-bbb', 'subnet-aaa'], SecurityGroups: ['sg-123'], Scheme: 'internal' }))).LoadBalancers![0]!;
    assert.equal(again.LoadBalancerArn, created.LoadBalancerArn, 'same settings: the same load balancer');
    assert.equal(await codeOf(elb.send(new CreateLoadBalancerCommand({ Name: 'api-lb', Subnets: ['subnet-ccc'] }))), 'DuplicateLoadBalancerName');
    assert.equal(await codeOf(elb.send(new CreateLoadBalancerCommand({ Name: '-bad-' }))), 'ValidationError');
    assert.equal(await codeOf(elb.send(new CreateLoadBalancerCommand({ Name: 'nlb', Type: 'network' }))), 'InvalidConfigurationRequest');

    const byName = await elb.send(new DescribeLoadBalancersCommand({ Names: ['api-lb'] }));
    assert.deepEqual(byName.LoadBalancers?.map((l) => l.LoadBalancerArn), [created.LoadBalancerArn]);
    assert.equal(await codeOf(elb.send(new DescribeLoadBalancersCommand({ Names: ['nope'] }))), 'LoadBalancerNotFound');
    const missingArn = created.LoadBalancerArn!.replace(/[0-9a-f]{16}$/, '0000000000000000');
    assert.equal(await codeOf(elb.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [missingArn] }))), 'LoadBalancerNotFound');

    const attrs = (await elb.send(new DescribeLoadBalancerAttributesCommand({ LoadBalancerArn: created.LoadBalancerArn }))).Attributes!;
    const map = Object.fromEntries(attrs.map((a) => [a.Key, a.Value]));
    assert.equal(map['idle_timeout.timeout_seconds'], '60');
    assert.equal(map['deletion_protection.enabled'], 'false');
    assert.equal(map['routing.http2.enabled'], 'true');
    const modified = await elb.send(new ModifyLoadBalancerAttributesCommand({ LoadBalancerArn: created.LoadBalancerArn, Attributes: [{ Key: 'idle_timeout.timeout_seconds', Value: '30' }, { Key: 'deletion_protection.enabled', Value: 'true' }] }));
    assert.equal(modified.Attributes?.find((a) => a.Key === 'idle_timeout.timeout_seconds')?.Value, '30');
    assert.equal(await codeOf(elb.send(new ModifyLoadBalancerAttributesCommand({ LoadBalancerArn: created.LoadBalancerArn, Attributes: [{ Key: 'idle_timeout.timeout_seconds', Value: '0' }] }))), 'ValidationError');
    assert.equal(await codeOf(elb.send(new ModifyLoadBalancerAttributesCommand({ LoadBalancerArn: created.LoadBalancerArn, Attributes: [{ Key: 'no.such.key', Value: '1' }] }))), 'ValidationError');
    const reread = (await elb.send(new DescribeLoadBalancerAttributesCommand({ LoadBalancerArn: created.LoadBalancerArn }))).Attributes!;
    assert.equal(reread.find((a) => a.Key === 'idle_timeout.timeout_seconds')?.Value, '30', 'a rejected modify changed nothing');

    assert.equal(await codeOf(elb.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: created.LoadBalancerArn }))), 'OperationNotPermitted');
    await elb.send(new ModifyLoadBalancerAttributesCommand({ LoadBalancerArn: created.LoadBalancerArn, Attributes: [{ Key: 'deletion_protection.enabled', Value: 'false' }] }));
    await elb.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: created.LoadBalancerArn }));
    await elb.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: created.LoadBalancerArn }));
    assert.equal(await codeOf(elb.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [created.LoadBalancerArn!] }))), 'LoadBalancerNotFound');
  });

  test('target groups, targets and their health, listeners, rules, priorities, tags', async () => {
    const lb = (await elb.send(new CreateLoadBalancerCommand({ Name: 'web' }))).LoadBalancers![0]!;
    const tg = (await elb.send(new CreateTargetGroupCommand({ Name: 'web-blue', Protocol: 'HTTP', Port: 8080, VpcId: 'vpc-1', TargetType: 'ip', HealthCheckPath: '/health', Matcher: { HttpCode: '200-299' } }))).TargetGroups![0]!;
    assert.match(tg.TargetGroupArn!, /^arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup\/web-blue\/[0-9a-f]{16}$/);
    assert.deepEqual(
      { p: tg.HealthCheckPath, port: tg.HealthCheckPort, i: tg.HealthCheckIntervalSeconds, t: tg.HealthCheckTimeoutSeconds, h: tg.HealthyThresholdCount, u: tg.UnhealthyThresholdCount, m: tg.Matcher?.HttpCode, lbs: tg.LoadBalancerArns },
      { p: '/health', port: 'traffic-port', i: 30, t: 5, h: 5, u: 2, m: '200-299', lbs: [] },
    );
    const green = (await elb.send(new CreateTargetGroupCommand({ Name: 'web-green', Protocol: 'HTTP', Port: 8080, VpcId: 'vpc-1', TargetType: 'ip' }))).TargetGroups![0]!;
    assert.equal(await codeOf(elb.send(new CreateTargetGroupCommand({ Name: 'web-blue', Protocol: 'HTTP', Port: 9090, VpcId: 'vpc-1', TargetType: 'ip' }))), 'DuplicateTargetGroupName');
    assert.equal(await codeOf(elb.send(new CreateTargetGroupCommand({ Name: 'bad-hc', Protocol: 'HTTP', Port: 80, HealthCheckIntervalSeconds: 5, HealthCheckTimeoutSeconds: 5 }))), 'ValidationError');
    assert.equal(await codeOf(elb.send(new ModifyTargetGroupCommand({ TargetGroupArn: tg.TargetGroupArn, Matcher: { HttpCode: '600' } }))), 'ValidationError');
    const modified = (await elb.send(new ModifyTargetGroupCommand({ TargetGroupArn: tg.TargetGroupArn, HealthCheckIntervalSeconds: 10, HealthyThresholdCount: 3 }))).TargetGroups![0]!;
    assert.equal(modified.HealthCheckIntervalSeconds, 10);
    assert.equal(modified.HealthyThresholdCount, 3);

    const tgAttrs = Object.fromEntries((await elb.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: tg.TargetGroupArn }))).Attributes!.map((a) => [a.Key, a.Value]));
    assert.equal(tgAttrs['deregistration_delay.timeout_seconds'], '300');
    assert.equal(tgAttrs['stickiness.enabled'], 'false');
    assert.equal(tgAttrs['load_balancing.algorithm.type'], 'round_robin');
    await elb.send(new ModifyTargetGroupAttributesCommand({ TargetGroupArn: tg.TargetGroupArn, Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '5' }, { Key: 'load_balancing.algorithm.type', Value: 'least_outstanding_requests' }, { Key: 'stickiness.enabled', Value: 'true' }] }));
    assert.equal(await codeOf(elb.send(new ModifyTargetGroupAttributesCommand({ TargetGroupArn: tg.TargetGroupArn, Attributes: [{ Key: 'load_balancing.algorithm.type', Value: 'fastest' }] }))), 'ValidationError');

    // Targets: registered ones are unused until a listener forwards to the group.
    await elb.send(new RegisterTargetsCommand({ TargetGroupArn: tg.TargetGroupArn, Targets: [{ Id: '10.0.0.1' }, { Id: '10.0.0.2', Port: 9000 }] }));
    assert.equal(await codeOf(elb.send(new RegisterTargetsCommand({ TargetGroupArn: tg.TargetGroupArn, Targets: [{ Id: 'i-0123456789abcdef0' }] }))), 'InvalidTarget');
    let health = (await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg.TargetGroupArn }))).TargetHealthDescriptions!;
    assert.deepEqual(
      health.map((h) => [h.Target?.Id, h.Target?.Port, h.TargetHealth?.State, h.TargetHealth?.Reason, h.HealthCheckPort]),
      [
        ['10.0.0.1', 8080, 'unused', 'Target.NotInUse', '8080'],
        ['10.0.0.2', 9000, 'unused', 'Target.NotInUse', '9000'],
      ],
    );
    const unregistered = (await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg.TargetGroupArn, Targets: [{ Id: '10.9.9.9' }] }))).TargetHealthDescriptions!;
    assert.deepEqual([unregistered[0]?.TargetHealth?.State, unregistered[0]?.TargetHealth?.Reason], ['unused', 'Target.NotRegistered']);

    // Listeners.
    const listener = (await elb.send(new CreateListenerCommand({ LoadBalancerArn: lb.LoadBalancerArn, Port: 8081, Protocol: 'HTTP', DefaultActions: [{ Type: 'forward', TargetGroupArn: tg.TargetGroupArn }] }))).Listeners![0]!;
    assert.match(listener.ListenerArn!, /^arn:aws:elasticloadbalancing:us-east-1:000000000000:listener\/app\/web\/[0-9a-f]{16}\/[0-9a-f]{16}$/);
    assert.deepEqual(listener.DefaultActions, [{ Type: 'forward', Order: 1, TargetGroupArn: tg.TargetGroupArn, ForwardConfig: { TargetGroups: [{ TargetGroupArn: tg.TargetGroupArn, Weight: 1 }], TargetGroupStickinessConfig: { Enabled: false } } }]);
    assert.equal(await codeOf(elb.send(new CreateListenerCommand({ LoadBalancerArn: lb.LoadBalancerArn, Port: 8081, Protocol: 'HTTP', DefaultActions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '404' } }] }))), 'DuplicateListener');
    assert.equal(await codeOf(elb.send(new CreateListenerCommand({ LoadBalancerArn: lb.LoadBalancerArn, Port: 8082, Protocol: 'HTTP', DefaultActions: [{ Type: 'forward', TargetGroupArn: tg.TargetGroupArn!.replace(/[0-9a-f]{16}$/, '0000000000000000') }] }))), 'TargetGroupNotFound');
    assert.equal(await codeOf(elb.send(new CreateListenerCommand({ LoadBalancerArn: lb.LoadBalancerArn, Port: 8443, Protocol: 'HTTPS', DefaultActions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '200' } }] }))), 'ValidationError');
    assert.equal(await codeOf(elb.send(new CreateListenerCommand({ LoadBalancerArn: lb.LoadBalancerArn, Port: 8443, Protocol: 'HTTPS', Certificates: [{ CertificateArn: 'arn:aws:acm:us-east-1:000000000000:certificate/00000000-0000-0000-0000-000000000000' }], DefaultActions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '200' } }] }))), 'CertificateNotFound');
    assert.equal(await codeOf(elb.send(new DescribeListenersCommand({}))), 'ValidationError');
    health = (await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg.TargetGroupArn }))).TargetHealthDescriptions!;
    assert.deepEqual(health.map((h) => h.TargetHealth?.State), ['initial', 'initial'], 'in use now: no data plane here, so never checked');
    assert.deepEqual((await elb.send(new DescribeTargetGroupsCommand({ LoadBalancerArn: lb.LoadBalancerArn }))).TargetGroups?.map((t) => t.TargetGroupArn), [tg.TargetGroupArn]);
    assert.deepEqual(((await elb.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [tg.TargetGroupArn!] }))).TargetGroups![0]!).LoadBalancerArns, [lb.LoadBalancerArn]);
    assert.equal(await codeOf(elb.send(new DeleteTargetGroupCommand({ TargetGroupArn: tg.TargetGroupArn }))), 'ResourceInUse');
    const listenerAttrs = (await elb.send(new DescribeListenerAttributesCommand({ ListenerArn: listener.ListenerArn }))).Attributes!;
    assert.equal(listenerAttrs.find((a) => a.Key === 'routing.http.response.server.enabled')?.Value, 'true');

    // Deregistration: draining (without a data plane it completes at once).
    await elb.send(new DeregisterTargetsCommand({ TargetGroupArn: tg.TargetGroupArn, Targets: [{ Id: '10.0.0.2', Port: 9000 }] }));
    assert.equal(await codeOf(elb.send(new DeregisterTargetsCommand({ TargetGroupArn: tg.TargetGroupArn, Targets: [{ Id: '10.0.0.2', Port: 9000 }] }))), 'InvalidTarget');
    health = (await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg.TargetGroupArn }))).TargetHealthDescriptions!;
    assert.deepEqual(health.map((h) => h.Target?.Id), ['10.0.0.1']);

    // Rules: priority order, PriorityInUse, SetRulePriorities, the default rule.
    const rule = (n: number, path: string) =>
      elb.send(new CreateRuleCommand({ ListenerArn: listener.ListenerArn, Priority: n, Conditions: [{ Field: 'path-pattern', Values: [path] }], Actions: [{ Type: 'forward', ForwardConfig: { TargetGroups: [{ TargetGroupArn: tg.TargetGroupArn, Weight: 1 }, { TargetGroupArn: green.TargetGroupArn, Weight: 3 }] } }] }));
    const r20 = (await rule(20, '/b/*')).Rules![0]!;
    const r10 = (await rule(10, '/a/*')).Rules![0]!;
    assert.equal(await codeOf(rule(10, '/c/*')), 'PriorityInUse');
    const hostRule = (await elb.send(new CreateRuleCommand({ ListenerArn: listener.ListenerArn, Priority: 30, Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: ['api.example.com'] } }, { Field: 'http-request-method', HttpRequestMethodConfig: { Values: ['GET'] } }], Actions: [{ Type: 'redirect', RedirectConfig: { Protocol: 'HTTPS', Port: '443', StatusCode: 'HTTP_301' } }] }))).Rules![0]!;
    assert.deepEqual(hostRule.Conditions, [{ Field: 'host-header', Values: ['api.example.com'], HostHeaderConfig: { Values: ['api.example.com'] } }, { Field: 'http-request-method', HttpRequestMethodConfig: { Values: ['GET'] } }]);
    assert.equal(await codeOf(elb.send(new CreateRuleCommand({ ListenerArn: listener.ListenerArn, Priority: 40, Conditions: [{ Field: 'cookie', Values: ['x'] }], Actions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '200' } }] }))), 'ValidationError');
    assert.equal(await codeOf(elb.send(new CreateRuleCommand({ ListenerArn: listener.ListenerArn, Priority: 40, Conditions: [{ Field: 'path-pattern', Values: ['/x'] }], Actions: [{ Type: 'authenticate-oidc', AuthenticateOidcConfig: { Issuer: 'i', AuthorizationEndpoint: 'a', TokenEndpoint: 't', UserInfoEndpoint: 'u', ClientId: 'c' } }] }))), 'InvalidLoadBalancerAction');
    let rules = (await elb.send(new DescribeRulesCommand({ ListenerArn: listener.ListenerArn }))).Rules!;
    assert.deepEqual(rules.map((r) => [r.Priority, r.IsDefault]), [['10', false], ['20', false], ['30', false], ['default', true]]);
    const defaultRule = rules[3]!;
    assert.equal(await codeOf(elb.send(new DeleteRuleCommand({ RuleArn: defaultRule.RuleArn }))), 'OperationNotPermitted');
    assert.equal(await codeOf(elb.send(new SetRulePrioritiesCommand({ RulePriorities: [{ RuleArn: r10.RuleArn, Priority: 20 }] }))), 'PriorityInUse');
    const swapped = await elb.send(new SetRulePrioritiesCommand({ RulePriorities: [{ RuleArn: r10.RuleArn, Priority: 20 }, { RuleArn: r20.RuleArn, Priority: 10 }] }));
    assert.equal(swapped.Rules?.length, 2);
    rules = (await elb.send(new DescribeRulesCommand({ ListenerArn: listener.ListenerArn }))).Rules!;
    assert.deepEqual(rules.map((r) => r.RuleArn), [r20.RuleArn, r10.RuleArn, hostRule.RuleArn, defaultRule.RuleArn]);
    const byArn = (await elb.send(new DescribeRulesCommand({ RuleArns: [defaultRule.RuleArn!, r10.RuleArn!] }))).Rules!;
    assert.deepEqual(byArn.map((r) => r.Priority), ['default', '20']);
    await elb.send(new ModifyRuleCommand({ RuleArn: r10.RuleArn, Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/z/*'] } }] }));
    await elb.send(new ModifyRuleCommand({ RuleArn: defaultRule.RuleArn, Actions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '503', ContentType: 'text/plain', MessageBody: 'maintenance' } }] }));
    const l2 = (await elb.send(new DescribeListenersCommand({ ListenerArns: [listener.ListenerArn!] }))).Listeners![0]!;
    assert.deepEqual(l2.DefaultActions, [{ Type: 'fixed-response', Order: 1, FixedResponseConfig: { StatusCode: '503', ContentType: 'text/plain', MessageBody: 'maintenance' } }]);
    const moved = (await elb.send(new ModifyListenerCommand({ ListenerArn: listener.ListenerArn, Port: 8090 }))).Listeners![0]!;
    assert.equal(moved.Port, 8090);

    // Tags over every resource type.
    await elb.send(new AddTagsCommand({ ResourceArns: [lb.LoadBalancerArn!, tg.TargetGroupArn!, listener.ListenerArn!, r10.RuleArn!], Tags: [{ Key: 'env', Value: 'test' }, { Key: 'owner', Value: 'me' }] }));
    await elb.send(new RemoveTagsCommand({ ResourceArns: [tg.TargetGroupArn!], TagKeys: ['owner'] }));
    const tags = (await elb.send(new DescribeTagsCommand({ ResourceArns: [lb.LoadBalancerArn!, tg.TargetGroupArn!, r10.RuleArn!] }))).TagDescriptions!;
    assert.deepEqual(tags.map((t) => [t.ResourceArn, t.Tags?.map((x) => `${x.Key}=${x.Value}`)]), [
      [lb.LoadBalancerArn, ['env=test', 'owner=me']],
      [tg.TargetGroupArn, ['env=test']],
      [r10.RuleArn, ['env=test', 'owner=me']],
    ]);
    assert.equal(await codeOf(elb.send(new AddTagsCommand({ ResourceArns: [lb.LoadBalancerArn!], Tags: [{ Key: 'aws:x', Value: '1' }] }))), 'ValidationError');
    assert.equal(await codeOf(elb.send(new AddTagsCommand({ ResourceArns: [lb.LoadBalancerArn!], Tags: Array.from({ length: 49 }, (_, i) => ({ Key: `k${i}`, Value: 'v' })) }))), 'TooManyTags');
    // A repeated key: DuplicateTagKeys where the operation models it, ValidationError where it does not.
    const twice = [{ Key: 'team', Value: 'a' }, { Key: 'team', Value: 'b' }];
    assert.equal(await codeOf(elb.send(new AddTagsCommand({ ResourceArns: [tg.TargetGroupArn!], Tags: twice }))), 'DuplicateTagKeys');
    assert.equal(await codeOf(elb.send(new CreateTargetGroupCommand({ Name: 'twice', Protocol: 'HTTP', Port: 80, VpcId: 'vpc-1', Tags: twice }))), 'ValidationError');
    assert.equal(await codeOf(elb.send(new CreateListenerCommand({ LoadBalancerArn: lb.LoadBalancerArn!, Protocol: 'HTTP', Port: 8099, DefaultActions: [{ Type: 'forward', TargetGroupArn: tg.TargetGroupArn! }], Tags: twice }))), 'ValidationError');

    // Deleting the listener deletes its rules and frees the group.
    await elb.send(new DeleteListenerCommand({ ListenerArn: listener.ListenerArn }));
    assert.equal(await codeOf(elb.send(new DescribeRulesCommand({ RuleArns: [r10.RuleArn!] }))), 'RuleNotFound');
    assert.equal(await codeOf(elb.send(new DeleteListenerCommand({ ListenerArn: listener.ListenerArn }))), 'ListenerNotFound');
    await elb.send(new DeleteTargetGroupCommand({ TargetGroupArn: tg.TargetGroupArn }));
    await elb.send(new DeleteTargetGroupCommand({ TargetGroupArn: green.TargetGroupArn }));
    assert.equal(await codeOf(elb.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [tg.TargetGroupArn!] }))), 'TargetGroupNotFound');
    await elb.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: lb.LoadBalancerArn }));
  });

  test('account limits and SSL policies', async () => {
    const limits = (await elb.send(new DescribeAccountLimitsCommand({}))).Limits!;
    assert.equal(limits.find((l) => l.Name === 'application-load-balancers')?.Max, '50');
    const policies = (await elb.send(new DescribeSSLPoliciesCommand({ Names: ['ELBSecurityPolicy-TLS13-1-2-2021-06'] }))).SslPolicies!;
    assert.deepEqual(policies[0]?.SslProtocols, ['TLSv1.2', 'TLSv1.3']);
    assert.ok(policies[0]!.Ciphers!.some((c) => c.Name === 'TLS_AES_128_GCM_SHA256'));
    assert.equal(await codeOf(elb.send(new DescribeSSLPoliciesCommand({ Names: ['nope'] }))), 'SSLPolicyNotFound');
  });
});

async function cli(bin: string, args: string[]) {
  try {
    const { stdout } = await run(bin, ['elbv2', ...args, '--endpoint-url', d.endpoint, '--output', 'json'], { env: d.cliEnv, timeout: 60_000 });
    return { code: 0, json: stdout.trim() ? JSON.parse(stdout) : {}, stderr: '' };
  } catch (e) {
    const err = e as { code?: number; stderr?: string };
    return { code: err.code ?? -1, json: undefined, stderr: err.stderr ?? '' };
  }
}

for (const [name, bin] of [
  ['v1', requireCliV1()],
  ['v2', AWS_CLI_V2],
] as const) {
  test(`ELBv2 with AWS CLI ${name}: load balancer, target group, listener, rule, targets, errors`, async () => {
    const ok = (r: Awaited<ReturnType<typeof cli>>) => {
      assert.equal(r.code, 0, r.stderr);
      return r.json;
    };
    const lb = ok(await cli(bin, ['create-load-balancer', '--name', `cli-${name}`, '--subnets', 'subnet-1', 'subnet-2', '--tags', 'Key=via,Value=cli'])).LoadBalancers[0];
    const tg = ok(await cli(bin, ['create-target-group', '--name', `cli-${name}`, '--protocol', 'HTTP', '--port', '8080', '--vpc-id', 'vpc-1', '--target-type', 'ip', '--health-check-path', '/'])).TargetGroups[0];
    const listener = ok(await cli(bin, ['create-listener', '--load-balancer-arn', lb.LoadBalancerArn, '--protocol', 'HTTP', '--port', name === 'v1' ? '18181' : '18182', '--default-actions', `Type=forward,TargetGroupArn=${tg.TargetGroupArn}`])).Listeners[0];
    ok(await cli(bin, ['create-rule', '--listener-arn', listener.ListenerArn, '--priority', '5', '--conditions', 'Field=path-pattern,Values=/api/*', '--actions', 'Type=fixed-response,FixedResponseConfig={StatusCode=200,ContentType=text/plain,MessageBody=ok}']));
    ok(await cli(bin, ['register-targets', '--target-group-arn', tg.TargetGroupArn, '--targets', 'Id=127.0.0.1,Port=9001', 'Id=127.0.0.1,Port=9002']));
    const health = ok(await cli(bin, ['describe-target-health', '--target-group-arn', tg.TargetGroupArn]));
    assert.deepEqual(health.TargetHealthDescriptions.map((h: { Target: { Port: number } }) => h.Target.Port), [9001, 9002]);
    const rules = ok(await cli(bin, ['describe-rules', '--listener-arn', listener.ListenerArn]));
    assert.deepEqual(rules.Rules.map((r: { Priority: string }) => r.Priority), ['5', 'default']);
    const attrs = ok(await cli(bin, ['modify-target-group-attributes', '--target-group-arn', tg.TargetGroupArn, '--attributes', 'Key=deregistration_delay.timeout_seconds,Value=0']));
    assert.ok(attrs.Attributes.some((a: { Key: string; Value: string }) => a.Key === 'deregistration_delay.timeout_seconds' && a.Value === '0'));
    const tags = ok(await cli(bin, ['describe-tags', '--resource-arns', lb.LoadBalancerArn]));
    assert.deepEqual(tags.TagDescriptions[0].Tags, [{ Key: 'via', Value: 'cli' }]);

    const dup = await cli(bin, ['create-rule', '--listener-arn', listener.ListenerArn, '--priority', '5', '--conditions', 'Field=path-pattern,Values=/x', '--actions', 'Type=fixed-response,FixedResponseConfig={StatusCode=200}']);
    assert.match(dup.stderr, /An error occurred \(PriorityInUse\) when calling the CreateRule operation: Priority '5' is currently in use/);
    const missing = await cli(bin, ['describe-load-balancers', '--names', 'nope']);
    assert.match(missing.stderr, /An error occurred \(LoadBalancerNotFound\) when calling the DescribeLoadBalancers operation/);
    const missingTg = await cli(bin, ['describe-target-groups', '--names', 'nope']);
    assert.match(missingTg.stderr, /\(TargetGroupNotFound\)/);

    ok(await cli(bin, ['delete-listener', '--listener-arn', listener.ListenerArn]));
    ok(await cli(bin, ['delete-target-group', '--target-group-arn', tg.TargetGroupArn]));
    ok(await cli(bin, ['delete-load-balancer', '--load-balancer-arn', lb.LoadBalancerArn]));
    // The CLI's waiter polls DescribeLoadBalancers until LoadBalancerNotFound.
    ok(await cli(bin, ['wait', 'load-balancers-deleted', '--load-balancer-arns', lb.LoadBalancerArn]));
  });
}
