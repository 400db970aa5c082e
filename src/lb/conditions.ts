/**
 * Rule conditions compiled into predicates, as ALB evaluates them: values of one condition are
 * ORed, conditions are ANDed; host, header and query-string values match case-insensitively with
 * `*` and `?` wildcards, paths case-sensitively; source-ip by CIDR.
 */
import { BlockList, isIPv4 } from 'node:net';

/** What a condition looks at, computed once per request. */
export interface RequestFacts {
  method: string;
  /** Host header without the port, lowercased. */
  host: string;
  path: string;
  query: string;
  headers: NodeJS.Dict<string | string[]>;
  sourceIp: string;
}

export type Predicate = (r: RequestFacts) => boolean;

/** A wildcard pattern (`*`, `?`) as an anchored regular expression. */
export function wildcard(pattern: string, caseInsensitive: boolean): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, caseInsensitive ? 'is' : 's');
}

const anyOf = (patterns: RegExp[]) => (value: string) => patterns.some((p) => p.test(value));

function parseQuery(query: string): [string, string][] {
  if (!query) return [];
  const out: [string, string][] = [];
  for (const [k, v] of new URLSearchParams(query)) out.push([k, v]);
  return out;
}

export function compileCondition(c: Record<string, unknown>): Predicate {
  const cfg = (name: string) => (c[name] ?? {}) as { Values?: unknown[]; HttpHeaderName?: string };
  switch (c.Field) {
    case 'host-header': {
      const m = anyOf((cfg('HostHeaderConfig').Values as string[]).map((v) => wildcard(v, true)));
      return (r) => m(r.host);
    }
    case 'path-pattern': {
      const m = anyOf((cfg('PathPatternConfig').Values as string[]).map((v) => wildcard(v, false)));
      return (r) => m(r.path);
    }
    case 'http-header': {
      const name = cfg('HttpHeaderConfig').HttpHeaderName!.toLowerCase();
      const m = anyOf((cfg('HttpHeaderConfig').Values as string[]).map((v) => wildcard(v, true)));
      return (r) => {
        const v = r.headers[name];
        return v !== undefined && (Array.isArray(v) ? v.some(m) : m(v));
      };
    }
    case 'http-request-method': {
      const methods = new Set(cfg('HttpRequestMethodConfig').Values as string[]);
      return (r) => methods.has(r.method);
    }
    case 'query-string': {
      const pairs = (cfg('QueryStringConfig').Values as { Key?: string; Value: string }[]).map((p) => ({ key: p.Key === undefined ? undefined : wildcard(p.Key, true), value: wildcard(p.Value, true) }));
      return (r) => {
        const q = parseQuery(r.query);
        return pairs.some((p) => q.some(([k, v]) => (p.key === undefined || p.key.test(k)) && p.value.test(v)));
      };
    }
    case 'source-ip': {
      const list = new BlockList();
      for (const cidr of cfg('SourceIpConfig').Values as string[]) {
        const [net, bits] = cidr.split('/');
        list.addSubnet(net!, Number(bits), isIPv4(net!) ? 'ipv4' : 'ipv6');
      }
      return (r) => list.check(r.sourceIp, isIPv4(r.sourceIp) ? 'ipv4' : 'ipv6');
    }
    default:
      return () => false;
  }
}

export function compileConditions(conditions: readonly Record<string, unknown>[]): Predicate {
  const preds = conditions.map(compileCondition);
  return (r) => preds.every((p) => p(r));
}
