/**
 * IAM policy documents: parsing, validation and evaluation as IAM does it (pure, no I/O).
 *
 *   parsePolicy(json, kind)        identity, resource-based (ECR repository) or trust policy;
 *                                  throws PolicyError with IAM's MalformedPolicyDocument wording.
 *   evaluate(request, policies)    explicit Deny wins, then an Allow from an identity-based or a
 *                                  resource-based policy (same account), else implicit deny.
 *   trustAllows(trust, request)    a role's trust policy on its own (sts:AssumeRole).
 *
 * Matching rules follow the IAM JSON policy reference: actions case-insensitively with `*` and
 * `?`; resources case-sensitively, ARN segment by segment; condition operators AND-ed, keys
 * within an operator AND-ed, values of one key OR-ed (NOR for negated operators); a missing key
 * makes a condition false, except for negated operators, …IfExists, Null and ForAllValues.
 * Session policies are a second evaluation by the operation authorizer; permissions boundaries
 * and SCPs are not modelled.
 */
import { BlockList, isIP } from 'node:net';
import type { Caller } from './principal.js';

export type PolicyKind = 'identity' | 'resource' | 'trust';
export type Effect = 'Allow' | 'Deny';

/** Principal element: '*' or a map of principal type (AWS, Service, Federated, CanonicalUser) to values. */
export type PrincipalSpec = '*' | Readonly<Record<string, readonly string[]>>;

export interface ConditionClause {
  /** The operator as written, e.g. `ForAnyValue:StringLike` (for messages). */
  readonly operator: string;
  readonly base: string;
  readonly set: 'ForAnyValue' | 'ForAllValues' | undefined;
  readonly ifExists: boolean;
  readonly key: string;
  readonly values: readonly string[];
}

export interface Statement {
  readonly sid?: string;
  readonly effect: Effect;
  readonly action?: readonly string[];
  readonly notAction?: readonly string[];
  readonly resource?: readonly string[];
  readonly notResource?: readonly string[];
  readonly principal?: PrincipalSpec;
  readonly notPrincipal?: PrincipalSpec;
  readonly condition: readonly ConditionClause[];
}

export interface Policy {
  readonly version: '2012-10-17' | '2008-10-17';
  readonly id?: string;
  readonly statements: readonly Statement[];
}

/** A policy document IAM would refuse; `message` is IAM's MalformedPolicyDocument wording. */
export class PolicyError extends Error {
  override readonly name = 'PolicyError';
}

// ---------------------------------------------------------------------------------------------
// Parsing and validation

const STATEMENT_FIELDS = new Set(['Sid', 'Effect', 'Action', 'NotAction', 'Resource', 'NotResource', 'Principal', 'NotPrincipal', 'Condition']);
const PRINCIPAL_TYPES = new Set(['AWS', 'Service', 'Federated', 'CanonicalUser']);

const BASE_OPERATORS = new Set([
  'StringEquals', 'StringNotEquals', 'StringEqualsIgnoreCase', 'StringNotEqualsIgnoreCase', 'StringLike', 'StringNotLike',
  'NumericEquals', 'NumericNotEquals', 'NumericLessThan', 'NumericLessThanEquals', 'NumericGreaterThan', 'NumericGreaterThanEquals',
  'DateEquals', 'DateNotEquals', 'DateLessThan', 'DateLessThanEquals', 'DateGreaterThan', 'DateGreaterThanEquals',
  'Bool', 'BinaryEquals', 'IpAddress', 'NotIpAddress', 'ArnEquals', 'ArnLike', 'ArnNotEquals', 'ArnNotLike', 'Null',
]);
const NEGATED_OPERATORS = new Set([
  'StringNotEquals', 'StringNotEqualsIgnoreCase', 'StringNotLike', 'NumericNotEquals', 'DateNotEquals', 'NotIpAddress', 'ArnNotEquals', 'ArnNotLike',
]);

