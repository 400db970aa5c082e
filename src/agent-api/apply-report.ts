/**
 * Applying an agent's task report to a task document: a PURE function, so RunTask/StopTask code
 * and tests can reuse it. Statuses only move forward (ECS's order); first timestamps win; a stop
 * the user asked for keeps its stopCode and reason; the agent's own stop (essential container
 * exited, failed to start) sets desiredStatus STOPPED as ECS does.
 */
import { containerStatusRank, taskStatusRank, type TaskReport } from '../protocol/index.js';
import type { TaskDoc } from '../store/collections.js';

/** The report sequence number last applied, kept in the task document. */
export const REPORT_SEQ_FIELD = 'agentReportSeq';

interface ContainerDoc {
  name?: string;
  lastStatus?: string;
  [k: string]: unknown;
}

const TIMESTAMPS = ['pullStartedAt', 'pullStoppedAt', 'startedAt', 'executionStoppedAt'] as const;

/** The new document, or undefined when the report is stale or changes nothing. `now` is epoch seconds. */
export function applyReport(task: TaskDoc, report: TaskReport, now: number): TaskDoc | undefined {
  const lastSeq = typeof task[REPORT_SEQ_FIELD] === 'number' ? (task[REPORT_SEQ_FIELD] as number) : -1;
  if (report.seq <= lastSeq) return undefined;
  const next = structuredClone(task);
  delete next[REPORT_SEQ_FIELD];

  if (taskStatusRank(report.lastStatus) > taskStatusRank(next.lastStatus)) next.lastStatus = report.lastStatus;
  const rank = taskStatusRank(next.lastStatus);

  next.containers = next.containers.map((existing) => {
    const c = existing as ContainerDoc;
    const r = report.containers.find((x) => x.name === c.name);
    if (!r) return c;
    const out: ContainerDoc = { ...c };
    if (containerStatusRank(r.lastStatus) > containerStatusRank(String(c.lastStatus ?? 'PENDING'))) out.lastStatus = r.lastStatus;
    if (r.runtimeId !== undefined) out.runtimeId = r.runtimeId;
    if (r.imageDigest !== undefined) out.imageDigest = r.imageDigest;
    if (r.exitCode !== undefined && out.exitCode === undefined) out.exitCode = r.exitCode;
    if (r.reason !== undefined && out.reason === undefined) out.reason = r.reason;
    if (r.networkBindings !== undefined) out.networkBindings = r.networkBindings;
    if (r.networkInterfaces !== undefined) out.networkInterfaces = r.networkInterfaces;
    if (r.healthStatus !== undefined) out.healthStatus = r.healthStatus;
    return out;
  });

  if (report.healthStatus !== undefined) next.healthStatus = report.healthStatus;
  for (const field of TIMESTAMPS) {
    if (report[field] !== undefined && next[field] === undefined) next[field] = report[field];
  }
  if (report.attachments !== undefined) next.attachments = report.attachments;
  if (rank >= taskStatusRank('PENDING') && next.connectivity === undefined) {
    next.connectivity = 'CONNECTED';
    next.connectivityAt = report.pullStartedAt ?? now;
  }
  if (report.stopCode !== undefined || rank >= taskStatusRank('STOPPING')) {
    next.desiredStatus = 'STOPPED';
    if (next.stopCode === undefined && report.stopCode !== undefined) next.stopCode = report.stopCode;
    if (next.stoppedReason === undefined && report.stoppedReason !== undefined) next.stoppedReason = report.stoppedReason;
    if (next.stoppingAt === undefined) next.stoppingAt = report.stoppingAt ?? now;
  }
  if (next.lastStatus === 'STOPPED') {
    if (next.executionStoppedAt === undefined) next.executionStoppedAt = now;
    if (next.stoppedAt === undefined) next.stoppedAt = now;
  }

  const before = { ...task };
  delete before[REPORT_SEQ_FIELD];
  if (JSON.stringify(before) === JSON.stringify(next)) return undefined;
  next.version = task.version + 1;
  next[REPORT_SEQ_FIELD] = report.seq;
  return next;
}
