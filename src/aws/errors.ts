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
  /** The same failure as the awsQuery protocol (IAM, STS) names it, when that differs (authentication errors). */
  readonly query?: { code: string; status: number };

  constructor(code: string, message: string, status = 400, fields: Record<string, unknown> = {}, query?: { code: string; status: number }) {
    super(message);
    this.code = code;
    this.status = status;
    this.fields = fields;
    this.query = query;
  }
}

export const serializationError = (message: string) => new AwsError('SerializationException', message);
export const unknownOperation = (target: string) =>
  new AwsError('UnknownOperationException', `Unknown operation ${target}`);
export const internalFailure = () =>
  new AwsError('InternalFailure', 'The request processing has failed because of an unknown error.', 500);
export const notImplemented = (service: string, operation: string) =>
  new AwsError('NotImplementedException', `${service}.${operation} is not implemented by Dockyard yet`, 501);

/*
 * Authentication failures (SigV4). JSON services answer them as 400 with these exception
 * names; awsQuery services (IAM, STS) use the names in `query` (SignatureDoesNotMatch, …).
 */
export const missingAuthenticationToken = () =>
  new AwsError('MissingAuthenticationTokenException', 'Missing Authentication Token', 400, {}, { code: 'MissingAuthenticationToken', status: 403 });
export const unrecognizedClient = () =>
  new AwsError('UnrecognizedClientException', 'The security token included in the request is invalid.', 400, {}, { code: 'InvalidClientTokenId', status: 403 });
export const incompleteSignature = (message: string) =>
  new AwsError('IncompleteSignatureException', message, 400, {}, { code: 'IncompleteSignature', status: 400 });
export const invalidSignature = (message: string) =>
  new AwsError('InvalidSignatureException', message, 400, {}, { code: 'SignatureDoesNotMatch', status: 403 });
export const signatureDoesNotMatch = () =>
  invalidSignature(
    'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
  );
export const expiredToken = () =>
  new AwsError('ExpiredTokenException', 'The security token included in the request is expired', 400, {}, { code: 'ExpiredToken', status: 400 });
