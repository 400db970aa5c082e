/**
 * ECR repositories: create/describe/delete, tag mutability, scanning configuration, the
 * repository policy and resource tags. A repository document also carries its lifecycle
 * policy (see lifecycle.ts). The registry data plane finds repositories through `lookup()`.
 */
import type { CreateRepositoryRequest, Tag as EcrTag } from '../../aws/generated/ecr.js';
import { createHash } from 'node:crypto';
import type { Clock } from '../../core/clock.js';
import { InvalidTokenError, keysetPage, tokenPosition } from '../../core/pagination.js';
import type { RegistryImages, RegistryScope, RepositoryLookup } from '../../registry/index.js';
import * as c from '../../store/collections.js';
import type { EcrRepositoryDoc } from '../../store/collections.js';
import type { Row, Store, StoreTx } from '../../store/store.js';
import { parseRepositoryArn, REPOSITORY_NAME, repositoryArn, type Scope } from './arns.js';
import * as err from './errors.js';
import { checkPolicyDocument } from './policy-document.js';

export type { Tag as EcrTag } from '../../aws/generated/ecr.js';
type ImageTagMutability = NonNullable<CreateRepositoryRequest['imageTagMutability']>;

export interface LifecyclePreview {
  status: 'IN_PROGRESS' | 'COMPLETE' | 'EXPIRED' | 'FAILED';
  lifecyclePolicyText: string;
  results: { imageDigest: string; imageTags: string[]; imagePushedAt: number; appliedRulePriority: number }[];
}

export interface RepositoryRecord extends EcrRepositoryDoc {
  imageScanningConfiguration: { scanOnPush: boolean };
  encryptionConfiguration: { encryptionType: string; kmsKey?: string };
  tags: EcrTag[];
  policyText?: string;
  lifecyclePolicyText?: string;
  lifecycleLastEvaluatedAt?: number;
  lifecyclePreview?: LifecyclePreview;
}

const MAX_TAGS = 50;

