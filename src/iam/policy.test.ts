/**
 * The policy engine against the IAM documentation: every table row below is a case written from
 * the IAM User Guide (policy evaluation logic, the condition operator reference, multi-valued
 * context keys, policy variables, the Principal / NotAction / NotResource element pages), with
 * the outcome the docs state, not one computed by this code. Properties (fast-check) cover the
 * algebra the docs promise: deny overrides, order independence, case-insensitive actions.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { actionMatches, evaluate, globMatch, parsePolicy, PolicyError, resourceMatches, trustAllows, type ContextValues, type Decision, type Policy, type RequestPrincipal } from './policy.js';

const ACCT = '111122223333';
const alice: RequestPrincipal = { type: 'AWS', id: `arn:aws:iam::${ACCT}:user/alice`, accountId: ACCT };

function identity(statement: object | object[], version = '2012-10-17'): Policy {
  return parsePolicy({ Version: version, Statement: statement }, 'identity');
}

function decide(policy: Policy | Policy[], action: string, resource: string, context: ContextValues = {}): Decision {
  return evaluate({ action, resource, context, principal: alice }, { identity: Array.isArray(policy) ? policy : [policy] }).decision;
}

describe('policy evaluation logic (IAM User Guide: "Policy evaluation logic")', () => {
  const allowRun = { Effect: 'Allow', Action: 'ecs:RunTask', Resource: '*' };
  const denyRun = { Effect: 'Deny', Action: 'ecs:RunTask', Resource: '*' };
  const cases: { name: string; identity: object[][]; resource?: object[]; expect: Decision; by?: 'identity' | 'resource' }[] = [
    { name: 'no policy at all: implicit deny', identity: [], expect: 'ImplicitDeny' },
    { name: 'an Allow grants', identity: [[allowRun]], expect: 'Allow', by: 'identity' },
    { name: 'an explicit Deny in the same policy overrides the Allow', identity: [[allowRun, denyRun]], expect: 'ExplicitDeny', by: 'identity' },
    { name: 'an explicit Deny in another policy overrides the Allow', identity: [[allowRun], [denyRun]], expect: 'ExplicitDeny', by: 'identity' },
    { name: 'a Deny alone is still a deny', identity: [[denyRun]], expect: 'ExplicitDeny' },
    { name: 'an Allow for another action does not grant', identity: [[{ Effect: 'Allow', Action: 'ecs:StopTask', Resource: '*' }]], expect: 'ImplicitDeny' },
    {
      name: 'same account: a resource-based policy naming the user grants without an identity-based allow',
      identity: [],
      resource: [{ Effect: 'Allow', Principal: { AWS: alice.id }, Action: 'ecs:RunTask' }],
      expect: 'Allow',
      by: 'resource',
    },
    {
      name: 'a Deny in the resource-based policy overrides an identity-based Allow',
      identity: [[allowRun]],
      resource: [{ Effect: 'Deny', Principal: '*', Action: 'ecs:*' }],
      expect: 'ExplicitDeny',
      by: 'resource',
    },
    {
      name: 'a Deny in an identity-based policy overrides a resource-based Allow',
      identity: [[denyRun]],
      resource: [{ Effect: 'Allow', Principal: { AWS: alice.id }, Action: 'ecs:RunTask' }],
      expect: 'ExplicitDeny',
      by: 'identity',
    },
    {
      name: 'a resource-based Allow for another principal does not grant',
      identity: [],
      resource: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCT}:user/bob` }, Action: 'ecs:RunTask' }],
      expect: 'ImplicitDeny',
    },
    {
      name: 'an account principal in a resource-based Allow delegates to identity-based policies (grants nothing alone)',
      identity: [],
      resource: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCT}:root` }, Action: 'ecs:RunTask' }],
      expect: 'ImplicitDeny',
    },
    {
      name: 'an account principal in a resource-based Allow plus an identity-based Allow grants',
      identity: [[allowRun]],
      resource: [{ Effect: 'Allow', Principal: { AWS: ACCT }, Action: 'ecs:RunTask' }],
      expect: 'Allow',
    },
    {
      name: 'an account principal in a resource-based Deny applies to every principal of the account',
      identity: [[allowRun]],
      resource: [{ Effect: 'Deny', Principal: { AWS: ACCT }, Action: 'ecs:RunTask' }],
      expect: 'ExplicitDeny',
    },
    {
      name: 'NotPrincipal with Deny: denies everyone except the named principal',
      identity: [[allowRun]],
      resource: [{ Effect: 'Deny', NotPrincipal: { AWS: alice.id }, Action: 'ecs:RunTask' }],
      expect: 'Allow',
    },
    {
      name: 'NotPrincipal with Deny: the others are denied',
      identity: [[allowRun]],
      resource: [{ Effect: 'Deny', NotPrincipal: { AWS: `arn:aws:iam::${ACCT}:user/bob` }, Action: 'ecs:RunTask' }],
      expect: 'ExplicitDeny',
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const result = evaluate(
        { action: 'ecs:RunTask', resource: `arn:aws:ecs:us-east-1:${ACCT}:task-definition/web:1`, principal: alice },
        {
          identity: c.identity.map((s) => identity(s)),
          resource: c.resource ? [parsePolicy({ Version: '2012-10-17', Statement: c.resource }, 'resource')] : [],
        },
      );
      assert.equal(result.decision, c.expect);
      if (c.by) assert.equal(result.decidedBy, c.by);
    });
  }
});

describe('Action / NotAction (IAM JSON policy elements)', () => {
  const rows: [pattern: string, action: string, matches: boolean][] = [
    ['*', 'ecs:RunTask', true],
    ['ecs:*', 'ecs:RunTask', true],
    ['ecs:*', 'ecr:BatchGetImage', false],
    ['ecs:Describe*', 'ecs:DescribeTasks', true],
    ['ecs:Describe*', 'ecs:ListTasks', false],
    ['iam:*AccessKey*', 'iam:CreateAccessKey', true], // the docs' example
    ['iam:*AccessKey*', 'iam:ListAccessKeys', true],
    ['iam:*AccessKey*', 'iam:CreateUser', false],
    ['ECS:runtask', 'ecs:RunTask', true], // "Action values are case-insensitive"
    ['ecs:RunTas?', 'ecs:RunTask', true],
    ['ecs:RunTas?', 'ecs:RunTasks', false],
    ['ecr:Get*', 'ecr:GetDownloadUrlForLayer', true],
    ['s3:*', 'S3:GetObject', true],
  ];
  for (const [pattern, action, expected] of rows) {
    test(`${pattern} ${expected ? 'matches' : 'does not match'} ${action}`, () => assert.equal(actionMatches(pattern, action), expected));
  }

  // The docs' NotAction example: "Allow everything except IAM".
  const everythingButIam = identity({ Effect: 'Allow', NotAction: 'iam:*', Resource: '*' });
  test('Allow + NotAction iam:* allows ecs:RunTask', () => assert.equal(decide(everythingButIam, 'ecs:RunTask', '*'), 'Allow'));
  test('Allow + NotAction iam:* does not allow iam:CreateUser (implicit deny, not explicit)', () =>
    assert.equal(decide(everythingButIam, 'iam:CreateUser', '*'), 'ImplicitDeny'));
  // Deny + NotAction: "deny everything except iam:ChangePassword" with a separate Allow *.
  test('Deny + NotAction denies all other actions', () => {
    const p = identity([
      { Effect: 'Allow', Action: '*', Resource: '*' },
      { Effect: 'Deny', NotAction: 'iam:ChangePassword', Resource: '*' },
    ]);
    assert.equal(decide(p, 'iam:ChangePassword', '*'), 'Allow');
    assert.equal(decide(p, 'ecs:ListClusters', '*'), 'ExplicitDeny');
  });
});

describe('Resource / NotResource', () => {
  const rows: [pattern: string, resource: string, matches: boolean][] = [
    ['*', 'arn:aws:ecs:us-east-1:111122223333:cluster/default', true],
    ['arn:aws:ecs:us-east-1:111122223333:cluster/default', 'arn:aws:ecs:us-east-1:111122223333:cluster/default', true],
    ['arn:aws:ecs:us-east-1:111122223333:cluster/default', 'arn:aws:ecs:us-east-1:111122223333:cluster/prod', false],
    ['arn:aws:ecs:*:111122223333:cluster/*', 'arn:aws:ecs:eu-west-1:111122223333:cluster/prod', true],
    ['arn:aws:ecs:*:*:task-definition/web:*', 'arn:aws:ecs:us-east-1:111122223333:task-definition/web:7', true],
    ['arn:aws:ecs:*:*:task-definition/web:*', 'arn:aws:ecs:us-east-1:111122223333:task-definition/webapp:7', false],
    // Resource ARNs are case-sensitive
    ['arn:aws:ecs:us-east-1:111122223333:cluster/Default', 'arn:aws:ecs:us-east-1:111122223333:cluster/default', false],
    // A wildcard in one of the first segments does not spill into the next one
    ['arn:aws:ecs:us-east-1*:cluster/default', 'arn:aws:ecs:us-east-1:111122223333:cluster/default', false],
    ['arn:aws:ecr:us-east-1:111122223333:repository/team-a/*', 'arn:aws:ecr:us-east-1:111122223333:repository/team-a/web', true],
    ['arn:aws:ecr:us-east-1:111122223333:repository/team-a/*', 'arn:aws:ecr:us-east-1:111122223333:repository/team-b/web', false],
    ['arn:aws:iam::111122223333:user/*', 'arn:aws:iam::111122223333:user/alice', true],
    ['arn:aws:iam::111122223333:user/ali?e', 'arn:aws:iam::111122223333:user/alice', true],
  ];
  for (const [pattern, resource, expected] of rows) {
    test(`${pattern} ${expected ? 'matches' : 'does not match'} ${resource}`, () => assert.equal(resourceMatches(pattern, resource), expected));
  }

  test('Deny + NotResource: denies everything outside the listed resources', () => {
    const p = identity([
      { Effect: 'Allow', Action: 'ecs:*', Resource: '*' },
      { Effect: 'Deny', Action: 'ecs:*', NotResource: 'arn:aws:ecs:us-east-1:111122223333:cluster/dev' },
    ]);
    assert.equal(decide(p, 'ecs:DescribeClusters', 'arn:aws:ecs:us-east-1:111122223333:cluster/dev'), 'Allow');
    assert.equal(decide(p, 'ecs:DescribeClusters', 'arn:aws:ecs:us-east-1:111122223333:cluster/prod'), 'ExplicitDeny');
  });
});

describe('policy variables (IAM User Guide: "IAM policy elements: Variables and tags")', () => {
  const ownKeys = identity({ Effect: 'Allow', Action: 'iam:*AccessKey*', Resource: 'arn:aws:iam::111122223333:user/${aws:username}' });
  test('${aws:username} resolves to the caller', () => {
    assert.equal(decide(ownKeys, 'iam:CreateAccessKey', 'arn:aws:iam::111122223333:user/alice', { 'aws:username': 'alice' }), 'Allow');
    assert.equal(decide(ownKeys, 'iam:CreateAccessKey', 'arn:aws:iam::111122223333:user/bob', { 'aws:username': 'alice' }), 'ImplicitDeny');
  });
  test('a variable whose key is missing makes the element not match', () =>
    assert.equal(decide(ownKeys, 'iam:CreateAccessKey', 'arn:aws:iam::111122223333:user/', {}), 'ImplicitDeny'));
  test('Version 2008-10-17 treats ${…} literally', () => {
    const old = identity({ Effect: 'Allow', Action: 'iam:*', Resource: 'arn:aws:iam::111122223333:user/${aws:username}' }, '2008-10-17');
    assert.equal(decide(old, 'iam:GetUser', 'arn:aws:iam::111122223333:user/alice', { 'aws:username': 'alice' }), 'ImplicitDeny');
    assert.equal(decide(old, 'iam:GetUser', 'arn:aws:iam::111122223333:user/${aws:username}', { 'aws:username': 'alice' }), 'Allow');
  });
  test('${*} is a literal asterisk, not a wildcard', () => {
    const p = identity({ Effect: 'Allow', Action: 'iam:GetUser', Resource: 'arn:aws:iam::111122223333:user/a${*}' });
    assert.equal(decide(p, 'iam:GetUser', 'arn:aws:iam::111122223333:user/a*'), 'Allow');
    assert.equal(decide(p, 'iam:GetUser', 'arn:aws:iam::111122223333:user/abc'), 'ImplicitDeny');
  });
  test('a value brought in by a variable is literal too (a user named "*" does not become a wildcard)', () =>
    assert.equal(decide(ownKeys, 'iam:CreateAccessKey', 'arn:aws:iam::111122223333:user/bob', { 'aws:username': '*' }), 'ImplicitDeny'));
  test("a default value: ${aws:username, 'nobody'}", () => {
    const p = identity({ Effect: 'Allow', Action: 'iam:GetUser', Resource: "arn:aws:iam::111122223333:user/${aws:username, 'nobody'}" });
    assert.equal(decide(p, 'iam:GetUser', 'arn:aws:iam::111122223333:user/nobody'), 'Allow');
  });
  test('variables in condition values', () => {
    const p = identity({ Effect: 'Allow', Action: 'ecs:*', Resource: '*', Condition: { StringEquals: { 'aws:ResourceTag/owner': '${aws:username}' } } });
    assert.equal(decide(p, 'ecs:StopTask', '*', { 'aws:username': 'alice', 'aws:ResourceTag/owner': 'alice' }), 'Allow');
    assert.equal(decide(p, 'ecs:StopTask', '*', { 'aws:username': 'alice', 'aws:ResourceTag/owner': 'bob' }), 'ImplicitDeny');
  });
});

/** One Allow statement guarded by `condition`, evaluated against `context`. */
function conditionAllows(condition: object, context: ContextValues): boolean {
  return decide(identity({ Effect: 'Allow', Action: '*', Resource: '*', Condition: condition }), 'ecs:ListClusters', '*', context) === 'Allow';
}

