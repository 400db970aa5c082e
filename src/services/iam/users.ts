/**
 * IAM users: create/get/list/update/delete; tags, inline and attached managed policies come from
 * IamEntities (entities.ts). A user is keyed by `<account>:<lowercased name>`; everything else
 * refers to its UserId.
 */
import type { RequestContext } from '../../aws/service.js';
import type { Clock } from '../../core/clock.js';
import * as c from '../../store/collections.js';
import type { IamUserDoc } from '../../store/collections.js';
import type { Row, Store, StoreTx } from '../../store/store.js';
import { mergeTags } from './common.js';
import { TaggedIamEntities } from './entities.js';
import { deleteConflict, userNotFound, validationError } from './errors.js';
import { checkName, checkPath, uniqueId, userArn, wholeSeconds } from './ids.js';
import type { ManagedPolicies } from './policies.js';
import type { ListInput, Tag } from './types.js';

export class Users extends TaggedIamEntities<IamUserDoc, 'UserName'> {
  constructor(store: Store, clock: Clock, policies: ManagedPolicies) {
    super(store, clock, policies, {
      collection: c.iamUsers,
      nameMember: 'UserName',
      notFound: userNotFound,
      principal: (u) => ({ kind: 'user', id: u.userId, name: u.userName }),
    });
  }

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

  /** The named user, or, without a name, the calling user (IAM's default for its user operations). */
  async resolve(tx: StoreTx, ctx: RequestContext, name: string | undefined): Promise<Row<IamUserDoc>> {
    if (name !== undefined) return this.get(tx, ctx.accountId, name);
    if (ctx.caller.kind === 'user') {
      const [row] = await tx.find(c.iamUsers, { where: { user_id: ctx.caller.userId }, limit: 1 });
      if (row) return row;
    }
    throw validationError('Must specify userName when calling with non-User credentials');
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
    await this.insert(ctx, input.UserName, user, `User with name ${input.UserName} already exists.`);
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
    const page = await this.page(ctx, input);
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
      await this.rename(tx, row, next, name, `User with name ${name} already exists.`);
    });
    return {};
  }

  async delete(ctx: RequestContext, input: { UserName: string }) {
    await this.store.write(async (tx) => {
      const row = await this.get(tx, ctx.accountId, input.UserName);
      const user = row.data;
      if ((await tx.count(c.iamAccessKeys, { user_id: user.userId })) > 0) throw deleteConflict('Cannot delete entity, must delete access keys first.');
      await this.checkNoPolicies(tx, user);
      if ((await tx.count(c.iamGroupMembers, { user_id: user.userId })) > 0) throw deleteConflict('Cannot delete entity, must remove users from group first.');
      await tx.delete(c.iamUsers, row.pk);
    });
    return {};
  }
}
