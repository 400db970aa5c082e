/**
 * An ECS service behind Dockyard's load balancer, end to end with real Docker and the AWS CLI v2:
 * load balancer, target group health-checking `/`, listener, a 2-task busybox httpd service
 * attached with loadBalancers. Requests through the listener (127.0.0.1) reach both tasks; a
 * killed task stops getting traffic and is replaced; a rolling update to a new revision under a
 * steady, bounded request loop fails no request (new tasks count only once the load balancer
 * says they are healthy; old ones are deregistered and drained before they stop: the 2-second
 * CGI requests in flight on them finish; stopping without the drain fails some of them); a
 * revision the load balancer finds unhealthy is replaced with ECS's event while the healthy one
 * keeps serving. Bad loadBalancers are refused with ECS's words.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { AWS_CLI_V2, requireCliV1 } from './helpers/aws-cli.js';
import { docker } from './helpers/docker.js';
import { startDockyard, type TestDockyard } from './helpers/dockyard.js';
import { buildHttpdImage } from './helpers/images.js';
import { eventually, hit } from './helpers/lb.js';
import { freePort } from './helpers/net.js';

const run = promisify(execFile);
let d: TestDockyard;
let listenerPort: number;
let tgArn: string;

async function aws(...args: string[]) {
  return awsWith(AWS_CLI_V2, ...args);
}

async function awsWith(bin: string, ...args: string[]) {
  const { stdout } = await run(bin, [...args, '--endpoint-url', d.endpoint, '--output', 'json'], { env: d.cliEnv, timeout: 60_000 });
  return stdout.trim() ? JSON.parse(stdout) : {};
}

async function awsError(...args: string[]): Promise<string> {
  return awsErrorWith(AWS_CLI_V2, ...args);
}

async function awsErrorWith(bin: string, ...args: string[]): Promise<string> {
  try {
    await awsWith(bin, ...args);
  } catch (e) {
    return String((e as { stderr?: string }).stderr ?? e);
  }
  throw new Error(`expected ${args.join(' ')} to fail`);
}

const service = async () => (await aws('ecs', 'describe-services', '--services', 'web')).services[0];
const healthy = async () =>
  (await aws('elbv2', 'describe-target-health', '--target-group-arn', tgArn)).TargetHealthDescriptions.filter((h: { TargetHealth: { State: string } }) => h.TargetHealth.State === 'healthy').map(
    (h: { Target: { Id: string; Port: number } }) => `${h.Target.Id}:${h.Target.Port}`,
  );
const steadyOn = (rev: string) => async () => {
  const s = await service();
  const done = s.deployments.length === 1 && s.deployments[0].rolloutState === 'COMPLETED' && s.runningCount === 2 && s.taskDefinition.endsWith(`:${rev}`);
  return done && (await healthy()).length === 2 ? s : undefined;
};
/** What answers `/` through the listener: the task's hostname and revision. */
async function pages(n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const a = await hit(listenerPort, '/', { timeoutMs: 10_000 });
    assert.equal(a.status, 200, a.body);
    out.push(a.body.trim());
  }
  return out;
}

