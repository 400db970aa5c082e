/**
 * RegisterTaskDefinition's validation through the SDK v3: each bad input gets the exception
 * class ECS uses and leaves nothing behind (the next valid registration of the family is
 * revision 1; ListTaskDefinitions and ListTaskDefinitionFamilies are unchanged).
 */
import {
  ListTaskDefinitionFamiliesCommand,
  ListTaskDefinitionsCommand,
  RegisterTaskDefinitionCommand,
  type ContainerDefinition,
  type RegisterTaskDefinitionCommandInput,
} from '@aws-sdk/client-ecs';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { rejectsWith } from './fixtures/aws-errors.js';
import { startDockyard, type TestDockyard } from './helpers/dockyard.js';

const FAMILY = 'victim';
const web: ContainerDefinition = { name: 'web', image: 'nginx:1.25', memory: 128 };
const ec2 = (containers: ContainerDefinition[], extra: Partial<RegisterTaskDefinitionCommandInput> = {}): RegisterTaskDefinitionCommandInput => ({
  family: FAMILY,
  containerDefinitions: containers,
  ...extra,
});
const fargate = (extra: Partial<RegisterTaskDefinitionCommandInput> = {}): RegisterTaskDefinitionCommandInput => ({
  family: FAMILY,
  requiresCompatibilities: ['FARGATE'],
  networkMode: 'awsvpc',
  cpu: '256',
  memory: '512',
  containerDefinitions: [{ name: 'web', image: 'nginx:1.25', portMappings: [{ containerPort: 80 }] }],
  ...extra,
});

interface BadCase {
  name: string;
  input: RegisterTaskDefinitionCommandInput;
  error: string;
  message?: RegExp;
}

