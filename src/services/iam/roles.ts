/**
 * IAM roles: create/get/list/update/delete with their trust policy (AssumeRolePolicyDocument),
 * tags, inline policies and attached managed policies. STS reads roles through `byArn`.
 */
import type { RequestContext } from '../../aws/service.js';
import type { Clock } from '../../core/clock.js';
import * as c from '../../store/collections.js';
import type { IamRoleDoc } from '../../store/collections.js';
import type { Row, Store, StoreTx } from '../../store/store.js';
import { getInlinePolicy, iamPage, inlinePolicyName, mergeTags, putInlinePolicy, removeTags } from './common.js';
import { alreadyExists, deleteConflict, limitExceeded, roleNotFound } from './errors.js';
import { checkName, checkPath, roleArn, uniqueId, wholeSeconds } from './ids.js';
import type { ManagedPolicies, Principal } from './policies.js';
import { checkPolicyDocument, encodePolicyDocument, policySize } from './policy-document.js';
import type { ListInput, Tag } from './types.js';

export const roleKey = (accountId: string, name: string) => `${accountId}:${name.toLowerCase()}`;

const MAX_TRUST_POLICY_SIZE = 2048;

function checkTrustPolicy(document: string): void {
  checkPolicyDocument(document, 'trust');
  if (policySize(document) > MAX_TRUST_POLICY_SIZE) throw limitExceeded(`Cannot exceed quota for ACLSizePerRole: ${MAX_TRUST_POLICY_SIZE}`);
}