before(async () => {
  const image = buildHttpdImage();
  d = await startDockyard({ embeddedAgent: { bindIp: '127.0.0.1', cleanupDelayMs: 60_000, pollWaitMs: 20_000 }, serviceControllerIdleMs: 500, agentHeartbeatIntervalMs: 500, loadBalancing: { bindHost: '127.0.0.1' } } as never);
  for (const rev of ['1', '2', '3']) {
    const web = {
      name: 'web',
      image,
      memory: 32,
      essential: true,
      stopTimeout: 1,
      portMappings: [{ containerPort: 8080, hostPort: 0 }],
      environment: [{ name: 'REV', value: rev }],
      // Each task names itself: its hostname (container id) and revision.
      entryPoint: ['/bin/sh', '-c'],
      // Revision 3 serves nothing at `/` (404): its targets never pass the health check.
      // /cgi-bin/slow answers after 2 s: a request in flight while its task is replaced.
      command: [
        rev === '3'
          ? 'rm -f /www/index.html && exec httpd -f -p 8080 -h /www'
          : `echo "$(hostname) rev $REV" > /www/index.html && mkdir -p /www/cgi-bin && printf '%s\\n' '#!/bin/sh' 'sleep 2' 'printf "Content-Type: text/plain\\r\\n\\r\\n"' "echo $(hostname) rev $REV" > /www/cgi-bin/slow && chmod +x /www/cgi-bin/slow && exec httpd -f -p 8080 -h /www`,
      ],
    };
    await aws('ecs', 'register-task-definition', '--family', 'lb-web', '--container-definitions', JSON.stringify([web]));
  }
  const lb = (await aws('elbv2', 'create-load-balancer', '--name', 'web', '--subnets', 'subnet-1')).LoadBalancers[0];
  const tg = (
    await aws('elbv2', 'create-target-group', '--name', 'web', '--protocol', 'HTTP', '--port', '8080', '--vpc-id', 'vpc-1', '--health-check-path', '/', '--health-check-interval-seconds', '5', '--health-check-timeout-seconds', '2', '--healthy-threshold-count', '2', '--unhealthy-threshold-count', '2')
  ).TargetGroups[0];
  tgArn = tg.TargetGroupArn;
  await aws('elbv2', 'modify-target-group-attributes', '--target-group-arn', tgArn, '--attributes', 'Key=deregistration_delay.timeout_seconds,Value=5');
  listenerPort = await freePort();
  await aws('elbv2', 'create-listener', '--load-balancer-arn', lb.LoadBalancerArn, '--protocol', 'HTTP', '--port', String(listenerPort), '--default-actions', `Type=forward,TargetGroupArn=${tgArn}`);
});

after(async () => {
  await d.stop();
});

