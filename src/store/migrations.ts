/**
 * Schema migrations, applied in order once each (table `schema_migrations`). A collection's
 * table is `c_<name>(pk, version, data, <indexed columns>)`; `createCollection` writes its DDL
 * from the collection declaration so the two cannot drift. Indexed columns declared later are
 * added and backfilled from the documents at start-up (SqliteStore.syncIndexedColumns), so a
 * new migration is needed only for a new collection. List every collection in `allCollections`.
 */
import type { Collection } from './store.js';
import * as c from './collections.js';

export interface Migration {
  readonly id: number;
  readonly name: string;
  readonly statements: readonly string[];
}

export function tableName(collection: Collection<any>): string {
  return `c_${collection.name}`;
}

function createCollection(collection: Collection<any>): string[] {
  const cols = Object.entries(collection.columns);
  const table = tableName(collection);
  return [
    `CREATE TABLE ${table} (pk TEXT PRIMARY KEY, version INTEGER NOT NULL, data TEXT NOT NULL${cols
      .map(([name, col]) => `, ${name} ${col.type === 'text' ? 'TEXT' : 'BIGINT'}`)
      .join('')})`,
    ...cols.map(([name]) => `CREATE INDEX ${table}_${name} ON ${table} (${name})`),
  ];
}

/** CloudWatch alarms and Application Auto Scaling (migration 13). */
const metricsCollections = [c.cloudwatchAlarms, c.cloudwatchAlarmHistory, c.scalableTargets, c.scalingPolicies, c.scheduledActions, c.scalingActivities];

export const allCollections: readonly Collection<any>[] = [c.clusters, c.taskDefinitions, c.tasks, c.containerInstances, c.services, c.accountSettings, c.ecrRepositories, c.ecrImages, c.ecrTags, c.ecrLayers, c.agentJoinTokens, c.agentCredentials, c.iamUsers, c.iamRoles, c.iamAccessKeys, c.iamPolicies, c.iamAttachments, c.stsSessions, c.iamGroups, c.iamGroupMembers, c.clientTokens, c.ecrRegistries, c.ecrImageScans, c.serviceDeployments, c.serviceRevisions, c.capacityProviders, c.ssmParameters, c.secrets, c.elbLoadBalancers, c.elbTargetGroups, c.elbTargets, c.elbListeners, c.elbRules, c.acmCertificates, ...metricsCollections, c.taskSets, c.expressServices];

/**
 * What a reset (`POST /_dockyard/reset`) wipes: every service's state, but not the hosts' identities
 * (join tokens and agent credentials belong to the installation, not to an AWS account), so
 * agents register again after a reset instead of being locked out.
 */
export const resetCollections: readonly Collection<any>[] = allCollections.filter((x) => x !== c.agentJoinTokens && x !== c.agentCredentials);

export const migrations: readonly Migration[] = [
  {
    id: 1,
    name: 'ecs-core',
    statements: [c.clusters, c.taskDefinitions, c.tasks, c.containerInstances, c.services, c.accountSettings].flatMap(createCollection),
  },
  {
    id: 2,
    name: 'ecr',
    statements: [c.ecrRepositories, c.ecrImages, c.ecrTags, c.ecrLayers].flatMap(createCollection),
  },
  {
    id: 3,
    name: 'agent-auth',
    statements: [c.agentJoinTokens, c.agentCredentials].flatMap(createCollection),
  },
  {
    id: 4,
    name: 'iam-sts',
    statements: [c.iamUsers, c.iamRoles, c.iamAccessKeys, c.iamPolicies, c.iamAttachments, c.stsSessions].flatMap(createCollection),
  },
  {
    id: 5,
    name: 'iam-groups',
    statements: [c.iamGroups, c.iamGroupMembers].flatMap(createCollection),
  },
  {
    id: 6,
    name: 'client-tokens',
    statements: [c.clientTokens].flatMap(createCollection),
  },
  {
    id: 7,
    name: 'ecr-registry-settings-and-scans',
    statements: [c.ecrRegistries, c.ecrImageScans].flatMap(createCollection),
  },
  {
    id: 8,
    name: 'ecs-service-deployments',
    statements: [c.serviceDeployments, c.serviceRevisions].flatMap(createCollection),
  },
  {
    id: 9,
    name: 'capacity-providers',
    statements: [c.capacityProviders].flatMap(createCollection),
  },
  {
    id: 10,
    name: 'ssm-parameters-and-secrets',
    statements: [c.ssmParameters, c.secrets].flatMap(createCollection),
  },
  {
    id: 12,
    name: 'elbv2-acm',
    statements: [c.elbLoadBalancers, c.elbTargetGroups, c.elbTargets, c.elbListeners, c.elbRules, c.acmCertificates].flatMap(createCollection),
  },
  {
    id: 13,
    name: 'cloudwatch-alarms-and-application-autoscaling',
    statements: metricsCollections.flatMap(createCollection),
  },
  {
    id: 15,
    name: 'ecs-task-sets',
    statements: [c.taskSets].flatMap(createCollection),
  },
  {
    id: 18,
    name: 'ecs-express-services',
    statements: [c.expressServices].flatMap(createCollection),
  },
];
