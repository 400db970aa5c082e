/**
 * Authorization before every handler: turns (caller, service, operation, validated input) into
 * IAM requests with the tables of src/iam/authorization-tables.ts, evaluates the caller's
 * identity-based policies (and a resource's own policy, and an assumed role's session policy)
 * with the policy engine, and throws AWS's AccessDenied with AWS's wording on a denial.
 *
 * Root, internal and trusted (accept-any-credentials) callers are not evaluated.
 */
import { AwsError } from '../aws/errors.js';
import type { OperationAuthorizer, RequestContext, ServiceModule } from '../aws/service.js';
import type { Clock } from '../core/clock.js';
import { AUTHORIZATION_TABLES, type OperationEntry, type ResourceType, type ServiceTable } from './authorization-tables.js';
import type { PoliciesInForce } from './identity-policies.js';
import { evaluate, parsePolicy, PolicyError, principalOf, type ContextValues, type Policy } from './policy.js';
import { isUnevaluated, type AuthorizationRequest, type Authorizer, type Caller } from './principal.js';

/** What the authorizer may look up about resources (each optional: without it, the key is absent). */
export interface AuthorizationFacts {
  /** ECS: the task definition a reference names (a family alone: its latest ACTIVE revision). */
  taskDefinition?(scope: Scope, ref: string): Promise<{ arn: string; taskRoleArn?: string; executionRoleArn?: string } | undefined>;
  /** The caller's own tags (an IAM user's, a session's role's), for aws:PrincipalTag/<key>. */
  principalTags?(caller: Caller): Promise<Readonly<Record<string, string>> | undefined>;
  /** A resource's tags, for aws:ResourceTag/<key>. */
  resourceTags?(arn: string): Promise<Readonly<Record<string, string>> | undefined>;
  /** Secrets Manager: the full ARN of the secret a name or partial ARN names, when it exists. */
  secretArn?(scope: Scope, id: string): Promise<string | undefined>;
  /** A resource's own policy for `action` (ECR repository policies; a role's trust policy for sts:AssumeRole), JSON text. */
  resourcePolicy?(arn: string, action: string): Promise<string | undefined>;
}

export interface IdentityPolicySource {
  forCaller(caller: Caller): Promise<PoliciesInForce>;
}

interface Scope {
  readonly accountId: string;
  readonly region: string;
}

/** The request facts that come from the connection rather than the input. */
export interface ConnectionFacts {
  readonly sourceIp?: string;
  readonly secureTransport?: boolean;
  readonly region?: string;
}

const ECS_TASKS_SERVICE = 'ecs-tasks.amazonaws.com';
const DENY_ALL: Policy = { version: '2012-10-17', statements: [{ effect: 'Deny', action: ['*'], resource: ['*'], principal: '*', condition: [] }] };

export class PolicyAuthorizer implements Authorizer {
  private readonly parsed = new Map<string, Policy>();

  constructor(
    private readonly deps: {
      policies: IdentityPolicySource;
      facts?: AuthorizationFacts;
      clock: Clock;
      tables?: Readonly<Record<string, ServiceTable>>;
    },
  ) {}

