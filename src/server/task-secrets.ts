/**
 * Resolves a task's container `secrets` and `repositoryCredentials` for the agent that runs it
 * (GET /agent/v1/task-secrets): each reference is authorized as the task's execution role
 * (ssm:GetParameters on the parameter, secretsmanager:GetSecretValue on the secret) and read
 * through the SSM and Secrets Manager domains. A failure is ECS's stopped reason, which names
 * the reference and the error, never a value.
 */
import type { TaskSecretsHook } from '../agent-api/routes.js';
import { AwsError } from '../aws/errors.js';
import { internalCaller, type Authorizer, type Caller } from '../iam/principal.js';
import type { TaskSecretsResponse } from '../protocol/index.js';
import type { Secrets } from '../services/secretsmanager/index.js';
import { parameterArn, parseRef, type Parameters } from '../services/ssm/index.js';

export const SECRETS_FAILURE = 'ResourceInitializationError: unable to pull secrets or registry auth';
const RETRIEVAL = 'execution resource retrieval failed';

/** A `valueFrom` as ECS reads it. */
export type SecretReference =
  | { kind: 'ssm'; name: string }
  | { kind: 'asm'; secretId: string; jsonKey?: string; versionStage?: string; versionId?: string };

/**
 * `arn:…:secretsmanager:…:secret:<name-suffix>[:json-key[:version-stage[:version-id]]]` (empty
 * fields skipped), `arn:…:ssm:…:parameter/<name>`, or a parameter name in the task's region.
 */
export function parseValueFrom(valueFrom: string): SecretReference {
  const asm = /^(arn:aws[\w-]*:secretsmanager:[^:]*:\d{12}:secret:[^:]+)(?::([^:]*)(?::([^:]*)(?::([^:]*))?)?)?$/.exec(valueFrom);
  if (asm) return { kind: 'asm', secretId: asm[1]!, jsonKey: asm[2] || undefined, versionStage: asm[3] || undefined, versionId: asm[4] || undefined };
  return { kind: 'ssm', name: valueFrom };
}

export interface TaskSecretsDeps {
  parameters: Parameters;
  secrets: Secrets;
  authorizer: Authorizer;
  /** The Caller an execution role session ARN stands for (server/authorization.ts principalCallers). */
  callerOf: (principalArn: string) => Promise<Caller>;
}

class SecretsFailure extends Error {}

export function taskSecretsResolver(deps: TaskSecretsDeps): TaskSecretsHook {
  return async (task, def, principal) => {
    const scope = { accountId: task.accountId, region: task.region };
    const out: TaskSecretsResponse = { taskArn: task.taskArn, containers: [] };
    try {
      if (principal === null) {
        throw new SecretsFailure(`${RETRIEVAL}: the task execution role could not be assumed by ecs-tasks.amazonaws.com`);
      }
      const caller = principal === undefined ? internalCaller(scope.accountId) : await deps.callerOf(principal);
      const containers = Array.isArray(def.containerDefinitions) ? (def.containerDefinitions as Record<string, unknown>[]) : [];
      for (const cd of containers) {
        const refs = Array.isArray(cd.secrets) ? (cd.secrets as { name?: unknown; valueFrom?: unknown }[]) : [];
        const parameter = (cd.repositoryCredentials as { credentialsParameter?: unknown } | undefined)?.credentialsParameter;
        if (refs.length === 0 && typeof parameter !== 'string') continue;
        const environment: { name: string; value: string }[] = [];
        for (const r of refs) environment.push({ name: String(r.name), value: await read(deps, scope, caller, String(r.valueFrom)) });
        let registryAuth: TaskSecretsResponse['containers'][number]['registryAuth'];
        if (typeof parameter === 'string') registryAuth = await registryAuthFrom(deps, scope, caller, parameter);
        out.containers.push({ name: String(cd.name), environment, ...(registryAuth ? { registryAuth } : {}) });
      }
      return out;
    } catch (e) {
      if (!(e instanceof SecretsFailure)) throw e;
      return { taskArn: task.taskArn, containers: [], failure: `${SECRETS_FAILURE}: ${e.message}` };
    }
  };
}

