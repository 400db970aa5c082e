/**
 * FARGATE_SPOT interruptions on purpose, so that users can rehearse them: Dockyard's spot
 * capacity is its own, so it is never reclaimed unless an operator asks (`dockyard spot
 * interrupt`, POST /_dockyard/spot-interruptions). An interrupted task is stopped as ECS stops a
 * reclaimed Fargate Spot task: stopCode SpotInterruption, stoppedReason "Your Spot Task was
 * interrupted.", its containers sent SIGTERM then SIGKILL after their stopTimeout (ECS gives a
 * two-minute warning; the agent applies the task's own stop timeout). A service replaces it as
 * it replaces any stopped task.
 */
import type { Clock } from '../../core/clock.js';
import * as c from '../../store/collections.js';
import type { Row, Store } from '../../store/store.js';
import type { Scope } from './arns.js';
import { activeCluster, resolveArn } from './clusters.js';
import { requestStop } from './task-state.js';
import { findTask } from './tasks.js';
import type { TaskDoc } from '../../store/collections.js';

export const SPOT_INTERRUPTION_STOP_CODE = 'SpotInterruption';
export const SPOT_INTERRUPTION_REASON = 'Your Spot Task was interrupted.';
/** Tasks one request may name. */
export const MAX_INTERRUPTED_TASKS = 100;

export interface SpotInterruptionRequest {
  cluster?: string;
  /** Task ARNs or ids to interrupt; or */
  tasks?: string[];
  /** every FARGATE_SPOT task of the cluster that is not already stopping. */
  all?: boolean;
}

export interface SpotInterruptionResult {
  interrupted: { taskArn: string; stopCode: string; stoppedReason: string }[];
  failures: { arn: string; reason: string }[];
}

export class SpotInterruptions {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  /** Interrupts spot tasks in one write; the caller has checked that exactly one of `tasks` and `all` is given. */
  async interrupt(scope: Scope, input: SpotInterruptionRequest): Promise<SpotInterruptionResult> {
    const clusterArn = resolveArn(scope, input.cluster);
    return this.store.write(async (tx) => {
      await activeCluster(tx, clusterArn);
      const result: SpotInterruptionResult = { interrupted: [], failures: [] };
      const rows: Row<TaskDoc>[] = [];
      if (input.all) {
        const live = await tx.find(c.tasks, { where: { cluster: clusterArn, desired_status: 'RUNNING' } });
        rows.push(...live.filter((r) => r.data.capacityProviderName === 'FARGATE_SPOT'));
      } else {
        for (const ref of input.tasks ?? []) {
          const row = await findTask(tx, scope, clusterArn, ref);
          if (!row) result.failures.push({ arn: ref, reason: 'MISSING' });
          else if (row.data.capacityProviderName !== 'FARGATE_SPOT') result.failures.push({ arn: row.pk, reason: 'The task does not run on the FARGATE_SPOT capacity provider.' });
          else if (row.data.desiredStatus === 'STOPPED') result.failures.push({ arn: row.pk, reason: 'The task is already stopping.' });
          else rows.push(row);
        }
      }
      for (const row of rows) {
        const doc = await requestStop(tx, row, SPOT_INTERRUPTION_REASON, this.clock.now(), SPOT_INTERRUPTION_STOP_CODE);
        result.interrupted.push({ taskArn: doc.taskArn, stopCode: doc.stopCode!, stoppedReason: doc.stoppedReason! });
      }
      return result;
    });
  }
}