  /** May `caller` do `request.action` on every one of `request.resources`? Throws AccessDenied when not. */
  async authorize(caller: Caller, request: AuthorizationRequest): Promise<void> {
    if (isUnevaluated(caller)) return;
    const inForce = await this.deps.policies.forCaller(caller);
    const identity = inForce.identity.map((p) => this.parse(p.document, 'identity'));
    const session = inForce.session === undefined ? undefined : this.parse(inForce.session, 'identity');
    const principal = principalOf(caller);
    const base: Record<string, string | readonly string[] | undefined> = { ...this.globalContext(caller), ...request.context };
    for (const [k, v] of Object.entries((await this.deps.facts?.principalTags?.(caller)) ?? {})) base[`aws:PrincipalTag/${k}`] = v;
    const resources = request.resources.length ? request.resources : ['*'];
    for (const resource of resources) {
      const context: Record<string, string | readonly string[] | undefined> = { ...base };
      const tags = resource === '*' ? undefined : await this.deps.facts?.resourceTags?.(resource);
      for (const [k, v] of Object.entries(tags ?? {})) context[`aws:ResourceTag/${k}`] = v;
      const policyText = resource === '*' ? undefined : await this.deps.facts?.resourcePolicy?.(resource, request.action);
      const resourcePolicy = policyText === undefined ? undefined : this.parse(policyText, 'resource');
      const req = { action: request.action, resource, principal, context: context as ContextValues };
      const result = evaluate(req, { identity, resource: resourcePolicy ? [resourcePolicy] : [] });
      let reason: string | undefined;
      if (result.decision === 'ExplicitDeny') reason = `with an explicit deny in ${result.decidedBy === 'resource' ? 'a resource-based' : 'an identity-based'} policy`;
      else if (result.decision === 'ImplicitDeny') reason = `because no identity-based policy allows the ${request.action} action`;
      else if (session && result.decidedBy === 'identity') {
        // A session policy bounds what the role's policies grant (a resource-based allow naming the session is not bounded).
        const bounded = evaluate(req, { identity: [session] });
        if (bounded.decision === 'ExplicitDeny') reason = `with an explicit deny in a session policy`;
        else if (bounded.decision === 'ImplicitDeny') reason = `because no session policy allows the ${request.action} action`;
      }
      if (reason) {
        // STS words an AssumeRole denial without the reason.
        const why = request.action.toLowerCase().startsWith('sts:assumerole') ? '' : ` ${reason}`;
        throw accessDenied(request.action, `User: ${caller.arn} is not authorized to perform: ${request.action} on resource: ${resource}${why}`);
      }
    }
  }

  /** The OperationAuthorizer JsonProtocol (and the awsQuery protocol) call before each handler. */
  readonly forOperation: OperationAuthorizer = async (ctx: RequestContext, service: ServiceModule, operation: string, input: unknown) => {
    if (isUnevaluated(ctx.caller)) return;
    const requests = await this.requestsFor(ctx, service, operation, input);
    try {
      for (const r of requests) await this.authorize(ctx.caller, r);
    } catch (e) {
      // The service answering words the denial in its protocol, whatever the action (ECS refusing iam:PassRole answers AccessDeniedException).
      if (e instanceof AwsError && (e.code === 'AccessDenied' || e.code === 'AccessDeniedException')) throw accessDeniedIn(service.protocol, e.message);
      throw e;
    }
  };

