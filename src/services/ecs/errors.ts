/** ECS's modeled exceptions (names from the service model), with the messages ECS uses. */
import { AwsError } from '../../aws/errors.js';

export const clientException = (message: string) => new AwsError('ClientException', message);
export const invalidParameter = (message: string) => new AwsError('InvalidParameterException', message);
export const clusterNotFound = () => new AwsError('ClusterNotFoundException', 'Cluster not found.');
export const resourceNotFound = (message = 'The specified resource could not be found.') =>
  new AwsError('ResourceNotFoundException', message);
export const clusterContainsServices = () =>
  new AwsError('ClusterContainsServicesException', 'The Cluster cannot be deleted while Services are active.');
export const clusterContainsTasks = () =>
  new AwsError('ClusterContainsTasksException', 'The Cluster cannot be deleted while Tasks are active.');
export const clusterContainsInstances = () =>
  new AwsError('ClusterContainsContainerInstancesException', 'The Cluster cannot be deleted while Container Instances are active or draining.');
export const capacityProviderNotFound = (name: string) => invalidParameter(`The specified capacity provider ${name} does not exist.`);
export const capacityProviderNotAssociated = () =>
  invalidParameter(
    'The specified capacity provider strategy cannot contain a capacity provider that is not associated with the cluster. Associate the capacity provider with the cluster or specify a valid capacity provider and try again.',
  );