/** Parses a policy document (JSON text or an already-parsed object) of the given kind. */
export function parsePolicy(document: string | unknown, kind: PolicyKind): Policy {
  let doc: unknown = document;
  if (typeof document === 'string') {
    try {
      doc = JSON.parse(document);
    } catch {
      throw new PolicyError('Syntax errors in policy.');
    }
  }
  if (!isObject(doc)) throw new PolicyError('Syntax errors in policy.');
  for (const field of Object.keys(doc)) {
    if (field !== 'Version' && field !== 'Id' && field !== 'Statement') throw new PolicyError(`Syntax errors in policy. Unknown field ${field}.`);
  }
  const version = doc.Version ?? '2008-10-17';
  if (version !== '2012-10-17' && version !== '2008-10-17') throw new PolicyError('The policy failed legacy parsing');
  if (doc.Id !== undefined && typeof doc.Id !== 'string') throw new PolicyError('Syntax errors in policy.');
  const raw = doc.Statement;
  if (raw === undefined || (Array.isArray(raw) && raw.length === 0)) throw new PolicyError('Missing required field Statement');
  const list = Array.isArray(raw) ? raw : [raw];
  const sids = new Set<string>();
  const statements = list.map((s) => parseStatement(s, kind));
  for (const s of statements) {
    if (s.sid === undefined || s.sid === '') continue;
    if (sids.has(s.sid)) throw new PolicyError('Statement IDs (SID) in a single policy must be unique.');
    sids.add(s.sid);
  }
  return { version, id: doc.Id as string | undefined, statements };
}

function parseStatement(raw: unknown, kind: PolicyKind): Statement {
  if (!isObject(raw)) throw new PolicyError('Syntax errors in policy.');
  for (const field of Object.keys(raw)) {
    if (!STATEMENT_FIELDS.has(field)) throw new PolicyError(`Syntax errors in policy. Unknown field ${field}.`);
  }
  const sid = raw.Sid;
  if (sid !== undefined && (typeof sid !== 'string' || !/^[A-Za-z0-9 ]*$/.test(sid) || (kind === 'identity' && /\s/.test(sid)))) {
    throw new PolicyError('Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*');
  }
  const effect = raw.Effect;
  if (effect !== 'Allow' && effect !== 'Deny') throw new PolicyError('Syntax errors in policy. Effect must be Allow or Deny.');

  if (raw.Action !== undefined && raw.NotAction !== undefined) throw new PolicyError('Syntax errors in policy. A statement cannot contain both Action and NotAction.');
  if (raw.Action === undefined && raw.NotAction === undefined) throw new PolicyError('Policy statement must contain actions.');
  const action = raw.Action === undefined ? undefined : stringList(raw.Action).map(checkAction);
  const notAction = raw.NotAction === undefined ? undefined : stringList(raw.NotAction).map(checkAction);
  if ((action ?? notAction)!.length === 0) throw new PolicyError('Policy statement must contain actions.');

  if (raw.Resource !== undefined && raw.NotResource !== undefined) throw new PolicyError('Syntax errors in policy. A statement cannot contain both Resource and NotResource.');
  if (kind === 'trust' && (raw.Resource !== undefined || raw.NotResource !== undefined)) throw new PolicyError('Has prohibited field Resource');
  if (kind === 'identity' && raw.Resource === undefined && raw.NotResource === undefined) throw new PolicyError('Policy statement must contain resources.');
  const resource = raw.Resource === undefined ? undefined : stringList(raw.Resource).map(checkResource);
  const notResource = raw.NotResource === undefined ? undefined : stringList(raw.NotResource).map(checkResource);

  if (raw.Principal !== undefined && raw.NotPrincipal !== undefined) throw new PolicyError('Syntax errors in policy. A statement cannot contain both Principal and NotPrincipal.');
  if (kind === 'identity' && (raw.Principal !== undefined || raw.NotPrincipal !== undefined)) throw new PolicyError('Policy document should not specify a principal.');
  if (kind !== 'identity' && raw.Principal === undefined && raw.NotPrincipal === undefined) throw new PolicyError('Missing required field Principal');
  if (kind === 'trust' && raw.NotPrincipal !== undefined) throw new PolicyError('Syntax errors in policy. NotPrincipal is not allowed in a trust policy.');
  const principal = raw.Principal === undefined ? undefined : parsePrincipal(raw.Principal);
  const notPrincipal = raw.NotPrincipal === undefined ? undefined : parsePrincipal(raw.NotPrincipal);

  const condition = raw.Condition === undefined ? [] : parseCondition(raw.Condition);
  return { sid: sid as string | undefined, effect, action, notAction, resource, notResource, principal, notPrincipal, condition };
}

function stringList(value: unknown): string[] {
  const list = Array.isArray(value) ? value : [value];
  for (const v of list) if (typeof v !== 'string') throw new PolicyError('Syntax errors in policy.');
  return list as string[];
}