  /** The IAM requests one operation makes: its own action, then any iam:PassRole. */
  async requestsFor(ctx: RequestContext & ConnectionFacts, service: ServiceModule, operation: string, input: unknown): Promise<AuthorizationRequest[]> {
    const table = (this.deps.tables ?? AUTHORIZATION_TABLES)[service.name] ?? genericTable(service);
    const entry: OperationEntry = table.operations[operation] ?? defaultEntry(table, service, operation);
    if (entry.action === null) return [];
    const action = entry.action ?? `${table.prefix}:${operation}`;
    const values = (input ?? {}) as Record<string, unknown>;
    const scope: Scope = { accountId: ctx.accountId, region: ctx.region };
    // One lookup per task definition reference, however many keys and roles ask about it.
    const taskDefinitions = new Map<string, ReturnType<NonNullable<AuthorizationFacts['taskDefinition']>>>();
    const lookup = this.deps.facts?.taskDefinition;
    const taskDefinition = lookup && ((s: Scope, ref: string) => taskDefinitions.get(ref) ?? taskDefinitions.set(ref, lookup(s, ref)).get(ref)!);
    const resolve = new ArnResolver(scope, values, ctx.caller, { ...this.deps.facts, taskDefinition });

    const resources: string[] = [];
    for (const path of entry.resources ?? []) {
      const type = table.members[lastSegment(path)];
      const found = valuesAt(values, path);
      // An absent member may still imply a resource: the default cluster, the calling IAM user.
      for (const v of found.length ? found : path.includes('[]') ? [] : [undefined]) {
        const arn = await resolve.arn(type, v);
        if (arn) resources.push(arn);
      }
    }
    if (resources.length === 0 && entry.fallback) resources.push(entry.fallback === '*' ? '*' : resolve.underPrefix(table.prefix, entry.fallback));

    const context: Record<string, string | readonly string[]> = {
      ...connectionContext(ctx),
      ...requestTags(values),
    };
    const declared = inputMembers(service, operation);
    const serviceWide = Object.entries(table.conditions).filter(([member]) => declared.includes(member));
    const conditionMembers = { ...invert(Object.fromEntries(serviceWide)), ...(entry.conditions ?? {}) };
    for (const [key, path] of Object.entries(conditionMembers)) {
      const found = valuesAt(values, path);
      const type = table.members[lastSegment(path)];
      const arns: string[] = [];
      // ecs:cluster is the default cluster when the request names none.
      for (const v of found.length ? found : type === 'ecs:cluster' ? [undefined] : []) {
        const arn = await resolve.arn(type, v);
        if (arn) arns.push(arn);
      }
      if (arns.length) context[key] = path.includes('[]') ? arns : arns[0]!;
    }

    const out: AuthorizationRequest[] = [{ action, resources: resources.length ? resources : ['*'], context }];
    const passed = new Set<string>();
    for (const path of entry.passRole ?? []) for (const v of valuesAt(values, path)) passed.add(v);
    if (entry.taskDefinitionRoles) {
      const ref = valuesAt(values, entry.taskDefinitionRoles)[0];
      const td = ref ? await taskDefinition?.(scope, ref) : undefined;
      if (td?.taskRoleArn) passed.add(td.taskRoleArn);
      if (td?.executionRoleArn) passed.add(td.executionRoleArn);
    }
    for (const role of passed) {
      out.push({ action: 'iam:PassRole', resources: [role], context: { ...connectionContext(ctx), 'iam:PassedToService': ECS_TASKS_SERVICE } });
    }
    return out;
  }