describe('condition operators (IAM User Guide: "IAM JSON policy elements: Condition operators")', () => {
  const rows: [name: string, condition: object, context: ContextValues, allows: boolean][] = [
    // String
    ['StringEquals matches exactly', { StringEquals: { 'aws:PrincipalTag/job-category': 'iamuser-admin' } }, { 'aws:PrincipalTag/job-category': 'iamuser-admin' }, true],
    ['StringEquals is case-sensitive', { StringEquals: { 'aws:PrincipalTag/job-category': 'iamuser-admin' } }, { 'aws:PrincipalTag/job-category': 'IAMUser-Admin' }, false],
    ['StringEquals: key missing → false', { StringEquals: { 'aws:PrincipalTag/job-category': 'iamuser-admin' } }, {}, false],
    ['condition key names are case-insensitive', { StringEquals: { 'AWS:PRINCIPALTAG/job-category': 'x' } }, { 'aws:PrincipalTag/job-category': 'x' }, true],
    ['StringNotEquals: other value → true', { StringNotEquals: { 'ecs:cluster': 'a' } }, { 'ecs:cluster': 'b' }, true],
    ['StringNotEquals: key missing → true (negated operators)', { StringNotEquals: { 'ecs:cluster': 'a' } }, {}, true],
    ['StringEqualsIgnoreCase', { StringEqualsIgnoreCase: { 'aws:PrincipalTag/team': 'Blue' } }, { 'aws:PrincipalTag/team': 'BLUE' }, true],
    ['StringNotEqualsIgnoreCase', { StringNotEqualsIgnoreCase: { 'aws:PrincipalTag/team': 'Blue' } }, { 'aws:PrincipalTag/team': 'bLuE' }, false],
    ['StringLike with *', { StringLike: { 's3:prefix': ['', 'home/', 'home/${aws:username}/*'] } }, { 's3:prefix': 'home/alice/photos', 'aws:username': 'alice' }, true],
    ['StringLike: another user\'s prefix', { StringLike: { 's3:prefix': ['home/${aws:username}/*'] } }, { 's3:prefix': 'home/bob/photos', 'aws:username': 'alice' }, false],
    ['StringLike with ?', { StringLike: { 'ecs:cluster': 'arn:aws:ecs:*:*:cluster/team-?' } }, { 'ecs:cluster': 'arn:aws:ecs:us-east-1:1:cluster/team-a' }, true],
    ['StringNotLike', { StringNotLike: { 'ecs:cluster': '*prod*' } }, { 'ecs:cluster': 'dev' }, true],
    ['StringNotLike: matching value → false', { StringNotLike: { 'ecs:cluster': '*prod*' } }, { 'ecs:cluster': 'my-prod-1' }, false],
    // Several values of one key: OR; negated: NOR
    ['values of one key are OR-ed', { StringEquals: { 'aws:PrincipalTag/dept': ['finance', 'hr'] } }, { 'aws:PrincipalTag/dept': 'hr' }, true],
    ['negated with several values: NOR (matches one → false)', { StringNotEquals: { 'aws:PrincipalTag/dept': ['finance', 'hr'] } }, { 'aws:PrincipalTag/dept': 'hr' }, false],
    ['negated with several values: NOR (matches none → true)', { StringNotEquals: { 'aws:PrincipalTag/dept': ['finance', 'hr'] } }, { 'aws:PrincipalTag/dept': 'it' }, true],
    // Several keys and operators: AND
    ['keys within an operator are AND-ed', { StringEquals: { 'aws:PrincipalTag/a': '1', 'aws:PrincipalTag/b': '2' } }, { 'aws:PrincipalTag/a': '1', 'aws:PrincipalTag/b': '3' }, false],
    ['operators are AND-ed', { StringEquals: { 'aws:PrincipalTag/a': '1' }, Bool: { 'aws:SecureTransport': 'true' } }, { 'aws:PrincipalTag/a': '1', 'aws:SecureTransport': 'false' }, false],
    ['operators are AND-ed (both hold)', { StringEquals: { 'aws:PrincipalTag/a': '1' }, Bool: { 'aws:SecureTransport': 'true' } }, { 'aws:PrincipalTag/a': '1', 'aws:SecureTransport': 'true' }, true],
    // Numeric
    ['NumericLessThanEquals (docs: s3:max-keys ≤ 10)', { NumericLessThanEquals: { 's3:max-keys': '10' } }, { 's3:max-keys': '10' }, true],
    ['NumericLessThanEquals over the limit', { NumericLessThanEquals: { 's3:max-keys': '10' } }, { 's3:max-keys': '11' }, false],
    ['NumericEquals with a JSON number in the policy', { NumericEquals: { 'ecs:task-cpu': 256 } }, { 'ecs:task-cpu': '256' }, true],
    ['NumericLessThan', { NumericLessThan: { 'ecs:task-memory': '1024' } }, { 'ecs:task-memory': '512' }, true],
    ['NumericGreaterThan', { NumericGreaterThan: { 'ecs:task-memory': '1024' } }, { 'ecs:task-memory': '512' }, false],
    ['NumericGreaterThanEquals', { NumericGreaterThanEquals: { 'ecs:task-memory': '1024' } }, { 'ecs:task-memory': '1024' }, true],
    ['NumericNotEquals', { NumericNotEquals: { 'ecs:task-cpu': '256' } }, { 'ecs:task-cpu': '512' }, true],
    ['Numeric: a non-number in the request does not match', { NumericEquals: { 'ecs:task-cpu': '256' } }, { 'ecs:task-cpu': 'lots' }, false],
    // Date (aws:CurrentTime ISO 8601, aws:EpochTime seconds)
    ['DateGreaterThan + DateLessThan window (inside)', { DateGreaterThan: { 'aws:CurrentTime': '2020-04-01T00:00:00Z' }, DateLessThan: { 'aws:CurrentTime': '2020-06-30T23:59:59Z' } }, { 'aws:CurrentTime': '2020-05-05T12:00:00Z' }, true],
    ['DateGreaterThan + DateLessThan window (after)', { DateGreaterThan: { 'aws:CurrentTime': '2020-04-01T00:00:00Z' }, DateLessThan: { 'aws:CurrentTime': '2020-06-30T23:59:59Z' } }, { 'aws:CurrentTime': '2020-07-01T00:00:00Z' }, false],
    ['DateLessThan with epoch seconds', { DateLessThan: { 'aws:EpochTime': '1600000000' } }, { 'aws:EpochTime': '1599999999' }, true],
    ['DateEquals across formats (ISO policy, epoch request)', { DateEquals: { 'aws:EpochTime': '2020-09-13T12:26:40Z' } }, { 'aws:EpochTime': '1600000000' }, true],
    ['DateLessThanEquals', { DateLessThanEquals: { 'aws:CurrentTime': '2020-01-01T00:00:00Z' } }, { 'aws:CurrentTime': '2020-01-01T00:00:00Z' }, true],
    ['DateGreaterThanEquals', { DateGreaterThanEquals: { 'aws:CurrentTime': '2020-01-01T00:00:00Z' } }, { 'aws:CurrentTime': '2019-12-31T23:59:59Z' }, false],
    ['DateNotEquals', { DateNotEquals: { 'aws:CurrentTime': '2020-01-01T00:00:00Z' } }, { 'aws:CurrentTime': '2020-01-02T00:00:00Z' }, true],
    // Bool
    ['Bool aws:SecureTransport false (docs example)', { Bool: { 'aws:SecureTransport': 'false' } }, { 'aws:SecureTransport': 'false' }, true],
    ['Bool is case-insensitive in its values', { Bool: { 'aws:SecureTransport': 'True' } }, { 'aws:SecureTransport': 'true' }, true],
    ['Bool with a JSON boolean', { Bool: { 'aws:SecureTransport': true } }, { 'aws:SecureTransport': 'false' }, false],
    ['Bool: key missing → false', { Bool: { 'aws:SecureTransport': 'false' } }, {}, false],
    // IP addresses
    ['IpAddress in the CIDR (docs: 203.0.113.0/24)', { IpAddress: { 'aws:SourceIp': '203.0.113.0/24' } }, { 'aws:SourceIp': '203.0.113.42' }, true],
    ['IpAddress outside the CIDR', { IpAddress: { 'aws:SourceIp': '203.0.113.0/24' } }, { 'aws:SourceIp': '203.0.114.1' }, false],
    ['IpAddress IPv6 (docs: 2001:DB8:1234:5678::/64)', { IpAddress: { 'aws:SourceIp': ['203.0.113.0/24', '2001:DB8:1234:5678::/64'] } }, { 'aws:SourceIp': '2001:db8:1234:5678::1' }, true],
    ['IpAddress IPv6 outside', { IpAddress: { 'aws:SourceIp': '2001:DB8:1234:5678::/64' } }, { 'aws:SourceIp': '2001:db8:1234:5679::1' }, false],
    ['IpAddress single address (implicit /32)', { IpAddress: { 'aws:SourceIp': '127.0.0.1' } }, { 'aws:SourceIp': '127.0.0.1' }, true],
    ['IpAddress: IPv4-mapped IPv6 client address', { IpAddress: { 'aws:SourceIp': '127.0.0.0/8' } }, { 'aws:SourceIp': '::ffff:127.0.0.1' }, true],
    ['IpAddress: an IPv4 client never matches an IPv6 range', { IpAddress: { 'aws:SourceIp': '::/0' } }, { 'aws:SourceIp': '10.0.0.1' }, false],
    ['NotIpAddress outside → true', { NotIpAddress: { 'aws:SourceIp': ['192.0.2.0/24', '203.0.113.0/24'] } }, { 'aws:SourceIp': '198.51.100.7' }, true],
    ['NotIpAddress inside → false', { NotIpAddress: { 'aws:SourceIp': ['192.0.2.0/24', '203.0.113.0/24'] } }, { 'aws:SourceIp': '192.0.2.7' }, false],
    // ARNs
    ['ArnEquals', { ArnEquals: { 'ecs:cluster': 'arn:aws:ecs:us-east-1:111122223333:cluster/default' } }, { 'ecs:cluster': 'arn:aws:ecs:us-east-1:111122223333:cluster/default' }, true],
    ['ArnEquals other cluster', { ArnEquals: { 'ecs:cluster': 'arn:aws:ecs:us-east-1:111122223333:cluster/default' } }, { 'ecs:cluster': 'arn:aws:ecs:us-east-1:111122223333:cluster/prod' }, false],
    ['ArnLike with wildcards', { ArnLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:role/deploy-*' } }, { 'aws:PrincipalArn': 'arn:aws:iam::111122223333:role/deploy-web' }, true],
    ['ArnNotLike', { ArnNotLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:role/deploy-*' } }, { 'aws:PrincipalArn': 'arn:aws:iam::111122223333:user/alice' }, true],
    ['ArnNotEquals: key missing → true', { ArnNotEquals: { 'ecs:cluster': 'arn:aws:ecs:us-east-1:1:cluster/x' } }, {}, true],
    ['ArnLike: a non-ARN request value does not match', { ArnLike: { 'aws:SourceArn': 'arn:aws:*' } }, { 'aws:SourceArn': 'not-an-arn' }, false],
    // Null
    ['Null true: key absent', { Null: { 'aws:TokenIssueTime': 'true' } }, {}, true],
    ['Null true: key present → false', { Null: { 'aws:TokenIssueTime': 'true' } }, { 'aws:TokenIssueTime': '2020-01-01T00:00:00Z' }, false],
    ['Null false: key present', { Null: { 'aws:TokenIssueTime': 'false' } }, { 'aws:TokenIssueTime': '2020-01-01T00:00:00Z' }, true],
    ['Null false: key absent → false', { Null: { 'aws:TokenIssueTime': 'false' } }, {}, false],
    // …IfExists (docs: StringLikeIfExists ec2:InstanceType)
    ['…IfExists: key absent → true', { StringLikeIfExists: { 'ec2:InstanceType': ['t1.*', 't2.*', 'm3.*'] } }, {}, true],
    ['…IfExists: key present and matching', { StringLikeIfExists: { 'ec2:InstanceType': ['t1.*', 't2.*', 'm3.*'] } }, { 'ec2:InstanceType': 't2.micro' }, true],
    ['…IfExists: key present, not matching', { StringLikeIfExists: { 'ec2:InstanceType': ['t1.*', 't2.*', 'm3.*'] } }, { 'ec2:InstanceType': 'c5.large' }, false],
    ['NumericLessThanIfExists absent', { NumericLessThanIfExists: { 'ecs:task-cpu': '1024' } }, {}, true],
    ['ArnEqualsIfExists present', { ArnEqualsIfExists: { 'ecs:cluster': 'arn:aws:ecs:us-east-1:1:cluster/a' } }, { 'ecs:cluster': 'arn:aws:ecs:us-east-1:1:cluster/b' }, false],
    ['BoolIfExists absent', { BoolIfExists: { 'aws:MultiFactorAuthPresent': 'false' } }, {}, true],
    ['IpAddressIfExists absent', { IpAddressIfExists: { 'aws:SourceIp': '10.0.0.0/8' } }, {}, true],
    ['DateLessThanIfExists present', { DateLessThanIfExists: { 'aws:CurrentTime': '2020-01-01T00:00:00Z' } }, { 'aws:CurrentTime': '2021-01-01T00:00:00Z' }, false],
  ];
  for (const [name, condition, context, allows] of rows) test(name, () => assert.equal(conditionAllows(condition, context), allows));
});

describe('set operators on multivalued keys (IAM User Guide: "Set operators for multivalued context keys")', () => {
  const allowed = ['environment', 'cost-center'];
  const rows: [name: string, condition: object, context: ContextValues, allows: boolean][] = [
    ['ForAllValues: every requested tag key is allowed', { 'ForAllValues:StringEquals': { 'aws:TagKeys': allowed } }, { 'aws:TagKeys': ['environment'] }, true],
    ['ForAllValues: one requested tag key is not allowed', { 'ForAllValues:StringEquals': { 'aws:TagKeys': allowed } }, { 'aws:TagKeys': ['environment', 'dept'] }, false],
    ['ForAllValues: key missing → true', { 'ForAllValues:StringEquals': { 'aws:TagKeys': allowed } }, {}, true],
    ['ForAllValues: empty set → true', { 'ForAllValues:StringEquals': { 'aws:TagKeys': allowed } }, { 'aws:TagKeys': [] }, true],
    ['ForAnyValue: one requested key is in the set', { 'ForAnyValue:StringEquals': { 'aws:TagKeys': allowed } }, { 'aws:TagKeys': ['x', 'cost-center'] }, true],
    ['ForAnyValue: none is', { 'ForAnyValue:StringEquals': { 'aws:TagKeys': allowed } }, { 'aws:TagKeys': ['x', 'y'] }, false],
    ['ForAnyValue: key missing → false', { 'ForAnyValue:StringEquals': { 'aws:TagKeys': allowed } }, {}, false],
    ['ForAnyValue:StringLike', { 'ForAnyValue:StringLike': { 'aws:TagKeys': 'team-*' } }, { 'aws:TagKeys': ['owner', 'team-a'] }, true],
    ['ForAllValues:StringLike', { 'ForAllValues:StringLike': { 'aws:TagKeys': 'team-*' } }, { 'aws:TagKeys': ['owner', 'team-a'] }, false],
    // Negated inside a set operator: per value
    ['ForAnyValue:StringNotEquals: some value outside the set', { 'ForAnyValue:StringNotEquals': { 'aws:TagKeys': allowed } }, { 'aws:TagKeys': ['environment', 'dept'] }, true],
    ['ForAnyValue:StringNotEquals: all inside the set', { 'ForAnyValue:StringNotEquals': { 'aws:TagKeys': allowed } }, { 'aws:TagKeys': ['environment'] }, false],
    ['ForAllValues:StringNotEquals: no value in the set', { 'ForAllValues:StringNotEquals': { 'aws:TagKeys': allowed } }, { 'aws:TagKeys': ['a', 'b'] }, true],
    ['ForAllValues:StringNotEquals: one value in the set', { 'ForAllValues:StringNotEquals': { 'aws:TagKeys': allowed } }, { 'aws:TagKeys': ['a', 'environment'] }, false],
    ['ForAnyValue:ArnLike on ecs:container-instances', { 'ForAnyValue:ArnLike': { 'ecs:container-instances': 'arn:aws:ecs:*:*:container-instance/prod/*' } }, { 'ecs:container-instances': ['arn:aws:ecs:us-east-1:1:container-instance/dev/1', 'arn:aws:ecs:us-east-1:1:container-instance/prod/2'] }, true],
    ['ForAllValues:ArnLike on ecs:container-instances', { 'ForAllValues:ArnLike': { 'ecs:container-instances': 'arn:aws:ecs:*:*:container-instance/prod/*' } }, { 'ecs:container-instances': ['arn:aws:ecs:us-east-1:1:container-instance/dev/1', 'arn:aws:ecs:us-east-1:1:container-instance/prod/2'] }, false],
    ['set operator names are case-insensitive', { 'forallvalues:StringEquals': { 'aws:TagKeys': allowed } }, { 'aws:TagKeys': ['dept'] }, false],
  ];
  for (const [name, condition, context, allows] of rows) test(name, () => assert.equal(conditionAllows(condition, context), allows));

  test('the docs\' warning: a Deny with ForAllValues and a missing key denies', () => {
    const p = identity([
      { Effect: 'Allow', Action: '*', Resource: '*' },
      { Effect: 'Deny', Action: '*', Resource: '*', Condition: { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['forbidden'] } } },
    ]);
    assert.equal(decide(p, 'ecs:TagResource', '*', {}), 'ExplicitDeny');
    assert.equal(decide(p, 'ecs:TagResource', '*', { 'aws:TagKeys': ['ok'] }), 'Allow');
  });
});

describe('documented example policies (IAM User Guide: "Example IAM identity-based policies")', () => {
  const allowAll = { Effect: 'Allow', Action: '*', Resource: '*' };
  test('"AWS: Denies access to AWS based on the source IP": denied outside the ranges unless via an AWS service', () => {
    const p = identity([
      allowAll,
      { Effect: 'Deny', Action: '*', Resource: '*', Condition: { NotIpAddress: { 'aws:SourceIp': ['192.0.2.0/24', '203.0.113.0/24'] }, Bool: { 'aws:ViaAWSService': 'false' } } },
    ]);
    assert.equal(decide(p, 'ecs:ListClusters', '*', { 'aws:SourceIp': '198.51.100.1', 'aws:ViaAWSService': 'false' }), 'ExplicitDeny');
    assert.equal(decide(p, 'ecs:ListClusters', '*', { 'aws:SourceIp': '192.0.2.5', 'aws:ViaAWSService': 'false' }), 'Allow');
    assert.equal(decide(p, 'ecs:ListClusters', '*', { 'aws:SourceIp': '198.51.100.1', 'aws:ViaAWSService': 'true' }), 'Allow');
  });
  test('"Denies access … without MFA" with BoolIfExists: a request without the key is denied too', () => {
    const p = identity([allowAll, { Effect: 'Deny', NotAction: ['iam:ChangePassword', 'sts:GetSessionToken'], Resource: '*', Condition: { BoolIfExists: { 'aws:MultiFactorAuthPresent': 'false' } } }]);
    assert.equal(decide(p, 'ecs:RunTask', '*', {}), 'ExplicitDeny');
    assert.equal(decide(p, 'ecs:RunTask', '*', { 'aws:MultiFactorAuthPresent': 'false' }), 'ExplicitDeny');
    assert.equal(decide(p, 'ecs:RunTask', '*', { 'aws:MultiFactorAuthPresent': 'true' }), 'Allow');
    assert.equal(decide(p, 'iam:ChangePassword', '*', {}), 'Allow');
  });
  test('"… MFA-authenticated within the last hour" with Null and NumericLessThan', () => {
    const p = identity({ Effect: 'Allow', Action: 'ecs:*', Resource: '*', Condition: { Null: { 'aws:MultiFactorAuthAge': 'false' }, NumericLessThan: { 'aws:MultiFactorAuthAge': '3600' } } });
    assert.equal(decide(p, 'ecs:RunTask', '*', { 'aws:MultiFactorAuthAge': '120' }), 'Allow');
    assert.equal(decide(p, 'ecs:RunTask', '*', { 'aws:MultiFactorAuthAge': '7200' }), 'ImplicitDeny');
    assert.equal(decide(p, 'ecs:RunTask', '*', {}), 'ImplicitDeny');
  });
  test('"Allows … based on tags": aws:ResourceTag must equal the principal\'s tag', () => {
    const p = identity({ Effect: 'Allow', Action: 'ecs:StopTask', Resource: '*', Condition: { StringEquals: { 'aws:ResourceTag/team': '${aws:PrincipalTag/team}' } } });
    assert.equal(decide(p, 'ecs:StopTask', '*', { 'aws:ResourceTag/team': 'blue', 'aws:PrincipalTag/team': 'blue' }), 'Allow');
    assert.equal(decide(p, 'ecs:StopTask', '*', { 'aws:ResourceTag/team': 'red', 'aws:PrincipalTag/team': 'blue' }), 'ImplicitDeny');
    assert.equal(decide(p, 'ecs:StopTask', '*', { 'aws:ResourceTag/team': 'red' }), 'ImplicitDeny');
  });
  test('"Limits managing tags": aws:RequestTag values and ForAllValues on aws:TagKeys', () => {
    const p = identity({
      Effect: 'Allow',
      Action: 'ecs:TagResource',
      Resource: '*',
      Condition: { StringEquals: { 'aws:RequestTag/env': ['dev', 'test'] }, 'ForAllValues:StringEquals': { 'aws:TagKeys': ['env', 'owner'] } },
    });
    assert.equal(decide(p, 'ecs:TagResource', '*', { 'aws:RequestTag/env': 'dev', 'aws:TagKeys': ['env', 'owner'] }), 'Allow');
    assert.equal(decide(p, 'ecs:TagResource', '*', { 'aws:RequestTag/env': 'prod', 'aws:TagKeys': ['env'] }), 'ImplicitDeny');
    assert.equal(decide(p, 'ecs:TagResource', '*', { 'aws:RequestTag/env': 'dev', 'aws:TagKeys': ['env', 'cost'] }), 'ImplicitDeny');
  });
});

describe('iam:PassRole with iam:PassedToService (IAM User Guide: granting a user permissions to pass a role)', () => {
  const passToEcsTasks = identity({
    Effect: 'Allow',
    Action: 'iam:PassRole',
    Resource: 'arn:aws:iam::111122223333:role/task-*',
    Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
  });
  test('passing a matching role to ecs-tasks is allowed', () =>
    assert.equal(decide(passToEcsTasks, 'iam:PassRole', 'arn:aws:iam::111122223333:role/task-web', { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' }), 'Allow'));
  test('passing it to another service is not', () =>
    assert.equal(decide(passToEcsTasks, 'iam:PassRole', 'arn:aws:iam::111122223333:role/task-web', { 'iam:PassedToService': 'ec2.amazonaws.com' }), 'ImplicitDeny'));
  test('passing another role is not', () =>
    assert.equal(decide(passToEcsTasks, 'iam:PassRole', 'arn:aws:iam::111122223333:role/admin', { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' }), 'ImplicitDeny'));
});

describe('trust policies', () => {
  const ecsTasksTrust = parsePolicy(
    { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ecs-tasks.amazonaws.com' }, Action: 'sts:AssumeRole' }] },
    'trust',
  );
  test('the service principal may assume the role', () =>
    assert.equal(trustAllows(ecsTasksTrust, { action: 'sts:AssumeRole', principal: { type: 'Service', id: 'ecs-tasks.amazonaws.com' } }), true));
  test('another service may not', () => assert.equal(trustAllows(ecsTasksTrust, { action: 'sts:AssumeRole', principal: { type: 'Service', id: 'ec2.amazonaws.com' } }), false));
  test('an IAM user may not', () => assert.equal(trustAllows(ecsTasksTrust, { action: 'sts:AssumeRole', principal: alice }), false));
  const userTrust = parsePolicy(
    {
      Version: '2012-10-17',
      Statement: { Effect: 'Allow', Principal: { AWS: [alice.id] }, Action: 'sts:AssumeRole', Condition: { Bool: { 'aws:MultiFactorAuthPresent': 'true' } } },
    },
    'trust',
  );
  test('a named user with the condition met', () =>
    assert.equal(trustAllows(userTrust, { action: 'sts:AssumeRole', principal: alice, context: { 'aws:MultiFactorAuthPresent': 'true' } }), true));
  test('a named user without the condition', () => assert.equal(trustAllows(userTrust, { action: 'sts:AssumeRole', principal: alice }), false));
  test('a role session matches a Principal naming its role', () => {
    const trust = parsePolicy({ Version: '2012-10-17', Statement: { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCT}:role/ci` }, Action: 'sts:AssumeRole' } }, 'trust');
    const session: RequestPrincipal = { type: 'AWS', id: `arn:aws:sts::${ACCT}:assumed-role/ci/s1`, roleArn: `arn:aws:iam::${ACCT}:role/ci`, accountId: ACCT };
    assert.equal(trustAllows(trust, { action: 'sts:AssumeRole', principal: session }), true);
  });
});

describe('parsing and validation (IAM MalformedPolicyDocument messages)', () => {
  const bad: [name: string, doc: unknown, kind: 'identity' | 'resource' | 'trust', message: RegExp][] = [
    ['not JSON', '{"Version":', 'identity', /^Syntax errors in policy\.$/],
    ['not an object', '[]', 'identity', /Syntax errors/],
    ['no Statement', { Version: '2012-10-17' }, 'identity', /^Missing required field Statement$/],
    ['an empty Statement list', { Version: '2012-10-17', Statement: [] }, 'identity', /^Missing required field Statement$/],
    ['unknown top-level field', { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }], Foo: 1 }, 'identity', /Unknown field Foo/],
    ['bad Version', { Version: '2020-01-01', Statement: [] }, 'identity', /legacy parsing/],
    ['bad Effect', { Statement: { Effect: 'Maybe', Action: '*', Resource: '*' } }, 'identity', /Effect/],
    ['no Action', { Statement: { Effect: 'Allow', Resource: '*' } }, 'identity', /^Policy statement must contain actions\.$/],
    ['empty Action list', { Statement: { Effect: 'Allow', Action: [], Resource: '*' } }, 'identity', /must contain actions/],
    ['no Resource in an identity policy', { Statement: { Effect: 'Allow', Action: '*' } }, 'identity', /^Policy statement must contain resources\.$/],
    ['Principal in an identity policy', { Statement: { Effect: 'Allow', Action: '*', Resource: '*', Principal: '*' } }, 'identity', /^Policy document should not specify a principal\.$/],
    ['no Principal in a trust policy', { Statement: { Effect: 'Allow', Action: 'sts:AssumeRole' } }, 'trust', /^Missing required field Principal$/],
    ['Resource in a trust policy', { Statement: { Effect: 'Allow', Action: 'sts:AssumeRole', Principal: '*', Resource: '*' } }, 'trust', /prohibited field Resource/],
    ['action without a vendor', { Statement: { Effect: 'Allow', Action: 'RunTask', Resource: '*' } }, 'identity', /prefaced by a vendor/],
    ['action with two colons', { Statement: { Effect: 'Allow', Action: 'ecs:Run:Task', Resource: '*' } }, 'identity', /only one colon/],
    ['duplicate Sids', { Statement: [{ Sid: 'A', Effect: 'Allow', Action: '*', Resource: '*' }, { Sid: 'A', Effect: 'Deny', Action: '*', Resource: '*' }] }, 'identity', /must be unique/],
    ['non-alphanumeric Sid', { Statement: { Sid: 'a-b', Effect: 'Allow', Action: '*', Resource: '*' } }, 'identity', /alpha-numeric/],
    ['unknown statement field', { Statement: { Effect: 'Allow', Action: '*', Resource: '*', Actions: 'x' } }, 'identity', /Unknown field Actions/],
    ['Action and NotAction together', { Statement: { Effect: 'Allow', Action: '*', NotAction: 'iam:*', Resource: '*' } }, 'identity', /both Action and NotAction/],
    ['unknown condition operator', { Statement: { Effect: 'Allow', Action: '*', Resource: '*', Condition: { StringSortOf: { 'aws:x': 'y' } } } }, 'identity', /Invalid Condition type/],
    ['NullIfExists is not an operator', { Statement: { Effect: 'Allow', Action: '*', Resource: '*', Condition: { NullIfExists: { 'aws:x': 'true' } } } }, 'identity', /Invalid Condition type/],
    ['bad CIDR', { Statement: { Effect: 'Allow', Action: '*', Resource: '*', Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/33' } } } }, 'identity', /CIDR/],
    ['resource not an ARN', { Statement: { Effect: 'Allow', Action: '*', Resource: 'cluster/default' } }, 'identity', /ARN format/],
    ['invalid principal type', { Statement: { Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { User: 'x' } } }, 'trust', /Invalid principal/],
    ['Action of the wrong type', { Statement: { Effect: 'Allow', Action: 5, Resource: '*' } }, 'identity', /Syntax errors/],
  ];
  for (const [name, doc, kind, message] of bad) {
    test(`rejects: ${name}`, () => assert.throws(() => parsePolicy(typeof doc === 'string' ? doc : JSON.stringify(doc), kind), (e: unknown) => e instanceof PolicyError && message.test(e.message)));
  }

  test('a single Statement object and an array are the same policy', () => {
    const s = { Effect: 'Allow', Action: 'ecs:RunTask', Resource: '*' };
    assert.deepEqual(parsePolicy({ Version: '2012-10-17', Statement: s }, 'identity'), parsePolicy({ Version: '2012-10-17', Statement: [s] }, 'identity'));
  });
  test('an ECR repository policy (no Resource) parses as a resource policy', () => {
    const p = parsePolicy(
      { Version: '2012-10-17', Statement: [{ Sid: 'AllowPull', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCT}:user/alice` }, Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'] }] },
      'resource',
    );
    assert.equal(p.statements.length, 1);
    assert.equal(p.statements[0]!.resource, undefined);
  });
  test('Sids may repeat the empty string and differ in case', () =>
    assert.doesNotThrow(() => parsePolicy({ Statement: [{ Sid: 'a', Effect: 'Allow', Action: '*', Resource: '*' }, { Sid: 'A', Effect: 'Allow', Action: '*', Resource: '*' }] }, 'identity')));
});

describe('properties', () => {
  const actions = fc.constantFrom('ecs:RunTask', 'ecs:StopTask', 'ecr:BatchGetImage', 'iam:CreateUser', 'sts:GetCallerIdentity', 'ecs:ListClusters');
  const actionPatterns = fc.constantFrom('*', 'ecs:*', 'ecs:RunTask', 'ecr:Batch*', 'iam:*User', 'ECS:runtask', 'sts:Get?allerIdentity', 'ecs:*Task');
  const resources = fc.constantFrom('*', 'arn:aws:ecs:us-east-1:111122223333:cluster/default', 'arn:aws:ecs:us-east-1:111122223333:cluster/prod', 'arn:aws:ecr:us-east-1:111122223333:repository/web');
  const resourcePatterns = fc.constantFrom('*', 'arn:aws:ecs:*:*:cluster/*', 'arn:aws:ecs:us-east-1:111122223333:cluster/default', 'arn:aws:ecr:*:*:repository/w?b', 'arn:aws:iam::*:user/*');
  const statement = fc.record({
    Effect: fc.constantFrom('Allow', 'Deny'),
    Action: fc.array(actionPatterns, { minLength: 1, maxLength: 3 }),
    Resource: fc.array(resourcePatterns, { minLength: 1, maxLength: 3 }),
  });
  const statements = fc.array(statement, { maxLength: 6 });
  const requests = fc.record({ action: actions, resource: resources });

  test('adding a Deny * * to any policy set gives an explicit deny', () => {
    fc.assert(
      fc.property(statements, requests, (ss, r) => {
        const p = [identity(ss.length ? ss : [{ Effect: 'Allow', Action: '*', Resource: '*' }]), identity({ Effect: 'Deny', Action: '*', Resource: '*' })];
        return decide(p, r.action, r.resource) === 'ExplicitDeny';
      }),
    );
  });

  test('the decision does not depend on statement order or on how statements are split into policies', () => {
    fc.assert(
      fc.property(fc.array(statement, { minLength: 1, maxLength: 6 }), requests, fc.integer(), (ss, r, seed) => {
        const one = decide(identity(ss), r.action, r.resource);
        const shuffled = [...ss].sort((a, b) => ((JSON.stringify(a).length * 31 + seed) % 7) - ((JSON.stringify(b).length * 31 + seed) % 7)).reverse();
        const split = ss.map((s) => identity(s));
        return decide(identity(shuffled), r.action, r.resource) === one && decide(split, r.action, r.resource) === one;
      }),
    );
  });

  test('Allow iff some Allow statement matches and no Deny statement matches (the documented algorithm, written directly)', () => {
    fc.assert(
      fc.property(fc.array(statement, { minLength: 1, maxLength: 6 }), requests, (ss, r) => {
        const matches = (s: (typeof ss)[number]) =>
          s.Action.some((a) => actionMatches(a, r.action)) && s.Resource.some((p) => resourceMatches(p, r.resource));
        const expected = ss.some((s) => s.Effect === 'Deny' && matches(s)) ? 'ExplicitDeny' : ss.some((s) => s.Effect === 'Allow' && matches(s)) ? 'Allow' : 'ImplicitDeny';
        return decide(identity(ss), r.action, r.resource) === expected;
      }),
    );
  });

  test('action matching ignores case on both sides', () => {
    fc.assert(
      fc.property(actionPatterns, actions, fc.boolean(), (p, a, upper) => {
        const flip = (s: string) => (upper ? s.toUpperCase() : s.toLowerCase());
        return actionMatches(flip(p), a) === actionMatches(p, flip(a));
      }),
    );
  });

  test('globMatch agrees with a regular-expression reference on random patterns', () => {
    const alphabet = fc.constantFrom('a', 'b', '/', ':', '*', '?');
    const textAlphabet = fc.constantFrom('a', 'b', '/', ':');
    fc.assert(
      fc.property(fc.string({ unit: alphabet, maxLength: 8 }), fc.string({ unit: textAlphabet, maxLength: 10 }), (pattern, text) => {
        const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\/]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 's');
        return globMatch(pattern, text) === re.test(text);
      }),
      { numRuns: 2000 },
    );
  });

  test('set operators: on a non-empty set, ForAnyValue:StringNotEquals is the negation of ForAllValues:StringEquals, and ForAllValues implies ForAnyValue', () => {
    const words = fc.constantFrom('a', 'b', 'c', 'd');
    fc.assert(
      fc.property(fc.uniqueArray(words, { minLength: 1, maxLength: 4 }), fc.uniqueArray(words, { minLength: 1, maxLength: 4 }), (policyValues, contextValues) => {
        const ctx = { 'aws:TagKeys': contextValues };
        const all = conditionAllows({ 'ForAllValues:StringEquals': { 'aws:TagKeys': policyValues } }, ctx);
        const anyNot = conditionAllows({ 'ForAnyValue:StringNotEquals': { 'aws:TagKeys': policyValues } }, ctx);
        const any = conditionAllows({ 'ForAnyValue:StringEquals': { 'aws:TagKeys': policyValues } }, ctx);
        // The documented meaning, written directly: every / some request value is in the policy's set.
        const every = contextValues.every((v) => policyValues.includes(v));
        const some = contextValues.some((v) => policyValues.includes(v));
        return all === every && any === some && anyNot === !all && (!all || any);
      }),
    );
  });

  test('globMatch stays fast on adversarial patterns', () => {
    const started = performance.now();
    assert.equal(globMatch('*a*a*a*a*a*a*a*a*a*b', 'a'.repeat(5000)), false);
    assert.ok(performance.now() - started < 500);
  });

  test('a negated operator is the complement of its positive form when the key is present', () => {
    const pairs: [string, string][] = [['StringEquals', 'StringNotEquals'], ['StringLike', 'StringNotLike'], ['ArnLike', 'ArnNotLike'], ['IpAddress', 'NotIpAddress'], ['NumericEquals', 'NumericNotEquals']];
    const values = fc.constantFrom('a', 'b*', '10.0.0.0/8', '10.1.2.3', '5', 'arn:aws:ecs:us-east-1:1:cluster/a', 'arn:aws:ecs:*:*:cluster/*');
    fc.assert(
      fc.property(fc.constantFrom(...pairs), fc.array(fc.constantFrom('a', 'bc', '10.1.2.3', '5', 'arn:aws:ecs:us-east-1:1:cluster/a'), { minLength: 1, maxLength: 1 }), values, ([pos, neg], ctxValue, policyValue) => {
        if (pos === 'IpAddress' && !/^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(policyValue)) return true; // not a CIDR: refused at parse
        const ctx = { 'aws:k': ctxValue };
        return conditionAllows({ [pos]: { 'aws:k': policyValue } }, ctx) === !conditionAllows({ [neg]: { 'aws:k': policyValue } }, ctx);
      }),
    );
  });
});