function checkAction(action: string): string {
  if (action === '*') return action;
  const colon = action.indexOf(':');
  if (colon <= 0) throw new PolicyError(`Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.`);
  if (action.indexOf(':', colon + 1) >= 0) throw new PolicyError('Actions/Condition can contain only one colon.');
  const vendor = action.slice(0, colon);
  if (!/^[A-Za-z0-9-]+$/.test(vendor)) throw new PolicyError(`Vendor ${vendor} is not valid`);
  return action;
}

function checkResource(resource: string): string {
  if (resource === '*' || resource.startsWith('arn:')) return resource;
  throw new PolicyError(`Resource ${resource} must be in ARN format or "*".`);
}

function parsePrincipal(raw: unknown): PrincipalSpec {
  if (raw === '*') return '*';
  if (!isObject(raw)) throw new PolicyError('Invalid principal in policy');
  const out: Record<string, readonly string[]> = {};
  for (const [type, value] of Object.entries(raw)) {
    if (!PRINCIPAL_TYPES.has(type)) throw new PolicyError('Invalid principal in policy');
    const values = Array.isArray(value) ? value : [value];
    if (values.length === 0 || values.some((v) => typeof v !== 'string' || v === '')) throw new PolicyError('Invalid principal in policy');
    out[type] = values as string[];
  }
  if (Object.keys(out).length === 0) throw new PolicyError('Invalid principal in policy');
  return out;
}

