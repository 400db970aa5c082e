/**
 * The GitHub Actions ECS deploy flow, reproduced with AWS SDK v3 the way the actions call it
 * (aws-actions/amazon-ecs-render-task-definition, then amazon-ecs-deploy-task-definition), with
 * `AWS_ENDPOINT_URL` pointing at Dockyard and no endpoint in the code:
 *   describe the current task definition → render it with the new image → RegisterTaskDefinition
 *   (without the fields the action strips) → DescribeServices (must be ACTIVE) → UpdateService
 *   (forceNewDeployment) → waitUntilServicesStable.
 * Then the same deploy by a Python deploy tool built on boto3 (what ecs-deploy and friends do):
 * describe → register a new revision → update_service → the `services_stable` waiter.
 * Tasks run on simulated agents.
 */
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  ListTasksCommand,
  DescribeTasksCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
  waitUntilServicesStable,
} from '@aws-sdk/client-ecs';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { after, before, it } from 'node:test';
import { promisify } from 'node:util';
import { SimulatedRuntime, type Agent } from '../src/agent/index.js';
import { simulatedAgent } from './agent/helpers.js';
import { credentials, startDockyard, type TestDockyard } from './helpers/dockyard.js';

let d: TestDockyard;
let dir: string;
const agents: Agent[] = [];
const saved = process.env.AWS_ENDPOINT_URL;

before(async () => {
  d = await startDockyard({ serviceControllerIdleMs: 300 });
  dir = mkdtempSync(join(tmpdir(), 'dockyard-deploy-flow-'));
  await d.ecs.send(new CreateClusterCommand({ clusterName: 'prod' }));
  const joinToken = (await d.app.agentAuth.createJoinToken({ description: 'deploy flow' }, 'test')).token;
  for (let i = 0; i < 2; i++) {
    const a = await simulatedAgent(d, { cluster: 'prod', stateDir: join(dir, String(i)), runtime: new SimulatedRuntime({ cpus: 2, memoryMiB: 4096, startMs: 20 }), joinToken, pollWaitMs: 5000 });
    await a.start();
    agents.push(a);
  }
  await d.ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'api',
      containerDefinitions: [{ name: 'api', image: 'registry.example/api:sha-1111', cpu: 64, memory: 64, essential: true, portMappings: [{ containerPort: 8080 }] }],
    }),
  );
  await d.ecs.send(new CreateServiceCommand({ cluster: 'prod', serviceName: 'api', taskDefinition: 'api', desiredCount: 3 }));
});

after(async () => {
  if (saved === undefined) delete process.env.AWS_ENDPOINT_URL;
  else process.env.AWS_ENDPOINT_URL = saved;
  await Promise.all(agents.map((a) => a.close().catch(() => undefined)));
  await d.stop();
  rmSync(dir, { recursive: true, force: true });
});

it('render → RegisterTaskDefinition → UpdateService → waitUntilServicesStable, as the GitHub Actions do', { timeout: 120_000 }, async () => {
  process.env.AWS_ENDPOINT_URL = d.endpoint;
  // As the actions build it: region and credentials from the environment, no endpoint in code.
  const ecs = new ECSClient({ region: 'us-east-1', credentials });
  try {
    // The service is stable before the deploy (the first wait of a pipeline).
    await waitUntilServicesStable({ client: ecs, maxWaitTime: 60, minDelay: 1 }, { cluster: 'prod', services: ['api'] });

    // amazon-ecs-render-task-definition: the task definition JSON with the container's image replaced.
    const { taskDefinition: current } = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'api' }));
    const rendered = structuredClone(current!) as Record<string, unknown> & { containerDefinitions: { name?: string; image?: string }[] };
    rendered.containerDefinitions.find((c) => c.name === 'api')!.image = 'registry.example/api:sha-2222';
    // amazon-ecs-deploy-task-definition: strip what RegisterTaskDefinition does not take, then register.
    for (const k of ['compatibilities', 'taskDefinitionArn', 'requiresAttributes', 'revision', 'status', 'registeredAt', 'deregisteredAt', 'registeredBy']) delete rendered[k];
    const registered = await ecs.send(new RegisterTaskDefinitionCommand(rendered as never));
    const newArn = registered.taskDefinition!.taskDefinitionArn!;
    assert.match(newArn, /task-definition\/api:2$/);

    const { services } = await ecs.send(new DescribeServicesCommand({ cluster: 'prod', services: ['api'] }));
    assert.equal(services![0]!.status, 'ACTIVE');
    await ecs.send(new UpdateServiceCommand({ cluster: 'prod', service: 'api', taskDefinition: newArn, forceNewDeployment: true }));
    const result = await waitUntilServicesStable({ client: ecs, maxWaitTime: 90, minDelay: 1 }, { cluster: 'prod', services: ['api'] });
    assert.equal(result.state, 'SUCCESS');

    const after = (await ecs.send(new DescribeServicesCommand({ cluster: 'prod', services: ['api'] }))).services![0]!;
    assert.equal(after.taskDefinition, newArn);
    assert.equal(after.deployments!.length, 1);
    assert.equal(after.runningCount, 3);
    const arns = (await ecs.send(new ListTasksCommand({ cluster: 'prod', serviceName: 'api' }))).taskArns!;
    const tasks = (await ecs.send(new DescribeTasksCommand({ cluster: 'prod', tasks: arns }))).tasks!;
    assert.equal(tasks.length, 3);
    assert.ok(tasks.every((t) => t.containers![0]!.image === 'registry.example/api:sha-2222'));
  } finally {
    ecs.destroy();
  }
});

it('a boto3 deploy tool: describe, register a new image, update_service, services_stable waiter', { timeout: 120_000 }, async () => {
  const py = `
import boto3, json
ecs = boto3.client('ecs', endpoint_url='${d.endpoint}', region_name='us-east-1', aws_access_key_id='${credentials.accessKeyId}', aws_secret_access_key='${credentials.secretAccessKey}')
svc = ecs.describe_services(cluster='prod', services=['api'])['services'][0]
td = ecs.describe_task_definition(taskDefinition=svc['taskDefinition'])['taskDefinition']
for k in ['taskDefinitionArn', 'revision', 'status', 'requiresAttributes', 'compatibilities', 'registeredAt', 'registeredBy', 'deregisteredAt']:
    td.pop(k, None)
td['containerDefinitions'][0]['image'] = 'registry.example/api:sha-3333'
new = ecs.register_task_definition(**td)['taskDefinition']['taskDefinitionArn']
ecs.update_service(cluster='prod', service='api', taskDefinition=new)
ecs.get_waiter('services_stable').wait(cluster='prod', services=['api'], WaiterConfig={'Delay': 1, 'MaxAttempts': 90})
after = ecs.describe_services(cluster='prod', services=['api'])['services'][0]
print(json.dumps({'new': new, 'taskDefinition': after['taskDefinition'], 'running': after['runningCount'], 'deployments': len(after['deployments']), 'event': after['events'][0]['message']}))
`;
  const { stdout } = await promisify(execFile)('python3', ['-c', py], { timeout: 110_000 });
  const out = JSON.parse(stdout) as { new: string; taskDefinition: string; running: number; deployments: number; event: string };
  assert.match(out.new, /task-definition\/api:3$/);
  assert.equal(out.taskDefinition, out.new);
  assert.equal(out.running, 3);
  assert.equal(out.deployments, 1);
  assert.equal(out.event, '(service api) has reached a steady state.');
});
