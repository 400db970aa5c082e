/** ECR's modeled exceptions (names from the service model), with the messages ECR uses. */
import { AwsError } from '../../aws/errors.js';

export const invalidParameter = (message: string) => new AwsError('InvalidParameterException', message);
export const repositoryNotFound = (name: string, registryId: string) =>
  new AwsError('RepositoryNotFoundException', `The repository with name '${name}' does not exist in the registry with id '${registryId}'`);
export const repositoryAlreadyExists = (name: string, registryId: string) =>
  new AwsError('RepositoryAlreadyExistsException', `The repository with name '${name}' already exists in the registry with id '${registryId}'`);
export const repositoryNotEmpty = (name: string, registryId: string) =>
  new AwsError(
    'RepositoryNotEmptyException',
    `The repository with name '${name}' in registry with id '${registryId}' cannot be deleted because it still contains images`,
  );
export const imageNotFound = (id: { imageDigest?: string; imageTag?: string }, name: string, registryId: string) =>
  new AwsError(
    'ImageNotFoundException',
    `The image with imageId {imageDigest:'${id.imageDigest ?? 'null'}', imageTag:'${id.imageTag ?? 'null'}'} does not exist within the repository with name '${name}' in the registry with id '${registryId}'`,
  );
export const repositoryPolicyNotFound = (name: string, registryId: string) =>
  new AwsError('RepositoryPolicyNotFoundException', `Repository policy does not exist for the repository with name '${name}' in the registry with id '${registryId}'`);
export const lifecyclePolicyNotFound = (name: string, registryId: string) =>
  new AwsError('LifecyclePolicyNotFoundException', `Lifecycle policy does not exist for the repository with name '${name}' in the registry with id '${registryId}'`);
export const lifecyclePreviewNotFound = (name: string, registryId: string) =>
  new AwsError(
    'LifecyclePolicyPreviewNotFoundException',
    `There is no dry run for the repository with name '${name}' in the registry with id '${registryId}'`,
  );
export const uploadNotFound = (uploadId: string, name: string, registryId: string) =>
  new AwsError('UploadNotFoundException', `The upload with id '${uploadId}' does not exist in the repository with name '${name}' in the registry with id '${registryId}'`);
export const layersNotFound = (message: string) => new AwsError('LayersNotFoundException', message);
export const registryPolicyNotFound = (registryId: string) =>
  new AwsError('RegistryPolicyNotFoundException', `Registry policy does not exist in the registry with id '${registryId}'`);
export const scanNotFound = (id: { imageDigest?: string; imageTag?: string }, name: string, registryId: string) =>
  new AwsError(
    'ScanNotFoundException',
    `Image scan does not exist for the image with '{imageDigest:'${id.imageDigest ?? 'null'}', imageTag:'${id.imageTag ?? 'null'}'}' in the repository with name '${name}' in the registry with id '${registryId}'`,
  );
