/** The control plane's role-credentials cache, over a test double of STS's RoleCredentialsIssuer. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RoleCredentialsIssuer, TemporaryCredentials } from '../iam/principal.js';
import { assumedRoleArn, ECS_TASKS_SERVICE, RoleCredentialsVendor } from './role-credentials.js';

const TASK = 'arn:aws:ecs:us-east-1:000000000000:task/default/abc123';
const ROLE = 'arn:aws:iam::000000000000:role/app';

/** Mints numbered credentials valid for `durationSeconds` from the fake clock; refuses roles named `refused`. */
function fakeIssuer(clock: { now: number }) {
  const calls: { roleArn: string; sessionName: string; service: string; durationSeconds?: number }[] = [];
  const issuer: RoleCredentialsIssuer = {
    async issueForService(roleArn, opts) {
      calls.push({ roleArn, ...opts });
      if (roleArn.endsWith('/refused')) throw new Error(`trust policy of ${roleArn} does not allow ${opts.service}`);
      const n = calls.length;
      return { accessKeyId: `ASIA${n}`, secretAccessKey: `s${n}`, sessionToken: `t${n}`, expiration: new Date(clock.now + (opts.durationSeconds ?? 3600) * 1000) } satisfies TemporaryCredentials;
    },
  };
  return { issuer, calls };
}

describe('RoleCredentialsVendor', () => {
  it('mints as ecs-tasks.amazonaws.com with the task id as session name, and reuses until a quarter of the lifetime is left', async () => {
    const clock = { now: 1_000_000 };
    const { issuer, calls } = fakeIssuer(clock);
    const warnings: object[] = [];
    const v = new RoleCredentialsVendor({ issuer, now: () => clock.now, durationSeconds: 3600, log: { warn: (o) => warnings.push(o) } });
    const first = await v.forTask(TASK, ROLE);
    assert.equal(first?.accessKeyId, 'ASIA1');
    assert.deepEqual(calls[0], { roleArn: ROLE, sessionName: 'abc123', service: ECS_TASKS_SERVICE, durationSeconds: 3600 });
    clock.now += 44 * 60_000;
    assert.equal((await v.forTask(TASK, ROLE))?.accessKeyId, 'ASIA1', '16 minutes left: still the same');
    clock.now += 2 * 60_000;
    assert.equal((await v.forTask(TASK, ROLE))?.accessKeyId, 'ASIA2', '14 minutes left: fresh ones');
    assert.equal((await v.forTask(`${TASK}x`, ROLE))?.accessKeyId, 'ASIA3', 'per task');
    assert.equal(warnings.length, 0);
  });

  it('concurrent asks share one mint', async () => {
    const clock = { now: 0 };
    const { issuer, calls } = fakeIssuer(clock);
    const v = new RoleCredentialsVendor({ issuer, now: () => clock.now });
    const all = await Promise.all([v.forTask(TASK, ROLE), v.forTask(TASK, ROLE), v.forTask(TASK, ROLE)]);
    assert.equal(calls.length, 1);
    assert.deepEqual(new Set(all.map((c) => c?.accessKeyId)), new Set(['ASIA1']));
  });

  it('a refused role gives no credentials, a warning without secrets, and is not asked again for 30 s', async () => {
    const clock = { now: 0 };
    const { issuer, calls } = fakeIssuer(clock);
    const warnings: Record<string, unknown>[] = [];
    const v = new RoleCredentialsVendor({ issuer, now: () => clock.now, log: { warn: (o) => warnings.push(o as Record<string, unknown>) } });
    const refused = 'arn:aws:iam::000000000000:role/refused';
    assert.equal(await v.forTask(TASK, refused), undefined);
    assert.equal(await v.forTask(TASK, refused), undefined);
    assert.equal(calls.length, 1);
    assert.match(String(warnings[0]!.err), /does not allow ecs-tasks.amazonaws.com/);
    clock.now += 30_000;
    await v.forTask(TASK, refused);
    assert.equal(calls.length, 2);
  });

  it('names the session as STS does', () => {
    assert.equal(assumedRoleArn('arn:aws:iam::123456789012:role/a/b/exec', 'abc'), 'arn:aws:sts::123456789012:assumed-role/exec/abc');
    assert.throws(() => assumedRoleArn('arn:aws:iam::123456789012:user/x', 'abc'));
  });
});
