/** The host-safety policy against a real directory tree with symlinks (no Docker needed). */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { ContainerSpec, TaskAssignment, VolumeSpec } from '../protocol/index.js';
import { HostSafety, HostSafetyError, hostSafetyFromEnv, mergeHostSafety, type HostSafetySettings } from './host-safety.js';
import { containerSpec } from './testing.js';

const root = realpathSync(mkdtempSync(join(tmpdir(), 'dockyard-host-safety-')));
const data = join(root, 'data');
const state = join(data, 'agent');
const allowed = join(root, 'allowed');
mkdirSync(state, { recursive: true });
mkdirSync(join(allowed, 'logs'), { recursive: true });
symlinkSync(data, join(allowed, 'to-data'));
symlinkSync('/var/run/docker.sock', join(allowed, 'docker.sock'));
symlinkSync('/', join(allowed, 'to-root'));
symlinkSync(join(allowed, 'logs'), join(allowed, 'to-logs'));
after(() => rmSync(root, { recursive: true, force: true }));

const policy = (s: Partial<HostSafetySettings> = {}) => new HostSafety(s, { protectedPaths: [data, state] });

function task(over: { container?: Partial<ContainerSpec>; volumes?: VolumeSpec[]; task?: Partial<TaskAssignment> } = {}): TaskAssignment {
  return {
    taskArn: 'arn:aws:ecs:us-east-1:0:task/default/abc',
    clusterArn: 'arn:cluster',
    taskDefinitionArn: 'arn:td',
    family: 'f',
    desiredStatus: 'RUNNING',
    networkMode: 'bridge',
    volumes: over.volumes ?? [],
    containers: [containerSpec('web', over.container)],
    ...over.task,
  };
}

/** A task bind-mounting `path` into its container. */
const mounting = (path: string) => task({ volumes: [{ name: 'v', host: { sourcePath: path } }], container: { mountPoints: [{ sourceVolume: 'v', containerPath: '/m', readOnly: false }] } });

function refusal(p: HostSafety, t: TaskAssignment): string {
  try {
    p.checkTask(t);
  } catch (e) {
    assert.ok(e instanceof HostSafetyError, String(e));
    assert.equal(e.container, 'web');
    return e.message;
  }
  assert.fail('the task was admitted');
}

describe('HostSafety defaults', () => {
  const p = policy();

  it('admits an ordinary task: named and task volumes, host network, dropped capabilities, init, tmpfs, pid/ipc task', () => {
    const t = task({
      task: { networkMode: 'host', pidMode: 'task', ipcMode: 'task' },
      volumes: [{ name: 'scratch' }, { name: 'empty', host: {} }, { name: 'named', dockerVolumeConfiguration: { scope: 'shared', autoprovision: true, driver: 'local', driverOpts: {}, labels: {} } }],
      container: {
        initProcessEnabled: true,
        mountPoints: ['scratch', 'empty', 'named'].map((v) => ({ sourceVolume: v, containerPath: `/${v}`, readOnly: false })),
        linuxParameters: { capabilities: { add: ['CHOWN', 'cap_kill'], drop: ['ALL'] }, devices: [], tmpfs: [{ containerPath: '/t', size: 8 }], sharedMemorySize: 64 },
      },
    });
    assert.doesNotThrow(() => p.checkTask(t));
  });

  it('refuses privileged containers, naming the flag', () => {
    assert.equal(refusal(p, task({ container: { privileged: true } })), 'privileged containers are disabled on this container instance (set --allow-privileged)');
  });

  it('refuses capabilities beyond Docker’s default set', () => {
    const t = task({ container: { linuxParameters: { capabilities: { add: ['NET_ADMIN'], drop: [] }, devices: [], tmpfs: [] } } });
    assert.equal(refusal(p, t), 'adding the NET_ADMIN capability is disabled on this container instance (set --allow-capability NET_ADMIN)');
    const all = task({ container: { linuxParameters: { capabilities: { add: ['ALL'], drop: [] }, devices: [], tmpfs: [] } } });
    assert.match(refusal(p, all), /adding the ALL capability is disabled/);
  });

  it('refuses host pid and ipc modes, and host network only when denied', () => {
    assert.match(refusal(p, task({ task: { pidMode: 'host' } })), /^host PID mode is disabled on this container instance \(set --allow-host-pid\)$/);
    assert.match(refusal(p, task({ task: { ipcMode: 'host' } })), /^host IPC mode is disabled .*--allow-host-ipc/);
    assert.match(refusal(policy({ allowHostNetwork: false }), task({ task: { networkMode: 'host' } })), /^host network mode is disabled/);
  });

  it('refuses every host bind mount (the allow-list is empty) and every device', () => {
    assert.match(refusal(p, mounting(join(allowed, 'logs'))), /^host path .*\/allowed\/logs of volume v is outside the host paths allowed on this container instance \(set --allow-host-path .*\/allowed\/logs\)$/);
    const dev = task({ container: { linuxParameters: { capabilities: { add: [], drop: [] }, devices: [{ hostPath: '/dev/null' }], tmpfs: [] } } });
    assert.equal(refusal(p, dev), 'device /dev/null of linuxParameters.devices is not allowed on this container instance (set --allow-device /dev/null)');
  });

  it('refuses the Docker socket by any name, and the directories holding it', () => {
    for (const path of ['/var/run/docker.sock', '/run/docker.sock', '/var/run', '/run', '/var/run/../run/docker.sock', '//var//run/', '/run/containerd']) {
      assert.match(refusal(p, mounting(path)), /^mounting the Docker socket \(host path .* of volume v\) is disabled on this container instance \(set --allow-docker-socket\)$/, path);
    }
  });
});