export class Roles {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly policies: ManagedPolicies,
  ) {}

  /** The wire `Role` shape; ListRoles leaves tags and RoleLastUsed out, as IAM does. */
  wire(r: IamRoleDoc, opts: { full?: boolean } = {}) {
    return {
      Path: r.path,
      RoleName: r.roleName,
      RoleId: r.roleId,
      Arn: r.arn,
      CreateDate: r.createDate,
      AssumeRolePolicyDocument: encodePolicyDocument(r.assumeRolePolicyDocument),
      Description: r.description,
      MaxSessionDuration: r.maxSessionDuration,
      Tags: opts.full && r.tags.length > 0 ? r.tags : undefined,
      RoleLastUsed: opts.full ? (r.roleLastUsed ?? {}) : undefined,
    };
  }

  async get(tx: StoreTx, accountId: string, name: string): Promise<Row<IamRoleDoc>> {
    const row = await tx.get(c.iamRoles, roleKey(accountId, name));
    if (!row) throw roleNotFound(name);
    return row;
  }

  /** The role an ARN names, if it exists in `accountId` (STS AssumeRole, task roles). */
  async byArn(accountId: string, arn: string): Promise<IamRoleDoc | undefined> {
    const m = /^arn:aws:iam::([0-9]{12}):role\/(?:.*\/)?([\w+=,.@-]+)$/.exec(arn);
    if (!m || m[1] !== accountId) return undefined;
    const row = await this.store.read((tx) => tx.get(c.iamRoles, roleKey(accountId, m[2]!)));
    return row && row.data.arn === arn ? row.data : undefined;
  }

  private principal(r: IamRoleDoc): Principal {
    return { kind: 'role', id: r.roleId, name: r.roleName };
  }

  async create(
    ctx: RequestContext,
    input: { RoleName: string; Path?: string; AssumeRolePolicyDocument: string; Description?: string; MaxSessionDuration?: number; Tags?: Tag[] },
  ) {
    checkName(input.RoleName, 'RoleName');
    const path = checkPath(input.Path);
    checkTrustPolicy(input.AssumeRolePolicyDocument);
    const role: IamRoleDoc = {
      accountId: ctx.accountId,
      roleName: input.RoleName,
      roleId: uniqueId('AROA'),
      path,
      arn: roleArn(ctx.accountId, path, input.RoleName),
      createDate: wholeSeconds(this.clock.now()),
      assumeRolePolicyDocument: input.AssumeRolePolicyDocument,
      description: input.Description,
      maxSessionDuration: input.MaxSessionDuration ?? 3600,
      tags: mergeTags([], input.Tags),
      inlinePolicies: {},
    };
    await this.store.write(async (tx) => {
      if (await tx.get(c.iamRoles, roleKey(ctx.accountId, input.RoleName))) throw alreadyExists(`Role with name ${input.RoleName} already exists.`);
      await tx.insert(c.iamRoles, roleKey(ctx.accountId, input.RoleName), role);
    });
    const { RoleLastUsed: _unused, ...wire } = this.wire(role, { full: true });
    return { Role: wire };
  }

  async getRole(ctx: RequestContext, input: { RoleName: string }) {
    const row = await this.store.read((tx) => this.get(tx, ctx.accountId, input.RoleName));
    return { Role: this.wire(row.data, { full: true }) };
  }

  async list(ctx: RequestContext, input: ListInput) {
    const prefix = input.PathPrefix ?? '/';
    const rows = await this.store.read((tx) => tx.find(c.iamRoles, { where: { account: ctx.accountId }, orderBy: [['pk', 'asc']] }));
    const roles = rows.map((r) => r.data).filter((r) => r.path.startsWith(prefix));
    const page = iamPage(roles, (r) => r.roleName.toLowerCase(), input);
    return { Roles: page.items.map((r) => this.wire(r)), IsTruncated: page.IsTruncated, Marker: page.Marker };
  }

  async delete(ctx: RequestContext, input: { RoleName: string }) {
    await this.store.write(async (tx) => {
      const row = await this.get(tx, ctx.accountId, input.RoleName);
      if (Object.keys(row.data.inlinePolicies).length > 0) throw deleteConflict('Cannot delete entity, must delete policies first.');
      if ((await this.policies.attachmentCount(tx, row.data.roleId)) > 0) throw deleteConflict('Cannot delete entity, must detach all policies first.');
      await tx.delete(c.iamRoles, row.pk);
    });
    return {};
  }

  private async change(ctx: RequestContext, name: string, fn: (role: IamRoleDoc, tx: StoreTx) => Promise<IamRoleDoc | void> | IamRoleDoc | void) {
    await this.store.write(async (tx) => {
      const row = await this.get(tx, ctx.accountId, name);
      const next = await fn(row.data, tx);
      if (next) await tx.update(c.iamRoles, row, next);
    });
    return {};
  }

  updateAssumeRolePolicy(ctx: RequestContext, input: { RoleName: string; PolicyDocument: string }) {
    checkTrustPolicy(input.PolicyDocument);
    return this.change(ctx, input.RoleName, (r) => ({ ...r, assumeRolePolicyDocument: input.PolicyDocument }));
  }

  update(ctx: RequestContext, input: { RoleName: string; Description?: string; MaxSessionDuration?: number }) {
    return this.change(ctx, input.RoleName, (r) => ({
      ...r,
      description: input.Description ?? r.description,
      maxSessionDuration: input.MaxSessionDuration ?? r.maxSessionDuration,
    }));
  }

  async updateDescription(ctx: RequestContext, input: { RoleName: string; Description: string }) {
    await this.update(ctx, input);
    return this.getRole(ctx, input);
  }

  tag(ctx: RequestContext, input: { RoleName: string; Tags: Tag[] }) {
    return this.change(ctx, input.RoleName, (r) => ({ ...r, tags: mergeTags(r.tags, input.Tags) }));
  }

  untag(ctx: RequestContext, input: { RoleName: string; TagKeys: string[] }) {
    return this.change(ctx, input.RoleName, (r) => ({ ...r, tags: removeTags(r.tags, input.TagKeys) }));
  }

  async listTags(ctx: RequestContext, input: { RoleName: string; Marker?: string; MaxItems?: number }) {
    const role = (await this.store.read((tx) => this.get(tx, ctx.accountId, input.RoleName))).data;
    const page = iamPage(role.tags, (t) => t.Key, input);
    return { Tags: page.items, IsTruncated: page.IsTruncated, Marker: page.Marker };
  }

  // Inline policies

  putPolicy(ctx: RequestContext, input: { RoleName: string; PolicyName: string; PolicyDocument: string }) {
    return this.change(ctx, input.RoleName, (r) => ({
      ...r,
      inlinePolicies: putInlinePolicy(r.inlinePolicies, input.PolicyName, input.PolicyDocument, { kind: 'role', name: r.roleName }),
    }));
  }

  async getPolicy(ctx: RequestContext, input: { RoleName: string; PolicyName: string }) {
    const role = (await this.store.read((tx) => this.get(tx, ctx.accountId, input.RoleName))).data;
    return { RoleName: role.roleName, ...getInlinePolicy(role.inlinePolicies, input.PolicyName, { kind: 'role', name: role.roleName }) };
  }

  async listPolicies(ctx: RequestContext, input: { RoleName: string; Marker?: string; MaxItems?: number }) {
    const role = (await this.store.read((tx) => this.get(tx, ctx.accountId, input.RoleName))).data;
    const page = iamPage(Object.keys(role.inlinePolicies).sort(), (n) => n, input);
    return { PolicyNames: page.items, IsTruncated: page.IsTruncated, Marker: page.Marker };
  }

  deletePolicy(ctx: RequestContext, input: { RoleName: string; PolicyName: string }) {
    return this.change(ctx, input.RoleName, (r) => {
      const name = inlinePolicyName(r.inlinePolicies, input.PolicyName, { kind: 'role', name: r.roleName });
      const { [name]: _removed, ...rest } = r.inlinePolicies;
      return { ...r, inlinePolicies: rest };
    });
  }

  // Managed policies

  attachPolicy(ctx: RequestContext, input: { RoleName: string; PolicyArn: string }) {
    return this.change(ctx, input.RoleName, (r, tx) => this.policies.attach(tx, ctx.accountId, this.principal(r), input.PolicyArn));
  }

  detachPolicy(ctx: RequestContext, input: { RoleName: string; PolicyArn: string }) {
    return this.change(ctx, input.RoleName, (r, tx) => this.policies.detach(tx, this.principal(r), input.PolicyArn));
  }

  async listAttachedPolicies(ctx: RequestContext, input: ListInput & { RoleName: string }) {
    return this.store.read(async (tx) => {
      const role = (await this.get(tx, ctx.accountId, input.RoleName)).data;
      return this.policies.attached(tx, this.principal(role), input);
    });
  }
}
