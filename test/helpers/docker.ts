/** Docker CLI helpers for tests and benchmarks; every removal is by id, found through this run's own labels. */
import { execFileSync } from 'node:child_process';

export function docker(...args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** Containers carrying this agent instance's label (the instance id is unique to the test). */
export function containersOf(instanceId: string): string[] {
  const out = docker('ps', '-aq', '--no-trunc', '--filter', `label=dockyard.instance=${instanceId}`);
  return out ? out.split('\n') : [];
}

/** Removes, by id, every container, volume and network this test's agent created. */
export function removeAgentLeftovers(instanceId: string): void {
  for (const id of containersOf(instanceId)) docker('rm', '-f', id);
  const volumes = docker('volume', 'ls', '-q', '--filter', `label=dockyard.instance=${instanceId}`);
  for (const v of volumes ? volumes.split('\n') : []) docker('volume', 'rm', '-f', v);
  const nets = docker('network', 'ls', '-q', '--no-trunc', '--filter', `label=dockyard.instance=${instanceId}`);
  for (const n of nets ? nets.split('\n') : []) docker('network', 'rm', n);
}
