/**
 * The defaults ECS fills into a container definition, taken from outside Dockyard so that a test
 * comparing against them can catch a wrong default:
 * - from a recorded exchange (AWS's own RegisterTaskDefinition example in botocore, kept in
 *   test/fixtures/recorded/): every member its response has that its request did not
 *   (environment, mountPoints, portMappings, volumesFrom: all []);
 * - what that 2016 recording predates or does not exercise, each with its source:
 *   systemControls [] (ECS returns it since container sysctls arrived; terraform-provider-aws
 *   #46132 lists it with mountPoints and volumesFrom as the empty arrays the API sends back),
 *   a port mapping's protocol "tcp" ("The default is tcp", PortMapping in the API reference;
 *   ansible#22547 shows ECS returning it unasked), essential true ("If the essential parameter
 *   ... is omitted, a container is assumed to be essential") and cpu 0 for a container that
 *   sets none (as real DescribeTaskDefinition responses show).
 */
import { readFileSync } from 'node:fs';

interface Recorded {
  input: { containerDefinitions: Record<string, unknown>[] };
  output: { taskDefinition: { containerDefinitions: Record<string, unknown>[] } };
}

export const recordedRegistration = JSON.parse(
  readFileSync(new URL('../fixtures/recorded/register-task-definition.json', import.meta.url), 'utf8'),
) as Recorded & { source: string };

const sent = recordedRegistration.input.containerDefinitions[0]!;
const returned = recordedRegistration.output.taskDefinition.containerDefinitions[0]!;

/** Members ECS added to the recorded container definition, with the values it gave them. */
export const RECORDED_CONTAINER_DEFAULTS: Readonly<Record<string, unknown>> = Object.fromEntries(Object.entries(returned).filter(([k]) => !(k in sent)));

/** Defaults the recording predates or does not exercise (sources above). */
export const LATER_CONTAINER_DEFAULTS: Readonly<Record<string, unknown>> = { systemControls: [], essential: true, cpu: 0 };

/** A container definition as ECS returns it. */
export function withEcsDefaults<T extends { portMappings?: object[] }>(ct: T): T {
  return {
    ...structuredClone(RECORDED_CONTAINER_DEFAULTS),
    ...structuredClone(LATER_CONTAINER_DEFAULTS),
    ...ct,
    portMappings: (ct.portMappings ?? []).map((pm) => ({ protocol: 'tcp', ...pm })),
  } as T;
}
