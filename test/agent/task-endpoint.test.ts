/**
 * The task metadata endpoint v4 and the task credentials endpoint, read from inside real task
 * containers (busybox wget) of a Dockyard with its embedded agent. The agent serves them on
 * 169.254.170.2 (added to `lo` when missing); bridge and awsvpc containers reach it through
 * their gateway. Results are written to a host directory the containers bind-mount.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { StopTaskCommand } from '@aws-sdk/client-ecs';
import type { TestDockyard } from '../helpers/dockyard.js';
import { buildHttpdImage } from '../helpers/images.js';
import { docker } from '../helpers/docker.js';
import { CreateRepositoryCommand, ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { AttachRolePolicyCommand, CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { credentials } from '../helpers/dockyard.js';
import { describe as describeTask, isRunning, isStopped, readWhen, register, run, sh, startWithAgent, TRUST_ECS_TASKS, waitTask } from './helpers.js';

describe('task metadata endpoint v4 (real containers)', () => {
  let d: TestDockyard;
  let image: string;
  const out = mkdtempSync(join(tmpdir(), 'dockyard-tmds-'));
  chmodSync(out, 0o777);

  before(async () => {
    image = buildHttpdImage();
    // Explicit: the containers write their findings to `out`, a host directory.
    d = await startWithAgent({ agent: { taskEndpoint: {}, hostSafety: { allowHostPaths: [out] } } });
    assert.ok(d.app.agent?.taskEndpoint?.url.startsWith('http://169.254.170.2:'), 'the embedded agent serves the task endpoints');
  });

  after(async () => {
    await d?.stop();
    rmSync(out, { recursive: true, force: true });
  });

  const stop = (arn: string) => d.ecs.send(new StopTaskCommand({ cluster: 'default', task: arn, reason: 'test done' }));

  it('a bridge task container reads its own container, task and stats documents in ECS shapes', async () => {
    // wget's -T crashes Debian's static busybox: time-bound the loop by count instead.
    const fetchAll = [
      // The container may ask before the agent has seen its start: ask until it reads RUNNING.
      // The task's own KnownStatus follows its containers' a moment later (as on ECS): wait for both.
      // The task's pair is the one followed by "Containers"; a container's pair alone would match too early.
      'for i in $(seq 200); do wget -q -O /out/c.json "$ECS_CONTAINER_METADATA_URI_V4" && grep -q \'"KnownStatus":"RUNNING"\' /out/c.json && wget -q -O /out/t.json "$ECS_CONTAINER_METADATA_URI_V4/task" && grep -q \'"DesiredStatus":"RUNNING","KnownStatus":"RUNNING","Containers"\' /out/t.json && break; sleep 0.1; done',
      'wget -q -O /out/s.json "$ECS_CONTAINER_METADATA_URI_V4/stats"',
      'wget -q -O /out/ts.json "$ECS_CONTAINER_METADATA_URI_V4/task/stats"',
      'echo "$ECS_CONTAINER_METADATA_URI_V4" > /out/uri',
      'echo done > /out/done',
      'exec sleep 3600',
    ].join('; ');
    const family = await register(
      d,
      [
        { name: 'web', image, memory: 32, cpu: 64, stopTimeout: 2, portMappings: [{ containerPort: 8080 }], dockerLabels: { team: 'tmds' } },
        { name: 'reader', image, memory: 48, stopTimeout: 2, mountPoints: [{ sourceVolume: 'out', containerPath: '/out' }], ...sh(fetchAll) },
      ],
      { volumes: [{ name: 'out', host: { sourcePath: out } }], cpu: '512', memory: '256' },
    );
    const arn = await run(d, family);
    const t = await waitTask(d, arn, isRunning);
    await readWhen(join(out, 'done'), (s) => s === 'done\n');
    const read = (f: string) => JSON.parse(readFileSync(join(out, f), 'utf8'));
    const byName = Object.fromEntries(t.containers!.map((c) => [c.name!, c]));

    const c = read('c.json');
    assert.equal(c.DockerId, byName.reader!.runtimeId);
    assert.equal(c.Name, 'reader');
    assert.equal(c.DockerName, `dockyard-${arn.split('/').pop()}-reader`);
    assert.equal(c.Image, image);
    assert.equal(c.ImageID, byName.reader!.imageDigest);
    assert.equal(c.DesiredStatus, 'RUNNING');
    assert.equal(c.KnownStatus, 'RUNNING');
    assert.deepEqual(c.Limits, { CPU: 2, Memory: 48 });
    assert.equal(c.Type, 'NORMAL');
    assert.equal(c.ContainerARN, byName.reader!.containerArn);
    assert.equal(c.Labels['com.amazonaws.ecs.task-arn'], arn);
    assert.equal(c.Labels['com.amazonaws.ecs.container-name'], 'reader');
    assert.ok(!Number.isNaN(Date.parse(c.CreatedAt)) && !Number.isNaN(Date.parse(c.StartedAt)));
    assert.equal(c.Networks[0].NetworkMode, 'bridge');
    assert.match(c.Networks[0].IPv4Addresses[0], /^\d+\.\d+\.\d+\.\d+$/);
    assert.equal(c.ExitCode, undefined);

    const task = read('t.json');
    assert.equal(task.TaskARN, arn);
    assert.equal(task.Cluster, t.clusterArn);
    assert.equal(task.Family, family);
    assert.equal(task.Revision, '1');
    assert.equal(task.KnownStatus, 'RUNNING');
    assert.deepEqual(task.Limits, { CPU: 0.5, Memory: 256 });
    assert.ok(Date.parse(task.PullStartedAt) <= Date.parse(task.PullStoppedAt));
    assert.equal(task.AvailabilityZone, 'local-1a');
    assert.equal(task.LaunchType, 'EC2');
    assert.equal(task.FaultInjectionEnabled, false);
    assert.match(task.ClockDrift.ClockSynchronizationStatus, /^(NOT_)?SYNCHRONIZED$/);
    assert.deepEqual(task.Containers.map((x: { Name: string }) => x.Name).sort(), ['reader', 'web']);
    const web = task.Containers.find((x: { Name: string }) => x.Name === 'web');
    assert.equal(web.DockerId, byName.web!.runtimeId);
    assert.deepEqual(web.Limits, { CPU: 64, Memory: 32 });
    assert.equal(web.Labels.team, 'tmds');
    assert.deepEqual(web.Ports, [{ ContainerPort: 8080, Protocol: 'tcp', HostPort: byName.web!.networkBindings![0]!.hostPort, HostIp: '127.0.0.1' }]);

    // Docker's stats JSON as ECS passes it through.
    const s = read('s.json');
    assert.equal(s.id, byName.reader!.runtimeId);
    assert.ok(s.memory_stats.limit > 0 && s.memory_stats.limit <= 48 * 1024 * 1024);
    assert.ok(s.cpu_stats.cpu_usage.total_usage > 0);
    assert.ok(s.networks.eth0.rx_bytes >= 0);
    const ts = read('ts.json');
    assert.deepEqual(Object.keys(ts).sort(), [byName.reader!.runtimeId, byName.web!.runtimeId].sort());
    assert.equal(ts[byName.web!.runtimeId!].id, byName.web!.runtimeId);

    // The URI is the agent's: 169.254.170.2, its port, a per-container id.
    assert.match(readFileSync(join(out, 'uri'), 'utf8'), new RegExp(`^${d.app.agent!.taskEndpoint!.url}/v4/[0-9a-f-]{36}\\n$`));

    // From the host (not the task's address), the same URL answers as for an unknown id.
    const fromHost = await fetch(readFileSync(join(out, 'uri'), 'utf8').trim());
    assert.equal(fromHost.status, 404);
    assert.match(await fromHost.json(), /^V4 container metadata handler: unable to get container ID from request/);
    await stop(arn);
    await waitTask(d, arn, isStopped);
  });

  it("a task's container reads its own role credentials, but not another task's: neither with its own token nor with the other's", async () => {
    const iam = new IAMClient({ endpoint: d.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
    const createRole = async (name: string) => (await iam.send(new CreateRoleCommand({ RoleName: `${name}-${process.pid}`, AssumeRolePolicyDocument: TRUST_ECS_TASKS }))).Role!.Arn!;
    const ROLE_A = await createRole('tmds-task-a');
    const ROLE_B = await createRole('tmds-task-b');
    iam.destroy();
    const env = (runtimeId: string) =>
      Object.fromEntries((JSON.parse(docker('inspect', runtimeId))[0].Config.Env as string[]).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
    // Task A just runs; its URI and token are handed to task B by the test.
    const a = await register(d, [{ name: 'a', image, memory: 16, stopTimeout: 2 }], { taskRoleArn: ROLE_A });
    const aArn = await run(d, a);
    const aEnv = env((await waitTask(d, aArn, isRunning)).containers![0]!.runtimeId!);
    assert.match(aEnv.AWS_CONTAINER_CREDENTIALS_FULL_URI!, /^http:\/\/169\.254\.170\.2:\d+\/v2\/credentials\/[0-9a-f-]{36}$/);
    assert.ok(aEnv.AWS_CONTAINER_AUTHORIZATION_TOKEN!.length >= 40);

    const file = `creds-${process.pid}`;
    const attempt = (name: string, url: string, token: string) =>
      `wget -q -O /out/${file}.${name} --header "Authorization: ${token}" "${url}" 2>/out/${file}.${name}.err; echo $? > /out/${file}.${name}.rc`;
    const script = [
      `for i in $(seq 50); do ${attempt('own', '$AWS_CONTAINER_CREDENTIALS_FULL_URI', '$AWS_CONTAINER_AUTHORIZATION_TOKEN')}; grep -q 0 /out/${file}.own.rc && break; sleep 0.2; done`,
      attempt('other-with-own-token', '$OTHER_URI', '$AWS_CONTAINER_AUTHORIZATION_TOKEN'),
      attempt('other-with-stolen-token', '$OTHER_URI', '$OTHER_TOKEN'),
      `echo done > /out/${file}.done`,
      'exec sleep 3600',
    ].join('; ');
    const b = await register(
      d,
      [
        {
          name: 'b',
          image,
          memory: 16,
          stopTimeout: 2,
          environment: [
            { name: 'OTHER_URI', value: aEnv.AWS_CONTAINER_CREDENTIALS_FULL_URI },
            { name: 'OTHER_TOKEN', value: aEnv.AWS_CONTAINER_AUTHORIZATION_TOKEN },
          ],
          mountPoints: [{ sourceVolume: 'out', containerPath: '/out' }],
          ...sh(script),
        },
      ],
      { taskRoleArn: ROLE_B, volumes: [{ name: 'out', host: { sourcePath: out } }] },
    );
    const bArn = await run(d, b);
    await waitTask(d, bArn, isRunning);
    await readWhen(join(out, `${file}.done`), (s) => s === 'done\n', 30_000);
    // busybox wget removes its output file when the server answers an error.
    const read = (name: string) => {
      try {
        return readFileSync(join(out, `${file}.${name}`), 'utf8');
      } catch {
        return '';
      }
    };

    const own = JSON.parse(read('own'));
    assert.deepEqual(Object.keys(own).sort(), ['AccessKeyId', 'Expiration', 'RoleArn', 'SecretAccessKey', 'Token']);
    assert.equal(own.RoleArn, ROLE_B);
    assert.ok(Date.parse(own.Expiration) > Date.now());
    for (const name of ['other-with-own-token', 'other-with-stolen-token']) {
      assert.notEqual(read(`${name}.rc`).trim(), '0', `${name}: refused`);
      assert.match(read(`${name}.err`), /403 Forbidden/, name);
      assert.equal(read(name), '', `${name}: nothing leaked`);
    }
    // The credentials never show in the ECS API.
    const described = JSON.stringify(await describeTask(d, bArn));
    assert.equal(described.includes(own.SecretAccessKey) || described.includes(own.Token), false);
    await stop(aArn);
    await stop(bArn);
    await waitTask(d, bArn, isStopped);
  });

  it("pulls a task's image from Dockyard's ECR as its execution role; a role that does not trust ecs-tasks, or may not pull, cannot", async () => {
    const iam = new IAMClient({ endpoint: d.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
    const ecr = new ECRClient({ endpoint: d.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
    const dockerConfig = mkdtempSync(join(tmpdir(), 'dockyard-tmds-docker-'));
    const ref = `127.0.0.1:${d.port}/tmds/app:${process.pid}`;
    try {
      const role = async (name: string, service: string) => {
        const trust = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' }] };
        return (await iam.send(new CreateRoleCommand({ RoleName: `${name}-${process.pid}`, AssumeRolePolicyDocument: JSON.stringify(trust) }))).Role!.Arn!;
      };
      const execRole = await role('tmds-exec', 'ecs-tasks.amazonaws.com');
      // What ECS users attach to an execution role: once pulls are policy-checked, it is what lets this one pull.
      await iam.send(new AttachRolePolicyCommand({ RoleName: execRole.split('/').pop(), PolicyArn: 'arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy' }));
      const ec2Role = await role('tmds-ec2-only', 'ec2.amazonaws.com');
      const powerlessRole = await role('tmds-exec-no-policy', 'ecs-tasks.amazonaws.com');
      await ecr.send(new CreateRepositoryCommand({ repositoryName: 'tmds/app' }));
      const token = (await ecr.send(new GetAuthorizationTokenCommand({}))).authorizationData![0]!.authorizationToken!;
      const password = Buffer.from(token, 'base64').toString('utf8').split(':')[1]!;
      // Asynchronously: the registry answering docker runs in this process.
      const dockerAs = (...args: string[]) =>
        new Promise<void>((resolve, reject) => {
          const child = execFile('docker', ['--config', dockerConfig, ...args], { timeout: 120_000 }, (e, _out, err) => (e ? reject(new Error(`docker ${args[0]}: ${err}`)) : resolve()));
          child.stdin!.end(password);
        });
      await dockerAs('login', '--username', 'AWS', '--password-stdin', `127.0.0.1:${d.port}`);
      docker('tag', image, ref);
      await dockerAs('push', ref);
      // Drop the local name: the agent must pull from the registry with the credential it is given.
      docker('rmi', ref);

      // Neither a role STS will not issue for ECS tasks, nor one whose policies do not allow pulling.
      for (const executionRoleArn of [ec2Role, powerlessRole]) {
        const refused = await register(d, [{ name: 'app', image: ref, memory: 16 }], { executionRoleArn });
        const failed = await waitTask(d, await run(d, refused), isStopped);
        assert.equal(failed.stopCode, 'TaskFailedToStart', executionRoleArn);
        assert.match(failed.stoppedReason!, /^CannotPullContainerError: /, executionRoleArn);
      }

      const allowed = await register(d, [{ name: 'app', image: ref, memory: 16, stopTimeout: 2 }], { executionRoleArn: execRole });
      const arn = await run(d, allowed);
      const t = await waitTask(d, arn, isRunning, 90_000);
      assert.match(t.containers![0]!.imageDigest!, /^sha256:[0-9a-f]{64}$/);
      await stop(arn);
      await waitTask(d, arn, isStopped);
    } finally {
      iam.destroy();
      ecr.destroy();
      try {
        docker('rmi', ref);
      } catch {
        // not pulled
      }
      rmSync(dockerConfig, { recursive: true, force: true });
    }
  });

  it('an awsvpc task reads its metadata through its own network namespace, with the ENI properties', async () => {
    const file = `awsvpc-${process.pid}.json`;
    const family = await register(
      d,
      [
        {
          name: 'app',
          image,
          memory: 32,
          stopTimeout: 2,
          mountPoints: [{ sourceVolume: 'out', containerPath: '/out' }],
          ...sh(`for i in $(seq 50); do wget -q -O /out/${file}.tmp "$ECS_CONTAINER_METADATA_URI_V4/task" && mv /out/${file}.tmp /out/${file} && break; sleep 0.1; done; exec sleep 3600`),
        },
      ],
      { networkMode: 'awsvpc', volumes: [{ name: 'out', host: { sourcePath: out } }] },
    );
    const arn = await run(d, family, { networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-1'] } } });
    const t = await waitTask(d, arn, isRunning);
    const task = JSON.parse(await readWhen(join(out, file), (s) => s.length > 0));
    const ip = t.attachments![0]!.details!.find((x) => x.name === 'privateIPv4Address')!.value;
    const net = task.Containers[0].Networks[0];
    assert.equal(net.NetworkMode, 'awsvpc');
    assert.deepEqual(net.IPv4Addresses, [ip]);
    assert.equal(net.AttachmentIndex, 0);
    assert.match(net.MACAddress, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    assert.equal(net.PrivateDNSName, `ip-${ip!.replaceAll('.', '-')}.ec2.internal`);
    await stop(arn);
    await waitTask(d, arn, isStopped);
  });
});
