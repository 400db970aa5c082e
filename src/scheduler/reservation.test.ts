import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SchedulerInputError } from './errors.js';
import { cpuUnits, memoryMiB, taskReservation } from './reservation.js';
import { taskDefinition } from './testing.js';

describe('taskReservation', () => {
  it('sums container cpu, and memoryReservation when set else memory, when the task has no task-level values', () => {
    const td = taskDefinition({
      containerDefinitions: [
        { name: 'app', cpu: 256, memory: 512 },
        { name: 'sidecar', cpu: 128, memory: 1024, memoryReservation: 256 },
        { name: 'log', memoryReservation: 64 },
      ],
    });
    const r = taskReservation(td);
    assert.equal(r.cpu, 384);
    assert.equal(r.memory, 512 + 256 + 64);
  });

  it('uses task-level cpu and memory when set, in units, vCPU and GB', () => {
    assert.deepEqual(taskReservation(taskDefinition({ cpu: '512', memory: '1024' })).cpu, 512);
    const r = taskReservation(taskDefinition({ cpu: '0.25 vCPU', memory: '2 GB' }));
    assert.equal(r.cpu, 256);
    assert.equal(r.memory, 2048);
    assert.equal(taskReservation(taskDefinition({ cpu: '1vcpu', memory: '0.5GB' })).memory, 512);
  });

  it('applies task and container overrides', () => {
    const td = taskDefinition({
      containerDefinitions: [
        { name: 'app', cpu: 256, memory: 512 },
        { name: 'sidecar', cpu: 128, memory: 128 },
      ],
    });
    const containerLevel = taskReservation(td, { containerOverrides: [{ name: 'app', cpu: 1024, memoryReservation: 300 }] });
    assert.equal(containerLevel.cpu, 1024 + 128);
    assert.equal(containerLevel.memory, 300 + 128);
    const taskLevel = taskReservation(taskDefinition({ cpu: '256', memory: '512' }), { cpu: '2048', memory: '4096' });
    assert.deepEqual([taskLevel.cpu, taskLevel.memory], [2048, 4096]);
  });

  it('maps ports by network mode: bridge static/dynamic, host = containerPort, awsvpc and none none', () => {
    const containers = [
      {
        name: 'app',
        cpu: 0,
        memory: 128,
        portMappings: [{ containerPort: 8080, hostPort: 80 }, { containerPort: 9090 }, { containerPort: 53, hostPort: 5353, protocol: 'udp' }],
      },
    ];
    assert.deepEqual(taskReservation(taskDefinition({ containerDefinitions: containers })).hostPorts, [
      { containerName: 'app', containerPort: 8080, hostPort: 80, protocol: 'tcp' },
      { containerName: 'app', containerPort: 9090, hostPort: 0, protocol: 'tcp' },
      { containerName: 'app', containerPort: 53, hostPort: 5353, protocol: 'udp' },
    ]);
    assert.deepEqual(
      taskReservation(taskDefinition({ networkMode: 'host', containerDefinitions: containers })).hostPorts.map((b) => b.hostPort),
      [8080, 9090, 53],
    );
    assert.deepEqual(taskReservation(taskDefinition({ networkMode: 'awsvpc', containerDefinitions: containers })).hostPorts, []);
    assert.deepEqual(taskReservation(taskDefinition({ networkMode: 'none', containerDefinitions: containers })).hostPorts, []);
  });

  it('rejects task-level values it cannot read', () => {
    assert.throws(() => taskReservation(taskDefinition({ cpu: 'lots' })), SchedulerInputError);
    assert.throws(() => taskReservation(taskDefinition({ memory: '2 TB' })), /Invalid 'memory'/);
  });
});

// The forms the RegisterTaskDefinition reference documents: cpu "an integer using CPU units (for
// example, 1024) or as a string using vCPUs (for example, 1 vCPU or 1 vcpu)"; memory "an integer
// using MiB (for example, 1024) or as a string using GB (for example, 1GB or 1 GB)". The Fargate
// table pairs them: 256 (.25 vCPU), 512 (0.5 GB), 3072 (3 GB).
describe('cpuUnits and memoryMiB: the task-size forms ECS documents, and only those', () => {
  it('reads CPU units and vCPUs', () => {
    const cases: [string, number][] = [['1024', 1024], ['256', 256], ['1 vCPU', 1024], ['1 vcpu', 1024], ['.25 vCPU', 256], ['0.25 vcpu', 256], ['2vCPU', 2048], [' 4 VCPU ', 4096]];
    for (const [text, units] of cases) assert.equal(cpuUnits(text), units, text);
  });

  it('reads MiB and GB (1 GB = 1024 MiB, as ECS registers "3GB" as 3072)', () => {
    const cases: [string, number][] = [['512', 512], ['1GB', 1024], ['1 GB', 1024], ['0.5 GB', 512], ['3GB', 3072], ['2 gb', 2048]];
    for (const [text, mib] of cases) assert.equal(memoryMiB(text), mib, text);
  });

  it('refuses undocumented forms instead of guessing their unit', () => {
    for (const text of ['', 'lots', '1.5', '1 core', '1024 units', '-256', '1 vCPUs']) assert.equal(cpuUnits(text), undefined, text);
    for (const text of ['', '2 TB', '512 MiB', '1 GiB', '512MB', '1.5', 'GB']) assert.equal(memoryMiB(text), undefined, text);
  });

  it('task sizes in any documented form reserve what they say, and others fail placement', () => {
    const td = taskDefinition({ cpu: '0.5 vCPU', memory: '1 GB' });
    assert.deepEqual([taskReservation(td).cpu, taskReservation(td).memory], [512, 1024]);
    assert.throws(() => taskReservation(taskDefinition({ memory: '1 GiB' })), SchedulerInputError);
  });
});