export class Repositories {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly images: RegistryImages,
    /** host:port of the registry, known only once the server listens. */
    private readonly registryHost: () => string,
  ) {}

  /** The wire `Repository` shape. */
  wire(r: RepositoryRecord) {
    return {
      repositoryArn: r.repositoryArn,
      registryId: r.registryId,
      repositoryName: r.repositoryName,
      repositoryUri: `${this.registryHost()}/${r.repositoryName}`,
      createdAt: r.createdAt,
      imageTagMutability: r.imageTagMutability,
      imageScanningConfiguration: r.imageScanningConfiguration,
      encryptionConfiguration: r.encryptionConfiguration,
    };
  }

  checkRegistryId(scope: Scope, registryId: string | undefined) {
    if (registryId !== undefined && registryId !== scope.accountId) {
      throw err.invalidParameter(`Invalid parameter at 'registryId' failed to satisfy constraint: 'The registry id '${registryId}' is not this account's registry'`);
    }
  }

  checkName(name: string) {
    if (name.length < 2 || name.length > 256 || !REPOSITORY_NAME.test(name)) {
      throw err.invalidParameter(
        `Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*''`,
      );
    }
  }

  async create(scope: Scope, input: {
    repositoryName: string;
    registryId?: string;
    tags?: EcrTag[];
    imageTagMutability?: ImageTagMutability;
    imageScanningConfiguration?: { scanOnPush?: boolean };
    encryptionConfiguration?: { encryptionType: string; kmsKey?: string };
  }) {
    this.checkRegistryId(scope, input.registryId);
    this.checkName(input.repositoryName);
    checkTags(input.tags);
    const enc = { ...(input.encryptionConfiguration ?? { encryptionType: 'AES256' }) };
    if (enc.encryptionType === 'AES256' && enc.kmsKey) {
      throw err.invalidParameter(`Invalid parameter at 'encryptionConfiguration' failed to satisfy constraint: 'kmsKey can only be specified when encryptionType is KMS or KMS_DSSE'`);
    }
    // KMS without a key: ECR uses the account's AWS managed key for ECR (alias aws/ecr) and answers with its key ARN.
    if (enc.encryptionType !== 'AES256' && !enc.kmsKey) enc.kmsKey = awsManagedEcrKeyArn(scope);
    const record: RepositoryRecord = {
      accountId: scope.accountId,
      region: scope.region,
      repositoryArn: repositoryArn(scope, input.repositoryName),
      repositoryName: input.repositoryName,
      registryId: scope.accountId,
      createdAt: this.clock.now(),
      imageTagMutability: supportedMutability(input.imageTagMutability ?? 'MUTABLE'),
      imageScanningConfiguration: { scanOnPush: input.imageScanningConfiguration?.scanOnPush ?? false },
      encryptionConfiguration: enc,
      tags: input.tags ?? [],
    };
    await this.store.write(async (tx) => {
      if (await tx.get(c.ecrRepositories, record.repositoryArn)) throw err.repositoryAlreadyExists(record.repositoryName, scope.accountId);
      await tx.insert(c.ecrRepositories, record.repositoryArn, record);
    });
    return { repository: this.wire(record) };
  }

  async get(tx: StoreTx, scope: Scope, name: string): Promise<Row<RepositoryRecord>> {
    const row = await tx.get(c.ecrRepositories, repositoryArn(scope, name));
    if (!row) throw err.repositoryNotFound(name, scope.accountId);
    return row as Row<RepositoryRecord>;
  }

  async require(scope: Scope, name: string, registryId?: string): Promise<RepositoryRecord> {
    this.checkRegistryId(scope, registryId);
    return (await this.store.read((tx) => this.get(tx, scope, name))).data;
  }

  async describe(scope: Scope, input: { registryId?: string; repositoryNames?: string[]; maxResults?: number; nextToken?: string }) {
    this.checkRegistryId(scope, input.registryId);
    if (input.repositoryNames && (input.maxResults !== undefined || input.nextToken !== undefined)) {
      throw err.invalidParameter(`Invalid parameter at 'repositoryNames' failed to satisfy constraint: 'repositoryNames cannot be used with maxResults or nextToken'`);
    }
    const names = input.repositoryNames;
    if (names) {
      const named = await this.store.read(async (tx) => {
        const out: RepositoryRecord[] = [];
        for (const name of names) out.push((await this.get(tx, scope, name)).data);
        return out;
      });
      return { repositories: named.map((r) => this.wire(r)) };
    }
    // One page of names through the (account_region, name) index; only that page's documents are read.
    const start = tokenPosition(input.nextToken, ['string']);
    const { repositories, nextToken } = await this.store.read(async (tx) => {
      const page = await keysetPage(
        (after, limit) => tx.select(c.ecrRepositories, ['name'], { where: { account_region: `${scope.accountId}:${scope.region}` }, orderBy: [['name', 'asc']], after, limit }),
        (r) => [String(r.name)],
        input.maxResults ?? 100,
        start,
      );
      const docs: RepositoryRecord[] = [];
      for (const r of page.items) {
        const row = await tx.get(c.ecrRepositories, r.pk);
        if (row) docs.push(row.data as RepositoryRecord);
      }
      return { repositories: docs, nextToken: page.nextToken };
    });
    return { repositories: repositories.map((r) => this.wire(r)), nextToken };
  }

  async delete(scope: Scope, input: { repositoryName: string; registryId?: string; force?: boolean }) {
    this.checkRegistryId(scope, input.registryId);
    const record = await this.store.write(async (tx) => {
      const row = await this.get(tx, scope, input.repositoryName);
      const images = await tx.count(c.ecrImages, { repo: row.data.repositoryArn });
      if (images > 0 && !input.force) throw err.repositoryNotEmpty(input.repositoryName, scope.accountId);
      await this.images.purgeRepositoryTx(tx, row.data.repositoryArn);
      await tx.delete(c.ecrRepositories, row.pk);
      return row.data;
    });
    return { repository: this.wire(record) };
  }

  /** Applies `fn` to the repository document in one transaction; returns the new document. */
  async change(scope: Scope, name: string, registryId: string | undefined, fn: (r: RepositoryRecord) => RepositoryRecord): Promise<RepositoryRecord> {
    this.checkRegistryId(scope, registryId);
    return this.store.write(async (tx) => {
      const row = await this.get(tx, scope, name);
      const next = fn(row.data);
      await tx.update(c.ecrRepositories, row, next);
      return next;
    });
  }

  async putTagMutability(scope: Scope, input: { repositoryName: string; registryId?: string; imageTagMutability: ImageTagMutability }) {
    const mutability = supportedMutability(input.imageTagMutability);
    const r = await this.change(scope, input.repositoryName, input.registryId, (r) => ({ ...r, imageTagMutability: mutability }));
    return { registryId: r.registryId, repositoryName: r.repositoryName, imageTagMutability: r.imageTagMutability };
  }

  async putScanningConfiguration(scope: Scope, input: { repositoryName: string; registryId?: string; imageScanningConfiguration: { scanOnPush?: boolean } }) {
    const r = await this.change(scope, input.repositoryName, input.registryId, (r) => ({
      ...r,
      imageScanningConfiguration: { scanOnPush: input.imageScanningConfiguration.scanOnPush ?? false },
    }));
    return { registryId: r.registryId, repositoryName: r.repositoryName, imageScanningConfiguration: r.imageScanningConfiguration };
  }

  // ---- repository policy

  async setPolicy(scope: Scope, input: { repositoryName: string; registryId?: string; policyText: string; force?: boolean }) {
    // Enforced on every repository operation and on push/pull, so it must be a policy IAM accepts.
    checkPolicyDocument(input.policyText, `Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid repository policy provided'`);
    const r = await this.change(scope, input.repositoryName, input.registryId, (r) => ({ ...r, policyText: input.policyText }));
    return { registryId: r.registryId, repositoryName: r.repositoryName, policyText: r.policyText };
  }

  async getPolicy(scope: Scope, input: { repositoryName: string; registryId?: string }) {
    const r = await this.require(scope, input.repositoryName, input.registryId);
    if (r.policyText === undefined) throw err.repositoryPolicyNotFound(r.repositoryName, r.registryId);
    return { registryId: r.registryId, repositoryName: r.repositoryName, policyText: r.policyText };
  }

  async deletePolicy(scope: Scope, input: { repositoryName: string; registryId?: string }) {
    let policyText: string | undefined;
    const r = await this.change(scope, input.repositoryName, input.registryId, (r) => {
      if (r.policyText === undefined) throw err.repositoryPolicyNotFound(r.repositoryName, r.registryId);
      policyText = r.policyText;
      const { policyText: _removed, ...rest } = r;
      return rest;
    });
    return { registryId: r.registryId, repositoryName: r.repositoryName, policyText };
  }

  // ---- resource tags

  private scopeOfArn(arn: string): Scope & { name: string } {
    const parsed = parseRepositoryArn(arn);
    if (!parsed) throw err.invalidParameter(`Invalid parameter at 'resourceArn' failed to satisfy constraint: 'Invalid ARN'`);
    return parsed;
  }

  async listTags(resourceArn: string) {
    const s = this.scopeOfArn(resourceArn);
    return { tags: (await this.require(s, s.name)).tags };
  }

  async tag(resourceArn: string, tags: EcrTag[]) {
    const s = this.scopeOfArn(resourceArn);
    checkTags(tags);
    await this.change(s, s.name, undefined, (r) => {
      const merged = new Map(r.tags.map((t) => [t.Key, t.Value]));
      for (const t of tags) merged.set(t.Key, t.Value ?? '');
      if (merged.size > MAX_TAGS) throw new TooManyTags();
      return { ...r, tags: [...merged].map(([Key, Value]) => ({ Key, Value })) };
    });
    return {};
  }

  async untag(resourceArn: string, tagKeys: string[]) {
    const s = this.scopeOfArn(resourceArn);
    await this.change(s, s.name, undefined, (r) => ({ ...r, tags: r.tags.filter((t) => !tagKeys.includes(t.Key!)) }));
    return {};
  }

  /** What the registry data plane needs: find by name, list names, optionally create on push. */
  lookup(createOnPush: boolean): RepositoryLookup {
    const lookup: RepositoryLookup = {
      find: (scope: RegistryScope, name: string) => this.store.read(async (tx) => (await tx.get(c.ecrRepositories, repositoryArn(scope, name)))?.data),
      names: async (scope: RegistryScope) => {
        const rows = await this.store.read((tx) => tx.select(c.ecrRepositories, ['name'], { where: { account_region: `${scope.accountId}:${scope.region}` }, orderBy: [['name', 'asc']] }));
        return rows.map((r) => String(r.name));
      },
    };
    if (createOnPush) lookup.createForPush = (scope, name) => this.ensure(scope, name);
    return lookup;
  }

  /** The repository, created with the default settings if missing (create on push, replication). */
  async ensure(scope: Scope, name: string): Promise<RepositoryRecord> {
    const existing = await this.store.read(async (tx) => (await tx.get(c.ecrRepositories, repositoryArn(scope, name)))?.data as RepositoryRecord | undefined);
    if (existing) return existing;
    try {
      await this.create(scope, { repositoryName: name });
    } catch (e) {
      // Two pushes may race to create it; either way it exists now.
      if (!(e instanceof Error && (e as { code?: string }).code === 'RepositoryAlreadyExistsException')) throw e;
    }
    return this.require(scope, name);
  }
}

