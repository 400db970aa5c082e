/**
 * IAM groups: create/get/list/update/delete and members (one row per membership, by user id);
 * inline and attached managed policies come from IamEntities (entities.ts). A user's groups'
 * policies are in force for the user (services/iam/identity-policies.ts).
 */
import type { RequestContext } from '../../aws/service.js';
import type { Clock } from '../../core/clock.js';
import * as c from '../../store/collections.js';
import type { IamGroupDoc } from '../../store/collections.js';
import type { Store } from '../../store/store.js';
import { iamPage } from './common.js';
import { IamEntities } from './entities.js';
import { deleteConflict, noSuchEntity } from './errors.js';
import { checkName, checkPath, uniqueId, wholeSeconds } from './ids.js';
import type { ManagedPolicies } from './policies.js';
import type { ListInput } from './types.js';
import type { Users } from './users.js';

const groupArn = (accountId: string, path: string, name: string) => `arn:aws:iam::${accountId}:group${path}${name}`;

export class Groups extends IamEntities<IamGroupDoc, 'GroupName'> {
  constructor(
    store: Store,
    clock: Clock,
    policies: ManagedPolicies,
    private readonly users: Users,
  ) {
    super(store, clock, policies, {
      collection: c.iamGroups,
      nameMember: 'GroupName',
      notFound: (name) => noSuchEntity(`The group with name ${name} cannot be found.`),
      principal: (g) => ({ kind: 'group', id: g.groupId, name: g.groupName }),
    });
  }

  wire(g: IamGroupDoc) {
    return { Path: g.path, GroupName: g.groupName, GroupId: g.groupId, Arn: g.arn, CreateDate: g.createDate };
  }

  async create(ctx: RequestContext, input: { GroupName: string; Path?: string }) {
    checkName(input.GroupName, 'GroupName', 128);
    const path = checkPath(input.Path);
    const group: IamGroupDoc = {
      accountId: ctx.accountId,
      groupName: input.GroupName,
      groupId: uniqueId('AGPA'),
      path,
      arn: groupArn(ctx.accountId, path, input.GroupName),
      createDate: wholeSeconds(this.clock.now()),
      inlinePolicies: {},
    };
    await this.insert(ctx, input.GroupName, group, `Group with name ${input.GroupName} already exists.`);
    return { Group: this.wire(group) };
  }

  /** GetGroup: the group and its users. */
  async getGroup(ctx: RequestContext, input: { GroupName: string; Marker?: string; MaxItems?: number }) {
    return this.store.read(async (tx) => {
      const group = (await this.get(tx, ctx.accountId, input.GroupName)).data;
      const users = [];
      for (const { data: m } of await tx.find(c.iamGroupMembers, { where: { group_id: group.groupId } })) {
        const [user] = await tx.find(c.iamUsers, { where: { user_id: m.userId }, limit: 1 });
        if (user) users.push(user.data);
      }
      users.sort((a, b) => (a.userName.toLowerCase() < b.userName.toLowerCase() ? -1 : 1));
      const page = iamPage(users, (u) => u.userName.toLowerCase(), input);
      return { Group: this.wire(group), Users: page.items.map((u) => this.users.wire(u)), IsTruncated: page.IsTruncated, Marker: page.Marker };
    });
  }

  async list(ctx: RequestContext, input: ListInput) {
    const page = await this.page(ctx, input);
    return { Groups: page.items.map((g) => this.wire(g)), IsTruncated: page.IsTruncated, Marker: page.Marker };
  }

  async listForUser(ctx: RequestContext, input: { UserName: string; Marker?: string; MaxItems?: number }) {
    return this.store.read(async (tx) => {
      const user = (await this.users.get(tx, ctx.accountId, input.UserName)).data;
      const groups = [];
      for (const { data: m } of await tx.find(c.iamGroupMembers, { where: { user_id: user.userId } })) {
        const [g] = await tx.find(c.iamGroups, { where: { group_id: m.groupId }, limit: 1 });
        if (g) groups.push(g.data);
      }
      groups.sort((a, b) => (a.groupName.toLowerCase() < b.groupName.toLowerCase() ? -1 : 1));
      const page = iamPage(groups, (g) => g.groupName.toLowerCase(), input);
      return { Groups: page.items.map((g) => this.wire(g)), IsTruncated: page.IsTruncated, Marker: page.Marker };
    });
  }

  async update(ctx: RequestContext, input: { GroupName: string; NewGroupName?: string; NewPath?: string }) {
    if (input.NewGroupName !== undefined) checkName(input.NewGroupName, 'NewGroupName', 128);
    const newPath = input.NewPath === undefined ? undefined : checkPath(input.NewPath, 'NewPath');
    await this.store.write(async (tx) => {
      const row = await this.get(tx, ctx.accountId, input.GroupName);
      const name = input.NewGroupName ?? row.data.groupName;
      const path = newPath ?? row.data.path;
      const next: IamGroupDoc = { ...row.data, groupName: name, path, arn: groupArn(ctx.accountId, path, name) };
      await this.rename(tx, row, next, name, `Group with name ${name} already exists.`);
    });
    return {};
  }

  async delete(ctx: RequestContext, input: { GroupName: string }) {
    await this.store.write(async (tx) => {
      const row = await this.get(tx, ctx.accountId, input.GroupName);
      const group = row.data;
      if ((await tx.count(c.iamGroupMembers, { group_id: group.groupId })) > 0) throw deleteConflict('Cannot delete entity, must remove users from group first.');
      await this.checkNoPolicies(tx, group);
      await tx.delete(c.iamGroups, row.pk);
    });
    return {};
  }

  async addUser(ctx: RequestContext, input: { GroupName: string; UserName: string }) {
    await this.store.write(async (tx) => {
      const group = (await this.get(tx, ctx.accountId, input.GroupName)).data;
      const user = (await this.users.get(tx, ctx.accountId, input.UserName)).data;
      const key = `${group.groupId}|${user.userId}`;
      if (!(await tx.get(c.iamGroupMembers, key))) await tx.insert(c.iamGroupMembers, key, { groupId: group.groupId, userId: user.userId });
    });
    return {};
  }

  async removeUser(ctx: RequestContext, input: { GroupName: string; UserName: string }) {
    await this.store.write(async (tx) => {
      const group = (await this.get(tx, ctx.accountId, input.GroupName)).data;
      const user = (await this.users.get(tx, ctx.accountId, input.UserName)).data;
      if (!(await tx.delete(c.iamGroupMembers, `${group.groupId}|${user.userId}`))) {
        throw noSuchEntity(`The user with name ${input.UserName} cannot be found in group ${group.groupName}.`);
      }
    });
    return {};
  }
}
