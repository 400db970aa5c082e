/**
 * IAM roles: create/get/list/update/delete with their trust policy (AssumeRolePolicyDocument);
 * tags, inline and attached managed policies come from IamEntities (entities.ts). STS reads
 * roles through `byArn`.
 */
import type { RequestContext } from '../../aws/service.js';
import type { Clock } from '../../core/clock.js';
import * as c from '../../store/collections.js';
import type { IamRoleDoc } from '../../store/collections.js';
import type { Store } from '../../store/store.js';
import { mergeTags } from './common.js';
import { entityKey, TaggedIamEntities } from './entities.js';
import { limitExceeded, roleNotFound } from './errors.js';
import { checkName, checkPath, roleArn, uniqueId, wholeSeconds } from './ids.js';
import type { ManagedPolicies } from './policies.js';
import { checkPolicyDocument, encodePolicyDocument, policySize } from './policy-document.js';
import type { ListInput, Tag } from './types.js';

const MAX_TRUST_POLICY_SIZE = 2048;

function checkTrustPolicy(document: string): void {
  checkPolicyDocument(document, 'trust');
  if (policySize(document) > MAX_TRUST_POLICY_SIZE) throw limitExceeded(`Cannot exceed quota for ACLSizePerRole: ${MAX_TRUST_POLICY_SIZE}`);
}

export class Roles extends TaggedIamEntities<IamRoleDoc, 'RoleName'> {
  constructor(store: Store, clock: Clock, policies: ManagedPolicies) {
    super(store, clock, policies, {
      collection: c.iamRoles,
      nameMember: 'RoleName',
      notFound: roleNotFound,
      principal: (r) => ({ kind: 'role', id: r.roleId, name: r.roleName }),
    });
  }

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

  /** The role an ARN names, if it exists in `accountId` (STS AssumeRole, task roles). */
  async byArn(accountId: string, arn: string): Promise<IamRoleDoc | undefined> {
    const m = /^arn:aws:iam::([0-9]{12}):role\/(?:.*\/)?([\w+=,.@-]+)$/.exec(arn);
    if (!m || m[1] !== accountId) return undefined;
    const row = await this.store.read((tx) => tx.get(c.iamRoles, entityKey(accountId, m[2]!)));
    return row && row.data.arn === arn ? row.data : undefined;
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
    await this.insert(ctx, input.RoleName, role, `Role with name ${input.RoleName} already exists.`);
    const { RoleLastUsed: _unused, ...wire } = this.wire(role, { full: true });
    return { Role: wire };
  }

  async getRole(ctx: RequestContext, input: { RoleName: string }) {
    return { Role: this.wire(await this.read(ctx, input.RoleName), { full: true }) };
  }

  async list(ctx: RequestContext, input: ListInput) {
    const page = await this.page(ctx, input);
    return { Roles: page.items.map((r) => this.wire(r)), IsTruncated: page.IsTruncated, Marker: page.Marker };
  }

  async delete(ctx: RequestContext, input: { RoleName: string }) {
    await this.store.write(async (tx) => {
      const row = await this.get(tx, ctx.accountId, input.RoleName);
      await this.checkNoPolicies(tx, row.data);
      await tx.delete(c.iamRoles, row.pk);
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
}
