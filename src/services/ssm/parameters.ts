/**
 * Parameter Store: parameters with versions, labels and tags. SecureString values are sealed
 * with the data dir's SecretBox before they reach the store and opened only for callers that
 * ask WithDecryption (and for the agent that runs a task referencing them).
 */
import { runInNewContext } from 'node:vm';
import type {
  DescribeParametersRequest,
  GetParameterHistoryRequest,
  GetParametersByPathRequest,
  LabelParameterVersionRequest,
  ParameterStringFilter,
  PutParameterRequest,
  UnlabelParameterVersionRequest,
} from '../../aws/generated/ssm.js';
import type { Clock } from '../../core/clock.js';
import { ConflictError } from '../../core/errors.js';
import type { AwsError } from '../../aws/errors.js';
import { InvalidTokenError, positionToken, tokenPosition } from '../../core/pagination.js';
import type { SecretBox } from '../../core/secret-box.js';
import * as c from '../../store/collections.js';
import type { SsmParameterDoc, SsmParameterVersion } from '../../store/collections.js';
import type { Store, StoreTx } from '../../store/store.js';
import * as err from './errors.js';

export interface Scope {
  accountId: string;
  region: string;
}
interface Ctx extends Scope {
  caller: { arn: string };
}

export type ParameterType = SsmParameterVersion['type'];
export const DEFAULT_KEY_ID = 'alias/aws/ssm';
const STANDARD_MAX_VALUE = 4096;
const ADVANCED_MAX_VALUE = 8192;
const MAX_VERSIONS = 100;
const MAX_LABELS_PER_VERSION = 10;
const MAX_TAGS = 50;
const MAX_DEPTH = 15;
const NAME_CHARS = /^[a-zA-Z0-9_.\-/]+$/;
const LABEL_CHARS = /^[a-zA-Z0-9_.-]+$/;

const pk = (scope: Scope, name: string) => `${scope.accountId}:${scope.region}:${name}`;

export function parameterArn(scope: Scope, name: string): string {
  return `arn:aws:ssm:${scope.region}:${scope.accountId}:parameter${name.startsWith('/') ? '' : '/'}${name}`;
}

/** A reference as callers write it: a name or ARN, optionally with `:version` or `:label`. */
export interface ParameterRef {
  /** Candidate names, in the order to try (an ARN does not say whether the name had a leading slash). */
  names: string[];
  /** As the caller wrote it, for error messages and InvalidParameters. */
  shown: string;
  selector?: { version: number } | { label: string };
  selectorText?: string;
  /** The region and account an ARN named (a parameter elsewhere is not found here). */
  owner?: Scope;
}

export function parseRef(text: string): ParameterRef {
  let rest = text;
  let fromArn = false;
  const arn = /^arn:aws[\w-]*:ssm:([^:]*):(\d{12}):parameter\/(.+)$/.exec(text);
  let owner: Scope | undefined;
  if (arn) {
    rest = arn[3]!;
    fromArn = true;
    owner = { region: arn[1]!, accountId: arn[2]! };
  }
  const colon = rest.indexOf(':');
  const name = colon >= 0 ? rest.slice(0, colon) : rest;
  const sel = colon >= 0 ? rest.slice(colon + 1) : undefined;
  const names = fromArn ? (name.includes('/') ? [`/${name}`] : [name, `/${name}`]) : [name];
  const ref: ParameterRef = { names, shown: text, owner };
  if (sel !== undefined) {
    ref.selectorText = `:${sel}`;
    ref.selector = /^\d+$/.test(sel) ? { version: Number(sel) } : { label: sel };
  }
  return ref;
}

/** What GetParameter answers for one version. */
export interface ParameterView {
  Name: string;
  Type: ParameterType;
  Value: string;
  Version: number;
  Selector?: string;
  LastModifiedDate: number;
  ARN: string;
  DataType: string;
}

