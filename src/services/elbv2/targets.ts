/**
 * Targets of a target group: registration, deregistration with draining, and DescribeTargetHealth.
 * These are also the domain functions a service controller (ECS) calls: register, deregister,
 * health, waitForDeregistration.
 *
 * Health comes from whoever runs the health checks (the data plane, src/lb) through
 * TargetHealthSource; draining is stored (`drainingSince`, `drainDeadline`) and ended by
 * completeDrain, which the data plane calls once a target has nothing in flight or its
 * deregistration delay has passed.
 */
import { isIP } from 'node:net';
import type { TargetDescription } from '../../aws/generated/elbv2.js';
import type { Clock } from '../../core/clock.js';
import * as c from '../../store/collections.js';
import type { ElbTargetDoc, ElbTargetGroupDoc } from '../../store/collections.js';
import type { Store } from '../../store/store.js';
import type { Scope } from './arns.js';
import { LIMITS } from './catalog.js';
import { getOwn } from './common.js';
import * as err from './errors.js';
import { targetGroupUsage } from './target-groups.js';

/** What the health checker knows about a registered target (absent: not checked yet). */
export interface CheckedHealth {
  state: 'initial' | 'healthy' | 'unhealthy';
  reason?: string;
  description?: string;
}

export interface TargetHealthSource {
  healthOf(targetGroupArn: string, id: string, port: number): CheckedHealth | undefined;
}

export interface TargetHealthView {
  target: { id: string; port: number; availabilityZone?: string };
  state: 'initial' | 'healthy' | 'unhealthy' | 'unused' | 'draining' | 'unavailable';
  reason?: string;
  description?: string;
  healthCheckPort: string;
}

export const targetKey = (targetGroupArn: string, id: string, port: number) => `${targetGroupArn}|${id}|${port}`;

function checkTarget(tg: ElbTargetGroupDoc, t: TargetDescription): { id: string; port: number; availabilityZone?: string } {
  const port = t.Port ?? tg.port;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw err.validationError('Target port must be between 1 and 65535');
  if (tg.targetType === 'ip') {
    if (!isIP(t.Id)) throw err.invalidTarget(`The IP address '${t.Id.slice(0, 64)}' is not a valid IPv4 or IPv6 address`);
  } else if (!/^i-[0-9a-f]{8,17}$/.test(t.Id)) {
    throw err.invalidTarget(`The following targets are not valid instances: '${t.Id.slice(0, 64)}'`);
  }
  if (t.AvailabilityZone !== undefined && !/^(all|[a-z]{2}-[a-z]+-[0-9][a-z])$/.test(t.AvailabilityZone)) throw err.validationError(`Availability zone '${t.AvailabilityZone.slice(0, 32)}' is not valid`);
  return { id: t.Id, port, ...(t.AvailabilityZone ? { availabilityZone: t.AvailabilityZone } : {}) };
}

export class Targets {
  /** Set by the data plane when it runs; without one, targets report `initial` and drain at once. */
  healthSource: TargetHealthSource | undefined;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  /** RegisterTargets: new targets start `initial`; a draining target registered again is back in service. */
  async register(scope: Scope, targetGroupArn: string, targets: readonly TargetDescription[]) {
    if (targets.length === 0) throw err.validationError('At least one target must be specified');
    await this.store.write(async (tx) => {
      const tg = (await getOwn(tx, c.elbTargetGroups, targetGroupArn, 'targetgroup', scope, () => err.targetGroupNotFound())).data;
      const checked = targets.map((t) => checkTarget(tg, t));
      let count = await tx.count(c.elbTargets, { target_group: targetGroupArn });
      for (const t of checked) {
        const key = targetKey(targetGroupArn, t.id, t.port);
        const row = await tx.get(c.elbTargets, key);
        if (row) {
          if (row.data.drainingSince !== undefined) await tx.update(c.elbTargets, row, { ...row.data, drainingSince: undefined, drainDeadline: undefined, registeredAt: this.clock.now() });
          continue;
        }
        if (++count > LIMITS['targets-per-application-load-balancer']) throw err.tooManyTargets();
        const doc: ElbTargetDoc = { targetGroupArn, id: t.id, port: t.port, availabilityZone: t.availabilityZone, registeredAt: this.clock.now() };
        await tx.insert(c.elbTargets, key, doc);
      }
    });
    return {};
  }

