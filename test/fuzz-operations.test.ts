/**
 * Model-driven fuzzing of every implemented operation of every service the front door serves
 * (App.services, so services added later are picked up): inputs are generated from each
 * operation's input shape (random values, the model's boundaries ±1, 32/64-bit edges, enum and
 * non-enum strings, names of resources that exist, nulls and wrong JSON types), sent over real
 * HTTP with valid SigV4 signatures in every protocol the service serves — awsJson1_1/1_0 bodies (ECS, ECR,
 * CloudWatch), the same inputs as Smithy RPC v2 CBOR (CloudWatch; a body that is no JSON goes as raw bytes),
 * or awsQuery forms (IAM, STS) encoded as AWS SDKs do (`member.N`, `entry.N.key`, dotted
 * structures, scalars as text) and then also mangled (duplicate keys, `member.0`, huge indices,
 * `__proto__` keys, no Version, non-UTF-8 escapes, very long values) — and every answer must be:
 *   - never 5xx;
 *   - a 4xx in AWS's shape naming an error the operation models or a documented common error:
 *     awsJson1_1's `__type` = x-amzn-ErrorType and a message (or SerializationException, …);
 *     awsQuery's XML ErrorResponse with Type, Code and Message (or ValidationError, InvalidAction, …);
 *   - after a 4xx, no state changed: the store's change index (it moves on every committed write
 *     that touched a row) and the data directory's files (registry uploads and blobs) are as before.
 *
 * Seeded and bounded: FUZZ_SEED=<n> replays a run (the seed is printed), FUZZ_MS bounds the whole
 * walk over all services together (default 40 s, shared equally by the operations left),
 * FUZZ_RUNS the inputs per operation (default 400); FUZZ_VERBOSE=1 prints per-operation counts,
 * slow requests and the commonest errors.
 */
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { XMLParser } from 'fast-xml-parser';
import type { ServiceModel, Shape, ShapeRef } from '../src/aws/model.js';
import type { ServiceModule } from '../src/aws/service.js';
import { startDockyard, type TestDockyard } from './helpers/dockyard.js';
import { encode } from 'cbor2';
import type { WireProtocol } from '../src/aws/service.js';
import { postSigned, postSignedCbor, postSignedForm, signingName, type Credentials, type RawResponse } from './helpers/signed-http.js';

const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const BUDGET_MS = Number(process.env.FUZZ_MS ?? 40_000);
const RUNS = Number(process.env.FUZZ_RUNS ?? 400);
const MAX_DEPTH = 6;

/** Errors any operation may answer besides its modeled ones (protocol and authentication). */
const FRAMEWORK_ERRORS = ['SerializationException', 'AccessDeniedException', 'UnrecognizedClientException', 'InvalidSignatureException', 'RequestEntityTooLargeException'];
/** The awsQuery services' documented common errors (IAM and STS "Common Errors"), the 4xx ones. */
const QUERY_COMMON_ERRORS = [
  'ValidationError',
  'InvalidAction',
  'MissingAction',
  'MissingParameter',
  'InvalidParameterValue',
  'InvalidParameterCombination',
  'InvalidQueryParameter',
  'MalformedQueryString',
  'MalformedPolicyDocument',
  'AccessDenied',
  'AccessDeniedException',
  'NotAuthorized',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
  'RequestEntityTooLarge',
];

