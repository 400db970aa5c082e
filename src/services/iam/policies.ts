/**
 * Managed policies: customer managed ones (stored, with up to 5 versions) and the built-in AWS
 * managed ones (aws-managed.ts), and their attachments to users and roles (one row per
 * attachment, keyed by the principal's immutable id, so AttachmentCount is a count).
 */
import type { Clock } from '../../core/clock.js';
import * as c from '../../store/collections.js';
import type { IamPolicyDoc } from '../../store/collections.js';
import type { Store, StoreTx } from '../../store/store.js';
import { AWS_MANAGED_POLICIES, type AwsManagedPolicy } from './aws-managed.js';
import { iamPage, mergeTags } from './common.js';
import { deleteConflict, invalidInput, limitExceeded, noSuchEntity, notAttachable, policyNotFound, alreadyExists } from './errors.js';
import { checkName, checkPath, policyArn, uniqueId, wholeSeconds } from './ids.js';
import { checkPolicyDocument, encodePolicyDocument, policySize } from './policy-document.js';
import type { ListInput, Tag } from './types.js';

const MAX_VERSIONS = 5;
const POLICY_ARN = /^arn:aws:iam::([0-9]{12}|aws):policy\/.+$/;
const MAX_POLICY_SIZE = 6144;
/** Managed policies one user or role may have attached. */
const MAX_ATTACHED = 10;

type AnyPolicy = { aws: AwsManagedPolicy } | { local: IamPolicyDoc };

export interface Principal {
  kind: 'user' | 'role' | 'group';
  /** AIDA…, AROA… or AGPA… */
  id: string;
  name: string;
}

export class ManagedPolicies {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  private async find(tx: StoreTx, accountId: string, arn: string): Promise<AnyPolicy | undefined> {
    if (!POLICY_ARN.test(arn)) throw invalidInput(`ARN ${arn} is not valid.`);
    const aws = AWS_MANAGED_POLICIES.get(arn);
    if (aws) return { aws };
    const row = await tx.get(c.iamPolicies, arn);
    return row && row.data.accountId === accountId ? { local: row.data } : undefined;
  }

  private async wire(tx: StoreTx, p: AnyPolicy, opts: { tags?: boolean } = {}) {
    const d = 'aws' in p ? p.aws : p.local;
    const attachments = await tx.count(c.iamAttachments, { policy: attachmentKey('aws' in p ? 'aws' : p.local.accountId, d.arn) });
    return {
      PolicyName: d.policyName,
      PolicyId: d.policyId,
      Arn: d.arn,
      Path: d.path,
      DefaultVersionId: d.defaultVersionId,
      AttachmentCount: attachments,
      PermissionsBoundaryUsageCount: 0,
      IsAttachable: true,
      Description: d.description,
      CreateDate: d.createDate,
      UpdateDate: d.updateDate,
      Tags: opts.tags && 'local' in p && p.local.tags.length > 0 ? p.local.tags : undefined,
    };
  }

  async create(accountId: string, input: { PolicyName: string; Path?: string; PolicyDocument: string; Description?: string; Tags?: Tag[] }) {
    checkName(input.PolicyName, 'PolicyName', 128);
    const path = checkPath(input.Path);
    checkManagedDocument(input.PolicyDocument);
    const now = wholeSeconds(this.clock.now());
    const doc: IamPolicyDoc = {
      accountId,
      policyName: input.PolicyName,
      policyId: uniqueId('ANPA'),
      arn: policyArn(accountId, path, input.PolicyName),
      path,
      description: input.Description,
      createDate: now,
      updateDate: now,
      defaultVersionId: 'v1',
      nextVersion: 2,
      versions: [{ versionId: 'v1', document: input.PolicyDocument, createDate: now }],
      tags: mergeTags([], input.Tags),
    };
    return this.store.write(async (tx) => {
      const sameName = await tx.count(c.iamPolicies, { name: `${accountId}:${input.PolicyName.toLowerCase()}` });
      if (sameName > 0 || (await tx.get(c.iamPolicies, doc.arn))) {
        throw alreadyExists(`A policy called ${input.PolicyName} already exists. Duplicate names are not allowed.`);
      }
      await tx.insert(c.iamPolicies, doc.arn, doc);
      return { Policy: await this.wire(tx, { local: doc }, { tags: true }) };
    });
  }

