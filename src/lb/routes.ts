/**
 * The immutable routing table of one listener port: rules compiled in ALB's priority order, and
 * their terminal actions (forward with weights and group stickiness, fixed-response, redirect).
 * A configuration change builds a new table and swaps it in; requests in flight keep the one
 * they started with.
 */
import { randomInt } from 'node:crypto';
import { compileConditions, type Predicate } from './conditions.js';
import type { GroupRuntime } from './groups.js';
import type { GroupCounters, LbCounters } from './stats.js';

export type CompiledAction =
  | { type: 'forward'; groups: GroupRuntime[]; weights: number[]; total: number; stickyGroups: { enabled: boolean; durationSeconds: number }; stats: GroupCounters[] }
  | { type: 'fixed-response'; status: number; contentType: string; body: Buffer }
  | { type: 'redirect'; status: number; protocol: string; port: string; host: string; path: string; query: string };

export interface ListenerRoute {
  arn: string;
  loadBalancerArn: string;
  /** The load balancer's DNS name, to tell apart load balancers sharing a port on this host. */
  dnsName: string;
  port: number;
  protocol: 'HTTP' | 'HTTPS';
  idleTimeoutMs: number;
  xffMode: string;
  xffClientPort: boolean;
  serverHeader: boolean;
  rules: { predicate: Predicate; action: CompiledAction }[];
  defaultAction: CompiledAction;
  /** The load balancer's counters for this period. */
  stats: LbCounters;
}

/** A target group a forward may use, with the counters of this load balancer × group. */
export type GroupOf = (arn: string) => { group: GroupRuntime; stats: GroupCounters } | undefined;

export function compileAction(actions: readonly Record<string, unknown>[], groupOf: GroupOf): CompiledAction {
  // The last action is the terminal one (authenticate actions are refused by the API).
  const a = actions[actions.length - 1]!;
  switch (a.Type) {
    case 'forward': {
      const cfg = a.ForwardConfig as { TargetGroups: { TargetGroupArn: string; Weight: number }[]; TargetGroupStickinessConfig?: { Enabled?: boolean; DurationSeconds?: number } };
      const pairs = cfg.TargetGroups.flatMap((t) => {
        const g = groupOf(t.TargetGroupArn);
        return g ? [{ ...g, weight: t.Weight }] : [];
      });
      return {
        type: 'forward',
        groups: pairs.map((p) => p.group),
        stats: pairs.map((p) => p.stats),
        weights: pairs.map((p) => p.weight),
        total: pairs.reduce((s, p) => s + p.weight, 0),
        stickyGroups: { enabled: cfg.TargetGroupStickinessConfig?.Enabled === true, durationSeconds: cfg.TargetGroupStickinessConfig?.DurationSeconds ?? 3600 },
      };
    }
    case 'fixed-response': {
      const c = a.FixedResponseConfig as { StatusCode: string; ContentType?: string; MessageBody?: string };
      return { type: 'fixed-response', status: Number(c.StatusCode), contentType: c.ContentType ?? 'text/plain', body: Buffer.from(c.MessageBody ?? '') };
    }
    default: {
      const c = a.RedirectConfig as { Protocol: string; Port: string; Host: string; Path: string; Query: string; StatusCode: string };
      return { type: 'redirect', status: c.StatusCode === 'HTTP_301' ? 301 : 302, protocol: c.Protocol, port: c.Port, host: c.Host, path: c.Path, query: c.Query };
    }
  }
}

export const compileRule = (conditions: readonly Record<string, unknown>[], actions: readonly Record<string, unknown>[], groupOf: GroupOf) => ({
  predicate: compileConditions(conditions),
  action: compileAction(actions, groupOf),
});

/** The group a forward sends a request to: the sticky one (by its short id) if still there, else by weight. */
export function pickGroup(action: Extract<CompiledAction, { type: 'forward' }>, stickyId: string | undefined): GroupRuntime | undefined {
  const { groups, weights, total } = action;
  if (groups.length === 1) return weights[0]! > 0 || total === 0 ? groups[0] : undefined;
  if (stickyId !== undefined) {
    for (let i = 0; i < groups.length; i++) if (groups[i]!.id === stickyId && weights[i]! > 0) return groups[i];
  }
  if (total === 0) return undefined;
  let r = randomInt(total);
  for (let i = 0; i < groups.length; i++) {
    r -= weights[i]!;
    if (r < 0) return groups[i];
  }
  return groups[groups.length - 1];
}

/** A redirect's Location, with ALB's #{protocol}, #{host}, #{port}, #{path} and #{query} filled in. */
export function redirectLocation(a: Extract<CompiledAction, { type: 'redirect' }>, req: { protocol: string; host: string; port: number; path: string; query: string }): string {
  const fill = (s: string) =>
    s
      .replaceAll('#{protocol}', req.protocol)
      .replaceAll('#{host}', req.host)
      .replaceAll('#{port}', String(req.port))
      .replaceAll('#{path}', req.path.replace(/^\//, ''))
      .replaceAll('#{query}', req.query);
  const protocol = fill(a.protocol).toLowerCase();
  const port = fill(a.port);
  const defaultPort = (protocol === 'https' && port === '443') || (protocol === 'http' && port === '80');
  const query = fill(a.query);
  return `${protocol}://${fill(a.host)}${defaultPort ? '' : `:${port}`}${fill(a.path)}${query ? `?${query}` : ''}`;
}