/** Names and ARNs of resources the fuzzer creates first (see seed()), so that inputs reach past "not found". */
const ACCOUNT = '000000000000';
const CLUSTER_ARN = `arn:aws:ecs:us-east-1:${ACCOUNT}:cluster/fuzz`;
const TASK_DEFINITION_ARN = `arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/fuzz:1`;
const REPOSITORY_ARN = `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/fuzz`;
const DIGEST = `sha256:${'ab'.repeat(32)}`;
const POLICY_ARN = `arn:aws:iam::${ACCOUNT}:policy/fuzz`;
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/fuzz`;
const POLICY = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ecs:List*', Resource: '*' }] });
const TRUST = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ecs-tasks.amazonaws.com' }, Action: 'sts:AssumeRole' }] });
const TRUST_ACCOUNT = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'sts:AssumeRole' }] });
/** Well-formed values by member name (ECS types most strings as plain String: the name says what it is). */
const KNOWN: Record<string, readonly string[]> = {
  cluster: ['fuzz', CLUSTER_ARN, 'default'],
  clusterName: ['fuzz', 'fuzz-2'],
  clusters: ['fuzz', CLUSTER_ARN],
  taskDefinition: ['fuzz', 'fuzz:1', TASK_DEFINITION_ARN],
  taskDefinitions: ['fuzz:1', TASK_DEFINITION_ARN],
  family: ['fuzz'],
  service: ['fuzz', 'fuzz-ext'],
  services: ['fuzz', 'fuzz-ext'],
  serviceName: ['fuzz', 'fuzz-ext'],
  familyPrefix: ['fuzz', 'fu'],
  resourceArn: [CLUSTER_ARN, TASK_DEFINITION_ARN, REPOSITORY_ARN],
  repositoryName: ['fuzz'],
  repositoryNames: ['fuzz'],
  registryId: [ACCOUNT],
  image: ['nginx:latest', 'busybox'],
  name: ['fuzz'],
  containerName: ['fuzz'],
  imageTag: ['latest', 'v1'],
  imageDigest: [DIGEST],
  layerDigest: [DIGEST],
  layerDigests: [DIGEST],
  uploadId: ['00000000-0000-0000-0000-000000000000'],
  containerInstance: ['0123456789abcdef0123456789abcdef'],
  containerInstances: ['0123456789abcdef0123456789abcdef'],
  tasks: ['0123456789abcdef0123456789abcdef'],
  task: ['0123456789abcdef0123456789abcdef'],
  key: ['env', 'team'],
  tagKeys: ['env', 'team'],
  value: ['prod', 'a'],
  cpu: ['256', '1 vCPU'],
  memory: ['512', '1GB'],
  // IAM and STS (awsQuery) name their members in UpperCamelCase.
  UserName: ['fuzz'],
  RoleName: ['fuzz'],
  GroupName: ['fuzz'],
  PolicyName: ['fuzz'],
  PolicyArn: [POLICY_ARN, 'arn:aws:iam::aws:policy/ReadOnlyAccess'],
  PermissionsBoundary: [POLICY_ARN],
  PolicyDocument: [POLICY],
  Policy: [POLICY],
  AssumeRolePolicyDocument: [TRUST, TRUST_ACCOUNT],
  RoleArn: [ROLE_ARN],
  RoleSessionName: ['fuzz'],
  Path: ['/', '/fuzz/'],
  PathPrefix: ['/'],
  VersionId: ['v1'],
  Key: ['env', 'team'],
  Value: ['prod', 'a'],
  TagKeys: ['env', 'team'],
  // Parameter Store, Secrets Manager and CloudWatch Logs.
  Name: ['fuzz', '/fuzz/a'],
  Names: ['fuzz'],
  SecretId: ['fuzz'],
  logGroupName: ['fuzz'],
  logGroupIdentifier: ['fuzz'],
  logStreamName: ['fuzz'],
  // CloudWatch and Application Auto Scaling.
  AlarmName: ['fuzz'],
  AlarmNames: ['fuzz'],
  Namespace: ['Fuzz'],
  MetricName: ['Requests'],
  ResourceARN: [`arn:aws:cloudwatch:us-east-1:${ACCOUNT}:alarm:fuzz`],
  ServiceNamespace: ['ecs'],
  ResourceId: ['service/default/web'],
  ResourceIds: ['service/default/web'],
  ScalableDimension: ['ecs:service:DesiredCount'],
  Schedule: ['rate(5 minutes)', 'cron(0 12 * * ? *)', 'at(2030-01-01T00:00:00)'],
};
const ANY_KNOWN = [...new Set(Object.values(KNOWN).flat())];
/** Members whose well-formed value cannot be guessed: left out of well-formed inputs. */
const UNGUESSABLE = new Set(['nextToken', 'Marker']);

/** Members that hold an IAM policy document (identity, trust or session policy) in IAM and STS. */
const POLICY_MEMBER = /^(PolicyDocument|AssumeRolePolicyDocument|Policy)$/;
/** Policy documents built from the grammar's parts, right and wrong: what the policy parser and engine get to chew on. */
const POLICY_DOCUMENTS: fc.Arbitrary<string> = (() => {
  const text = fc.oneof(fc.constantFrom('*', 'ecs:*', 'ecs:List*', 'iam:PassRole', 'sts:AssumeRole', 'ecr:Get?uthorizationToken', 'arn:aws:ecs:*:*:cluster/*', `arn:aws:iam::${ACCOUNT}:root`, 'ecs-tasks.amazonaws.com', '', '${aws:username}', 'a:b:c:d:e:f'), fc.string({ maxLength: 12 }));
  const texts = fc.oneof(text, fc.array(text, { maxLength: 4 }));
  const conditionValue = fc.oneof(texts, fc.constantFrom<unknown>('10.0.0.0/8', '::1/128', '999.1.1.1/33', '2024-01-01T00:00:00Z', 'true', 1, true, null, [], {}, 1e308));
  const condition = fc.dictionary(
    fc.constantFrom('StringEquals', 'StringLike', 'StringNotEquals', 'IpAddress', 'NotIpAddress', 'DateGreaterThan', 'NumericLessThan', 'Bool', 'ArnLike', 'Null', 'ForAnyValue:StringEquals', 'ForAllValues:StringLike', 'StringEqualsIfExists', 'Bogus', '__proto__'),
    fc.dictionary(fc.constantFrom('aws:SourceIp', 'aws:CurrentTime', 'aws:ResourceTag/env', 'ecs:cluster', 'iam:PassedToService', 'aws:SecureTransport', 'constructor', 'x'), conditionValue, { maxKeys: 2 }),
    { maxKeys: 3 },
  );
  const principal = fc.oneof(fc.constant('*'), fc.dictionary(fc.constantFrom('AWS', 'Service', 'Federated', 'CanonicalUser', 'x'), texts, { maxKeys: 2 }));
  const statement = fc.record(
    {
      Sid: fc.string({ maxLength: 8 }),
      Effect: fc.constantFrom<unknown>('Allow', 'Deny', 'allow', 'Maybe', null),
      Action: texts,
      NotAction: texts,
      Resource: texts,
      NotResource: texts,
      Principal: principal,
      NotPrincipal: principal,
      Condition: condition,
    },
    { requiredKeys: [] },
  );
  const document = fc.record({ Version: fc.constantFrom<unknown>('2012-10-17', '2008-10-17', '2099-01-01', 1), Id: fc.string({ maxLength: 8 }), Statement: fc.oneof(statement, fc.array(statement, { maxLength: 3 })) }, { requiredKeys: ['Statement'] });
  return fc.oneof(
    { weight: 8, arbitrary: document.map((d) => JSON.stringify(d)) },
    { weight: 1, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: fc.constantFrom('['.repeat(5000), '{"Statement":'.repeat(2000), '{"Version":"2012-10-17","Statement":[]}', '{"__proto__":{"polluted":1},"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}', '{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"},"Statement":{"Effect":"Deny"}}', '{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}} trailing') },
  );
})();

const WRONG_TYPES = fc.constantFrom<unknown>(null, 0, -1, 1.5, '', 'x', true, [], {}, [null], { a: 1 });

/** Arbitraries for a model's shapes, each compiled once per depth. */
class ShapeArbitraries {
  private readonly cache = new Map<string, fc.Arbitrary<unknown>>();
  /** hostile: also boundary lengths and values ±1, nulls and wrong types; otherwise well-formed values. */
  constructor(
    private readonly model: ServiceModel,
    private readonly hostile: boolean,
  ) {}

  /** `member`: the structure member (or list) name the value is for, which picks well-formed strings. */
  of(shapeName: string, depth = 0, member = ''): fc.Arbitrary<unknown> {
    const key = `${shapeName}@${depth}@${member}`;
    let a = this.cache.get(key);
    if (!a) {
      a = this.build(this.model.shapes[shapeName]!, depth, member);
      this.cache.set(key, a);
    }
    return a;
  }

  /** Mostly well-typed values; now and then a null or a value of the wrong JSON type. */
  private noisy(a: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
    return this.hostile ? fc.oneof({ weight: 15, arbitrary: a }, { weight: 1, arbitrary: WRONG_TYPES }) : a;
  }

  /** The arbitrary alone when well-formed; with `edges` added (weighted 1 to its `weight`) when hostile. */
  private edged<T>(weight: number, a: fc.Arbitrary<T>, ...edges: fc.Arbitrary<T>[]): fc.Arbitrary<T> {
    return this.hostile && edges.length ? fc.oneof({ weight, arbitrary: a }, ...edges.map((e) => ({ weight: 1, arbitrary: e }))) : a;
  }

  private build(shape: Shape, depth: number, member: string): fc.Arbitrary<unknown> {
    switch (shape.type) {
      case 'structure': {
        const members = shape.members ?? {};
        if (depth >= MAX_DEPTH) return fc.constant({});
        const names = Object.keys(members).filter((name) => this.hostile || !UNGUESSABLE.has(name));
        const record = Object.fromEntries(names.map((name) => [name, this.noisy(this.of(members[name]!.shape, depth + 1, name))]));
        const required = (shape.required ?? []).filter((name) => names.includes(name));
        return this.edged(9, fc.record(record, { requiredKeys: required }), fc.record(record, { requiredKeys: [] }));
      }
      case 'list': {
        if (depth >= MAX_DEPTH) return fc.constant([]);
        const item = this.of(shape.member!.shape, depth + 1, member);
        const edges = [fc.array(fc.oneof(item, fc.constant(null)), { maxLength: 2 })];
        if (shape.max !== undefined && shape.max <= 200) edges.push(fc.array(item, { minLength: shape.max + 1, maxLength: shape.max + 1 }));
        return this.edged(10, fc.array(item, { minLength: shape.min ?? 0, maxLength: Math.min(Math.max(shape.max ?? 3, shape.min ?? 0), 3) }), ...edges);
      }
      case 'map': {
        if (depth >= MAX_DEPTH) return fc.constant({});
        const key = this.of(shape.key!.shape, depth + 1).filter((k): k is string => typeof k === 'string');
        return fc.dictionary(key, this.of(shape.value!.shape, depth + 1), { maxKeys: Math.min(shape.max ?? 3, 3) });
      }
      case 'string':
        return this.string(shape, member);
      case 'integer':
      case 'long': {
        // Counts and page sizes are small; other numbers (memory, ports) up to a few thousand.
        const small = /maxResults|count|Count$/.test(member);
        const lo = shape.min ?? (small ? 1 : 0);
        const hi = Math.min(shape.max ?? (small ? 10 : 4096), Number.MAX_SAFE_INTEGER);
        const edges = [0, -1, 1, 2 ** 31 - 1, 2 ** 31, -(2 ** 31), -(2 ** 31) - 1, 2 ** 53, 2 ** 63, 1e300];
        if (shape.min !== undefined) edges.push(shape.min - 1, shape.min);
        if (shape.max !== undefined) edges.push(shape.max, shape.max + 1);
        return this.edged(3, fc.integer({ min: lo, max: Math.max(lo, hi) }), fc.constantFrom(...edges));
      }
      case 'double':
      case 'float':
        return this.edged(1, fc.double({ min: shape.min ?? 0, max: shape.max ?? 1e6, noNaN: true }), fc.constantFrom(-1, 1e308, -1e308, (shape.min ?? 0) - 1, (shape.max ?? 1e6) + 1));
      case 'boolean':
        return fc.boolean();
      case 'timestamp':
        return this.edged(1, fc.integer({ min: 0, max: 4_000_000_000 }), fc.constantFrom<unknown>('2024-01-01T00:00:00Z', 'yesterday', 1e15, -1e13, 1.5));
      case 'blob':
        return this.edged(
          3,
          fc.uint8Array({ maxLength: 48 }).map((b) => Buffer.from(b).toString('base64')),
          fc.constantFrom('not base64 !!', ''),
        );
      default:
        return WRONG_TYPES;
    }
  }

  private string(shape: Shape, member: string): fc.Arbitrary<unknown> {
    if (shape.enum) return this.edged(8, fc.constantFrom(...shape.enum), fc.string({ maxLength: 12 }));
    const lengths = [0, 1, 300, 70_000];
    if (shape.min !== undefined) lengths.push(shape.min - 1, shape.min);
    if (shape.max !== undefined) lengths.push(shape.max, shape.max + 1);
    // Well-formed strings are names that exist or short lowercase words (most name patterns accept them).
    const known = Object.hasOwn(KNOWN, member) ? KNOWN[member]! : undefined;
    const word = POLICY_MEMBER.test(member) ? POLICY_DOCUMENTS : fc.stringMatching(/^[a-z][a-z0-9-]{1,15}$/);
    const wellFormed = known ? fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...known) }, { weight: 2, arbitrary: word }) : word;
    return this.edged(
      4,
      wellFormed,
      fc.constantFrom(...ANY_KNOWN),
      fc.string({ maxLength: 24 }),
      fc.string({ unit: 'grapheme', maxLength: 12 }),
      fc.constantFrom(...lengths.filter((n) => n >= 0 && n <= 100_000)).map((n) => 'a'.repeat(n)),
      fc.constantFrom('__proto__', 'constructor', 'toString', '../../etc/passwd', 'a:b:c', 'arn:aws:ecs:us-east-1:1:x/y', '*', '%00', '\u0000'),
    );
  }
}

/** A whole request body: mostly the input shape as JSON, sometimes not JSON of an object at all. */
function bodies(arbs: { clean: ShapeArbitraries; hostile: ShapeArbitraries }, inputShape: string | undefined): fc.Arbitrary<string> {
  const json = (a: ShapeArbitraries) => (inputShape ? a.of(inputShape) : fc.constant({})).map((v) => JSON.stringify(v));
  return fc.oneof(
    { weight: 12, arbitrary: json(arbs.clean) },
    { weight: 12, arbitrary: json(arbs.hostile) },
    { weight: 1, arbitrary: fc.constantFrom('', '[]', 'null', '"s"', '{', '{"a":', '1e999') },
  );
}

/** A scalar as the query protocol writes it: booleans and numbers as text, timestamps in ISO 8601. */
function queryText(shape: Shape, value: unknown): string {
  if (shape.type === 'timestamp' && typeof value === 'number') {
    const date = new Date(value * 1000);
    if (!Number.isNaN(date.getTime())) return date.toISOString();
  }
  return typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
}

/**
 * `value` (a generated input, hostile ones included) as awsQuery form pairs, as the SDKs encode
 * `ref`'s shape: `A.B` for structures, `L.member.N` (flattened `L.N`) for lists, `M.entry.N.key`
 * / `.value` for maps, `L=` for an empty list. Values of the wrong type become text in place.
 */
function queryPairs(model: ServiceModel, ref: ShapeRef, value: unknown, prefix = '', out: [string, string][] = []): [string, string][] {
  const shape = model.shapes[ref.shape]!;
  const flattened = ref.flattened ?? shape.flattened ?? false;
  const at = (name: string) => (prefix ? `${prefix}.${name}` : name);
  if (value === undefined) return out;
  if (value === null) out.push([prefix, '']);
  else if (shape.type === 'structure' && typeof value === 'object' && !Array.isArray(value)) {
    const obj = value as Record<string, unknown>;
    for (const [name, member] of Object.entries(shape.members ?? {})) if (Object.hasOwn(obj, name)) queryPairs(model, member, obj[name], at(member.locationName ?? name), out);
  } else if (shape.type === 'list' && Array.isArray(value)) {
    if (value.length === 0) out.push([prefix, '']);
    const item = flattened ? '' : `${shape.member!.locationName ?? 'member'}.`;
    value.forEach((v, i) => queryPairs(model, shape.member!, v, at(`${item}${i + 1}`), out));
  } else if (shape.type === 'map' && typeof value === 'object' && !Array.isArray(value)) {
    const entry = flattened ? '' : 'entry.';
    Object.entries(value).forEach(([k, v], i) => {
      out.push([at(`${entry}${i + 1}.${shape.key!.locationName ?? 'key'}`), k]);
      queryPairs(model, shape.value!, v, at(`${entry}${i + 1}.${shape.value!.locationName ?? 'value'}`), out);
    });
  } else out.push([prefix, queryText(shape, value)]);
  return out;
}

const formEncode = (pairs: readonly (readonly [string, string])[]) => pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');

/**
 * Ways to mangle an encoded form that no SDK would send: each takes the form's raw `k=v`
 * segments (Action and Version first) and a random number, and answers new segments.
 */
const FORM_MANGLERS: ((segments: string[], r: number) => string[])[] = [
  // The same key twice, with another value.
  (s, r) => (s.length > 2 ? [...s, `${s[2 + (r % (s.length - 2))]!.split('=')[0]}=other`] : [...s, 'Action=ListUsers']),
  // List indices that are not 1..N: 0, negative, huge, not a number.
  (s, r) => {
    const keys = s.slice(2).map((x) => x.split('=')[0]!);
    const list = keys.find((k) => /\.member\.[0-9]+/.test(k))?.replace(/\.member\.[0-9]+.*$/, '') ?? keys[0] ?? 'Tags';
    const index = ['0', '-1', '99999999', '4294967297', '1e3', '01', '', 'x'][r % 8];
    return [...s, `${encodeURIComponent(`${list}.member.${index}`)}=x`, `${encodeURIComponent(`${list}.entry.${index}.key`)}=k`];
  },
  // Prototype keys at the top and inside structures, lists and maps.
  (s, r) => {
    const base = s.slice(2).map((x) => decodeURIComponent(x.split('=')[0]!).replace(/\.[^.]*$/, ''))[0] ?? 'Tags';
    const name = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'][r % 6]!;
    return [...s, `${name}=x`, `${name}.polluted=1`, `${encodeURIComponent(`${base}.${name}`)}=x`, `${encodeURIComponent(`${base}.member.1.${name}`)}=x`, `${encodeURIComponent(`${base}.entry.1.key`)}=${name}`, `constructor.prototype.polluted=1`];
  },
  // No Version, a wrong Version, or an Action that names an object's property.
  (s, r) => [[s[0]!], [s[0]!, 'Version=1999-01-01'], ['Action=constructor', s[1]!], ['Action=__proto__', s[1]!], ['Action=toString', s[1]!], ['Action=', s[1]!]][r % 6]!.concat(s.slice(2)),
  // Percent escapes that are not UTF-8 (or not escapes at all), in values and keys.
  (s, r) => {
    const bad = ['%FF%FE', '%C0%AE', '%ED%A0%80', '%E2%82', '%', '%zz', '%00'][r % 7]!;
    return s.map((x, i) => (i >= 2 && i % 2 === r % 2 ? `${x}${bad}` : x)).concat([`${bad}=1`]);
  },
  // Very long values and keys.
  (s, r) => {
    const long = 'a'.repeat([1_000, 70_000, 1_000_000][r % 3]!);
    return s.length > 2 ? s.map((x, i) => (i === 2 + (r % (s.length - 2)) ? `${x.split('=')[0]}=${long}` : x)) : [...s, `${long}=1`, `UserName=${long}`];
  },
  // Separators out of place: empty segments, keys without '=', dots only.
  (s) => [...s, '', '=', 'UserName', '..=1', '.=1', 'a..b=1', '&&'],
];

/** A whole awsQuery form: the input shape encoded as AWS does, or that form mangled (1 in 3). */
function forms(arbs: { clean: ShapeArbitraries; hostile: ShapeArbitraries }, model: ServiceModel, action: string, inputShape: string | undefined): fc.Arbitrary<string> {
  const head = [`Action=${action}`, `Version=${model.metadata.apiVersion}`];
  const encoded = (a: ShapeArbitraries) =>
    (inputShape ? a.of(inputShape) : fc.constant({})).map((v) => [...head, ...(inputShape ? queryPairs(model, { shape: inputShape }, v) : []).map(([k, x]) => formEncode([[k, x]]))]);
  const segments = fc.oneof({ weight: 1, arbitrary: encoded(arbs.clean) }, { weight: 1, arbitrary: encoded(arbs.hostile) });
  const mangled = fc.tuple(segments, fc.nat(FORM_MANGLERS.length - 1), fc.nat()).map(([s, m, r]) => FORM_MANGLERS[m]!(s, r));
  return fc.oneof({ weight: 2, arbitrary: segments }, { weight: 1, arbitrary: mangled }).map((s) => s.join('&'));
}

/** Files under the data dir with their sizes (the SQLite files excluded: the change index covers them). */
function files(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (!e.name.startsWith('dockyard.db')) out.push(`${p}:${statSync(p).size}`);
    }
  };
  walk(dir);
  return out.sort();
}

function assertAwsError(res: RawResponse, allowed: Set<string>, what: string) {
  assert.ok(res.json, `${what}: error body is JSON: ${res.text.slice(0, 300)}`);
  const type = res.json.__type;
  assert.equal(typeof type, 'string', `${what}: __type in ${res.text.slice(0, 300)}`);
  assert.equal(res.headers['x-amzn-errortype'], type, `${what}: x-amzn-ErrorType`);
  assert.equal(typeof res.json.message, 'string', `${what}: message in ${res.text.slice(0, 300)}`);
  assert.match(String(res.headers['content-type']), /application\/x-amz-json-1\.[01]/, what);
  assert.ok(allowed.has(type as string), `${what}: ${type} is not an error the operation models (${[...allowed].join(', ')}): ${res.text.slice(0, 300)}`);
  return type as string;
}

const xml = new XMLParser({ parseTagValue: false, ignoreAttributes: false, attributeNamePrefix: '@_' });

/** The awsQuery ErrorResponse (IAM's and STS's XML shape) with a code the operation may answer; its code. */
function assertQueryError(res: RawResponse, model: ServiceModel, allowed: Set<string>, what: string): string {
  assert.match(String(res.headers['content-type']), /text\/xml/, `${what}: content-type`);
  const doc = xml.parse(res.text) as { ErrorResponse?: { '@_xmlns'?: string; Error?: Record<string, unknown>; RequestId?: unknown } };
  const error = doc.ErrorResponse?.Error;
  assert.ok(error, `${what}: an ErrorResponse: ${res.text.slice(0, 300)}`);
  assert.equal(error.Type, 'Sender', `${what}: a 4xx is the sender's fault: ${res.text.slice(0, 300)}`);
  assert.equal(typeof error.Code, 'string', `${what}: Code in ${res.text.slice(0, 300)}`);
  assert.equal(typeof error.Message, 'string', `${what}: Message in ${res.text.slice(0, 300)}`);
  assert.equal(typeof doc.ErrorResponse!.RequestId, 'string', `${what}: RequestId`);
  assert.equal(doc.ErrorResponse!['@_xmlns'], model.metadata.xmlNamespace, `${what}: the service's namespace`);
  const code = error.Code as string;
  assert.ok(allowed.has(code), `${what}: ${code} is not an error the operation models (${[...allowed].join(', ')}): ${res.text.slice(0, 300)}`);
  return code;
}

