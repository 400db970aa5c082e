/**
 * The ECS scheduler: a pure function from a cluster snapshot and a placement request to a
 * plan (placements and failures). It imports nothing outside src/scheduler/ and reads no
 * clock or global randomness; see docs/scheduler.md for the semantics it implements.
 */
export { schedule, SERVICE_DEFAULT_STRATEGY } from './schedule.js';
export type { ScheduleEnv } from './schedule.js';
export { cpuUnits, memoryMiB, taskReservation } from './reservation.js';
export { parseClusterQuery } from './cluster-query.js';
export type { ClusterQuery, QueryField, QueryOperator, QuerySubject } from './cluster-query.js';
export { compileClusterQuery } from './cluster-query-eval.js';
export type { InstancePredicate, QueryTarget } from './cluster-query-eval.js';
export { FAILURE_REASONS } from './feasibility.js';
export { SnapshotMemo } from './snapshot-memo.js';
export { taskGroupOf } from './task-group.js';
export { ClusterQueryError, NoContainerInstancesError, SchedulerInputError } from './errors.js';
export type {
  ClusterSnapshot,
  ContainerDefinitionView,
  HostPortBinding,
  InstanceView,
  Placement,
  PlacementConstraintView,
  PlacementFailure,
  PlacementRequest,
  PlacementResult,
  PlacementStrategyView,
  PortMappingView,
  TaskDefinitionView,
  TaskOverridesView,
  TaskReservation,
  TaskView,
} from './types.js';
export { splitAcrossProviders, validateStrategy, MAX_STRATEGY_ITEMS } from './capacity-split.js';
export type { ProviderShare, StrategyItemView } from './capacity-split.js';
export {
  circuitBreakerThreshold,
  containerUnhealthyEvent,
  decideService,
  deploymentBounds,
  DRAINING_STOP_REASON,
  ELB_UNHEALTHY_STOP_REASON,
  gracePeriodOver,
  SCALING_STOP_REASON,
  steadyStateEvent,
  targetUnhealthyEvent,
  UNHEALTHY_STOP_REASON,
} from './service-decisions.js';
export type { DeploymentInput, DeploymentOutcome, InstanceInput, RolloutState, ServiceDecision, ServiceInput, ServiceTaskInput, TaskLbHealth, TaskStop } from './service-decisions.js';
export { decideShift, initialShift, LIFECYCLE_STAGES, readyCount, rollbackShift, trafficOf, weightsFor } from './deployment-strategies.js';
export type { ForwardChange, HookState, LifecycleStage, PauseHookPlan, ShiftDecision, ShiftInput, ShiftPlan, ShiftRoute, ShiftState, ShiftStrategy } from './deployment-strategies.js';
