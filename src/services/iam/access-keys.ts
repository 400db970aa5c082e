/**
 * Access keys: AKIA… ids with 40-character secrets, at most two per user. The secret is shown
 * once, in CreateAccessKey's answer; it is stored sealed (SecretBox) so the SigV4 gate can
 * verify signatures, and never returned again.
 */
import type { UpdateAccessKeyRequest } from '../../aws/generated/iam.js';
import type { RequestContext } from '../../aws/service.js';
import type { Clock } from '../../core/clock.js';
import type { SecretBox } from '../../core/secret-box.js';
import type { SigningCredential } from '../../iam/principal.js';
import * as c from '../../store/collections.js';
import type { IamAccessKeyDoc } from '../../store/collections.js';
import type { Store } from '../../store/store.js';
import { iamPage } from './common.js';
import { accessKeyNotFound, accessKeyNotVisible, limitExceeded, validationError } from './errors.js';
import { accessKeyId, secretAccessKey, wholeSeconds } from './ids.js';
import type { Users } from './users.js';

const MAX_KEYS_PER_USER = 2;

export class AccessKeys {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly users: Users,
    private readonly secrets: SecretBox,
  ) {}

  async create(ctx: RequestContext, input: { UserName?: string }) {
    const secret = secretAccessKey();
    return this.store.write(async (tx) => {
      const user = (await this.users.resolve(tx, ctx, input.UserName)).data;
      if ((await tx.count(c.iamAccessKeys, { user_id: user.userId })) >= MAX_KEYS_PER_USER) {
        throw limitExceeded(`Cannot exceed quota for AccessKeysPerUser: ${MAX_KEYS_PER_USER}`);
      }
      const key: IamAccessKeyDoc = {
        accountId: ctx.accountId,
        accessKeyId: accessKeyId('AKIA'),
        userId: user.userId,
        status: 'Active',
        createDate: wholeSeconds(this.clock.now()),
        sealedSecret: this.secrets.seal(secret),
      };
      await tx.insert(c.iamAccessKeys, key.accessKeyId, key);
      return { AccessKey: { UserName: user.userName, AccessKeyId: key.accessKeyId, Status: key.status, SecretAccessKey: secret, CreateDate: key.createDate } };
    });
  }

  async list(ctx: RequestContext, input: { UserName?: string; Marker?: string; MaxItems?: number }) {
    return this.store.read(async (tx) => {
      const user = (await this.users.resolve(tx, ctx, input.UserName)).data;
      const keys = (await tx.find(c.iamAccessKeys, { where: { user_id: user.userId }, orderBy: [['pk', 'asc']] })).map((r) => r.data);
      const page = iamPage(keys, (k) => k.accessKeyId, input);
      return {
        AccessKeyMetadata: page.items.map((k) => ({ UserName: user.userName, AccessKeyId: k.accessKeyId, Status: k.status, CreateDate: k.createDate })),
        IsTruncated: page.IsTruncated,
        Marker: page.Marker,
      };
    });
  }

  async update(ctx: RequestContext, input: UpdateAccessKeyRequest) {
    // The model's status type also lists Expired, which only AWS itself sets on a key.
    if (input.Status === 'Expired') {
      throw validationError("1 validation error detected: Value 'Expired' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]");
    }
    const status = input.Status;
    await this.store.write(async (tx) => {
      const user = (await this.users.resolve(tx, ctx, input.UserName)).data;
      const row = await tx.get(c.iamAccessKeys, input.AccessKeyId);
      if (!row || row.data.userId !== user.userId) throw accessKeyNotFound(input.AccessKeyId);
      if (row.data.status !== status) await tx.update(c.iamAccessKeys, row, { ...row.data, status });
    });
    return {};
  }

  async delete(ctx: RequestContext, input: { UserName?: string; AccessKeyId: string }) {
    await this.store.write(async (tx) => {
      const user = (await this.users.resolve(tx, ctx, input.UserName)).data;
      const row = await tx.get(c.iamAccessKeys, input.AccessKeyId);
      if (!row || row.data.userId !== user.userId) throw accessKeyNotFound(input.AccessKeyId);
      await tx.delete(c.iamAccessKeys, input.AccessKeyId);
    });
    return {};
  }

  async lastUsed(ctx: RequestContext, input: { AccessKeyId: string }) {
    return this.store.read(async (tx) => {
      const key = (await tx.get(c.iamAccessKeys, input.AccessKeyId))?.data;
      if (!key || key.accountId !== ctx.accountId) throw accessKeyNotVisible(ctx.caller.arn, input.AccessKeyId);
      const [user] = await tx.find(c.iamUsers, { where: { user_id: key.userId }, limit: 1 });
      return {
        UserName: user?.data.userName,
        AccessKeyLastUsed: key.lastUsed
          ? { LastUsedDate: key.lastUsed.date, Region: key.lastUsed.region, ServiceName: key.lastUsed.service }
          : { Region: 'N/A', ServiceName: 'N/A' },
      };
    });
  }

  /** The signing credential of an active access key (for the SigV4 gate); undefined for unknown or inactive keys. */
  async signingCredential(id: string): Promise<SigningCredential | undefined> {
    return this.store.read(async (tx) => {
      const key = (await tx.get(c.iamAccessKeys, id))?.data;
      if (!key || key.status !== 'Active') return undefined;
      const [user] = await tx.find(c.iamUsers, { where: { user_id: key.userId }, limit: 1 });
      if (!user) return undefined;
      return {
        secretAccessKey: this.secrets.open(key.sealedSecret),
        caller: { kind: 'user', accountId: key.accountId, arn: user.data.arn, userId: user.data.userId, accessKeyId: key.accessKeyId },
      };
    });
  }
}
