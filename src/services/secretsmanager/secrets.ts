/**
 * Secrets Manager secrets: versions with staging labels (AWSCURRENT, AWSPREVIOUS, AWSPENDING and
 * the caller's own), deletion with a recovery window, tags and a resource policy. Every version's
 * value is sealed with the data dir's SecretBox before it reaches the store; the ClientRequestToken
 * is the version id, so a retried write with the same token and value is a no-op (AWS's idempotency).
 */
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import type {
  CreateSecretRequest,
  DeleteSecretRequest,
  Filter,
  GetRandomPasswordRequest,
  ListSecretsRequest,
  ListSecretVersionIdsRequest,
  PutSecretValueRequest,
  UpdateSecretRequest,
  UpdateSecretVersionStageRequest,
} from '../../aws/generated/secretsmanager.js';
import type { Clock } from '../../core/clock.js';
import { ConflictError } from '../../core/errors.js';
import { InvalidTokenError, paginate } from '../../core/pagination.js';
import type { SecretBox } from '../../core/secret-box.js';
import * as c from '../../store/collections.js';
import type { SecretDoc, SecretVersionDoc } from '../../store/collections.js';
import type { Row, Store, StoreTx } from '../../store/store.js';
import * as err from './errors.js';

export interface Scope {
  accountId: string;
  region: string;
}

export const CURRENT = 'AWSCURRENT';
export const PREVIOUS = 'AWSPREVIOUS';
export const PENDING = 'AWSPENDING';
const MAX_VERSIONS = 100;
const MAX_TAGS = 50;
const MAX_STAGES_PER_VERSION = 20;
const NAME = /^[a-zA-Z0-9/_+=.@-]+$/;
const ARN = /^arn:aws[\w-]*:secretsmanager:([^:]+):(\d{12}):secret:(.+)$/;
const SUFFIX_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const PUNCTUATION = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';

/** A secret's value as GetSecretValue answers it. */
export interface SecretValue {
  ARN: string;
  Name: string;
  VersionId: string;
  SecretString?: string;
  SecretBinary?: Buffer;
  VersionStages: string[];
  CreatedDate: number;
}

