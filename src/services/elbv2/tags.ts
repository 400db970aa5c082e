/** AddTags / RemoveTags / DescribeTags over load balancers, target groups, listeners and rules (tags live in each document). */
import * as c from '../../store/collections.js';
import type { ElbTag } from '../../store/collections.js';
import type { Collection, Store, StoreTx } from '../../store/store.js';
import { parseElbArn, type Scope } from './arns.js';
import { getOwn, mergeTags } from './common.js';
import * as err from './errors.js';

type Tagged = { tags: ElbTag[] };

function collectionOf(arn: string): { collection: Collection<Tagged>; type: 'loadbalancer' | 'targetgroup' | 'listener' | 'listener-rule'; notFound: () => Error } {
  const type = parseElbArn(arn)?.type;
  switch (type) {
    case 'loadbalancer':
      return { collection: c.elbLoadBalancers as unknown as Collection<Tagged>, type, notFound: () => err.loadBalancerNotFound(`Load balancer '${arn}' not found`) };
    case 'targetgroup':
      return { collection: c.elbTargetGroups as unknown as Collection<Tagged>, type, notFound: () => err.targetGroupNotFound(`Target group '${arn}' not found`) };
    case 'listener':
      return { collection: c.elbListeners as unknown as Collection<Tagged>, type, notFound: () => err.listenerNotFound(`Listener '${arn}' not found`) };
    case 'listener-rule':
      return { collection: c.elbRules as unknown as Collection<Tagged>, type, notFound: () => err.ruleNotFound(`Rule '${arn}' not found`) };
    default:
      throw err.validationError(`'${arn.slice(0, 256)}' is not a valid load balancer, target group, listener or rule ARN`);
  }
}

async function tagged(tx: StoreTx, scope: Scope, arn: string) {
  const { collection, type, notFound } = collectionOf(arn);
  return { collection, row: await getOwn(tx, collection, arn, type, scope, notFound) };
}

export class ElbTags {
  constructor(private readonly store: Store) {}

  async add(scope: Scope, arns: readonly string[], tags: readonly { Key: string; Value?: string }[]) {
    if (arns.length === 0) throw err.validationError('At least one resource ARN must be specified');
    await this.store.write(async (tx) => {
      for (const arn of new Set(arns)) {
        const { collection, row } = await tagged(tx, scope, arn);
        await tx.update(collection, row, { ...row.data, tags: mergeTags(row.data.tags, tags) });
      }
    });
    return {};
  }

  async remove(scope: Scope, arns: readonly string[], keys: readonly string[]) {
    if (arns.length === 0) throw err.validationError('At least one resource ARN must be specified');
    const drop = new Set(keys);
    await this.store.write(async (tx) => {
      for (const arn of new Set(arns)) {
        const { collection, row } = await tagged(tx, scope, arn);
        await tx.update(collection, row, { ...row.data, tags: row.data.tags.filter((t) => !drop.has(t.Key)) });
      }
    });
    return {};
  }

  async describe(scope: Scope, arns: readonly string[]) {
    if (arns.length === 0) throw err.validationError('At least one resource ARN must be specified');
    return this.store.read(async (tx) => ({
      TagDescriptions: await Promise.all([...new Set(arns)].map(async (arn) => ({ ResourceArn: arn, Tags: (await tagged(tx, scope, arn)).row.data.tags }))),
    }));
  }
}