type Scope = { accountId: string; region: string };

/** One reference's value, as `caller`. */
async function read(deps: TaskSecretsDeps, scope: Scope, caller: Caller, valueFrom: string): Promise<string> {
  const ref = parseValueFrom(valueFrom);
  if (ref.kind === 'ssm') {
    const names = parseRef(ref.name).names;
    const arn = ref.name.startsWith('arn:') ? ref.name : parameterArn(scope, names[0]!);
    try {
      await deps.authorizer.authorize(caller, { action: 'ssm:GetParameters', resources: [arn] });
      return (await deps.parameters.resolve(scope, ref.name)).value;
    } catch (e) {
      if (!(e instanceof AwsError)) throw e;
      if (e.code === 'ParameterNotFound' || e.code === 'ParameterVersionNotFound') {
        throw new SecretsFailure(`${RETRIEVAL}: unable to retrieve secrets from ssm: service call has been retried 1 time(s): invalid ssm parameters: ${ref.name}`);
      }
      throw new SecretsFailure(`${RETRIEVAL}: unable to retrieve secrets from ssm: service call has been retried 1 time(s): ${e.code}: ${e.message}`);
    }
  }
  const value = await readSecret(deps, scope, caller, ref.secretId, ref.versionStage, ref.versionId, 'unable to retrieve secret from asm');
  if (ref.jsonKey === undefined) return value;
  const field = jsonField(value, ref.jsonKey);
  if (field === undefined) throw new SecretsFailure(`${RETRIEVAL}: unable to retrieve secret from asm: retrieved secret from Secrets Manager did not contain json key ${ref.jsonKey}`);
  return field;
}

async function readSecret(deps: TaskSecretsDeps, scope: Scope, caller: Caller, secretId: string, stage: string | undefined, versionId: string | undefined, what: string): Promise<string> {
  try {
    // Authorized on the secret's full ARN when it exists (policies name `secret:<name>-??????`), else on the reference.
    const arn = (await deps.secrets.arnOf(scope, secretId)) ?? secretId;
    await deps.authorizer.authorize(caller, { action: 'secretsmanager:GetSecretValue', resources: [arn.startsWith('arn:') ? arn : `arn:aws:secretsmanager:${scope.region}:${scope.accountId}:secret:${arn}`] });
    return (await deps.secrets.resolve(scope, secretId, stage, versionId)).value;
  } catch (e) {
    if (!(e instanceof AwsError)) throw e;
    throw new SecretsFailure(`${RETRIEVAL}: ${what}: service call has been retried 1 time(s): ${e.code}: ${e.message}`);
  }
}

/** `{"username": …, "password": …}` from a secret, for pulling a private image. */
async function registryAuthFrom(deps: TaskSecretsDeps, scope: Scope, caller: Caller, parameter: string) {
  const ref = parseValueFrom(parameter);
  const secretId = ref.kind === 'asm' ? ref.secretId : ref.name;
  const value = await readSecret(deps, scope, caller, secretId, undefined, undefined, 'unable to retrieve registry auth from asm');
  const username = jsonField(value, 'username');
  const password = jsonField(value, 'password');
  if (username === undefined || password === undefined) {
    throw new SecretsFailure(`${RETRIEVAL}: unable to retrieve registry auth from asm: the secret ${secretId} is not a JSON object with "username" and "password"`);
  }
  return { username, password };
}

/** A top-level field of a JSON object secret; never the parser's message (it quotes the input). */
function jsonField(text: string, key: string): string | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc) || !Object.hasOwn(doc, key)) return undefined;
  const v = (doc as Record<string, unknown>)[key];
  return typeof v === 'string' ? v : JSON.stringify(v);
}
