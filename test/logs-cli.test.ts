/**
 * CloudWatch Logs through AWS CLI v1 (`aws`) and v2 (/usr/bin/aws): groups, streams,
 * put-log-events, get-log-events, filter-log-events, `aws logs tail` and `tail --follow`
 * (which polls FilterLogEvents).
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { AWS_CLI_V2, requireCliV1 } from './helpers/aws-cli.js';
import { startDockyard, type TestDockyard } from './helpers/dockyard.js';

const run = promisify(execFile);
const CLIS = [
  { name: 'v1', bin: () => requireCliV1() },
  { name: 'v2', bin: () => AWS_CLI_V2 },
];

let d: TestDockyard;
before(async () => {
  d = await startDockyard();
});
after(async () => {
  await d.stop();
});

async function cli(bin: string, args: string[], output: 'json' | 'text' = 'json') {
  try {
    const { stdout } = await run(bin, [...args, '--endpoint-url', d.endpoint, '--output', output], { env: d.cliEnv, timeout: 60_000, maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, out: stdout, json: output === 'json' && stdout.trim() ? JSON.parse(stdout) : undefined, stderr: '' };
  } catch (e) {
    const err = e as { code?: number; stderr?: string };
    return { code: err.code ?? -1, out: '', json: undefined, stderr: err.stderr ?? '' };
  }
}

for (const { name, bin: binOf } of CLIS) {
  describe(`AWS CLI ${name}`, () => {
    const group = `/cli/${name}`;

    test('groups, streams, put-log-events, get-log-events and filter-log-events; errors as AWS words them', async () => {
      const bin = binOf();
      assert.equal((await cli(bin, ['logs', 'create-log-group', '--log-group-name', group])).code, 0);
      const dup = await cli(bin, ['logs', 'create-log-group', '--log-group-name', group]);
      assert.notEqual(dup.code, 0);
      assert.match(dup.stderr, /ResourceAlreadyExistsException/);
      assert.equal((await cli(bin, ['logs', 'create-log-stream', '--log-group-name', group, '--log-stream-name', 'main'])).code, 0);
      const now = Date.now();
      const events = Array.from({ length: 50 }, (_, i) => ({ timestamp: now - 50 + i, message: `numbered ${i + 1}` }));
      const put = await cli(bin, ['logs', 'put-log-events', '--log-group-name', group, '--log-stream-name', 'main', '--log-events', JSON.stringify(events)]);
      assert.equal(put.code, 0, put.stderr);
      const got = await cli(bin, ['logs', 'get-log-events', '--log-group-name', group, '--log-stream-name', 'main', '--start-from-head']);
      assert.deepEqual(got.json.events.map((e: { message: string }) => e.message), events.map((e) => e.message));
      const filtered = await cli(bin, ['logs', 'filter-log-events', '--log-group-name', group, '--filter-pattern', '"numbered 4"']);
      assert.deepEqual(filtered.json.events.map((e: { message: string }) => e.message), ['numbered 4', 'numbered 40', 'numbered 41', 'numbered 42', 'numbered 43', 'numbered 44', 'numbered 45', 'numbered 46', 'numbered 47', 'numbered 48', 'numbered 49']);
      // The CLI pages FilterLogEvents itself (--page-size): every event once, in order.
      const paged = await cli(bin, ['logs', 'filter-log-events', '--log-group-name', group, '--page-size', '7']);
      assert.deepEqual(paged.json.events.map((e: { message: string }) => e.message), events.map((e) => e.message));
      const groups = await cli(bin, ['logs', 'describe-log-groups', '--log-group-name-prefix', '/cli/']);
      assert.ok(groups.json.logGroups.some((g: { logGroupName: string }) => g.logGroupName === group));
      const missing = await cli(bin, ['logs', 'get-log-events', '--log-group-name', group, '--log-stream-name', 'nope']);
      assert.match(missing.stderr, /ResourceNotFoundException.*The specified log stream does not exist/);
      assert.equal((await cli(bin, ['logs', 'put-retention-policy', '--log-group-name', group, '--retention-in-days', '7'])).code, 0);
      assert.equal((await cli(bin, ['logs', 'tag-log-group', '--log-group-name', group, '--tags', 'team=a'])).code, 0);
      assert.deepEqual((await cli(bin, ['logs', 'list-tags-log-group', '--log-group-name', group])).json.tags, { team: 'a' });
    });

    // `aws logs tail` is a v2 command (v1 has none).
    // Only defined where the command exists (a skipped test would count as one that ran).
    const forV2 = name === 'v2' ? test : () => undefined;
    const forV1 = name === 'v1' ? test : () => undefined;
    forV2('aws logs tail prints every line in order', async () => {
      const tail = await cli(binOf(), ['logs', 'tail', group, '--since', '1h', '--format', 'short'], 'text');
      assert.equal(tail.code, 0, tail.stderr);
      const lines = tail.out.trim().split('\n').map((l) => l.replace(/^\S+\s+/, ''));
      assert.deepEqual(lines, Array.from({ length: 50 }, (_, i) => `numbered ${i + 1}`));
    });

    forV2('aws logs tail --follow shows a line written after it started', async () => {
      const bin = binOf();
      const child = spawn(bin, ['logs', 'tail', group, '--follow', '--since', '1h', '--format', 'short', '--endpoint-url', d.endpoint], { env: d.cliEnv, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (b: Buffer) => (out += b.toString()));
      const waitFor = async (text: string) => {
        // Bounded generously: the CLI polls every 5 s (no timing is asserted).
        for (let i = 0; i < 600 && !out.includes(text); i++) await new Promise((r) => setTimeout(r, 100));
        return out.includes(text);
      };
      try {
        assert.ok(await waitFor('numbered 50'), `tail --follow printed the existing lines: ${out.slice(-200)}`);
        const put = await cli(bin, ['logs', 'put-log-events', '--log-group-name', group, '--log-stream-name', 'main', '--log-events', JSON.stringify([{ timestamp: Date.now(), message: 'after follow started' }])]);
        assert.equal(put.code, 0, put.stderr);
        assert.ok(await waitFor('after follow started'), `tail --follow printed the new line: ${out.slice(-200)}`);
        assert.equal(out.split('\n').filter((l) => l.endsWith('numbered 50')).length, 1, 'no line printed twice');
      } finally {
        child.kill('SIGINT');
        await new Promise((r) => child.once('exit', r));
      }
    });

    // StartLiveTail came after this v2 build; v1 (botocore 1.43) has it. The `streaming-` host prefix cannot go on an IP address.
    forV1('aws logs start-live-tail streams new lines (event stream)', async () => {
      const bin = binOf();
      const child = spawn(bin, ['logs', 'start-live-tail', '--log-group-identifiers', group, '--endpoint-url', d.endpoint], {
        env: { ...d.cliEnv, AWS_DISABLE_HOST_PREFIX_INJECTION: 'true' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (b: Buffer) => (out += b.toString()));
      try {
        // The session sees what is stored after it starts: write until a line shows (bounded; no timing asserted).
        for (let i = 0; i < 60 && !out.includes('live line'); i++) {
          const put = await cli(bin, ['logs', 'put-log-events', '--log-group-name', group, '--log-stream-name', 'main', '--log-events', JSON.stringify([{ timestamp: Date.now(), message: `live line ${i}` }])]);
          assert.equal(put.code, 0, put.stderr);
          await new Promise((r) => setTimeout(r, 1000));
        }
        assert.match(out, /live line \d+/);
      } finally {
        child.kill('SIGINT');
        await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));
      }
    });
  });
}
