/**
 * The embedded agent's host-safety policy and linuxParameters against the real Docker Engine,
 * through the ECS API: refused tasks stop with ECS-style reasons and leave no container; the
 * mapped Linux parameters take effect inside the container. Everything is removed by label/id.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DescribeContainerInstancesCommand, ListContainerInstancesCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import type { TestDockyard } from '../helpers/dockyard.js';
import { docker } from '../helpers/docker.js';
import { buildHttpdImage } from '../helpers/images.js';
import { isRunning, isStopped, readWhen, register, run, sh, startWithAgent, waitTask } from './helpers.js';

const containersOfTask = (arn: string) => docker('ps', '-aq', '--filter', `label=com.amazonaws.ecs.task-arn=${arn}`);

describe('host safety on Docker', () => {
  let d: TestDockyard;
  let image: string;
  const hostDir = mkdtempSync(join(tmpdir(), 'dockyard-host-safety-'));
  chmodSync(hostDir, 0o777);

  before(async () => {
    image = buildHttpdImage();
    // Only hostDir is allow-listed; everything else is at its default.
    d = await startWithAgent({ agent: { hostSafety: { allowHostPaths: [hostDir] } } });
    // A link inside the allowed dir that leads into Dockyard's data dir.
    symlinkSync(d.dataDir, join(hostDir, 'looks-harmless'));
  });

  after(async () => {
    await d?.stop();
    rmSync(hostDir, { recursive: true, force: true });
  });

  const readOut = (name: string, until: string) => readWhen(join(hostDir, name), (text) => text.includes(until), 10_000);

  it('does not advertise the privileged-container capability while privileged containers are disabled', async () => {
    const arns = (await d.ecs.send(new ListContainerInstancesCommand({ cluster: 'default' }))).containerInstanceArns!;
    const ci = (await d.ecs.send(new DescribeContainerInstancesCommand({ cluster: 'default', containerInstances: arns }))).containerInstances![0]!;
    const names = ci.attributes!.map((a) => a.name);
    assert.ok(!names.includes('com.amazonaws.ecs.capability.privileged-container'));
    assert.ok(names.includes('ecs.capability.pid-ipc-namespace-sharing'));
  });

  it('stops refused tasks (privileged, Docker socket, /, the data dir through a symlink) with the reason, and creates no container', async () => {
    const cases = [
      { what: 'privileged', container: { privileged: true }, volumes: [], reason: /^CannotStartContainerError: privileged containers are disabled on this container instance \(set --allow-privileged\)$/ },
      { what: 'docker socket', mount: '/var/run/docker.sock', reason: /^CannotStartContainerError: mounting the Docker socket \(host path \/var\/run\/docker\.sock \(resolves to \/run\/docker\.sock\) of volume host\) is disabled on this container instance \(set --allow-docker-socket\)$/ },
      { what: '/run', mount: '/run', reason: /^CannotStartContainerError: mounting the Docker socket .*--allow-docker-socket/ },
      { what: '/', mount: '/', reason: /^CannotStartContainerError: host path \/ of volume host is or holds Dockyard's data or agent state and can never be mounted$/ },
      { what: 'data dir via symlink', mount: join(hostDir, 'looks-harmless'), reason: /^CannotStartContainerError: host path .*looks-harmless \(resolves to .*\) of volume host is or holds Dockyard's data or agent state and can never be mounted$/ },
      { what: 'host pid', extra: { pidMode: 'host' as const }, reason: /^CannotStartContainerError: host PID mode is disabled .*--allow-host-pid\)$/ },
      { what: 'SYS_ADMIN', container: { linuxParameters: { capabilities: { add: ['SYS_ADMIN'] } } }, reason: /^CannotStartContainerError: adding the SYS_ADMIN capability is disabled .*--allow-capability SYS_ADMIN\)$/ },
    ];
    const started = await Promise.all(
      cases.map(async (c) => {
        const mount = c.mount ? { mountPoints: [{ sourceVolume: 'host', containerPath: '/host' }] } : {};
        const volumes = c.mount ? [{ name: 'host', host: { sourcePath: c.mount } }] : [];
        const family = await register(d, [{ name: 'app', image, memory: 32, stopTimeout: 2, ...mount, ...c.container }, { name: 'side', image, memory: 32, essential: false }], { volumes, ...c.extra });
        return { ...c, arn: await run(d, family) };
      }),
    );
    for (const c of started) {
      const t = await waitTask(d, c.arn, isStopped);
      assert.equal(t.stopCode, 'TaskFailedToStart', c.what);
      assert.match(t.stoppedReason!, c.reason, c.what);
      const app = t.containers!.find((x) => x.name === 'app')!;
      assert.equal(app.reason, t.stoppedReason, c.what);
      assert.ok(t.containers!.every((x) => x.lastStatus === 'STOPPED' && !x.runtimeId), `${c.what}: no container was created`);
      assert.equal(containersOfTask(c.arn), '', `${c.what}: Docker has no container of the task`);
    }
  });

  it('refuses Docker volumes that bind a host path: declared with local-driver options, or an existing shared one', async () => {
    const declared = await register(d, [{ name: 'app', image, memory: 32, mountPoints: [{ sourceVolume: 'v', containerPath: '/v' }] }], {
      volumes: [{ name: 'v', dockerVolumeConfiguration: { scope: 'task', driver: 'local', driverOpts: { type: 'none', o: 'bind', device: d.dataDir } } }],
    });
    const shared = `dockyard-host-safety-${process.pid}`;
    docker('volume', 'create', '--driver', 'local', '-o', 'type=none', '-o', 'o=bind', '-o', `device=${d.dataDir}`, shared);
    try {
      // This task declares a plain shared volume: only the existing volume's options give it away.
      const reuse = await register(d, [{ name: 'app', image, memory: 32, mountPoints: [{ sourceVolume: shared, containerPath: '/v' }] }], {
        volumes: [{ name: shared, dockerVolumeConfiguration: { scope: 'shared', autoprovision: false } }],
      });
      for (const family of [declared, reuse]) {
        const arn = await run(d, family);
        const t = await waitTask(d, arn, isStopped);
        assert.equal(t.stopCode, 'TaskFailedToStart');
        assert.match(t.stoppedReason!, /^CannotStartContainerError: host path .* of volume .* is or holds Dockyard's data or agent state and can never be mounted$/);
        assert.equal(containersOfTask(arn), '');
      }
    } finally {
      docker('volume', 'rm', '-f', shared);
    }
  });

  it('maps linuxParameters: init as PID 1, the /dev/shm size, tmpfs, a dropped capability', async () => {
    const family = await register(
      d,
      [
        {
          name: 'probe',
          image,
          memory: 64,
          stopTimeout: 2,
          mountPoints: [{ sourceVolume: 'out', containerPath: '/out' }],
          linuxParameters: {
            initProcessEnabled: true,
            sharedMemorySize: 96,
            tmpfs: [{ containerPath: '/scratch', size: 8, mountOptions: ['noexec'] }],
            capabilities: { drop: ['CHOWN'] },
          },
          ...sh(
            'touch /f; { cat /proc/1/comm; df -k /dev/shm | tail -1 | awk \'{print $2}\'; df -k /scratch | tail -1 | awk \'{print $2}\'; grep " /scratch " /proc/mounts | grep -c noexec; chown 1 /f 2>/dev/null && echo chown-ok || echo chown-denied; } > /out/linux; exec sleep 3600',
          ),
        },
      ],
      { volumes: [{ name: 'out', host: { sourcePath: hostDir } }] },
    );
    const arn = await run(d, family);
    const t = await waitTask(d, arn, isRunning);
    assert.equal(await readOut('linux', 'chown-'), 'docker-init\n98304\n8192\n1\nchown-denied\n');
    const host = JSON.parse(docker('inspect', t.containers![0]!.runtimeId!))[0].HostConfig;
    assert.equal(host.Init, true);
    assert.equal(host.ShmSize, 96 * 1024 * 1024);
    assert.deepEqual(host.CapDrop, ['CHOWN']);
    await d.ecs.send(new StopTaskCommand({ cluster: 'default', task: arn }));
    await waitTask(d, arn, isStopped);
  });

  it('shares one PID and IPC namespace among a task’s containers for pidMode / ipcMode task', async () => {
    const family = await register(
      d,
      [
        { name: 'server', image, memory: 32, stopTimeout: 2 },
        {
          name: 'watcher',
          image,
          memory: 32,
          stopTimeout: 2,
          mountPoints: [{ sourceVolume: 'out', containerPath: '/out' }],
          // h[t]tpd: matches the server's command line, not this script's own.
          ...sh("for i in $(seq 50); do grep -q 'h[t]tpd' /proc/[0-9]*/cmdline 2>/dev/null && break; sleep 0.1; done; grep -l 'h[t]tpd' /proc/[0-9]*/cmdline 2>/dev/null | wc -l > /out/pid; exec sleep 3600"),
        },
      ],
      { pidMode: 'task', ipcMode: 'task', volumes: [{ name: 'out', host: { sourcePath: hostDir } }] },
    );
    const arn = await run(d, family);
    const t = await waitTask(d, arn, isRunning);
    assert.equal((await readOut('pid', '\n')).trim(), '1', 'the watcher sees the server’s httpd');
    const [server, watcher] = ['server', 'watcher'].map((n) => JSON.parse(docker('inspect', t.containers!.find((c) => c.name === n)!.runtimeId!))[0].HostConfig);
    assert.match(server.PidMode, /^container:[0-9a-f]{64}$/);
    assert.equal(server.PidMode, watcher.PidMode);
    assert.equal(server.IpcMode, watcher.IpcMode);
    assert.equal(server.IpcMode, server.PidMode, 'both held by the task’s pause container');
    await d.ecs.send(new StopTaskCommand({ cluster: 'default', task: arn }));
    await waitTask(d, arn, isStopped);
  });
});
