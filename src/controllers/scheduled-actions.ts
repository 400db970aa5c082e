/**
 * Runs Application Auto Scaling's scheduled actions on time: on a timer, asks the domain to run
 * every action whose next run has come (the domain computes next runs with the pure schedule
 * functions and records the scaling activities).
 */
import type { AutoScaling } from '../services/application-autoscaling/index.js';

export class ScheduledActionRunner {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(
    private readonly autoscaling: AutoScaling,
    private readonly intervalMs: number,
    private readonly log: { error(obj: object, msg: string): void },
  ) {}

  start(): void {
    if (this.timer || this.intervalMs <= 0) return;
    this.timer = setInterval(() => {
      this.running ??= this.autoscaling
        .runDueScheduledActions()
        .catch((err) => this.log.error({ err }, 'scheduled actions failed'))
        .finally(() => (this.running = undefined));
    }, this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
