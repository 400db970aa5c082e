/**
 * What IAM users, roles and groups share, once: lookup by name within the account, listing by
 * path prefix, read-modify-write of one entity, inline policies, attached managed policies and
 * (users and roles) tags. Each operation's input names the entity by its own member (UserName,
 * RoleName, GroupName), given as `nameMember`.
 */
import type { AwsError } from '../../aws/errors.js';
import type { RequestContext } from '../../aws/service.js';
import type { Clock } from '../../core/clock.js';
import type { Collection, Row, Store, StoreTx } from '../../store/store.js';
import { getInlinePolicy, iamPage, inlinePolicyName, mergeTags, putInlinePolicy, removeTags } from './common.js';
import { alreadyExists, deleteConflict } from './errors.js';
import type { ManagedPolicies, Principal } from './policies.js';
import type { ListInput, Tag } from './types.js';

/** Fields every user, role and group document has. */
interface EntityDoc {
  accountId: string;
  path: string;
  inlinePolicies: Record<string, string>;
}

export interface EntityKind<D extends EntityDoc, N extends string> {
  readonly collection: Collection<D>;
  /** The input member that names the entity (UserName, RoleName, GroupName). */
  readonly nameMember: N;
  notFound(name: string): AwsError;
  /** Its kind, id (AIDA…, AROA…, AGPA…) and name, for attachments and inline policy limits. */
  principal(doc: D): Principal;
}

/** An input naming one entity by its member `N`. */
type Named<N extends string> = { readonly [K in N]: string };

/** Entities are keyed `<account>:<lowercased name>`: IAM names are unique regardless of case. */
export const entityKey = (accountId: string, name: string) => `${accountId}:${name.toLowerCase()}`;

export abstract class IamEntities<D extends EntityDoc, N extends string> {
  constructor(
    protected readonly store: Store,
    protected readonly clock: Clock,
    protected readonly policies: ManagedPolicies,
    private readonly kind: EntityKind<D, N>,
  ) {}

  /** The entity's name in an operation's input. */
  protected nameIn(input: Named<N>): string {
    return input[this.kind.nameMember];
  }

  async get(tx: StoreTx, accountId: string, name: string): Promise<Row<D>> {
    const row = await tx.get(this.kind.collection, entityKey(accountId, name));
    if (!row) throw this.kind.notFound(name);
    return row;
  }

  /** The named entity, read on its own. */
  protected async read(ctx: RequestContext, name: string): Promise<D> {
    return (await this.store.read((tx) => this.get(tx, ctx.accountId, name))).data;
  }

  /** Inserts a new entity, refusing a name taken in any case (`message`: IAM's EntityAlreadyExists wording). */
  protected async insert(ctx: RequestContext, name: string, doc: D, message: string): Promise<void> {
    await this.store.write(async (tx) => {
      if (await tx.get(this.kind.collection, entityKey(ctx.accountId, name))) throw alreadyExists(message);
      await tx.insert(this.kind.collection, entityKey(ctx.accountId, name), doc);
    });
  }

  /** Writes `next` for `row`, moving it to its new key when the name changed (`message` if that name is taken). */
  protected async rename(tx: StoreTx, row: Row<D>, next: D, name: string, message: string): Promise<void> {
    const newKey = entityKey(next.accountId, name);
    if (newKey === row.pk) {
      await tx.update(this.kind.collection, row, next);
      return;
    }
    if (await tx.get(this.kind.collection, newKey)) throw alreadyExists(message);
    await tx.delete(this.kind.collection, row.pk);
    await tx.insert(this.kind.collection, newKey, next);
  }

  /** The account's entities under `PathPrefix`, one Marker/MaxItems page, ordered by name. */
  protected async page(ctx: RequestContext, input: ListInput) {
    const prefix = input.PathPrefix ?? '/';
    const rows = await this.store.read((tx) => tx.find(this.kind.collection, { where: { account: ctx.accountId }, orderBy: [['pk', 'asc']] }));
    const docs = rows.map((r) => r.data).filter((d) => d.path.startsWith(prefix));
    return iamPage(docs, (d) => this.kind.principal(d).name.toLowerCase(), input);
  }

