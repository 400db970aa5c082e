/**
 * Simulated agents for scale benchmarks: real agent-protocol clients (join token, own
 * credential, long-poll, reports) in this process, on the SIMULATED runtime that exists only for
 * scale tests. Joined 50 at a time so registration does not open every connection at once.
 */
import { join } from 'node:path';
import { Agent, SimulatedRuntime } from '../../src/agent/index.js';

const quiet = { info() {}, warn() {}, error() {}, debug() {} };

/** Starts `count` simulated agents in `cluster`, each with a state dir under `stateRoot`, and adds them to `agents` as they join. */
export async function joinSimulatedAgents(o: { endpoint: string; cluster: string; joinToken: string; stateRoot: string; count: number; agents: Agent[] }): Promise<void> {
  for (let i = 0; i < o.count; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, o.count - i) }, async (_, j) => {
        const agent = new Agent({
          endpoint: o.endpoint,
          cluster: o.cluster,
          joinToken: o.joinToken,
          stateDir: join(o.stateRoot, String(i + j)),
          runtime: new SimulatedRuntime({ cpus: 4, memoryMiB: 8192, pullMs: 20, createMs: 10, startMs: 50 }),
          log: quiet as never,
          host: { fargateCapacity: false, availabilityZone: `sim-1${'abc'[(i + j) % 3]}` },
        });
        await agent.start();
        o.agents.push(agent);
      }),
    );
  }
}
