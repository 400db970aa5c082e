/**
 * The ECR service module: the model, and one thin handler per operation over the domain
 * classes. Also exports `mintRegistryCredential`, which the agent uses to pull task images
 * from Dockyard's registry as a task execution role would.
 */
import { AwsError } from '../../aws/errors.js';
import { loadModel } from '../../aws/model.js';
import type { Operations } from '../../aws/generated/ecr.js';
import { translatingErrors, type OperationHandlers, type ServiceModule } from '../../aws/service.js';
import type { Clock } from '../../core/clock.js';
import { ConflictError } from '../../core/errors.js';
import { InvalidTokenError } from '../../core/pagination.js';
import { internalCaller } from '../../iam/principal.js';
import { REGISTRY_USERNAME, TOKEN_LIFETIME_SECONDS, type Registry, type RegistryTokens } from '../../registry/index.js';
import type { Store } from '../../store/store.js';
import type { Scope } from './arns.js';
import { EcrImages } from './images.js';
import { LifecyclePolicies } from './lifecycle-policies.js';
import { RegistrySettings } from './registry-settings.js';
import { Replication } from './replication.js';
import { InvalidTagParameter, Repositories, TooManyTags } from './repositories.js';
import { ImageScans } from './scan/image-scans.js';
import { OsvDatabaseCache } from './scan/osv.js';
import type { ValidationProblem } from '../../aws/model.js';

export { RegistryMaintenance } from './lifecycle-policies.js';
export { evaluateLifecyclePolicy, parseLifecyclePolicy, type LifecycleRule, type LifecycleImage } from './lifecycle.js';

export interface EcrDeps {
  store: Store;
  clock: Clock;
  registry: Registry;
  /** host:port of the registry as docker reaches it (known only once the server listens). */
  registryHost: () => string;
  /** https when the port serves TLS. */
  registryScheme?: 'http' | 'https';
  /** The operator's OSV vulnerability database (file or directory) image scans match against. */
  vulnerabilityDb?: string;
  /** Where background work (replication, scans) reports failures. */
  log?: { error(obj: object, msg: string): void };
}

export interface EcrDomain {
  repositories: Repositories;
  images: EcrImages;
  lifecycle: LifecyclePolicies;
  settings: RegistrySettings;
  replication: Replication;
  scans: ImageScans;
  tokens: RegistryTokens;
  clock: Clock;
  registryHost: () => string;
  registryScheme: 'http' | 'https';
  /** Resolves when no replication or scan started by a push is still running. */
  idle(): Promise<void>;
}

export function createEcrDomain(deps: EcrDeps): EcrDomain {
  const { store, clock, registry, registryHost } = deps;
  const log = deps.log ?? { error: () => undefined };
  const repositories = new Repositories(store, clock, registry.images, registryHost);
  const registryScheme = deps.registryScheme ?? 'http';
  const images = new EcrImages(store, clock, repositories, registry.images, registry.uploads, registry.tokens, registryHost, registryScheme);
  const settings = new RegistrySettings(store, repositories);
  const replication = new Replication(settings, repositories, registry.images, registry.blobs);
  const scans = new ImageScans(store, clock, repositories, registry.images, registry.blobs, new OsvDatabaseCache(deps.vulnerabilityDb), log);
  // After every push, by docker or PutImage: replicate (ECR does it asynchronously) and scan on push.
  const pending = new Set<Promise<unknown>>();
  registry.images.onPush((repo, pushed) => {
    const job = (async () => {
      if (!pushed.replicated) await replication.replicate(repo, pushed.digest, pushed.tag);
      const record = await repositories.require(repo, repo.repositoryName);
      if (await settings.scanOnPush(repo, record)) scans.scanPushed(repo, pushed.image);
    })()
      .catch((e: unknown) => log.error({ err: e, repository: repo.repositoryArn, digest: pushed.digest }, 'replication or scan on push failed'))
      .finally(() => pending.delete(job));
    pending.add(job);
  });
  return {
    repositories,
    images,
    lifecycle: new LifecyclePolicies(store, clock, repositories, images, registry.images),
    settings,
    replication,
    scans,
    tokens: registry.tokens,
    clock,
    registryHost,
    registryScheme,
    async idle() {
      while (pending.size > 0) await Promise.allSettled([...pending]);
      await scans.idle();
    },
  };
}

export interface RegistryCredential {
  username: string;
  password: string;
  /** host:port to log in to / pull from. */
  serverAddress: string;
  expiresAt: number;
}

/**
 * A registry credential for `scope`, as docker login / the Engine API's X-Registry-Auth want it,
 * acting as `principalArn` (GetAuthorizationToken's caller; a task's execution role session, or
 * Dockyard itself, for agent pulls).
 */
export function mintRegistryCredential(
  domain: Pick<EcrDomain, 'tokens' | 'clock' | 'registryHost'>,
  scope: Scope,
  principalArn: string = internalCaller(scope.accountId).arn,
): RegistryCredential {
  const expiresAt = domain.clock.now() + TOKEN_LIFETIME_SECONDS;
  return {
    username: REGISTRY_USERNAME,
    password: domain.tokens.mint({ accountId: scope.accountId, region: scope.region, principalArn, expiresAt }),
    serverAddress: domain.registryHost(),
    expiresAt,
  };
}

