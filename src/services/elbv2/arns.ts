/** ELBv2 ARNs and DNS names, built and parsed in one place. */
import { randomBytes } from 'node:crypto';

export interface Scope {
  accountId: string;
  region: string;
}

export type ElbResourceType = 'loadbalancer' | 'targetgroup' | 'listener' | 'listener-rule';

const PREFIX = 'arn:aws:elasticloadbalancing';

/** 16 lowercase hex digits, as ELBv2 ends its ARNs. */
export const elbId = () => randomBytes(8).toString('hex');

export const loadBalancerArn = (s: Scope, name: string, id: string) => `${PREFIX}:${s.region}:${s.accountId}:loadbalancer/app/${name}/${id}`;
export const targetGroupArn = (s: Scope, name: string, id: string) => `${PREFIX}:${s.region}:${s.accountId}:targetgroup/${name}/${id}`;
/** A listener's ARN repeats its load balancer's `app/<name>/<id>`. */
export const listenerArn = (lbArn: string, id: string) => `${lbArn.replace(':loadbalancer/', ':listener/')}/${id}`;
export const ruleArn = (lstArn: string, id: string) => `${lstArn.replace(':listener/', ':listener-rule/')}/${id}`;
/** The default rule has a stable ARN derived from its listener's (it is the listener's default actions). */
export const defaultRuleArn = (lstArn: string) => ruleArn(lstArn, `${lstArn.slice(-16)}`);

export interface ParsedArn extends Scope {
  type: ElbResourceType;
  /** Everything after `<type>/`. */
  rest: string;
}

const ARN = /^arn:aws:elasticloadbalancing:([a-z0-9-]{1,32}):(\d{12}):(loadbalancer|targetgroup|listener|listener-rule)\/([\w./-]{1,512})$/;

export function parseElbArn(arn: string): ParsedArn | undefined {
  const m = ARN.exec(arn);
  if (!m) return undefined;
  return { region: m[1]!, accountId: m[2]!, type: m[3] as ElbResourceType, rest: m[4]! };
}

/** True when `arn` names a resource of `type` in the caller's account and region. */
export function ownArn(arn: string, type: ElbResourceType, scope: Scope): boolean {
  const p = parseElbArn(arn);
  return p !== undefined && p.type === type && p.accountId === scope.accountId && p.region === scope.region;
}

/** `<name>-<10 digits>.<region>.<suffix>`: curl (and browsers) resolve `*.localhost` to the loopback address. */
export function dnsName(name: string, region: string, suffix: string): string {
  const digits = String(parseInt(randomBytes(5).toString('hex'), 16) % 10_000_000_000).padStart(10, '0');
  return `${name}-${digits}.${region}.${suffix}`.toLowerCase();
}