const cases: BadCase[] = [
  // family name rules
  { name: 'family with a space', input: ec2([web], { family: 'my family' }), error: 'ClientException', message: /Family/ },
  { name: 'family with a dot', input: ec2([web], { family: 'app.v1' }), error: 'ClientException' },
  { name: 'family of 256 characters', input: ec2([web], { family: 'f'.repeat(256) }), error: 'ClientException' },
  { name: 'empty family', input: ec2([web], { family: '' }), error: 'ClientException' },
  // containers
  { name: 'no containers', input: ec2([]), error: 'ClientException' },
  { name: 'eleven containers', input: ec2(Array.from({ length: 11 }, (_, i) => ({ ...web, name: `c${i}` }))), error: 'ClientException' },
  { name: 'duplicate container names', input: ec2([web, { ...web }]), error: 'ClientException', message: /Duplicate container names/ },
  { name: 'container without a name', input: ec2([{ image: 'nginx', memory: 64 }]), error: 'ClientException' },
  { name: 'container name with a slash', input: ec2([{ ...web, name: 'a/b' }]), error: 'ClientException' },
  { name: 'container without an image', input: ec2([{ name: 'web', memory: 64 }]), error: 'ClientException' },
  { name: 'no essential container', input: ec2([{ ...web, essential: false }, { ...web, name: 'b', essential: false }]), error: 'ClientException', message: /essential/ },
  // memory and cpu
  { name: 'EC2 container without memory or memoryReservation', input: ec2([{ name: 'web', image: 'nginx' }]), error: 'ClientException', message: /memory/ },
  { name: 'memoryReservation above memory', input: ec2([{ ...web, memory: 64, memoryReservation: 128 }]), error: 'ClientException' },
  { name: 'container memory below 6 MiB', input: ec2([{ ...web, memory: 4 }]), error: 'ClientException' },
  { name: 'container memory above task memory', input: ec2([{ ...web, memory: 2048 }], { memory: '1024' }), error: 'ClientException' },
  { name: 'container cpu above task cpu', input: ec2([{ ...web, cpu: 2048 }], { cpu: '1024' }), error: 'ClientException' },
  { name: 'unparsable task cpu', input: ec2([web], { cpu: 'lots' }), error: 'ClientException' },
  { name: 'unparsable task memory', input: ec2([web], { memory: '3TB' }), error: 'ClientException' },
  // Fargate
  { name: 'FARGATE in bridge mode', input: fargate({ networkMode: 'bridge' }), error: 'ClientException', message: /awsvpc/ },
  { name: 'FARGATE without a network mode', input: fargate({ networkMode: undefined }), error: 'ClientException' },
  { name: 'FARGATE without task cpu', input: fargate({ cpu: undefined }), error: 'ClientException' },
  { name: 'FARGATE without task memory', input: fargate({ memory: undefined }), error: 'ClientException' },
  { name: 'FARGATE 256 CPU with 4 GB', input: fargate({ cpu: '256', memory: '4096' }), error: 'ClientException', message: /Fargate/ },
  { name: 'FARGATE 1 vCPU with 1 GB', input: fargate({ cpu: '1 vCPU', memory: '1GB' }), error: 'ClientException' },
  { name: 'FARGATE 3 vCPU', input: fargate({ cpu: '3072', memory: '8192' }), error: 'ClientException' },
  { name: 'FARGATE host volume', input: fargate({ volumes: [{ name: 'v', host: { sourcePath: '/srv' } }] }), error: 'ClientException' },
  {
    name: 'FARGATE privileged container',
    input: fargate({ containerDefinitions: [{ name: 'web', image: 'nginx', privileged: true }] }),
    error: 'ClientException',
  },
  // ports and network modes
  {
    name: 'awsvpc hostPort different from containerPort',
    input: ec2([{ ...web, portMappings: [{ containerPort: 80, hostPort: 8080 }] }], { networkMode: 'awsvpc' }),
    error: 'ClientException',
    message: /host ports and container ports/,
  },
  {
    name: 'host mode hostPort different from containerPort',
    input: ec2([{ ...web, portMappings: [{ containerPort: 80, hostPort: 81 }] }], { networkMode: 'host' }),
    error: 'ClientException',
  },
  { name: 'port above 65535', input: ec2([{ ...web, portMappings: [{ containerPort: 70000 }] }]), error: 'ClientException' },
  { name: 'duplicate container port', input: ec2([{ ...web, portMappings: [{ containerPort: 80 }, { containerPort: 80, hostPort: 81 }] }]), error: 'ClientException' },
  { name: 'port mappings in none mode', input: ec2([{ ...web, portMappings: [{ containerPort: 80 }] }], { networkMode: 'none' }), error: 'ClientException', message: /networkMode=none/ },
  { name: 'invalid network mode', input: ec2([web], { networkMode: 'overlay' as never }), error: 'InvalidParameterException', message: /networkMode.*enum/ },
  { name: 'links in awsvpc mode', input: ec2([{ ...web, links: ['db'] }, { ...web, name: 'db' }], { networkMode: 'awsvpc' }), error: 'ClientException' },
  { name: 'link to an unknown container', input: ec2([{ ...web, links: ['ghost:db'] }]), error: 'ClientException' },
  // volumes, dependencies
  { name: 'mountPoint to an unknown volume', input: ec2([{ ...web, mountPoints: [{ sourceVolume: 'nope', containerPath: '/data' }] }]), error: 'ClientException', message: /volume/ },
  { name: 'mountPoint without containerPath', input: ec2([{ ...web, mountPoints: [{ sourceVolume: 'v' }] }], { volumes: [{ name: 'v' }] }), error: 'ClientException' },
  { name: 'duplicate volume names', input: ec2([web], { volumes: [{ name: 'v' }, { name: 'v' }] }), error: 'ClientException' },
  { name: 'volume without a name', input: ec2([web], { volumes: [{ host: { sourcePath: '/srv' } }] }), error: 'ClientException' },
  { name: 'volumesFrom an unknown container', input: ec2([{ ...web, volumesFrom: [{ sourceContainer: 'ghost' }] }]), error: 'ClientException' },
  { name: 'dependsOn an unknown container', input: ec2([{ ...web, dependsOn: [{ containerName: 'ghost', condition: 'START' }] }]), error: 'ClientException', message: /ghost/ },
  {
    name: 'dependsOn HEALTHY a container without a healthCheck',
    input: ec2([{ ...web, dependsOn: [{ containerName: 'db', condition: 'HEALTHY' }] }, { ...web, name: 'db' }]),
    error: 'ClientException',
  },
  {
    name: 'dependency cycle',
    input: ec2([
      { ...web, dependsOn: [{ containerName: 'db', condition: 'START' }] },
      { ...web, name: 'db', dependsOn: [{ containerName: 'web', condition: 'START' }] },
    ]),
    error: 'ClientException',
  },
  // ECS's documented limits
  {
    name: 'a definition over 64 KiB',
    input: ec2([{ ...web, environment: Array.from({ length: 700 }, (_, i) => ({ name: `VAR_${i}`, value: 'x'.repeat(80) })) }]),
    error: 'ClientException',
    message: /^Actual length: '\d+'\. Max allowed length is '65536' bytes\.$/,
  },
  { name: 'image of 256 characters', input: ec2([{ ...web, image: 'i'.repeat(256) }]), error: 'ClientException', message: /Container\.image should be 255 characters or less/ },
  { name: 'image with a space', input: ec2([{ ...web, image: 'nginx latest' }]), error: 'ClientException', message: /Container\.image contains invalid characters/ },
  { name: 'healthCheck interval of 4 s', input: ec2([{ ...web, healthCheck: { command: ['CMD', 'true'], interval: 4 } }]), error: 'ClientException', message: /interval/ },
  { name: 'healthCheck retries of 11', input: ec2([{ ...web, healthCheck: { command: ['CMD', 'true'], retries: 11 } }]), error: 'ClientException', message: /retries/ },
  {
    name: '101 port ranges',
    input: ec2([{ ...web, portMappings: Array.from({ length: 101 }, (_, i) => ({ containerPortRange: `${10000 + i * 10}-${10005 + i * 10}` })) }]),
    error: 'ClientException',
    message: /port ranges/,
  },
  {
    name: 'eleven environment files',
    input: ec2([{ ...web, environmentFiles: Array.from({ length: 11 }, (_, i) => ({ value: `arn:aws:s3:::b/${i}.env`, type: 's3' as const })) }]),
    error: 'ClientException',
  },
  { name: 'ephemeral storage of 20 GiB', input: fargate({ ephemeralStorage: { sizeInGiB: 20 } }), error: 'ClientException', message: /ephemeral storage/ },
  { name: 'container memory beyond 32 bits', input: ec2([{ ...web, memory: 2 ** 31 }]), error: 'SerializationException' },
  // model-level checks
  { name: 'bad dependsOn condition enum', input: ec2([{ ...web, dependsOn: [{ containerName: 'db', condition: 'READY' as never }] }, { ...web, name: 'db' }]), error: 'InvalidParameterException' },
  { name: 'bad port protocol enum', input: ec2([{ ...web, portMappings: [{ containerPort: 80, protocol: 'sctp' as never }] }]), error: 'InvalidParameterException' },
  { name: 'bad compatibility enum', input: ec2([web], { requiresCompatibilities: ['LAMBDA' as never] }), error: 'InvalidParameterException' },
  { name: 'bad log driver enum', input: ec2([{ ...web, logConfiguration: { logDriver: 'loki' as never } }]), error: 'InvalidParameterException' },
  { name: 'bad ulimit name', input: ec2([{ ...web, ulimits: [{ name: 'files' as never, softLimit: 1, hardLimit: 1 }] }]), error: 'InvalidParameterException' },
  { name: 'missing required healthCheck.command', input: ec2([{ ...web, healthCheck: {} as never }]), error: 'InvalidParameterException', message: /healthCheck\.command/ },
  // tags
  { name: 'fifty-one tags', input: ec2([web], { tags: Array.from({ length: 51 }, (_, i) => ({ key: `k${i}`, value: 'v' })) }), error: 'InvalidParameterException' },
  { name: 'reserved aws: tag key', input: ec2([web], { tags: [{ key: 'aws:created-by', value: 'me' }] }), error: 'InvalidParameterException' },
  { name: 'duplicate tag keys', input: ec2([web], { tags: [{ key: 'a', value: '1' }, { key: 'a', value: '2' }] }), error: 'InvalidParameterException' },
];

