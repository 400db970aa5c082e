/**
 * ECS services end to end with real Docker (the embedded agent) and the real clients:
 * - a 3-task service reaches a steady state and `aws ecs wait services-stable` returns (CLI v2 and v1);
 * - a container killed behind Dockyard's back (`docker kill`) is replaced, and the event says why;
 * - an update to a new revision rolls over while a sampler sees the running count never below the minimum;
 * - a revision whose container exits at once trips the circuit breaker and rolls back;
 * - a task whose container health check turns UNHEALTHY is replaced, and the event says so;
 * - a service with running tasks is deleted (force): its containers go, it ends INACTIVE.
 */
import { CreateServiceCommand, DeleteServiceCommand, DescribeServicesCommand, DescribeTasksCommand, ListTasksCommand, RegisterTaskDefinitionCommand, UpdateServiceCommand, type Service } from '@aws-sdk/client-ecs';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { sleep } from './agent/helpers.js';
import { AWS_CLI_V2, requireCliV1 } from './helpers/aws-cli.js';
import { docker } from './helpers/docker.js';
import { startDockyard, type TestDockyard } from './helpers/dockyard.js';
import { buildHttpdImage } from './helpers/images.js';

const run = promisify(execFile);
let d: TestDockyard;
let image: string;

const steady = (s: Service) => s.deployments?.length === 1 && s.deployments[0]!.rolloutState === 'COMPLETED' && s.runningCount === s.desiredCount && s.pendingCount === 0;

async function service(name: string): Promise<Service> {
  return (await d.ecs.send(new DescribeServicesCommand({ services: [name] }))).services![0]!;
}

async function waitService(name: string, pred: (s: Service) => boolean, timeoutMs = 90_000, sample?: (s: Service) => void): Promise<Service> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await service(name);
    sample?.(s);
    if (pred(s)) return s;
    if (Date.now() > deadline) throw new Error(`timed out; last seen: ${JSON.stringify({ ...s, events: s.events?.slice(0, 8) }, null, 1)}`);
    await sleep(150);
  }
}

async function tasksOf(name: string) {
  const arns = (await d.ecs.send(new ListTasksCommand({ serviceName: name }))).taskArns ?? [];
  return arns.length ? ((await d.ecs.send(new DescribeTasksCommand({ tasks: arns }))).tasks ?? []) : [];
}

async function cli(bin: string, ...args: string[]): Promise<string> {
  const { stdout } = await run(bin, ['--endpoint-url', d.endpoint, '--output', 'json', ...args], { env: d.cliEnv, timeout: 120_000 });
  return stdout;
}

before(async () => {
  image = buildHttpdImage();
  d = await startDockyard({ embeddedAgent: { bindIp: '127.0.0.1', cleanupDelayMs: 60_000, pollWaitMs: 20_000 }, serviceControllerIdleMs: 500, agentHeartbeatIntervalMs: 500 } as never);
  const web = (env: string) => ({ name: 'web', image, memory: 32, essential: true, stopTimeout: 1, portMappings: [{ containerPort: 8080, hostPort: 0 }], environment: [{ name: 'REV', value: env }] });
  await d.ecs.send(new RegisterTaskDefinitionCommand({ family: 'svc-web', containerDefinitions: [web('1')] }));
  await d.ecs.send(new RegisterTaskDefinitionCommand({ family: 'svc-web', containerDefinitions: [web('2')] }));
  // Revision 3 exits at once: every task of it fails.
  await d.ecs.send(new RegisterTaskDefinitionCommand({ family: 'svc-web', containerDefinitions: [{ ...web('3'), entryPoint: ['/bin/sh', '-c'], command: ['exit 3'] }] }));
});

after(async () => {
  await d.stop();
});

