/**
 * Helpers for agent tests: a Dockyard with its embedded agent on fast timers, agents on the
 * SIMULATED runtime joining it with a join token, task runs through the ECS API, bounded
 * polling (of tasks and of files containers write), and removal of everything the test's agent
 * created (by id).
 */
import {
  DescribeTasksCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  type ContainerDefinition,
  type RegisterTaskDefinitionCommandInput,
  type RunTaskCommandInput,
  type Task,
} from '@aws-sdk/client-ecs';
import { readFileSync } from 'node:fs';
import { Agent, SimulatedRuntime, type AgentOptions } from '../../src/agent/index.js';
import type { AppOptions } from '../../src/server/app.js';
import type { EmbeddedAgentConfig, ServerConfig } from '../../src/server/config.js';
import { startDockyard, type TestDockyard } from '../helpers/dockyard.js';
import { docker } from '../helpers/docker.js';

export const FAST_AGENT = {
  embeddedAgent: { cleanupDelayMs: 60_000, pollWaitMs: 20_000 },
  agentHeartbeatIntervalMs: 500,
  agentHeartbeatTtlMs: 3000,
} as const;

/**
 * A test Dockyard whose embedded agent runs on FAST_AGENT's timers. `agent` adds to the embedded
 * agent's settings (e.g. `hostSafety: { allowHostPaths: [dir] }`), `config` to the server's.
 */
export async function startWithAgent(
  o: { dataDir?: string; agent?: Partial<EmbeddedAgentConfig>; config?: Partial<ServerConfig>; app?: Pick<AppOptions, 'clock' | 'agentRuntime' | 'logger'> } = {},
): Promise<TestDockyard> {
  return startDockyard({ ...FAST_AGENT, ...o.config, embeddedAgent: { ...FAST_AGENT.embeddedAgent, ...o.agent } }, o.dataDir, o.app);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An agent logger that says nothing. */
export const quiet = { info() {}, warn() {}, error() {}, debug() {} };

/** A container definition's entry point and command that run `script` in /bin/sh. */
export const sh = (script: string) => ({ entryPoint: ['/bin/sh', '-c'], command: [script] });

/** A trust policy that lets ECS tasks assume the role (task and execution roles). */
export const TRUST_ECS_TASKS = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ecs-tasks.amazonaws.com' }, Action: 'sts:AssumeRole' }] });

/**
 * An agent (not started) on the SIMULATED runtime (2 vCPU, 4 GiB unless `runtime` is given)
 * that joins `d` as a new host would: with a join token, a fresh one unless `joinToken` is
 * given (`joinToken: undefined` joins with none).
 */
export async function simulatedAgent(d: TestDockyard, opts: Partial<AgentOptions> & Pick<AgentOptions, 'cluster' | 'stateDir'>): Promise<Agent> {
  const joinToken = 'joinToken' in opts ? opts.joinToken : (await d.app.agentAuth.createJoinToken({ description: `test agent ${opts.stateDir}` }, 'test')).token;
  return new Agent({ endpoint: d.endpoint, runtime: new SimulatedRuntime({ cpus: 2, memoryMiB: 4096 }), log: quiet, ...opts, joinToken });
}

/** Waits (bounded) for a file a container writes, and returns its text once `done` holds. */
export async function readWhen(file: string, done: (text: string) => boolean, timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let text = '';
  while (Date.now() < deadline) {
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      text = '';
    }
    if (done(text)) return text;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${file}; last content: ${text}`);
}

let families = 0;
export async function register(d: TestDockyard, containerDefinitions: ContainerDefinition[], extra: Partial<RegisterTaskDefinitionCommandInput> = {}): Promise<string> {
  const family = `agent-test-${process.pid}-${++families}`;
  await d.ecs.send(new RegisterTaskDefinitionCommand({ family, containerDefinitions, ...extra }));
  return family;
}

export async function run(d: TestDockyard, family: string, extra: Partial<RunTaskCommandInput> = {}): Promise<string> {
  const res = await d.ecs.send(new RunTaskCommand({ cluster: 'default', taskDefinition: family, ...extra }));
  if (!res.tasks?.[0]) throw new Error(`RunTask failed: ${JSON.stringify(res.failures)}`);
  return res.tasks[0].taskArn!;
}

export async function describe(d: TestDockyard, arn: string): Promise<Task> {
  const cluster = arn.split('/').at(-2)!;
  const res = await d.ecs.send(new DescribeTasksCommand({ cluster, tasks: [arn] }));
  return res.tasks![0]!;
}

/** Polls DescribeTasks until `pred` holds (at most `timeoutMs`); returns the last task seen. */
export async function waitTask(d: TestDockyard, arn: string, pred: (t: Task) => boolean, timeoutMs = 60_000): Promise<Task> {
  const deadline = Date.now() + timeoutMs;
  let t = await describe(d, arn);
  while (!pred(t)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for task; last seen: ${JSON.stringify(t, null, 1)}`);
    await sleep(150);
    t = await describe(d, arn);
  }
  return t;
}

export const isRunning = (t: Task) => t.lastStatus === 'RUNNING';
export const isStopped = (t: Task) => t.lastStatus === 'STOPPED';

export function inspect(id: string): { State: { Status: string; StartedAt: string; FinishedAt: string; ExitCode: number; OOMKilled: boolean } } | undefined {
  try {
    return JSON.parse(docker('inspect', '--type', 'container', id))[0];
  } catch {
    return undefined;
  }
}

export async function httpGet(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/`);
  return res.text();
}
