/**
 * Runs Application Auto Scaling's scheduled actions on time: on a timer, asks the domain to run
 * every action whose next run has come (the domain computes next runs with the pure schedule
 * functions and records the scaling activities).
 */
import type { AutoScaling } from '../services/application-autoscaling/index.js';
import { Periodic } from './periodic.js';

export class ScheduledActionRunner {
  private readonly loop: Periodic;

  constructor(autoscaling: AutoScaling, intervalMs: number, log: { error(obj: object, msg: string): void }) {
    this.loop = new Periodic(intervalMs, () => autoscaling.runDueScheduledActions(), (err) => log.error({ err }, 'scheduled actions failed'));
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }
}
