/**
 * Vends a task's role credentials (task role, execution role) to the agent that runs the task:
 * minted through STS's RoleCredentialsIssuer as `ecs-tasks.amazonaws.com` with the task id as
 * the session name (as ECS does), cached per task and role, and minted again once a quarter of
 * their lifetime is left, so the agent, which gets them with every assignments answer (at most
 * a minute apart), always holds credentials that are far from expiring. Only in memory: a
 * control-plane restart simply mints new ones. Never logged.
 */
import type { RoleCredentialsIssuer, TemporaryCredentials } from '../iam/principal.js';

export const ECS_TASKS_SERVICE = 'ecs-tasks.amazonaws.com';
/** STS's default AssumeRole duration; ECS task credentials last about as long. */
const DEFAULT_DURATION_SECONDS = 3600;
/** After a failed mint (no such role, trust policy refuses), wait this long before trying again. */
const RETRY_AFTER_MS = 30_000;

export interface RoleCredentialsVendorOptions {
  issuer: RoleCredentialsIssuer;
  /** Epoch milliseconds. */
  now?: () => number;
  durationSeconds?: number;
  log?: { warn(obj: object, msg?: string): void };
}

interface Entry {
  creds: TemporaryCredentials;
  issuedAt: number;
}

export class RoleCredentialsVendor {
  private readonly cache = new Map<string, Entry>();
  private readonly failedAt = new Map<string, number>();
  private readonly pending = new Map<string, Promise<TemporaryCredentials | undefined>>();
  private readonly now: () => number;

  constructor(private readonly o: RoleCredentialsVendorOptions) {
    this.now = o.now ?? Date.now;
  }

  /** Current credentials of `roleArn` for the task, minting when there are none or they are getting old; undefined when STS refuses. */
  async forTask(taskArn: string, roleArn: string): Promise<TemporaryCredentials | undefined> {
    const key = `${taskArn} ${roleArn}`;
    const now = this.now();
    const hit = this.cache.get(key);
    if (hit && !needsRefresh(hit, now)) return hit.creds;
    const failed = this.failedAt.get(key);
    if (failed !== undefined && now - failed < RETRY_AFTER_MS) return usable(hit, now);
    let p = this.pending.get(key);
    if (!p) {
      p = this.mint(key, taskArn, roleArn).finally(() => this.pending.delete(key));
      this.pending.set(key, p);
    }
    return (await p) ?? usable(hit, this.now());
  }

  private async mint(key: string, taskArn: string, roleArn: string): Promise<TemporaryCredentials | undefined> {
    this.sweep();
    try {
      const creds = await this.o.issuer.issueForService(roleArn, {
        sessionName: taskIdOf(taskArn),
        service: ECS_TASKS_SERVICE,
        durationSeconds: this.o.durationSeconds ?? DEFAULT_DURATION_SECONDS,
      });
      this.cache.set(key, { creds, issuedAt: this.now() });
      this.failedAt.delete(key);
      return creds;
    } catch (e) {
      this.failedAt.set(key, this.now());
      // The issuer's message names the role and the reason, never a secret.
      this.o.log?.warn({ taskArn, roleArn, err: e instanceof Error ? e.message : String(e) }, 'could not mint role credentials for the task');
      return undefined;
    }
  }

  /** Drops expired entries (tasks that stopped stop asking; their entries age out). */
  private sweep(): void {
    const now = this.now();
    for (const [key, e] of this.cache) if (e.creds.expiration.getTime() <= now) this.cache.delete(key);
    for (const [key, at] of this.failedAt) if (now - at >= RETRY_AFTER_MS) this.failedAt.delete(key);
  }
}

function needsRefresh(e: Entry, now: number): boolean {
  const expires = e.creds.expiration.getTime();
  return expires - now < (expires - e.issuedAt) / 4;
}

function usable(e: Entry | undefined, now: number): TemporaryCredentials | undefined {
  return e && e.creds.expiration.getTime() > now ? e.creds : undefined;
}

/** The last part of a task ARN (ECS's role session name for task credentials). */
export function taskIdOf(taskArn: string): string {
  return taskArn.slice(taskArn.lastIndexOf('/') + 1);
}

/** arn:aws:iam::<acct>:role/<path/>name + session → arn:aws:sts::<acct>:assumed-role/name/session (what STS answers). */
export function assumedRoleArn(roleArn: string, sessionName: string): string {
  const m = /^arn:([^:]+):iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(roleArn);
  if (!m) throw new Error(`not a role ARN: ${roleArn}`);
  return `arn:${m[1]}:sts::${m[2]}:assumed-role/${m[3]}/${sessionName}`;
}