function parseCondition(raw: unknown): ConditionClause[] {
  if (!isObject(raw)) throw new PolicyError('Syntax errors in policy.');
  const clauses: ConditionClause[] = [];
  for (const [operator, block] of Object.entries(raw)) {
    let rest = operator;
    let set: ConditionClause['set'];
    for (const prefix of ['ForAnyValue', 'ForAllValues'] as const) {
      if (rest.toLowerCase().startsWith(`${prefix.toLowerCase()}:`)) {
        set = prefix;
        rest = rest.slice(prefix.length + 1);
      }
    }
    const ifExists = rest.endsWith('IfExists') && rest !== 'IfExists';
    const base = ifExists ? rest.slice(0, -'IfExists'.length) : rest;
    if (!BASE_OPERATORS.has(base) || (base === 'Null' && (ifExists || set))) throw new PolicyError(`Invalid Condition type : ${operator}.`);
    if (!isObject(block)) throw new PolicyError('Syntax errors in policy.');
    for (const [key, value] of Object.entries(block)) {
      const values = (Array.isArray(value) ? value : [value]).map((v) => {
        if (typeof v === 'string') return v;
        if (typeof v === 'number' || typeof v === 'boolean') return String(v);
        throw new PolicyError('Syntax errors in policy.');
      });
      if (values.length === 0) throw new PolicyError('Syntax errors in policy.');
      if (!/^[A-Za-z0-9-]+:[^\s]+$/.test(key)) throw new PolicyError(`Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.`);
      if (base === 'IpAddress' || base === 'NotIpAddress') for (const v of values) if (!parseCidr(v)) throw new PolicyError(`Invalid IP address or CIDR: ${v}`);
      clauses.push({ operator, base, set, ifExists, key, values });
    }
  }
  return clauses;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// ---------------------------------------------------------------------------------------------
// The request

/** Condition-key values of one request. Keys are matched case-insensitively, as IAM does. */
export type ContextValues = Readonly<Record<string, string | readonly string[] | undefined>>;

/** Who is asking, for Principal / NotPrincipal in resource-based and trust policies. */
export interface RequestPrincipal {
  /** 'AWS' for IAM identities (root, users, role sessions), 'Service' for AWS service principals. */
  readonly type: 'AWS' | 'Service' | 'Federated';
  /** The caller's ARN (session ARN for role sessions), or the service name (ecs-tasks.amazonaws.com). */
  readonly id: string;
  readonly accountId?: string;
  /** For role sessions: the role's ARN (a policy naming the role applies to its sessions). */
  readonly roleArn?: string;
  readonly isRoot?: boolean;
}

/** An IAM caller as a policy's Principal element sees it. */
export function principalOf(caller: Caller): RequestPrincipal {
  return { type: 'AWS', id: caller.arn, accountId: caller.accountId, roleArn: caller.roleArn, isRoot: caller.kind === 'root' };
}

export interface EvaluationRequest {
  readonly action: string;
  /** One resource ARN ('*' for actions without resource-level permissions). */
  readonly resource: string;
  readonly principal?: RequestPrincipal;
  readonly context?: ContextValues;
}

export type Decision = 'Allow' | 'ExplicitDeny' | 'ImplicitDeny';

export interface EvaluationOptions {
  /**
   * Whether an account principal in an Allow matches every principal of that account. False for
   * a resource-based policy evaluated together with identity policies (the account principal
   * grants nothing alone: IAM delegates to the identity policies); true for a trust policy
   * checked on its own once the caller's identity policies allowed sts:AssumeRole.
   */
  readonly accountPrincipalMatchesMembers?: boolean;
}

export interface EvaluationResult {
  readonly decision: Decision;
  /** Which kind of policy decided (the explicit deny's, or the allow's). */
  readonly decidedBy?: 'identity' | 'resource';
  readonly statement?: Statement;
}

/**
 * Evaluates one request within one account: any applicable Deny → ExplicitDeny; otherwise an
 * applicable Allow in an identity-based policy or in the resource-based policy → Allow;
 * otherwise ImplicitDeny.
 */
export function evaluate(
  request: EvaluationRequest,
  policies: { identity?: readonly Policy[]; resource?: readonly Policy[] },
  options: EvaluationOptions = {},
): EvaluationResult {
  const context = normalizeContext(request.context);
  let allow: EvaluationResult | undefined;
  for (const [kind, list] of [['identity', policies.identity ?? []], ['resource', policies.resource ?? []]] as const) {
    for (const policy of list) {
      for (const statement of policy.statements) {
        if (!statementApplies(statement, policy, request, context, kind, options)) continue;
        if (statement.effect === 'Deny') return { decision: 'ExplicitDeny', decidedBy: kind, statement };
        allow ??= { decision: 'Allow', decidedBy: kind, statement };
      }
    }
  }
  return allow ?? { decision: 'ImplicitDeny' };
}

/**
 * Whether a role's trust policy lets `principal` perform `action` (sts:AssumeRole) on the role:
 * the one trust evaluation (STS AssumeRole and task-role vending both ask it). A statement naming
 * the caller (its ARN, its role, `*`) allows it; an account principal admits the account's users
 * and roles (their own identity policies must allow sts:AssumeRole too, which the operation
 * authorizer checks before); an explicit Deny for the caller always wins.
 */
export function trustAllows(trust: Policy, request: Omit<EvaluationRequest, 'resource'> & { resource?: string }): boolean {
  return evaluate({ resource: '*', ...request }, { resource: [trust] }, { accountPrincipalMatchesMembers: true }).decision === 'Allow';
}

type Context = Map<string, readonly string[]>;

function normalizeContext(values: ContextValues | undefined): Context {
  const out: Context = new Map();
  for (const [k, v] of Object.entries(values ?? {})) {
    if (v === undefined) continue;
    out.set(k.toLowerCase(), typeof v === 'string' ? [v] : v);
  }
  return out;
}

function statementApplies(s: Statement, policy: Policy, req: EvaluationRequest, ctx: Context, kind: 'identity' | 'resource', options: EvaluationOptions): boolean {
  if (s.action && !s.action.some((a) => actionMatches(a, req.action))) return false;
  if (s.notAction && s.notAction.some((a) => actionMatches(a, req.action))) return false;
  const vars = policy.version === '2012-10-17';
  if (s.resource && !s.resource.some((r) => resourceMatches(r, req.resource, vars, ctx))) return false;
  if (s.notResource && s.notResource.some((r) => resourceMatches(r, req.resource, vars, ctx))) return false;
  if (kind === 'resource') {
    if (!req.principal) return false;
    const members = options.accountPrincipalMatchesMembers === true;
    if (s.principal && !principalMatches(s.principal, req.principal, s.effect === 'Deny' || members)) return false;
    if (s.notPrincipal && principalMatches(s.notPrincipal, req.principal, true)) return false;
  }
  return s.condition.every((c) => conditionHolds(c, ctx, vars));
}

// ---------------------------------------------------------------------------------------------
// Actions, resources, principals

/** Case-insensitive glob match of `service:Action` patterns. */
export function actionMatches(pattern: string, action: string): boolean {
  return globMatch(pattern.toLowerCase(), action.toLowerCase());
}

/**
 * Resource ARN match: `*` alone matches everything; otherwise the first five ARN segments
 * (arn, partition, service, region, account) match segment by segment and the resource part,
 * which may itself contain colons and slashes, as one case-sensitive glob.
 */
export function resourceMatches(pattern: string, resource: string, variables = false, ctx: Context = new Map()): boolean {
  const p = variables ? substituteVariables(pattern, ctx, true) : pattern;
  if (p === undefined) return false;
  if (p === '*') return true;
  return arnGlobMatch(p, resource);
}

function arnGlobMatch(pattern: string, arn: string): boolean {
  const ps = splitArn(pattern);
  const as = splitArn(arn);
  if (!ps || !as) return !ps && !as && globMatch(pattern, arn);
  for (let i = 0; i < 6; i++) if (!globMatch(ps[i]!, as[i]!)) return false;
  return true;
}

function splitArn(arn: string): string[] | undefined {
  const parts = arn.split(':');
  if (parts.length < 6) return undefined;
  return [...parts.slice(0, 5), parts.slice(5).join(':')];
}

/**
 * Principal element match. An account principal (`123456789012` or `arn:aws:iam::…:root`) in
 * an Allow grants nothing by itself to the account's users and roles (IAM delegates that to
 * their identity-based policies), so it matches only the root; in a Deny it matches everyone
 * in the account.
 */
function principalMatches(spec: PrincipalSpec, who: RequestPrincipal, accountMatchesMembers: boolean): boolean {
  if (spec === '*') return true;
  const values = spec[who.type] ?? [];
  return values.some((v) => {
    if (v === '*') return true;
    if (who.type !== 'AWS') return v === who.id;
    const account = /^\d{12}$/.test(v) ? v : /^arn:aws[\w-]*:iam::(\d{12}):root$/.exec(v)?.[1];
    if (account !== undefined) return account === who.accountId && (accountMatchesMembers || who.isRoot === true);
    return v === who.id || (who.roleArn !== undefined && v === who.roleArn);
  });
}

/**
 * Glob with `*` (any run, also empty) and `?` (one character): the linear greedy matcher with
 * one backtrack point, so no pattern can make it exponential.
 */
export function globMatch(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let mark = 0;
  while (t < text.length) {
    const c = pattern[p];
    const ch = text[t];
    if (c === '?' || (c !== undefined && c !== '*' && (c === ch || (c === LITERAL_STAR && ch === '*') || (c === LITERAL_QUESTION && ch === '?')))) {
      p++;
      t++;
    } else if (c === '*') {
      star = p++;
      mark = t;
    } else if (star >= 0) {
      p = star + 1;
      t = ++mark;
    } else return false;
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}

// ---------------------------------------------------------------------------------------------
// Policy variables

const VARIABLE = /\$\{([^}]*)\}/g;

/** Stand-ins for a literal `*` / `?` inside a glob pattern (from ${*}, ${?} or a substituted value). */
const LITERAL_STAR = '\uE000';
const LITERAL_QUESTION = '\uE001';

/**
 * Replaces ${key} (and ${key, 'default'}) with the request's value; ${*}, ${?}, ${$} are the
 * literal characters. Undefined when a variable has no value and no default: IAM then treats
 * the element as not matching. For glob patterns (`glob`), what a variable brings in is
 * literal, so its `*` and `?` become stand-ins globMatch compares as plain characters.
 */
function substituteVariables(text: string, ctx: Context, glob: boolean): string | undefined {
  if (!text.includes('${')) return text;
  const literal = (s: string) => (glob ? s.replaceAll('*', LITERAL_STAR).replaceAll('?', LITERAL_QUESTION) : s);
  let missing = false;
  const out = text.replace(VARIABLE, (_m, inner: string) => {
    const spec = inner.trim();
    if (spec === '*' || spec === '?' || spec === '$') return literal(spec);
    const m = /^([^,]+?)\s*(?:,\s*'([^']*)')?$/.exec(spec);
    const key = m?.[1]?.trim().toLowerCase();
    const value = key ? ctx.get(key) : undefined;
    if (value && value.length === 1) return literal(value[0]!);
    if (m?.[2] !== undefined) return literal(m[2]);
    missing = true;
    return '';
  });
  return missing ? undefined : out;
}

