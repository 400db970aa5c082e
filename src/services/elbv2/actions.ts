/**
 * Listener and rule actions and rule conditions: checked as ELBv2 checks them and normalized into
 * the shape DescribeListeners / DescribeRules return (a single-target-group forward carries both
 * TargetGroupArn and ForwardConfig, every action has an Order, host-header and path-pattern
 * conditions carry both Values and their Config).
 */
import type { Action, RuleCondition } from '../../aws/generated/elbv2.js';
import { LIMITS } from './catalog.js';
import { invalidAction, tooManyActions, validationError } from './errors.js';

export type StoredAction = Record<string, unknown> & { Type: string; Order: number };

const FIXED_CONTENT_TYPES = ['text/plain', 'text/css', 'text/html', 'application/javascript', 'application/json'];
const TERMINAL = new Set(['forward', 'redirect', 'fixed-response']);

/**
 * Checks and normalizes `actions`; `targetGroupExists` is asked for every target group named
 * (TargetGroupNotFound comes from it).
 */
export async function normalizeActions(actions: readonly Action[] | undefined, targetGroupExists: (arn: string) => Promise<void>): Promise<StoredAction[]> {
  if (!actions || actions.length === 0) throw validationError('At least one action must be specified');
  if (actions.length > 5) throw tooManyActions();
  const orders = new Set<number>();
  const out: StoredAction[] = [];
  for (const [i, a] of actions.entries()) {
    const order = a.Order ?? i + 1;
    if (order < 1 || order > 50000) throw validationError('Action order must be between 1 and 50000');
    if (orders.has(order)) throw validationError(`Action order '${order}' must be unique`);
    orders.add(order);
    out.push(await normalizeAction(a, order, targetGroupExists));
  }
  out.sort((a, b) => a.Order - b.Order);
  const terminal = out.filter((a) => TERMINAL.has(a.Type));
  if (terminal.length !== 1 || !TERMINAL.has(out[out.length - 1]!.Type)) {
    throw validationError('The last action must be a forward, redirect or fixed-response action, and there must be exactly one of them');
  }
  return out;
}

