/** ECS ARNs and the identifiers callers may use in their place (names, family:revision). */
export interface Scope {
  readonly accountId: string;
  readonly region: string;
}

const prefix = (s: Scope) => `arn:aws:ecs:${s.region}:${s.accountId}`;

export const clusterArn = (s: Scope, name: string) => `${prefix(s)}:cluster/${name}`;
export const taskDefinitionArn = (s: Scope, family: string, revision: number) => `${prefix(s)}:task-definition/${family}:${revision}`;
export const taskArn = (s: Scope, clusterName: string, id: string) => `${prefix(s)}:task/${clusterName}/${id}`;
export const containerInstanceArn = (s: Scope, clusterName: string, id: string) => `${prefix(s)}:container-instance/${clusterName}/${id}`;
export const serviceArn = (s: Scope, clusterName: string, name: string) => `${prefix(s)}:service/${clusterName}/${name}`;
export const principalArn = (s: Scope) => `arn:aws:iam::${s.accountId}:root`;

/** `arn:aws:ecs:region:account:<type>/<rest>` → { type, rest }, or undefined when not an ECS ARN. */
export function parseArn(arn: string): { region: string; accountId: string; type: string; rest: string } | undefined {
  const m = /^arn:aws[\w-]*:ecs:([^:]*):([^:]*):([a-z-]+)\/(.+)$/.exec(arn);
  return m ? { region: m[1]!, accountId: m[2]!, type: m[3]!, rest: m[4]! } : undefined;
}

/** The cluster name from a name or a cluster ARN. */
export function clusterNameOf(ref: string): string {
  const arn = parseArn(ref);
  return arn && arn.type === 'cluster' ? arn.rest : ref;
}
