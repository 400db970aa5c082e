import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  circuitBreakerThreshold,
  decideService,
  deploymentBounds,
  ELB_UNHEALTHY_STOP_REASON,
  UNHEALTHY_STOP_REASON,
  type InstanceInput,
  type ServiceInput,
  type ServiceTaskInput,
} from './service-decisions.js';

const svc = (o: Partial<ServiceInput> = {}): ServiceInput => ({
  name: 'web',
  status: 'ACTIVE',
  schedulingStrategy: 'REPLICA',
  desiredCount: 3,
  minimumHealthyPercent: 100,
  maximumPercent: 200,
  circuitBreaker: { enable: false, rollback: false },
  healthCheckGracePeriodSeconds: 0,
  deployments: [{ id: 'ecs-svc/2', rolloutState: 'IN_PROGRESS', healthChecked: false, failedTasks: 0 }],
  steady: false,
  ...o,
});
const instances = (n: number, status = 'ACTIVE'): InstanceInput[] => Array.from({ length: n }, (_, i) => ({ arn: `ci/${i}`, status }));
let seq = 0;
const task = (o: Partial<ServiceTaskInput> = {}): ServiceTaskInput => ({
  arn: `task/c/${String(++seq).padStart(4, '0')}`,
  deploymentId: 'ecs-svc/2',
  instanceArn: 'ci/0',
  lastStatus: 'RUNNING',
  desiredStatus: 'RUNNING',
  healthStatus: 'UNKNOWN',
  startedAt: 0,
  seen: false,
  ...o,
});
const twoDeployments = (primaryState: 'IN_PROGRESS' | 'COMPLETED' = 'IN_PROGRESS') => [
  { id: 'ecs-svc/2', rolloutState: primaryState, healthChecked: false, failedTasks: 0 },
  { id: 'ecs-svc/1', rolloutState: 'COMPLETED' as const, healthChecked: false, failedTasks: 0 },
];

describe('deployment bounds', () => {
  it('rounds the minimum up and the maximum down, as ECS does', () => {
    assert.deepEqual(deploymentBounds(3, 50, 150), { minHealthy: 2, maxTotal: 4 });
    assert.deepEqual(deploymentBounds(3, 33, 133), { minHealthy: 1, maxTotal: 3 });
    assert.deepEqual(deploymentBounds(4, 100, 200), { minHealthy: 4, maxTotal: 8 });
    assert.deepEqual(deploymentBounds(1, 0, 100), { minHealthy: 0, maxTotal: 1 });
    assert.deepEqual(deploymentBounds(7, 75, 125), { minHealthy: 6, maxTotal: 8 });
  });
  it('circuit breaker threshold: 0.5 × desired, between 3 and 200', () => {
    assert.equal(circuitBreakerThreshold(1), 3);
    assert.equal(circuitBreakerThreshold(6), 3);
    assert.equal(circuitBreakerThreshold(7), 4);
    assert.equal(circuitBreakerThreshold(25), 13);
    assert.equal(circuitBreakerThreshold(1000), 200);
  });
});

