/** ECR ARNs: `arn:aws:ecr:<region>:<account>:repository/<name>` (names may contain slashes). */
export interface Scope {
  readonly accountId: string;
  readonly region: string;
}

export const repositoryArn = (s: Scope, name: string) => `arn:aws:ecr:${s.region}:${s.accountId}:repository/${name}`;

export function parseRepositoryArn(arn: string): (Scope & { name: string }) | undefined {
  const m = /^arn:aws[\w-]*:ecr:([^:]+):(\d{12}):repository\/(.+)$/.exec(arn);
  return m ? { region: m[1]!, accountId: m[2]!, name: m[3]! } : undefined;
}

/** The ECR repository name grammar (the model's pattern, anchored). */
export const REPOSITORY_NAME = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