  async get(accountId: string, input: { PolicyArn: string }) {
    return this.store.read(async (tx) => {
      const p = await this.find(tx, accountId, input.PolicyArn);
      if (!p) throw policyNotFound(input.PolicyArn);
      return { Policy: await this.wire(tx, p, { tags: true }) };
    });
  }

  async list(accountId: string, input: ListInput & { Scope?: 'All' | 'AWS' | 'Local'; OnlyAttached?: boolean }) {
    const prefix = input.PathPrefix ?? '/';
    return this.store.read(async (tx) => {
      const all: AnyPolicy[] = [];
      if (input.Scope !== 'Local') for (const aws of AWS_MANAGED_POLICIES.values()) all.push({ aws });
      if (input.Scope !== 'AWS') for (const row of await tx.find(c.iamPolicies, { where: { account: accountId } })) all.push({ local: row.data });
      const wired = [];
      for (const p of all) {
        const w = await this.wire(tx, p);
        if (!w.Path.startsWith(prefix) || (input.OnlyAttached && w.AttachmentCount === 0)) continue;
        wired.push(w);
      }
      wired.sort((a, b) => (a.Arn < b.Arn ? -1 : a.Arn > b.Arn ? 1 : 0));
      const page = iamPage(wired, (p) => p.Arn, input);
      return { Policies: page.items.map(({ Tags: _tags, ...p }) => p), IsTruncated: page.IsTruncated, Marker: page.Marker };
    });
  }

  async delete(accountId: string, input: { PolicyArn: string }) {
    await this.store.write(async (tx) => {
      const policy = await this.local(tx, accountId, input.PolicyArn);
      if ((await tx.count(c.iamAttachments, { policy: attachmentKey(accountId, policy.arn) })) > 0) {
        throw deleteConflict('Cannot delete a policy attached to entities.');
      }
      if (policy.versions.length > 1) {
        throw deleteConflict("This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.");
      }
      await tx.delete(c.iamPolicies, policy.arn);
    });
    return {};
  }

  /** A customer managed policy of this account, for changes (AWS managed policies are read-only). */
  private async local(tx: StoreTx, accountId: string, arn: string) {
    if (!POLICY_ARN.test(arn)) throw invalidInput(`ARN ${arn} is not valid.`);
    if (AWS_MANAGED_POLICIES.has(arn)) throw invalidInput(`Policy ${arn} is an AWS managed policy and cannot be changed.`);
    const row = await tx.get(c.iamPolicies, arn);
    if (!row || row.data.accountId !== accountId) throw policyNotFound(arn);
    return row.data;
  }

  private async update(tx: StoreTx, doc: IamPolicyDoc) {
    const row = await tx.get(c.iamPolicies, doc.arn);
    await tx.update(c.iamPolicies, row!, doc);
  }

  async createVersion(accountId: string, input: { PolicyArn: string; PolicyDocument: string; SetAsDefault?: boolean }) {
    checkManagedDocument(input.PolicyDocument);
    return this.store.write(async (tx) => {
      const policy = await this.local(tx, accountId, input.PolicyArn);
      if (policy.versions.length >= MAX_VERSIONS) {
        throw limitExceeded('A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.');
      }
      const now = wholeSeconds(this.clock.now());
      const version = { versionId: `v${policy.nextVersion}`, document: input.PolicyDocument, createDate: now };
      const next: IamPolicyDoc = {
        ...policy,
        versions: [...policy.versions, version],
        nextVersion: policy.nextVersion + 1,
        defaultVersionId: input.SetAsDefault ? version.versionId : policy.defaultVersionId,
        updateDate: now,
      };
      await this.update(tx, next);
      return { PolicyVersion: { VersionId: version.versionId, IsDefaultVersion: next.defaultVersionId === version.versionId, CreateDate: now } };
    });
  }

