/**
 * Deployment alarms (deploymentConfiguration.alarms): while a deployment is in progress (for
 * BLUE_GREEN, LINEAR and CANARY that includes the bake), a named CloudWatch alarm in ALARM fails
 * it; with `rollback` (always, for the traffic-shifting strategies, whose old tasks are still
 * there) the service returns to the last completed deployment. The alarms are read from the
 * store inside the reconciliation's transaction (key `<account>:<region>:<AlarmName>`, see
 * store/collections.ts); the alarm evaluator keeps their states.
 */
import * as c from '../../store/collections.js';
import type { StoreTx } from '../../store/store.js';
import { finishServiceDeployment, startDeployment, type ServiceRecord } from './services.js';
import type { TaskDefinitionRecord } from './task-definitions.js';
import { rollBackShift } from './traffic-shift.js';

/** The first of the PRIMARY's deployment alarms in ALARM, when it is being monitored. */
export async function alarmInAlarm(tx: StoreTx, doc: ServiceRecord): Promise<string | undefined> {
  const cfg = doc.deploymentConfiguration.alarms;
  const primary = doc.deployments[0];
  if (!cfg?.enable || !cfg.alarmNames?.length || !primary || primary.rolloutState !== 'IN_PROGRESS' || primary.rollbackOf) return undefined;
  for (const name of cfg.alarmNames) {
    const row = await tx.get(c.cloudwatchAlarms, `${doc.accountId}:${doc.region}:${name}`);
    if (row?.data.StateValue === 'ALARM') return name;
  }
  return undefined;
}

/** Fails the PRIMARY because `alarm` is in ALARM, rolling back as configured; answers the events to record. */
export async function failOnAlarm(tx: StoreTx, doc: ServiceRecord, alarm: string, now: number): Promise<string[]> {
  const failed = doc.deployments[0]!;
  const target = doc.lastCompleted;
  const svc = `(service ${doc.serviceName})`;
  const events = [`${svc} (deployment ${failed.id}) deployment failed: alarm ${alarm} is in ALARM state.`];
  const history = await tx.get(c.serviceDeployments, failed.serviceDeploymentArn);
  if (history) {
    const alarms = { ...(history.data.alarms as object), status: 'TRIGGERED', alarmNames: doc.deploymentConfiguration.alarms?.alarmNames, triggeredAlarmNames: [alarm] };
    await tx.update(c.serviceDeployments, history, { ...history.data, alarms, updatedAt: now });
  }
  const reason = `Service deployment rolled back because the CloudWatch alarm ${alarm} is in ALARM state.`;
  if (await rollBackShift(tx, doc, reason, now)) return [...events, `${svc} rolling back to deployment ${doc.deployments[0]!.id}.`];
  failed.rolloutState = 'FAILED';
  failed.updatedAt = now;
  if (doc.deploymentConfiguration.alarms?.rollback && target && target.id !== failed.id) {
    const td = await tx.get(c.taskDefinitions, target.taskDefinition);
    if (td) {
      failed.rolloutStateReason = reason;
      const next = await startDeployment(tx, doc, td.data as TaskDefinitionRecord, target, now, { serviceDeploymentArn: failed.serviceDeploymentArn, reason });
      next.rollbackOf = failed.id;
      return [...events, `${svc} rolling back to deployment ${target.id}.`];
    }
  }
  failed.rolloutStateReason = `Service deployment failed because the CloudWatch alarm ${alarm} is in ALARM state.`;
  await finishServiceDeployment(tx, failed.serviceDeploymentArn, 'STOPPED', now, failed.rolloutStateReason);
  return events;
}
