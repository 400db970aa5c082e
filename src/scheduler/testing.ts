/**
 * Fixture builders for scheduler tests and benchmarks (Nomad's mock.Node() idea): sensible
 * defaults, override what the test is about. Each builder call gets a fresh id from its
 * Fixtures instance, so tests stay independent without module-level counters.
 */
import type { InstanceView, PlacementRequest, TaskDefinitionView, TaskView } from './types.js';

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';

export interface InstanceOptions {
  cpu?: number;
  memory?: number;
  ports?: number[];
  portsUdp?: number[];
  status?: string;
  agentConnected?: boolean;
  attributes?: Record<string, string | undefined>;
  az?: string;
  instanceType?: string;
  tasks?: TaskView[];
  ec2InstanceId?: string;
  agentVersion?: string;
  registeredAt?: number;
}

export interface TaskOptions {
  family?: string;
  group?: string;
  cpu?: number;
  memory?: number;
  hostPorts?: { port: number; protocol: 'tcp' | 'udp' }[];
  lastStatus?: string;
}

export class Fixtures {
  private next = 0;

  instance(options: InstanceOptions = {}): InstanceView {
    const n = ++this.next;
    const id = n.toString(16).padStart(32, '0');
    return {
      arn: `arn:aws:ecs:${REGION}:${ACCOUNT}:container-instance/default/${id}`,
      ec2InstanceId: options.ec2InstanceId ?? `i-${n.toString(16).padStart(17, '0')}`,
      status: options.status ?? 'ACTIVE',
      agentConnected: options.agentConnected ?? true,
      attributes: {
        'ecs.os-type': 'linux',
        'ecs.cpu-architecture': 'x86_64',
        'ecs.instance-type': options.instanceType ?? 'm5.large',
        'ecs.availability-zone': options.az ?? `${REGION}a`,
        'com.amazonaws.ecs.capability.docker-remote-api.1.41': undefined,
        ...options.attributes,
      },
      registered: {
        cpu: options.cpu ?? 2048,
        memory: options.memory ?? 4096,
        ports: options.ports ?? [22, 2375, 2376, 51678, 51679],
        portsUdp: options.portsUdp ?? [],
      },
      tasks: options.tasks ?? [],
      ...(options.agentVersion !== undefined ? { agentVersion: options.agentVersion } : {}),
      ...(options.registeredAt !== undefined ? { registeredAt: options.registeredAt } : {}),
    };
  }

  task(options: TaskOptions = {}): TaskView {
    const n = ++this.next;
    const family = options.family ?? 'web';
    return {
      arn: `arn:aws:ecs:${REGION}:${ACCOUNT}:task/default/${n.toString(16).padStart(32, '0')}`,
      family,
      ...(options.group !== undefined ? { group: options.group } : {}),
      taskDefinitionArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/${family}:1`,
      cpu: options.cpu ?? 256,
      memory: options.memory ?? 512,
      hostPorts: options.hostPorts ?? [],
      ...(options.lastStatus !== undefined ? { lastStatus: options.lastStatus } : {}),
    };
  }
}

/** A bridge-mode task definition with one container; `ports` become static host ports when given. */
export function taskDefinition(options: Partial<TaskDefinitionView> & { cpu?: string; memory?: string } = {}): TaskDefinitionView {
  const family = options.family ?? 'web';
  return {
    taskDefinitionArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/${family}:1`,
    family,
    containerDefinitions: [{ name: 'app', cpu: 256, memory: 512 }],
    ...options,
  };
}

/** A request for `count` tasks of `td` with no strategy or constraints unless given. */
export function request(td: TaskDefinitionView, options: Partial<PlacementRequest> = {}): PlacementRequest {
  return { count: 1, taskDefinition: td, ...options };
}
