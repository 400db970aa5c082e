/**
 * CloudWatch metrics over the MetricStore: PutMetricData (user metrics; Dockyard's own publishers
 * call `record`), GetMetricStatistics, GetMetricData with the metric-math subset, ListMetrics.
 */
import { AwsError } from '../../aws/errors.js';
import type * as cw from '../../aws/generated/cloudwatch.js';
import type { Clock } from '../../core/clock.js';
import { evaluate, MathError, parseExpression, referencedIds, type MathValue, type Series } from './metric-math.js';
import type { Aggregate, Dimension, MetricStore, PointInput, SeriesKey } from './metric-store.js';

export interface Scope {
  accountId: string;
  region: string;
}
export const scopeKey = (s: Scope) => `${s.accountId}:${s.region}`;

const invalid = (message: string) => new AwsError('InvalidParameterValueException', message);
const missing = (message: string) => new AwsError('MissingRequiredParameterException', message);
const combination = (message: string) => new AwsError('InvalidParameterCombinationException', message);

/** CloudWatch keeps values within ±1.174271e+108 and rejects the tiny ones below 8.515920e-109. */
const MAX_VALUE = 1.174271e108;
const MIN_MAGNITUDE = 8.51592e-109;
const MAX_DATAPOINTS = 1440;
const MAX_RESULT_DATAPOINTS = 100_800;
export type Statistic = 'SampleCount' | 'Average' | 'Sum' | 'Minimum' | 'Maximum';
const STATISTICS = new Set<string>(['SampleCount', 'Average', 'Sum', 'Minimum', 'Maximum']);

export function statisticOf(agg: Aggregate, stat: string): number {
  switch (stat) {
    case 'SampleCount':
      return agg.count;
    case 'Sum':
      return agg.sum;
    case 'Minimum':
      return agg.min;
    case 'Maximum':
      return agg.max;
    default:
      return agg.sum / agg.count;
  }
}

function checkValue(v: number, where: string): void {
  if (!Number.isFinite(v) || Math.abs(v) > MAX_VALUE || (v !== 0 && Math.abs(v) < MIN_MAGNITUDE)) {
    throw invalid(`The value ${v} for parameter ${where} is invalid.`);
  }
}

export interface MetricQueryResult {
  Id: string;
  Label: string;
  Timestamps: number[];
  Values: number[];
  StatusCode: 'Complete';
}

export class Metrics {
  constructor(
    private readonly store: MetricStore,
    private readonly clock: Clock,
  ) {}

  /** Points from Dockyard's own publishers (AWS/ECS, ECS/ContainerInsights, …), without the user checks. */
  record(points: readonly PointInput[]): void {
    if (points.length) this.store.put(points);
  }

  put(scope: Scope, input: cw.PutMetricDataInput): void {
    if (input.Namespace.startsWith('AWS/')) throw invalid(`The value ${input.Namespace} for parameter Namespace is invalid.`);
    const data = input.MetricData ?? [];
    if (data.length === 0) throw missing('The parameter MetricData is required.');
    const now = this.clock.now();
    const points: PointInput[] = [];
    for (const [i, d] of data.entries()) {
      const where = `MetricData.member.${i + 1}`;
      const timestamp = d.Timestamp === undefined ? now : Number(d.Timestamp);
      if (timestamp < now - 14 * 86400 || timestamp > now + 2 * 3600) {
        throw invalid(`The parameter ${where}.Timestamp must specify a time no more than two weeks in the past and no more than two hours in the future.`);
      }
      const key: SeriesKey = { scope: scopeKey(scope), namespace: input.Namespace, metricName: d.MetricName, dimensions: dimensionsOf(d.Dimensions, where) };
      const given = [d.Value !== undefined, d.StatisticValues !== undefined, (d.Values?.length ?? 0) > 0].filter(Boolean).length;
      if (given > 1) throw combination(`The parameters ${where}.Value, ${where}.StatisticValues and ${where}.Values are mutually exclusive and you have specified more than one.`);
      if (d.Value !== undefined) {
        checkValue(d.Value, `${where}.Value`);
        points.push({ key, unit: d.Unit, timestamp, count: 1, sum: d.Value, min: d.Value, max: d.Value });
      } else if (d.StatisticValues) {
        const s = d.StatisticValues;
        for (const [name, v] of Object.entries(s)) checkValue(v as number, `${where}.StatisticValues.${name}`);
        if (s.SampleCount <= 0 || s.Minimum > s.Maximum) throw invalid(`The parameter ${where}.StatisticValues is invalid: SampleCount must be positive and Minimum at most Maximum.`);
        points.push({ key, unit: d.Unit, timestamp, count: s.SampleCount, sum: s.Sum, min: s.Minimum, max: s.Maximum });
      } else if (d.Values?.length) {
        const counts = d.Counts ?? [];
        if (counts.length && counts.length !== d.Values.length) throw combination(`The parameters ${where}.Values and ${where}.Counts must be of the same size.`);
        let count = 0;
        let sum = 0;
        let min = Infinity;
        let max = -Infinity;
        for (const [j, v] of d.Values.entries()) {
          checkValue(v, `${where}.Values.member.${j + 1}`);
          const c = counts[j] ?? 1;
          if (!(c > 0) || !Number.isFinite(c)) throw invalid(`The value ${c} for parameter ${where}.Counts.member.${j + 1} is invalid.`);
          count += c;
          sum += v * c;
          min = Math.min(min, v);
          max = Math.max(max, v);
        }
        points.push({ key, unit: d.Unit, timestamp, count, sum, min, max });
      } else {
        throw missing(`The parameter ${where}.Value is required.`);
      }
    }
    this.store.put(points);
  }

