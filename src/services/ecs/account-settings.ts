/**
 * ECS account settings: explicit values per principal, account defaults, and the effective
 * view (explicit, else account default, else ECS's own default).
 */
import { paginate } from '../../core/pagination.js';
import * as c from '../../store/collections.js';
import type { Store } from '../../store/store.js';
import { principalArn, type Scope } from './arns.js';
import * as err from './errors.js';
import { pageSize } from './validation.js';

/** ECS's defaults for a new account; values each setting accepts. */
const SETTINGS: Record<string, { default: string; values?: string[] }> = {
  serviceLongArnFormat: { default: 'enabled', values: ['enabled', 'disabled'] },
  taskLongArnFormat: { default: 'enabled', values: ['enabled', 'disabled'] },
  containerInstanceLongArnFormat: { default: 'enabled', values: ['enabled', 'disabled'] },
  awsvpcTrunking: { default: 'disabled', values: ['enabled', 'disabled'] },
  containerInsights: { default: 'disabled', values: ['enabled', 'disabled', 'enhanced'] },
  dualStackIPv6: { default: 'disabled', values: ['enabled', 'disabled'] },
  fargateFIPSMode: { default: 'disabled', values: ['enabled', 'disabled'] },
  tagResourceAuthorization: { default: 'on', values: ['on', 'off'] },
  fargateTaskRetirementWaitPeriod: { default: '7', values: ['0', '7', '14'] },
  guardDutyActivate: { default: 'off', values: ['on', 'off'] },
  defaultLogDriverMode: { default: 'non-blocking', values: ['blocking', 'non-blocking'] },
};
const ACCOUNT_DEFAULT = 'default';

export class AccountSettings {
  constructor(private readonly store: Store) {}

  async put(scope: Scope, input: { name: string; value: string; principalArn?: string }, asDefault = false) {
    const spec = SETTINGS[input.name];
    if (!spec) throw err.invalidParameter(`Unsupported account setting: ${input.name}`);
    if (spec.values && !spec.values.includes(input.value)) {
      throw err.invalidParameter(`Invalid value '${input.value}' for ${input.name}. Valid values: ${spec.values.join(', ')}.`);
    }
    const principal = asDefault ? ACCOUNT_DEFAULT : input.principalArn ?? principalArn(scope);
    const pk = `${scope.accountId}:${scope.region}:${principal}:${input.name}`;
    const doc = { accountId: scope.accountId, region: scope.region, principalArn: principal, name: input.name, value: input.value };
    await this.store.write(async (tx) => {
      const row = await tx.get(c.accountSettings, pk);
      if (row) await tx.update(c.accountSettings, row, doc);
      else await tx.insert(c.accountSettings, pk, doc);
    });
    return { setting: { name: input.name, value: input.value, principalArn: asDefault ? principalArn(scope) : principal, type: 'user' } };
  }

  async remove(scope: Scope, input: { name: string; principalArn?: string }) {
    const principal = input.principalArn ?? principalArn(scope);
    const pk = `${scope.accountId}:${scope.region}:${principal}:${input.name}`;
    const removed = await this.store.write(async (tx) => {
      const row = await tx.get(c.accountSettings, pk);
      if (!row) throw err.invalidParameter(`The account setting ${input.name} is not set for ${principal}.`);
      await tx.delete(c.accountSettings, pk);
      return row.data;
    });
    return { setting: { name: removed.name, value: removed.value, principalArn: principal, type: 'user' } };
  }

  async list(scope: Scope, input: { name?: string; value?: string; principalArn?: string; effectiveSettings?: boolean; maxResults?: number; nextToken?: string }) {
    const principal = input.principalArn ?? principalArn(scope);
    const rows = await this.store.read((tx) =>
      tx.find(c.accountSettings, { where: { account_region: `${scope.accountId}:${scope.region}`, principal: { in: [principal, ACCOUNT_DEFAULT] } } }),
    );
    const explicit = new Map(rows.filter((r) => r.data.principalArn === principal).map((r) => [r.data.name, r.data.value]));
    const defaults = new Map(rows.filter((r) => r.data.principalArn === ACCOUNT_DEFAULT).map((r) => [r.data.name, r.data.value]));
    let settings = Object.keys(SETTINGS)
      .map((name) => {
        const value = explicit.get(name) ?? (input.effectiveSettings ? defaults.get(name) ?? SETTINGS[name]!.default : undefined);
        return value === undefined ? undefined : { name, value, principalArn: principal, type: explicit.has(name) ? 'user' : 'aws_managed' };
      })
      .filter((s) => s !== undefined);
    if (input.name) settings = settings.filter((s) => s.name === input.name);
    if (input.value) settings = settings.filter((s) => s.value === input.value);
    const page = paginate(settings, (s) => s.name, pageSize(input.maxResults, 10), input.nextToken);
    return { settings: page.items, nextToken: page.nextToken };
  }
}
