/**
 * IAM groups: create/get/list/update/delete, members (one row per membership, by user id),
 * inline policies and attached managed policies. A user's groups' policies are in force for
 * the user (services/iam/identity-policies.ts).
 */
import type { RequestContext } from '../../aws/service.js';
import type { Clock } from '../../core/clock.js';
import * as c from '../../store/collections.js';
import type { IamGroupDoc } from '../../store/collections.js';
import type { Row, Store, StoreTx } from '../../store/store.js';
import { getInlinePolicy, iamPage, inlinePolicyName, putInlinePolicy } from './common.js';
import { alreadyExists, deleteConflict, noSuchEntity } from './errors.js';
import { checkName, checkPath, uniqueId, wholeSeconds } from './ids.js';
import type { ManagedPolicies, Principal } from './policies.js';
import type { ListInput } from './types.js';
import type { Users } from './users.js';

export const groupKey = (accountId: string, name: string) => `${accountId}:${name.toLowerCase()}`;
const groupArn = (accountId: string, path: string, name: string) => `arn:aws:iam::${accountId}:group${path}${name}`;

export class Groups {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly policies: ManagedPolicies,
    private readonly users: Users,
  ) {}

  wire(g: IamGroupDoc) {
    return { Path: g.path, GroupName: g.groupName, GroupId: g.groupId, Arn: g.arn, CreateDate: g.createDate };
  }

  async get(tx: StoreTx, accountId: string, name: string): Promise<Row<IamGroupDoc>> {
    const row = await tx.get(c.iamGroups, groupKey(accountId, name));
    if (!row) throw noSuchEntity(`The group with name ${name} cannot be found.`);
    return row;
  }

  private principal(g: IamGroupDoc): Principal {
    return { kind: 'group', id: g.groupId, name: g.groupName };
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
    await this.store.write(async (tx) => {
      if (await tx.get(c.iamGroups, groupKey(ctx.accountId, input.GroupName))) throw alreadyExists(`Group with name ${input.GroupName} already exists.`);
      await tx.insert(c.iamGroups, groupKey(ctx.accountId, input.GroupName), group);
    });
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
    const prefix = input.PathPrefix ?? '/';
    const rows = await this.store.read((tx) => tx.find(c.iamGroups, { where: { account: ctx.accountId }, orderBy: [['pk', 'asc']] }));
    const groups = rows.map((r) => r.data).filter((g) => g.path.startsWith(prefix));
    const page = iamPage(groups, (g) => g.groupName.toLowerCase(), input);
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
      const newKey = groupKey(ctx.accountId, name);
      if (newKey === row.pk) await tx.update(c.iamGroups, row, next);
      else {
        if (await tx.get(c.iamGroups, newKey)) throw alreadyExists(`Group with name ${name} already exists.`);
        await tx.delete(c.iamGroups, row.pk);
        await tx.insert(c.iamGroups, newKey, next);
      }
    });
    return {};
  }

  async delete(ctx: RequestContext, input: { GroupName: string }) {
    await this.store.write(async (tx) => {
      const row = await this.get(tx, ctx.accountId, input.GroupName);
      const group = row.data;
      if ((await tx.count(c.iamGroupMembers, { group_id: group.groupId })) > 0) throw deleteConflict('Cannot delete entity, must remove users from group first.');
      if (Object.keys(group.inlinePolicies).length > 0) throw deleteConflict('Cannot delete entity, must delete policies first.');
      if ((await this.policies.attachmentCount(tx, group.groupId)) > 0) throw deleteConflict('Cannot delete entity, must detach all policies first.');
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

  private async change(ctx: RequestContext, name: string, fn: (group: IamGroupDoc, tx: StoreTx) => Promise<IamGroupDoc | void> | IamGroupDoc | void) {
    await this.store.write(async (tx) => {
      const row = await this.get(tx, ctx.accountId, name);
      const next = await fn(row.data, tx);
      if (next) await tx.update(c.iamGroups, row, next);
    });
    return {};
  }

  putPolicy(ctx: RequestContext, input: { GroupName: string; PolicyName: string; PolicyDocument: string }) {
    return this.change(ctx, input.GroupName, (g) => ({
      ...g,
      inlinePolicies: putInlinePolicy(g.inlinePolicies, input.PolicyName, input.PolicyDocument, { kind: 'group', name: g.groupName }),
    }));
  }

  async getPolicy(ctx: RequestContext, input: { GroupName: string; PolicyName: string }) {
    const group = (await this.store.read((tx) => this.get(tx, ctx.accountId, input.GroupName))).data;
    return { GroupName: group.groupName, ...getInlinePolicy(group.inlinePolicies, input.PolicyName, { kind: 'group', name: group.groupName }) };
  }

  async listPolicies(ctx: RequestContext, input: { GroupName: string; Marker?: string; MaxItems?: number }) {
    const group = (await this.store.read((tx) => this.get(tx, ctx.accountId, input.GroupName))).data;
    const page = iamPage(Object.keys(group.inlinePolicies).sort(), (n) => n, input);
    return { PolicyNames: page.items, IsTruncated: page.IsTruncated, Marker: page.Marker };
  }

  deletePolicy(ctx: RequestContext, input: { GroupName: string; PolicyName: string }) {
    return this.change(ctx, input.GroupName, (g) => {
      const name = inlinePolicyName(g.inlinePolicies, input.PolicyName, { kind: 'group', name: g.groupName });
      const { [name]: _removed, ...rest } = g.inlinePolicies;
      return { ...g, inlinePolicies: rest };
    });
  }

  attachPolicy(ctx: RequestContext, input: { GroupName: string; PolicyArn: string }) {
    return this.change(ctx, input.GroupName, (g, tx) => this.policies.attach(tx, ctx.accountId, this.principal(g), input.PolicyArn));
  }

  detachPolicy(ctx: RequestContext, input: { GroupName: string; PolicyArn: string }) {
    return this.change(ctx, input.GroupName, (g, tx) => this.policies.detach(tx, this.principal(g), input.PolicyArn));
  }

  async listAttachedPolicies(ctx: RequestContext, input: ListInput & { GroupName: string }) {
    return this.store.read(async (tx) => {
      const group = (await this.get(tx, ctx.accountId, input.GroupName)).data;
      return this.policies.attached(tx, this.principal(group), input);
    });
  }
}
