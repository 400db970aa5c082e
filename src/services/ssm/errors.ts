/** SSM's modeled exceptions, as Parameter Store words them. Messages never carry a parameter's value. */
import { AwsError } from '../../aws/errors.js';

export const validation = (message: string) => new AwsError('ValidationException', message);
export const parameterNotFound = (name: string) => new AwsError('ParameterNotFound', `Parameter ${name} not found.`);
export const versionNotFound = (name: string, selector: string) =>
  new AwsError('ParameterVersionNotFound', `Systems Manager could not find version ${selector} of ${name}. Verify the version and try again.`);
export const alreadyExists = () =>
  new AwsError('ParameterAlreadyExists', 'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.');
export const hierarchyLimit = () =>
  new AwsError(
    'HierarchyLevelLimitExceededException',
    'Parameter name: the parameter name exceeds the maximum depth of 15 levels. The hierarchy can have a maximum of 15 levels.',
  );
export const patternMismatch = (pattern: string) =>
  new AwsError('ParameterPatternMismatchException', `Parameter value, cannot be validated against allowedPattern: ${pattern}`);
export const invalidAllowedPattern = (message: string) => new AwsError('InvalidAllowedPatternException', message);
export const maxVersions = (name: string) =>
  new AwsError(
    'ParameterMaxVersionLimitExceeded',
    `You attempted to create a new version of ${name} by calling the PutParameter API with the overwrite flag. Version 1, the oldest version, can't be deleted because it has a label associated with it. Move the label to another version of the parameter, and try again.`,
  );
export const labelLimit = () =>
  new AwsError('ParameterVersionLabelLimitExceeded', 'An parameter version can have maximum 10 labels.Move one or more labels to another version and try again.');
export const invalidFilterKey = (message: string) => new AwsError('InvalidFilterKey', message);
export const invalidFilterOption = (message: string) => new AwsError('InvalidFilterOption', message);
export const invalidFilterValue = (message: string) => new AwsError('InvalidFilterValue', message);
export const invalidNextToken = () => new AwsError('InvalidNextToken', 'The specified token is not valid.');
export const invalidResourceType = () => new AwsError('InvalidResourceType', 'The resource type is not valid. Parameter Store resources are tagged with ResourceType Parameter.');
export const invalidResourceId = () => new AwsError('InvalidResourceId', 'The resource ID is not valid. Verify that you entered the correct ID and try again.');
export const tooManyTags = () => new AwsError('TooManyTagsError', 'The Tags parameter contains more than 50 tags.');
export const invalidKeyId = () => new AwsError('InvalidKeyId', 'The query key ID is not valid.');
export const tooManyUpdates = () => new AwsError('TooManyUpdates', 'There are concurrent updates for the resource that you are trying to update. Try again later.');
