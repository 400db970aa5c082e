/**
 * What a capacity provider strategy costs RunTask: the same RunTask (count 10) with
 * `launchType: EC2` and with a two-provider strategy (base 2 / weight 1, weight 3), alternating
 * call by call after a warm-up, on a Dockyard started in-process with `--instances-per-provider`
 * container instances per provider registered through the ECS API (no agents: the tasks stay
 * PENDING and keep their reservations, so the cluster fills as it runs). Both sides place the
 * same tasks on the same instances; the strategy side also splits and schedules per provider.
 * Also times splitAcrossProviders alone for a 10,000-task split.
 *
 *   node --import tsx bench/capacity-providers.ts [--calls 200] [--warmup 20] [--instances-per-provider 10]
 *
 * Bounded by --calls per side and a 120 s deadline. The last line on stdout is one JSON object.
 */
import { CreateCapacityProviderCommand, CreateClusterCommand, PutClusterCapacityProvidersCommand, RegisterContainerInstanceCommand, RegisterTaskDefinitionCommand, RunTaskCommand } from '@aws-sdk/client-ecs';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { splitAcrossProviders } from '../src/scheduler/index.js';
import { startDockyard } from '../test/helpers/dockyard.js';
import { latencySummary, round } from './lib/stats.js';

const { values: args } = parseArgs({
  options: {
    calls: { type: 'string', default: '200' },
    warmup: { type: 'string', default: '20' },
    'instances-per-provider': { type: 'string', default: '10' },
  },
});
const CALLS = Number(args.calls);
const WARMUP = Number(args.warmup);
const PER_PROVIDER = Number(args['instances-per-provider']);
const DEADLINE = performance.now() + 120_000;

const t = await startDockyard({ accountId: '123456789012' });
try {
  await t.ecs.send(new CreateClusterCommand({}));
  const resources = [
    { name: 'CPU', type: 'INTEGER', integerValue: 1_000_000 },
    { name: 'MEMORY', type: 'INTEGER', integerValue: 10_000_000 },
  ];
  for (const name of ['od', 'spot']) {
    await t.ecs.send(new CreateCapacityProviderCommand({ name, autoScalingGroupProvider: { autoScalingGroupArn: `arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:0:autoScalingGroupName/${name}` } }));
    for (let i = 0; i < PER_PROVIDER; i++) {
      await t.ecs.send(new RegisterContainerInstanceCommand({ totalResources: resources, attributes: [{ name: 'dockyard.capacity-provider', value: name }] }));
    }
  }
  await t.ecs.send(new PutClusterCapacityProvidersCommand({ cluster: 'default', capacityProviders: ['od', 'spot'], defaultCapacityProviderStrategy: [] }));
  await t.ecs.send(new RegisterTaskDefinitionCommand({ family: 'bench', containerDefinitions: [{ name: 'c', image: 'x', memory: 16, cpu: 16 }] }));
  const strategy = [{ capacityProvider: 'od', base: 2, weight: 1 }, { capacityProvider: 'spot', weight: 3 }];
  const sides = { launchType: [] as number[], strategy: [] as number[] };
  let completed = true;
  for (let call = 0; call < WARMUP + CALLS; call++) {
    if (performance.now() > DEADLINE) {
      completed = false;
      break;
    }
    // Alternate which side goes first, so that neither always meets the fuller cluster.
    for (const side of call % 2 ? (['launchType', 'strategy'] as const) : (['strategy', 'launchType'] as const)) {
      const started = performance.now();
      const res = await t.ecs.send(new RunTaskCommand({ taskDefinition: 'bench', count: 10, ...(side === 'launchType' ? { launchType: 'EC2' } : { capacityProviderStrategy: strategy }) }));
      const ms = performance.now() - started;
      if (res.tasks?.length !== 10) throw new Error(`RunTask placed ${res.tasks?.length}: ${JSON.stringify(res.failures)}`);
      if (call >= WARMUP) sides[side].push(ms);
    }
  }
  const split = splitAcrossProviders([{ capacityProvider: 'FARGATE', base: 2, weight: 1 }, { capacityProvider: 'FARGATE_SPOT', weight: 3 }], 10_000);
  const splitRuns: number[] = [];
  for (let i = 0; i < 200; i++) {
    const started = performance.now();
    splitAcrossProviders([{ capacityProvider: 'FARGATE', base: 2, weight: 1 }, { capacityProvider: 'FARGATE_SPOT', weight: 3 }], 10_000, { FARGATE: 5 });
    if (i >= 20) splitRuns.push(performance.now() - started);
  }
  const launchType = latencySummary(sides.launchType);
  const withStrategy = latencySummary(sides.strategy);
  process.stderr.write(`RunTask count=10 p50: launchType ${launchType.p50} ms, strategy ${withStrategy.p50} ms\n`);
  console.log(
    JSON.stringify({
      machine: { cores: cpus().length, cpu: cpus()[0]?.model, node: process.version, loadavg: loadavg().map((x) => round(x)) },
      startedAt: new Date().toISOString(),
      completed,
      instancesPerProvider: PER_PROVIDER,
      tasksPlaced: (WARMUP + sides.launchType.length) * 20,
      runTaskMs: { launchTypeEC2: launchType, strategyTwoProviders: withStrategy, p50Ratio: round(withStrategy.p50 / launchType.p50, 3) },
      split10000: { ms: latencySummary(splitRuns, 3), result: split },
    }),
  );
} finally {
  await t.stop();
}
