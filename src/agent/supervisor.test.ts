/** The supervisor over the SIMULATED runtime: running, re-adoption, orphans, reports. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TaskAssignment } from '../protocol/index.js';
import { HostSafety } from './host-safety.js';
import { SimulatedRuntime } from './runtime/simulated.js';
import { CONTAINER_MISSING, Supervisor } from './supervisor.js';
import type { toReport } from './task-state.js';
import { containerSpec as spec } from './testing.js';

const quiet = { info() {}, warn() {}, error() {}, debug() {} };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


function assignment(id: string, desiredStatus: 'RUNNING' | 'STOPPED' = 'RUNNING'): TaskAssignment {
  return {
    taskArn: `arn:aws:ecs:us-east-1:0:task/default/${id}`, clusterArn: 'arn:cluster', taskDefinitionArn: 'arn:td', family: 'f',
    desiredStatus, networkMode: 'bridge', volumes: [], containers: [spec('web'), spec('side', { essential: false })],
  };
}

function supervisor(runtime: SimulatedRuntime, reports: ReturnType<typeof toReport>[] = []) {
  return new Supervisor({ runtime, instanceId: 'inst', cleanupDelayMs: 60_000, log: quiet, publish: (r) => reports.push(r), acknowledged: () => true });
}

async function until(cond: () => boolean, what: string) {
  for (let i = 0; i < 200 && !cond(); i++) await sleep(5);
  assert.ok(cond(), what);
}

describe('Supervisor', () => {
  it('runs an assignment to RUNNING and publishes each state change once', async () => {
    const runtime = new SimulatedRuntime();
    const reports: ReturnType<typeof toReport>[] = [];
    const s = supervisor(runtime, reports);
    s.applyAssignments([assignment('a')]);
    await until(() => reports.at(-1)?.lastStatus === 'RUNNING', 'task reaches RUNNING');
    const last = reports.at(-1)!;
    assert.ok(last.containers.every((c) => c.lastStatus === 'RUNNING' && c.runtimeId));
    assert.ok(last.pullStartedAt && last.pullStoppedAt && last.startedAt);
    assert.equal(new Set(reports.map((r) => JSON.stringify(r))).size, reports.length, 'no duplicate reports');
    s.close();
  });

  it('re-adopts its containers after a restart instead of creating new ones, and removes orphans', async () => {
    const runtime = new SimulatedRuntime();
    const first = supervisor(runtime);
    first.applyAssignments([assignment('keep'), assignment('orphan')]);
    await until(() => [...first.tasks.values()].every((t) => Object.values(t.containers).every((c) => c.known === 'RUNNING')), 'both running');
    const ids = Object.values(first.tasks.get(assignment('keep').taskArn)!.containers).map((c) => c.runtimeId);
    first.close();

    const reports: ReturnType<typeof toReport>[] = [];
    const second = supervisor(runtime, reports);
    assert.equal(await second.adopt(), 4);
    second.applyAssignments([assignment('keep')]);
    const keep = second.tasks.get(assignment('keep').taskArn)!;
    assert.deepEqual(Object.values(keep.containers).map((c) => c.runtimeId), ids, 'same containers');
    assert.equal(reports.at(-1)!.lastStatus, 'RUNNING');
    await sleep(20);
    const left = await runtime.list();
    assert.equal(left.length, 2, 'the orphaned task’s containers were removed, no new ones created');
    assert.ok(left.every((c) => c.taskArn === keep.arn));
    second.close();
  });

  it('does not start a second copy of a running task whose containers vanished while no agent ran', async () => {
    const runtime = new SimulatedRuntime();
    const reports: ReturnType<typeof toReport>[] = [];
    const s = supervisor(runtime, reports);
    await s.adopt();
    s.applyAssignments([{ ...assignment('vanished'), lastStatus: 'RUNNING' }]);
    await until(() => reports.at(-1)?.lastStatus === 'STOPPED', 'reported stopped');
    const last = reports.at(-1)!;
    assert.equal(last.stopCode, 'EssentialContainerExited');
    assert.ok(last.containers.every((c) => c.reason === CONTAINER_MISSING && !c.runtimeId));
    assert.deepEqual(await runtime.list(), [], 'nothing was created');
    s.close();
  });

  it('stops a task that disappears from the assignments', async () => {
    const runtime = new SimulatedRuntime();
    const reports: ReturnType<typeof toReport>[] = [];
    const s = supervisor(runtime, reports);
    s.applyAssignments([assignment('gone')]);
    await until(() => reports.at(-1)?.lastStatus === 'RUNNING', 'running');
    s.applyAssignments([]);
    await until(() => reports.at(-1)?.lastStatus === 'STOPPED', 'stopped');
    assert.ok(reports.at(-1)!.containers.every((c) => c.exitCode === 143));
    s.close();
  });

  it('stops a task the host-safety policy refuses, with the reason on the container, before pulling or creating anything', async () => {
    const safety = new HostSafety({}, { protectedPaths: [] });
    const calls: string[] = [];
    const runtime = new (class extends SimulatedRuntime {
      admit(t: TaskAssignment) {
        safety.checkTask(t);
      }
      override async pull(image: string, auth: undefined) {
        calls.push(`pull ${image}`);
        return super.pull(image, auth);
      }
      override async setupTask(t: TaskAssignment) {
        calls.push('setup');
        return super.setupTask(t);
      }
    })();
    const reports: ReturnType<typeof toReport>[] = [];
    const s = supervisor(runtime, reports);
    const t = assignment('refused');
    t.containers[1] = spec('side', { essential: false, privileged: true });
    s.applyAssignments([t]);
    await until(() => reports.at(-1)?.lastStatus === 'STOPPED', 'reported stopped');
    const last = reports.at(-1)!;
    const reason = 'CannotStartContainerError: privileged containers are disabled on this container instance (set --allow-privileged)';
    assert.equal(last.stopCode, 'TaskFailedToStart');
    assert.equal(last.stoppedReason, reason);
    assert.equal(last.containers.find((c) => c.name === 'side')!.reason, reason);
    assert.ok(last.containers.every((c) => c.lastStatus === 'STOPPED' && !c.runtimeId));
    await sleep(20);
    assert.deepEqual(calls, [], 'nothing pulled or set up');
    assert.deepEqual(await runtime.list(), [], 'nothing created');
    s.close();
  });
});
