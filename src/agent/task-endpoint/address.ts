/**
 * The task endpoints live at 169.254.170.2, the address ECS uses and the one the AWS SDKs
 * accept for a plain-http AWS_CONTAINER_CREDENTIALS_FULL_URI besides loopback. On a host
 * without it the agent adds 169.254.170.2/32 to `lo` (root only) and says so; it never touches
 * any other address and never removes it (other agents on the host may use it). Containers on
 * Docker bridge networks reach it through their gateway: the host routes a packet for one of
 * its own addresses to itself whichever interface it arrives on.
 */
import { execFile } from 'node:child_process';
import { networkInterfaces } from 'node:os';
import { promisify } from 'node:util';

export const TASK_ENDPOINT_ADDRESS = '169.254.170.2';

export function hostHasAddress(address: string): boolean {
  return Object.values(networkInterfaces()).some((list) => list?.some((a) => a.address === address));
}

/** Every address of this host's interfaces (the source of requests from host-network tasks). */
export function hostAddresses(): Set<string> {
  const out = new Set<string>();
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) out.add(a.address);
  return out;
}

/** Makes sure `address` is on this host: adds it to `lo` as a /32 when it is the link-local task endpoint address. */
export async function ensureAddress(address: string, log: { info(obj: object, msg?: string): void }): Promise<void> {
  if (hostHasAddress(address)) return;
  if (address !== TASK_ENDPOINT_ADDRESS) throw new Error(`${address} is not an address of this host`);
  try {
    await promisify(execFile)('ip', ['addr', 'add', `${address}/32`, 'dev', 'lo'], { timeout: 10_000 });
    log.info({ address, device: 'lo' }, `added ${address}/32 to lo for the task metadata and credentials endpoints`);
  } catch (e) {
    // Another agent on this host added it meanwhile.
    if (hostHasAddress(address)) return;
    const stderr = (e as { stderr?: string }).stderr?.trim();
    throw new Error(`could not add ${address}/32 to lo (needs root: ip addr add ${address}/32 dev lo): ${stderr || String(e)}`);
  }
}
