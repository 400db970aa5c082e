/**
 * Evaluates a parsed cluster query against one container instance. Queries are compiled once
 * per schedule() call into closures (regexes, dates and versions pre-parsed) because the same
 * expression is evaluated against thousands of instances.
 *
 * Readings of the ECS guide that are ours to choose, written down:
 * - `attribute:x != v`, `not_in`, `not_matches` select only instances that HAVE attribute x
 *   (the guide's example: "attribute:stack != prod" lists "the instances with the custom
 *   attribute stack unless the attribute value is prod"). `not(attribute:x == v)` also selects
 *   instances without it. The same holds for ec2InstanceId.
 * - agentVersion, registeredAt and runningTasksCount never match an instance that lacks them.
 * - `task:group == g` selects instances hosting a task of group g (tasks placed earlier in the
 *   same call count); `task:group != g` selects instances hosting none, i.e. anti-affinity.
 */
import { parseQueryDate, parseVersion, tryRegex, type ClusterQuery, type QueryOperator } from './cluster-query.js';
import type { InstanceView } from './types.js';

/** What a query can ask about an instance. */
export interface QueryTarget {
  readonly instance: InstanceView;
  /** Groups of the tasks on the instance, including tasks placed earlier in this call. */
  taskGroups(): ReadonlySet<string>;
  /** Tasks on the instance whose lastStatus is RUNNING (or unknown). */
  runningTasksCount(): number;
}

export type InstancePredicate = (target: QueryTarget) => boolean;

export function compileClusterQuery(query: ClusterQuery): InstancePredicate {
  switch (query.type) {
    case 'and': {
      const left = compileClusterQuery(query.left);
      const right = compileClusterQuery(query.right);
      return (t) => left(t) && right(t);
    }
    case 'or': {
      const left = compileClusterQuery(query.left);
      const right = compileClusterQuery(query.right);
      return (t) => left(t) || right(t);
    }
    case 'not': {
      const operand = compileClusterQuery(query.operand);
      return (t) => !operand(t);
    }
    case 'comparison': {
      const values = typeof query.argument === 'string' ? [query.argument] : [...(query.argument ?? [])];
      const subject = query.subject;
      switch (subject.field) {
        case 'attribute': {
          const name = subject.name;
          return compileString(query.operator, values, (i) =>
            Object.hasOwn(i.attributes, name) ? { value: i.attributes[name] } : undefined,
          );
        }
        case 'ec2InstanceId':
          return compileString(query.operator, values, (i) => (i.ec2InstanceId === undefined ? undefined : { value: i.ec2InstanceId }));
        case 'agentConnected':
          return compileString(
            query.operator,
            values.map((v) => v.toLowerCase()),
            (i) => ({ value: String(i.agentConnected) }),
          );
        case 'agentVersion': {
          const wanted = parseVersion(values[0]!)!;
          return compileOrdered(query.operator, (t) => {
            const have = t.instance.agentVersion === undefined ? undefined : parseVersion(t.instance.agentVersion);
            return have === undefined ? undefined : compareVersions(have, wanted);
          });
        }
        case 'registeredAt': {
          const wanted = parseQueryDate(values[0]!)!;
          return compileOrdered(query.operator, (t) => (t.instance.registeredAt === undefined ? undefined : Math.sign(t.instance.registeredAt - wanted)));
        }
        case 'runningTasksCount': {
          const wanted = Number(values[0]);
          return compileOrdered(query.operator, (t) => Math.sign(t.runningTasksCount() - wanted));
        }
        case 'task:group':
          return compileTaskGroup(query.operator, values);
      }
    }
  }
}

type Lookup = (instance: InstanceView) => { value: string | undefined } | undefined;

function compileString(operator: QueryOperator, values: readonly string[], lookup: Lookup): InstancePredicate {
  const wanted = values[0];
  const set = new Set(values);
  const regex = operator === 'matches' || operator === 'not_matches' ? tryRegex(wanted!)! : undefined;
  switch (operator) {
    case 'exists':
      return (t) => lookup(t.instance) !== undefined;
    case 'not_exists':
      return (t) => lookup(t.instance) === undefined;
    case 'equals':
      return (t) => lookup(t.instance)?.value === wanted;
    case 'not_equals':
      return (t) => {
        const found = lookup(t.instance);
        return found !== undefined && found.value !== wanted;
      };
    case 'in':
      return (t) => {
        const value = lookup(t.instance)?.value;
        return value !== undefined && set.has(value);
      };
    case 'not_in':
      return (t) => {
        const found = lookup(t.instance);
        return found !== undefined && (found.value === undefined || !set.has(found.value));
      };
    case 'matches':
      return (t) => {
        const value = lookup(t.instance)?.value;
        return value !== undefined && regex!.test(value);
      };
    case 'not_matches':
      return (t) => {
        const found = lookup(t.instance);
        return found !== undefined && (found.value === undefined || !regex!.test(found.value));
      };
    default:
      // The parser only lets string operators through for these subjects.
      throw new Error(`unreachable: ${operator} on a string subject`);
  }
}

/** compare(t) is the sign of (instance's value - argument), undefined when the instance has none. */
function compileOrdered(operator: QueryOperator, compare: (t: QueryTarget) => number | undefined): InstancePredicate {
  const accept = ORDERED_ACCEPT[operator];
  if (!accept) throw new Error(`unreachable: ${operator} on an ordered subject`);
  return (t) => {
    const sign = compare(t);
    return sign !== undefined && accept(sign);
  };
}

const ORDERED_ACCEPT: Partial<Record<QueryOperator, (sign: number) => boolean>> = {
  equals: (s) => s === 0,
  not_equals: (s) => s !== 0,
  greater_than: (s) => s > 0,
  greater_than_equal: (s) => s >= 0,
  less_than: (s) => s < 0,
  less_than_equal: (s) => s <= 0,
};

function compareVersions(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

function compileTaskGroup(operator: QueryOperator, values: readonly string[]): InstancePredicate {
  const wanted = values[0]!;
  const regex = operator === 'matches' || operator === 'not_matches' ? tryRegex(wanted)! : undefined;
  const anyGroup = (t: QueryTarget, test: (group: string) => boolean): boolean => {
    for (const group of t.taskGroups()) if (test(group)) return true;
    return false;
  };
  switch (operator) {
    case 'exists':
      return (t) => t.taskGroups().size > 0;
    case 'not_exists':
      return (t) => t.taskGroups().size === 0;
    case 'equals':
      return (t) => t.taskGroups().has(wanted);
    case 'not_equals':
      return (t) => !t.taskGroups().has(wanted);
    case 'in':
      return (t) => values.some((v) => t.taskGroups().has(v));
    case 'not_in':
      return (t) => !values.some((v) => t.taskGroups().has(v));
    case 'matches':
      return (t) => anyGroup(t, (g) => regex!.test(g));
    case 'not_matches':
      return (t) => !anyGroup(t, (g) => regex!.test(g));
    default:
      throw new Error(`unreachable: ${operator} on task:group`);
  }
}
