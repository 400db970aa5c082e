/**
 * The ECS service module: the model, and one thin handler per implemented operation over the
 * domain classes. Domain errors that are not AWS errors are translated here.
 */
import { AwsError } from '../../aws/errors.js';
import { loadModel, shapeOutput } from '../../aws/model.js';
import type { Operations } from '../../aws/generated/ecs.js';
import { translatingErrors, type OperationHandler, type OperationHandlers, type ServiceModule } from '../../aws/service.js';
import type { Clock } from '../../core/clock.js';
import { ConflictError } from '../../core/errors.js';
import { InvalidTokenError } from '../../core/pagination.js';
import type { Store } from '../../store/store.js';
import { AccountSettings } from './account-settings.js';
import { CapacityProviders } from './capacity-providers.js';
import { Clusters } from './clusters.js';
import { SpotInterruptions } from './spot-interruptions.js';
import { Tags } from './tags.js';
import { TaskDefinitionWireCache } from './task-definition-wire-cache.js';
import { TaskDefinitions } from './task-definitions.js';
import { Tasks } from './tasks.js';
import { Services } from './services.js';
import { TaskSets } from './task-sets.js';
import { ServiceScheduler, type ServiceSchedulerOptions } from './service-scheduler.js';

export interface EcsDeps {
  store: Store;
  clock: Clock;
  serviceScheduler?: ServiceSchedulerOptions;
}

export interface EcsDomain {
  store: Store;
  clusters: Clusters;
  taskDefinitions: TaskDefinitions;
  tags: Tags;
  accountSettings: AccountSettings;
  tasks: Tasks;
  capacityProviders: CapacityProviders;
  spotInterruptions: SpotInterruptions;
  services: Services;
  taskSets: TaskSets;
  /** The write side of the service controller (src/controllers/). */
  serviceScheduler: ServiceScheduler;
}

export function createEcsDomain(deps: EcsDeps): EcsDomain {
  const tasks = new Tasks(deps.store, deps.clock);
  const services = new Services(deps.store, deps.clock);
  return {
    store: deps.store,
    clusters: new Clusters(deps.store, deps.clock),
    taskDefinitions: new TaskDefinitions(deps.store, deps.clock),
    tags: new Tags(deps.store),
    accountSettings: new AccountSettings(deps.store),
    tasks,
    capacityProviders: new CapacityProviders(deps.store, deps.clock),
    spotInterruptions: new SpotInterruptions(deps.store, deps.clock),
    services,
    taskSets: new TaskSets(deps.store, deps.clock, services),
    serviceScheduler: new ServiceScheduler(deps.store, deps.clock, tasks, deps.serviceScheduler),
  };
}

/** ECS handlers, typed by the model's operations (src/aws/generated/ecs.ts); `extra` brings the container instances' (container-instance-operations.ts). */
export type EcsOperations = OperationHandlers<Operations>;

