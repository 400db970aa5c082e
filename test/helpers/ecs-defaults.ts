/** A container definition as ECS returns it: the defaults it fills into every container. */
export function withEcsDefaults<T extends { portMappings?: object[] }>(ct: T): T {
  return {
    cpu: 0,
    essential: true,
    environment: [],
    mountPoints: [],
    volumesFrom: [],
    systemControls: [],
    ...ct,
    portMappings: (ct.portMappings ?? []).map((pm) => ({ protocol: 'tcp', ...pm })),
  };
}
