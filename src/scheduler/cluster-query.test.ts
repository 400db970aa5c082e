import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileClusterQuery, type QueryTarget } from './cluster-query-eval.js';
import { parseClusterQuery } from './cluster-query.js';
import { ClusterQueryError, SchedulerInputError } from './errors.js';
import { Fixtures } from './testing.js';
import type { InstanceView } from './types.js';

function target(instance: InstanceView, groups: string[] = [], running = 0): QueryTarget {
  return { instance, taskGroups: () => new Set(groups), runningTasksCount: () => running };
}

function matches(expression: string, t: QueryTarget): boolean {
  return compileClusterQuery(parseClusterQuery(expression))(t);
}

function parseError(expression: string): ClusterQueryError {
  try {
    parseClusterQuery(expression);
  } catch (error) {
    assert.ok(error instanceof ClusterQueryError, `expected ClusterQueryError, got ${String(error)}`);
    assert.ok(error instanceof SchedulerInputError);
    return error;
  }
  assert.fail(`expected '${expression}' to be rejected`);
}

describe('parseClusterQuery', () => {
  it('parses the examples in the ECS guide', () => {
    assert.deepEqual(parseClusterQuery('attribute:ecs.instance-type == t2.small'), {
      type: 'comparison',
      subject: { field: 'attribute', name: 'ecs.instance-type' },
      operator: 'equals',
      argument: 't2.small',
    });
    assert.deepEqual(parseClusterQuery('attribute:ecs.availability-zone in [us-east-1a, us-east-1b]'), {
      type: 'comparison',
      subject: { field: 'attribute', name: 'ecs.availability-zone' },
      operator: 'in',
      argument: ['us-east-1a', 'us-east-1b'],
    });
    assert.deepEqual(parseClusterQuery('not(task:group == database)'), {
      type: 'not',
      operand: { type: 'comparison', subject: { field: 'task:group' }, operator: 'equals', argument: 'database' },
    });
    assert.deepEqual(parseClusterQuery("ec2InstanceId in ['i-abcd1234', 'i-wxyx7890']"), {
      type: 'comparison',
      subject: { field: 'ec2InstanceId' },
      operator: 'in',
      argument: ['i-abcd1234', 'i-wxyx7890'],
    });
    for (const expression of [
      'attribute:ecs.instance-type =~ g2.* and attribute:ecs.availability-zone != us-east-1d',
      'task:group == service:production',
      'runningTasksCount == 1',
      'agentVersion < 1.14.5',
      'registeredAt < 2018-02-13',
      'registeredAt >= 2018-06-18T22:28:28+00:00',
      'agentConnected == false',
    ]) {
      assert.doesNotThrow(() => parseClusterQuery(expression), expression);
    }
  });

  it('gives "and" precedence over "or" and honours parentheses', () => {
    const q = parseClusterQuery('attribute:a exists or attribute:b exists and attribute:c exists');
    assert.equal(q.type, 'or');
    assert.equal(q.type === 'or' && q.right.type, 'and');
    const p = parseClusterQuery('(attribute:a exists or attribute:b exists) and attribute:c exists');
    assert.equal(p.type, 'and');
    assert.equal(p.type === 'and' && p.left.type, 'or');
  });

  it('accepts the word and symbol spellings of every operator, keywords in any case', () => {
    const spellings: [string, string][] = [
      ['==', 'equals'],
      ['EQUALS', 'equals'],
      ['!=', 'not_equals'],
      ['not_equals', 'not_equals'],
      ['=~', 'matches'],
      ['Matches', 'matches'],
      ['!~', 'not_matches'],
      ['not_matches', 'not_matches'],
    ];
    for (const [spelling, operator] of spellings) {
      const q = parseClusterQuery(`attribute:x ${spelling} y`);
      assert.equal(q.type === 'comparison' && q.operator, operator, spelling);
    }
    for (const spelling of ['!in', 'not_in', 'NOT_IN']) {
      const q = parseClusterQuery(`attribute:x ${spelling} [a]`);
      assert.equal(q.type === 'comparison' && q.operator, 'not_in', spelling);
    }
    for (const spelling of ['!exists', 'not_exists']) {
      const q = parseClusterQuery(`attribute:x ${spelling}`);
      assert.equal(q.type === 'comparison' && q.operator, 'not_exists', spelling);
    }
    for (const [spelling, operator] of [
      ['>', 'greater_than'],
      ['greater_than_equal', 'greater_than_equal'],
      ['<=', 'less_than_equal'],
      ['less_than', 'less_than'],
    ]) {
      const q = parseClusterQuery(`runningTasksCount ${spelling} 3`);
      assert.equal(q.type === 'comparison' && q.operator, operator, spelling);
    }
    assert.equal(parseClusterQuery('attribute:a exists AND NOT attribute:b exists || attribute:c exists').type, 'or');
    assert.equal(parseClusterQuery('attribute:a exists && !attribute:b exists').type, 'and');
  });

  it('reads an unquoted regex up to the next blank outside parentheses', () => {
    const q = parseClusterQuery('attribute:ecs.instance-type =~ (m5|c5)\\..* and attribute:stack == prod');
    assert.equal(q.type, 'and');
    assert.equal(q.type === 'and' && q.left.type === 'comparison' && q.left.argument, '(m5|c5)\\..*');
    const inParens = parseClusterQuery('not(attribute:ecs.instance-type =~ t2.*) or (attribute:x !~ [a-z](1|2))');
    assert.equal(inParens.type, 'or');
    assert.equal(inParens.type === 'or' && inParens.left.type === 'not' && inParens.left.operand.type === 'comparison' && inParens.left.operand.argument, 't2.*');
    assert.equal(inParens.type === 'or' && inParens.right.type === 'comparison' && inParens.right.argument, '[a-z](1|2)');
  });

  it('takes quoted values with spaces and regex metacharacters', () => {
    const q = parseClusterQuery(`attribute:ecs.instance-type =~ '(t2|t3)\\.(micro|small)'`);
    assert.equal(q.type === 'comparison' && q.argument, '(t2|t3)\\.(micro|small)');
    const r = parseClusterQuery('attribute:team == "data platform"');
    assert.equal(r.type === 'comparison' && r.argument, 'data platform');
  });

  it('rejects bad syntax with a message that says where and why', () => {
    const cases: [string, RegExp, number][] = [
      ['', /empty/, 0],
      ['attribute:ecs.instance-type', /expected an operator after 'attribute:ecs.instance-type'/, 27],
      ['attribute:x = y', /unexpected character '='/, 12],
      ['attribute:x == ', /expected a value/, 15],
      ['colour == red', /unknown subject 'colour'/, 0],
      ['attribute: == x', /needs an attribute name/, 0],
      ['attribute:x in a', /argument list/, 15],
      ['attribute:x in [a, b', /expected ',' or '\]'/, 20],
      ['attribute:x == [a]', /only 'in' and 'not_in'/, 15],
      ['(attribute:x exists', /expected '\)'/, 19],
      ['attribute:x exists attribute:y exists', /join expressions with 'and' or 'or'/, 19],
      ["attribute:x == 'open", /unterminated/, 15],
      ['attribute:x > 3', /operator '>' is not valid for 'attribute:x'/, 12],
      ['runningTasksCount =~ 3', /not valid for 'runningTasksCount'/, 18],
      ['ec2InstanceId exists', /not valid for 'ec2InstanceId'/, 14],
      ['runningTasksCount > many', /whole number/, 20],
      ['registeredAt < yesterday', /not a date/, 15],
      ['registeredAt < 2018-13-01', /not a date/, 15],
      ['agentVersion < latest', /not a version/, 15],
      ['attribute:x =~ (', /not a valid regular expression|expected a value/, 15],
      ["attribute:x =~ '('", /not a valid regular expression/, 15],
      ['attribute:x exists and', /expected a subject/, 22],
      ['AttributE:x == y', /unknown subject/, 0],
    ];
    for (const [expression, message, position] of cases) {
      const error = parseError(expression);
      assert.match(error.message, message, expression);
      assert.match(error.message, /^Invalid placement constraint expression '/, expression);
      assert.equal(error.position, position, `${expression}: ${error.message}`);
      assert.equal(error.expression, expression);
    }
  });
});

describe('cluster query evaluation', () => {
  const f = new Fixtures();
  const t2 = f.instance({
    instanceType: 't2.small',
    az: 'us-east-1a',
    attributes: { stack: 'prod', gpu: undefined },
    ec2InstanceId: 'i-abcd1234',
    agentVersion: '1.14.4',
    registeredAt: Date.UTC(2018, 1, 1) / 1000,
  });
  const g2 = f.instance({ instanceType: 'g2.2xlarge', az: 'us-east-1d', ec2InstanceId: 'i-wxyx7890', agentConnected: false });

  it('compares attributes: equality, lists, patterns, presence', () => {
    assert.equal(matches('attribute:ecs.instance-type == t2.small', target(t2)), true);
    assert.equal(matches('attribute:ecs.instance-type == t2.small', target(g2)), false);
    assert.equal(matches('attribute:ecs.availability-zone in [us-east-1a, us-east-1b]', target(t2)), true);
    assert.equal(matches('attribute:ecs.availability-zone in [us-east-1a, us-east-1b]', target(g2)), false);
    assert.equal(matches('attribute:ecs.availability-zone not_in [us-east-1a]', target(g2)), true);
    assert.equal(matches('attribute:ecs.instance-type =~ g2.*', target(g2)), true);
    assert.equal(matches('attribute:ecs.instance-type =~ g2.*', target(t2)), false);
    // Java matches(): the whole value must match, not a substring.
    assert.equal(matches('attribute:ecs.instance-type =~ 2xlarge', target(g2)), false);
    assert.equal(matches('attribute:ecs.instance-type !~ t2.*', target(g2)), true);
    assert.equal(matches('attribute:gpu exists', target(t2)), true, 'an attribute without a value exists');
    assert.equal(matches('attribute:gpu exists', target(g2)), false);
    assert.equal(matches('attribute:gpu !exists', target(g2)), true);
    assert.equal(
      matches('attribute:ecs.instance-type =~ g2.* and attribute:ecs.availability-zone != us-east-1d', target(g2)),
      false,
    );
  });

  it('selects only instances that have the attribute for !=, not_in and !~ (the guide\'s "stack != prod" example)', () => {
    const noStack = f.instance();
    const dev = f.instance({ attributes: { stack: 'dev' } });
    assert.equal(matches('attribute:stack != prod', target(dev)), true);
    assert.equal(matches('attribute:stack != prod', target(t2)), false);
    assert.equal(matches('attribute:stack != prod', target(noStack)), false);
    assert.equal(matches('attribute:stack not_in [prod]', target(noStack)), false);
    assert.equal(matches('attribute:stack !~ p.*', target(noStack)), false);
    assert.equal(matches('not(attribute:stack == prod)', target(noStack)), true, 'negation selects instances without it');
  });

  it('compares ec2InstanceId, agentConnected, agentVersion, registeredAt and runningTasksCount', () => {
    assert.equal(matches("ec2InstanceId in ['i-abcd1234', 'i-wxyx7890']", target(g2)), true);
    assert.equal(matches('ec2InstanceId == i-abcd1234', target(g2)), false);
    assert.equal(matches('agentConnected == false', target(g2)), true);
    assert.equal(matches('agentConnected == TRUE', target(t2)), true);
    assert.equal(matches('agentVersion < 1.14.5', target(t2)), true);
    assert.equal(matches('agentVersion >= 1.14.5', target(t2)), false);
    assert.equal(matches('agentVersion < 1.14.5', target(g2)), false, 'unknown version never matches');
    assert.equal(matches('agentVersion == 1.14.4.0', target(t2)), true);
    assert.equal(matches('registeredAt < 2018-02-13', target(t2)), true);
    assert.equal(matches('registeredAt > 2018-01-31T23:00:00-02:00', target(t2)), false, 'zone offsets apply');
    assert.equal(matches('registeredAt == 2018-02-01T00:00:00Z', target(t2)), true);
    assert.equal(matches('runningTasksCount == 1', target(t2, [], 1)), true);
    assert.equal(matches('runningTasksCount <= 0', target(t2, [], 1)), false);
  });

  it('checks task groups for affinity and anti-affinity', () => {
    const hosting = target(t2, ['service:production', 'family:web']);
    const empty = target(g2, []);
    assert.equal(matches('task:group == service:production', hosting), true);
    assert.equal(matches('task:group == service:production', empty), false);
    assert.equal(matches('not(task:group == service:production)', hosting), false);
    assert.equal(matches('task:group != service:production', empty), true);
    assert.equal(matches('task:group != service:production', hosting), false);
    assert.equal(matches('task:group in [database, family:web]', hosting), true);
    assert.equal(matches('task:group not_in [database, family:web]', hosting), false);
    assert.equal(matches('task:group =~ service:.*', hosting), true);
    assert.equal(matches('task:group !~ service:.*', hosting), false);
    assert.equal(matches('task:group exists', empty), false);
    assert.equal(matches('task:group !exists', empty), true);
  });

  it('combines with and / or / not and parentheses', () => {
    const expression = '(attribute:ecs.instance-type == t2.small or attribute:ecs.instance-type == g2.2xlarge) and not agentConnected == false';
    assert.equal(matches(expression, target(t2)), true);
    assert.equal(matches(expression, target(g2)), false);
    assert.equal(matches('attribute:a exists or attribute:ecs.os-type == linux and attribute:b exists', target(t2)), false);
    assert.equal(matches('(attribute:a exists or attribute:ecs.os-type == linux) and attribute:stack exists', target(t2)), true);
  });
});
