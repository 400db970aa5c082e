/**
 * A 1.3 agent against a control plane that predates the task-stats call (a fake speaking 1.2):
 * the agent runs its task, gets a plain 404 for task-stats once, and stops sending stats.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Agent, SimulatedRuntime } from '../../src/agent/index.js';
import { containerSpec } from '../../src/agent/testing.js';
import type { TaskAssignment } from '../../src/protocol/index.js';
import { quiet, sleep } from './helpers.js';

describe('task stats against a control plane before protocol 1.3', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dockyard-stats-compat-'));
  let server: Server | undefined;
  let agent: Agent | undefined;
  after(async () => {
    await agent?.close();
    await new Promise((r) => server?.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('stops sending after the 404', async () => {
    const arn = 'arn:aws:ecs:us-east-1:000000000000:container-instance/c/x';
    const task: TaskAssignment = { taskArn: 'arn:aws:ecs:us-east-1:000000000000:task/c/1', clusterArn: 'arn:c', taskDefinitionArn: 'arn:td', family: 'web', desiredStatus: 'RUNNING', networkMode: 'bridge', volumes: [], containers: [containerSpec('app')] };
    const calls: string[] = [];
    server = createServer((req, res) => {
      const path = (req.url ?? '').split('?')[0]!;
      calls.push(path);
      req.resume();
      req.on('end', () => {
        const json = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
        if (path.endsWith('/register')) return json(200, { protocolVersion: '1.2', containerInstanceArn: arn, clusterArn: 'arn:c', heartbeatIntervalMs: 60_000, heartbeatTtlMs: 180_000 });
        if (path.endsWith('/heartbeat')) return json(200, { status: 'ACTIVE', agentConnected: true });
        if (path.endsWith('/assignments')) return setTimeout(() => json(200, { index: 1, digest: 'd', containerInstanceArn: arn, instanceStatus: 'ACTIVE', tasks: [task] }), 50);
        if (path.endsWith('/reports')) return json(200, { acknowledged: [task.taskArn], unknown: [] });
        // What fastify answers for a route it does not have.
        json(404, { message: `Route ${req.method}:${path} not found`, error: 'Not Found', statusCode: 404 });
      });
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    agent = new Agent({ endpoint: `http://127.0.0.1:${port}`, cluster: 'c', stateDir: dir, credential: 'secret', runtime: new SimulatedRuntime({ usage: () => ({ cpuPercent: 50 }) }), log: quiet, pollWaitMs: 1000, statsIntervalMs: 50 });
    await agent.start();
    const deadline = Date.now() + 10_000;
    while (!calls.includes('/agent/v1/task-stats') && Date.now() < deadline) await sleep(50);
    assert.ok(calls.includes('/agent/v1/task-stats'), 'the agent tried task-stats');
    await sleep(500); // ten more sampling rounds
    assert.equal(calls.filter((c) => c === '/agent/v1/task-stats').length, 1);
  });
});
