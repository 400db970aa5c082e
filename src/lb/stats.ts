/**
 * The counters behind the `AWS/ApplicationELB` metrics. The request path only increments fields of
 * long-lived objects (one per load balancer, one per load balancer × target group), so counting
 * costs no allocation; once per period they are read, sent as plain objects (from data-plane
 * workers over IPC) and zeroed. The control plane adds the health counts and writes the points.
 */

/** Per load balancer, for one period. */
export interface LbCounters {
  /** Requests for which a target was chosen (ALB's RequestCount). */
  requests: number;
  newConnections: number;
  /** Client connections open when the period started (+ newConnections = ActiveConnectionCount). */
  openAtStart: number;
  elb5xx: number;
  elb502: number;
  elb503: number;
  elb504: number;
}

/** Per load balancer × target group, for one period. */
export interface GroupCounters {
  requests: number;
  target2xx: number;
  target3xx: number;
  target4xx: number;
  target5xx: number;
  /** Target response times (seconds): how many, their sum, min and max. */
  responses: number;
  responseSeconds: number;
  responseMin: number;
  responseMax: number;
}

export const newLbCounters = (): LbCounters => ({ requests: 0, newConnections: 0, openAtStart: 0, elb5xx: 0, elb502: 0, elb503: 0, elb504: 0 });
export const newGroupCounters = (): GroupCounters => ({ requests: 0, target2xx: 0, target3xx: 0, target4xx: 0, target5xx: 0, responses: 0, responseSeconds: 0, responseMin: Infinity, responseMax: 0 });

/** One period's counters of a data plane (or several, merged): by load balancer ARN, and by "<lb arn> <target group arn>". */
export interface PeriodStats {
  lbs: Record<string, LbCounters>;
  groups: Record<string, GroupCounters>;
}

export function countResponse(c: GroupCounters, status: number, seconds: number): void {
  if (status >= 500) c.target5xx++;
  else if (status >= 400) c.target4xx++;
  else if (status >= 300) c.target3xx++;
  else if (status >= 200) c.target2xx++;
  c.responses++;
  c.responseSeconds += seconds;
  if (seconds < c.responseMin) c.responseMin = seconds;
  if (seconds > c.responseMax) c.responseMax = seconds;
}

export function countElbError(c: LbCounters, status: number): void {
  if (status < 500) return;
  c.elb5xx++;
  if (status === 502) c.elb502++;
  else if (status === 503) c.elb503++;
  else if (status === 504) c.elb504++;
}

/** Adds `from` into `into` (merging workers' periods). */
export function mergeStats(into: PeriodStats, from: PeriodStats): void {
  for (const [k, v] of Object.entries(from.lbs)) {
    const t = (into.lbs[k] ??= newLbCounters());
    for (const f of Object.keys(v) as (keyof LbCounters)[]) t[f] += v[f];
  }
  for (const [k, v] of Object.entries(from.groups)) {
    const t = (into.groups[k] ??= newGroupCounters());
    for (const f of Object.keys(v) as (keyof GroupCounters)[]) {
      if (f === 'responseMin') t[f] = Math.min(t[f], v[f] ?? Infinity);
      else if (f === 'responseMax') t[f] = Math.max(t[f], v[f]);
      else t[f] += v[f];
    }
  }
}

/** A data point in CloudWatch's shape (the metric store's PointInput). */
export interface MetricPoint {
  key: { scope: string; namespace: string; metricName: string; dimensions: { Name: string; Value: string }[] };
  unit?: string;
  timestamp: number;
  count: number;
  sum: number;
  min: number;
  max: number;
}

/** What the control plane knows of a target group at flush time: its routable and health counts. */
export interface GroupHealthCounts {
  healthy: number;
  unhealthy: number;
  /** Targets new requests may go to (healthy ones, or all when none is: the RequestCountPerTarget divisor). */
  routable: number;
}

/** "app/<name>/<id>" and "targetgroup/<name>/<id>": the dimension values ALB uses, from the ARNs. */
export const lbDimension = (arn: string) => arn.slice(arn.indexOf(':loadbalancer/') + ':loadbalancer/'.length);
export const groupDimension = (arn: string) => arn.slice(arn.lastIndexOf(':') + 1);
/** "<account>:<region>" of an ARN (the metric store's scope). */
export const scopeOfArn = (arn: string) => {
  const p = arn.split(':');
  return `${p[4]}:${p[3]}`;
};