export class Secrets {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly box: SecretBox,
  ) {}

  async create(scope: Scope, input: CreateSecretRequest) {
    const name = input.Name;
    if (!NAME.test(name)) throw err.invalidParameter('Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!');
    checkValue(input);
    const tags = checkTags(input.Tags ?? []);
    const now = this.clock.now();
    return this.write(async (tx) => {
      const existing = await this.byName(tx, scope, name);
      if (existing) {
        if (existing.data.deletedDate !== undefined) {
          throw err.invalidRequest("You can't create this secret because a secret with this name is already scheduled for deletion.");
        }
        // A retried CreateSecret (same token, same value) answers as the first one did.
        const v = input.ClientRequestToken ? existing.data.versions.find((x) => x.versionId === input.ClientRequestToken) : undefined;
        if (v && this.sameValue(v, input)) return { ARN: existing.data.arn, Name: name, VersionId: v.versionId };
        throw err.exists(name);
      }
      const arn = `arn:aws:secretsmanager:${scope.region}:${scope.accountId}:secret:${name}-${suffix()}`;
      const versions: SecretVersionDoc[] = [];
      if (input.SecretString !== undefined || input.SecretBinary !== undefined) {
        versions.push({ versionId: versionIdOf(input.ClientRequestToken), ...this.seal(input), stages: [CURRENT], createdDate: now });
      }
      await tx.insert(c.secrets, arn, {
        accountId: scope.accountId,
        region: scope.region,
        arn,
        name,
        description: input.Description,
        kmsKeyId: input.KmsKeyId,
        createdDate: now,
        lastChangedDate: now,
        versions,
        tags,
      });
      return { ARN: arn, Name: name, VersionId: versions[0]?.versionId };
    });
  }

  /** GetSecretValue: by VersionId and/or VersionStage (AWSCURRENT when neither is given). */
  async getValue(scope: Scope, secretId: string, versionId?: string, versionStage?: string): Promise<SecretValue> {
    const row = await this.store.read((tx) => this.find(tx, scope, secretId));
    const doc = this.live(row);
    const v = pickVersion(doc, versionId, versionStage);
    await this.touch(row!, v);
    return this.valueOf(doc, v);
  }

  async putValue(scope: Scope, input: PutSecretValueRequest) {
    checkValue(input, true);
    const stages = input.VersionStages ?? [CURRENT];
    if (stages.length > MAX_STAGES_PER_VERSION) throw err.limitExceeded('A version can have at most 20 staging labels.');
    return this.mutate(scope, input.SecretId, (doc) => {
      const versionId = versionIdOf(input.ClientRequestToken);
      const same = doc.versions.find((v) => v.versionId === versionId);
      if (same) {
        if (!this.sameValue(same, input)) throw err.versionExists();
        return { ARN: doc.arn, Name: doc.name, VersionId: same.versionId, VersionStages: same.stages };
      }
      const version: SecretVersionDoc = { versionId, ...this.seal(input), stages: [], createdDate: this.clock.now() };
      doc.versions.push(version);
      for (const stage of stages) attachStage(doc, stage, version);
      prune(doc);
      doc.lastChangedDate = this.clock.now();
      return { ARN: doc.arn, Name: doc.name, VersionId: versionId, VersionStages: version.stages };
    });
  }

  async update(scope: Scope, input: UpdateSecretRequest) {
    const hasValue = input.SecretString !== undefined || input.SecretBinary !== undefined;
    if (hasValue) checkValue(input);
    return this.mutate(scope, input.SecretId, (doc) => {
      if (input.Description !== undefined) doc.description = input.Description;
      if (input.KmsKeyId !== undefined) doc.kmsKeyId = input.KmsKeyId;
      doc.lastChangedDate = this.clock.now();
      if (!hasValue) return { ARN: doc.arn, Name: doc.name };
      const versionId = versionIdOf(input.ClientRequestToken);
      const same = doc.versions.find((v) => v.versionId === versionId);
      if (same) {
        if (!this.sameValue(same, input)) throw err.versionExists();
        return { ARN: doc.arn, Name: doc.name, VersionId: versionId };
      }
      const version: SecretVersionDoc = { versionId, ...this.seal(input), stages: [], createdDate: this.clock.now() };
      doc.versions.push(version);
      attachStage(doc, CURRENT, version);
      prune(doc);
      return { ARN: doc.arn, Name: doc.name, VersionId: versionId };
    });
  }

  async describe(scope: Scope, secretId: string) {
    const row = await this.store.read((tx) => this.find(tx, scope, secretId));
    if (!row || this.purged(row.data)) throw err.notFound();
    return describeOf(row.data);
  }

  async list(scope: Scope, input: ListSecretsRequest) {
    const rows = await this.store.read((tx) => tx.find(c.secrets, { where: { account_region: `${scope.accountId}:${scope.region}` }, orderBy: [['name', 'asc']] }));
    const filters = (input.Filters ?? []).map(compileFilter);
    let docs = rows.map((r) => r.data).filter((d) => !this.purged(d) && (input.IncludePlannedDeletion || d.deletedDate === undefined) && filters.every((f) => f(d)));
    const sortBy = input.SortBy ?? 'created-date';
    const key = (d: SecretDoc): string | number =>
      sortBy === 'name' ? d.name : sortBy === 'last-changed-date' ? d.lastChangedDate : sortBy === 'last-accessed-date' ? (d.lastAccessedDate ?? 0) : d.createdDate;
    const desc = (input.SortOrder ?? 'desc') === 'desc';
    docs = docs.sort((a, b) => {
      const x = key(a);
      const y = key(b);
      const order = x < y ? -1 : x > y ? 1 : a.arn < b.arn ? -1 : 1;
      return desc ? -order : order;
    });
    const page = this.page(docs, (d) => d.arn, input.MaxResults ?? 100, input.NextToken);
    return {
      SecretList: page.items.map((d) => {
        const { VersionIdsToStages, ...rest } = describeOf(d);
        return { ...rest, SecretVersionsToStages: VersionIdsToStages };
      }),
      NextToken: page.nextToken,
    };
  }

  async delete(scope: Scope, input: DeleteSecretRequest) {
    if (input.ForceDeleteWithoutRecovery && input.RecoveryWindowInDays !== undefined) {
      throw err.invalidParameter("You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.");
    }
    const days = input.RecoveryWindowInDays ?? 30;
    if (!input.ForceDeleteWithoutRecovery && (days < 7 || days > 30)) {
      throw err.invalidParameter('The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).');
    }
    const now = this.clock.now();
    return this.write(async (tx) => {
      const row = await this.find(tx, scope, input.SecretId);
      if (!row || this.purged(row.data)) throw err.notFound();
      if (input.ForceDeleteWithoutRecovery) {
        await tx.delete(c.secrets, row.pk);
        return { ARN: row.data.arn, Name: row.data.name, DeletionDate: now };
      }
      if (row.data.deletedDate !== undefined) {
        throw err.invalidRequest("You can't perform this operation on the secret because it was already scheduled for deletion.");
      }
      const purgeAt = now + days * 86400;
      await tx.update(c.secrets, row, { ...row.data, deletedDate: now, purgeAt });
      return { ARN: row.data.arn, Name: row.data.name, DeletionDate: purgeAt };
    });
  }

  async restore(scope: Scope, secretId: string) {
    return this.write(async (tx) => {
      const row = await this.find(tx, scope, secretId);
      if (!row || this.purged(row.data)) throw err.notFound();
      const { deletedDate: _d, purgeAt: _p, ...rest } = row.data;
      await tx.update(c.secrets, row, rest);
      return { ARN: row.data.arn, Name: row.data.name };
    });
  }

  /** Deletes the secrets whose recovery window has passed (a timer calls it; reads already hide them). */
  async purgeDue(): Promise<number> {
    const now = this.clock.now();
    return this.store.write(async (tx) => {
      // Earliest first, at most 1000 a run; stop at the first whose window is still open.
      const due = await tx.select(c.secrets, ['purge_at'], { where: { purge_at: { gt: 0 } }, orderBy: [['purge_at', 'asc']], limit: 1000 });
      let n = 0;
      for (const r of due) {
        if (typeof r.purge_at !== 'number' || r.purge_at > now) break;
        if (await tx.delete(c.secrets, r.pk)) n++;
      }
      return n;
    });
  }

  async updateStage(scope: Scope, input: UpdateSecretVersionStageRequest) {
    return this.mutate(scope, input.SecretId, (doc) => {
      const holder = doc.versions.find((v) => v.stages.includes(input.VersionStage));
      if (input.RemoveFromVersionId !== undefined) {
        const from = doc.versions.find((v) => v.versionId === input.RemoveFromVersionId);
        if (!from) throw err.invalidParameter(`The version ${input.RemoveFromVersionId} does not exist.`);
        if (!from.stages.includes(input.VersionStage)) {
          throw err.invalidParameter(`The staging label ${input.VersionStage} is not attached to version ${input.RemoveFromVersionId}.`);
        }
      }
      if (input.MoveToVersionId !== undefined) {
        const to = doc.versions.find((v) => v.versionId === input.MoveToVersionId);
        if (!to) throw err.invalidParameter(`The version ${input.MoveToVersionId} does not exist.`);
        if (holder && holder !== to && holder.versionId !== input.RemoveFromVersionId) {
          throw err.invalidParameter(
            `The parameter RemoveFromVersionId can't be empty. Staging label ${input.VersionStage} is currently attached to version ${holder.versionId}, so you must explicitly reference that version in RemoveFromVersionId.`,
          );
        }
        if (to.stages.length >= MAX_STAGES_PER_VERSION && !to.stages.includes(input.VersionStage)) throw err.limitExceeded('A version can have at most 20 staging labels.');
        attachStage(doc, input.VersionStage, to);
      } else if (input.RemoveFromVersionId !== undefined) {
        if (input.VersionStage === CURRENT) throw err.invalidParameter('You can only move staging label AWSCURRENT to a different secret version. It can’t be completely removed.');
        const from = doc.versions.find((v) => v.versionId === input.RemoveFromVersionId)!;
        from.stages = from.stages.filter((s) => s !== input.VersionStage);
      }
      prune(doc);
      doc.lastChangedDate = this.clock.now();
      return { ARN: doc.arn, Name: doc.name };
    });
  }

  async listVersions(scope: Scope, input: ListSecretVersionIdsRequest) {
    const row = await this.store.read((tx) => this.find(tx, scope, input.SecretId));
    if (!row || this.purged(row.data)) throw err.notFound();
    const doc = row.data;
    const versions = doc.versions.filter((v) => input.IncludeDeprecated || v.stages.length > 0).reverse();
    const page = this.page(versions, (v) => v.versionId, input.MaxResults ?? 100, input.NextToken);
    return {
      ARN: doc.arn,
      Name: doc.name,
      Versions: page.items.map((v) => ({
        VersionId: v.versionId,
        VersionStages: v.stages,
        CreatedDate: v.createdDate,
        LastAccessedDate: v.lastAccessedDate,
        KmsKeyIds: [doc.kmsKeyId ?? 'DefaultEncryptionKey'],
      })),
      NextToken: page.nextToken,
    };
  }

  async tag(scope: Scope, secretId: string, tags: { Key?: string; Value?: string }[]) {
    const checked = checkTags(tags);
    await this.mutate(scope, secretId, (doc) => {
      const merged = new Map(doc.tags.map((t) => [t.Key, t.Value]));
      for (const t of checked) merged.set(t.Key, t.Value);
      if (merged.size > MAX_TAGS) throw err.invalidParameter('The request exceeds the maximum of 50 tags per secret.');
      doc.tags = [...merged].map(([Key, Value]) => ({ Key, Value }));
    }, true);
    return {};
  }

  async untag(scope: Scope, secretId: string, keys: string[]) {
    await this.mutate(scope, secretId, (doc) => {
      doc.tags = doc.tags.filter((t) => !keys.includes(t.Key));
    }, true);
    return {};
  }

  async putPolicy(scope: Scope, secretId: string, policy: string) {
    try {
      const parsed = JSON.parse(policy) as unknown;
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
    } catch {
      throw err.malformedPolicy('This resource policy contains a syntax error.');
    }
    return this.mutate(scope, secretId, (doc) => {
      doc.resourcePolicy = policy;
      return { ARN: doc.arn, Name: doc.name };
    }, true);
  }

  async getPolicy(scope: Scope, secretId: string) {
    const row = await this.store.read((tx) => this.find(tx, scope, secretId));
    if (!row || this.purged(row.data)) throw err.notFound();
    return { ARN: row.data.arn, Name: row.data.name, ResourcePolicy: row.data.resourcePolicy };
  }

  async deletePolicy(scope: Scope, secretId: string) {
    return this.mutate(scope, secretId, (doc) => {
      delete doc.resourcePolicy;
      return { ARN: doc.arn, Name: doc.name };
    }, true);
  }

  /** BatchGetSecretValue: named secrets (errors per secret), or the secrets a filter selects (one page). */
  async batchGet(scope: Scope, input: { SecretIdList?: string[]; Filters?: Filter[]; MaxResults?: number; NextToken?: string }) {
    if (input.SecretIdList && input.Filters) throw err.invalidParameter('Either SecretIdList or Filters must be provided, but not both.');
    if (!input.SecretIdList && !input.Filters) throw err.invalidParameter('Either SecretIdList or Filters must be provided.');
    const values: SecretValue[] = [];
    const errors: { SecretId: string; ErrorCode: string; Message: string }[] = [];
    if (input.SecretIdList) {
      if (input.MaxResults !== undefined || input.NextToken !== undefined) throw err.invalidParameter('MaxResults and NextToken go with Filters only.');
      for (const id of input.SecretIdList) {
        try {
          values.push(await this.getValue(scope, id));
        } catch (e) {
          const code = (e as { code?: string }).code;
          if (!code) throw e;
          errors.push({ SecretId: id, ErrorCode: code, Message: (e as Error).message });
        }
      }
      return { SecretValues: values, Errors: errors };
    }
    const listed = await this.list(scope, { Filters: input.Filters, MaxResults: Math.min(input.MaxResults ?? 20, 20), NextToken: input.NextToken, SortOrder: 'asc', SortBy: 'name' });
    for (const s of listed.SecretList) {
      try {
        values.push(await this.getValue(scope, s.ARN));
      } catch (e) {
        const code = (e as { code?: string }).code;
        if (!code) throw e;
        errors.push({ SecretId: s.ARN, ErrorCode: code, Message: (e as Error).message });
      }
    }
    return { SecretValues: values, Errors: errors, NextToken: listed.NextToken };
  }

  /** For task secrets: the value a reference names (ARN or name; version stage or id), plaintext. */
  async resolve(scope: Scope, secretId: string, versionStage?: string, versionId?: string): Promise<{ arn: string; value: string }> {
    const v = await this.getValue(scope, secretId, versionId, versionStage ?? (versionId ? undefined : CURRENT));
    return { arn: v.ARN, value: v.SecretString ?? v.SecretBinary?.toString('base64') ?? '' };
  }

  /** The secret an id names, not deleted; else Secrets Manager's error. */
  async liveRow(scope: Scope, secretId: string): Promise<Row<SecretDoc>> {
    const row = await this.store.read((tx) => this.find(tx, scope, secretId));
    this.live(row);
    return row!;
  }

  /** Applies `change` to the secret (deleted or not) in one write: the rotation controller's writer. */
  async change(scope: Scope, secretId: string, change: (doc: SecretDoc) => void): Promise<void> {
    await this.mutate(scope, secretId, change, true);
  }

  /** The ARN a secret id names, if the secret exists (for authorization before the value is read). */
  async arnOf(scope: Scope, secretId: string): Promise<string | undefined> {
    const row = await this.store.read((tx) => this.find(tx, scope, secretId));
    return row && !this.purged(row.data) ? row.data.arn : undefined;
  }

  private page<T>(items: readonly T[], keyOf: (item: T) => string, size: number, token: string | undefined) {
    try {
      return paginate(items, keyOf, size, token);
    } catch (e) {
      if (e instanceof InvalidTokenError) throw err.invalidNextToken();
      throw e;
    }
  }

  /** Last-accessed dates are days (as AWS keeps them): at most one write per version per day. */
  private async touch(row: Row<SecretDoc>, v: SecretVersionDoc): Promise<void> {
    const today = Math.floor(this.clock.now() / 86400) * 86400;
    if (v.lastAccessedDate === today) return;
    try {
      await this.store.write(async (tx) => {
        const fresh = await tx.get(c.secrets, row.pk);
        if (!fresh) return;
        const doc = structuredClone(fresh.data);
        const ver = doc.versions.find((x) => x.versionId === v.versionId);
        if (!ver || ver.lastAccessedDate === today) return;
        ver.lastAccessedDate = today;
        doc.lastAccessedDate = today;
        await tx.update(c.secrets, fresh, doc);
      });
    } catch (e) {
      // A concurrent write wins: the date is bookkeeping, the read already succeeded.
      if (!(e instanceof ConflictError)) throw e;
    }
  }

  private valueOf(doc: SecretDoc, v: SecretVersionDoc): SecretValue {
    return {
      ARN: doc.arn,
      Name: doc.name,
      VersionId: v.versionId,
      ...(v.sealedString !== undefined ? { SecretString: this.box.open(v.sealedString) } : {}),
      ...(v.sealedBinary !== undefined ? { SecretBinary: Buffer.from(this.box.open(v.sealedBinary), 'base64') } : {}),
      VersionStages: v.stages,
      CreatedDate: v.createdDate,
    };
  }

  private seal(input: { SecretString?: string; SecretBinary?: Buffer | Uint8Array }): Pick<SecretVersionDoc, 'sealedString' | 'sealedBinary'> {
    if (input.SecretString !== undefined) return { sealedString: this.box.seal(input.SecretString) };
    return { sealedBinary: this.box.seal(Buffer.from(input.SecretBinary!).toString('base64')) };
  }

  private sameValue(v: SecretVersionDoc, input: { SecretString?: string; SecretBinary?: Buffer | Uint8Array }): boolean {
    if (input.SecretString !== undefined) return v.sealedString !== undefined && this.box.open(v.sealedString) === input.SecretString;
    if (input.SecretBinary !== undefined) return v.sealedBinary !== undefined && this.box.open(v.sealedBinary) === Buffer.from(input.SecretBinary).toString('base64');
    return false;
  }

  private purged(doc: SecretDoc): boolean {
    return doc.purgeAt !== undefined && doc.purgeAt <= this.clock.now();
  }

  /** The secret, not deleted: else the error AWS gives for reading it. */
  private live(row: Row<SecretDoc> | undefined): SecretDoc {
    if (!row || this.purged(row.data)) throw err.notFound();
    if (row.data.deletedDate !== undefined) throw err.markedForDeletion();
    return row.data;
  }

  private async byName(tx: StoreTx, scope: Scope, name: string): Promise<Row<SecretDoc> | undefined> {
    const rows = await tx.find(c.secrets, { where: { account_region: `${scope.accountId}:${scope.region}`, name }, limit: 1 });
    const row = rows[0];
    // A purged secret's name is free again.
    if (row && this.purged(row.data)) {
      await tx.delete(c.secrets, row.pk).catch(() => undefined);
      return undefined;
    }
    return row;
  }

  /** A secret id: its full ARN, a partial ARN (without the random suffix), or its name. */
  private async find(tx: StoreTx, scope: Scope, id: string): Promise<Row<SecretDoc> | undefined> {
    const arn = ARN.exec(id);
    if (arn) {
      if (arn[1] !== scope.region || arn[2] !== scope.accountId) return undefined;
      const exact = await tx.get(c.secrets, id);
      if (exact) return exact;
      return (await tx.find(c.secrets, { where: { account_region: `${scope.accountId}:${scope.region}`, name: arn[3]! }, limit: 1 }))[0];
    }
    return (await tx.find(c.secrets, { where: { account_region: `${scope.accountId}:${scope.region}`, name: id }, limit: 1 }))[0];
  }

  private async mutate<T>(scope: Scope, id: string, change: (doc: SecretDoc) => T, allowDeleted = false): Promise<T> {
    return this.write(async (tx) => {
      const row = await this.find(tx, scope, id);
      const doc = allowDeleted ? (row && !this.purged(row.data) ? row.data : (() => { throw err.notFound(); })()) : this.live(row);
      const next = structuredClone(doc);
      const out = change(next);
      await tx.update(c.secrets, row!, next);
      return out;
    });
  }

  private async write<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.store.write(fn);
      } catch (e) {
        if (!(e instanceof ConflictError) || attempt >= 2) throw e;
      }
    }
  }
}

