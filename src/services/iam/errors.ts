/**
 * IAM's modeled exceptions with IAM's wording. They are thrown by shape name; the awsQuery
 * protocol sends the model's code and status (NoSuchEntity 404, EntityAlreadyExists 409, …).
 */
import { AwsError } from '../../aws/errors.js';

export const VALIDATION_ERROR = 'ValidationError';

export const validationError = (message: string) => new AwsError(VALIDATION_ERROR, message);
export const noSuchEntity = (message: string) => new AwsError('NoSuchEntityException', message, 404);
export const alreadyExists = (message: string) => new AwsError('EntityAlreadyExistsException', message, 409);
export const deleteConflict = (message: string) => new AwsError('DeleteConflictException', message, 409);
export const limitExceeded = (message: string) => new AwsError('LimitExceededException', message, 409);
export const invalidInput = (message: string) => new AwsError('InvalidInputException', message);
export const malformedPolicy = (message: string) => new AwsError('MalformedPolicyDocumentException', message);
export const concurrentModification = () =>
  new AwsError('ConcurrentModificationException', 'The resource was modified concurrently. Retry the request.', 409);

export const userNotFound = (name: string) => noSuchEntity(`The user with name ${name} cannot be found.`);
export const roleNotFound = (name: string) => noSuchEntity(`The role with name ${name} cannot be found.`);
export const policyNotFound = (arn: string) => noSuchEntity(`Policy ${arn} was not found.`);
export const notAttachable = (arn: string) => noSuchEntity(`Policy ${arn} does not exist or is not attachable.`);
/** GetAccessKeyLastUsed models no NoSuchEntity: IAM answers a key it cannot show (unknown, another account's) with AccessDenied. */
export const accessKeyNotVisible = (callerArn: string, id: string) =>
  new AwsError('AccessDenied', `User: ${callerArn} is not authorized to perform: iam:GetAccessKeyLastUsed on resource: access key ${id}`, 403);
export const accessKeyNotFound = (id: string) => noSuchEntity(`The Access Key with id ${id} cannot be found.`);