export class Parameters {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly box: SecretBox,
  ) {}

  async put(ctx: Ctx, input: PutParameterRequest): Promise<{ Version: number; Tier: string }> {
    const name = checkName(input.Name);
    if (input.Tags?.length && input.Overwrite) {
      throw err.validation(
        "Invalid request: tags and overwrite can't be used together. To create a parameter with tags, please remove overwrite flag. To update tags for an existing parameter, please use AddTagsToResource or RemoveTagsFromResource.",
      );
    }
    if (input.KeyId !== undefined && input.Type !== undefined && input.Type !== 'SecureString') {
      throw err.validation('KeyId is required for SecureString type parameter only.');
    }
    if (input.Value.length === 0) throw err.validation("1 validation error detected: Value '' at 'value' failed to satisfy constraint: Member must have length greater than or equal to 1.");
    const dataType = input.DataType ?? 'text';
    if (!['text', 'aws:ec2:image', 'aws:ssm:integration'].includes(dataType)) {
      throw err.validation('The following data type is not supported: ' + dataType + ' (Data type names are all lowercase.)');
    }
    if (input.AllowedPattern !== undefined) checkPattern(input.AllowedPattern, input.Value);
    if (input.Type === 'StringList' && input.Value.split(',').some((v) => v === '')) {
      // StringList items are non-empty (AWS rejects "a,,b").
      throw err.validation('Parameter value for a StringList cannot contain empty list items.');
    }
    if (input.Policies !== undefined) checkPolicies(input.Policies);
    const tags = checkTags(input.Tags ?? [], () => err.validation(`The Tags parameter contains more than ${MAX_TAGS} tags.`));
    const now = this.clock.now();
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.store.write(async (tx) => {
          const row = await tx.get(c.ssmParameters, pk(ctx, name));
          if (row && !input.Overwrite) throw err.alreadyExists();
          const prev = row?.data.versions[row.data.versions.length - 1];
          const type = input.Type ?? prev?.type;
          if (!type) throw err.validation('A parameter type is required when you create a parameter.');
          if (input.KeyId !== undefined && type !== 'SecureString') throw err.validation('KeyId is required for SecureString type parameter only.');
          const tier = resolveTier(input.Tier, prev?.tier, input.Value.length, input.Policies !== undefined);
          const max = tier === 'Advanced' ? ADVANCED_MAX_VALUE : STANDARD_MAX_VALUE;
          if (input.Value.length > max) {
            throw err.validation(
              tier === 'Advanced'
                ? `Advanced tier parameters support a maximum parameter value of ${ADVANCED_MAX_VALUE} characters.`
                : `Standard tier parameters support a maximum parameter value of ${STANDARD_MAX_VALUE} characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier. For more information, see https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html`,
            );
          }
          const version: SsmParameterVersion = {
            version: (row?.data.version ?? 0) + 1,
            type,
            ...(type === 'SecureString' ? { sealed: this.box.seal(input.Value) } : { value: input.Value }),
            labels: [],
            lastModifiedDate: now,
            lastModifiedUser: ctx.caller.arn,
            description: input.Description ?? prev?.description,
            allowedPattern: input.AllowedPattern ?? prev?.allowedPattern,
            keyId: type === 'SecureString' ? (input.KeyId ?? prev?.keyId ?? DEFAULT_KEY_ID) : undefined,
            tier,
            dataType,
            policies: input.Policies ?? prev?.policies,
          };
          if (!row) {
            await tx.insert(c.ssmParameters, pk(ctx, name), {
              accountId: ctx.accountId,
              region: ctx.region,
              name,
              arn: parameterArn(ctx, name),
              version: 1,
              versions: [version],
              tags,
            });
          } else {
            const versions = [...row.data.versions, version];
            if (versions.length > MAX_VERSIONS) {
              if (versions[0]!.labels.length > 0) throw err.maxVersions(name);
              versions.shift();
            }
            await tx.update(c.ssmParameters, row, { ...row.data, version: version.version, versions });
          }
          return { Version: version.version, Tier: tier };
        });
      } catch (e) {
        // Two first puts of one name race on the insert: the loser sees the winner's row.
        if (!(e instanceof ConflictError)) throw e;
        if (attempt >= 2) throw err.tooManyUpdates();
      }
    }
  }

  /** One parameter version as GetParameter answers it; the value decrypted only when asked. */
  async get(scope: Scope, text: string, withDecryption: boolean): Promise<ParameterView> {
    const ref = parseRef(text);
    const doc = await this.store.read((tx) => this.findDoc(tx, scope, ref));
    if (!doc) throw err.parameterNotFound(text);
    return this.view(doc, pick(doc, ref), ref, withDecryption);
  }

  /** The same lookup GetParameters answers per name: undefined when the parameter or its selector does not exist. */
  async getMany(scope: Scope, names: readonly string[], withDecryption: boolean): Promise<{ Parameters: ParameterView[]; InvalidParameters: string[] }> {
    const out: ParameterView[] = [];
    const invalid: string[] = [];
    const docs = await this.store.read(async (tx) => Promise.all(names.map(async (n) => [n, await this.findDoc(tx, scope, parseRef(n))] as const)));
    for (const [n, doc] of docs) {
      const ref = parseRef(n);
      let version: SsmParameterVersion | undefined;
      try {
        version = doc ? pick(doc, ref) : undefined;
      } catch {
        version = undefined;
      }
      if (!doc || !version) invalid.push(n);
      else if (!out.some((p) => p.Name === doc.name && p.Selector === ref.selectorText)) out.push(this.view(doc, version, ref, withDecryption));
    }
    return { Parameters: out, InvalidParameters: invalid };
  }

  async byPath(scope: Scope, input: GetParametersByPathRequest) {
    const path = input.Path;
    if (!path.startsWith('/') || (path.length > 1 && !NAME_CHARS.test(path))) {
      throw err.validation('The parameter doesn\'t meet the parameter name requirements. The parameter name must begin with a forward slash "/".');
    }
    if (depth(path) > MAX_DEPTH) throw err.hierarchyLimit();
    const prefix = path.endsWith('/') ? path : `${path}/`;
    const filters = (input.ParameterFilters ?? []).map((f) => {
      if (!['Type', 'KeyId', 'Label'].includes(f.Key) && !f.Key.startsWith('tag:')) {
        throw err.invalidFilterKey(`The following filter key is not valid: ${f.Key}. Valid filter keys include: [Type, KeyId, Label, tag:<key>].`);
      }
      return compileFilter(f);
    });
    const page = await this.scan(
      scope,
      prefix,
      (doc) => (input.Recursive || !doc.name.slice(prefix.length).includes('/')) && filters.every((f) => f(doc)),
      Math.min(input.MaxResults ?? 10, 10),
      input.NextToken,
    );
    return {
      Parameters: page.items.map((doc) => this.view(doc, latest(doc), { names: [doc.name], shown: doc.name }, input.WithDecryption ?? false)),
      NextToken: page.nextToken,
    };
  }

  async describe(scope: Scope, input: DescribeParametersRequest) {
    const filters = [
      ...(input.Filters ?? []).map((f) => compileFilter({ Key: f.Key, Option: f.Key === 'Name' ? 'BeginsWith' : 'Equals', Values: f.Values })),
      ...(input.ParameterFilters ?? []).map(compileFilter),
    ];
    if (input.Filters?.length && input.ParameterFilters?.length) {
      throw err.validation('You can use either Filters or ParameterFilters in a single request.');
    }
    const page = await this.scan(scope, '', (doc) => filters.every((f) => f(doc)), Math.min(input.MaxResults ?? 50, 50), input.NextToken);
    return { Parameters: page.items.map((doc) => metadata(doc, latest(doc))), NextToken: page.nextToken };
  }

  async history(scope: Scope, input: GetParameterHistoryRequest) {
    const ref = parseRef(input.Name);
    const doc = await this.store.read((tx) => this.findDoc(tx, scope, ref));
    if (!doc) throw err.parameterNotFound(input.Name);
    const size = Math.min(input.MaxResults ?? 50, 50);
    let after: number | undefined;
    try {
      const pos = tokenPosition(input.NextToken, ['number']);
      after = pos ? Number(pos[0]) : undefined;
    } catch (e) {
      if (e instanceof InvalidTokenError) throw err.invalidNextToken();
      throw e;
    }
    const versions = doc.versions.filter((v) => after === undefined || v.version > after);
    const items = versions.slice(0, size);
    return {
      Parameters: items.map((v) => ({
        ...metadata(doc, v),
        Value: this.valueOf(v, input.WithDecryption ?? false),
        Labels: v.labels,
      })),
      NextToken: versions.length > size ? positionToken([items[items.length - 1]!.version]) : undefined,
    };
  }

  async delete(scope: Scope, text: string): Promise<void> {
    const ref = parseRef(text);
    const deleted = await this.store.write(async (tx) => {
      if (!ownedBy(ref, scope)) return false;
      for (const name of ref.names) if (await tx.delete(c.ssmParameters, pk(scope, name))) return true;
      return false;
    });
    if (!deleted) throw err.parameterNotFound(text);
  }

  async deleteMany(scope: Scope, names: readonly string[]) {
    const done: string[] = [];
    const invalid: string[] = [];
    await this.store.write(async (tx) => {
      for (const n of names) {
        const ref = parseRef(n);
        let ok = false;
        for (const name of ref.selector || !ownedBy(ref, scope) ? [] : ref.names) if (await tx.delete(c.ssmParameters, pk(scope, name))) ok = true;
        (ok ? done : invalid).push(n);
      }
    });
    return { DeletedParameters: done, InvalidParameters: invalid };
  }

  async label(scope: Scope, input: LabelParameterVersionRequest) {
    const invalid = input.Labels.filter((l) => !validLabel(l));
    const valid = [...new Set(input.Labels.filter(validLabel))];
    return this.mutate(scope, input.Name, (doc) => {
      const target = input.ParameterVersion === undefined ? latest(doc) : doc.versions.find((v) => v.version === input.ParameterVersion);
      if (!target) throw err.versionNotFound(doc.name, String(input.ParameterVersion));
      for (const v of doc.versions) if (v !== target) v.labels = v.labels.filter((l) => !valid.includes(l));
      target.labels = [...new Set([...target.labels, ...valid])];
      if (target.labels.length > MAX_LABELS_PER_VERSION) throw err.labelLimit();
      return { InvalidLabels: invalid, ParameterVersion: target.version };
    });
  }

  async unlabel(scope: Scope, input: UnlabelParameterVersionRequest) {
    return this.mutate(scope, input.Name, (doc) => {
      const target = doc.versions.find((v) => v.version === input.ParameterVersion);
      if (!target) throw err.versionNotFound(doc.name, String(input.ParameterVersion));
      const removed = input.Labels.filter((l) => target.labels.includes(l));
      target.labels = target.labels.filter((l) => !removed.includes(l));
      return { RemovedLabels: removed, InvalidLabels: input.Labels.filter((l) => !removed.includes(l)) };
    });
  }

  async addTags(scope: Scope, resourceType: string, id: string, tags: { Key: string; Value: string }[]) {
    checkResourceType(resourceType);
    checkTags(tags);
    await this.mutate(scope, id, (doc) => {
      const merged = new Map(doc.tags.map((t) => [t.Key, t.Value]));
      for (const t of tags) merged.set(t.Key, t.Value);
      if (merged.size > MAX_TAGS) throw err.tooManyTags();
      doc.tags = [...merged].map(([Key, Value]) => ({ Key, Value }));
    }, err.invalidResourceId);
    return {};
  }

  async removeTags(scope: Scope, resourceType: string, id: string, keys: string[]) {
    checkResourceType(resourceType);
    await this.mutate(scope, id, (doc) => {
      doc.tags = doc.tags.filter((t) => !keys.includes(t.Key));
    }, err.invalidResourceId);
    return {};
  }

  async listTags(scope: Scope, resourceType: string, id: string) {
    checkResourceType(resourceType);
    const doc = await this.store.read((tx) => this.findDoc(tx, scope, parseRef(id)));
    if (!doc) throw err.invalidResourceId();
    return { TagList: doc.tags };
  }

  /** The plaintext of a parameter version, for the agent that runs a task referencing it. */
  async resolve(scope: Scope, text: string): Promise<{ arn: string; value: string; type: ParameterType }> {
    const p = await this.get(scope, text, true);
    return { arn: p.ARN, value: p.Value, type: p.Type };
  }

  private async mutate<T>(scope: Scope, text: string, change: (doc: SsmParameterDoc) => T, notFound?: () => Error): Promise<T> {
    const ref = parseRef(text);
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.store.write(async (tx) => {
          const row = await this.findRow(tx, scope, ref);
          if (!row) throw notFound ? notFound() : err.parameterNotFound(text);
          const doc = structuredClone(row.data);
          const out = change(doc);
          await tx.update(c.ssmParameters, row, doc);
          return out;
        });
      } catch (e) {
        if (!(e instanceof ConflictError)) throw e;
        if (attempt >= 2) throw err.tooManyUpdates();
      }
    }
  }

  private async findRow(tx: StoreTx, scope: Scope, ref: ParameterRef) {
    if (!ownedBy(ref, scope)) return undefined;
    for (const name of ref.names) {
      const row = await tx.get(c.ssmParameters, pk(scope, name));
      if (row) return row;
    }
    return undefined;
  }

  private async findDoc(tx: StoreTx, scope: Scope, ref: ParameterRef) {
    return (await this.findRow(tx, scope, ref))?.data;
  }

  /** Parameters whose name starts with `prefix`, in name order, that pass `keep`: one page, keyset on the name. */
  private async scan(scope: Scope, prefix: string, keep: (doc: SsmParameterDoc) => boolean, size: number, token: string | undefined) {
    let after: readonly (string | number)[] | undefined;
    try {
      after = tokenPosition(token, ['string']);
    } catch (e) {
      if (e instanceof InvalidTokenError) throw err.invalidNextToken();
      throw e;
    }
    const where = { account_region: `${scope.accountId}:${scope.region}`, ...(prefix ? { name: { prefix } } : {}) };
    const items: SsmParameterDoc[] = [];
    let more = false;
    // Filters apply after reading: read in batches until the page is full (bounded by the batch count).
    for (let batch = 0; batch < 100 && !more; batch++) {
      const rows = await this.store.read((tx) => tx.find(c.ssmParameters, { where, orderBy: [['name', 'asc']], after, limit: 200 }));
      for (const r of rows) {
        if (!keep(r.data)) continue;
        if (items.length === size) {
          more = true;
          break;
        }
        items.push(r.data);
      }
      if (rows.length < 200) break;
      after = [rows[rows.length - 1]!.data.name];
    }
    return { items, nextToken: more ? positionToken([items[items.length - 1]!.name]) : undefined };
  }

  private view(doc: SsmParameterDoc, v: SsmParameterVersion, ref: ParameterRef, withDecryption: boolean): ParameterView {
    return {
      Name: doc.name,
      Type: v.type,
      Value: this.valueOf(v, withDecryption),
      Version: v.version,
      ...(ref.selectorText ? { Selector: ref.selectorText } : {}),
      LastModifiedDate: v.lastModifiedDate,
      ARN: doc.arn,
      DataType: v.dataType,
    };
  }

  /** Without decryption a SecureString shows its sealed form (as AWS shows the KMS ciphertext), never the plaintext. */
  private valueOf(v: SsmParameterVersion, withDecryption: boolean): string {
    if (v.sealed === undefined) return v.value ?? '';
    return withDecryption ? this.box.open(v.sealed) : Buffer.from(v.sealed).toString('base64');
  }
}