  /**
   * DeregisterTargets: each target drains for the group's deregistration delay (new requests stop
   * at once; the data plane ends the draining early when nothing is in flight).
   */
  async deregister(scope: Scope, targetGroupArn: string, targets: readonly TargetDescription[]) {
    if (targets.length === 0) throw err.validationError('At least one target must be specified');
    await this.store.write(async (tx) => {
      const tg = (await getOwn(tx, c.elbTargetGroups, targetGroupArn, 'targetgroup', scope, () => err.targetGroupNotFound())).data;
      const delaySeconds = Number(tg.attributes['deregistration_delay.timeout_seconds'] ?? 300);
      const now = Date.now();
      const rows = [];
      for (const t of targets) {
        const port = t.Port ?? tg.port;
        const row = await tx.get(c.elbTargets, targetKey(targetGroupArn, t.Id, port));
        if (!row) throw err.invalidTarget(`The following targets are not registered in target group '${targetGroupArn}': '${t.Id.slice(0, 64)}'`);
        rows.push(row);
      }
      for (const row of rows) {
        if (row.data.drainingSince !== undefined) continue;
        if (delaySeconds === 0 || !this.healthSource) await tx.delete(c.elbTargets, row.pk);
        else await tx.update(c.elbTargets, row, { ...row.data, drainingSince: this.clock.now(), drainDeadline: now + delaySeconds * 1000 });
      }
    });
    return {};
  }

  /** Ends a target's draining (the data plane: nothing in flight, or the delay has passed). */
  async completeDrain(targetGroupArn: string, id: string, port: number): Promise<void> {
    await this.store.write(async (tx) => {
      const row = await tx.get(c.elbTargets, targetKey(targetGroupArn, id, port));
      if (row && row.data.drainingSince !== undefined) await tx.delete(c.elbTargets, row.pk);
    });
  }

  /** The health of the group's targets (or of `only`), in ELBv2's states with its reason codes. */
  async health(scope: Scope, targetGroupArn: string, only?: readonly TargetDescription[]): Promise<TargetHealthView[]> {
    const { tg, rows, inUse } = await this.store.read(async (tx) => {
      const tg = (await getOwn(tx, c.elbTargetGroups, targetGroupArn, 'targetgroup', scope, () => err.targetGroupNotFound())).data;
      const rows = (await tx.find(c.elbTargets, { where: { target_group: targetGroupArn } })).map((r) => r.data);
      const inUse = (await targetGroupUsage(tx, scope)).has(targetGroupArn);
      return { tg, rows, inUse };
    });
    const wanted = only?.length ? only.map((t) => checkTarget(tg, t)) : rows.map((r) => ({ id: r.id, port: r.port, availabilityZone: r.availabilityZone }));
    const byKey = new Map(rows.map((r) => [`${r.id}|${r.port}`, r]));
    return wanted.map((t): TargetHealthView => {
      const row = byKey.get(`${t.id}|${t.port}`);
      const target = row ? { id: row.id, port: row.port, ...(row.availabilityZone ? { availabilityZone: row.availabilityZone } : {}) } : t;
      const healthCheckPort = tg.healthCheck.port === 'traffic-port' ? String(t.port) : tg.healthCheck.port;
      const view = (state: TargetHealthView['state'], reason?: string, description?: string): TargetHealthView => ({ target, state, reason, description, healthCheckPort });
      if (!row) return view('unused', 'Target.NotRegistered', 'Target is not registered to the target group');
      if (row.drainingSince !== undefined) return view('draining', 'Target.DeregistrationInProgress', 'Target deregistration is in progress');
      if (!inUse) return view('unused', 'Target.NotInUse', 'Target group is not configured to receive traffic from the load balancer');
      if (!tg.healthCheck.enabled) return view('unavailable', 'Target.HealthCheckDisabled', 'Health checks are disabled for the target group');
      const checked = this.healthSource?.healthOf(targetGroupArn, row.id, row.port);
      if (!checked) return view('initial', 'Elb.RegistrationInProgress', 'Target registration is in progress');
      return view(checked.state, checked.reason, checked.description);
    });
  }

  /** DescribeTargetHealth's wire shape. */
  async describeHealth(scope: Scope, targetGroupArn: string, only?: readonly TargetDescription[]) {
    const views = await this.health(scope, targetGroupArn, only);
    return {
      TargetHealthDescriptions: views.map((v) => ({
        Target: { Id: v.target.id, Port: v.target.port, ...(v.target.availabilityZone ? { AvailabilityZone: v.target.availabilityZone } : {}) },
        HealthCheckPort: v.healthCheckPort,
        TargetHealth: { State: v.state, ...(v.reason ? { Reason: v.reason } : {}), ...(v.description ? { Description: v.description } : {}) },
      })),
    };
  }

  /**
   * Resolves once none of `targets` is registered (draining included) in the group any more, or
   * rejects when `signal` aborts: what a service controller awaits before stopping a task.
   */
  async waitForDeregistration(targetGroupArn: string, targets: readonly { id: string; port: number }[], signal?: AbortSignal): Promise<void> {
    const keys = targets.map((t) => targetKey(targetGroupArn, t.id, t.port));
    for (;;) {
      const index = this.store.changeIndex();
      const left = await this.store.read(async (tx) => (await Promise.all(keys.map((k) => tx.get(c.elbTargets, k)))).filter(Boolean).length);
      if (left === 0) return;
      signal?.throwIfAborted();
      await this.store.waitForChange(index, 5_000, signal, [{ collection: c.elbTargets, column: 'target_group', value: targetGroupArn }]);
      signal?.throwIfAborted();
    }
  }
}
