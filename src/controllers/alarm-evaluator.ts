/**
 * The alarm evaluator: on a timer, reads each metric alarm's last `EvaluationPeriods` periods
 * (the current, partial period included, so fresh data counts at once), asks the pure
 * evaluateAlarm what state that means, and records it through the Alarms domain, which runs the
 * alarm's actions (Application Auto Scaling policies among them).
 */
import type { Clock } from '../core/clock.js';
import type { Alarms, Metrics } from '../services/cloudwatch/index.js';
import type { CloudWatchAlarmDoc } from '../store/collections.js';
import { evaluateAlarm, type AlarmState, type Datapoint } from './alarm-evaluation.js';
import { Periodic } from './periodic.js';

export interface AlarmEvaluatorDeps {
  alarms: Alarms;
  metrics: Metrics;
  clock: Clock;
  /** How often every alarm is evaluated (CloudWatch: every minute). */
  intervalMs: number;
  log: { error(obj: object, msg: string): void };
}

export class AlarmEvaluator {
  private readonly loop: Periodic;

  constructor(private readonly deps: AlarmEvaluatorDeps) {
    this.loop = new Periodic(deps.intervalMs, () => this.tick(), (err) => deps.log.error({ err }, 'alarm evaluation failed'));
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** Evaluates every alarm once. */
  async tick(): Promise<void> {
    for (const alarm of await this.deps.alarms.all()) {
      try {
        await this.evaluateOne(alarm);
      } catch (err) {
        this.deps.log.error({ err, alarm: alarm.AlarmName }, 'alarm evaluation failed');
      }
    }
  }

  private async evaluateOne(alarm: CloudWatchAlarmDoc): Promise<void> {
    const now = this.deps.clock.now();
    const n = alarm.EvaluationPeriods as number;
    const metrics = alarm.Metrics as { Id: string; ReturnData?: boolean; MetricStat?: { Period: number }; Period?: number }[] | undefined;
    const period = metrics?.length ? Math.max(60, ...metrics.map((m) => m.MetricStat?.Period ?? m.Period ?? 60)) : (alarm.Period as number);
    const end = Math.floor(now / period) * period + period;
    const start = end - n * period;
    let series: Map<number, number>;
    if (metrics?.length) {
      const values = this.deps.metrics.evaluateQueries(alarm, metrics as never, start, end, period);
      const returned = values.get(metrics.find((m) => m.ReturnData !== false)!.Id);
      series = returned?.kind === 'series' ? returned.series : returned?.kind === 'array' ? (returned.items[0] ?? new Map()) : new Map();
    } else {
      series = this.deps.metrics.series(
        alarm,
        { Metric: { Namespace: alarm.Namespace, MetricName: alarm.MetricName, Dimensions: alarm.Dimensions as never }, Period: period, Stat: alarm.Statistic as string, Unit: alarm.Unit as never },
        start,
        end,
      );
    }
    const datapoints: Datapoint[] = [];
    for (let t = start; t < end; t += period) datapoints.push({ t, value: series.get(t) });
    const result = evaluateAlarm(
      {
        period,
        evaluationPeriods: n,
        datapointsToAlarm: alarm.DatapointsToAlarm as number | undefined,
        threshold: alarm.Threshold as number,
        comparisonOperator: alarm.ComparisonOperator as string,
        treatMissingData: alarm.TreatMissingData as string | undefined,
        statistic: alarm.Statistic as string | undefined,
      },
      datapoints,
      alarm.StateValue as AlarmState,
      now,
    );
    await this.deps.alarms.applyEvaluation(alarm, result.state, result.reason, result.reasonData, result.latest);
  }
}
