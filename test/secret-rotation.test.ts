/**
 * RotateSecret with a container task as the rotation step (the contract in
 * src/services/secretsmanager/rotation.ts), on the simulated runtime: the test plays the rotator
 * container (it writes AWSPENDING with the token the task was given) while the task runs; when
 * the task exits 0 Dockyard moves AWSCURRENT. A task that wrote nothing leaves AWSCURRENT alone.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DescribeTasksCommand, ListTasksCommand, RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import {
  CancelRotateSecretCommand,
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  RotateSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { SimulatedRuntime } from '../src/agent/index.js';
import { credentials, type TestDockyard } from './helpers/dockyard.js';
import { errorOf } from './helpers/errors.js';
import { startWithAgent } from './agent/helpers.js';

let d: TestDockyard;
let sm: SecretsManagerClient;
let rotator: string;
before(async () => {
  // Rotation tasks "run" 1.5 s and exit 0; the controller looks every second.
  d = await startWithAgent({ config: { secretsRotationIntervalSeconds: 1 }, app: { agentRuntime: new SimulatedRuntime({ runForMs: 1500, exitCode: 0 }) } });
  sm = new SecretsManagerClient({ endpoint: d.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
  rotator = (await d.ecs.send(new RegisterTaskDefinitionCommand({ family: 'rotator', containerDefinitions: [{ name: 'rotate', image: 'rotator:1', memory: 32 }] }))).taskDefinition!.taskDefinitionArn!;
});
after(async () => {
  sm.destroy();
  await d.stop();
});


async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The environment the rotation task's container was given. */
async function rotationEnv(): Promise<Record<string, string>> {
  const arns = (await d.ecs.send(new ListTasksCommand({ cluster: 'default', startedBy: 'secretsmanager-rotation' }))).taskArns!;
  assert.ok(arns.length > 0, 'a rotation task runs');
  const task = (await d.ecs.send(new DescribeTasksCommand({ cluster: 'default', tasks: [arns.at(-1)!] }))).tasks![0]!;
  return Object.fromEntries(task.overrides!.containerOverrides![0]!.environment!.map((e) => [e.name!, e.value!]));
}

describe('RotateSecret with a rotation task', () => {
  test('the task writes AWSPENDING with its token; when it exits 0 AWSCURRENT moves to it; schedule recorded', async () => {
    const created = await sm.send(new CreateSecretCommand({ Name: 'db/rotated', SecretString: 'v1' }));
    const rotated = await sm.send(new RotateSecretCommand({ SecretId: 'db/rotated', RotationLambdaARN: rotator, RotationRules: { AutomaticallyAfterDays: 30 } }));
    assert.ok(rotated.VersionId);
    const env = await rotationEnv();
    assert.deepEqual(env, { SECRETS_MANAGER_SECRET_ID: created.ARN, SECRETS_MANAGER_CLIENT_REQUEST_TOKEN: rotated.VersionId });
    // The rotator's createSecret step.
    await sm.send(new PutSecretValueCommand({ SecretId: env.SECRETS_MANAGER_SECRET_ID, ClientRequestToken: env.SECRETS_MANAGER_CLIENT_REQUEST_TOKEN, SecretString: 'v2', VersionStages: ['AWSPENDING'] }));
    assert.equal((await errorOf(sm.send(new RotateSecretCommand({ SecretId: 'db/rotated' })))).name, 'InvalidRequestException', 'one rotation at a time');
    const retried = await sm.send(new RotateSecretCommand({ SecretId: 'db/rotated', ClientRequestToken: rotated.VersionId }));
    assert.equal(retried.VersionId, rotated.VersionId, 'a retry with the same token is the same rotation');
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: 'db/rotated' }))).SecretString, 'v1', 'AWSCURRENT waits for the task');
    await until('AWSCURRENT to move', async () => ((await sm.send(new GetSecretValueCommand({ SecretId: 'db/rotated' }))).SecretString === 'v2' ? true : undefined));
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: 'db/rotated', VersionStage: 'AWSPREVIOUS' }))).SecretString, 'v1');
    const desc = await sm.send(new DescribeSecretCommand({ SecretId: 'db/rotated' }));
    assert.equal(desc.RotationEnabled, true);
    assert.equal(desc.RotationLambdaARN, rotator);
    assert.deepEqual(desc.RotationRules, { AutomaticallyAfterDays: 30 });
    assert.ok(desc.LastRotatedDate instanceof Date);
    const days = (desc.NextRotationDate!.getTime() - desc.LastRotatedDate!.getTime()) / 86400_000;
    assert.ok(Math.abs(days - 30) < 0.01, `next rotation in ${days} days`);
    assert.deepEqual(desc.VersionIdsToStages![rotated.VersionId!], ['AWSCURRENT'], 'AWSPENDING is removed');
  });

  test('a task that writes no pending value leaves AWSCURRENT alone; cancel turns rotation off', async () => {
    await sm.send(new CreateSecretCommand({ Name: 'db/unchanged', SecretString: 'keep' }));
    await sm.send(new RotateSecretCommand({ SecretId: 'db/unchanged', RotationLambdaARN: 'rotator', RotationRules: { ScheduleExpression: 'rate(10 days)' } }));
    // The rotation ends (failed) once the task stopped: a new RotateSecret is accepted again.
    await until('the failed rotation to end', async () => {
      const e = await sm.send(new RotateSecretCommand({ SecretId: 'db/unchanged', RotateImmediately: false })).then(() => undefined, (x: Error) => x);
      return e === undefined ? true : undefined;
    });
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: 'db/unchanged' }))).SecretString, 'keep');
    const desc = await sm.send(new DescribeSecretCommand({ SecretId: 'db/unchanged' }));
    assert.equal(desc.LastRotatedDate, undefined);
    assert.equal(desc.RotationEnabled, true);
    await sm.send(new CancelRotateSecretCommand({ SecretId: 'db/unchanged' }));
    assert.equal((await sm.send(new DescribeSecretCommand({ SecretId: 'db/unchanged' }))).RotationEnabled, false);
  });

  test('bad input: a Lambda ARN, cron, both rules, no task', async () => {
    await sm.send(new CreateSecretCommand({ Name: 'db/bad', SecretString: 'x' }));
    const cases: [Record<string, unknown>, string][] = [
      [{ RotationLambdaARN: 'arn:aws:lambda:us-east-1:000000000000:function:rotate' }, 'InvalidParameterException'],
      [{ RotationLambdaARN: rotator, RotationRules: { ScheduleExpression: 'cron(0 12 * * ? *)' } }, 'InvalidParameterException'],
      [{ RotationLambdaARN: rotator, RotationRules: { AutomaticallyAfterDays: 3, ScheduleExpression: 'rate(3 days)' } }, 'InvalidParameterException'],
      [{}, 'InvalidRequestException'],
      [{ RotationLambdaARN: 'missing-family' }, 'InvalidRequestException'],
    ];
    for (const [input, code] of cases) {
      assert.equal((await errorOf(sm.send(new RotateSecretCommand({ SecretId: 'db/bad', ...input })))).name, code, JSON.stringify(input));
    }
    assert.equal((await sm.send(new DescribeSecretCommand({ SecretId: 'db/bad' }))).RotationEnabled, false, 'nothing half-written');
  });
});
