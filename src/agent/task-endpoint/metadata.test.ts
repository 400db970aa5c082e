/** Task metadata v4 shapes, checked field by field against the ECS agent's (tmds v2/v4 response.go). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TaskAssignment } from '../../protocol/index.js';
import { newLocalTask, type LocalTask } from '../task-state.js';
import { containerSpec } from '../testing.js';
import { containerMetadata, networkRates, revisionOf, taskMetadata } from './metadata.js';

const TASK_ARN = 'arn:aws:ecs:us-east-1:000000000000:task/default/0123456789abcdef0123456789abcdef';

function task(over: Partial<TaskAssignment> = {}): LocalTask {
  return newLocalTask({
    taskArn: TASK_ARN,
    clusterArn: 'arn:aws:ecs:us-east-1:000000000000:cluster/default',
    taskDefinitionArn: 'arn:aws:ecs:us-east-1:000000000000:task-definition/web:7',
    family: 'web',
    desiredStatus: 'RUNNING',
    launchType: 'EC2',
    networkMode: 'bridge',
    volumes: [],
    containers: [
      containerSpec('app', { image: 'reg/app:1', cpu: 128, memory: 256, dockerLabels: { team: 'a' }, containerArn: 'arn:aws:ecs:us-east-1:000000000000:container/default/x/y' }),
      containerSpec('side', { image: 'reg/side:1', essential: false, healthCheck: { command: ['CMD', 'true'], intervalSec: 30, timeoutSec: 5, retries: 3, startPeriodSec: 0 } }),
    ],
    ...over,
  });
}

describe('task metadata v4 shapes', () => {
  it('a running bridge container: every field ECS writes, omitempty fields left out', () => {
    const t = task();
    Object.assign(t.containers.app!, {
      known: 'RUNNING',
      runtimeId: 'a'.repeat(64),
      imageDigest: 'sha256:' + 'b'.repeat(64),
      createdAt: 1_700_000_000,
      startedAt: 1_700_000_001.5,
      ipAddress: '172.17.0.5',
      networkBindings: [{ bindIP: '127.0.0.1', containerPort: 8080, hostPort: 32768, protocol: 'tcp' }],
    });
    assert.deepEqual(containerMetadata(t, 'app'), {
      DockerId: 'a'.repeat(64),
      Name: 'app',
      DockerName: 'dockyard-0123456789abcdef0123456789abcdef-app',
      Image: 'reg/app:1',
      ImageID: 'sha256:' + 'b'.repeat(64),
      Ports: [{ ContainerPort: 8080, Protocol: 'tcp', HostPort: 32768, HostIp: '127.0.0.1' }],
      Labels: {
        team: 'a',
        'com.amazonaws.ecs.cluster': 'arn:aws:ecs:us-east-1:000000000000:cluster/default',
        'com.amazonaws.ecs.container-name': 'app',
        'com.amazonaws.ecs.task-arn': TASK_ARN,
        'com.amazonaws.ecs.task-definition-family': 'web',
        'com.amazonaws.ecs.task-definition-version': '7',
      },
      DesiredStatus: 'RUNNING',
      KnownStatus: 'RUNNING',
      Limits: { CPU: 128, Memory: 256 },
      CreatedAt: '2023-11-14T22:13:20.000Z',
      StartedAt: '2023-11-14T22:13:21.500Z',
      Type: 'NORMAL',
      ContainerARN: 'arn:aws:ecs:us-east-1:000000000000:container/default/x/y',
      Networks: [{ NetworkMode: 'bridge', IPv4Addresses: ['172.17.0.5'] }],
    });
  });

  it('a container not created yet: CPU at least 2 units, memory 0, no Docker id, ports or networks; health only with a check', () => {
    const t = task();
    const side = containerMetadata(t, 'side');
    assert.equal(side.DockerId, '');
    assert.equal(side.KnownStatus, 'NONE');
    assert.deepEqual(side.Limits, { CPU: 2, Memory: 0 });
    assert.deepEqual(side.Health, {}, 'UNKNOWN health is left out, as ECS does');
    assert.equal('Ports' in side || 'Networks' in side || 'CreatedAt' in side || 'ExitCode' in side, false);
    assert.equal('Health' in containerMetadata(t, 'app'), false);
    t.containers.side!.health = 'HEALTHY';
    assert.deepEqual(containerMetadata(t, 'side').Health, { status: 'HEALTHY' });
  });

  it('a stopped container reports its exit code and finish time', () => {
    const t = task();
    Object.assign(t.containers.side!, { known: 'STOPPED', runtimeId: 'c'.repeat(64), exitCode: 3, startedAt: 10, finishedAt: 12 });
    const side = containerMetadata(t, 'side');
    assert.equal(side.KnownStatus, 'STOPPED');
    assert.equal(side.ExitCode, 3);
    assert.equal(side.FinishedAt, '1970-01-01T00:00:12.000Z');
  });

  it('the task document: limits in vCPUs and MiB, timestamps, AZ, launch type, clock drift, every container', () => {
    const t = task({ cpu: 512, memory: 1024 });
    for (const c of Object.values(t.containers)) Object.assign(c, { known: 'RUNNING', runtimeId: c.name.padEnd(64, '0') });
    Object.assign(t, { pullStartedAt: 100, pullStoppedAt: 101, startedAt: 102 });
    const drift = { ReferenceTimestamp: '2026-01-01T00:00:00.000Z', ClockSynchronizationStatus: 'SYNCHRONIZED' as const };
    const doc = taskMetadata(t, { availabilityZone: 'local-1a', clockDrift: drift });
    assert.deepEqual(
      { ...doc, Containers: doc.Containers!.map((c) => c.Name) },
      {
        Cluster: 'arn:aws:ecs:us-east-1:000000000000:cluster/default',
        TaskARN: TASK_ARN,
        Family: 'web',
        Revision: '7',
        DesiredStatus: 'RUNNING',
        KnownStatus: 'RUNNING',
        Containers: ['app', 'side'],
        Limits: { CPU: 0.5, Memory: 1024 },
        PullStartedAt: '1970-01-01T00:01:40.000Z',
        PullStoppedAt: '1970-01-01T00:01:41.000Z',
        AvailabilityZone: 'local-1a',
        LaunchType: 'EC2',
        ClockDrift: drift,
        FaultInjectionEnabled: false,
      },
    );
    assert.equal('Limits' in taskMetadata(task(), {}), false, 'no task-level limits: Limits left out');
  });

  it('maps Dockyard task statuses onto the ECS agent known statuses', () => {
    const t = task();
    assert.equal(taskMetadata(t, {}).KnownStatus, 'NONE');
    for (const c of Object.values(t.containers)) c.known = 'PULLED';
    assert.equal(taskMetadata(t, {}).KnownStatus, 'PULLED');
    for (const c of Object.values(t.containers)) c.known = 'CREATED';
    assert.equal(taskMetadata(t, {}).KnownStatus, 'CREATED');
    t.desired = 'STOPPED';
    for (const c of Object.values(t.containers)) c.known = 'STOPPED';
    const stopped = taskMetadata(t, {});
    assert.equal(stopped.KnownStatus, 'STOPPED');
    assert.equal(stopped.DesiredStatus, 'STOPPED');
  });

  it('awsvpc: the namespace address with the ENI properties, host ports equal container ports', () => {
    const t = task({ networkMode: 'awsvpc' });
    t.setupInfo = { pauseId: 'p', privateIp: '172.20.0.3', macAddress: '02:42:ac:14:00:03' };
    Object.assign(t.containers.app!, { known: 'RUNNING', runtimeId: 'a'.repeat(64), networkBindings: [{ bindIP: '127.0.0.1', containerPort: 80, hostPort: 40000, protocol: 'tcp' }] });
    const app = containerMetadata(t, 'app');
    assert.deepEqual(app.Networks, [{ NetworkMode: 'awsvpc', IPv4Addresses: ['172.20.0.3'], AttachmentIndex: 0, MACAddress: '02:42:ac:14:00:03', PrivateDNSName: 'ip-172-20-0-3.ec2.internal' }]);
    assert.equal(app.Ports![0]!.HostPort, 80);
  });

  it('host network mode: the network named host, with no address of its own (as Docker reports it)', () => {
    const t = task({ networkMode: 'host' });
    Object.assign(t.containers.app!, { known: 'RUNNING', runtimeId: 'a'.repeat(64) });
    assert.deepEqual(containerMetadata(t, 'app').Networks, [{ NetworkMode: 'host', IPv4Addresses: [''] }]);
  });

  it('network_rate_stats from two samples; none from the first', () => {
    assert.equal(networkRates(undefined, { readAt: 1000, rx: 10, tx: 10 }), undefined);
    assert.deepEqual(networkRates({ readAt: 1000, rx: 100, tx: 50 }, { readAt: 3000, rx: 300, tx: 50 }), { rx_bytes_per_sec: 100, tx_bytes_per_sec: 0 });
    assert.equal(networkRates({ readAt: 1000, rx: 1, tx: 1 }, { readAt: 1000, rx: 2, tx: 2 }), undefined);
  });

  it('reads the revision from the task definition ARN', () => {
    assert.equal(revisionOf('arn:aws:ecs:us-east-1:1:task-definition/a-b_c:12'), '12');
  });
});
