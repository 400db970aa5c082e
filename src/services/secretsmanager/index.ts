/**
 * The Secrets Manager service module: the model, and one thin handler per operation over the
 * Secrets domain class.
 */
import { AwsError } from '../../aws/errors.js';
import type { Operations } from '../../aws/generated/secretsmanager.js';
import { loadModel } from '../../aws/model.js';
import { redactingValidationMessage } from '../../aws/sensitive.js';
import { translatingErrors, type OperationHandlers, type ServiceModule } from '../../aws/service.js';
import type { Clock } from '../../core/clock.js';
import { ConflictError } from '../../core/errors.js';
import type { SecretBox } from '../../core/secret-box.js';
import type { Store } from '../../store/store.js';
import { Rotation, type RotationRunner } from './rotation.js';
import { getRandomPassword, Secrets } from './secrets.js';

export { Secrets, Rotation, type RotationRunner };

export interface SecretsManagerDeps {
  store: Store;
  clock: Clock;
  /** Seals every secret version (the data dir's key, outside the database). */
  secrets: SecretBox;
  /** Runs rotation tasks (absent: RotateSecret cannot rotate now). */
  rotationRunner?: RotationRunner;
}

export interface SecretsManagerDomain {
  secrets: Secrets;
  rotation: Rotation;
}

export function createSecretsManagerDomain(deps: SecretsManagerDeps): SecretsManagerDomain {
  const secrets = new Secrets(deps.store, deps.clock, deps.secrets);
  return { secrets, rotation: new Rotation(deps.store, deps.clock, secrets, deps.rotationRunner) };
}

export function secretsManagerService(domain: SecretsManagerDomain, extra: OperationHandlers<Operations> = {}): ServiceModule {
  const s = domain.secrets;
  const model = loadModel('secretsmanager');
  const operations: OperationHandlers<Operations> = {
    CreateSecret: (ctx, input) => s.create(ctx, input),
    GetSecretValue: (ctx, input) => s.getValue(ctx, input.SecretId, input.VersionId, input.VersionStage),
    BatchGetSecretValue: (ctx, input) => s.batchGet(ctx, input),
    PutSecretValue: (ctx, input) => s.putValue(ctx, input),
    UpdateSecret: (ctx, input) => s.update(ctx, input),
    DescribeSecret: (ctx, input) => s.describe(ctx, input.SecretId),
    ListSecrets: (ctx, input) => s.list(ctx, input),
    DeleteSecret: (ctx, input) => s.delete(ctx, input),
    RestoreSecret: (ctx, input) => s.restore(ctx, input.SecretId),
    UpdateSecretVersionStage: (ctx, input) => s.updateStage(ctx, input),
    ListSecretVersionIds: (ctx, input) => s.listVersions(ctx, input),
    GetRandomPassword: (_ctx, input) => ({ RandomPassword: getRandomPassword(input) }),
    TagResource: (ctx, input) => s.tag(ctx, input.SecretId, input.Tags),
    UntagResource: (ctx, input) => s.untag(ctx, input.SecretId, input.TagKeys),
    PutResourcePolicy: (ctx, input) => s.putPolicy(ctx, input.SecretId, input.ResourcePolicy),
    GetResourcePolicy: (ctx, input) => s.getPolicy(ctx, input.SecretId),
    DeleteResourcePolicy: (ctx, input) => s.deletePolicy(ctx, input.SecretId),
    RotateSecret: (ctx, input) => domain.rotation.rotate(ctx, input),
    CancelRotateSecret: (ctx, input) => domain.rotation.cancel(ctx, input.SecretId),
    ...extra,
  };
  return {
    name: 'secretsmanager',
    model,
    protocol: 'awsJson1_1',
    validationErrorCode: 'InvalidParameterException',
    validationMessage: redactingValidationMessage(model),
    operations: translatingErrors(operations, (e) => {
      if (e instanceof ConflictError) return new AwsError('InternalServiceError', 'The secret was modified concurrently. Retry the request.', 500);
      return undefined;
    }),
  };
}