// ---------------------------------------------------------------------------------------------
// Conditions

function conditionHolds(c: ConditionClause, ctx: Context, variables: boolean): boolean {
  const present = ctx.get(c.key.toLowerCase());
  if (c.base === 'Null') {
    const absent = present === undefined || present.length === 0;
    // Null: "true" means the key must be absent, "false" that it must be present.
    return c.values.some((v) => (v.toLowerCase() === 'true') === absent);
  }
  const negated = NEGATED_OPERATORS.has(c.base);
  const policyValues = c.values
    .map((v) => (variables && usesVariables(c.base) ? substituteVariables(v, ctx, isGlobOperator(c.base)) : v))
    .filter((v): v is string => v !== undefined);
  // One context value against the policy's values: OR of matches (NOR for negated operators).
  const valueMatches = (cv: string) => {
    const any = policyValues.some((pv) => matchValue(c.base, pv, cv));
    return negated ? !any : any;
  };
  if (c.set === 'ForAllValues') return present === undefined || present.every(valueMatches);
  if (c.set === 'ForAnyValue') return present !== undefined && present.some(valueMatches);
  if (present === undefined) return c.ifExists || negated;
  if (negated) return present.every(valueMatches);
  return present.some(valueMatches);
}

function usesVariables(base: string): boolean {
  return base.startsWith('String') || base.startsWith('Arn');
}