export function ecsService(domain: EcsDomain, extra: EcsOperations = {}): ServiceModule {
  const d = domain;
  const model = loadModel('ecs');
  const describedTaskDefinitions = new TaskDefinitionWireCache(d.taskDefinitions, (doc) => JSON.stringify(shapeOutput(model, 'TaskDefinition', doc)));
  d.store.onClear(() => describedTaskDefinitions.forget());
  const operations: EcsOperations = {
    CreateCluster: (ctx, input) => d.clusters.create(ctx, input),
    DescribeClusters: (ctx, input) => d.clusters.describe(ctx, input),
    ListClusters: (ctx, input) => d.clusters.list(ctx, input),
    UpdateCluster: (ctx, input) => d.clusters.update(ctx, input),
    UpdateClusterSettings: (ctx, input) => d.clusters.updateSettings(ctx, input),
    PutClusterCapacityProviders: (ctx, input) => d.clusters.putCapacityProviders(ctx, input),
    CreateCapacityProvider: (ctx, input) => d.capacityProviders.create(ctx, input),
    DescribeCapacityProviders: (ctx, input) => d.capacityProviders.describe(ctx, input),
    UpdateCapacityProvider: (ctx, input) => d.capacityProviders.update(ctx, input),
    DeleteCapacityProvider: (ctx, input) => d.capacityProviders.delete(ctx, input),
    DeleteCluster: (ctx, input) => d.clusters.delete(ctx, input),
    RegisterTaskDefinition: (ctx, input) => d.taskDefinitions.register(ctx, input),
    DescribeTaskDefinition: (ctx, input) => describedTaskDefinitions.describe(ctx, input),
    ListTaskDefinitions: (ctx, input) => d.taskDefinitions.list(ctx, input),
    ListTaskDefinitionFamilies: (ctx, input) => d.taskDefinitions.listFamilies(ctx, input),
    DeregisterTaskDefinition: (ctx, input) => d.taskDefinitions.deregister(ctx, input),
    DeleteTaskDefinitions: (ctx, input) => d.taskDefinitions.delete(ctx, input),
    TagResource: (_ctx, input) => d.tags.tag(input.resourceArn, input.tags),
    UntagResource: (_ctx, input) => d.tags.untag(input.resourceArn, input.tagKeys),
    ListTagsForResource: (_ctx, input) => d.tags.list(input.resourceArn),
    PutAccountSetting: (ctx, input) => d.accountSettings.put(ctx, input),
    PutAccountSettingDefault: (ctx, input) => d.accountSettings.put(ctx, input, true),
    DeleteAccountSetting: (ctx, input) => d.accountSettings.remove(ctx, input),
    ListAccountSettings: (ctx, input) => d.accountSettings.list(ctx, input),
    RunTask: (ctx, input) => d.tasks.run(ctx, input),
    StartTask: (ctx, input) => d.tasks.start(ctx, input),
    StopTask: (ctx, input) => d.tasks.stop(ctx, input),
    DescribeTasks: (ctx, input) => d.tasks.describe(ctx, input),
    ListTasks: (ctx, input) => d.tasks.list(ctx, input),
    CreateService: (ctx, input) => d.services.create(ctx, input),
    UpdateService: (ctx, input) => d.services.update(ctx, input),
    DeleteService: (ctx, input) => d.services.delete(ctx, input),
    DescribeServices: (ctx, input) => d.services.describe(ctx, input),
    ListServices: (ctx, input) => d.services.list(ctx, input),
    ListServicesByNamespace: (ctx, input) => d.services.listByNamespace(ctx, input),
    ListServiceDeployments: (ctx, input) => d.services.listDeployments(ctx, input),
    DescribeServiceDeployments: (ctx, input) => d.services.describeDeployments(ctx, input),
    DescribeServiceRevisions: (ctx, input) => d.services.describeRevisions(ctx, input),
    StopServiceDeployment: (ctx, input) => d.services.stopDeployment(ctx, input),
    CreateTaskSet: (ctx, input) => d.taskSets.create(ctx, input),
    DescribeTaskSets: (ctx, input) => d.taskSets.describe(ctx, input),
    UpdateTaskSet: (ctx, input) => d.taskSets.update(ctx, input),
    DeleteTaskSet: (ctx, input) => d.taskSets.delete(ctx, input),
    UpdateServicePrimaryTaskSet: (ctx, input) => d.taskSets.updatePrimary(ctx, input),
    ContinueServiceDeployment: (ctx, input) => d.services.continueDeployment(ctx, input),
    ...extra,
  };
  return {
    name: 'ecs',
    model,
    protocol: 'awsJson1_1',
    validationErrorCode: 'InvalidParameterException',
    operations: translatingErrors(operations, (e) => {
      if (e instanceof InvalidTokenError) return new AwsError('InvalidParameterException', e.message);
      if (e instanceof ConflictError) return new AwsError('ClientException', 'The resource was modified concurrently. Retry the request.');
      return undefined;
    }),
  };
}