  /** IAM refuses to delete an entity that still has inline or attached policies. */
  protected async checkNoPolicies(tx: StoreTx, doc: D): Promise<void> {
    if (Object.keys(doc.inlinePolicies).length > 0) throw deleteConflict('Cannot delete entity, must delete policies first.');
    if ((await this.policies.attachmentCount(tx, this.kind.principal(doc).id)) > 0) throw deleteConflict('Cannot delete entity, must detach all policies first.');
  }

  /** Read-modify-write of the named entity: `fn` returns the new document, or nothing to leave it. */
  protected async change(ctx: RequestContext, name: string, fn: (doc: D, tx: StoreTx) => Promise<D | void> | D | void) {
    await this.store.write(async (tx) => {
      const row = await this.get(tx, ctx.accountId, name);
      const next = await fn(row.data, tx);
      if (next) await tx.update(this.kind.collection, row, next);
    });
    return {};
  }

  private owner(doc: D) {
    const { kind, name } = this.kind.principal(doc);
    return { kind, name };
  }

  // Inline policies

  putPolicy(ctx: RequestContext, input: Named<N> & { PolicyName: string; PolicyDocument: string }) {
    return this.change(ctx, this.nameIn(input), (d) => ({
      ...d,
      inlinePolicies: putInlinePolicy(d.inlinePolicies, input.PolicyName, input.PolicyDocument, this.owner(d)),
    }));
  }

  async getPolicy(ctx: RequestContext, input: Named<N> & { PolicyName: string }) {
    const doc = await this.read(ctx, this.nameIn(input));
    // A computed key widens to string: say the name member is there (GetUserPolicy answers UserName, …).
    return { [this.kind.nameMember]: this.owner(doc).name, ...getInlinePolicy(doc.inlinePolicies, input.PolicyName, this.owner(doc)) } as Named<N> & ReturnType<typeof getInlinePolicy>;
  }

  async listPolicies(ctx: RequestContext, input: Named<N> & { Marker?: string; MaxItems?: number }) {
    const doc = await this.read(ctx, this.nameIn(input));
    const page = iamPage(Object.keys(doc.inlinePolicies).sort(), (n) => n, input);
    return { PolicyNames: page.items, IsTruncated: page.IsTruncated, Marker: page.Marker };
  }

  deletePolicy(ctx: RequestContext, input: Named<N> & { PolicyName: string }) {
    return this.change(ctx, this.nameIn(input), (d) => {
      const name = inlinePolicyName(d.inlinePolicies, input.PolicyName, this.owner(d));
      const { [name]: _removed, ...rest } = d.inlinePolicies;
      return { ...d, inlinePolicies: rest };
    });
  }

  // Managed policies

  attachPolicy(ctx: RequestContext, input: Named<N> & { PolicyArn: string }) {
    return this.change(ctx, this.nameIn(input), (d, tx) => this.policies.attach(tx, ctx.accountId, this.kind.principal(d), input.PolicyArn));
  }

  detachPolicy(ctx: RequestContext, input: Named<N> & { PolicyArn: string }) {
    return this.change(ctx, this.nameIn(input), (d, tx) => this.policies.detach(tx, this.kind.principal(d), input.PolicyArn));
  }

  async listAttachedPolicies(ctx: RequestContext, input: Named<N> & ListInput) {
    return this.store.read(async (tx) => {
      const doc = (await this.get(tx, ctx.accountId, this.nameIn(input))).data;
      return this.policies.attached(tx, this.kind.principal(doc), input);
    });
  }
}

/** Users and roles also carry tags (IAM groups have none). */
export abstract class TaggedIamEntities<D extends EntityDoc & { tags: Tag[] }, N extends string> extends IamEntities<D, N> {
  tag(ctx: RequestContext, input: Named<N> & { Tags: Tag[] }) {
    return this.change(ctx, this.nameIn(input), (d) => ({ ...d, tags: mergeTags(d.tags, input.Tags) }));
  }

  untag(ctx: RequestContext, input: Named<N> & { TagKeys: string[] }) {
    return this.change(ctx, this.nameIn(input), (d) => ({ ...d, tags: removeTags(d.tags, input.TagKeys) }));
  }

  async listTags(ctx: RequestContext, input: Named<N> & { Marker?: string; MaxItems?: number }) {
    const doc = await this.read(ctx, this.nameIn(input));
    const page = iamPage(doc.tags, (t) => t.Key, input);
    return { Tags: page.items, IsTruncated: page.IsTruncated, Marker: page.Marker };
  }
}