  async getVersion(accountId: string, input: { PolicyArn: string; VersionId: string }) {
    return this.store.read(async (tx) => {
      const p = await this.find(tx, accountId, input.PolicyArn);
      if (!p) throw policyNotFound(input.PolicyArn);
      const versions = 'aws' in p ? [{ versionId: p.aws.defaultVersionId, document: p.aws.document, createDate: p.aws.updateDate }] : p.local.versions;
      const defaultId = 'aws' in p ? p.aws.defaultVersionId : p.local.defaultVersionId;
      const v = versions.find((x) => x.versionId === input.VersionId);
      if (!v) throw noSuchEntity(`Policy ${input.PolicyArn} version ${input.VersionId} does not exist or is not attachable.`);
      return { PolicyVersion: { Document: encodePolicyDocument(v.document), VersionId: v.versionId, IsDefaultVersion: v.versionId === defaultId, CreateDate: v.createDate } };
    });
  }

  async listVersions(accountId: string, input: { PolicyArn: string; Marker?: string; MaxItems?: number }) {
    return this.store.read(async (tx) => {
      const p = await this.find(tx, accountId, input.PolicyArn);
      if (!p) throw policyNotFound(input.PolicyArn);
      const versions = 'aws' in p ? [{ versionId: p.aws.defaultVersionId, createDate: p.aws.updateDate }] : [...p.local.versions].reverse();
      const defaultId = 'aws' in p ? p.aws.defaultVersionId : p.local.defaultVersionId;
      const page = iamPage(versions, (v) => v.versionId, input);
      return {
        Versions: page.items.map((v) => ({ VersionId: v.versionId, IsDefaultVersion: v.versionId === defaultId, CreateDate: v.createDate })),
        IsTruncated: page.IsTruncated,
        Marker: page.Marker,
      };
    });
  }

  async deleteVersion(accountId: string, input: { PolicyArn: string; VersionId: string }) {
    await this.store.write(async (tx) => {
      const policy = await this.local(tx, accountId, input.PolicyArn);
      if (!policy.versions.some((v) => v.versionId === input.VersionId)) {
        throw noSuchEntity(`Policy ${input.PolicyArn} version ${input.VersionId} does not exist or is not attachable.`);
      }
      if (policy.defaultVersionId === input.VersionId) throw deleteConflict('Cannot delete the default version of a policy.');
      await this.update(tx, { ...policy, versions: policy.versions.filter((v) => v.versionId !== input.VersionId) });
    });
    return {};
  }

  async setDefaultVersion(accountId: string, input: { PolicyArn: string; VersionId: string }) {
    await this.store.write(async (tx) => {
      const policy = await this.local(tx, accountId, input.PolicyArn);
      if (!policy.versions.some((v) => v.versionId === input.VersionId)) {
        throw noSuchEntity(`Policy ${input.PolicyArn} version ${input.VersionId} does not exist or is not attachable.`);
      }
      await this.update(tx, { ...policy, defaultVersionId: input.VersionId, updateDate: wholeSeconds(this.clock.now()) });
    });
    return {};
  }

  // Attachments (called inside the user's or role's write, so the principal is known to exist).

  async attach(tx: StoreTx, accountId: string, principal: Principal, arn: string): Promise<void> {
    const p = await this.find(tx, accountId, arn);
    if (!p) throw notAttachable(arn);
    const key = `${principal.id}|${arn}`;
    if (await tx.get(c.iamAttachments, key)) return; // attaching twice is not an error
    if ((await tx.count(c.iamAttachments, { principal: principal.id })) >= MAX_ATTACHED) {
      throw limitExceeded(`Cannot exceed quota for PoliciesPer${principal.kind[0]!.toUpperCase()}${principal.kind.slice(1)}: ${MAX_ATTACHED}`);
    }
    const name = 'aws' in p ? p.aws.policyName : p.local.policyName;
    await tx.insert(c.iamAttachments, key, { accountId: 'aws' in p ? 'aws' : accountId, principalId: principal.id, policyArn: arn, policyName: name });
  }