export function ecrService(domain: EcrDomain): ServiceModule {
  const { repositories: repos, images, lifecycle, settings, scans } = domain;
  const operations: OperationHandlers<Operations> = {
    CreateRepository: (ctx, input) => repos.create(ctx, input),
    DescribeRepositories: (ctx, input) => repos.describe(ctx, input),
    DeleteRepository: (ctx, input) => repos.delete(ctx, input),
    PutImageTagMutability: (ctx, input) => repos.putTagMutability(ctx, input),
    PutImageScanningConfiguration: (ctx, input) => repos.putScanningConfiguration(ctx, input),
    SetRepositoryPolicy: (ctx, input) => repos.setPolicy(ctx, input),
    GetRepositoryPolicy: (ctx, input) => repos.getPolicy(ctx, input),
    DeleteRepositoryPolicy: (ctx, input) => repos.deletePolicy(ctx, input),
    TagResource: (_ctx, input) => repos.tag(input.resourceArn, input.tags),
    UntagResource: (_ctx, input) => repos.untag(input.resourceArn, input.tagKeys),
    ListTagsForResource: (_ctx, input) => repos.listTags(input.resourceArn),
    DescribeRegistry: (ctx) => settings.describe(ctx),
    PutReplicationConfiguration: (ctx, input) => settings.putReplication(ctx, input),
    PutRegistryPolicy: (ctx, input) => settings.putPolicy(ctx, input),
    GetRegistryPolicy: (ctx) => settings.getPolicy(ctx),
    DeleteRegistryPolicy: (ctx) => settings.deletePolicy(ctx),
    PutRegistryScanningConfiguration: (ctx, input) => settings.putScanning(ctx, input),
    GetRegistryScanningConfiguration: (ctx) => settings.getScanning(ctx),
    BatchGetRepositoryScanningConfiguration: (ctx, input) => settings.batchGetRepositoryScanning(ctx, input),
    StartImageScan: (ctx, input) => scans.start(ctx, input),
    DescribeImageScanFindings: (ctx, input) => scans.findings(ctx, input),
    GetAuthorizationToken: (ctx) => {
      const cred = mintRegistryCredential(domain, ctx, ctx.caller.arn);
      return {
        authorizationData: [
          {
            authorizationToken: Buffer.from(`${cred.username}:${cred.password}`).toString('base64'),
            expiresAt: cred.expiresAt,
            proxyEndpoint: `${domain.registryScheme}://${cred.serverAddress}`,
          },
        ],
      };
    },
    ListImages: (ctx, input) => images.list(ctx, input),
    DescribeImages: async (ctx, input) => {
      const res = await images.describe(ctx, input);
      // With each image, the status and severity counts of its latest scan, as ECR shows them.
      const repo = await repos.require(ctx, input.repositoryName, input.registryId);
      const imageDetails = await Promise.all(res.imageDetails.map(async (x) => ({ ...x, ...(await scans.summary(repo.repositoryArn, x.imageDigest)) })));
      return { ...res, imageDetails };
    },
    BatchGetImage: (ctx, input) => images.batchGet(ctx, input),
    BatchDeleteImage: (ctx, input) => images.batchDelete(ctx, input),
    PutImage: (ctx, input) => images.put(ctx, input),
    BatchCheckLayerAvailability: (ctx, input) => images.checkLayers(ctx, input),
    GetDownloadUrlForLayer: (ctx, input) => images.downloadUrl(ctx, input, ctx.caller.arn),
    InitiateLayerUpload: (ctx, input) => images.initiateUpload(ctx, input),
    UploadLayerPart: (ctx, input) => images.uploadPart(ctx, input),
    CompleteLayerUpload: (ctx, input) => images.completeUpload(ctx, input),
    PutLifecyclePolicy: (ctx, input) => lifecycle.put(ctx, input),
    GetLifecyclePolicy: (ctx, input) => lifecycle.get(ctx, input),
    DeleteLifecyclePolicy: (ctx, input) => lifecycle.delete(ctx, input),
    StartLifecyclePolicyPreview: (ctx, input) => lifecycle.startPreview(ctx, input),
    GetLifecyclePolicyPreview: (ctx, input) => lifecycle.getPreview(ctx, input),
  };
  return {
    name: 'ecr',
    model: loadModel('ecr'),
    protocol: 'awsJson1_1',
    // ECR reports model constraint failures as InvalidParameterException.
    validationErrorCode: 'InvalidParameterException',
    validationMessage: ecrValidationMessage,
    operations: translatingErrors(operations, (e) => {
      if (e instanceof InvalidTokenError) return new AwsError('InvalidParameterException', `Invalid parameter at 'nextToken' failed to satisfy constraint: 'Invalid nextToken'`);
      if (e instanceof ConflictError) return new AwsError('ServerException', 'The resource was modified concurrently. Retry the request.', 500);
      if (e instanceof TooManyTags) {
        return new AwsError('TooManyTagsException', 'The list of tags on the repository is over the limit. The maximum number of tags that can be applied to a repository is 50.');
      }
      if (e instanceof InvalidTagParameter) return new AwsError('InvalidTagParameterException', e.message);
      return undefined;
    }),
  };
}


/**
 * ECR words a model constraint failure per parameter, the first one only:
 * "Invalid parameter at 'imageIds' failed to satisfy constraint: 'Member must have length greater than or equal to 1'";
 * a list member's failure is named at the list: "… at 'registryIds' failed to satisfy constraint:
 * 'Member must satisfy constraint: [Member must …]'".
 */
export function ecrValidationMessage(problems: ValidationProblem[]): string {
  const p = problems[0]!;
  const member = /^(.*)\.\d+\.member$/.exec(p.where);
  const where = member ? member[1]! : p.where;
  const constraint = member ? `Member must satisfy constraint: [${p.constraint}]` : p.constraint;
  return `Invalid parameter at '${where}' failed to satisfy constraint: '${constraint}'`;
}
