/** Fixture builders for the agent's unit tests (test-only; Nomad's mock.Node() idea). */
import type { ContainerSpec } from '../protocol/index.js';

/** A container spec with every field at its ECS default, as toAssignment would hand it over. */
export function containerSpec(name: string, over: Partial<ContainerSpec> = {}): ContainerSpec {
  return {
    name,
    containerArn: `arn:c/${name}`,
    image: 'img',
    essential: true,
    environment: [],
    extraHosts: [],
    dnsServers: [],
    dnsSearchDomains: [],
    links: [],
    ulimits: [],
    dockerLabels: {},
    privileged: false,
    readonlyRootFilesystem: false,
    initProcessEnabled: false,
    cpu: 0,
    portMappings: [],
    mountPoints: [],
    volumesFrom: [],
    stopTimeoutSec: 30,
    dependsOn: [],
    ...over,
  };
}