function isGlobOperator(base: string): boolean {
  return base === 'StringLike' || base === 'StringNotLike' || base.startsWith('Arn');
}

/** Whether one policy value matches one context value under the operator's non-negated form. */
function matchValue(base: string, policyValue: string, contextValue: string): boolean {
  switch (base) {
    case 'StringEquals':
    case 'StringNotEquals':
    case 'BinaryEquals':
      return policyValue === contextValue;
    case 'StringEqualsIgnoreCase':
    case 'StringNotEqualsIgnoreCase':
      return policyValue.toLowerCase() === contextValue.toLowerCase();
    case 'StringLike':
    case 'StringNotLike':
      return globMatch(policyValue, contextValue);
    case 'ArnEquals':
    case 'ArnNotEquals':
    case 'ArnLike':
    case 'ArnNotLike':
      // IAM treats ArnEquals and ArnLike alike: segment-wise, with wildcards.
      return splitArn(contextValue) !== undefined && arnGlobMatch(policyValue, contextValue);
    case 'Bool':
      return policyValue.toLowerCase() === contextValue.toLowerCase();
    case 'IpAddress':
    case 'NotIpAddress':
      return ipInCidr(contextValue, policyValue);
    default:
      if (base.startsWith('Numeric')) return compare(base.slice('Numeric'.length), parseNumber(policyValue), parseNumber(contextValue));
      if (base.startsWith('Date')) return compare(base.slice('Date'.length), parseDate(policyValue), parseDate(contextValue));
      return false;
  }
}

function compare(relation: string, policy: number | undefined, context: number | undefined): boolean {
  if (policy === undefined || context === undefined) return false;
  switch (relation) {
    case 'Equals':
    case 'NotEquals':
      return context === policy;
    case 'LessThan':
      return context < policy;
    case 'LessThanEquals':
      return context <= policy;
    case 'GreaterThan':
      return context > policy;
    case 'GreaterThanEquals':
      return context >= policy;
    default:
      return false;
  }
}

function parseNumber(s: string): number | undefined {
  if (!/^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(s)) return undefined;
  return Number(s);
}

/** Dates as ISO 8601 or epoch seconds (aws:EpochTime), compared in milliseconds. */
function parseDate(s: string): number | undefined {
  if (/^\d+$/.test(s)) return Number(s) * 1000;
  const ms = Date.parse(s);
  return Number.isNaN(ms) ? undefined : ms;
}

interface Cidr {
  family: 'ipv4' | 'ipv6';
  list: BlockList;
}

const cidrCache = new Map<string, Cidr | undefined>();

function parseCidr(text: string): Cidr | undefined {
  if (cidrCache.has(text)) return cidrCache.get(text);
  let result: Cidr | undefined;
  const [addr = '', prefixText] = text.trim().split('/');
  const v = isIP(addr);
  if (v !== 0) {
    const family = v === 4 ? 'ipv4' : 'ipv6';
    const max = v === 4 ? 32 : 128;
    const prefix = prefixText === undefined ? max : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
    if (prefix >= 0 && prefix <= max) {
      const list = new BlockList();
      list.addSubnet(addr, prefix, family);
      result = { family, list };
    }
  }
  if (cidrCache.size > 10_000) cidrCache.clear();
  cidrCache.set(text, result);
  return result;
}

function ipInCidr(ip: string, cidr: string): boolean {
  const range = parseCidr(cidr);
  if (!range) return false;
  // An IPv4 client seen on a dual-stack socket arrives as ::ffff:a.b.c.d.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)?.[1];
  const address = mapped ?? ip;
  const family = isIP(address);
  if (family === 0) return false;
  if ((family === 4 ? 'ipv4' : 'ipv6') !== range.family) return false;
  return range.list.check(address, range.family);
}