/** The codes an awsQuery operation may answer: its modeled exceptions' wire codes and the common errors. */
function queryErrorCodes(model: ServiceModel, errors: readonly { shape: string }[]): Set<string> {
  return new Set([...errors.map((e) => model.shapes[e.shape]?.error?.code ?? e.shape), ...QUERY_COMMON_ERRORS]);
}

describe('model-driven fuzzing of every implemented operation', () => {
  let t: TestDockyard;
  before(async () => {
    t = await startDockyard({ registryGcIntervalSeconds: 0, ecrLifecycleIntervalSeconds: 0, loadBalancing: { dataPlane: false }, metrics: { alarmEvaluationIntervalMs: 0, scheduledActionIntervalMs: 0, containerInsightsIntervalMs: 0 }, serviceController: false });
  });
  after(() => t.stop());

  /**
   * An IAM user in the fuzzed group `fuzz` that signs a quarter of the requests, so the policy
   * engine evaluates every operation against whatever policies the fuzzer attached to the group.
   * Its name is not in KNOWN: the fuzzer does not delete it or its key.
   */
  let caller: Credentials | undefined;
  async function seedCaller(iam: (action: string, params: Record<string, string>) => Promise<RawResponse>) {
    await iam('AddUserToGroup', { GroupName: 'fuzz', UserName: 'fuzz-caller' });
    if (caller) return;
    await iam('CreateUser', { UserName: 'fuzz-caller' });
    await iam('AddUserToGroup', { GroupName: 'fuzz', UserName: 'fuzz-caller' });
    const key = (xml.parse((await iam('CreateAccessKey', { UserName: 'fuzz-caller' })).text) as { CreateAccessKeyResponse: { CreateAccessKeyResult: { AccessKey: { AccessKeyId: string; SecretAccessKey: string } } } })
      .CreateAccessKeyResponse.CreateAccessKeyResult.AccessKey;
    caller = { accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey };
  }

  /** The resources KNOWN names, (re)created before each operation's run. */
  async function seed() {
    const ecs = (op: string, body: object) => postSigned(t.endpoint, { service: 'ecs', target: `AmazonEC2ContainerServiceV20141113.${op}`, body: JSON.stringify(body) });
    const ecr = (op: string, body: object) => postSigned(t.endpoint, { service: 'ecr', target: `AmazonEC2ContainerRegistry_V20150921.${op}`, body: JSON.stringify(body) });
    await ecs('CreateCluster', { clusterName: 'fuzz' });
    await ecs('RegisterTaskDefinition', { family: 'fuzz', containerDefinitions: [{ name: 'fuzz', image: 'nginx:latest', memory: 64 }] });
    await ecr('CreateRepository', { repositoryName: 'fuzz' });
    // Services (the controller is off: nothing reconciles them in the background), one of them EXTERNAL for task sets.
    await ecs('CreateService', { cluster: 'fuzz', serviceName: 'fuzz', taskDefinition: 'fuzz:1', desiredCount: 0 });
    await ecs('CreateService', { cluster: 'fuzz', serviceName: 'fuzz-ext', desiredCount: 0, deploymentController: { type: 'EXTERNAL' } });
    const iam = (action: string, params: Record<string, string>) =>
      postSignedForm(t.endpoint, { service: 'iam', body: formEncode([['Action', action], ['Version', '2010-05-08'], ...Object.entries(params)]) });
    await iam('CreateUser', { UserName: 'fuzz' });
    await iam('CreateGroup', { GroupName: 'fuzz' });
    await iam('CreateRole', { RoleName: 'fuzz', AssumeRolePolicyDocument: TRUST_ACCOUNT });
    await iam('CreatePolicy', { PolicyName: 'fuzz', PolicyDocument: POLICY });
    await seedCaller(iam);
    const json11 = (service: string, target: string) => (op: string, body: object) => postSigned(t.endpoint, { service, target: `${target}.${op}`, body: JSON.stringify(body) });
    await json11('ssm', 'AmazonSSM')('PutParameter', { Name: 'fuzz', Value: 'v', Type: 'String', Overwrite: true });
    await json11('secretsmanager', 'secretsmanager')('CreateSecret', { Name: 'fuzz', SecretString: 'v' });
    const logs = json11('logs', 'Logs_20140328');
    await logs('CreateLogGroup', { logGroupName: 'fuzz' });
    await logs('CreateLogStream', { logGroupName: 'fuzz', logStreamName: 'fuzz' });
    const cw = (op: string, body: object) => postSigned(t.endpoint, { service: 'monitoring', target: `GraniteServiceVersion20100801.${op}`, body: JSON.stringify(body) });
    await cw('PutMetricData', { Namespace: 'Fuzz', MetricData: [{ MetricName: 'Requests', Value: 1 }] });
    await cw('PutMetricAlarm', { AlarmName: 'fuzz', Namespace: 'Fuzz', MetricName: 'Requests', Statistic: 'Sum', Period: 60, EvaluationPeriods: 1, Threshold: 1, ComparisonOperator: 'GreaterThanThreshold' });
  }

  /** How a service's requests are written, sent and their answers checked, by protocol. */
  function wireOf(service: ServiceModule, op: string, arbs: { clean: ShapeArbitraries; hostile: ShapeArbitraries }, protocol: WireProtocol) {
    const operation = service.model.operations[op]!;
    const errors = operation.errors ?? [];
    if (protocol === 'rpcv2Cbor') {
      const allowed = new Set([...errors.map((e) => e.shape), service.validationErrorCode, ...FRAMEWORK_ERRORS]);
      const asCbor = (body: string): Uint8Array => {
        try {
          return encode(JSON.parse(body));
        } catch {
          return Buffer.from(body);
        }
      };
      return {
        requests: bodies(arbs, operation.input?.shape),
        send: (body: string, credentials?: Credentials) =>
          postSignedCbor(t.endpoint, { service: signingName(service), targetPrefix: service.model.metadata.targetPrefix!, operation: op, body: asCbor(body), credentials }),
        assertOk: (res: RawResponse, what: string) => assert.ok(res.json, `${what}: 200 with a CBOR body (or none)`),
        assertError: (res: RawResponse, what: string) => {
          assert.ok(res.json, `${what}: error body is CBOR: ${res.text.slice(0, 300)}`);
          const type = res.json.__type as string;
          assert.equal(res.headers['x-amzn-errortype'], type, `${what}: x-amzn-ErrorType`);
          assert.equal(typeof res.json.message, 'string', `${what}: message in ${res.text.slice(0, 300)}`);
          assert.equal(res.headers['smithy-protocol'], 'rpc-v2-cbor', what);
          assert.ok(allowed.has(type), `${what}: ${type} is not an error the operation models (${[...allowed].join(', ')}): ${res.text.slice(0, 300)}`);
          return type;
        },
      };
    }
    if (protocol === 'awsQuery') {
      const allowed = queryErrorCodes(service.model, errors);
      return {
        requests: forms(arbs, service.model, op, operation.input?.shape),
        send: (body: string, credentials?: Credentials) => postSignedForm(t.endpoint, { service: signingName(service), body, credentials }),
        assertOk: (res: RawResponse, what: string) => {
          const doc = xml.parse(res.text) as Record<string, unknown>;
          assert.ok(doc[`${op}Response`], `${what}: 200 with an ${op}Response: ${res.text.slice(0, 300)}`);
        },
        assertError: (res: RawResponse, what: string) => assertQueryError(res, service.model, allowed, what),
      };
    }
    const allowed = new Set([...errors.map((e) => e.shape), service.validationErrorCode, ...FRAMEWORK_ERRORS]);
    const target = `${service.model.metadata.targetPrefix}.${op}`;
    return {
      requests: bodies(arbs, operation.input?.shape),
      send: (body: string, credentials?: Credentials) => postSigned(t.endpoint, { service: signingName(service), target, body, credentials }),
      // An event-stream operation (StartLiveTail) answers 200 with a stream of events, not JSON.
      assertOk: (res: RawResponse, what: string) => assert.ok(res.json || String(res.headers['content-type']).startsWith('application/vnd.amazon.eventstream'), `${what}: 200 with a JSON body`),
      assertError: (res: RawResponse, what: string) => assertAwsError(res, allowed, what),
    };
  }

  test('no 5xx, AWS-shaped 4xx, and no state change on failure', { timeout: BUDGET_MS + 60_000 }, async (ctx) => {
    ctx.diagnostic(`fuzz seed ${SEED} (replay with FUZZ_SEED=${SEED})`);
    console.log(`fuzz seed ${SEED} (replay with FUZZ_SEED=${SEED})`);
    // Every protocol each service serves (CloudWatch: JSON 1.0, awsQuery and RPC v2 CBOR).
    const FUZZED: readonly WireProtocol[] = ['awsJson1_1', 'awsJson1_0', 'awsQuery', 'rpcv2Cbor'];
    const wires = t.app.services.flatMap((service) => [service.protocol, ...(service.alsoServes ?? [])].filter((p) => FUZZED.includes(p)).map((protocol) => ({ service, protocol })));
    for (const s of t.app.services) if (!wires.some((w) => w.service === s)) ctx.diagnostic(`not fuzzed (protocol ${s.protocol}): ${s.name}`);
    const targets = wires.flatMap(({ service, protocol }) => Object.keys(service.operations).filter((op) => Object.hasOwn(service.model.operations, op)).map((op) => ({ service, op, protocol })));
    assert.ok(targets.length > 40, `every implemented operation is walked (${targets.length})`);
    for (const name of ['ecs', 'ecr', 'iam', 'sts', 'monitoring', 'application-autoscaling']) assert.ok(targets.some((x) => x.service.name === name), `${name} is fuzzed`);
    for (const protocol of FUZZED) assert.ok(targets.some((x) => x.protocol === protocol), `${protocol} is fuzzed`);

    const deadline = Date.now() + BUDGET_MS;
    const arbsOf = new Map<ServiceModule, { clean: ShapeArbitraries; hostile: ShapeArbitraries }>();
    const errorsSeen = new Map<string, number>();
    const stats = { requests: 0, ok: 0, clientErrors: 0, callerOk: 0 };
    const byProtocol = new Map<string, { requests: number; ok: number }>();
    for (const [i, { service, op, protocol }] of targets.entries()) {
      const arbs = arbsOf.get(service) ?? { clean: new ShapeArbitraries(service.model, false), hostile: new ShapeArbitraries(service.model, true) };
      arbsOf.set(service, arbs);
      const wire = wireOf(service, op, arbs, protocol);
      await seed();
      const budget = Math.max(200, (deadline - Date.now()) / (targets.length - i));
      const started = Date.now();
      const requestsBefore = stats.requests;
      // The request of a run the time limit interrupted: awaited before anything else is sent.
      let inFlight: Promise<unknown> = Promise.resolve();
      const property = fc.asyncProperty(wire.requests, fc.nat(3), async (body, signer) => {
        const asCaller = signer === 0;
        const changeIndex = t.app.store.changeIndex();
        const before = files(t.dataDir);
        const sent = Date.now();
        const pending = wire.send(body, asCaller ? caller : undefined);
        inFlight = pending.catch(() => undefined);
        const res = await pending;
        stats.requests += 1;
        const protocolStats = byProtocol.get(protocol) ?? { requests: 0, ok: 0 };
        byProtocol.set(protocol, protocolStats);
        protocolStats.requests += 1;
        if (process.env.FUZZ_VERBOSE && Date.now() - sent > 50) console.log(`slow: ${Date.now() - sent} ms ${service.name} ${op} ${body.length} bytes ${body.slice(0, 120)}`);
        const what = `${service.name} ${op} (${protocol})${asCaller ? ' (signed by fuzz-caller)' : ''} ${body.slice(0, 500)}`;
        // The server runs in this process: a `__proto__` or `constructor.prototype` key must not have reached a prototype.
        assert.equal(({} as Record<string, unknown>).polluted, undefined, `${what}: Object.prototype was polluted`);
        assert.ok(res.status < 500, `${what}: answered ${res.status} ${res.text.slice(0, 300)}`);
        if (res.status === 200) {
          stats.ok += 1;
          protocolStats.ok += 1;
          if (asCaller) stats.callerOk += 1;
          wire.assertOk(res, what);
          return;
        }
        stats.clientErrors += 1;
        const code = wire.assertError(res, what);
        const key = `${op} ${code} ${res.text.replace(/.*<Message>|.*"message":"/s, '').slice(0, 60)}`;
        errorsSeen.set(key, (errorsSeen.get(key) ?? 0) + 1);
        assert.equal(t.app.store.changeIndex(), changeIndex, `${what}: a failed call (${code}) committed a write`);
        assert.deepEqual(files(t.dataDir), before, `${what}: a failed call (${code}) changed files`);
      });
      const runs = { seed: SEED + i, includeErrorInReport: true };
      try {
        await fc.assert(property, { ...runs, numRuns: RUNS, interruptAfterTimeLimit: budget, markInterruptAsFailure: false });
      } catch (err) {
        // A slow first request (the machine is shared) can use the whole slice: then one run without a limit.
        if (!/^Property interrupted after 0 tests/.test((err as Error).message)) throw err;
        await inFlight;
        await fc.assert(property, { ...runs, numRuns: 1 });
      }
      await inFlight;
      if (process.env.FUZZ_VERBOSE) console.log(`${service.name} ${op} (${protocol}): ${stats.requests - requestsBefore} requests in ${Date.now() - started} ms (budget ${Math.round(budget)})`);
    }
    ctx.diagnostic(`${targets.length} operations, ${stats.requests} requests: ${stats.ok} answered 200 (${stats.callerOk} of them signed by fuzz-caller), ${stats.clientErrors} 4xx`);
    if (process.env.FUZZ_VERBOSE) for (const [k, n] of [...errorsSeen].sort((a, b) => b[1] - a[1]).slice(0, 80)) console.log(n, k);
    // The generators must reach past validation: a fuzzer whose every request fails proves little.
    for (const [protocol, { requests, ok }] of byProtocol) {
      ctx.diagnostic(`${protocol}: ${requests} requests, ${ok} answered 200`);
      assert.ok(ok > requests / 10, `${protocol}: at least a tenth of the requests succeed (${ok}/${requests})`);
    }
  });
});
