/**
 * The scheduler's vocabulary: a plain-data snapshot of a cluster in, a plan out.
 * Nothing here refers to the store or to wire documents; the control plane maps its
 * records to these shapes (and may re-check a plan against fresher state before applying it).
 */

export interface InstanceView {
  /** Container instance ARN. */
  arn: string;
  ec2InstanceId?: string;
  /** Only 'ACTIVE' instances take new tasks; others are not candidates at all (as in ECS). */
  status: string;
  /** Disconnected instances take no new tasks (failure reason AGENT). */
  agentConnected: boolean;
  /** name → value (undefined = attribute without value): ecs.os-type, ecs.availability-zone, capabilities, custom ones. */
  attributes: Readonly<Record<string, string | undefined>>;
  /** ports / portsUdp = host ports the host itself reserves (e.g. 22, 4600). */
  registered: { cpu: number; memory: number; ports: readonly number[]; portsUdp: readonly number[] };
  /** Non-STOPPED tasks on the instance. */
  tasks: readonly TaskView[];
  /** For the cluster query subject `agentVersion`, e.g. "1.14.5". */
  agentVersion?: string;
  /** For the cluster query subject `registeredAt`: epoch seconds. */
  registeredAt?: number;
}

export interface TaskView {
  arn: string;
  family: string;
  /** The task group; absent means the default group `family:<family>`. */
  group?: string;
  taskDefinitionArn: string;
  cpu: number;
  memory: number;
  hostPorts: readonly { port: number; protocol: 'tcp' | 'udp' }[];
  /** Used by the cluster query subject `runningTasksCount` (counts RUNNING tasks; absent counts as RUNNING). */
  lastStatus?: string;
}

export interface ClusterSnapshot {
  instances: readonly InstanceView[];
}

export interface PortMappingView {
  containerPort?: number;
  hostPort?: number;
  protocol?: string;
}

export interface ContainerDefinitionView {
  name?: string;
  cpu?: number;
  memory?: number;
  memoryReservation?: number;
  portMappings?: readonly PortMappingView[];
}

export interface PlacementConstraintView {
  type?: string;
  expression?: string;
}

export interface PlacementStrategyView {
  type?: string;
  field?: string;
}

/** Subset of the ECS TaskDefinition wire shape. */
export interface TaskDefinitionView {
  taskDefinitionArn: string;
  family: string;
  networkMode?: string;
  cpu?: string;
  memory?: string;
  requiresAttributes?: readonly { name: string; value?: string }[];
  placementConstraints?: readonly PlacementConstraintView[];
  containerDefinitions: readonly ContainerDefinitionView[];
}

export interface TaskOverridesView {
  cpu?: string;
  memory?: string;
  containerOverrides?: readonly { name?: string; cpu?: number; memory?: number; memoryReservation?: number }[];
}

export interface PlacementRequest {
  /** 1..10 for RunTask; the service reconciler may ask for more. 0 places nothing. */
  count: number;
  taskDefinition: TaskDefinitionView;
  overrides?: TaskOverridesView;
  /** e.g. "family:web" or "service:api"; defaults to `family:<task definition family>`, as in ECS. */
  group?: string;
  /** RunTask's constraints, in addition to the task definition's. */
  placementConstraints?: readonly PlacementConstraintView[];
  /** Evaluated in order: the first is the primary key, later ones break ties. Absent or empty → random. */
  placementStrategy?: readonly PlacementStrategyView[];
}

export interface HostPortBinding {
  containerName: string;
  containerPort: number;
  /** 0 = dynamic: the agent lets Docker choose. */
  hostPort: number;
  protocol: 'tcp' | 'udp';
}

export interface Placement {
  instanceArn: string;
  hostPorts: HostPortBinding[];
}

export interface PlacementFailure {
  arn?: string;
  reason: string;
  detail?: string;
}

export interface PlacementResult {
  placements: Placement[];
  failures: PlacementFailure[];
}

export interface TaskReservation {
  cpu: number;
  memory: number;
  hostPorts: HostPortBinding[];
}