/** False for an ARN of another region or account (Parameter Store is regional). */
const ownedBy = (ref: ParameterRef, scope: Scope) => !ref.owner || (ref.owner.region === scope.region && ref.owner.accountId === scope.accountId);

function latest(doc: SsmParameterDoc): SsmParameterVersion {
  return doc.versions[doc.versions.length - 1]!;
}

function pick(doc: SsmParameterDoc, ref: ParameterRef): SsmParameterVersion {
  const sel = ref.selector;
  if (!sel) return latest(doc);
  if ('version' in sel) {
    const v = doc.versions.find((x) => x.version === sel.version);
    if (!v) throw err.versionNotFound(doc.name, String(sel.version));
    return v;
  }
  const v = doc.versions.find((x) => x.labels.includes(sel.label));
  if (!v) throw err.parameterNotFound(ref.shown);
  return v;
}

function metadata(doc: SsmParameterDoc, v: SsmParameterVersion) {
  return {
    Name: doc.name,
    ARN: doc.arn,
    Type: v.type,
    KeyId: v.keyId,
    LastModifiedDate: v.lastModifiedDate,
    LastModifiedUser: v.lastModifiedUser,
    Description: v.description,
    AllowedPattern: v.allowedPattern,
    Version: v.version,
    Tier: v.tier,
    Policies: v.policies ? policiesOf(v.policies) : [],
    DataType: v.dataType,
  };
}