export function getRandomPassword(input: GetRandomPasswordRequest): string {
  const length = input.PasswordLength ?? 32;
  const classes: string[] = [];
  const exclude = new Set(input.ExcludeCharacters ?? '');
  const keep = (set: string) => [...set].filter((ch) => !exclude.has(ch)).join('');
  if (!input.ExcludeLowercase) classes.push(keep('abcdefghijklmnopqrstuvwxyz'));
  if (!input.ExcludeUppercase) classes.push(keep('ABCDEFGHIJKLMNOPQRSTUVWXYZ'));
  if (!input.ExcludeNumbers) classes.push(keep('0123456789'));
  if (!input.ExcludePunctuation) classes.push(keep(PUNCTUATION));
  if (input.IncludeSpace) classes.push(keep(' '));
  const usable = classes.filter((s) => s.length > 0);
  const all = usable.join('');
  if (all.length === 0) throw err.invalidParameter('The password cannot be generated: every character is excluded.');
  const requireEach = input.RequireEachIncludedType ?? true;
  if (requireEach && usable.length > length) throw err.invalidParameter('The password length is too short to include a character of each included type.');
  const out = Array.from({ length }, () => all[randomInt(all.length)]!);
  if (requireEach) {
    // One of each class at distinct random positions.
    const positions = new Set<number>();
    while (positions.size < usable.length) positions.add(randomInt(length));
    [...positions].forEach((p, i) => (out[p] = usable[i]![randomInt(usable[i]!.length)]!));
  }
  return out.join('');
}

