/**
 * Registry-wide ECR settings of one account and region: the registry policy
 * (Put/Get/DeleteRegistryPolicy), the replication configuration (PutReplicationConfiguration,
 * DescribeRegistry) and the registry scanning configuration (Put/GetRegistryScanningConfiguration,
 * BatchGetRepositoryScanningConfiguration). Replication and scan-on-push read their rules here.
 */
import type { RepositoryScanningConfiguration, RepositoryScanningConfigurationFailure } from '../../aws/generated/ecr.js';
import * as c from '../../store/collections.js';
import type { EcrRegistryDoc } from '../../store/collections.js';
import type { Store } from '../../store/store.js';
import type { Scope } from './arns.js';
import * as err from './errors.js';
import { checkPolicyDocument } from './policy-document.js';
import type { Repositories, RepositoryRecord } from './repositories.js';

export interface ReplicationDestination {
  region: string;
  registryId: string;
}
export interface ReplicationRule {
  destinations: ReplicationDestination[];
  repositoryFilters?: { filter: string; filterType: 'PREFIX_MATCH' }[];
}
export interface ScanningRule {
  scanFrequency: 'SCAN_ON_PUSH' | 'CONTINUOUS_SCAN' | 'MANUAL';
  repositoryFilters: { filter: string; filterType: 'WILDCARD' }[];
}
export interface ScanningConfiguration {
  scanType: 'BASIC' | 'ENHANCED';
  rules: ScanningRule[];
}

const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$/;
const DEFAULT_SCANNING: ScanningConfiguration = { scanType: 'BASIC', rules: [] };

const registryKey = (s: Scope) => `${s.accountId}:${s.region}`;

/** ECR's WILDCARD filter: `*` matches any run of characters, everything else literally. */
export function wildcardMatches(filter: string, name: string): boolean {
  const pattern = filter.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*');
  return new RegExp(`^${pattern}$`).test(name);
}

export class RegistrySettings {
  constructor(
    private readonly store: Store,
    private readonly repos: Repositories,
  ) {}

  async read(scope: Scope): Promise<EcrRegistryDoc> {
    const row = await this.store.read((tx) => tx.get(c.ecrRegistries, registryKey(scope)));
    return row?.data ?? { accountId: scope.accountId, region: scope.region };
  }

  private async change(scope: Scope, fn: (doc: EcrRegistryDoc) => EcrRegistryDoc): Promise<EcrRegistryDoc> {
    return this.store.write(async (tx) => {
      const row = await tx.get(c.ecrRegistries, registryKey(scope));
      const next = fn(row?.data ?? { accountId: scope.accountId, region: scope.region });
      if (row) await tx.update(c.ecrRegistries, row, next);
      else await tx.insert(c.ecrRegistries, registryKey(scope), next);
      return next;
    });
  }

  // ---- registry policy

  async putPolicy(scope: Scope, input: { policyText: string }) {
    checkPolicyDocument(input.policyText, `Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid registry policy provided'`);
    await this.change(scope, (d) => ({ ...d, policyText: input.policyText }));
    return { registryId: scope.accountId, policyText: input.policyText };
  }

  async getPolicy(scope: Scope) {
    const doc = await this.read(scope);
    if (doc.policyText === undefined) throw err.registryPolicyNotFound(scope.accountId);
    return { registryId: scope.accountId, policyText: doc.policyText };
  }

  async deletePolicy(scope: Scope) {
    let policyText: string | undefined;
    await this.change(scope, (d) => {
      if (d.policyText === undefined) throw err.registryPolicyNotFound(scope.accountId);
      policyText = d.policyText;
      const { policyText: _removed, ...rest } = d;
      return rest;
    });
    return { registryId: scope.accountId, policyText };
  }

  // ---- replication

  async putReplication(scope: Scope, input: { replicationConfiguration: { rules: ReplicationRule[] } }) {
    const rules = input.replicationConfiguration.rules;
    for (const [i, rule] of rules.entries()) {
      if (rule.destinations.length === 0 || rule.destinations.length > 100) {
        throw err.invalidParameter(`Invalid parameter at 'replicationConfiguration.rules.${i + 1}.member.destinations' failed to satisfy constraint: 'Member must have length between 1 and 100'`);
      }
      for (const dest of rule.destinations) {
        if (!REGION.test(dest.region)) {
          throw err.invalidParameter(`Invalid parameter at 'region' failed to satisfy constraint: 'Invalid region '${dest.region}''`);
        }
        if (!/^[0-9]{12}$/.test(dest.registryId)) {
          throw err.invalidParameter(`Invalid parameter at 'registryId' failed to satisfy constraint: 'must satisfy regular expression '[0-9]{12}''`);
        }
        if (dest.region === scope.region && dest.registryId === scope.accountId) {
          throw err.invalidParameter(`Invalid parameter at 'replicationConfiguration' failed to satisfy constraint: 'Replication destination cannot be the source registry (${scope.region}, ${scope.accountId})'`);
        }
      }
      for (const f of rule.repositoryFilters ?? []) {
        if (f.filter.length < 2) {
          throw err.invalidParameter(`Invalid parameter at 'filter' failed to satisfy constraint: 'Member must have length greater than or equal to 2'`);
        }
      }
    }
    const replicationConfiguration = { rules: rules.map((r) => ({ destinations: r.destinations, ...(r.repositoryFilters?.length ? { repositoryFilters: r.repositoryFilters } : {}) })) };
    await this.change(scope, (d) => ({ ...d, replicationConfiguration }));
    return { replicationConfiguration };
  }