  getStatistics(scope: Scope, input: cw.GetMetricStatisticsInput) {
    const stats = input.Statistics ?? [];
    if (stats.length === 0 && !input.ExtendedStatistics?.length) throw missing('Must specify either Statistics or ExtendedStatistics.');
    if (stats.length && input.ExtendedStatistics?.length) throw combination('The parameters Statistics and ExtendedStatistics are mutually exclusive and you have specified both.');
    if (input.ExtendedStatistics?.length) throw invalid('Dockyard keeps no percentiles: ExtendedStatistics are not supported.');
    const { start, end } = this.range(input.StartTime, input.EndTime, input.Period);
    const series = this.store.series({ scope: scopeKey(scope), namespace: input.Namespace, metricName: input.MetricName, dimensions: dimensionsOf(input.Dimensions, 'Dimensions') });
    if (series && input.Unit && series.unit && input.Unit !== series.unit) return { Label: input.MetricName, Datapoints: [] };
    const buckets = series ? this.store.read(series.id, start, end, input.Period, this.clock.now()) : [];
    return {
      Label: input.MetricName,
      Datapoints: buckets.map((b) => ({
        Timestamp: b.t,
        Unit: input.Unit ?? series?.unit ?? 'None',
        ...Object.fromEntries(stats.map((s) => [s, statisticOf(b, s)])),
      })),
    };
  }

  private range(startTime: cw.Timestamp, endTime: cw.Timestamp, period: number): { start: number; end: number } {
    if (period % 60 !== 0) throw invalid('The parameter Period must be a multiple of 60.');
    const start = Math.floor(Number(startTime) / 60) * 60;
    const end = Math.ceil(Number(endTime) / 60) * 60;
    if (start >= end) throw invalid('The parameter StartTime must be less than the parameter EndTime.');
    const points = Math.ceil((end - start) / period);
    if (points > MAX_DATAPOINTS) {
      throw combination(`You have requested up to ${points.toLocaleString('en-US')} datapoints, which exceeds the limit of 1,440. You may reduce the datapoints requested by increasing Period, or decreasing the time range.`);
    }
    return { start, end };
  }

  /** Buckets of one metric, by statistic, for the alarm evaluator and GetMetricData. */
  series(scope: Scope, stat: cw.MetricStat, start: number, end: number): Series {
    if (!STATISTICS.has(stat.Stat)) throw invalid(`The value ${stat.Stat} for parameter Stat is not supported by Dockyard (SampleCount, Average, Sum, Minimum, Maximum).`);
    if (stat.Period % 60 !== 0) throw invalid('The parameter Period must be a multiple of 60.');
    const m = stat.Metric;
    if (!m.Namespace || !m.MetricName) throw missing('The parameters Metric.Namespace and Metric.MetricName are required.');
    const row = this.store.series({ scope: scopeKey(scope), namespace: m.Namespace, metricName: m.MetricName, dimensions: dimensionsOf(m.Dimensions, 'Metric.Dimensions') });
    if (!row || (stat.Unit && row.unit && stat.Unit !== row.unit)) return new Map();
    return new Map(this.store.read(row.id, start, end, stat.Period, this.clock.now()).map((b) => [b.t, statisticOf(b, stat.Stat)]));
  }

  getData(scope: Scope, input: cw.GetMetricDataInput) {
    const queries = input.MetricDataQueries;
    const ids = new Set<string>();
    for (const q of queries) {
      if (!/^[a-z][a-zA-Z0-9_]*$/.test(q.Id)) throw invalid(`The value ${q.Id} for parameter MetricDataQueries.member.Id is invalid: it must start with a lowercase letter and contain only letters, numbers and underscores.`);
      if (ids.has(q.Id)) throw invalid(`The value ${q.Id} for parameter MetricDataQueries.member.Id is not unique.`);
      ids.add(q.Id);
      if (!q.MetricStat === !q.Expression) throw combination(`Exactly one of MetricStat and Expression must be specified for the query ${q.Id}.`);
    }
    const period = Math.max(60, ...queries.map((q) => q.MetricStat?.Period ?? q.Period ?? 60));
    const start = Math.floor(Number(input.StartTime) / 60) * 60;
    const end = Math.ceil(Number(input.EndTime) / 60) * 60;
    if (start >= end) throw invalid('The parameter StartTime must be less than the parameter EndTime.');
    const values = this.evaluateQueries(scope, queries, start, end, period);
    const descending = (input.ScanBy ?? 'TimestampDescending') === 'TimestampDescending';
    let budget = Math.min(input.MaxDatapoints ?? MAX_RESULT_DATAPOINTS, MAX_RESULT_DATAPOINTS);
    const results: MetricQueryResult[] = [];
    for (const q of queries) {
      if (q.ReturnData === false) continue;
      const points = [...seriesFor(values.get(q.Id)!, start, end, period)].sort((a, b) => (descending ? b[0] - a[0] : a[0] - b[0])).slice(0, Math.max(0, budget));
      budget -= points.length;
      results.push({ Id: q.Id, Label: q.Label ?? (q.MetricStat ? q.MetricStat.Metric.MetricName ?? q.Id : q.Id), Timestamps: points.map((p) => p[0]), Values: points.map((p) => p[1]), StatusCode: 'Complete' });
    }
    return { MetricDataResults: results, Messages: [] };
  }

