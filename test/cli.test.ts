/**
 * The AWS CLI end to end, both Debian's CLI v2 (/usr/bin/aws) and the pip CLI v1 (the first
 * other `aws` on PATH, with current models): realistic task definitions through
 * `--cli-input-json file://...`, cluster commands, and exit codes and messages for bad input.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AWS_CLI_V2, requireCliV1 } from './helpers/aws-cli.js';
import { startDockyard, type TestDockyard } from './helpers/dockyard.js';
import { withEcsDefaults } from './helpers/ecs-defaults.js';

const FIXTURES = new URL('./fixtures/cli/', import.meta.url).pathname;

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

const clis = [
  { name: 'AWS CLI v2 (Debian)', bin: () => AWS_CLI_V2 },
  // Missing v1 fails every v1 test with a message saying how to install it, rather than skipping them.
  { name: 'AWS CLI v1 (pip)', bin: requireCliV1 },
];

const fixture = (name: string) => JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')) as Record<string, unknown> & { containerDefinitions: Record<string, unknown>[] };

for (const cli of clis) {
  describe(cli.name, () => {
    let t: TestDockyard;
    before(async () => {
      t = await startDockyard();
    });
    after(() => t.stop());

    const aws = (...args: string[]): Promise<CliResult> =>
      new Promise((resolve) => {
        execFile(
          cli.bin(),
          ['--endpoint-url', t.endpoint, '--region', 'us-east-1', '--output', 'json', ...args],
          { env: t.cliEnv, timeout: 60_000 },
          (error, stdout, stderr) => {
            const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
            resolve({ code, stdout, stderr });
          },
        );
      });
    const awsJson = async (...args: string[]) => {
      const res = await aws(...args);
      assert.equal(res.code, 0, `aws ${args.join(' ')} failed: ${res.stderr}`);
      return JSON.parse(res.stdout) as Record<string, any>;
    };

    test('cluster lifecycle: create-cluster, describe-clusters, list-clusters, delete-cluster', async () => {
      const created = await awsJson('ecs', 'create-cluster', '--cluster-name', 'demo', '--tags', 'key=env,value=test');
      assert.equal(created.cluster.clusterArn, 'arn:aws:ecs:us-east-1:000000000000:cluster/demo');
      assert.equal(created.cluster.status, 'ACTIVE');
      const described = await awsJson('ecs', 'describe-clusters', '--clusters', 'demo', '--include', 'TAGS', 'SETTINGS', 'STATISTICS');
      assert.equal(described.clusters[0].clusterName, 'demo');
      assert.deepEqual(described.clusters[0].tags, [{ key: 'env', value: 'test' }]);
      assert.deepEqual(described.failures, []);
      const listed = await awsJson('ecs', 'list-clusters');
      assert.deepEqual(listed.clusterArns, ['arn:aws:ecs:us-east-1:000000000000:cluster/demo']);
      const deleted = await awsJson('ecs', 'delete-cluster', '--cluster', 'demo');
      assert.equal(deleted.cluster.status, 'INACTIVE');
      assert.deepEqual((await awsJson('ecs', 'list-clusters')).clusterArns, []);
    });

    test('a FARGATE nginx web server registers from --cli-input-json and describes back', async () => {
      const sent = fixture('webserver-fargate.json');
      const reg = await awsJson('ecs', 'register-task-definition', '--cli-input-json', `file://${join(FIXTURES, 'webserver-fargate.json')}`);
      assert.equal(reg.taskDefinition.taskDefinitionArn, 'arn:aws:ecs:us-east-1:000000000000:task-definition/webserver:1');
      assert.deepEqual(reg.tags, sent.tags);
      const out = await awsJson('ecs', 'describe-task-definition', '--task-definition', 'webserver:1', '--include', 'TAGS');
      const td = out.taskDefinition;
      assert.deepEqual(td.containerDefinitions, sent.containerDefinitions.map(withEcsDefaults));
      assert.equal(td.cpu, '512');
      assert.equal(td.memory, '1024');
      assert.equal(td.networkMode, 'awsvpc');
      assert.deepEqual(td.requiresCompatibilities, ['FARGATE']);
      assert.deepEqual(td.compatibilities, ['EC2', 'FARGATE']);
      assert.deepEqual(td.runtimePlatform, sent.runtimePlatform);
      assert.equal(td.executionRoleArn, sent.executionRoleArn);
      assert.equal(td.status, 'ACTIVE');
      assert.equal(td.revision, 1);
      assert.ok(td.registeredAt !== undefined);
      assert.equal(td.registeredBy, 'arn:aws:iam::000000000000:root');
      assert.deepEqual(out.tags, sent.tags);
    });

    test('an EC2/bridge MariaDB with host volumes, mounts, env, command, two ports and memoryReservation', async () => {
      const sent = fixture('mariadb-ec2.json');
      const file = `file://${join(FIXTURES, 'mariadb-ec2.json')}`;
      await awsJson('ecs', 'register-task-definition', '--cli-input-json', file);
      const second = await awsJson('ecs', 'register-task-definition', '--cli-input-json', file);
      assert.equal(second.taskDefinition.revision, 2);
      const td = (await awsJson('ecs', 'describe-task-definition', '--task-definition', 'mariadb')).taskDefinition;
      assert.equal(td.revision, 2);
      assert.deepEqual(td.containerDefinitions, sent.containerDefinitions.map(withEcsDefaults));
      assert.deepEqual(td.volumes, sent.volumes);
      // Its container secrets need an execution role (ECS refuses them without one).
      assert.equal(td.executionRoleArn, sent.executionRoleArn);
      assert.equal(td.networkMode, 'bridge');
      assert.deepEqual(td.compatibilities, ['EC2']);
      const families = await awsJson('ecs', 'list-task-definition-families');
      assert.ok(families.families.includes('mariadb'));
      const arns = await awsJson('ecs', 'list-task-definitions', '--family-prefix', 'mariadb', '--sort', 'DESC');
      assert.deepEqual(arns.taskDefinitionArns, [
        'arn:aws:ecs:us-east-1:000000000000:task-definition/mariadb:2',
        'arn:aws:ecs:us-east-1:000000000000:task-definition/mariadb:1',
      ]);
      const dereg = await awsJson('ecs', 'deregister-task-definition', '--task-definition', 'mariadb:1');
      assert.equal(dereg.taskDefinition.status, 'INACTIVE');
    });

    test('bad input exits non-zero with the AWS error code and message on stderr', async () => {
      const notFound = await aws('ecs', 'delete-cluster', '--cluster', 'no-such-cluster');
      assert.notEqual(notFound.code, 0);
      assert.match(notFound.stderr, /\(ClusterNotFoundException\) when calling the DeleteCluster operation/);

      const missing = await aws('ecs', 'describe-task-definition', '--task-definition', 'ghost:1');
      assert.notEqual(missing.code, 0);
      assert.match(missing.stderr, /\(ClientException\) when calling the DescribeTaskDefinition operation/);

      const bridgeFargate = await aws(
        'ecs',
        'register-task-definition',
        '--family',
        'bad-fargate',
        '--requires-compatibilities',
        'FARGATE',
        '--network-mode',
        'bridge',
        '--cpu',
        '256',
        '--memory',
        '512',
        '--container-definitions',
        JSON.stringify([{ name: 'web', image: 'nginx' }]),
      );
      assert.notEqual(bridgeFargate.code, 0);
      assert.match(bridgeFargate.stderr, /\(ClientException\) when calling the RegisterTaskDefinition operation: .*awsvpc/);

      const noMemory = await aws('ecs', 'register-task-definition', '--family', 'bad-ec2', '--container-definitions', JSON.stringify([{ name: 'web', image: 'nginx' }]));
      assert.notEqual(noMemory.code, 0);
      assert.match(noMemory.stderr, /ClientException.*memory/);
      // Nothing was registered by the failures.
      const families = await awsJson('ecs', 'list-task-definition-families');
      assert.ok(!families.families.includes('bad-fargate') && !families.families.includes('bad-ec2'));
    });
  });
}
