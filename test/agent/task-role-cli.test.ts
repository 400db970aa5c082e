/**
 * The AWS CLI v2 inside a task container signs as the task role. No image with the CLI can be
 * pulled here, so the task runs in host network mode (it reaches the test server on 127.0.0.1)
 * with the host's /usr, /lib, /lib64 and /etc/ssl bind-mounted read-only, and runs the host's
 * /usr/bin/aws (Debian's CLI v2, a Python program). The CLI finds
 * AWS_CONTAINER_CREDENTIALS_FULL_URI and AWS_CONTAINER_AUTHORIZATION_TOKEN, which the agent
 * injected, fetches the task role's credentials from the agent, and calls STS with them.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { StopTaskCommand } from '@aws-sdk/client-ecs';
import { credentials, type TestDockyard } from '../helpers/dockyard.js';
import { buildHttpdImage } from '../helpers/images.js';
import { isRunning, isStopped, readWhen, register, run, startWithAgent, TRUST_ECS_TASKS, waitTask } from './helpers.js';

const HOST_DIRS = ['/usr', '/lib', '/lib64', '/etc/ssl'];

describe('AWS CLI in a task container, with the task role', () => {
  let d: TestDockyard;
  let image: string;
  const out = mkdtempSync(join(tmpdir(), 'dockyard-task-role-cli-'));
  chmodSync(out, 0o777);

  before(async () => {
    image = buildHttpdImage();
    // Explicit: this test needs host networking and these host paths, whatever the defaults become.
    d = await startWithAgent({ agent: { taskEndpoint: {}, hostSafety: { allowHostNetwork: true, allowHostPaths: [...HOST_DIRS, out] } } });
  });

  after(async () => {
    await d?.stop();
    rmSync(out, { recursive: true, force: true });
  });

  it('sts get-caller-identity answers the task role session (assumed-role/<role>/<task id>)', async () => {
    const iam = new IAMClient({ endpoint: d.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
    const role = (await iam.send(new CreateRoleCommand({ RoleName: `cli-task-role-${process.pid}`, AssumeRolePolicyDocument: TRUST_ECS_TASKS }))).Role!;
    iam.destroy();

    const script = [
      `/usr/bin/aws --endpoint-url ${d.endpoint} sts get-caller-identity --output json > /out/identity.tmp 2> /out/identity.err`,
      'echo $? > /out/identity.rc',
      'mv /out/identity.tmp /out/identity.json',
      'exec sleep 3600',
    ].join('; ');
    const family = await register(
      d,
      [
        {
          name: 'cli',
          image,
          memory: 256,
          stopTimeout: 2,
          entryPoint: ['/bin/sh', '-c'],
          command: [script],
          // HOME on the bind-mounted directory: the CLI may keep a cache there.
          environment: [
            { name: 'AWS_DEFAULT_REGION', value: 'us-east-1' },
            { name: 'HOME', value: '/out' },
            { name: 'AWS_EC2_METADATA_DISABLED', value: 'true' },
            { name: 'AWS_CONFIG_FILE', value: '/dev/null' },
            { name: 'AWS_SHARED_CREDENTIALS_FILE', value: '/dev/null' },
          ],
          mountPoints: [...HOST_DIRS.map((p) => ({ sourceVolume: p.slice(1).replace('/', '-'), containerPath: p, readOnly: true })), { sourceVolume: 'out', containerPath: '/out' }],
        },
      ],
      {
        networkMode: 'host',
        taskRoleArn: role.Arn,
        volumes: [...HOST_DIRS.map((p) => ({ name: p.slice(1).replace('/', '-'), host: { sourcePath: p } })), { name: 'out', host: { sourcePath: out } }],
      },
    );
    const arn = await run(d, family);
    await waitTask(d, arn, isRunning);
    const rc = (await readWhen(join(out, 'identity.rc'), (text) => text.trim() !== '', 30_000)).trim();
    assert.equal(rc, '0', `the CLI failed: ${readFileSync(join(out, 'identity.err'), 'utf8')}`);
    const identity = JSON.parse(readFileSync(join(out, 'identity.json'), 'utf8'));
    const taskId = arn.split('/').pop();
    assert.equal(identity.Arn, `arn:aws:sts::000000000000:assumed-role/${role.RoleName}/${taskId}`);
    assert.equal(identity.Account, '000000000000');
    assert.equal(identity.UserId, `${role.RoleId}:${taskId}`);
    await d.ecs.send(new StopTaskCommand({ cluster: 'default', task: arn, reason: 'test done' }));
    await waitTask(d, arn, isStopped);
  });
});
