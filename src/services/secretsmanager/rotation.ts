/**
 * Secret rotation without Lambda: the rotation step is an ECS task of the user's choosing.
 *
 * `RotationLambdaARN` names a task definition (`arn:aws:ecs:…:task-definition/rotator:3`, or
 * `family[:revision]`). A rotation (RotateSecret with RotateImmediately, or when the schedule is
 * due) picks the new version's id (the ClientRequestToken) and runs that task in the `default`
 * cluster, started by `secretsmanager-rotation`, with these variables in every container:
 *
 *   SECRETS_MANAGER_SECRET_ID              the secret's ARN
 *   SECRETS_MANAGER_CLIENT_REQUEST_TOKEN   the new version's id
 *
 * The task does Lambda's createSecret/setSecret/testSecret steps itself: it writes the new value
 * with PutSecretValue(SecretId, ClientRequestToken = the token, VersionStages = [AWSPENDING]),
 * changes the credential in the service that uses it, tests it, and exits 0 (it gets AWS
 * credentials from its task role, as any task does). Dockyard then does finishSecret: when the
 * task has STOPPED with every essential container at exit code 0 and the token's version holds
 * AWSPENDING, AWSCURRENT moves to it (AWSPREVIOUS to the old one) and AWSPENDING is removed.
 * Otherwise the rotation failed: AWSCURRENT stays, the next one is due at the next scheduled
 * time (or on the next RotateSecret). A rotation running longer than an hour counts as failed.
 *
 * Schedules: AutomaticallyAfterDays, or ScheduleExpression `rate(N days|hours)`; cron
 * expressions are refused. The controller (`tick`) runs on the leader, on a timer.
 */
import { randomUUID } from 'node:crypto';
import type { RotateSecretRequest } from '../../aws/generated/secretsmanager.js';
import type { Clock } from '../../core/clock.js';
import * as c from '../../store/collections.js';
import type { SecretDoc } from '../../store/collections.js';
import type { Store } from '../../store/store.js';
import * as err from './errors.js';
import { attachStage, CURRENT, PENDING, type Scope, type Secrets } from './secrets.js';

/** Runs rotation tasks and tells how they ended (wired to ECS in server/secret-rotation.ts). */
export interface RotationRunner {
  /** Starts the rotation task; the task's ARN. Throws an AwsError when the definition cannot run. */
  run(scope: Scope, taskDefinition: string, environment: { name: string; value: string }[]): Promise<string>;
  /** RUNNING until the task stopped; then whether every essential container exited 0. */
  outcome(scope: Scope, taskArn: string): Promise<'RUNNING' | 'SUCCEEDED' | 'FAILED'>;
}

const MAX_RUN_SECONDS = 3600;
const TASK_DEFINITION = /^(arn:aws[\w-]*:ecs:[^:]+:\d{12}:task-definition\/)?[a-zA-Z0-9_-]{1,255}(:\d+)?$/;