  async detach(tx: StoreTx, principal: Principal, arn: string): Promise<void> {
    if (!(await tx.delete(c.iamAttachments, `${principal.id}|${arn}`))) throw policyNotFound(arn);
  }

  async attached(tx: StoreTx, principal: Principal, input: ListInput) {
    const prefix = input.PathPrefix ?? '/';
    const rows = (await tx.find(c.iamAttachments, { where: { principal: principal.id } })).map((r) => r.data);
    const inPath = rows.filter((a) => pathOfPolicyArn(a.policyArn).startsWith(prefix)).sort((a, b) => (a.policyArn < b.policyArn ? -1 : 1));
    const page = iamPage(inPath, (a) => a.policyArn, input);
    return { AttachedPolicies: page.items.map((a) => ({ PolicyName: a.policyName, PolicyArn: a.policyArn })), IsTruncated: page.IsTruncated, Marker: page.Marker };
  }

  async attachmentCount(tx: StoreTx, principalId: string): Promise<number> {
    return tx.count(c.iamAttachments, { principal: principalId });
  }

  /** ListEntitiesForPolicy: the users, roles and groups the policy is attached to. */
  async entities(accountId: string, input: { PolicyArn: string; EntityFilter?: string }) {
    return this.store.read(async (tx) => {
      const p = await this.find(tx, accountId, input.PolicyArn);
      if (!p) throw policyNotFound(input.PolicyArn);
      const rows = await tx.find(c.iamAttachments, { where: { policy: attachmentKey('aws' in p ? 'aws' : accountId, input.PolicyArn) } });
      const users = [];
      const roles = [];
      const groups = [];
      for (const { data: a } of rows) {
        if (a.principalId.startsWith('AIDA') && (input.EntityFilter ?? 'User') === 'User') {
          const [u] = await tx.find(c.iamUsers, { where: { user_id: a.principalId }, limit: 1 });
          if (u && u.data.accountId === accountId) users.push({ UserName: u.data.userName, UserId: u.data.userId });
        } else if (a.principalId.startsWith('AROA') && (input.EntityFilter ?? 'Role') === 'Role') {
          const [r] = await tx.find(c.iamRoles, { where: { role_id: a.principalId }, limit: 1 });
          if (r && r.data.accountId === accountId) roles.push({ RoleName: r.data.roleName, RoleId: r.data.roleId });
        } else if (a.principalId.startsWith('AGPA') && (input.EntityFilter ?? 'Group') === 'Group') {
          const [g] = await tx.find(c.iamGroups, { where: { group_id: a.principalId }, limit: 1 });
          if (g && g.data.accountId === accountId) groups.push({ GroupName: g.data.groupName, GroupId: g.data.groupId });
        }
      }
      return { PolicyGroups: groups, PolicyUsers: users, PolicyRoles: roles, IsTruncated: false };
    });
  }
}

/** The attachments column: AWS managed policies are shared by every account. */
function attachmentKey(accountId: string, arn: string): string {
  return `${accountId}|${arn}`;
}

function pathOfPolicyArn(arn: string): string {
  const resource = arn.slice(arn.indexOf(':policy/') + ':policy'.length);
  return resource.slice(0, resource.lastIndexOf('/') + 1);
}

function checkManagedDocument(document: string): void {
  checkPolicyDocument(document, 'identity');
  if (policySize(document) > MAX_POLICY_SIZE) throw limitExceeded(`Cannot exceed quota for PolicySize: ${MAX_POLICY_SIZE}`);
}