/**
 * The key ARN of the AWS managed key `alias/aws/ecr` of an account and region. There is no KMS
 * here, so its key id is derived from the account and region: stable, and one per region as in AWS.
 */
export function awsManagedEcrKeyArn(scope: Scope): string {
  const h = createHash('sha256').update(`alias/aws/ecr:${scope.accountId}:${scope.region}`).digest('hex');
  const id = `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
  return `arn:aws:kms:${scope.region}:${scope.accountId}:key/${id}`;
}

export class TooManyTags extends Error {}

function checkTags(tags: EcrTag[] | undefined) {
  if (!tags) return;
  if (tags.length > MAX_TAGS) throw new TooManyTags();
  for (const t of tags) {
    if (!t.Key) throw err.invalidParameter(`Invalid parameter at 'tags' failed to satisfy constraint: 'Tag keys must not be empty'`);
    if (/^aws:/i.test(t.Key)) throw new InvalidTagParameter(`Tag keys that begin with 'aws:' are reserved: ${t.Key}`);
  }
}

export class InvalidTagParameter extends Error {}

export { InvalidTokenError };

/**
 * The tag mutabilities Dockyard enforces. The *_WITH_EXCLUSION settings need exclusion filters,
 * which it does not implement: refused rather than stored and silently treated as MUTABLE.
 */
function supportedMutability(value: ImageTagMutability): 'MUTABLE' | 'IMMUTABLE' {
  if (value === 'MUTABLE' || value === 'IMMUTABLE') return value;
  throw err.invalidParameter(`Invalid parameter at 'imageTagMutability' failed to satisfy constraint: '${value}' is not supported by this registry (tag mutability exclusion filters are not implemented); use MUTABLE or IMMUTABLE`);
}