export class Rotation {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly secrets: Secrets,
    private readonly runner: RotationRunner | undefined,
  ) {}

  async rotate(scope: Scope, input: RotateSecretRequest) {
    const row = await this.secrets.liveRow(scope, input.SecretId);
    const doc = row.data;
    // A retry of the call that started the running rotation (same token) answers as that call did.
    if (doc.rotation?.pending && input.ClientRequestToken === doc.rotation.pending.versionId) return { ARN: doc.arn, Name: doc.name, VersionId: doc.rotation.pending.versionId };
    if (doc.rotation?.pending) throw err.invalidRequest("A previous rotation isn't complete. That rotation will be reattempted.");
    const task = input.RotationLambdaARN ?? doc.rotation?.lambdaArn;
    if (!task) throw err.invalidRequest('No rotation task is configured for this secret: give RotationLambdaARN (a task definition ARN or family).');
    if (!TASK_DEFINITION.test(task)) throw err.invalidParameter('RotationLambdaARN must name an ECS task definition (its ARN, or family[:revision]): Dockyard runs rotation as a task.');
    const rules = input.RotationRules ?? doc.rotation?.rules;
    const interval = intervalSeconds(rules);
    const now = this.clock.now();
    const immediately = input.RotateImmediately ?? true;
    let pending: NonNullable<SecretDoc['rotation']>['pending'];
    if (immediately) {
      if (!this.runner) throw err.invalidRequest('This Dockyard cannot run rotation tasks.');
      const versionId = input.ClientRequestToken ?? randomUUID();
      const taskArn = await this.runner.run(scope, task, rotationEnv(doc.arn, versionId));
      pending = { versionId, taskArn, startedAt: now };
    }
    await this.secrets.change(scope, doc.arn, (d) => {
      d.rotation = {
        ...d.rotation,
        enabled: interval !== undefined || (d.rotation?.enabled ?? false),
        lambdaArn: task,
        rules,
        nextRotationDate: interval !== undefined ? now + interval : undefined,
        pending,
      };
    });
    return { ARN: doc.arn, Name: doc.name, VersionId: pending?.versionId };
  }

  async cancel(scope: Scope, secretId: string) {
    const row = await this.secrets.liveRow(scope, secretId);
    const pendingId = row.data.rotation?.pending?.versionId;
    await this.secrets.change(scope, row.data.arn, (d) => {
      if (d.rotation) d.rotation = { ...d.rotation, enabled: false, pending: undefined, nextRotationDate: undefined };
    });
    return { ARN: row.data.arn, Name: row.data.name, VersionId: pendingId };
  }

  /** Starts due rotations and finishes those whose task stopped. Returns how many it moved on. */
  async tick(): Promise<{ started: number; finished: number; failed: number }> {
    const out = { started: 0, finished: 0, failed: 0 };
    if (!this.runner) return out;
    const now = this.clock.now();
    // Earliest first: rotations in progress (1), then the most overdue; stop at the first not yet due.
    const due = await this.store.read((tx) => tx.find(c.secrets, { where: { next_rotation: { gt: 0 } }, orderBy: [['next_rotation', 'asc']], limit: 500 }));
    for (const r of due) {
      const d = r.data;
      if (!d.rotation?.pending && (d.rotation?.nextRotationDate ?? Infinity) > now) break;
      const scope = { accountId: d.accountId, region: d.region };
      try {
        if (d.rotation?.pending) {
          const result = now - d.rotation.pending.startedAt > MAX_RUN_SECONDS ? 'FAILED' : await this.runner.outcome(scope, d.rotation.pending.taskArn);
          if (result === 'RUNNING') continue;
          (await this.finish(scope, d.arn, result === 'SUCCEEDED')) ? out.finished++ : out.failed++;
        } else if (d.rotation?.enabled && d.rotation.nextRotationDate !== undefined && d.rotation.nextRotationDate <= now && d.deletedDate === undefined) {
          const versionId = randomUUID();
          const taskArn = await this.runner.run(scope, d.rotation.lambdaArn!, rotationEnv(d.arn, versionId));
          await this.secrets.change(scope, d.arn, (x) => {
            if (x.rotation) x.rotation.pending = { versionId, taskArn, startedAt: now };
          });
          out.started++;
        }
      } catch {
        // One secret's failure (its task definition is gone, a concurrent write) does not stop the others; it is retried next tick.
        out.failed++;
      }
    }
    return out;
  }

  /** finishSecret: AWSCURRENT moves to the pending version when the task succeeded and wrote it. */
  private async finish(scope: Scope, arn: string, succeeded: boolean): Promise<boolean> {
    let done = false;
    await this.secrets.change(scope, arn, (d) => {
      const rotation = d.rotation;
      if (!rotation?.pending) return;
      const version = d.versions.find((v) => v.versionId === rotation.pending!.versionId);
      const now = this.clock.now();
      if (succeeded && version?.stages.includes(PENDING)) {
        attachStage(d, CURRENT, version);
        version.stages = version.stages.filter((s) => s !== PENDING);
        rotation.lastRotatedDate = now;
        d.lastChangedDate = now;
        done = true;
      }
      const interval = intervalSeconds(rotation.rules);
      rotation.nextRotationDate = rotation.enabled && interval !== undefined ? now + interval : undefined;
      rotation.pending = undefined;
    });
    return done;
  }
}

function rotationEnv(secretArn: string, versionId: string) {
  return [
    { name: 'SECRETS_MANAGER_SECRET_ID', value: secretArn },
    { name: 'SECRETS_MANAGER_CLIENT_REQUEST_TOKEN', value: versionId },
  ];
}

/** The schedule's period in seconds; undefined without rules. */
function intervalSeconds(rules: RotateSecretRequest['RotationRules']): number | undefined {
  if (!rules) return undefined;
  if (rules.AutomaticallyAfterDays !== undefined && rules.ScheduleExpression !== undefined) {
    throw err.invalidParameter('You can specify either AutomaticallyAfterDays or ScheduleExpression, not both.');
  }
  if (rules.AutomaticallyAfterDays !== undefined) return rules.AutomaticallyAfterDays * 86400;
  if (rules.ScheduleExpression !== undefined) {
    const m = /^rate\((\d+) (day|days|hour|hours)\)$/.exec(rules.ScheduleExpression.trim());
    if (!m) throw err.invalidParameter('Dockyard supports ScheduleExpression rate(N days) and rate(N hours); cron() expressions are not supported.');
    const n = Number(m[1]);
    const hours = m[2]!.startsWith('hour');
    if (n < 1 || (hours && n < 4) || (!hours && n > 1000)) throw err.invalidParameter('The rotation schedule must be between 4 hours and 1000 days.');
    return n * (hours ? 3600 : 86400);
  }
  return undefined;
}