describe('an ECS service behind the load balancer', { timeout: 300_000 }, () => {
  it('refuses loadBalancers ECS refuses, in its words', async () => {
    const create = (lb: string) => awsError('ecs', 'create-service', '--service-name', 'bad', '--task-definition', 'lb-web:1', '--desired-count', '1', '--load-balancers', lb);
    assert.match(await create(`targetGroupArn=${tgArn},containerName=nope,containerPort=8080`), /InvalidParameterException.*The container nope does not exist in the task definition\./);
    assert.match(await create(`targetGroupArn=${tgArn},containerName=web,containerPort=9090`), /InvalidParameterException.*The container web did not have a container port 9090 defined\./);
    const orphan = (await aws('elbv2', 'create-target-group', '--name', 'orphan', '--protocol', 'HTTP', '--port', '8080', '--vpc-id', 'vpc-1')).TargetGroups[0].TargetGroupArn;
    assert.match(await create(`targetGroupArn=${orphan},containerName=web,containerPort=8080`), /does not have an associated load balancer\./);
    // CLI v1 gets the same answer.
    const v1 = await awsErrorWith(requireCliV1(), 'ecs', 'create-service', '--service-name', 'bad', '--task-definition', 'lb-web:1', '--desired-count', '1', '--load-balancers', `targetGroupArn=${tgArn},containerName=nope,containerPort=8080`);
    assert.match(v1, /InvalidParameterException.*The container nope does not exist in the task definition\./);
    assert.equal((await aws('ecs', 'list-services')).serviceArns.length, 0, 'no half-created service');
  });

  it('requests reach both tasks; a killed task stops getting traffic and is replaced', async () => {
    await aws('ecs', 'create-service', '--service-name', 'web', '--task-definition', 'lb-web:1', '--desired-count', '2', '--health-check-grace-period-seconds', '0', '--load-balancers', `targetGroupArn=${tgArn},containerName=web,containerPort=8080`);
    const s = await eventually(steadyOn('1'), 'the service steady with 2 healthy targets', 90_000);
    assert.equal(s.loadBalancers[0].targetGroupArn, tgArn);
    const seen = new Set(await pages(30));
    assert.equal(seen.size, 2, [...seen].join(', '));
    // The targets are the container instance (its EC2 id) and each task's host port, as ECS registers them.
    const tasks = (await aws('ecs', 'describe-tasks', '--tasks', ...(await aws('ecs', 'list-tasks', '--service-name', 'web')).taskArns)).tasks;
    const ports = tasks.map((t: { containers: { networkBindings: { hostPort: number }[] }[] }) => t.containers[0]!.networkBindings[0]!.hostPort).sort();
    assert.deepEqual((await healthy()).map((k: string) => Number(k.split(':')[1])).sort(), ports);

    const victim = tasks[0];
    docker('kill', victim.containers[0].runtimeId);
    const victimHost = victim.containers[0].runtimeId.slice(0, 12);
    await eventually(async () => {
      const s = await service();
      const fresh = (await aws('ecs', 'list-tasks', '--service-name', 'web')).taskArns as string[];
      return s.runningCount === 2 && !fresh.includes(victim.taskArn) && (await healthy()).length === 2 ? true : undefined;
    }, 'a replacement task, healthy behind the load balancer', 90_000);
    const after = new Set(await pages(30));
    assert.equal(after.size, 2, [...after].join(', '));
    assert.ok(![...after].some((p) => p.startsWith(victimHost)), 'the killed task gets no traffic');
  });

  it('a rolling update under a steady request loop fails no request', async () => {
    const results = { ok: 0, slow: 0, failed: [] as string[], revs: new Set<string>() };
    let stop = false;
    // Four clients, each one request at a time: bounded in count (20 000 in all) and time (150 s).
    let budget = 20_000;
    const deadline = Date.now() + 150_000;
    const t0 = Date.now();
    const client = async (path: string) => {
      while (!stop && budget-- > 0 && Date.now() < deadline) {
        try {
          const a = await hit(listenerPort, path, { timeoutMs: 10_000 });
          if (a.status === 200) {
            results.ok += 1;
            if (path !== '/') results.slow += 1;
            results.revs.add(a.body.trim().split(' rev ')[1]!);
          } else results.failed.push(`${path} ${a.status} at ${Date.now() - t0} ms`);
        } catch (e) {
          results.failed.push(`${path} ${String(e)} at ${Date.now() - t0} ms`);
        }
      }
    };
    // ... and two that keep slow requests in flight: a task stopped before its drain ends would break them.
    const loop = Promise.all([client('/'), client('/'), client('/'), client('/'), client('/cgi-bin/slow'), client('/cgi-bin/slow')]);
    try {
      await aws('ecs', 'update-service', '--service', 'web', '--task-definition', 'lb-web:2');
      await eventually(steadyOn('2'), 'the service steady on revision 2', 150_000);
      // A few more requests once only revision 2 is left.
      const before = results.ok;
      await eventually(async () => (results.ok > before + 20 ? true : undefined), 'requests after the rollout', 30_000);
    } finally {
      stop = true;
      await loop;
    }
    assert.deepEqual(results.failed, [], `${results.failed.length} failed of ${results.ok + results.failed.length}`);
    assert.ok(results.revs.has('1') && results.revs.has('2'), [...results.revs].join(','));
    assert.ok(results.slow >= 4, `slow requests answered: ${results.slow}`);
    assert.deepEqual(new Set((await pages(20)).map((p) => p.split(' rev ')[1])), new Set(['2']));
    const events = (await service()).events.map((e: { message: string }) => e.message).join('\n');
    assert.match(events, /has reached a steady state/);
  });

  it('a revision the load balancer finds unhealthy is replaced with ECS\'s event and never takes traffic from the healthy one', async () => {
    await aws('ecs', 'update-service', '--service', 'web', '--task-definition', 'lb-web:3');
    const event = await eventually(async () => {
      const events = (await service()).events.map((e: { message: string }) => e.message) as string[];
      return events.find((m) => m.includes('is unhealthy in'));
    }, 'the unhealthy event', 90_000);
    assert.match(event, new RegExp(`^\\(service web\\) \\(instance i-[0-9a-f]+\\) \\(port \\d+\\) is unhealthy in \\(target-group ${tgArn.replace(/[/.]/g, '\\$&')}\\) due to \\(reason Health checks failed\\)\\.$`));
    // Newest first: the stop of the unhealthy tasks is recorded right after (above) the unhealthy events.
    const events = (await service()).events.map((e: { message: string }) => e.message) as string[];
    const first = events.findIndex((m) => m.includes('is unhealthy in'));
    assert.match(events[first - 1] ?? '', /^\(service web\) has stopped \d+ running tasks: (\(task [0-9a-f]+\) ?)+\.$/);
    // Revision 2 keeps serving: its tasks were never stopped for the unhealthy ones.
    assert.deepEqual(new Set((await pages(20)).map((p) => p.split(' rev ')[1])), new Set(['2']));
    const s = await service();
    assert.equal(s.deployments.find((x: { taskDefinition: string }) => x.taskDefinition.endsWith(':2')).runningCount, 2);
  });
});
