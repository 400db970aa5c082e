/** The container definition → Docker create options mapping (pure; no Docker needed). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContainerSpec, TaskAssignment } from '../../protocol/index.js';
import { containerCreateOptions, containerName, taskVolumeName } from './docker.js';
import { containerSpec } from '../testing.js';

const MiB = 1024 * 1024;
const spec = (over: Partial<ContainerSpec> = {}): ContainerSpec => containerSpec('web', { containerArn: 'arn:c', image: 'img:1', ...over });
const TASK = 'arn:aws:ecs:us-east-1:0:task/default/0123456789abcdef';


function task(over: Partial<TaskAssignment> = {}): TaskAssignment {
  return { taskArn: TASK, clusterArn: 'arn:cluster', taskDefinitionArn: 'arn:td', family: 'fam', desiredStatus: 'RUNNING', networkMode: 'bridge', volumes: [], containers: [spec()], ...over };
}

const o = { bindIp: '127.0.0.1', instanceId: 'inst' };

describe('containerCreateOptions', () => {
  it('maps the container definition fields onto Docker', () => {
    const s = spec({
      command: ['-p', '80'],
      entryPoint: ['/bin/app'],
      environment: [{ name: 'A', value: '1' }, { name: 'EMPTY' }],
      workingDirectory: '/srv',
      user: '1000:1000',
      hostname: 'web-1',
      extraHosts: [{ hostname: 'db', ipAddress: '10.0.0.5' }],
      dnsServers: ['10.0.0.2'],
      dnsSearchDomains: ['corp'],
      links: ['db:database'],
      ulimits: [{ name: 'nofile', softLimit: 1024, hardLimit: 4096 }],
      dockerLabels: { team: 'a' },
      privileged: true,
      readonlyRootFilesystem: true,
      initProcessEnabled: true,
      cpu: 1,
      memory: 256,
      memoryReservation: 128,
      portMappings: [{ containerPort: 80, hostPort: 0, protocol: 'tcp' }, { containerPort: 53, hostPort: 5353, protocol: 'udp' }],
      healthCheck: { command: ['CMD-SHELL', 'true'], intervalSec: 10, timeoutSec: 2, retries: 3, startPeriodSec: 5 },
      stopTimeoutSec: 12,
    });
    const opts = containerCreateOptions(s, { task: task({ containers: [s] }), setup: undefined, siblings: new Map() }, o);
    const h = opts.HostConfig!;
    assert.equal(opts.name, containerName(TASK, 'web'));
    assert.deepEqual(opts.Cmd, ['-p', '80']);
    assert.deepEqual(opts.Entrypoint, ['/bin/app']);
    assert.deepEqual(opts.Env, ['A=1', 'EMPTY=']);
    assert.equal(opts.WorkingDir, '/srv');
    assert.equal(opts.User, '1000:1000');
    assert.equal(opts.Hostname, 'web-1');
    assert.equal(opts.StopTimeout, 12);
    assert.deepEqual(opts.Healthcheck, { Test: ['CMD-SHELL', 'true'], Interval: 10e9, Timeout: 2e9, Retries: 3, StartPeriod: 5e9 });
    assert.equal(opts.Labels!.team, 'a');
    assert.equal(opts.Labels!['com.amazonaws.ecs.task-arn'], TASK);
    assert.equal(opts.Labels!['com.amazonaws.ecs.container-name'], 'web');
    assert.equal(opts.Labels!['com.amazonaws.ecs.cluster'], 'arn:cluster');
    assert.equal(opts.Labels!['dockyard.instance'], 'inst');
    assert.equal(h.NetworkMode, 'bridge');
    assert.deepEqual(h.PortBindings, { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }], '53/udp': [{ HostIp: '127.0.0.1', HostPort: '5353' }] });
    assert.equal(h.Memory, 256 * MiB);
    assert.equal(h.MemoryReservation, 128 * MiB);
    assert.equal(h.CpuShares, 2, 'CPU units map to shares, at least 2');
    assert.deepEqual(h.Links, [`${containerName(TASK, 'db')}:database`]);
    assert.deepEqual(h.Ulimits, [{ Name: 'nofile', Soft: 1024, Hard: 4096 }]);
    assert.equal(h.Privileged, true);
    assert.equal(h.ReadonlyRootfs, true);
    assert.deepEqual(h.Dns, ['10.0.0.2']);
    assert.deepEqual(h.DnsSearch, ['corp']);
    assert.deepEqual(h.ExtraHosts, ['db:10.0.0.5']);
    assert.equal(h.Init, true);
  });

  it('binds host paths, mounts task and shared volumes, and resolves volumesFrom to runtime ids', () => {
    const s = spec({
      mountPoints: [
        { sourceVolume: 'host', containerPath: '/h', readOnly: true },
        { sourceVolume: 'scratch', containerPath: '/s', readOnly: false },
        { sourceVolume: 'cache', containerPath: '/c', readOnly: false },
      ],
      volumesFrom: [{ sourceContainer: 'data', readOnly: true }],
    });
    const t = task({
      containers: [s],
      volumes: [
        { name: 'host', host: { sourcePath: '/srv/data' } },
        { name: 'scratch' },
        { name: 'cache', dockerVolumeConfiguration: { scope: 'shared', autoprovision: true, driver: 'local', driverOpts: {}, labels: {} } },
      ],
    });
    const h = containerCreateOptions(s, { task: t, setup: undefined, siblings: new Map([['data', 'abc123']]) }, o).HostConfig!;
    assert.deepEqual(h.Binds, ['/srv/data:/h:ro']);
    assert.deepEqual(h.Mounts, [
      { Type: 'volume', Source: taskVolumeName(TASK, 'scratch'), Target: '/s', ReadOnly: false },
      { Type: 'volume', Source: 'cache', Target: '/c', ReadOnly: false },
    ]);
    assert.deepEqual(h.VolumesFrom, ['abc123:ro']);
  });

  it('joins the pause container in awsvpc mode, publishing nothing itself', () => {
    const s = spec({ hostname: 'x', portMappings: [{ containerPort: 80, hostPort: 80, protocol: 'tcp' }] });
    const opts = containerCreateOptions(s, { task: task({ networkMode: 'awsvpc', containers: [s] }), setup: { pauseId: 'pause1' }, siblings: new Map() }, o);
    assert.equal(opts.HostConfig!.NetworkMode, 'container:pause1');
    assert.equal(opts.HostConfig!.PortBindings, undefined);
    assert.equal(opts.Hostname, undefined, 'Docker refuses a hostname in a shared namespace');
  });

  it('applies task-level limits: memory as the hard limit of containers without one, CPU as a quota', () => {
    const s = spec();
    const h = containerCreateOptions(s, { task: task({ cpu: 512, memory: 1024, containers: [s, spec({ name: 'b' })] }), setup: undefined, siblings: new Map() }, o).HostConfig!;
    assert.equal(h.Memory, 1024 * MiB);
    assert.equal(h.NanoCpus, 0.5e9);
    assert.equal(h.CpuShares, 256);
  });

  it('maps linuxParameters: capabilities, devices, init, /dev/shm, tmpfs, swap', () => {
    const s = spec({
      initProcessEnabled: true,
      memory: 128,
      linuxParameters: {
        capabilities: { add: ['NET_ADMIN'], drop: ['MKNOD', 'NET_RAW'] },
        devices: [{ hostPath: '/dev/fuse' }, { hostPath: '/dev/link', containerPath: '/dev/x', permissions: ['read', 'mknod'] }],
        sharedMemorySize: 256,
        tmpfs: [{ containerPath: '/run', size: 64, mountOptions: ['noexec', 'mode=1777'] }, { containerPath: '/tmp', size: 16 }],
        maxSwap: 512,
        swappiness: 10,
      },
    });
    // The host-safety check resolved /dev/link; Docker gets the resolved path.
    const hostAccess = { volumes: new Map<string, string>(), devices: new Map([['/dev/link', '/dev/real']]) };
    const h = containerCreateOptions(s, { task: task({ containers: [s] }), setup: undefined, siblings: new Map() }, { ...o, hostAccess }).HostConfig!;
    assert.equal(h.Init, true);
    assert.deepEqual(h.CapAdd, ['NET_ADMIN']);
    assert.deepEqual(h.CapDrop, ['MKNOD', 'NET_RAW']);
    assert.deepEqual(h.Devices, [
      { PathOnHost: '/dev/fuse', PathInContainer: '/dev/fuse', CgroupPermissions: 'rwm' },
      { PathOnHost: '/dev/real', PathInContainer: '/dev/x', CgroupPermissions: 'rm' },
    ]);
    assert.equal(h.ShmSize, 256 * MiB);
    assert.deepEqual(h.Tmpfs, { '/run': 'size=64m,noexec,mode=1777', '/tmp': 'size=16m' });
    assert.equal(h.MemorySwap, (128 + 512) * MiB, 'maxSwap is on top of the memory limit');
    assert.equal(h.MemorySwappiness, 10);
    assert.equal(h.PidMode, undefined);
    assert.equal(h.IpcMode, undefined);
  });

  it('maps maxSwap 0 to no swap with the default swappiness, and leaves out what was not asked for', () => {
    const none = spec({ memory: 64, linuxParameters: { capabilities: { add: [], drop: [] }, devices: [], tmpfs: [], maxSwap: 0 } });
    const h = containerCreateOptions(none, { task: task({ containers: [none] }), setup: undefined, siblings: new Map() }, o).HostConfig!;
    assert.equal(h.MemorySwap, 64 * MiB);
    assert.equal(h.MemorySwappiness, 60);
    for (const k of ['CapAdd', 'CapDrop', 'Devices', 'Tmpfs', 'ShmSize', 'Init'] as const) assert.equal(h[k], undefined, k);
  });

  it('joins the pause container for pidMode / ipcMode task, the host for host, and sizes no private /dev/shm then', () => {
    const s = spec({ linuxParameters: { capabilities: { add: [], drop: [] }, devices: [], tmpfs: [], sharedMemorySize: 32 } });
    const shared = containerCreateOptions(s, { task: task({ pidMode: 'task', ipcMode: 'task', containers: [s] }), setup: { pauseId: 'p1' }, siblings: new Map() }, o).HostConfig!;
    assert.equal(shared.PidMode, 'container:p1');
    assert.equal(shared.IpcMode, 'container:p1');
    assert.equal(shared.ShmSize, undefined);
    const host = containerCreateOptions(s, { task: task({ pidMode: 'host', ipcMode: 'host', containers: [s] }), setup: undefined, siblings: new Map() }, o).HostConfig!;
    assert.equal(host.PidMode, 'host');
    assert.equal(host.IpcMode, 'host');
    const none = containerCreateOptions(s, { task: task({ ipcMode: 'none', containers: [s] }), setup: undefined, siblings: new Map() }, o).HostConfig!;
    assert.equal(none.IpcMode, 'none');
  });

  it('binds the host path as the host-safety check resolved it', () => {
    const s = spec({ mountPoints: [{ sourceVolume: 'logs', containerPath: '/l', readOnly: false }] });
    const t = task({ containers: [s], volumes: [{ name: 'logs', host: { sourcePath: '/srv/link/../logs' } }] });
    const hostAccess = { volumes: new Map([['logs', '/data/logs']]), devices: new Map<string, string>() };
    assert.deepEqual(containerCreateOptions(s, { task: t, setup: undefined, siblings: new Map() }, { ...o, hostAccess }).HostConfig!.Binds, ['/data/logs:/l']);
  });
});