  private globalContext(caller: Caller): Record<string, string> {
    const now = this.deps.clock.now();
    const out: Record<string, string> = {
      'aws:CurrentTime': new Date(now * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      'aws:EpochTime': String(Math.floor(now)),
      'aws:PrincipalAccount': caller.accountId,
      'aws:PrincipalArn': caller.kind === 'assumed-role' && caller.roleArn ? caller.roleArn : caller.arn,
      'aws:PrincipalType': caller.kind === 'assumed-role' ? 'AssumedRole' : caller.kind === 'user' ? 'User' : 'Account',
      'aws:userid': caller.userId,
    };
    if (caller.kind === 'user') out['aws:username'] = caller.arn.slice(caller.arn.lastIndexOf('/') + 1);
    return out;
  }

  /**
   * Stored policies were validated when written. One that no longer parses fails closed: it
   * denies everything (ignoring it could drop a Deny).
   */
  private parse(text: string, kind: 'identity' | 'resource'): Policy {
    const key = `${kind}\u0000${text}`;
    const hit = this.parsed.get(key);
    if (hit) return hit;
    let policy: Policy;
    try {
      policy = parsePolicy(text, kind);
    } catch (e) {
      if (!(e instanceof PolicyError)) throw e;
      policy = DENY_ALL;
    }
    if (this.parsed.size >= 1000) this.parsed.delete(this.parsed.keys().next().value!);
    this.parsed.set(key, policy);
    return policy;
  }
}

/** ECS and ECR (awsJson) answer AccessDeniedException (400); IAM and STS (awsQuery) AccessDenied (403). */
export function accessDeniedIn(protocol: string, message: string): AwsError {
  return protocol === 'awsQuery' ? new AwsError('AccessDenied', message, 403) : new AwsError('AccessDeniedException', message, 400);
}

/** A denial outside an operation: worded by the action's own service. */
function accessDenied(action: string, message: string): AwsError {
  const prefix = action.slice(0, action.indexOf(':'));
  return accessDeniedIn(prefix === 'iam' || prefix === 'sts' ? 'awsQuery' : 'awsJson1_1', message);
}

function connectionContext(ctx: ConnectionFacts): Record<string, string> {
  const out: Record<string, string> = {};
  if (ctx.sourceIp) out['aws:SourceIp'] = ctx.sourceIp;
  if (ctx.secureTransport !== undefined) out['aws:SecureTransport'] = String(ctx.secureTransport);
  if (ctx.region) out['aws:RequestedRegion'] = ctx.region;
  return out;
}

/** aws:RequestTag/<key> and aws:TagKeys from the input's tags (ECS `tags` [{key,value}], ECR/IAM [{Key,Value}]) or tag keys. */
function requestTags(input: Record<string, unknown>): Record<string, string | readonly string[]> {
  const out: Record<string, string | readonly string[]> = {};
  const tags = (input.tags ?? input.Tags) as { key?: string; value?: string; Key?: string; Value?: string }[] | undefined;
  if (Array.isArray(tags)) {
    const keys: string[] = [];
    for (const t of tags) {
      const key = t.key ?? t.Key;
      if (key === undefined) continue;
      keys.push(key);
      out[`aws:RequestTag/${key}`] = t.value ?? t.Value ?? '';
    }
    out['aws:TagKeys'] = keys;
  }
  const tagKeys = input.tagKeys ?? input.TagKeys;
  if (Array.isArray(tagKeys)) out['aws:TagKeys'] = tagKeys.map(String);
  return out;
}

/**
 * A service without a table of its own (one added later): `<signing name>:<Operation>`, on the
 * resource ARN the input names if any, else on `*`. Never looser than an explicit table.
 */
function genericTable(service: ServiceModule): ServiceTable {
  return {
    prefix: service.model.metadata.signingName ?? service.model.metadata.endpointPrefix ?? service.name,
    members: { resourceArn: 'arn', ResourceArn: 'arn' },
    primary: ['resourceArn', 'ResourceArn'],
    conditions: {},
    operations: {},
  };
}

/** For an operation without a table entry: its model input's first `primary` member names the resource. */
function defaultEntry(table: ServiceTable, service: ServiceModule, operation: string): OperationEntry {
  const members = inputMembers(service, operation);
  const primary = table.primary.find((m) => members.includes(m));
  if (!primary) return {};
  const inputShape = service.model.shapes[service.model.operations[operation]!.input!.shape]!;
  const isList = service.model.shapes[inputShape.members![primary]!.shape]?.type === 'list';
  return { resources: [isList ? `${primary}[]` : primary] };
}

/** The member names the operation's model input declares. */
function inputMembers(service: ServiceModule, operation: string): string[] {
  const inputShape = service.model.operations[operation]?.input?.shape;
  return inputShape ? Object.keys(service.model.shapes[inputShape]?.members ?? {}) : [];
}

function invert(conditions: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(conditions).map(([member, key]) => [key, member]));
}

function lastSegment(path: string): string {
  const parts = path.split('.');
  return parts[parts.length - 1]!.replace('[]', '');
}

/** The string values at `path` (`a.b`, `list[]`, `list[].field`) of the input. */
export function valuesAt(input: unknown, path: string): string[] {
  let current: unknown[] = [input];
  for (const segment of path.split('.')) {
    const list = segment.endsWith('[]');
    const name = list ? segment.slice(0, -2) : segment;
    const next: unknown[] = [];
    for (const item of current) {
      if (typeof item !== 'object' || item === null || !Object.hasOwn(item, name)) continue;
      const v = (item as Record<string, unknown>)[name];
      if (list && Array.isArray(v)) next.push(...v);
      else if (!list && v !== undefined && v !== null) next.push(v);
    }
    current = next;
  }
  return current.filter((v): v is string => typeof v === 'string' && v !== '');
}

/** Builds resource ARNs from member values, as each service spells them. */
class ArnResolver {
  constructor(
    private readonly scope: Scope,
    private readonly input: Record<string, unknown>,
    private readonly caller: Caller,
    private readonly facts: AuthorizationFacts | undefined,
  ) {}

