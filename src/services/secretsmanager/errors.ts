/** Secrets Manager's modeled exceptions, as it words them. Messages never carry a secret value. */
import { AwsError } from '../../aws/errors.js';

export const notFound = () => new AwsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
export const valueNotFound = (what: string) => new AwsError('ResourceNotFoundException', `Secrets Manager can't find the specified secret value for ${what}`);
export const exists = (name: string) => new AwsError('ResourceExistsException', `The operation failed because the secret ${name} already exists.`);
export const versionExists = () => new AwsError('ResourceExistsException', 'A resource with the ID you requested already exists.');
export const invalidParameter = (message: string) => new AwsError('InvalidParameterException', message);
export const invalidRequest = (message: string) => new AwsError('InvalidRequestException', message);
export const markedForDeletion = () =>
  invalidRequest("You can't perform this operation on the secret because it was marked for deletion.");
export const invalidNextToken = () => new AwsError('InvalidNextTokenException', 'The NextToken value is invalid.');
export const malformedPolicy = (message: string) => new AwsError('MalformedPolicyDocumentException', message);
export const limitExceeded = (message: string) => new AwsError('LimitExceededException', message);
