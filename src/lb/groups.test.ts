import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GroupRuntime, TargetRuntime } from './groups.js';

const ARN = 'arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/web/0123456789abcdef';

function group(attributes: Record<string, string>) {
  const g = new GroupRuntime(ARN);
  g.configure({ arn: ARN, healthCheck: { enabled: true }, attributes } as never);
  g.inUse = true;
  const a = new TargetRuntime(ARN, 'a', 8080, '127.0.0.1');
  const b = new TargetRuntime(ARN, 'b', 8080, '127.0.0.1');
  g.setTargets([{ id: 'a', port: 8080 }, { id: 'b', port: 8080 }] as never, (row: { id: string }) => (row.id === 'a' ? a : b));
  return { g, a, b };
}

const healthy = { state: 'healthy' } as const;
function share(g: GroupRuntime, t: TargetRuntime, n = 2000): number {
  let hits = 0;
  for (let i = 0; i < n; i++) if (g.pick(undefined) === t) hits += 1;
  return hits / n;
}

describe('slow start', () => {
  it('a target turning healthy beside a settled one ramps up from nothing; without slow start it gets half at once', () => {
    const { g, a, b } = group({ 'slow_start.duration_seconds': '30' });
    a.health = healthy;
    g.refresh();
    b.health = healthy;
    g.refresh();
    assert.ok(b.slowStartUntil > Date.now(), 'b is in slow start');
    assert.equal(a.slowStartUntil, 0, 'the first healthy target does not slow-start');
    assert.ok(share(g, b) < 0.02, 'just turned healthy: almost no requests');
    // Half-way through the window: its turn is taken half the time, so about a quarter of all requests.
    b.slowStartFrom = Date.now() - 15_000;
    b.slowStartUntil = b.slowStartFrom + 30_000;
    const mid = share(g, b);
    assert.ok(mid > 0.15 && mid < 0.35, `half-way share ${mid}`);
    // Window over: its full share.
    b.slowStartFrom = Date.now() - 31_000;
    b.slowStartUntil = b.slowStartFrom + 30_000;
    assert.equal(share(g, b), 0.5);

    const off = group({ 'slow_start.duration_seconds': '0' });
    off.a.health = healthy;
    off.g.refresh();
    off.b.health = healthy;
    off.g.refresh();
    assert.equal(share(off.g, off.b), 0.5);
  });

  it('leaves slow start when the target turns unhealthy, and the first healthy target of a group never enters it', () => {
    const { g, a, b } = group({ 'slow_start.duration_seconds': '60' });
    a.health = healthy;
    b.health = healthy;
    g.refresh();
    assert.equal(a.slowStartUntil + b.slowStartUntil, 0, 'no settled target to carry the traffic: neither slow-starts');
    b.health = { state: 'unhealthy', reason: 'Target.FailedHealthChecks', description: 'Health checks failed' } as never;
    g.refresh();
    b.health = healthy;
    g.refresh();
    assert.ok(b.slowStartUntil > Date.now(), 'healthy again beside a settled target: slow start');
    b.health = { state: 'unhealthy', reason: 'Target.FailedHealthChecks', description: 'Health checks failed' } as never;
    g.refresh();
    assert.equal(b.slowStartUntil, 0);
  });

  it('does not apply with least outstanding requests', () => {
    const { g, a, b } = group({ 'slow_start.duration_seconds': '30', 'load_balancing.algorithm.type': 'least_outstanding_requests' });
    a.health = healthy;
    g.refresh();
    b.health = healthy;
    g.refresh();
    assert.equal(b.slowStartUntil, 0);
  });
});