  /** Every query's value, metric queries first, then expressions in dependency order. */
  evaluateQueries(scope: Scope, queries: readonly cw.MetricDataQuery[], start: number, end: number, period: number): Map<string, MathValue> {
    const values = new Map<string, MathValue>();
    const metricIds = queries.filter((q) => q.MetricStat).map((q) => q.Id);
    for (const q of queries) if (q.MetricStat) values.set(q.Id, { kind: 'series', series: this.series(scope, q.MetricStat, start, end) });
    const grid: number[] = [];
    for (let t = start; t < end && grid.length < MAX_RESULT_DATAPOINTS; t += period) grid.push(t);
    const expressions = new Map(queries.filter((q) => q.Expression).map((q) => [q.Id, q]));
    const visiting = new Set<string>();
    const solve = (id: string): MathValue | undefined => {
      const done = values.get(id);
      if (done) return done;
      const q = expressions.get(id);
      if (!q) return undefined;
      if (visiting.has(id)) throw invalid(`The expression of ${id} refers to itself.`);
      visiting.add(id);
      try {
        const tree = parseExpression(q.Expression!);
        for (const ref of referencedIds(tree)) solve(ref);
        const usesMetrics = /METRICS\s*\(/i.test(q.Expression!);
        const value = evaluate(tree, { lookup: (x) => (x === id ? undefined : values.get(x) ?? solve(x)), metricIds: usesMetrics ? metricIds : [], grid });
        values.set(id, value);
        return value;
      } catch (e) {
        if (e instanceof MathError) throw invalid(`Error in expression ${id}: ${e.message}`);
        throw e;
      } finally {
        visiting.delete(id);
      }
    };
    for (const id of expressions.keys()) solve(id);
    return values;
  }

  list(scope: Scope, input: cw.ListMetricsInput) {
    let afterId: number | undefined;
    if (input.NextToken) {
      afterId = Number(Buffer.from(input.NextToken, 'base64url').toString());
      // ListMetrics models no InvalidNextToken: a bad token is a bad parameter value.
      if (!Number.isSafeInteger(afterId) || afterId < 0) throw invalid('The value for parameter NextToken is invalid.');
    }
    const since = input.RecentlyActive === 'PT3H' ? this.clock.now() - 3 * 3600 : undefined;
    const filters = input.Dimensions ?? [];
    const page: { Namespace: string; MetricName: string; Dimensions: Dimension[] }[] = [];
    let lastId: number | undefined;
    // Bounded scan: at most 20 chunks of 1,000 series per page.
    for (let chunk = 0; chunk < 20 && page.length < 500; chunk++) {
      const rows = this.store.findSeries({ scope: scopeKey(scope), namespace: input.Namespace, metricName: input.MetricName, since, afterId, limit: 1000 });
      for (const r of rows) {
        lastId = r.id;
        afterId = r.id;
        if (filters.every((f) => r.dimensions.some((d) => d.Name === f.Name && (f.Value === undefined || d.Value === f.Value)))) {
          page.push({ Namespace: r.namespace, MetricName: r.metricName, Dimensions: [...r.dimensions] });
          if (page.length === 500) break;
        }
      }
      if (rows.length < 1000) {
        lastId = undefined;
        break;
      }
    }
    return { Metrics: page, NextToken: lastId === undefined ? undefined : Buffer.from(String(lastId)).toString('base64url') };
  }
}

/** A query's value as the points to return: a scalar stands at every period of the range. */
function seriesFor(v: MathValue, start: number, end: number, period: number): Series {
  if (v.kind === 'series') return v.series;
  if (v.kind === 'array') {
    if (v.items.length > 1) throw invalid('An expression that returns several time series must be reduced (SUM, AVG, MIN, MAX) to be returned.');
    return v.items[0] ?? new Map();
  }
  const out: Series = new Map();
  for (let t = start; t < end && out.size < MAX_RESULT_DATAPOINTS; t += period) out.set(t, v.value);
  return out;
}

export function dimensionsOf(dimensions: readonly cw.Dimension[] | undefined, where: string): Dimension[] {
  const seen = new Set<string>();
  for (const d of dimensions ?? []) {
    if (seen.has(d.Name)) throw invalid(`The parameter ${where} contains the dimension ${d.Name} more than once.`);
    seen.add(d.Name);
  }
  return (dimensions ?? []).map((d) => ({ Name: d.Name, Value: d.Value }));
}
