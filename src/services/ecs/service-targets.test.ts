import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TaskDoc } from '../../store/collections.js';
import { lbHealthOf, lbKey, taskTargets, type LbSnapshot } from './service-scheduler.js';

const TG = 'arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/web/0123456789abcdef';
const refs = [{ targetGroupArn: TG, containerName: 'web', containerPort: 8080 }];
const task = (containers: Record<string, unknown>[]): TaskDoc =>
  ({ taskArn: 'arn:aws:ecs:us-east-1:000000000000:task/c/1', placedOn: 'ci/1', containers, lastStatus: 'RUNNING', desiredStatus: 'RUNNING' }) as unknown as TaskDoc;

describe('a service task\'s targets', () => {
  it('bridge / host: the container instance\'s EC2 id and the host port of the mapped container port', () => {
    const t = task([{ name: 'web', networkBindings: [{ containerPort: 9000, hostPort: 32001 }, { containerPort: 8080, hostPort: 32768 }] }]);
    assert.deepEqual(taskTargets(t, refs, new Map([['ci/1', 'i-0123456789abcdef0']])), [{ targetGroupArn: TG, id: 'i-0123456789abcdef0', port: 32768 }]);
  });

  it('awsvpc: the task\'s private IP and the container port', () => {
    const t = task([{ name: 'web', networkInterfaces: [{ attachmentId: 'a', privateIpv4Address: '10.0.3.7' }], networkBindings: [] }]);
    assert.deepEqual(taskTargets(t, refs, new Map()), [{ targetGroupArn: TG, id: '10.0.3.7', port: 8080 }]);
  });

  it('none until the port is bound (the task is not running yet)', () => {
    assert.deepEqual(taskTargets(task([{ name: 'web' }]), refs, new Map([['ci/1', 'i-0123456789abcdef0']])), []);
    assert.deepEqual(lbHealthOf([], undefined, 1), { state: 'initial' });
  });

  it('health: all healthy → healthy, any unhealthy → unhealthy (named), otherwise initial; unchecked groups count registered targets healthy', () => {
    const a = { targetGroupArn: TG, id: 'i-0123456789abcdef0', port: 32768 };
    const b = { ...a, port: 32769 };
    const snap = (states: Record<number, string>, checked = true): LbSnapshot => ({ checked, health: new Map(Object.entries(states).map(([p, state]) => [lbKey({ ...a, port: Number(p) }), { state, reason: state === 'unhealthy' ? 'Target.ResponseCodeMismatch' : undefined }])) });
    assert.deepEqual(lbHealthOf([a, b], snap({ 32768: 'healthy', 32769: 'healthy' }), 2), { state: 'healthy' });
    assert.deepEqual(lbHealthOf([a, b], snap({ 32768: 'healthy', 32769: 'initial' }), 2), { state: 'initial' });
    assert.deepEqual(lbHealthOf([a, b], snap({ 32768: 'healthy' }), 2), { state: 'initial' });
    assert.deepEqual(lbHealthOf([a, b], snap({ 32768: 'healthy', 32769: 'unhealthy' }), 2), {
      state: 'unhealthy',
      unhealthy: { targetGroupArn: TG, port: 32769, instance: 'i-0123456789abcdef0', reason: 'Health checks failed' },
    });
    assert.deepEqual(lbHealthOf([a], snap({ 32768: 'initial' }, false), 1), { state: 'healthy' });
  });
});