function suffix(): string {
  const bytes = randomBytes(6);
  return [...bytes].map((b) => SUFFIX_CHARS[b % SUFFIX_CHARS.length]).join('');
}

function versionIdOf(token: string | undefined): string {
  return token ?? randomUUID();
}

function checkValue(input: { SecretString?: string; SecretBinary?: Buffer | Uint8Array }, required = false): void {
  if (input.SecretString !== undefined && input.SecretBinary !== undefined) {
    throw err.invalidParameter("You can't specify both a binary secret value and a string secret value in the same secret.");
  }
  if (required && input.SecretString === undefined && input.SecretBinary === undefined) {
    throw err.invalidParameter('You must provide either SecretString or SecretBinary.');
  }
}

function checkTags(tags: readonly { Key?: string; Value?: string }[]): { Key: string; Value: string }[] {
  if (tags.length > MAX_TAGS) throw err.invalidParameter('The request exceeds the maximum of 50 tags per secret.');
  return tags.map((t) => {
    if (t.Key === undefined || t.Key.length === 0 || t.Key.length > 128 || (t.Value ?? '').length > 256) throw err.invalidParameter('Tag keys must be 1-128 characters and values at most 256.');
    if (t.Key.toLowerCase().startsWith('aws:')) throw err.invalidParameter('Tag keys beginning with aws: are reserved.');
    return { Key: t.Key, Value: t.Value ?? '' };
  });
}

