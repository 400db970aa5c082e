/**
 * Control-plane restarts with tasks running on Docker: the new process's embedded agent (same
 * state dir, same instance id) re-adopts them, reports what happened while it was down, and
 * still obeys StopTask. Everything created is removed by id.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DescribeContainerInstancesCommand, ListContainerInstancesCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import type { TestDockyard } from '../helpers/dockyard.js';
import { buildHttpdImage } from '../helpers/images.js';
import { describe as describeTask, httpGet, inspect, isRunning, isStopped, register, run, startWithAgent, waitTask } from './helpers.js';
import { containersOf, docker } from '../helpers/docker.js';

describe('control-plane restart with tasks running', () => {
  let d: TestDockyard;
  let instanceId: string;
  let image: string;

  before(async () => {
    image = buildHttpdImage();
    d = await startWithAgent();
    instanceId = d.app.agent!.instanceId;
  });

  after(async () => {
    await d?.stop(); // also removes, by label, what its agent created
  });

  it('re-adopts running tasks after restart() and reports a container that died during the outage', async () => {
    const family = await register(d, [{ name: 'web', image, memory: 32, stopTimeout: 2, portMappings: [{ containerPort: 8080 }] }]);
    const keep = await run(d, family);
    const doomed = await run(d, family);
    const keepBefore = (await waitTask(d, keep, isRunning)).containers![0]!;
    const doomedBefore = (await waitTask(d, doomed, isRunning)).containers![0]!;

    // Control plane (and its embedded agent) down; one container is killed meanwhile.
    const dataDir = d.dataDir;
    await d.stop({ keepData: true });
    docker('kill', doomedBefore.runtimeId!);
    d = await startWithAgent({ dataDir });
    assert.equal(d.app.agent!.instanceId, instanceId);

    const doomedAfter = await waitTask(d, doomed, isStopped);
    assert.equal(doomedAfter.stopCode, 'EssentialContainerExited');
    assert.equal(doomedAfter.containers![0]!.exitCode, 137);
    assert.equal(doomedAfter.containers![0]!.runtimeId, doomedBefore.runtimeId);

    const keepAfter = await describeTask(d, keep);
    assert.equal(keepAfter.lastStatus, 'RUNNING');
    assert.equal(keepAfter.containers![0]!.runtimeId, keepBefore.runtimeId);
    assert.equal(inspect(keepBefore.runtimeId!)!.State.Status, 'running');
    const ofKeep = containersOf(instanceId).filter((id) => JSON.parse(docker('inspect', id))[0].Config.Labels['com.amazonaws.ecs.task-arn'] === keep);
    assert.equal(ofKeep.length, 1, 'not duplicated');
    assert.equal(await httpGet(keepBefore.networkBindings![0]!.hostPort!), 'hello from dockyard\n');

    const arns = (await d.ecs.send(new ListContainerInstancesCommand({ cluster: 'default' }))).containerInstanceArns!;
    assert.equal(arns.length, 1, 'the same container instance, not a second one');
    const ci = (await d.ecs.send(new DescribeContainerInstancesCommand({ cluster: 'default', containerInstances: arns }))).containerInstances![0]!;
    assert.equal(ci.agentConnected, true);
    assert.equal(ci.runningTasksCount, 1);

    // And once more through restart(): still the same container, still stoppable.
    d = await d.restart();
    const again = await waitTask(d, keep, isRunning);
    assert.equal(again.containers![0]!.runtimeId, keepBefore.runtimeId);
    await d.ecs.send(new StopTaskCommand({ cluster: 'default', task: keep, reason: 'after restarts' }));
    const stopped = await waitTask(d, keep, isStopped);
    assert.equal(stopped.stoppedReason, 'after restarts');
    assert.equal(stopped.containers![0]!.exitCode, 137);
  });
});