describe('decideService (REPLICA)', () => {
  it('starts desiredCount tasks for a new service and reports nothing steady yet', () => {
    const d = decideService(svc(), [], instances(2), 0);
    assert.equal(d.startCount, 3);
    assert.equal(d.startDeployment, 'ecs-svc/2');
    assert.deepEqual(d.stops, []);
    assert.equal(d.steady, false);
  });

  it('reaches a steady state once desiredCount tasks run, and says so once', () => {
    const tasks = [task(), task(), task()];
    const d = decideService(svc(), tasks, instances(1), 0);
    assert.equal(d.startCount, 0);
    assert.equal(d.steady, true);
    assert.equal(d.deployments[0]!.rolloutState, 'COMPLETED');
    assert.equal(d.deployments[0]!.rolloutStateReason, 'ECS deployment ecs-svc/2 completed.');
    assert.deepEqual(d.events, ['(service web) (deployment ecs-svc/2) deployment completed.', '(service web) has reached a steady state.']);
    const again = decideService(svc({ steady: true, deployments: [{ id: 'ecs-svc/2', rolloutState: 'COMPLETED', healthChecked: false, failedTasks: 0 }] }), tasks, instances(1), 0);
    assert.deepEqual(again.events, []);
    assert.equal(again.steady, true);
  });

  it('replaces a task that stopped on its own, counts it as a failure and says why', () => {
    const dead = task({ lastStatus: 'STOPPED', desiredStatus: 'STOPPED', stopCode: 'EssentialContainerExited', stoppedReason: 'Essential container in task exited' });
    const d = decideService(svc(), [task(), task(), dead], instances(1), 0);
    assert.equal(d.startCount, 1);
    assert.deepEqual(d.seen, [dead.arn]);
    assert.equal(d.deployments[0]!.failedTasks, 1);
    assert.match(d.events[0]!, /^\(service web\) \(task \d+\) stopped unexpectedly: Essential container in task exited\.$/);
    // Seen once: the next decision does not count it again.
    const later = decideService(svc(), [task(), task(), { ...dead, seen: true }], instances(1), 0);
    assert.deepEqual(later.seen, []);
    assert.equal(later.deployments[0]!.failedTasks, 0);
  });

  it('a user StopTask is replaced but is not a failure', () => {
    const stopped = task({ lastStatus: 'STOPPED', desiredStatus: 'STOPPED', stopCode: 'UserInitiated' });
    const d = decideService(svc(), [task(), task(), stopped], instances(1), 0);
    assert.equal(d.startCount, 1);
    assert.equal(d.deployments[0]!.failedTasks, 0);
    assert.deepEqual(d.events, []);
  });

  it('does not count a stopping task as live, but does not call the service steady until it is gone', () => {
    const stopping = task({ desiredStatus: 'STOPPED', stopCode: 'ServiceSchedulerInitiated' });
    const d = decideService(svc({ desiredCount: 2 }), [task(), task(), stopping], instances(1), 0);
    assert.equal(d.startCount, 0);
    assert.deepEqual(d.stops, []);
  });

  it('rolling update at 100/200: starts the new tasks first, stops the old ones only once the new are healthy', () => {
    const old = [1, 2, 3].map(() => task({ deploymentId: 'ecs-svc/1' }));
    const s = svc({ deployments: twoDeployments() });
    const d1 = decideService(s, old, instances(1), 0);
    assert.equal(d1.startCount, 3);
    assert.deepEqual(d1.stops, []);
    const fresh = [1, 2, 3].map(() => task({ lastStatus: 'PENDING' }));
    const d2 = decideService(s, [...old, ...fresh], instances(1), 0);
    assert.equal(d2.startCount, 0);
    assert.deepEqual(d2.stops, []);
    const up = fresh.map((t) => ({ ...t, lastStatus: 'RUNNING' }));
    const d3 = decideService(s, [...old, ...up], instances(1), 0);
    assert.deepEqual(d3.stops.map((x) => x.arn).sort(), old.map((t) => t.arn).sort());
    assert.equal(d3.stops[0]!.reason, 'Scaling activity initiated by (deployment ecs-svc/2)');
  });

  it('rolling update at 50/100 with 4 tasks: stops 2 first, never more', () => {
    const old = [1, 2, 3, 4].map(() => task({ deploymentId: 'ecs-svc/1' }));
    const d = decideService(svc({ desiredCount: 4, minimumHealthyPercent: 50, maximumPercent: 100, deployments: twoDeployments() }), old, instances(1), 0);
    assert.equal(d.stops.length, 2);
    // The two stopped leave room within 100%: their replacements start in the same round.
    assert.equal(d.startCount, 2);
  });

  it('rolling update at 0/100 stops every old task before starting', () => {
    const old = [1, 2, 3].map(() => task({ deploymentId: 'ecs-svc/1' }));
    const d = decideService(svc({ minimumHealthyPercent: 0, maximumPercent: 100, deployments: twoDeployments() }), old, instances(1), 0);
    assert.equal(d.stops.length, 3);
    assert.equal(d.startCount, 3);
    const next = decideService(svc({ minimumHealthyPercent: 0, maximumPercent: 100, deployments: twoDeployments() }), [], instances(1), 0);
    assert.equal(next.startCount, 3);
  });

  it('health-checked tasks count as healthy only once HEALTHY', () => {
    const deployments = [{ id: 'ecs-svc/2', rolloutState: 'IN_PROGRESS' as const, healthChecked: true, failedTasks: 0 }, twoDeployments()[1]!];
    const old = [1, 2].map(() => task({ deploymentId: 'ecs-svc/1' }));
    const fresh = [1, 2].map(() => task({ healthStatus: 'UNKNOWN' }));
    const d = decideService(svc({ desiredCount: 2, deployments }), [...old, ...fresh], instances(1), 0);
    assert.deepEqual(d.stops, []);
    const ok = fresh.map((t) => ({ ...t, healthStatus: 'HEALTHY' }));
    assert.equal(decideService(svc({ desiredCount: 2, deployments }), [...old, ...ok], instances(1), 0).stops.length, 2);
  });

  it('replaces UNHEALTHY tasks only after the grace period', () => {
    const sick = task({ healthStatus: 'UNHEALTHY', startedAt: 100 });
    const s = svc({ healthCheckGracePeriodSeconds: 60 });
    assert.deepEqual(decideService(s, [task(), task(), sick], instances(1), 150).stops, []);
    const d = decideService(s, [task(), task(), sick], instances(1), 161);
    assert.deepEqual(d.stops, [{ arn: sick.arn, reason: UNHEALTHY_STOP_REASON }]);
    assert.equal(d.startCount, 1);
    assert.ok(d.events.includes(`(service web) (task ${sick.arn.split('/').at(-1)}) failed container health checks.`));
  });

  it('behind a load balancer, a new task counts as healthy only once its target is healthy', () => {
    const s = svc({ desiredCount: 2, loadBalanced: true, deployments: twoDeployments() });
    const old = [1, 2].map(() => task({ deploymentId: 'ecs-svc/1', lb: { state: 'healthy' } }));
    const fresh = [1, 2].map(() => task({ lb: { state: 'initial' } }));
    const d = decideService(s, [...old, ...fresh], instances(1), 0);
    assert.deepEqual(d.stops, []);
    assert.equal(d.steady, false);
    const one = [{ ...fresh[0]!, lb: { state: 'healthy' as const } }, fresh[1]!];
    assert.equal(decideService(s, [...old, ...one], instances(1), 0).stops.length, 1);
    const both = fresh.map((t) => ({ ...t, lb: { state: 'healthy' as const } }));
    assert.equal(decideService(s, [...old, ...both], instances(1), 0).stops.length, 2);
  });

  it('tasks being deregistered (draining) no longer count, and are not stopped twice', () => {
    const s = svc({ desiredCount: 2, loadBalanced: true, deployments: twoDeployments() });
    const draining = [1, 2].map(() => task({ deploymentId: 'ecs-svc/1', lb: { state: 'healthy' }, lbStopping: true }));
    const fresh = [1, 2].map(() => task({ lb: { state: 'healthy' } }));
    const d = decideService(s, [...draining, ...fresh], instances(1), 0);
    assert.deepEqual(d.stops, []);
    assert.equal(d.startCount, 0);
    assert.equal(d.runningCount, 2);
    // The old deployment stays until its tasks have stopped.
    assert.equal(d.deployments.length, 2);
    assert.equal(d.deployments[1]!.live, true);
  });

  it('replaces a task the load balancer finds unhealthy after the grace period, with ECS\'s event, as a failure', () => {
    const tg = 'arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/web/0123456789abcdef';
    const sick = task({ startedAt: 100, lb: { state: 'unhealthy', unhealthy: { targetGroupArn: tg, port: 32768, instance: 'i-0123456789abcdef0', reason: 'Health checks failed' } } });
    const s = svc({ loadBalanced: true, healthCheckGracePeriodSeconds: 30, deployments: [{ ...twoDeployments()[0]!, rolloutState: 'COMPLETED' }] });
    const ok = () => task({ lb: { state: 'healthy' } });
    assert.deepEqual(decideService(s, [ok(), ok(), sick], instances(1), 120).stops, []);
    const d = decideService(s, [ok(), ok(), sick], instances(1), 131);
    assert.deepEqual(d.stops, [{ arn: sick.arn, reason: ELB_UNHEALTHY_STOP_REASON(tg) }]);
    assert.equal(d.stops[0]!.reason, `Task failed ELB health checks in (target-group ${tg})`);
    assert.equal(d.startCount, 1);
    assert.ok(d.events.includes(`(service web) (instance i-0123456789abcdef0) (port 32768) is unhealthy in (target-group ${tg}) due to (reason Health checks failed).`), d.events.join('\n'));
    const gone = { ...sick, lastStatus: 'STOPPED', desiredStatus: 'STOPPED' as const, stoppedReason: d.stops[0]!.reason };
    assert.equal(decideService(s, [ok(), ok(), gone], instances(1), 140).deployments[0]!.failedTasks, 1);
  });

  it('tasks on a DRAINING instance are replaced before they stop', () => {
    const insts = [{ arn: 'ci/0', status: 'DRAINING' }, { arn: 'ci/1', status: 'ACTIVE' }];
    const onDraining = task({ instanceArn: 'ci/0' });
    const others = [task({ instanceArn: 'ci/1' }), task({ instanceArn: 'ci/1' })];
    const s = svc({ deployments: [{ id: 'ecs-svc/2', rolloutState: 'COMPLETED', healthChecked: false, failedTasks: 0 }], steady: true });
    const d1 = decideService(s, [onDraining, ...others], insts, 0);
    assert.equal(d1.startCount, 1);
    assert.deepEqual(d1.stops, []);
    assert.equal(d1.steady, false);
    const d2 = decideService(s, [onDraining, ...others, task({ instanceArn: 'ci/1' })], insts, 0);
    assert.deepEqual(d2.stops, [{ arn: onDraining.arn, reason: 'Container instance is draining' }]);
    assert.equal(d2.startCount, 0);
  });

  it('scales in: surplus tasks stop at once, pending ones first', () => {
    const pending = task({ lastStatus: 'PENDING' });
    const d = decideService(svc({ desiredCount: 1 }), [task(), task(), pending], instances(1), 0);
    assert.equal(d.stops.length, 2);
    assert.ok(d.stops.some((s) => s.arn === pending.arn));
  });

  it('the circuit breaker trips at the threshold and rolls back to the last COMPLETED deployment', () => {
    const failed = (n: number) => Array.from({ length: n }, () => task({ lastStatus: 'STOPPED', desiredStatus: 'STOPPED', stopCode: 'EssentialContainerExited', stoppedReason: 'Essential container in task exited' }));
    const old = [1, 2, 3].map(() => task({ deploymentId: 'ecs-svc/1' }));
    const s = svc({ deployments: twoDeployments(), circuitBreaker: { enable: true, rollback: true }, rollbackTarget: 'ecs-svc/1' });
    const d2 = decideService(s, [...old, ...failed(2)], instances(1), 0);
    assert.equal(d2.tripped, false);
    assert.equal(d2.startCount, 3);
    const d3 = decideService(s, [...old, ...failed(3)], instances(1), 0);
    assert.equal(d3.tripped, true);
    assert.equal(d3.rollbackTo, 'ecs-svc/1');
    assert.equal(d3.startCount, 0);
    assert.equal(d3.deployments[0]!.rolloutState, 'FAILED');
    assert.match(d3.deployments[0]!.rolloutStateReason!, /^ECS deployment circuit breaker: tasks failed to start\./);
    assert.ok(d3.events.includes('(service web) (deployment ecs-svc/2) deployment failed: tasks failed to start.'));
    // Disabled: no trip, however many fail.
    assert.equal(decideService(svc({ deployments: twoDeployments() }), [...old, ...failed(10)], instances(1), 0).tripped, false);
  });

  it('a FAILED primary without rollback starts nothing more', () => {
    const s = svc({ deployments: [{ id: 'ecs-svc/2', rolloutState: 'FAILED', healthChecked: false, failedTasks: 3 }] });
    assert.equal(decideService(s, [], instances(1), 0).startCount, 0);
  });

  it('a deleted service stops its tasks and becomes INACTIVE once they are gone', () => {
    const s = svc({ status: 'DRAINING', desiredCount: 0 });
    const live = [task(), task()];
    const d = decideService(s, live, instances(1), 0);
    assert.equal(d.stops.length, 2);
    assert.equal(d.inactive, false);
    const stopping = live.map((t) => ({ ...t, desiredStatus: 'STOPPED' }));
    assert.equal(decideService(s, stopping, instances(1), 0).inactive, false);
    const gone = live.map((t) => ({ ...t, desiredStatus: 'STOPPED', lastStatus: 'STOPPED', stopCode: 'ServiceSchedulerInitiated' }));
    const end = decideService(s, gone, instances(1), 0);
    assert.equal(end.inactive, true);
    assert.equal(end.seen.length, 2);
  });

  it('simulated rollouts never drop below the minimum nor exceed the maximum, and finish', () => {
    for (const [desired, min, max] of [
      [3, 100, 200],
      [4, 50, 100],
      [5, 50, 150],
      [10, 75, 125],
      [7, 0, 100],
      [1, 100, 200],
    ] as const) {
      const s = svc({ desiredCount: desired, minimumHealthyPercent: min, maximumPercent: max, deployments: twoDeployments(), steady: false });
      let tasks: ServiceTaskInput[] = Array.from({ length: desired }, () => task({ deploymentId: 'ecs-svc/1' }));
      const { minHealthy, maxTotal } = deploymentBounds(desired, min, max);
      let done = false;
      for (let step = 0; step < 50 && !done; step++) {
        const d = decideService(s, tasks, instances(1), step);
        const stopped = new Set(d.stops.map((x) => x.arn));
        // Stops take effect at once; started tasks go PENDING → RUNNING at the next step.
        tasks = tasks.filter((t) => !stopped.has(t.arn)).map((t) => ({ ...t, lastStatus: 'RUNNING' }));
        for (let i = 0; i < d.startCount; i++) tasks.push(task({ lastStatus: 'PENDING' }));
        const running = tasks.filter((t) => t.lastStatus === 'RUNNING').length;
        assert.ok(running >= Math.min(minHealthy, desired), `${desired}/${min}/${max}: ${running} running < ${minHealthy}`);
        assert.ok(tasks.length <= Math.max(maxTotal, desired), `${desired}/${min}/${max}: ${tasks.length} tasks > ${maxTotal}`);
        done = d.steady;
      }
      assert.ok(done, `${desired}/${min}/${max} did not finish`);
      assert.ok(tasks.every((t) => t.deploymentId === 'ecs-svc/2'));
      assert.equal(tasks.length, desired);
    }
  });
});

