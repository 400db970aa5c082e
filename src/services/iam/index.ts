/**
 * The IAM service module (awsQuery): the model, and one thin handler per operation over the
 * domain classes. IAM is global: everything is scoped by the caller's account only.
 */
import { loadModel } from '../../aws/model.js';
import type { GetUserResponse, Operations } from '../../aws/generated/iam.js';
import { translatingErrors, type OperationHandlers, type ServiceModule } from '../../aws/service.js';
import type { Clock } from '../../core/clock.js';
import { ConflictError } from '../../core/errors.js';
import { InvalidTokenError } from '../../core/pagination.js';
import type { SecretBox } from '../../core/secret-box.js';
import type { Store } from '../../store/store.js';
import { AccessKeys } from './access-keys.js';
import { concurrentModification, validationError, VALIDATION_ERROR } from './errors.js';
import { Groups } from './groups.js';
import { ManagedPolicies } from './policies.js';
import { Roles } from './roles.js';
import { Users } from './users.js';

export { AWS_MANAGED_POLICIES } from './aws-managed.js';
export { checkPolicyDocument } from './policy-document.js';

export interface IamDomain {
  users: Users;
  accessKeys: AccessKeys;
  roles: Roles;
  groups: Groups;
  policies: ManagedPolicies;
}

export function createIamDomain(deps: { store: Store; clock: Clock; secrets: SecretBox }): IamDomain {
  const { store, clock, secrets } = deps;
  const policies = new ManagedPolicies(store, clock);
  const users = new Users(store, clock, policies);
  return {
    users,
    accessKeys: new AccessKeys(store, clock, users, secrets),
    roles: new Roles(store, clock, policies),
    groups: new Groups(store, clock, policies, users),
    policies,
  };
}

export function iamService(domain: IamDomain): ServiceModule {
  const { users, accessKeys: keys, roles, groups, policies } = domain;
  const operations: OperationHandlers<Operations> = {
    CreateUser: (ctx, input) => users.create(ctx, input),
    // The model requires UserName and Path, but AWS leaves both out for the root user (so does getUser).
    GetUser: (ctx, input) => users.getUser(ctx, input) as Promise<GetUserResponse>,
    ListUsers: (ctx, input) => users.list(ctx, input),
    UpdateUser: (ctx, input) => users.update(ctx, input),
    DeleteUser: (ctx, input) => users.delete(ctx, input),
    TagUser: (ctx, input) => users.tag(ctx, input),
    UntagUser: (ctx, input) => users.untag(ctx, input),
    ListUserTags: (ctx, input) => users.listTags(ctx, input),
    PutUserPolicy: (ctx, input) => users.putPolicy(ctx, input),
    GetUserPolicy: (ctx, input) => users.getPolicy(ctx, input),
    ListUserPolicies: (ctx, input) => users.listPolicies(ctx, input),
    DeleteUserPolicy: (ctx, input) => users.deletePolicy(ctx, input),
    AttachUserPolicy: (ctx, input) => users.attachPolicy(ctx, input),
    DetachUserPolicy: (ctx, input) => users.detachPolicy(ctx, input),
    ListAttachedUserPolicies: (ctx, input) => users.listAttachedPolicies(ctx, input),

    CreateAccessKey: (ctx, input) => keys.create(ctx, input),
    ListAccessKeys: (ctx, input) => keys.list(ctx, input),
    UpdateAccessKey: (ctx, input) => keys.update(ctx, input),
    DeleteAccessKey: (ctx, input) => keys.delete(ctx, input),
    GetAccessKeyLastUsed: (ctx, input) => keys.lastUsed(ctx, input),

    CreateRole: (ctx, input) => roles.create(ctx, input),
    GetRole: (ctx, input) => roles.getRole(ctx, input),
    ListRoles: (ctx, input) => roles.list(ctx, input),
    UpdateRole: (ctx, input) => roles.update(ctx, input),
    UpdateRoleDescription: (ctx, input) => roles.updateDescription(ctx, input),
    DeleteRole: (ctx, input) => roles.delete(ctx, input),
    UpdateAssumeRolePolicy: (ctx, input) => roles.updateAssumeRolePolicy(ctx, input),
    TagRole: (ctx, input) => roles.tag(ctx, input),
    UntagRole: (ctx, input) => roles.untag(ctx, input),
    ListRoleTags: (ctx, input) => roles.listTags(ctx, input),
    PutRolePolicy: (ctx, input) => roles.putPolicy(ctx, input),
    GetRolePolicy: (ctx, input) => roles.getPolicy(ctx, input),
    ListRolePolicies: (ctx, input) => roles.listPolicies(ctx, input),
    DeleteRolePolicy: (ctx, input) => roles.deletePolicy(ctx, input),
    AttachRolePolicy: (ctx, input) => roles.attachPolicy(ctx, input),
    DetachRolePolicy: (ctx, input) => roles.detachPolicy(ctx, input),
    ListAttachedRolePolicies: (ctx, input) => roles.listAttachedPolicies(ctx, input),

    CreateGroup: (ctx, input) => groups.create(ctx, input),
    GetGroup: (ctx, input) => groups.getGroup(ctx, input),
    ListGroups: (ctx, input) => groups.list(ctx, input),
    ListGroupsForUser: (ctx, input) => groups.listForUser(ctx, input),
    UpdateGroup: (ctx, input) => groups.update(ctx, input),
    DeleteGroup: (ctx, input) => groups.delete(ctx, input),
    AddUserToGroup: (ctx, input) => groups.addUser(ctx, input),
    RemoveUserFromGroup: (ctx, input) => groups.removeUser(ctx, input),
    PutGroupPolicy: (ctx, input) => groups.putPolicy(ctx, input),
    GetGroupPolicy: (ctx, input) => groups.getPolicy(ctx, input),
    ListGroupPolicies: (ctx, input) => groups.listPolicies(ctx, input),
    DeleteGroupPolicy: (ctx, input) => groups.deletePolicy(ctx, input),
    AttachGroupPolicy: (ctx, input) => groups.attachPolicy(ctx, input),
    DetachGroupPolicy: (ctx, input) => groups.detachPolicy(ctx, input),
    ListAttachedGroupPolicies: (ctx, input) => groups.listAttachedPolicies(ctx, input),

    CreatePolicy: (ctx, input) => policies.create(ctx.accountId, input),
    GetPolicy: (ctx, input) => policies.get(ctx.accountId, input),
    ListPolicies: (ctx, input) => policies.list(ctx.accountId, input),
    DeletePolicy: (ctx, input) => policies.delete(ctx.accountId, input),
    CreatePolicyVersion: (ctx, input) => policies.createVersion(ctx.accountId, input),
    GetPolicyVersion: (ctx, input) => policies.getVersion(ctx.accountId, input),
    ListPolicyVersions: (ctx, input) => policies.listVersions(ctx.accountId, input),
    DeletePolicyVersion: (ctx, input) => policies.deleteVersion(ctx.accountId, input),
    SetDefaultPolicyVersion: (ctx, input) => policies.setDefaultVersion(ctx.accountId, input),
    ListEntitiesForPolicy: (ctx, input) => policies.entities(ctx.accountId, input),
  };
  return {
    name: 'iam',
    model: loadModel('iam'),
    protocol: 'awsQuery',
    validationErrorCode: VALIDATION_ERROR,
    operations: translatingErrors(operations, (e) => {
      if (e instanceof InvalidTokenError) return validationError('Invalid Marker.');
      if (e instanceof ConflictError) return concurrentModification();
      return undefined;
    }),
  };
}
