/**
 * The SSM service module, cut to Parameter Store: the model, and one thin handler per
 * operation over the Parameters domain class.
 */
import { AwsError } from '../../aws/errors.js';
import type { Operations } from '../../aws/generated/ssm.js';
import { loadModel } from '../../aws/model.js';
import { redactingValidationMessage } from '../../aws/sensitive.js';
import { translatingErrors, type OperationHandlers, type ServiceModule } from '../../aws/service.js';
import type { Clock } from '../../core/clock.js';
import { ConflictError } from '../../core/errors.js';
import { InvalidTokenError } from '../../core/pagination.js';
import type { SecretBox } from '../../core/secret-box.js';
import type { Store } from '../../store/store.js';
import { Parameters } from './parameters.js';

export { parameterArn, parseRef, type ParameterType } from './parameters.js';
export { Parameters };

export interface SsmDeps {
  store: Store;
  clock: Clock;
  /** Seals SecureString values (the data dir's key, outside the database). */
  secrets: SecretBox;
}

export function createSsmDomain(deps: SsmDeps): { parameters: Parameters } {
  return { parameters: new Parameters(deps.store, deps.clock, deps.secrets) };
}

export function ssmService(domain: { parameters: Parameters }): ServiceModule {
  const p = domain.parameters;
  const model = loadModel('ssm');
  const operations: OperationHandlers<Operations> = {
    PutParameter: (ctx, input) => p.put(ctx, input),
    GetParameter: async (ctx, input) => ({ Parameter: await p.get(ctx, input.Name, input.WithDecryption ?? false) }),
    GetParameters: (ctx, input) => p.getMany(ctx, input.Names, input.WithDecryption ?? false),
    GetParametersByPath: (ctx, input) => p.byPath(ctx, input),
    DescribeParameters: (ctx, input) => p.describe(ctx, input),
    GetParameterHistory: (ctx, input) => p.history(ctx, input),
    DeleteParameter: async (ctx, input) => {
      await p.delete(ctx, input.Name);
      return {};
    },
    DeleteParameters: (ctx, input) => p.deleteMany(ctx, input.Names),
    LabelParameterVersion: (ctx, input) => p.label(ctx, input),
    UnlabelParameterVersion: (ctx, input) => p.unlabel(ctx, input),
    AddTagsToResource: (ctx, input) => p.addTags(ctx, input.ResourceType, input.ResourceId, input.Tags),
    RemoveTagsFromResource: (ctx, input) => p.removeTags(ctx, input.ResourceType, input.ResourceId, input.TagKeys),
    ListTagsForResource: (ctx, input) => p.listTags(ctx, input.ResourceType, input.ResourceId),
  };
  return {
    name: 'ssm',
    model,
    protocol: 'awsJson1_1',
    validationErrorCode: 'ValidationException',
    validationMessage: redactingValidationMessage(model),
    operations: translatingErrors(operations, (e) => {
      if (e instanceof InvalidTokenError) return new AwsError('InvalidNextToken', 'The specified token is not valid.');
      if (e instanceof ConflictError) return new AwsError('TooManyUpdates', 'There are concurrent updates for the resource that you are trying to update. Try again later.');
      return undefined;
    }),
  };
}
