/**
 * A Docker call that passes its limit is cancelled, not left running: withTimeout aborts the
 * signal it handed out, and DockerRuntime hands that signal to dockerode, whose HTTP request to
 * the daemon then closes. The daemon here is a fake Engine API on a unix socket that never
 * answers, so the test can see the request go away.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DockerRuntime } from './docker.js';
import { withTimeout } from './timeouts.js';

describe('withTimeout', () => {
  it('rejects at the limit and aborts the signal it gave the call', async () => {
    let seen: AbortSignal | undefined;
    const started = Date.now();
    await assert.rejects(
      withTimeout(50, 'start', (signal) => {
        seen = signal;
        return new Promise(() => undefined); // ignores its signal: the limit still wins
      }),
      { message: 'Docker start timed out after 50 ms' },
    );
    assert.ok(Date.now() - started < 1000);
    assert.equal(seen?.aborted, true);
  });

  it('settles with the call when it finishes in time, leaving the signal alone', async () => {
    let seen: AbortSignal | undefined;
    assert.equal(await withTimeout(1000, 'inspect', async (signal) => ((seen = signal), 42)), 42);
    assert.equal(seen?.aborted, false);
    await assert.rejects(withTimeout(1000, 'inspect', async () => Promise.reject(new Error('no such container'))), { message: 'no such container' });
  });
});

describe('DockerRuntime cancels the Engine API request it gives up on', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dockyard-fake-docker-'));
  const socketPath = join(dir, 'docker.sock');
  /** Requests the fake daemon received, and whether the client closed each before an answer. */
  const requests: { method: string; url: string; closed: Promise<void> }[] = [];
  const daemon = createServer((req: IncomingMessage) => {
    // Never answer: a hung daemon.
    requests.push({ method: req.method!, url: req.url!, closed: new Promise((resolve) => req.socket.once('close', () => resolve())) });
  });

  before(() => new Promise<void>((resolve) => daemon.listen(socketPath, resolve)));
  after(async () => {
    daemon.closeAllConnections();
    await new Promise((resolve) => daemon.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  const runtime = new DockerRuntime({ socketPath, instanceId: 'test-instance', timeouts: { start: 100, create: 100, pull: 100, imageInspect: 100 } });
  const bounded = <T>(p: Promise<T>) => Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the request was not closed')), 2000))]);

  for (const { what, call, path } of [
    { what: 'start', call: () => runtime.start('abc123'), path: /^\/(v[\d.]+\/)?containers\/abc123\/start/ },
    // prefer-cached inspects the image first (that times out too), then pulls.
    { what: 'pull', call: () => runtime.pull('127.0.0.1:1/never:1', undefined), path: /^\/(v[\d.]+\/)?images\/create\?/ },
  ]) {
    it(`${what}: fails at its limit and closes the request to the daemon`, async () => {
      const before = requests.length;
      await assert.rejects(call(), new RegExp(`timed out after 100 ms`));
      const sent = requests.slice(before).filter((r) => path.test(r.url));
      assert.equal(sent.length, 1, `one ${what} request reached the daemon: ${requests.slice(before).map((r) => r.url).join(', ')}`);
      // Every request the call made was closed, not only the last one.
      for (const r of requests.slice(before)) await bounded(r.closed);
    });
  }
});