describe('HostSafety with host paths allowed', () => {
  const p = policy({ allowHostPaths: [allowed] });

  it('admits paths under the prefix, resolved (symlinks inside the prefix, missing dirs Docker will create)', () => {
    const t = mounting(join(allowed, 'to-logs'));
    p.checkTask(t);
    assert.equal(p.checkContainer(t, t.containers[0]!).volumes.get('v'), join(allowed, 'logs'));
    const fresh = mounting(join(allowed, 'new', 'sub'));
    assert.equal(p.checkContainer(fresh, fresh.containers[0]!).volumes.get('v'), join(allowed, 'new', 'sub'));
  });

  it('refuses what only looks allowed: a symlink or .. leading out, into the data dir, onto the socket or /', () => {
    assert.match(refusal(p, mounting(join(allowed, 'to-data'))), /to-data \(resolves to .*\/data\) of volume v is or holds Dockyard's data or agent state and can never be mounted$/);
    assert.match(refusal(p, mounting(join(allowed, 'to-data', 'agent'))), /holds Dockyard's data/);
    assert.match(refusal(p, mounting(join(allowed, '..', 'data'))), /holds Dockyard's data/);
    assert.match(refusal(p, mounting(join(allowed, 'missing', '..', '..', 'data'))), /holds Dockyard's data/);
    assert.match(refusal(p, mounting(join(allowed, 'docker.sock'))), /^mounting the Docker socket \(host path .*docker\.sock \(resolves to \/run\/docker\.sock\)/);
    assert.match(refusal(p, mounting(join(allowed, 'to-root'))), /resolves to \/\) of volume v is or holds Dockyard's data/);
    assert.match(refusal(p, mounting(`${allowed}-sibling`)), /outside the host paths allowed/, 'a prefix matches whole path components');
    assert.match(refusal(p, mounting('relative/path')), /is not an absolute path/);
  });

  it('checks local-driver volumes whose options bind a host directory', () => {
    const bind = (device: string): TaskAssignment => ({
      ...task({ container: { mountPoints: [{ sourceVolume: 'b', containerPath: '/b', readOnly: false }] } }),
      volumes: [{ name: 'b', dockerVolumeConfiguration: { scope: 'task', autoprovision: false, driver: 'local', driverOpts: { type: 'none', o: 'bind', device }, labels: {} } }],
    });
    assert.doesNotThrow(() => p.checkTask(bind(join(allowed, 'logs'))));
    assert.match(refusal(p, bind(join(allowed, 'to-data'))), /holds Dockyard's data/);
    assert.match(refusal(p, bind('/etc')), /host path \/etc of volume b is outside the host paths allowed/);
    // A disk mounted by the local driver is a device.
    const disk: TaskAssignment = { ...bind('/dev/sda1'), volumes: [{ name: 'b', dockerVolumeConfiguration: { scope: 'shared', autoprovision: true, driver: 'local', driverOpts: { type: 'ext4', device: '/dev/sda1' }, labels: {} } }] };
    assert.match(refusal(p, disk), /^device \/dev\/sda1 of volume b is not allowed on this container instance \(set --allow-device \/dev\/sda1\)$/);
    const nfs: TaskAssignment = { ...bind('x'), volumes: [{ name: 'b', dockerVolumeConfiguration: { scope: 'task', autoprovision: false, driver: 'local', driverOpts: { type: 'nfs', o: 'addr=10.0.0.1', device: ':/export' }, labels: {} } }] };
    assert.doesNotThrow(() => p.checkTask(nfs));
  });

  it('never lets the allow-list open the protected dirs, even with / allowed', () => {
    const everything = policy({ allowHostPaths: ['/'] });
    assert.doesNotThrow(() => everything.checkTask(mounting('/etc')));
    assert.match(refusal(everything, mounting('/')), /holds Dockyard's data/);
    assert.match(refusal(everything, mounting(root)), /holds Dockyard's data/);
    assert.match(refusal(everything, mounting(state)), /holds Dockyard's data/);
    assert.match(refusal(everything, mounting('/var/run')), /Docker socket/);
  });
});

describe('HostSafety loosened', () => {
  it('admits what each setting allows', () => {
    const p = policy({ allowPrivileged: true, allowDockerSocket: true, allowHostPid: true, allowHostIpc: true, allowCapabilities: ['net_admin'], allowDevices: ['/dev/null'] });
    p.checkTask(task({ container: { privileged: true }, task: { pidMode: 'host', ipcMode: 'host' } }));
    const sock = mounting('/var/run/docker.sock');
    p.checkTask(sock);
    assert.equal(p.checkContainer(sock, sock.containers[0]!).volumes.get('v'), '/run/docker.sock');
    assert.match(refusal(p, mounting('/var/run')), /outside the host paths allowed/, 'the socket itself, not the directory holding it');
    p.checkTask(task({ container: { linuxParameters: { capabilities: { add: ['CAP_NET_ADMIN'], drop: [] }, devices: [{ hostPath: '/dev/null' }], tmpfs: [] } } }));
    const any = policy({ allowCapabilities: ['ALL'] });
    any.checkTask(task({ container: { linuxParameters: { capabilities: { add: ['SYS_ADMIN', 'ALL'], drop: [] }, devices: [], tmpfs: [] } } }));
  });
});

describe('hostSafetyFromEnv', () => {
  it('reads the DOCKYARD_AGENT_* variables and ECS_DISABLE_PRIVILEGED; flags win', () => {
    const env = hostSafetyFromEnv({
      ECS_DISABLE_PRIVILEGED: 'false',
      DOCKYARD_AGENT_ALLOW_HOST_PATHS: '/srv, /var/log',
      DOCKYARD_AGENT_ALLOW_CAPABILITIES: '["NET_ADMIN","SYS_PTRACE"]',
      DOCKYARD_AGENT_DENY_HOST_NETWORK: 'true',
      DOCKYARD_AGENT_ALLOW_HOST_PID: '0',
    });
    assert.deepEqual(env, { allowPrivileged: true, allowHostPaths: ['/srv', '/var/log'], allowHostNetwork: false, allowHostPid: false, allowCapabilities: ['NET_ADMIN', 'SYS_PTRACE'] });
    assert.deepEqual(hostSafetyFromEnv({ DOCKYARD_AGENT_ALLOW_PRIVILEGED: 'no', ECS_DISABLE_PRIVILEGED: 'false' }), { allowPrivileged: false });
    assert.deepEqual(mergeHostSafety(env, { allowPrivileged: false, allowHostPaths: undefined }).allowPrivileged, false);
    assert.deepEqual(mergeHostSafety(env, { allowHostPaths: undefined }).allowHostPaths, ['/srv', '/var/log']);
    assert.deepEqual(hostSafetyFromEnv({}), {});
  });
});
