/**
 * Secrets Manager's rotation runner over ECS (see services/secretsmanager/rotation.ts for the
 * contract): runs the rotation task definition in the `default` cluster with the secret's id and
 * the new version's token in every container's environment, and reads how the task ended.
 */
import { AwsError } from '../aws/errors.js';
import type { EcsDomain } from '../services/ecs/index.js';
import { findTaskDefinition } from '../services/ecs/task-definitions.js';
import type { RotationRunner } from '../services/secretsmanager/rotation.js';

export const ROTATION_STARTED_BY = 'secretsmanager-rotation';

export function ecsRotationRunner(ecs: EcsDomain): RotationRunner {
  return {
    async run(scope, taskDefinition, environment) {
      const def = await ecs.store.read((tx) => findTaskDefinition(tx, scope, taskDefinition));
      if (!def) throw new AwsError('InvalidRequestException', `The rotation task definition ${taskDefinition} does not exist.`);
      const names = ((def.data.containerDefinitions ?? []) as { name?: string }[]).map((c) => String(c.name));
      const res = await ecs.tasks.run(scope, {
        cluster: 'default',
        taskDefinition: def.data.taskDefinitionArn,
        startedBy: ROTATION_STARTED_BY,
        overrides: { containerOverrides: names.map((name) => ({ name, environment })) },
      });
      const arn = res.tasks?.[0]?.taskArn;
      if (!arn) throw new AwsError('InvalidRequestException', `The rotation task could not be placed in the default cluster (${res.failures?.[0]?.reason ?? 'no capacity'}).`);
      return arn as string;
    },
    async outcome(scope, taskArn) {
      const cluster = taskArn.split('/').at(-2) ?? 'default';
      const res = await ecs.tasks.describe(scope, { cluster, tasks: [taskArn] });
      const task = res.tasks?.[0] as { lastStatus?: string; containers?: { exitCode?: number }[] } | undefined;
      if (!task) return 'FAILED';
      if (task.lastStatus !== 'STOPPED') return 'RUNNING';
      const containers = task.containers ?? [];
      return containers.length > 0 && containers.every((c) => c.exitCode === 0) ? 'SUCCEEDED' : 'FAILED';
    },
  };
}
