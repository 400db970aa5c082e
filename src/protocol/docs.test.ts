/** docs/agent-protocol.md and src/protocol/v1.ts must describe the same messages and fields. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { PROTOCOL_VERSION, RegisterRequest, TaskReport, majorOf, protocolSchemas } from './index.js';

const doc = readFileSync(new URL('../../docs/agent-protocol.md', import.meta.url), 'utf8');
const messages = doc.slice(doc.indexOf('## Messages'));
const sections = new Map(
  messages
    .split(/^### /m)
    .slice(1)
    .map((s) => [s.slice(0, s.indexOf('\n')).trim(), s] as const),
);

describe('agent protocol documentation', () => {
  it('documents every schema, and documents no message the code lacks', () => {
    assert.deepEqual([...sections.keys()].sort(), Object.keys(protocolSchemas).sort());
  });

  it('documents every field of every message', () => {
    for (const [name, schema] of Object.entries(protocolSchemas)) {
      if (!(schema instanceof z.ZodObject)) continue;
      const section = sections.get(name)!;
      for (const field of Object.keys(schema.shape)) {
        assert.ok(section.includes(`\`${field}\``), `docs/agent-protocol.md: ${name}.${field} is not described`);
      }
    }
  });

  it('states the version the code speaks', () => {
    assert.ok(doc.startsWith(`# Dockyard agent protocol, version ${PROTOCOL_VERSION}`));
  });
});

describe('agent protocol schemas', () => {
  const register = {
    protocolVersion: '1.1',
    instanceId: '0123456789abcdef0123456789abcdef',
    cluster: 'default',
    resources: { cpu: 2048, memory: 4096, ports: ['22'], portsUdp: [] },
    attributes: [{ name: 'ecs.os-type', value: 'linux' }],
    versionInfo: { agentVersion: '0.1.0' },
  };

  it('accepts a well-formed registration and rejects malformed ones', () => {
    assert.equal(RegisterRequest.safeParse(register).success, true);
    assert.equal(RegisterRequest.safeParse({ ...register, protocolVersion: 'one' }).success, false);
    assert.equal(RegisterRequest.safeParse({ ...register, instanceId: 'a/b' }).success, false);
    assert.equal(RegisterRequest.safeParse({ ...register, resources: { ...register.resources, cpu: -1 } }).success, false);
  });

  it('reads the major version', () => {
    assert.equal(majorOf('1.0'), 1);
    assert.equal(majorOf('2.7'), 2);
    assert.equal(majorOf('1'), undefined);
  });

  it('only accepts ECS statuses in reports', () => {
    const report = { taskArn: 't', seq: 1, lastStatus: 'RUNNING', containers: [{ name: 'web', lastStatus: 'RUNNING' }] };
    assert.equal(TaskReport.safeParse(report).success, true);
    assert.equal(TaskReport.safeParse({ ...report, lastStatus: 'DONE' }).success, false);
    assert.equal(TaskReport.safeParse({ ...report, containers: [{ name: 'web', lastStatus: 'CREATED' }] }).success, false);
  });
});
