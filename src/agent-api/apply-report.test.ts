/** Applying agent reports to task documents (pure, the ECS task writer's rule), and building assignments from them. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TaskReport } from '../protocol/index.js';
import type { TaskDefinitionDoc, TaskDoc } from '../store/collections.js';
import { applyReport } from '../services/ecs/task-state.js';
import { assignmentsDigest, toAssignment } from './assignments.js';

const NOW = 1_800_000_000;

function taskDoc(over: Partial<TaskDoc> = {}): TaskDoc {
  return {
    accountId: '0',
    region: 'us-east-1',
    taskArn: 'arn:task/1',
    clusterArn: 'arn:cluster',
    taskDefinitionArn: 'arn:td:1',
    placedOn: 'arn:ci',
    lastStatus: 'PROVISIONING',
    desiredStatus: 'RUNNING',
    family: 'web',
    containers: [
      { containerArn: 'arn:c/web', name: 'web', image: 'img', lastStatus: 'PENDING' },
      { containerArn: 'arn:c/side', name: 'side', image: 'img', lastStatus: 'PENDING' },
    ],
    overrides: {},
    version: 1,
    createdAt: NOW - 10,
    ...over,
  };
}

function report(over: Partial<TaskReport> = {}): TaskReport {
  return { taskArn: 'arn:task/1', seq: 1, lastStatus: 'PENDING', containers: [], ...over };
}

describe('applyReport', () => {
  it('moves lastStatus forward, fills containers, timestamps and connectivity, and bumps version', () => {
    const next = applyReport(
      taskDoc(),
      report({
        lastStatus: 'RUNNING',
        pullStartedAt: NOW - 3,
        pullStoppedAt: NOW - 2,
        startedAt: NOW - 1,
        healthStatus: 'UNKNOWN',
        containers: [{ name: 'web', lastStatus: 'RUNNING', runtimeId: 'abc', imageDigest: 'sha256:1', networkBindings: [{ bindIP: '127.0.0.1', containerPort: 80, hostPort: 32768, protocol: 'tcp' }] }],
      }),
      NOW,
    )!;
    assert.equal(next.lastStatus, 'RUNNING');
    assert.equal(next.version, 2);
    assert.equal(next.pullStartedAt, NOW - 3);
    assert.equal(next.startedAt, NOW - 1);
    assert.equal(next.connectivity, 'CONNECTED');
    assert.equal(next.connectivityAt, NOW - 3);
    const web = next.containers[0]!;
    assert.equal(web.lastStatus, 'RUNNING');
    assert.equal(web.runtimeId, 'abc');
    assert.deepEqual(web.networkBindings, [{ bindIP: '127.0.0.1', containerPort: 80, hostPort: 32768, protocol: 'tcp' }]);
    assert.equal(next.containers[1]!.lastStatus, 'PENDING');
    assert.equal(next.desiredStatus, 'RUNNING');
  });

  it('never moves a status backwards and ignores stale or repeated reports', () => {
    const running = applyReport(taskDoc(), report({ seq: 5, lastStatus: 'RUNNING', containers: [{ name: 'web', lastStatus: 'RUNNING' }] }), NOW)!;
    assert.equal(applyReport(running, report({ seq: 4, lastStatus: 'STOPPED' }), NOW), undefined, 'older seq ignored');
    assert.equal(applyReport(running, report({ seq: 5, lastStatus: 'STOPPED' }), NOW), undefined, 'same seq ignored');
    const back = applyReport(running, report({ seq: 6, lastStatus: 'PENDING', containers: [{ name: 'web', lastStatus: 'PENDING' }] }), NOW);
    assert.equal(back, undefined, 'nothing changes when everything would move backwards');
  });

  it('keeps a user stop reason, and records the agent stop code otherwise', () => {
    const user = taskDoc({ lastStatus: 'RUNNING', desiredStatus: 'STOPPED', stopCode: 'UserInitiated', stoppedReason: 'bye', stoppingAt: NOW - 5 });
    const stopped = applyReport(user, report({ lastStatus: 'STOPPED', containers: [{ name: 'web', lastStatus: 'STOPPED', exitCode: 137 }] }), NOW)!;
    assert.equal(stopped.stopCode, 'UserInitiated');
    assert.equal(stopped.stoppedReason, 'bye');
    assert.equal(stopped.stoppingAt, NOW - 5);
    assert.equal(stopped.stoppedAt, NOW);
    assert.equal(stopped.executionStoppedAt, NOW);
    assert.equal(stopped.containers[0]!.exitCode, 137);

    const crashed = applyReport(
      taskDoc({ lastStatus: 'RUNNING' }),
      report({ lastStatus: 'STOPPING', stopCode: 'EssentialContainerExited', stoppedReason: 'Essential container in task exited', stoppingAt: NOW - 1, containers: [{ name: 'web', lastStatus: 'STOPPED', exitCode: 3 }] }),
      NOW,
    )!;
    assert.equal(crashed.desiredStatus, 'STOPPED');
    assert.equal(crashed.stopCode, 'EssentialContainerExited');
    assert.equal(crashed.stoppedReason, 'Essential container in task exited');
    assert.equal(crashed.stoppingAt, NOW - 1);
    assert.equal(crashed.stoppedAt, undefined);
  });

  it('records the ENI attachment and container network interfaces', () => {
    const eni = { id: 'att', type: 'ElasticNetworkInterface' as const, status: 'ATTACHED' as const, details: [{ name: 'privateIPv4Address', value: '172.18.0.2' }] };
    const next = applyReport(taskDoc(), report({ attachments: [eni], containers: [{ name: 'web', lastStatus: 'PENDING', networkInterfaces: [{ attachmentId: 'att', privateIpv4Address: '172.18.0.2' }] }] }), NOW)!;
    assert.deepEqual(next.attachments, [eni]);
    assert.deepEqual(next.containers[0]!.networkInterfaces, [{ attachmentId: 'att', privateIpv4Address: '172.18.0.2' }]);
  });
});

describe('toAssignment', () => {
  const def = {
    accountId: '0',
    region: 'us-east-1',
    taskDefinitionArn: 'arn:td:1',
    family: 'web',
    revision: 1,
    status: 'ACTIVE',
    networkMode: 'awsvpc',
    cpu: '256',
    memory: '512',
    containerDefinitions: [
      {
        name: 'web',
        image: 'reg:5000/web:1',
        command: ['a'],
        environment: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }],
        portMappings: [{ containerPort: 8080 }],
        healthCheck: { command: ['CMD-SHELL', 'true'] },
        dependsOn: [{ containerName: 'side', condition: 'START' }],
      },
      { name: 'side', image: 'side:1', essential: false, memory: 64 },
    ],
    volumes: [{ name: 'v', dockerVolumeConfiguration: { scope: 'shared', autoprovision: true } }],
  } as unknown as TaskDefinitionDoc;

  it('merges overrides, fills ECS defaults and hands out registry credentials', () => {
    const task = taskDoc({
      overrides: { containerOverrides: [{ name: 'web', command: ['b'], environment: [{ name: 'B', value: 'two' }, { name: 'C', value: '3' }], memory: 128 }], cpu: '512' },
      networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-1'] } },
    });
    const a = toAssignment(task, def, (image) => (image.startsWith('reg:5000/') ? { username: 'AWS', password: 'secret' } : undefined));
    assert.equal(a.networkMode, 'awsvpc');
    assert.equal(a.cpu, 512, 'task-level override wins');
    assert.equal(a.memory, 512);
    assert.equal(a.subnetId, 'subnet-1');
    const web = a.containers[0]!;
    assert.deepEqual(web.command, ['b']);
    assert.deepEqual(web.environment, [{ name: 'A', value: '1' }, { name: 'B', value: 'two' }, { name: 'C', value: '3' }]);
    assert.equal(web.memory, 128);
    assert.equal(web.essential, true);
    assert.equal(web.containerArn, 'arn:c/web');
    assert.deepEqual(web.portMappings, [{ containerPort: 8080, hostPort: 8080, protocol: 'tcp' }], 'awsvpc: hostPort = containerPort');
    assert.deepEqual(web.healthCheck, { command: ['CMD-SHELL', 'true'], intervalSec: 30, timeoutSec: 5, retries: 3, startPeriodSec: 0 });
    assert.equal(web.stopTimeoutSec, 30);
    assert.deepEqual(web.registryAuth, { username: 'AWS', password: 'secret' });
    assert.equal(a.containers[1]!.registryAuth, undefined);
    assert.equal(a.containers[1]!.essential, false);
    assert.deepEqual(a.volumes[0]!.dockerVolumeConfiguration, { scope: 'shared', autoprovision: true, driver: 'local', driverOpts: {}, labels: {} });
  });

  it('digests desired state without credentials, and changes when desired state does', () => {
    const task = taskDoc({ networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-1'] } } });
    const one = assignmentsDigest([toAssignment(task, def, () => ({ username: 'AWS', password: 'token-1' }))]);
    const two = assignmentsDigest([toAssignment(task, def, () => ({ username: 'AWS', password: 'token-2' }))]);
    assert.equal(one, two);
    const stopped = assignmentsDigest([toAssignment({ ...task, desiredStatus: 'STOPPED' }, def)]);
    assert.notEqual(stopped, assignmentsDigest([toAssignment(task, def)]));
    // Reports do not change desired state: no wake-up for the agent's own reports.
    assert.equal(assignmentsDigest([toAssignment({ ...task, lastStatus: 'RUNNING', version: 9 }, def)]), assignmentsDigest([toAssignment(task, def)]));
  });

  it('hands over linuxParameters with empty lists filled in, and the task’s pidMode / ipcMode', () => {
    const linux = {
      ...def,
      networkMode: 'bridge',
      pidMode: 'task',
      ipcMode: 'host',
      containerDefinitions: [
        {
          name: 'web',
          image: 'web:1',
          linuxParameters: {
            initProcessEnabled: true,
            capabilities: { add: ['NET_ADMIN'] },
            devices: [{ hostPath: '/dev/fuse', permissions: ['read', 'write'] }],
            sharedMemorySize: 128,
            tmpfs: [{ containerPath: '/run', size: 64, mountOptions: ['noexec'] }],
            maxSwap: 0,
            swappiness: 30,
          },
        },
        { name: 'side', image: 'side:1' },
      ],
    } as unknown as TaskDefinitionDoc;
    const a = toAssignment(taskDoc({}), linux);
    assert.equal(a.pidMode, 'task');
    assert.equal(a.ipcMode, 'host');
    assert.equal(a.containers[0]!.initProcessEnabled, true);
    assert.deepEqual(a.containers[0]!.linuxParameters, {
      capabilities: { add: ['NET_ADMIN'], drop: [] },
      devices: [{ hostPath: '/dev/fuse', containerPath: undefined, permissions: ['read', 'write'] }],
      sharedMemorySize: 128,
      tmpfs: [{ containerPath: '/run', size: 64, mountOptions: ['noexec'] }],
      maxSwap: 0,
      swappiness: 30,
    });
    assert.deepEqual(a.containers[1]!.linuxParameters, { capabilities: { add: [], drop: [] }, devices: [], sharedMemorySize: undefined, tmpfs: [], maxSwap: undefined, swappiness: undefined });
    assert.equal(toAssignment(taskDoc({}), def).pidMode, undefined);
  });
});