async function normalizeAction(a: Action, order: number, targetGroupExists: (arn: string) => Promise<void>): Promise<StoredAction> {
  switch (a.Type) {
    case 'forward': {
      if (a.FixedResponseConfig || a.RedirectConfig) throw validationError('A forward action cannot have a fixed-response or redirect configuration');
      const tuples = a.ForwardConfig?.TargetGroups ?? [];
      if (tuples.length > LIMITS['target-groups-per-action-on-application-load-balancer']) throw validationError('A forward action can have at most 5 target groups');
      const groups = tuples.map((t) => {
        if (!t.TargetGroupArn) throw validationError('A target group ARN must be specified');
        const weight = t.Weight ?? 1;
        if (weight < 0 || weight > 999) throw validationError('Target group weight must be between 0 and 999');
        return { TargetGroupArn: t.TargetGroupArn, Weight: weight };
      });
      if (a.TargetGroupArn) {
        if (groups.length === 0) groups.push({ TargetGroupArn: a.TargetGroupArn, Weight: 1 });
        else if (groups.length !== 1 || groups[0]!.TargetGroupArn !== a.TargetGroupArn) {
          throw validationError('You cannot specify both a target group ARN and a forward configuration with other target groups');
        }
      }
      if (groups.length === 0) throw validationError('A target group ARN must be specified');
      if (new Set(groups.map((g) => g.TargetGroupArn)).size !== groups.length) throw validationError('Target groups in a forward action must be unique');
      for (const g of groups) await targetGroupExists(g.TargetGroupArn);
      const sticky = a.ForwardConfig?.TargetGroupStickinessConfig;
      if (sticky?.Enabled && (sticky.DurationSeconds === undefined || sticky.DurationSeconds < 1 || sticky.DurationSeconds > 604800)) {
        throw validationError('Target group stickiness duration must be between 1 and 604800 seconds');
      }
      const stickiness = sticky?.Enabled ? { Enabled: true, DurationSeconds: sticky.DurationSeconds } : { Enabled: false };
      return {
        Type: 'forward',
        Order: order,
        ...(groups.length === 1 ? { TargetGroupArn: groups[0]!.TargetGroupArn } : {}),
        ForwardConfig: { TargetGroups: groups, TargetGroupStickinessConfig: stickiness },
      };
    }
    case 'fixed-response': {
      const c = a.FixedResponseConfig;
      if (!c) throw validationError('A fixed-response action must have a fixed-response configuration');
      if (!/^[245][0-9][0-9]$/.test(c.StatusCode)) throw validationError(`Fixed response status code '${c.StatusCode}' must be 2XX, 4XX or 5XX`);
      if (c.ContentType !== undefined && !FIXED_CONTENT_TYPES.includes(c.ContentType)) throw validationError(`Fixed response content type '${c.ContentType}' is not supported`);
      if (c.MessageBody !== undefined && Buffer.byteLength(c.MessageBody) > 1024) throw validationError('Fixed response message body cannot exceed 1024 bytes');
      return { Type: 'fixed-response', Order: order, FixedResponseConfig: { StatusCode: c.StatusCode, ...(c.ContentType ? { ContentType: c.ContentType } : {}), ...(c.MessageBody !== undefined ? { MessageBody: c.MessageBody } : {}) } };
    }
    case 'redirect': {
      const c = a.RedirectConfig;
      if (!c) throw validationError('A redirect action must have a redirect configuration');
      const protocol = c.Protocol ?? '#{protocol}';
      const port = c.Port ?? '#{port}';
      const host = c.Host ?? '#{host}';
      const path = c.Path ?? '/#{path}';
      const query = c.Query ?? '#{query}';
      if (!/^(HTTP|HTTPS|#\{protocol\})$/.test(protocol)) throw validationError(`Redirect protocol '${protocol}' must be HTTP, HTTPS or #{protocol}`);
      if (!/^(#\{port\}|[1-9][0-9]{0,4})$/.test(port) || (port !== '#{port}' && Number(port) > 65535)) throw validationError(`Redirect port '${port}' is not valid`);
      if (host.length < 1 || host.length > 128) throw validationError('Redirect host must be 1 to 128 characters');
      if (!path.startsWith('/') || path.length > 128) throw validationError("Redirect path must start with '/' and be at most 128 characters");
      if (query.length > 128 || query.startsWith('?')) throw validationError("Redirect query must be at most 128 characters and must not start with '?'");
      if (protocol === '#{protocol}' && port === '#{port}' && host === '#{host}' && path === '/#{path}' && query === '#{query}') {
        throw validationError('The redirect must change at least one of protocol, port, host, path or query');
      }
      return { Type: 'redirect', Order: order, RedirectConfig: { Protocol: protocol, Port: port, Host: host, Path: path, Query: query, StatusCode: c.StatusCode } };
    }
    default:
      throw invalidAction(`Action type '${a.Type}' is not supported by Dockyard's load balancers (forward, redirect and fixed-response are)`);
  }
}

export type StoredCondition = Record<string, unknown> & { Field: string };

const FIELDS = ['host-header', 'path-pattern', 'http-header', 'http-request-method', 'query-string', 'source-ip'];

/** Checks and normalizes rule conditions (at most 5 values over all of them, as ALB counts). */
export function normalizeConditions(conditions: readonly RuleCondition[] | undefined): StoredCondition[] {
  if (!conditions || conditions.length === 0) throw validationError('A rule must have at least one condition');
  let values = 0;
  const seen = new Set<string>();
  const out = conditions.map((c): StoredCondition => {
    const field = c.Field;
    if (!field || !FIELDS.includes(field)) throw validationError(`Condition field '${field ?? ''}' must be one of ${FIELDS.join(', ')}`);
    if (field !== 'http-header' && seen.has(field)) throw validationError(`A rule can have only one '${field}' condition`);
    seen.add(field);
    if (c.RegexValues || c.HostHeaderConfig?.RegexValues || c.PathPatternConfig?.RegexValues || c.HttpHeaderConfig?.RegexValues) {
      throw validationError('Regular expression conditions are not supported by Dockyard');
    }
    const strings = (list: readonly string[] | undefined, max: number, pattern?: RegExp): string[] => {
      const l = list ?? [];
      if (l.length === 0) throw validationError(`A '${field}' condition must have at least one value`);
      for (const v of l) {
        if (v.length < 1 || v.length > max) throw validationError(`Condition value '${v.slice(0, 64)}' must be 1 to ${max} characters`);
        if (pattern && !pattern.test(v)) throw validationError(`Condition value '${v.slice(0, 64)}' is not valid for '${field}'`);
      }
      values += l.length;
      return [...l];
    };
    switch (field) {
      case 'host-header': {
        if (c.Values && c.HostHeaderConfig?.Values) throw validationError('Specify either Values or HostHeaderConfig, not both');
        const v = strings(c.HostHeaderConfig?.Values ?? c.Values, 128, /^[A-Za-z0-9.*?-]+$/);
        return { Field: field, Values: v, HostHeaderConfig: { Values: v } };
      }
      case 'path-pattern': {
        if (c.Values && c.PathPatternConfig?.Values) throw validationError('Specify either Values or PathPatternConfig, not both');
        const v = strings(c.PathPatternConfig?.Values ?? c.Values, 128, /^[A-Za-z0-9_\-.$/~"'@:+&()!,;=*?%]+$/);
        return { Field: field, Values: v, PathPatternConfig: { Values: v } };
      }
      case 'http-header': {
        const name = c.HttpHeaderConfig?.HttpHeaderName;
        if (!name || !/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,40}$/.test(name)) throw validationError('An http-header condition must name a valid header');
        const v = strings(c.HttpHeaderConfig?.Values, 128);
        return { Field: field, HttpHeaderConfig: { HttpHeaderName: name, Values: v } };
      }
      case 'http-request-method': {
        const v = strings(c.HttpRequestMethodConfig?.Values, 40, /^[A-Z_-]+$/);
        return { Field: field, HttpRequestMethodConfig: { Values: v } };
      }
      case 'query-string': {
        const pairs = c.QueryStringConfig?.Values ?? [];
        if (pairs.length === 0) throw validationError("A 'query-string' condition must have at least one key/value pair");
        for (const p of pairs) {
          if (p.Value === undefined || p.Value.length < 1 || p.Value.length > 128 || (p.Key !== undefined && (p.Key.length < 1 || p.Key.length > 128))) {
            throw validationError('Query string keys and values must be 1 to 128 characters');
          }
        }
        values += pairs.length;
        return { Field: field, QueryStringConfig: { Values: pairs.map((p) => ({ ...(p.Key !== undefined ? { Key: p.Key } : {}), Value: p.Value })) } };
      }
      default: {
        const v = strings(c.SourceIpConfig?.Values, 64);
        for (const cidr of v) if (!isCidr(cidr)) throw validationError(`'${cidr.slice(0, 64)}' is not a valid CIDR block`);
        return { Field: field, SourceIpConfig: { Values: v } };
      }
    }
  });
  if (values > LIMITS['condition-values-per-alb-rule']) throw validationError(`A rule can have at most ${LIMITS['condition-values-per-alb-rule']} condition values`);
  return out;
}

export function isCidr(text: string): boolean {
  const m = /^([0-9.]+|[0-9a-fA-F:]+)\/([0-9]{1,3})$/.exec(text);
  if (!m) return false;
  const bits = Number(m[2]);
  if (m[1]!.includes(':')) return bits <= 128 && /^[0-9a-fA-F:]{2,39}$/.test(m[1]!);
  const parts = m[1]!.split('.');
  return bits <= 32 && parts.length === 4 && parts.every((p) => /^[0-9]{1,3}$/.test(p) && Number(p) <= 255);
}

/** The target group ARNs an action list forwards to. */
export const forwardedGroups = (actions: readonly Record<string, unknown>[]): string[] =>
  actions.flatMap((a) => (a.Type === 'forward' ? ((a.ForwardConfig as { TargetGroups: { TargetGroupArn: string }[] }).TargetGroups.map((t) => t.TargetGroupArn)) : []));