/** Moves `stage` onto `to`; moving AWSCURRENT leaves AWSPREVIOUS on the version that had it. */
export function attachStage(doc: SecretDoc, stage: string, to: SecretVersionDoc): void {
  const from = doc.versions.find((v) => v.stages.includes(stage));
  if (from === to) return;
  if (from) from.stages = from.stages.filter((s) => s !== stage);
  to.stages.push(stage);
  if (stage === CURRENT && from) {
    for (const v of doc.versions) v.stages = v.stages.filter((s) => s !== PREVIOUS);
    from.stages.push(PREVIOUS);
  }
}

/** Versions without a staging label are deprecated; beyond 100 versions the oldest of those go. */
function prune(doc: SecretDoc): void {
  while (doc.versions.length > MAX_VERSIONS) {
    const i = doc.versions.findIndex((v) => v.stages.length === 0);
    if (i < 0) break;
    doc.versions.splice(i, 1);
  }
}

function pickVersion(doc: SecretDoc, versionId: string | undefined, versionStage: string | undefined): SecretVersionDoc {
  if (versionId !== undefined) {
    const v = doc.versions.find((x) => x.versionId === versionId);
    if (!v || (versionStage !== undefined && !v.stages.includes(versionStage))) {
      throw versionStage !== undefined && v
        ? err.invalidRequest(`You provided a VersionStage that is not associated to the provided VersionId.`)
        : err.valueNotFound(`VersionId: ${versionId}`);
    }
    return v;
  }
  const stage = versionStage ?? CURRENT;
  const v = doc.versions.find((x) => x.stages.includes(stage));
  if (!v) throw err.valueNotFound(`staging label: ${stage}`);
  return v;
}