  underPrefix(service: string, path: string): string {
    if (service === 'iam') return `arn:aws:iam::${this.scope.accountId}:${path}`;
    const account = service === 'ecr' && typeof this.input.registryId === 'string' ? this.input.registryId : this.scope.accountId;
    return `arn:aws:${service}:${this.scope.region}:${account}:${path}`;
  }

  async arn(type: ResourceType | undefined, value: string | undefined): Promise<string | undefined> {
    if (value !== undefined && value.startsWith('arn:') && type === 'secretsmanager:secret') return (await this.facts?.secretArn?.(this.scope, value)) ?? value;
    if (value !== undefined && value.startsWith('arn:')) return value;
    const ecs = (path: string) => this.underPrefix('ecs', path);
    const iam = (kind: string, name: string) => `arn:aws:iam::${this.scope.accountId}:${kind}${pathOf(this.input.Path)}${name}`;
    switch (type) {
      case 'ecs:cluster':
        return ecs(`cluster/${value ?? 'default'}`);
      case 'ecs:task-definition':
        if (value === undefined) return undefined;
        // A family alone is authorized as its latest revision, as ECS has done since March 2024.
        if (!/:\d+$/.test(value)) {
          const td = await this.facts?.taskDefinition?.(this.scope, value);
          if (td) return td.arn;
        }
        return ecs(`task-definition/${value}`);
      case 'ecs:task':
      case 'ecs:container-instance':
      case 'ecs:service':
      case 'ecs:task-set':
        return value === undefined ? undefined : ecs(`${type.slice(4)}/${this.clusterName()}/${value}`);
      case 'ecs:capacity-provider':
        return value === undefined ? undefined : ecs(`capacity-provider/${value}`);
      case 'ecs:daemon':
        return value === undefined ? undefined : ecs(`daemon/${this.clusterName()}/${value}`);
      case 'ecr:repository':
        return value === undefined ? undefined : this.underPrefix('ecr', `repository/${value}`);
      case 'iam:user':
        // User-scoped IAM operations without UserName act on the calling user.
        if (value === undefined) return this.caller.kind === 'user' ? this.caller.arn : undefined;
        return iam('user', value);
      case 'iam:role':
      case 'iam:group':
      case 'iam:instance-profile':
      case 'iam:server-certificate':
        return value === undefined ? undefined : iam(type.slice(4), value);
      case 'iam:policy-name':
        return value === undefined ? undefined : iam('policy', value);
      case 'iam:mfa':
        return value === undefined ? undefined : iam('mfa', value);
      case 'ssm:parameter': {
        if (value === undefined) return undefined;
        const name = value.split(':')[0]!;
        return this.underPrefix('ssm', `parameter${name.startsWith('/') ? '' : '/'}${name}`);
      }
      case 'secretsmanager:secret': {
        if (value === undefined) return undefined;
        // A secret that does not exist (yet) is authorized as its future ARN, suffix unknown.
        return (await this.facts?.secretArn?.(this.scope, value)) ?? this.underPrefix('secretsmanager', `secret:${value}-??????`);
      }
      case 'logs:log-group':
        return value === undefined ? undefined : this.underPrefix('logs', `log-group:${value}`);
      case 'logs:log-stream': {
        const g = this.input.logGroupName ?? this.input.logGroupIdentifier;
        const group = typeof g === 'string' ? g.replace(/^arn:[^:]*:logs:[^:]*:[^:]*:log-group:/, '').replace(/:\*$/, '') : undefined;
        return value === undefined || group === undefined ? undefined : this.underPrefix('logs', `log-group:${group}:log-stream:${value}`);
      }
      case 'arn':
      case undefined:
        return value;
      default:
        return value;
    }
  }

  private clusterName(): string {
    const c = typeof this.input.cluster === 'string' ? this.input.cluster : 'default';
    const m = /:cluster\/(.+)$/.exec(c);
    return m ? m[1]! : c;
  }
}

function pathOf(path: unknown): string {
  return typeof path === 'string' && path.startsWith('/') && path.endsWith('/') ? path : '/';
}