/**
 * The period's points as ALB publishes them: RequestCount by LoadBalancer and by TargetGroup +
 * LoadBalancer, RequestCountPerTarget by TargetGroup (and + LoadBalancer), TargetResponseTime,
 * HTTPCode_Target_*, HTTPCode_ELB_*, connection counts, and Healthy/UnHealthyHostCount for every
 * load balancer × target group pair in use. Zero-valued counts are not published (ALB's way).
 */
export function metricPoints(stats: PeriodStats, pairs: Iterable<[lbArn: string, groupArn: string]>, health: (groupArn: string) => GroupHealthCounts | undefined, timestamp: number): MetricPoint[] {
  const out: MetricPoint[] = [];
  const put = (arn: string, metricName: string, dims: [string, string][], unit: string, value: number, agg?: { count: number; min: number; max: number }) =>
    out.push({
      key: { scope: scopeOfArn(arn), namespace: 'AWS/ApplicationELB', metricName, dimensions: dims.map(([Name, Value]) => ({ Name, Value })) },
      unit,
      timestamp,
      count: agg?.count ?? 1,
      sum: value,
      min: agg?.min ?? value,
      max: agg?.max ?? value,
    });
  for (const [arn, c] of Object.entries(stats.lbs)) {
    const lb: [string, string][] = [['LoadBalancer', lbDimension(arn)]];
    const counts: [string, number][] = [
      ['RequestCount', c.requests],
      ['NewConnectionCount', c.newConnections],
      ['ActiveConnectionCount', c.openAtStart + c.newConnections],
      ['HTTPCode_ELB_5XX_Count', c.elb5xx],
      ['HTTPCode_ELB_502_Count', c.elb502],
      ['HTTPCode_ELB_503_Count', c.elb503],
      ['HTTPCode_ELB_504_Count', c.elb504],
    ];
    for (const [name, v] of counts) if (v > 0) put(arn, name, lb, 'Count', v);
  }
  for (const [key, c] of Object.entries(stats.groups)) {
    const [lbArn, groupArn] = key.split(' ') as [string, string];
    const tg: [string, string][] = [['TargetGroup', groupDimension(groupArn)]];
    const both: [string, string][] = [...tg, ['LoadBalancer', lbDimension(lbArn)]];
    if (c.requests > 0) {
      put(lbArn, 'RequestCount', both, 'Count', c.requests);
      const perTarget = c.requests / Math.max(1, health(groupArn)?.routable ?? 1);
      put(lbArn, 'RequestCountPerTarget', tg, 'Count', perTarget);
      put(lbArn, 'RequestCountPerTarget', both, 'Count', perTarget);
    }
    for (const [name, v] of [
      ['HTTPCode_Target_2XX_Count', c.target2xx],
      ['HTTPCode_Target_3XX_Count', c.target3xx],
      ['HTTPCode_Target_4XX_Count', c.target4xx],
      ['HTTPCode_Target_5XX_Count', c.target5xx],
    ] as const) {
      if (v > 0) put(lbArn, name, both, 'Count', v);
    }
    if (c.responses > 0) {
      const agg = { count: c.responses, min: c.responseMin, max: c.responseMax };
      put(lbArn, 'TargetResponseTime', both, 'Seconds', c.responseSeconds, agg);
      put(lbArn, 'TargetResponseTime', [['LoadBalancer', lbDimension(lbArn)]], 'Seconds', c.responseSeconds, agg);
    }
  }
  for (const [lbArn, groupArn] of pairs) {
    const h = health(groupArn);
    if (!h) continue;
    const both: [string, string][] = [
      ['TargetGroup', groupDimension(groupArn)],
      ['LoadBalancer', lbDimension(lbArn)],
    ];
    put(lbArn, 'HealthyHostCount', both, 'Count', h.healthy);
    put(lbArn, 'UnHealthyHostCount', both, 'Count', h.unhealthy);
  }
  return out;
}