describe('RegisterTaskDefinition validation', () => {
  let t: TestDockyard;
  before(async () => {
    t = await startDockyard();
  });
  after(() => t.stop());

  for (const c of cases) {
    test(`${c.name} → ${c.error}`, async () => {
      await rejectsWith(t.ecs.send(new RegisterTaskDefinitionCommand(c.input)), c.error, c.message);
    });
  }

  test('the model rejects a missing family and wrong JSON types', async () => {
    await rejectsWith(t.ecs.send(new RegisterTaskDefinitionCommand({ containerDefinitions: [web] } as never)), 'InvalidParameterException', /family/);
  });

  test('nothing was written by any rejected request', async () => {
    assert.deepEqual((await t.ecs.send(new ListTaskDefinitionsCommand({}))).taskDefinitionArns, []);
    assert.deepEqual((await t.ecs.send(new ListTaskDefinitionsCommand({ status: 'INACTIVE' }))).taskDefinitionArns, []);
    assert.deepEqual((await t.ecs.send(new ListTaskDefinitionFamiliesCommand({}))).families, []);
    const ok = await t.ecs.send(new RegisterTaskDefinitionCommand(ec2([web])));
    assert.equal(ok.taskDefinition!.revision, 1);
  });

  test('the valid counterparts of the trickier cases are accepted', async () => {
    const accepted: RegisterTaskDefinitionCommandInput[] = [
      // Task memory alone is enough on EC2.
      ec2([{ name: 'web', image: 'nginx' }], { family: 'ok-task-memory', memory: '512' }),
      // memoryReservation alone is enough.
      ec2([{ name: 'web', image: 'nginx', memoryReservation: 64 }], { family: 'ok-reservation' }),
      // awsvpc with hostPort omitted or equal.
      ec2([{ ...web, portMappings: [{ containerPort: 80 }, { containerPort: 443, hostPort: 443 }] }], { family: 'ok-awsvpc', networkMode: 'awsvpc' }),
      // The same container port over tcp and udp.
      ec2([{ ...web, portMappings: [{ containerPort: 53 }, { containerPort: 53, protocol: 'udp' }] }], { family: 'ok-dns' }),
      // HEALTHY dependency on a container with a healthCheck; one essential container is enough.
      ec2(
        [
          { ...web, dependsOn: [{ containerName: 'db', condition: 'HEALTHY' }] },
          { ...web, name: 'db', essential: false, healthCheck: { command: ['CMD', 'true'] } },
        ],
        { family: 'ok-deps' },
      ),
      fargate({ family: 'ok-fargate-max', cpu: '16 vCPU', memory: '120GB' }),
      ec2([web], { family: 'F_a-m-1_' + 'x'.repeat(200) }),
      // The longest image name, with a registry port and a digest.
      ec2([{ ...web, image: `registry.example.com:5000/${'a'.repeat(100)}@sha256:${'0'.repeat(64)}`.padEnd(255, '0').slice(0, 255) }], { family: 'ok-long-image' }),
      ec2([{ ...web, healthCheck: { command: ['CMD', 'true'], interval: 300, timeout: 2, retries: 10, startPeriod: 0 } }], { family: 'ok-health-bounds' }),
    ];
    for (const input of accepted) {
      const res = await t.ecs.send(new RegisterTaskDefinitionCommand(input));
      assert.equal(res.taskDefinition!.revision, 1, input.family);
    }
  });
});
