/**
 * Agent liveness, Nomad-style: heartbeats reset an in-memory timer per instance; the store is
 * written only when an instance changes between connected and disconnected, so heartbeats from
 * many agents cost no writes (and wake no assignment long-polls). After a control-plane start
 * every connected instance gets one full TTL of grace before it can be marked disconnected.
 *
 * Single control plane for now; with replicas this loop runs on the leader only.
 */
import type { Clock } from '../core/clock.js';
import { ConflictError } from '../core/errors.js';
import * as c from '../store/collections.js';
import type { Store } from '../store/store.js';

export interface LivenessOptions {
  heartbeatIntervalMs: number;
  /** No heartbeat for this long → agentConnected=false. */
  ttlMs: number;
}

export class AgentLiveness {
  /** containerInstanceArn → last heartbeat (ms, monotonic-ish wall clock from `clock`). */
  private readonly lastBeat = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    readonly options: LivenessOptions,
  ) {}

  async start(): Promise<void> {
    const connected = await this.store.read((tx) => tx.find(c.containerInstances, { where: { status: { in: ['ACTIVE', 'DRAINING'] } } }));
    const now = this.nowMs();
    for (const row of connected) if (row.data.agentConnected) this.lastBeat.set(row.pk, now);
    const every = Math.max(50, Math.floor(this.options.ttlMs / 3));
    this.timer = setInterval(() => {
      this.sweeping = this.sweeping.then(() => this.sweep()).catch(() => undefined);
    }, every);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.sweeping;
  }

  /** Records a heartbeat (or a registration); marks the instance connected if it was not. */
  async beat(containerInstanceArn: string): Promise<void> {
    const known = this.lastBeat.has(containerInstanceArn);
    this.lastBeat.set(containerInstanceArn, this.nowMs());
    if (known) return;
    await this.setConnected(containerInstanceArn, true);
  }

  /** Marks instances whose TTL passed as disconnected. Exposed for tests. */
  async sweep(): Promise<void> {
    const now = this.nowMs();
    for (const [arn, at] of [...this.lastBeat]) {
      if (now - at <= this.options.ttlMs) continue;
      this.lastBeat.delete(arn);
      await this.setConnected(arn, false);
    }
  }

  private nowMs(): number {
    return this.clock.now() * 1000;
  }

  private async setConnected(arn: string, connected: boolean): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await this.store.write(async (tx) => {
          const row = await tx.get(c.containerInstances, arn);
          if (!row || row.data.agentConnected === connected) return;
          if (connected && row.data.status === 'INACTIVE') return;
          await tx.update(c.containerInstances, row, {
            ...row.data,
            agentConnected: connected,
            lastHeartbeatAt: connected ? this.clock.now() : row.data.lastHeartbeatAt,
            version: (Number(row.data.version) || 0) + 1,
          });
        });
        return;
      } catch (e) {
        if (!(e instanceof ConflictError)) throw e;
      }
    }
  }
}
