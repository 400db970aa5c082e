/**
 * AWS-shaped errors. `code` is the exception's shape name (awsJson1_1 puts it in `__type`
 * and `x-amzn-ErrorType`); framework errors (serialization, unknown operation) and each
 * service's modeled exceptions share this one class so the pipeline serializes them in one place.
 */
export class AwsError extends Error {
  readonly code: string;
  readonly status: number;
  /** Extra members the modeled exception carries (for example ECR's `registryId`). */
  readonly fields: Record<string, unknown>;

  constructor(code: string, message: string, status = 400, fields: Record<string, unknown> = {}) {
    super(message);
    this.code = code;
    this.status = status;
    this.fields = fields;
  }
}

export const serializationError = (message: string) => new AwsError('SerializationException', message);
export const unknownOperation = (target: string) =>
  new AwsError('UnknownOperationException', `Unknown operation ${target}`);
export const internalFailure = () =>
  new AwsError('InternalFailure', 'The request processing has failed because of an unknown error.', 500);
export const notImplemented = (service: string, operation: string) =>
  new AwsError('NotImplementedException', `${service}.${operation} is not implemented by Dockyard yet`, 501);