function policiesOf(text: string) {
  try {
    const list = JSON.parse(text) as { Type?: string }[];
    return list.map((p) => ({ PolicyText: JSON.stringify(p), PolicyType: String(p.Type ?? ''), PolicyStatus: 'Pending' }));
  } catch {
    return [];
  }
}

const depth = (name: string) => name.split('/').filter(Boolean).length;

function checkName(name: string): string {
  if (!NAME_CHARS.test(name)) {
    throw err.validation(
      'Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive). If formed as a path, it can consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and the following 3 symbols .-_',
    );
  }
  const first = name.replace(/^\//, '').split('/')[0]!.toLowerCase();
  if (first.startsWith('aws') || first.startsWith('ssm')) {
    throw err.validation('No access to reserved parameter name: ' + name + '.');
  }
  if (name.includes('/') && !name.startsWith('/')) {
    throw err.validation('Parameter name must be a fully qualified name.');
  }
  if (name.includes('//') || (name.endsWith('/') && name.length > 1)) {
    throw err.validation('Parameter name must be a fully qualified name.');
  }
  if (depth(name) > MAX_DEPTH) throw err.hierarchyLimit();
  return name;
}

function resolveTier(asked: string | undefined, previous: string | undefined, length: number, hasPolicies: boolean): string {
  if (asked === 'Advanced' || previous === 'Advanced') {
    if (asked === 'Standard') {
      throw err.validation("This parameter uses the advanced-parameter tier. You can't downgrade a parameter from the advanced-parameter tier to the standard-parameter tier. If necessary, you can delete the advanced parameter and recreate it as a standard parameter.");
    }
    return 'Advanced';
  }
  if (asked === 'Intelligent-Tiering') return length > STANDARD_MAX_VALUE || hasPolicies ? 'Advanced' : 'Standard';
  if (hasPolicies) throw err.validation('Parameter policies are supported only for advanced-tier parameters.');
  return 'Standard';
}

function checkPolicies(text: string): void {
  let list: unknown;
  try {
    list = JSON.parse(text);
  } catch {
    throw err.validation('Policies must be a JSON array of parameter policies.');
  }
  if (!Array.isArray(list) || list.some((p) => typeof p !== 'object' || p === null || !['Expiration', 'ExpirationNotification', 'NoChangeNotification'].includes(String((p as { Type?: unknown }).Type)))) {
    throw err.validation('Policies must be a JSON array of Expiration, ExpirationNotification or NoChangeNotification policies.');
  }
}

/**
 * Tests `value` against the caller's AllowedPattern in a separate context with a time limit: a
 * pattern that backtracks catastrophically fails the request instead of stalling the server.
 */
function checkPattern(pattern: string, value: string): void {
  let ok: unknown;
  try {
    ok = runInNewContext('new RegExp(p).test(v)', { p: pattern, v: value }, { timeout: 50 });
  } catch (e) {
    if (e instanceof Error && /timed out/i.test(e.message)) throw err.invalidAllowedPattern('The allowed pattern takes too long to evaluate.');
    throw err.invalidAllowedPattern('The allowed pattern is not a valid regular expression.');
  }
  if (ok !== true) throw err.patternMismatch(pattern);
}

/** `tooMany`: PutParameter does not model TooManyTagsError (AddTagsToResource does), so there it is a ValidationException. */
function checkTags(tags: readonly { Key: string; Value: string }[], tooMany: () => AwsError = err.tooManyTags): { Key: string; Value: string }[] {
  if (tags.length > MAX_TAGS) throw tooMany();
  for (const t of tags) if (t.Key.toLowerCase().startsWith('aws:')) throw err.validation('Tag keys beginning with aws: are reserved.');
  return tags.map((t) => ({ Key: t.Key, Value: t.Value }));
}

function checkResourceType(type: string): void {
  if (type !== 'Parameter') throw err.invalidResourceType();
}

function validLabel(l: string): boolean {
  const lower = l.toLowerCase();
  return LABEL_CHARS.test(l) && !/^\d/.test(l) && !lower.startsWith('aws') && !lower.startsWith('ssm');
}

/** ParameterStringFilter → predicate (DescribeParameters' keys; GetParametersByPath takes a subset). */
function compileFilter(f: ParameterStringFilter): (doc: SsmParameterDoc) => boolean {
  const values = f.Values ?? [];
  const option = f.Option ?? 'Equals';
  const one = (ok: boolean, key: string) => {
    if (!ok) throw err.invalidFilterOption(`The filter option is not valid for ${key}.`);
  };
  if (values.length === 0 && !f.Key.startsWith('tag:')) throw err.invalidFilterValue(`The filter ${f.Key} needs at least one value.`);
  const any = (v: string | undefined, match: (want: string, have: string) => boolean) => v !== undefined && values.some((want) => match(want, v));
  const eq = (want: string, have: string) => want === have;
  switch (f.Key) {
    case 'Name': {
      one(['Equals', 'BeginsWith', 'Contains'].includes(option), 'Name');
      const match = option === 'Equals' ? eq : option === 'BeginsWith' ? (w: string, h: string) => h.startsWith(w) || h.startsWith(`/${w}`) : (w: string, h: string) => h.includes(w);
      return (doc) => any(doc.name, match);
    }
    case 'Type':
    case 'KeyId':
    case 'Tier':
    case 'DataType': {
      one(option === 'Equals' || (f.Key === 'KeyId' && option === 'BeginsWith'), f.Key);
      const field = ({ Type: 'type', KeyId: 'keyId', Tier: 'tier', DataType: 'dataType' } as const)[f.Key];
      const match = option === 'BeginsWith' ? (w: string, h: string) => h.startsWith(w) : eq;
      return (doc) => any(latest(doc)[field], match);
    }
    case 'Path': {
      one(option === 'OneLevel' || option === 'Recursive', 'Path');
      return (doc) =>
        values.some((p) => {
          const prefix = p.endsWith('/') ? p : `${p}/`;
          return doc.name.startsWith(prefix) && (option === 'Recursive' || !doc.name.slice(prefix.length).includes('/'));
        });
    }
    case 'Label':
      one(option === 'Equals', 'Label');
      return (doc) => doc.versions.some((v) => v.labels.some((l) => values.includes(l)));
    default:
      if (f.Key.startsWith('tag:')) {
        const key = f.Key.slice(4);
        return (doc) => doc.tags.some((t) => t.Key === key && (values.length === 0 || values.includes(t.Value)));
      }
      throw err.invalidFilterKey(`The following filter key is not valid: ${f.Key}. Valid filter keys include: [Path, Name, Type, KeyId, Tier, DataType, Label, tag:<key>].`);
  }
}