describe('ECS services with Docker', { timeout: 400_000 }, () => {
  it('a 3-task service reaches a steady state; aws ecs wait services-stable returns (CLI v2 and v1)', async () => {
    await d.ecs.send(
      new CreateServiceCommand({
        serviceName: 'web',
        taskDefinition: 'svc-web:1',
        desiredCount: 3,
        deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } },
      }),
    );
    // v2 waits for real (it polls every 15 s until stable); v1 then confirms it from its side.
    await cli(AWS_CLI_V2, 'ecs', 'wait', 'services-stable', '--services', 'web');
    await cli(requireCliV1(), 'ecs', 'wait', 'services-stable', '--services', 'web');
    const s = await service('web');
    assert.ok(steady(s), JSON.stringify(s.deployments));
    const tasks = await tasksOf('web');
    assert.equal(tasks.filter((t) => t.lastStatus === 'RUNNING').length, 3);
    for (const t of tasks) {
      const port = t.containers![0]!.networkBindings![0]!.hostPort!;
      assert.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), 'hello from dockyard\n');
    }
  });

  it('a container killed behind its back is replaced, and the event says why', async () => {
    const [victim] = await tasksOf('web');
    docker('kill', victim!.containers![0]!.runtimeId!);
    const id = victim!.taskArn!.split('/').at(-1);
    const s = await waitService('web', (x) => steady(x) && x.events!.some((e) => e.message!.includes(`(task ${id}) stopped unexpectedly`)));
    const message = s.events!.find((e) => e.message!.includes(`(task ${id})`))!.message!;
    assert.equal(message, `(service web) (task ${id}) stopped unexpectedly: Essential container in task exited.`);
    const tasks = await tasksOf('web');
    assert.equal(tasks.length, 3);
    assert.ok(!tasks.some((t) => t.taskArn === victim!.taskArn));
  });

  it('rolls to a new revision with the running count never below the minimum', async () => {
    await d.ecs.send(new UpdateServiceCommand({ service: 'web', taskDefinition: 'svc-web:2', deploymentConfiguration: { minimumHealthyPercent: 100, maximumPercent: 200 } }));
    let lowest = Infinity;
    let samples = 0;
    const s = await waitService(
      'web',
      (x) => steady(x) && x.taskDefinition!.endsWith(':2'),
      120_000,
      (x) => {
        samples += 1;
        lowest = Math.min(lowest, x.runningCount!);
      },
    );
    assert.ok(samples > 1, 'the sampler saw the rollout');
    assert.ok(lowest >= 3, `running count fell to ${lowest}`);
    const tasks = await tasksOf('web');
    assert.equal(tasks.length, 3);
    assert.ok(tasks.every((t) => t.taskDefinitionArn!.endsWith(':2')));
    assert.ok(s.events!.some((e) => /^\(service web\) has stopped 3 running tasks:/.test(e.message!) || /^\(service web\) has stopped \d running tasks:/.test(e.message!)));
  });

  it('a revision whose container exits at once trips the circuit breaker and rolls back', async () => {
    const completed = (await service('web')).deployments![0]!.id!;
    await d.ecs.send(new UpdateServiceCommand({ service: 'web', taskDefinition: 'svc-web:3' }));
    const s = await waitService('web', (x) => steady(x) && x.events!.some((e) => e.message!.endsWith('deployment failed: tasks failed to start.')), 120_000);
    assert.ok(s.taskDefinition!.endsWith(':2'), `rolled back to ${s.taskDefinition}`);
    assert.equal(s.deployments![0]!.rolloutStateReason, `ECS deployment circuit breaker: rolling back to deploymentId ${completed}.`);
    assert.ok((await tasksOf('web')).every((t) => t.taskDefinitionArn!.endsWith(':2')));
  });

  it('a task whose container health check turns UNHEALTHY is replaced', async () => {
    await d.ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'svc-sick',
        containerDefinitions: [{ name: 'web', image, memory: 16, essential: true, stopTimeout: 1, healthCheck: { command: ['CMD-SHELL', 'exit 1'], interval: 5, retries: 1, timeout: 2, startPeriod: 0 } }],
      }),
    );
    await d.ecs.send(new CreateServiceCommand({ serviceName: 'sick', taskDefinition: 'svc-sick', desiredCount: 1, healthCheckGracePeriodSeconds: 0 }));
    const s = await waitService('sick', (x) => x.events!.some((e) => /failed container health checks\.$/.test(e.message!)), 90_000);
    const event = s.events!.find((e) => /failed container health checks/.test(e.message!))!.message!;
    const sickId = /\(task ([0-9a-f]{32})\)/.exec(event)![1]!;
    assert.equal(event, `(service sick) (task ${sickId}) failed container health checks.`);
    // Stopped with ECS's reason, and a replacement started.
    const replaced = await waitService('sick', (x) => x.events!.some((e) => /has started 1 tasks/.test(e.message!) && e.createdAt! >= s.events!.find((y) => y.message === event)!.createdAt!), 60_000);
    assert.ok(replaced);
    const stopped = (await d.ecs.send(new DescribeTasksCommand({ tasks: [sickId] }))).tasks![0]!;
    assert.equal(stopped.stoppedReason, 'Task failed container health checks');
    assert.equal(stopped.stopCode, 'ServiceSchedulerInitiated');
    await d.ecs.send(new DeleteServiceCommand({ service: 'sick', force: true }));
    await waitService('sick', (x) => x.status === 'INACTIVE');
  });

  it('delete with running tasks: force drains the service to INACTIVE and its containers go', async () => {
    const ids = (await tasksOf('web')).map((t) => t.containers![0]!.runtimeId!);
    assert.equal(ids.length, 3);
    await d.ecs.send(new DeleteServiceCommand({ service: 'web', force: true }));
    await waitService('web', (x) => x.status === 'INACTIVE');
    for (const id of ids) {
      const state = docker('inspect', '--format', '{{.State.Running}}', id).trim();
      assert.equal(state, 'false');
    }
  });
});