  async describe(scope: Scope) {
    const doc = await this.read(scope);
    // Stored as PutReplicationConfiguration validated it.
    const replicationConfiguration = (doc.replicationConfiguration ?? { rules: [] }) as { rules: ReplicationRule[] };
    return { registryId: scope.accountId, replicationConfiguration };
  }

  /** Where an image pushed to `repositoryName` goes: each destination once, same account only. */
  async replicationTargets(scope: Scope, repositoryName: string): Promise<ReplicationDestination[]> {
    const rules = ((await this.read(scope)).replicationConfiguration?.rules ?? []) as ReplicationRule[];
    const out = new Map<string, ReplicationDestination>();
    for (const rule of rules) {
      const filters = rule.repositoryFilters ?? [];
      if (filters.length > 0 && !filters.some((f) => repositoryName.startsWith(f.filter))) continue;
      for (const dest of rule.destinations) {
        // Cross-account replication needs the destination's registry policy; not done here.
        if (dest.registryId !== scope.accountId) continue;
        out.set(`${dest.registryId}:${dest.region}`, dest);
      }
    }
    return [...out.values()];
  }

  // ---- scanning configuration

  async putScanning(scope: Scope, input: { scanType?: 'BASIC' | 'ENHANCED'; rules?: ScanningRule[] }) {
    const scanningConfiguration: ScanningConfiguration = { scanType: input.scanType ?? 'BASIC', rules: input.rules ?? [] };
    for (const rule of scanningConfiguration.rules) {
      if (scanningConfiguration.scanType === 'BASIC' && rule.scanFrequency === 'CONTINUOUS_SCAN') {
        throw err.invalidParameter(`Invalid parameter at 'scanFrequency' failed to satisfy constraint: 'CONTINUOUS_SCAN is only supported with scanType ENHANCED'`);
      }
      if (rule.repositoryFilters.length === 0) {
        throw err.invalidParameter(`Invalid parameter at 'repositoryFilters' failed to satisfy constraint: 'Member must have length greater than or equal to 1'`);
      }
    }
    await this.change(scope, (d) => ({ ...d, scanningConfiguration }));
    return { registryScanningConfiguration: scanningConfiguration };
  }

  async getScanning(scope: Scope) {
    const doc = await this.read(scope);
    return { registryId: scope.accountId, scanningConfiguration: (doc.scanningConfiguration as ScanningConfiguration | undefined) ?? DEFAULT_SCANNING };
  }

  /** A repository's effective scanning: the registry's rules, else its own scanOnPush flag. */
  effectiveScanning(registry: EcrRegistryDoc, repo: RepositoryRecord): Omit<RepositoryScanningConfiguration, 'repositoryArn' | 'repositoryName'> {
    const rules = ((registry.scanningConfiguration as ScanningConfiguration | undefined) ?? DEFAULT_SCANNING).rules;
    for (const frequency of ['CONTINUOUS_SCAN', 'SCAN_ON_PUSH'] as const) {
      for (const rule of rules.filter((r) => r.scanFrequency === frequency)) {
        const applied = rule.repositoryFilters.filter((f) => wildcardMatches(f.filter, repo.repositoryName));
        if (applied.length > 0) return { scanOnPush: true, scanFrequency: frequency, appliedScanFilters: applied };
      }
    }
    const own = repo.imageScanningConfiguration.scanOnPush;
    return { scanOnPush: own, scanFrequency: own ? 'SCAN_ON_PUSH' : 'MANUAL', appliedScanFilters: [] };
  }

  async scanOnPush(scope: Scope, repo: RepositoryRecord): Promise<boolean> {
    return this.effectiveScanning(await this.read(scope), repo).scanOnPush ?? false;
  }

  async batchGetRepositoryScanning(scope: Scope, input: { repositoryNames: string[] }) {
    const registry = await this.read(scope);
    const scanningConfigurations: RepositoryScanningConfiguration[] = [];
    const failures: RepositoryScanningConfigurationFailure[] = [];
    for (const name of input.repositoryNames) {
      let repo: RepositoryRecord;
      try {
        repo = await this.repos.require(scope, name);
      } catch (e) {
        if ((e as { code?: string }).code !== 'RepositoryNotFoundException') throw e;
        failures.push({ repositoryName: name, failureCode: 'REPOSITORY_NOT_FOUND', failureReason: 'REPOSITORY_NOT_FOUND' });
        continue;
      }
      scanningConfigurations.push({ repositoryArn: repo.repositoryArn, repositoryName: repo.repositoryName, ...this.effectiveScanning(registry, repo) });
    }
    return { scanningConfigurations, failures };
  }
}
