/** The control-plane side of the agent protocol: routes, authentication, liveness, and the pure assignment logic (reports are applied by the ECS task writer, services/ecs/task-state.ts). */
export { assignmentsDigest, toAssignment, DEFAULT_STOP_TIMEOUT_SEC } from './assignments.js';
export { AgentAuth, AgentAuthError, type JoinTokenInput, type JoinTokenView } from './auth.js';
export { ADMIN_SIGNING_NAME, JOIN_TOKENS_PATH, registerJoinTokenApi, type JoinTokenApiDeps, type CallerAuthenticator } from './join-token-api.js';
export { registerSpotInterruptionApi, SPOT_INTERRUPTIONS_PATH, type SpotInterruptionApiDeps } from './spot-interruption-api.js';
export { AgentLiveness, type LivenessOptions } from './liveness.js';
export { registerAgentApi, type AgentApiDeps, type RegistryCredentialsHook } from './routes.js';
export { awslogsTarget, registerLogRoutes, type AwslogsTarget, type LogRoutesDeps, type LogSink } from './log-routes.js';
export { registerTaskStatsRoutes, type MetricSink, type TaskStatsRoutesDeps } from './task-stats-routes.js';
