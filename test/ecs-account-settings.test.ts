/** ECS account settings through the SDK v3: explicit values, account defaults, effective view. */
import {
  DeleteAccountSettingCommand,
  ListAccountSettingsCommand,
  PutAccountSettingCommand,
  PutAccountSettingDefaultCommand,
} from '@aws-sdk/client-ecs';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { rejectsWith } from './fixtures/aws-errors.js';
import { startDockyard, type TestDockyard } from './helpers/dockyard.js';

const ROOT = 'arn:aws:iam::123456789012:root';

describe('account settings (SDK v3)', () => {
  let t: TestDockyard;
  before(async () => {
    t = await startDockyard({ accountId: '123456789012' });
  });
  after(() => t.stop());

  test('PutAccountSetting sets a value for the calling principal; ListAccountSettings shows it', async () => {
    const put = await t.ecs.send(new PutAccountSettingCommand({ name: 'containerInsights', value: 'enabled' }));
    assert.deepEqual(put.setting, { name: 'containerInsights', value: 'enabled', principalArn: ROOT, type: 'user' });
    const listed = await t.ecs.send(new ListAccountSettingsCommand({}));
    assert.deepEqual(listed.settings, [{ name: 'containerInsights', value: 'enabled', principalArn: ROOT, type: 'user' }]);
    const byName = await t.ecs.send(new ListAccountSettingsCommand({ name: 'containerInsights' }));
    assert.equal(byName.settings!.length, 1);
  });

  test('PutAccountSettingDefault shows up in the effective settings of a principal without its own value', async () => {
    await t.ecs.send(new PutAccountSettingDefaultCommand({ name: 'awsvpcTrunking', value: 'enabled' }));
    const effective = await t.ecs.send(new ListAccountSettingsCommand({ effectiveSettings: true, name: 'awsvpcTrunking' }));
    assert.deepEqual(effective.settings!.map((s) => [s.name, s.value]), [['awsvpcTrunking', 'enabled']]);
    const all: { name?: string; value?: string }[] = [];
    let nextToken: string | undefined;
    for (let i = 0; i < 20; i++) {
      const page = await t.ecs.send(new ListAccountSettingsCommand({ effectiveSettings: true, maxResults: 3, nextToken }));
      all.push(...page.settings!);
      nextToken = page.nextToken;
      if (!nextToken) break;
    }
    const byName = new Map(all.map((s) => [s.name, s.value]));
    assert.equal(byName.get('containerInsights'), 'enabled');
    assert.equal(byName.get('awsvpcTrunking'), 'enabled');
    assert.equal(byName.get('taskLongArnFormat'), 'enabled');
    assert.equal(new Set(all.map((s) => s.name)).size, all.length, 'no setting repeated across pages');
  });

  test('DeleteAccountSetting removes the explicit value', async () => {
    await t.ecs.send(new PutAccountSettingCommand({ name: 'fargateFIPSMode', value: 'enabled' }));
    const removed = await t.ecs.send(new DeleteAccountSettingCommand({ name: 'fargateFIPSMode' }));
    assert.equal(removed.setting!.value, 'enabled');
    const listed = await t.ecs.send(new ListAccountSettingsCommand({ name: 'fargateFIPSMode' }));
    assert.deepEqual(listed.settings, []);
  });

  test('bad names and values are InvalidParameterException and change nothing', async () => {
    await rejectsWith(t.ecs.send(new PutAccountSettingCommand({ name: 'containerInsights', value: 'sometimes' })), 'InvalidParameterException');
    await rejectsWith(t.ecs.send(new PutAccountSettingCommand({ name: 'notASetting' as never, value: 'enabled' })), 'InvalidParameterException');
    const listed = await t.ecs.send(new ListAccountSettingsCommand({ name: 'containerInsights' }));
    assert.equal(listed.settings![0]!.value, 'enabled');
  });
});
