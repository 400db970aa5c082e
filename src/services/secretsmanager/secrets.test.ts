/** Secrets over an in-memory store with a clock the test moves: the recovery window, and rotations becoming due. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SecretBox } from '../../core/secret-box.js';
import { SqliteStore } from '../../store/sqlite.js';
import { Rotation, type RotationRunner } from './rotation.js';
import { Secrets } from './secrets.js';

const scope = { accountId: '000000000000', region: 'us-east-1' };
const DAY = 86400;

function setup(runner?: RotationRunner) {
  let t = 1_800_000_000;
  const clock = { now: () => t };
  const store = new SqliteStore(':memory:');
  const secrets = new Secrets(store, clock, SecretBox.forDataDir(':memory:'));
  return { store, secrets, rotation: new Rotation(store, clock, secrets, runner), advance: (s: number) => (t += s) };
}

describe('Secrets with a moving clock', () => {
  it('a deleted secret is hidden, then purged, once its recovery window has passed; its name is free again', async () => {
    const { store, secrets, advance } = setup();
    await secrets.create(scope, { Name: 'old', SecretString: 'v' });
    await secrets.delete(scope, { SecretId: 'old', RecoveryWindowInDays: 7 });
    advance(6 * DAY);
    assert.equal(await secrets.purgeDue(), 0);
    assert.ok((await secrets.describe(scope, 'old')).DeletedDate);
    advance(2 * DAY);
    await assert.rejects(secrets.describe(scope, 'old'), (e: Error & { code?: string }) => e.code === 'ResourceNotFoundException');
    assert.equal(await secrets.purgeDue(), 1);
    await secrets.create(scope, { Name: 'old', SecretString: 'new' });
    assert.equal((await secrets.getValue(scope, 'old')).SecretString, 'new');
    await store.close();
  });

  it('a scheduled rotation starts when due, not before; one that ran over an hour has failed', async () => {
    const runs: string[] = [];
    const runner: RotationRunner = {
      run: async (_s, td) => {
        runs.push(td);
        return `arn:aws:ecs:us-east-1:000000000000:task/default/${runs.length}`;
      },
      outcome: async () => 'RUNNING',
    };
    const { store, secrets, rotation, advance } = setup(runner);
    await secrets.create(scope, { Name: 's', SecretString: 'v' });
    await rotation.rotate(scope, { SecretId: 's', RotationLambdaARN: 'rotator', RotationRules: { AutomaticallyAfterDays: 2 }, RotateImmediately: false });
    assert.deepEqual(await rotation.tick(), { started: 0, finished: 0, failed: 0 });
    advance(2 * DAY + 1);
    assert.deepEqual(await rotation.tick(), { started: 1, finished: 0, failed: 0 });
    assert.deepEqual(runs, ['rotator']);
    assert.deepEqual(await rotation.tick(), { started: 0, finished: 0, failed: 0 }, 'still running');
    advance(3601);
    assert.deepEqual(await rotation.tick(), { started: 0, finished: 0, failed: 1 });
    assert.equal((await secrets.getValue(scope, 's')).SecretString, 'v');
    await store.close();
  });
});