describe('decideService (DAEMON)', () => {
  const daemon = (o: Partial<ServiceInput> = {}) => svc({ schedulingStrategy: 'DAEMON', desiredCount: 0, minimumHealthyPercent: 0, maximumPercent: 100, ...o });

  it('one task per ACTIVE instance, following joins', () => {
    const d = decideService(daemon(), [task({ instanceArn: 'ci/1' })], instances(3), 0);
    assert.deepEqual(d.startOn, ['ci/0', 'ci/2']);
    assert.equal(d.desiredCount, 3);
  });

  it('stops the task of a DRAINING instance and of a departed one, and surplus tasks', () => {
    const insts = [{ arn: 'ci/0', status: 'DRAINING' }, { arn: 'ci/1', status: 'ACTIVE' }];
    const a = task({ instanceArn: 'ci/0' });
    const gone = task({ instanceArn: 'ci/9' });
    const keep = task({ instanceArn: 'ci/1' });
    const extra = task({ instanceArn: 'ci/1' });
    const d = decideService(daemon(), [a, gone, keep, extra], insts, 0);
    assert.deepEqual(d.stops.map((s) => s.arn).sort(), [a.arn, gone.arn, extra.arn].sort());
    assert.deepEqual(d.startOn, []);
    assert.equal(d.desiredCount, 1);
  });

  it('rolls instance by instance: stops the old task, then starts the new one there', () => {
    const s = daemon({ deployments: twoDeployments() });
    const old = [task({ instanceArn: 'ci/0', deploymentId: 'ecs-svc/1' }), task({ instanceArn: 'ci/1', deploymentId: 'ecs-svc/1' })];
    const d = decideService(s, old, instances(2), 0);
    assert.equal(d.stops.length, 2);
    assert.deepEqual(d.startOn, []);
    const d2 = decideService(s, [], instances(2), 0);
    assert.deepEqual(d2.startOn, ['ci/0', 'ci/1']);
    // With a minimum of 50%, only one instance at a time.
    assert.equal(decideService(daemon({ deployments: twoDeployments(), minimumHealthyPercent: 50 }), old, instances(2), 0).stops.length, 1);
  });
});
