/**
 * Lifecycle policy operations (Put/Get/Delete, StartLifecyclePolicyPreview /
 * GetLifecyclePolicyPreview) and their enforcement: `applyAll()` runs every repository's
 * policy and deletes the images it expires; `LifecycleController` calls it on a schedule.
 */
import type { Clock } from '../../core/clock.js';
import { paginate } from '../../core/pagination.js';
import type { RegistryImages } from '../../registry/index.js';
import * as c from '../../store/collections.js';
import type { Store } from '../../store/store.js';
import type { Scope } from './arns.js';
import * as err from './errors.js';
import type { EcrImages } from './images.js';
import { evaluateLifecyclePolicy, parseLifecyclePolicy, type Expiry } from './lifecycle.js';
import type { Repositories, RepositoryRecord } from './repositories.js';

/** ECR always answers lastEvaluatedAt; a policy not run yet reports the epoch (0). */
const NEVER_EVALUATED = 0;

interface RepoInput {
  repositoryName: string;
  registryId?: string;
}

export class LifecyclePolicies {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly repos: Repositories,
    private readonly ecrImages: EcrImages,
    private readonly images: RegistryImages,
  ) {}

  async put(scope: Scope, input: RepoInput & { lifecyclePolicyText: string }) {
    parseLifecyclePolicy(input.lifecyclePolicyText);
    const r = await this.repos.change(scope, input.repositoryName, input.registryId, (r) => ({ ...r, lifecyclePolicyText: input.lifecyclePolicyText }));
    return { registryId: r.registryId, repositoryName: r.repositoryName, lifecyclePolicyText: r.lifecyclePolicyText };
  }

  async get(scope: Scope, input: RepoInput) {
    const r = await this.repos.require(scope, input.repositoryName, input.registryId);
    if (r.lifecyclePolicyText === undefined) throw err.lifecyclePolicyNotFound(r.repositoryName, r.registryId);
    return { registryId: r.registryId, repositoryName: r.repositoryName, lifecyclePolicyText: r.lifecyclePolicyText, lastEvaluatedAt: r.lifecycleLastEvaluatedAt ?? NEVER_EVALUATED };
  }

  async delete(scope: Scope, input: RepoInput) {
    let before: RepositoryRecord | undefined;
    await this.repos.change(scope, input.repositoryName, input.registryId, (r) => {
      if (r.lifecyclePolicyText === undefined) throw err.lifecyclePolicyNotFound(r.repositoryName, r.registryId);
      before = r;
      const { lifecyclePolicyText: _p, lifecyclePreview: _v, ...rest } = r;
      return rest;
    });
    return {
      registryId: before!.registryId,
      repositoryName: before!.repositoryName,
      lifecyclePolicyText: before!.lifecyclePolicyText,
      lastEvaluatedAt: before!.lifecycleLastEvaluatedAt ?? NEVER_EVALUATED,
    };
  }

  /** What `policyText` would expire in the repository now. */
  private async evaluate(repo: RepositoryRecord, policyText: string): Promise<Expiry[]> {
    const rules = parseLifecyclePolicy(policyText);
    const images = await this.store.read((tx) => this.ecrImages.withTags(tx, repo.repositoryArn));
    return evaluateLifecyclePolicy(rules, images.map(({ image, tags }) => ({ digest: image.digest, tags, pushedAt: image.pushedAt })), this.clock.now());
  }

  /** Runs the preview right away (it is cheap) and reports IN_PROGRESS as ECR does on start. */
  async startPreview(scope: Scope, input: RepoInput & { lifecyclePolicyText?: string }) {
    const repo = await this.repos.require(scope, input.repositoryName, input.registryId);
    const text = input.lifecyclePolicyText ?? repo.lifecyclePolicyText;
    if (text === undefined) throw err.lifecyclePolicyNotFound(repo.repositoryName, repo.registryId);
    const expiries = await this.evaluate(repo, text);
    await this.repos.change(scope, repo.repositoryName, undefined, (r) => ({
      ...r,
      lifecyclePreview: {
        status: 'COMPLETE',
        lifecyclePolicyText: text,
        results: expiries.map((x) => ({ imageDigest: x.image.digest, imageTags: x.image.tags, imagePushedAt: x.image.pushedAt, appliedRulePriority: x.rulePriority })),
      },
    }));
    return { registryId: repo.registryId, repositoryName: repo.repositoryName, lifecyclePolicyText: text, status: 'IN_PROGRESS' };
  }

  async getPreview(scope: Scope, input: RepoInput & {
    imageIds?: { imageDigest?: string; imageTag?: string }[];
    filter?: { tagStatus?: 'TAGGED' | 'UNTAGGED' | 'ANY' };
    maxResults?: number;
    nextToken?: string;
  }) {
    const repo = await this.repos.require(scope, input.repositoryName, input.registryId);
    const preview = repo.lifecyclePreview;
    if (!preview) throw err.lifecyclePreviewNotFound(repo.repositoryName, repo.registryId);
    const status = input.filter?.tagStatus ?? 'ANY';
    let results = preview.results.filter((x) => status === 'ANY' || (status === 'TAGGED') === x.imageTags.length > 0);
    if (input.imageIds) {
      results = results.filter((x) => input.imageIds!.some((id) => (!id.imageDigest || id.imageDigest === x.imageDigest) && (!id.imageTag || x.imageTags.includes(id.imageTag))));
    }
    const page = paginate(results, (x) => x.imageDigest, input.maxResults ?? 100, input.nextToken);
    return {
      registryId: repo.registryId,
      repositoryName: repo.repositoryName,
      lifecyclePolicyText: preview.lifecyclePolicyText,
      status: preview.status,
      previewResults: page.items.map((x) => ({
        imageDigest: x.imageDigest,
        imageTags: x.imageTags.length ? x.imageTags : undefined,
        imagePushedAt: x.imagePushedAt,
        action: { type: 'EXPIRE' },
        appliedRulePriority: x.appliedRulePriority,
      })),
      nextToken: page.nextToken,
      summary: { expiringImageTotalCount: preview.results.length },
    };
  }

  /** Enforces every repository's lifecycle policy once; returns how many images were expired. */
  async applyAll(): Promise<number> {
    // Only repositories with a policy (an indexed column): the others' documents are not parsed.
    const repos = (await this.store.read((tx) => tx.find(c.ecrRepositories, { where: { lifecycle_policy: 1 } }))).map((r) => r.data as RepositoryRecord);
    let expired = 0;
    for (const repo of repos) {
      const expiries = await this.evaluate(repo, repo.lifecyclePolicyText!).catch(() => [] as Expiry[]);
      if (expiries.length > 0) {
        await this.store.write(async (tx) => {
          for (const x of expiries) {
            // Skip images a push re-tagged since the evaluation read them.
            const current = await this.images.tagsOf(tx, repo.repositoryArn, x.image.digest);
            if (current.length !== x.image.tags.length) continue;
            await this.images.deleteImageTx(tx, repo.repositoryArn, x.image.digest);
            expired++;
          }
        });
      }
      await this.repos.change(repo, repo.repositoryName, undefined, (r) => ({ ...r, lifecycleLastEvaluatedAt: this.clock.now() })).catch(() => undefined);
    }
    return expired;
  }
}

export interface MaintenanceLog {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/**
 * The ECR/registry maintenance loop: lifecycle policies, abandoned uploads and blob GC, each
 * on its own interval. Runs never overlap; `stop()` waits for a run in progress.
 */
export class RegistryMaintenance {
  private timers: NodeJS.Timeout[] = [];
  private running: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly tasks: { name: string; intervalMs: number; run: () => Promise<unknown> }[],
    private readonly log: MaintenanceLog,
  ) {}

  start(): void {
    for (const task of this.tasks) {
      if (!(task.intervalMs > 0)) continue;
      const timer = setInterval(() => {
        this.running = this.running.then(async () => {
          try {
            const result = await task.run();
            this.log.info({ task: task.name, result }, 'registry maintenance');
          } catch (e) {
            this.log.error({ err: e, task: task.name }, 'registry maintenance failed');
          }
        });
      }, task.intervalMs);
      timer.unref();
      this.timers.push(timer);
    }
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await this.running;
  }
}