function describeOf(d: SecretDoc) {
  return {
    ARN: d.arn,
    Name: d.name,
    Description: d.description,
    KmsKeyId: d.kmsKeyId,
    RotationEnabled: d.rotation?.enabled ?? false,
    RotationLambdaARN: d.rotation?.lambdaArn,
    RotationRules: d.rotation?.rules,
    LastRotatedDate: d.rotation?.lastRotatedDate,
    NextRotationDate: d.rotation?.enabled ? d.rotation.nextRotationDate : undefined,
    LastChangedDate: d.lastChangedDate,
    LastAccessedDate: d.lastAccessedDate,
    DeletedDate: d.deletedDate,
    CreatedDate: d.createdDate,
    Tags: d.tags,
    VersionIdsToStages: Object.fromEntries(d.versions.filter((v) => v.stages.length > 0).map((v) => [v.versionId, v.stages])),
  };
}

/** ListSecrets filters: values match as prefixes (case-sensitive), a leading `!` negates. */
function compileFilter(f: Filter): (d: SecretDoc) => boolean {
  const values = f.Values ?? [];
  const key = f.Key;
  if (!key) throw err.invalidParameter('A filter needs a Key.');
  return (d) => {
    const fields = (): string[] => {
      switch (key) {
        case 'name':
          return [d.name];
        case 'description':
          return d.description ? [d.description] : [];
        case 'tag-key':
          return d.tags.map((t) => t.Key);
        case 'tag-value':
          return d.tags.map((t) => t.Value);
        case 'primary-region':
          return [d.region];
        case 'owning-service':
          return [];
        default:
          return [d.name, d.description ?? '', ...d.tags.map((t) => t.Key), ...d.tags.map((t) => t.Value)];
      }
    };
    const have = fields();
    const match = (want: string) => have.some((h) => (key === 'all' ? h.toLowerCase().startsWith(want.toLowerCase()) : h.startsWith(want)));
    // Values are alternatives; a value with a leading ! excludes what it matches.
    const wanted = values.filter((v) => !v.startsWith('!'));
    const excluded = values.filter((v) => v.startsWith('!')).map((v) => v.slice(1));
    return (wanted.length === 0 || wanted.some(match)) && !excluded.some(match);
  };
}
