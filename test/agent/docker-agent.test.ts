/**
 * The agent against the real Docker Engine, driven through the ECS API (RunTask/StopTask/
 * DescribeTasks) of a Dockyard with its embedded agent. Images are built locally; traffic goes
 * to 127.0.0.1 only; everything the agent created is removed by id at the end.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { StopTaskCommand } from '@aws-sdk/client-ecs';
import { OOM_REASON } from '../../src/agent/index.js';
import type { TestDockyard } from '../helpers/dockyard.js';
import { buildHttpdImage } from '../helpers/images.js';
import { describe as describeTask, httpGet, inspect, isRunning, isStopped, readWhen, register, run, sh, startWithAgent, waitTask } from './helpers.js';
import { docker } from '../helpers/docker.js';


describe('agent on Docker', () => {
  let d: TestDockyard;
  let image: string;
  let instanceId: string;
  const hostDir = mkdtempSync(join(tmpdir(), 'dockyard-agent-bind-'));
  chmodSync(hostDir, 0o777); // containers run as other users write here too

  before(async () => {
    image = buildHttpdImage();
    // Host bind mounts are refused unless allow-listed: this test's scratch dir is.
    d = await startWithAgent({ agent: { hostSafety: { allowHostPaths: [hostDir] } } });
    instanceId = d.app.agent!.instanceId;
  });

  after(async () => {
    await d?.stop(); // also removes, by label, what its agent created
    rmSync(hostDir, { recursive: true, force: true });
  });

  const stop = (arn: string, reason = 'test done') => d.ecs.send(new StopTaskCommand({ cluster: 'default', task: arn, reason }));

  it('runs a task whose container answers HTTP on its published 127.0.0.1 port, and stops it with reason and exit code', async () => {
    const family = await register(d, [{ name: 'web', image, memory: 64, stopTimeout: 2, portMappings: [{ containerPort: 8080 }] }]);
    const arn = await run(d, family);
    const t = await waitTask(d, arn, isRunning);
    const c = t.containers![0]!;
    assert.equal(c.lastStatus, 'RUNNING');
    assert.match(c.runtimeId!, /^[0-9a-f]{64}$/);
    assert.ok(c.imageDigest?.startsWith('sha256:'));
    const binding = c.networkBindings![0]!;
    assert.equal(binding.bindIP, '127.0.0.1');
    assert.equal(binding.containerPort, 8080);
    assert.ok(binding.hostPort! > 0);
    assert.equal(await httpGet(binding.hostPort!), 'hello from dockyard\n');
    assert.ok(t.pullStartedAt && t.pullStoppedAt && t.startedAt && t.connectivityAt);
    assert.equal(t.connectivity, 'CONNECTED');

    await stop(arn, 'stopped by the test');
    const s = await waitTask(d, arn, isStopped);
    assert.equal(s.desiredStatus, 'STOPPED');
    assert.equal(s.stopCode, 'UserInitiated');
    assert.equal(s.stoppedReason, 'stopped by the test');
    // busybox httpd runs as PID 1 and ignores SIGTERM: after stopTimeout (2 s) it gets SIGKILL.
    assert.equal(s.containers![0]!.exitCode, 137);
    assert.equal(s.containers![0]!.lastStatus, 'STOPPED');
    assert.ok(s.stoppingAt && s.stoppedAt && s.executionStoppedAt);
  });

  it('reports the exit code of a process that handles SIGTERM (0) and of one killed by it (143)', async () => {
    const family = await register(d, [
      { name: 'graceful', image, memory: 32, stopTimeout: 10, ...sh('trap "exit 0" TERM; while true; do sleep 0.1; done') },
      // With an init process, the default SIGTERM action kills httpd: 128 + 15.
      { name: 'killed', image, memory: 32, stopTimeout: 10, linuxParameters: { initProcessEnabled: true } },
    ]);
    const arn = await run(d, family);
    await waitTask(d, arn, isRunning);
    await stop(arn);
    const s = await waitTask(d, arn, isStopped);
    const byName = Object.fromEntries(s.containers!.map((c) => [c.name, c]));
    assert.equal(byName.graceful!.exitCode, 0);
    assert.equal(byName.killed!.exitCode, 143);
  });

  it('stops the task when an essential container exits, but not when a non-essential one does', async () => {
    const family = await register(d, [
      { name: 'web', image, memory: 32, stopTimeout: 2 },
      { name: 'sidecar', image, memory: 32, essential: false, ...sh('exit 0') },
      { name: 'crasher', image, memory: 32, ...sh('sleep 2; exit 3') },
    ]);
    const arn = await run(d, family);
    const mid = await waitTask(d, arn, (t) => t.containers!.find((c) => c.name === 'sidecar')!.lastStatus === 'STOPPED');
    assert.notEqual(mid.lastStatus, 'STOPPED', 'a non-essential container exiting keeps the task alive');
    assert.equal(mid.desiredStatus, 'RUNNING');
    const s = await waitTask(d, arn, isStopped);
    assert.equal(s.stopCode, 'EssentialContainerExited');
    assert.equal(s.stoppedReason, 'Essential container in task exited');
    const byName = Object.fromEntries(s.containers!.map((c) => [c.name, c]));
    assert.equal(byName.crasher!.exitCode, 3);
    assert.equal(byName.sidecar!.exitCode, 0);
    assert.equal(byName.web!.lastStatus, 'STOPPED');
  });

  it('orders container starts by dependsOn (START, COMPLETE, SUCCESS, HEALTHY) and reports health', async () => {
    const family = await register(d, [
      { name: 'db', image, memory: 32, stopTimeout: 2, healthCheck: { command: ['CMD-SHELL', 'test -f /ready'], interval: 5, timeout: 2, retries: 2 }, ...sh('sleep 1; touch /ready; exec httpd -f -p 8080 -h /www') },
      { name: 'migrate', image, memory: 32, essential: false, dependsOn: [{ containerName: 'db', condition: 'START' }], ...sh('sleep 1; exit 0') },
      { name: 'seed', image, memory: 32, essential: false, dependsOn: [{ containerName: 'migrate', condition: 'SUCCESS' }], ...sh('exit 4') },
      { name: 'app', image, memory: 32, stopTimeout: 2, dependsOn: [{ containerName: 'db', condition: 'HEALTHY' }, { containerName: 'seed', condition: 'COMPLETE' }], ...sh('exec httpd -f -p 8081 -h /www') },
    ]);
    const arn = await run(d, family);
    const t = await waitTask(d, arn, isRunning, 90_000);
    const byName = Object.fromEntries(t.containers!.map((c) => [c.name, c]));
    const times = Object.fromEntries(t.containers!.map((c) => [c.name!, inspect(c.runtimeId!)!.State]));
    const at = (s: string) => Date.parse(s);
    assert.ok(at(times.migrate!.StartedAt) >= at(times.db!.StartedAt), 'START: migrate after db started');
    assert.ok(at(times.seed!.StartedAt) >= at(times.migrate!.FinishedAt), 'SUCCESS: seed after migrate exited 0');
    assert.ok(at(times.app!.StartedAt) >= at(times.seed!.FinishedAt), 'COMPLETE: app after seed exited (even non-zero)');
    assert.ok(at(times.app!.StartedAt) - at(times.db!.StartedAt) >= 4000, 'HEALTHY: app waited for the first passing health check');
    assert.equal(byName.db!.healthStatus, 'HEALTHY');
    assert.equal(t.healthStatus, 'HEALTHY');
    assert.equal(byName.seed!.exitCode, 4);
    await stop(arn);
    await waitTask(d, arn, isStopped);
  });

  it('reports UNHEALTHY for a failing health check', async () => {
    const family = await register(d, [
      { name: 'sick', image, memory: 32, stopTimeout: 2, healthCheck: { command: ['CMD-SHELL', 'exit 1'], interval: 5, timeout: 2, retries: 1 } },
    ]);
    const arn = await run(d, family);
    const t = await waitTask(d, arn, (x) => x.healthStatus === 'UNHEALTHY', 60_000);
    assert.equal(t.containers![0]!.healthStatus, 'UNHEALTHY');
    await stop(arn);
    await waitTask(d, arn, isStopped);
  });

  it('shares task-scoped volumes, host bind mounts and volumesFrom between containers', async () => {
    const family = await register(
      d,
      [
        { name: 'writer', image, memory: 32, essential: false, mountPoints: [{ sourceVolume: 'scratch', containerPath: '/keep' }], ...sh('echo shared-data > /keep/f') },
        {
          name: 'reader',
          image,
          memory: 32,
          stopTimeout: 2,
          dependsOn: [{ containerName: 'writer', condition: 'SUCCESS' }],
          volumesFrom: [{ sourceContainer: 'writer', readOnly: true }],
          mountPoints: [
            { sourceVolume: 'scratch', containerPath: '/data', readOnly: true },
            { sourceVolume: 'out', containerPath: '/out' },
          ],
          ...sh('cat /data/f /keep/f > /out/result; (echo x > /data/g) 2>/dev/null || echo read-only >> /out/result; exec sleep 3600'),
        },
      ],
      { volumes: [{ name: 'scratch' }, { name: 'out', host: { sourcePath: hostDir } }] },
    );
    const arn = await run(d, family);
    await waitTask(d, arn, isRunning);
    const result = await readWhen(join(hostDir, 'result'), (text) => text.includes('read-only'), 5000);
    assert.equal(result, 'shared-data\nshared-data\nread-only\n');
    await stop(arn);
    await waitTask(d, arn, isStopped);
  });

  it('provisions Docker volumes: task scope per task, shared scope by name with autoprovision, and fails without it', async () => {
    const shared = `dockyard-agent-test-shared-${process.pid}`;
    let writerId: string | undefined;
    try {
      const family = await register(
        d,
        [
          {
            name: 'writer',
            image,
            memory: 32,
            mountPoints: [
              { sourceVolume: shared, containerPath: '/shared' },
              { sourceVolume: 'scratch', containerPath: '/scratch' },
            ],
            ...sh('echo persisted > /shared/f && echo temp > /scratch/f'),
          },
        ],
        {
          volumes: [
            { name: shared, dockerVolumeConfiguration: { scope: 'shared', autoprovision: true, driver: 'local', labels: { purpose: 'agent-test' } } },
            { name: 'scratch', dockerVolumeConfiguration: { scope: 'task', driver: 'local', labels: { kind: 'task-scoped' } } },
          ],
        },
      );
      const arn = await run(d, family);
      const s = await waitTask(d, arn, isStopped);
      writerId = s.containers![0]!.runtimeId;
      assert.equal(s.containers![0]!.exitCode, 0);
      assert.equal(JSON.parse(docker('volume', 'inspect', shared))[0].Labels.purpose, 'agent-test');
      const taskVolume = `dockyard-${arn.split('/').pop()}-scratch`;
      assert.equal(JSON.parse(docker('volume', 'inspect', taskVolume))[0].Labels.kind, 'task-scoped');

      const absent = `dockyard-agent-test-absent-${process.pid}`;
      const strict = await register(d, [{ name: 'c', image, memory: 16, mountPoints: [{ sourceVolume: absent, containerPath: '/m' }] }], {
        volumes: [{ name: absent, dockerVolumeConfiguration: { scope: 'shared', autoprovision: false } }],
      });
      const failed = await waitTask(d, await run(d, strict), isStopped);
      assert.equal(failed.stopCode, 'TaskFailedToStart');
      assert.match(failed.stoppedReason!, /^ResourceInitializationError/);
    } finally {
      // The stopped container still holds the shared volume until its cleanup delay: remove it first.
      if (writerId) docker('rm', '-f', writerId);
      docker('volume', 'rm', '-f', shared);
    }
  });

  it('gives awsvpc tasks one network namespace: containers reach each other on localhost; ENI attachment reported', async () => {
    const family = await register(
      d,
      [
        { name: 'web', image, memory: 32, stopTimeout: 2, portMappings: [{ containerPort: 8080 }] },
        {
          name: 'client',
          image,
          memory: 32,
          stopTimeout: 2,
          mountPoints: [{ sourceVolume: 'out', containerPath: '/out' }],
          ...sh('for i in $(seq 100); do wget -q -O /out/awsvpc http://localhost:8080/ && break; sleep 0.1; done; exec sleep 3600'),
        },
      ],
      { networkMode: 'awsvpc', volumes: [{ name: 'out', host: { sourcePath: hostDir } }] },
    );
    const arn = await run(d, family, { networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-12345678'] } } });
    const t = await waitTask(d, arn, isRunning);
    const eni = t.attachments!.find((a) => a.type === 'ElasticNetworkInterface')!;
    assert.equal(eni.status, 'ATTACHED');
    const details = Object.fromEntries(eni.details!.map((x) => [x.name, x.value]));
    assert.equal(details.subnetId, 'subnet-12345678');
    assert.match(details.privateIPv4Address!, /^\d+\.\d+\.\d+\.\d+$/);
    assert.match(details.macAddress!, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    const web = t.containers!.find((c) => c.name === 'web')!;
    assert.equal(web.networkInterfaces![0]!.privateIpv4Address, details.privateIPv4Address);
    // Published on the pause container, bound to 127.0.0.1.
    const binding = web.networkBindings![0]!;
    assert.equal(binding.bindIP, '127.0.0.1');
    assert.equal(await httpGet(binding.hostPort!), 'hello from dockyard\n');
    const got = await readWhen(join(hostDir, 'awsvpc'), (text) => text !== '', 5000);
    assert.equal(got, 'hello from dockyard\n');
    await stop(arn);
    const s = await waitTask(d, arn, isStopped);
    assert.equal(s.attachments![0]!.status, 'DELETED');
  });

  it('maps the remaining container definition fields onto Docker (links, env, user, ulimits, hosts, labels, read-only root)', async () => {
    const family = await register(
      d,
      [
        { name: 'db', image, memory: 32, stopTimeout: 2 },
        {
          name: 'probe',
          image,
          memory: 32,
          stopTimeout: 2,
          links: ['db:database'],
          environment: [{ name: 'GREETING', value: 'hi there' }],
          workingDirectory: '/www',
          user: '1234',
          ulimits: [{ name: 'nofile', softLimit: 777, hardLimit: 888 }],
          extraHosts: [{ hostname: 'extra.example', ipAddress: '10.9.8.7' }],
          dockerLabels: { team: 'agent-tests' },
          readonlyRootFilesystem: true,
          mountPoints: [{ sourceVolume: 'out', containerPath: '/out' }],
          ...sh('{ echo "$GREETING"; pwd; id -u; ulimit -n; grep -c database /etc/hosts; grep extra.example /etc/hosts | cut -f1; touch /x 2>/dev/null || echo ro; } > /out/probe; exec sleep 3600'),
        },
      ],
      { volumes: [{ name: 'out', host: { sourcePath: hostDir } }] },
    );
    const arn = await run(d, family);
    const t = await waitTask(d, arn, isRunning);
    const got = await readWhen(join(hostDir, 'probe'), (text) => text.includes('ro\n'), 5000);
    assert.equal(got, 'hi there\n/www\n1234\n777\n1\n10.9.8.7\nro\n');
    const probe = t.containers!.find((c) => c.name === 'probe')!;
    const labels = JSON.parse(docker('inspect', probe.runtimeId!))[0].Config.Labels;
    assert.equal(labels.team, 'agent-tests');
    assert.equal(labels['com.amazonaws.ecs.task-arn'], arn);
    assert.equal(labels['com.amazonaws.ecs.container-name'], 'probe');
    assert.match(labels['com.amazonaws.ecs.cluster'], /:cluster\/default$/);
    await stop(arn);
    await waitTask(d, arn, isStopped);
  });

  it('runs FARGATE tasks on the local capacity with the task-level cpu and memory enforced', async () => {
    const family = await register(d, [{ name: 'app', image, stopTimeout: 2, portMappings: [{ containerPort: 8080 }] }], {
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: '256',
      memory: '512',
    });
    const arn = await run(d, family, { launchType: 'FARGATE', networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-1'] } } });
    const t = await waitTask(d, arn, isRunning);
    const host = JSON.parse(docker('inspect', t.containers![0]!.runtimeId!))[0].HostConfig;
    assert.equal(host.Memory, 512 * 1024 * 1024);
    assert.equal(host.NanoCpus, 0.25e9);
    assert.equal(await httpGet(t.containers![0]!.networkBindings![0]!.hostPort!), 'hello from dockyard\n');
    await stop(arn);
    await waitTask(d, arn, isStopped);
  });

  it('enforces the hard memory limit: a container allocating past it is OOM-killed and reported so', async () => {
    const family = await register(d, [{ name: 'hog', image, memory: 16, ...sh('a=x; while true; do a="$a$a"; done') }]);
    const arn = await run(d, family);
    const s = await waitTask(d, arn, isStopped);
    const c = s.containers![0]!;
    assert.equal(c.exitCode, 137);
    assert.equal(c.reason, OOM_REASON);
    assert.equal(s.stopCode, 'EssentialContainerExited');
  });

  it('stops a task whose image cannot be pulled with CannotPullContainerError', async () => {
    const family = await register(d, [{ name: 'ghost', image: '127.0.0.1:1/dockyard-test/does-not-exist:1', memory: 16 }]);
    const arn = await run(d, family);
    const s = await waitTask(d, arn, isStopped);
    assert.equal(s.stopCode, 'TaskFailedToStart');
    assert.match(s.stoppedReason!, /^CannotPullContainerError: /);
    assert.match(s.containers![0]!.reason!, /^CannotPullContainerError: /);
  });

  it('re-adopts running tasks after an agent restart instead of losing or duplicating them', async () => {
    const family = await register(d, [{ name: 'web', image, memory: 32, stopTimeout: 2, portMappings: [{ containerPort: 8080 }] }]);
    const arn = await run(d, family);
    const before = (await waitTask(d, arn, isRunning)).containers![0]!;
    const { Agent, DockerRuntime } = await import('../../src/agent/index.js');
    const old = d.app.agent!;
    await old.close();
    const agent = new Agent({
      endpoint: d.endpoint,
      cluster: 'default',
      stateDir: join(d.dataDir, 'agent'),
      // The embedded agent's credential is handed over in-process, as app.ts does.
      credential: await d.app.agentAuth.issueInternalCredential(old.containerInstanceArn!),
      runtime: new DockerRuntime({ instanceId }),
      log: { info() {}, warn() {}, error() {}, debug() {} },
      cleanupDelayMs: 60_000,
      pollWaitMs: 20_000,
    });
    try {
      await agent.start();
      assert.equal(agent.instanceId, instanceId);
      assert.equal(agent.containerInstanceArn, old.containerInstanceArn);
      // Give the new agent a full assignment round, then check nothing was recreated.
      for (let i = 0; i < 50 && !agent.supervisor.tasks.has(arn); i++) await new Promise((r) => setTimeout(r, 100));
      assert.ok(agent.supervisor.tasks.has(arn));
      const after = await describeTask(d, arn);
      assert.equal(after.lastStatus, 'RUNNING');
      assert.equal(after.containers![0]!.runtimeId, before.runtimeId);
      assert.equal(inspect(before.runtimeId!)!.State.Status, 'running');
      // One query by both labels: the new agent removes earlier tests' stopped containers meanwhile, so list-then-inspect would race.
      const ofTask = docker('ps', '-aq', '--filter', `label=dockyard.instance=${instanceId}`, '--filter', `label=com.amazonaws.ecs.task-arn=${arn}`).split('\n').filter(Boolean);
      assert.equal(ofTask.length, 1, 'one container for the task, not two');
      assert.equal(await httpGet(before.networkBindings![0]!.hostPort!), 'hello from dockyard\n');
      // The re-adopted task still obeys StopTask.
      await stop(arn);
      const s = await waitTask(d, arn, isStopped);
      assert.equal(s.containers![0]!.exitCode, 137);
    } finally {
      await agent.close();
    }
  });
});
