/**
 * IAM users: create/get/list/update/delete, tags, inline policies and attached managed policies.
 * A user is keyed by `<account>:<lowercased name>`; everything else refers to its UserId.
 */
import type { RequestContext } from '../../aws/service.js';
import type { Clock } from '../../core/clock.js';
import * as c from '../../store/collections.js';
import type { IamUserDoc } from '../../store/collections.js';
import type { Row, Store, StoreTx } from '../../store/store.js';
import { getInlinePolicy, iamPage, inlinePolicyName, mergeTags, putInlinePolicy, removeTags } from './common.js';
import { alreadyExists, deleteConflict, userNotFound, validationError } from './errors.js';
import { checkName, checkPath, uniqueId, userArn, wholeSeconds } from './ids.js';
import type { ManagedPolicies, Principal } from './policies.js';
import type { ListInput, Tag } from './types.js';

export const userKey = (accountId: string, name: string) => `${accountId}:${name.toLowerCase()}`;

export class Users {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly policies: ManagedPolicies,
  ) {}

  /** The wire `User` shape (ListUsers leaves tags out, as IAM does). */
  wire(u: IamUserDoc, opts: { tags?: boolean } = {}) {
    return {
      Path: u.path,
      UserName: u.userName,
      UserId: u.userId,
      Arn: u.arn,
      CreateDate: u.createDate,
      Tags: opts.tags && u.tags.length > 0 ? u.tags : undefined,
    };
  }

  async get(tx: StoreTx, accountId: string, name: string): Promise<Row<IamUserDoc>> {
    const row = await tx.get(c.iamUsers, userKey(accountId, name));
    if (!row) throw userNotFound(name);
    return row;
  }

  /** The named user, or, without a name, the calling user (IAM's default for its user operations). */
  async resolve(tx: StoreTx, ctx: RequestContext, name: string | undefined): Promise<Row<IamUserDoc>> {
    if (name !== undefined) return this.get(tx, ctx.accountId, name);
    if (ctx.caller.kind === 'user') {
      const [row] = await tx.find(c.iamUsers, { where: { user_id: ctx.caller.userId }, limit: 1 });
      if (row) return row;
    }
    throw validationError('Must specify userName when calling with non-User credentials');
  }

  private principal(u: IamUserDoc): Principal {
    return { kind: 'user', id: u.userId, name: u.userName };
  }

  async create(ctx: RequestContext, input: { UserName: string; Path?: string; Tags?: Tag[]; PermissionsBoundary?: string }) {
    checkName(input.UserName, 'UserName');
    const path = checkPath(input.Path);
    const user: IamUserDoc = {
      accountId: ctx.accountId,
      userName: input.UserName,
      userId: uniqueId('AIDA'),
      path,
      arn: userArn(ctx.accountId, path, input.UserName),
      createDate: wholeSeconds(this.clock.now()),
      tags: mergeTags([], input.Tags),
      inlinePolicies: {},
    };
    await this.store.write(async (tx) => {
      if (await tx.get(c.iamUsers, userKey(ctx.accountId, input.UserName))) throw alreadyExists(`User with name ${input.UserName} already exists.`);
      await tx.insert(c.iamUsers, userKey(ctx.accountId, input.UserName), user);
    });
    return { User: this.wire(user, { tags: true }) };
  }

  async getUser(ctx: RequestContext, input: { UserName?: string }) {
    if (input.UserName === undefined && (ctx.caller.kind === 'root' || ctx.caller.kind === 'trusted')) {
      // The root user: IAM answers with the account's id and root ARN.
      return { User: { UserId: ctx.accountId, Arn: `arn:aws:iam::${ctx.accountId}:root`, CreateDate: 0 } };
    }
    const row = await this.store.read((tx) => this.resolve(tx, ctx, input.UserName));
    return { User: this.wire(row.data, { tags: true }) };
  }

  async list(ctx: RequestContext, input: ListInput) {
    const prefix = input.PathPrefix ?? '/';
    const rows = await this.store.read((tx) => tx.find(c.iamUsers, { where: { account: ctx.accountId }, orderBy: [['pk', 'asc']] }));
    const users = rows.map((r) => r.data).filter((u) => u.path.startsWith(prefix));
    const page = iamPage(users, (u) => u.userName.toLowerCase(), input);
    return { Users: page.items.map((u) => this.wire(u)), IsTruncated: page.IsTruncated, Marker: page.Marker };
  }

  async update(ctx: RequestContext, input: { UserName: string; NewUserName?: string; NewPath?: string }) {
    if (input.NewUserName !== undefined) checkName(input.NewUserName, 'NewUserName');
    const newPath = input.NewPath === undefined ? undefined : checkPath(input.NewPath, 'NewPath');
    await this.store.write(async (tx) => {
      const row = await this.get(tx, ctx.accountId, input.UserName);
      const name = input.NewUserName ?? row.data.userName;
      const path = newPath ?? row.data.path;
      const next: IamUserDoc = { ...row.data, userName: name, path, arn: userArn(ctx.accountId, path, name) };
      const newKey = userKey(ctx.accountId, name);
      if (newKey === row.pk) {
        await tx.update(c.iamUsers, row, next);
      } else {
        if (await tx.get(c.iamUsers, newKey)) throw alreadyExists(`User with name ${name} already exists.`);
        await tx.delete(c.iamUsers, row.pk);
        await tx.insert(c.iamUsers, newKey, next);
      }
    });
    return {};
  }

  async delete(ctx: RequestContext, input: { UserName: string }) {
    await this.store.write(async (tx) => {
      const row = await this.get(tx, ctx.accountId, input.UserName);
      const user = row.data;
      if ((await tx.count(c.iamAccessKeys, { user_id: user.userId })) > 0) throw deleteConflict('Cannot delete entity, must delete access keys first.');
      if (Object.keys(user.inlinePolicies).length > 0) throw deleteConflict('Cannot delete entity, must delete policies first.');
      if ((await this.policies.attachmentCount(tx, user.userId)) > 0) throw deleteConflict('Cannot delete entity, must detach all policies first.');
      if ((await tx.count(c.iamGroupMembers, { user_id: user.userId })) > 0) throw deleteConflict('Cannot delete entity, must remove users from group first.');
      await tx.delete(c.iamUsers, row.pk);
    });
    return {};
  }

  private async change(ctx: RequestContext, name: string, fn: (user: IamUserDoc, tx: StoreTx) => Promise<IamUserDoc | void> | IamUserDoc | void) {
    await this.store.write(async (tx) => {
      const row = await this.get(tx, ctx.accountId, name);
      const next = await fn(row.data, tx);
      if (next) await tx.update(c.iamUsers, row, next);
    });
    return {};
  }

  tag(ctx: RequestContext, input: { UserName: string; Tags: Tag[] }) {
    return this.change(ctx, input.UserName, (u) => ({ ...u, tags: mergeTags(u.tags, input.Tags) }));
  }

  untag(ctx: RequestContext, input: { UserName: string; TagKeys: string[] }) {
    return this.change(ctx, input.UserName, (u) => ({ ...u, tags: removeTags(u.tags, input.TagKeys) }));
  }

  async listTags(ctx: RequestContext, input: { UserName: string; Marker?: string; MaxItems?: number }) {
    const user = (await this.store.read((tx) => this.get(tx, ctx.accountId, input.UserName))).data;
    const page = iamPage(user.tags, (t) => t.Key, input);
    return { Tags: page.items, IsTruncated: page.IsTruncated, Marker: page.Marker };
  }

  // Inline policies

  putPolicy(ctx: RequestContext, input: { UserName: string; PolicyName: string; PolicyDocument: string }) {
    return this.change(ctx, input.UserName, (u) => ({
      ...u,
      inlinePolicies: putInlinePolicy(u.inlinePolicies, input.PolicyName, input.PolicyDocument, { kind: 'user', name: u.userName }),
    }));
  }

  async getPolicy(ctx: RequestContext, input: { UserName: string; PolicyName: string }) {
    const user = (await this.store.read((tx) => this.get(tx, ctx.accountId, input.UserName))).data;
    return { UserName: user.userName, ...getInlinePolicy(user.inlinePolicies, input.PolicyName, { kind: 'user', name: user.userName }) };
  }

  async listPolicies(ctx: RequestContext, input: { UserName: string; Marker?: string; MaxItems?: number }) {
    const user = (await this.store.read((tx) => this.get(tx, ctx.accountId, input.UserName))).data;
    const page = iamPage(Object.keys(user.inlinePolicies).sort(), (n) => n, input);
    return { PolicyNames: page.items, IsTruncated: page.IsTruncated, Marker: page.Marker };
  }

  deletePolicy(ctx: RequestContext, input: { UserName: string; PolicyName: string }) {
    return this.change(ctx, input.UserName, (u) => {
      const name = inlinePolicyName(u.inlinePolicies, input.PolicyName, { kind: 'user', name: u.userName });
      const { [name]: _removed, ...rest } = u.inlinePolicies;
      return { ...u, inlinePolicies: rest };
    });
  }

  // Managed policies

  attachPolicy(ctx: RequestContext, input: { UserName: string; PolicyArn: string }) {
    return this.change(ctx, input.UserName, (u, tx) => this.policies.attach(tx, ctx.accountId, this.principal(u), input.PolicyArn));
  }

  detachPolicy(ctx: RequestContext, input: { UserName: string; PolicyArn: string }) {
    return this.change(ctx, input.UserName, (u, tx) => this.policies.detach(tx, this.principal(u), input.PolicyArn));
  }

  async listAttachedPolicies(ctx: RequestContext, input: ListInput & { UserName: string }) {
    return this.store.read(async (tx) => {
      const user = (await this.get(tx, ctx.accountId, input.UserName)).data;
      return this.policies.attached(tx, this.principal(user), input);
    });
  }
}
