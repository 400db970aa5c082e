/**
 * TLS on the one port: `dockyard up --tls` generates a CA into its data dir and serves https for
 * the AWS APIs, the registry and the agent protocol. Real clients: the AWS CLI v2 (with
 * AWS_CA_BUNDLE), the SDK, `docker login/push` (with the CA in
 * /etc/docker/certs.d/127.0.0.1:<port>/ca.crt, created and removed here by exact path), the
 * embedded agent pulling from the TLS registry, and remote agents with and without the pinned CA.
 */
import { CreateRepositoryCommand, DescribeImagesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { ListClustersCommand } from '@aws-sdk/client-ecs';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { Agent as HttpsAgent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Agent as UndiciAgent, request } from 'undici';
import { SimulatedRuntime, type Agent } from '../src/agent/index.js';
import { AdminClient } from '../src/cli/admin-client.js';
import { httpGet, isRunning, register, run, simulatedAgent, startWithAgent, waitTask } from './agent/helpers.js';
import { credentials, type TestDockyard } from './helpers/dockyard.js';
import { buildHttpdImage } from './helpers/images.js';
import { freePort } from './helpers/net.js';

const BIN = new URL('../bin/dockyard.mjs', import.meta.url).pathname;

function sh(file: string, args: string[], opts: { env: NodeJS.ProcessEnv; input?: string }): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = execFile(file, args, { env: opts.env, timeout: 180_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` });
    });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
  });
}

describe('TLS on the port (generated CA)', () => {
  let d: TestDockyard;
  let host: string;
  let certsDir: string | undefined;
  let createdCertsRoot = false;
  const dockerConfig = mkdtempSync(join(tmpdir(), 'dockyard-tls-docker-'));
  const stateRoot = mkdtempSync(join(tmpdir(), 'dockyard-tls-agents-'));
  const agents: Agent[] = [];
  const pushed: string[] = [];

  before(async () => {
    buildHttpdImage();
    d = await startWithAgent({ config: { tls: { mode: 'self-signed' } } });
    host = `127.0.0.1:${d.port}`;
  });

  after(async () => {
    for (const a of agents) await a.close();
    for (const ref of pushed) await sh('docker', ['rmi', ref], { env: process.env });
    await d?.stop();
    if (certsDir) rmSync(certsDir, { recursive: true, force: true });
    if (createdCertsRoot) rmdirSync('/etc/docker/certs.d'); // only if this test made it (and it is empty again)
    rmSync(dockerConfig, { recursive: true, force: true });
    rmSync(stateRoot, { recursive: true, force: true });
  });

  test('serves the AWS APIs over https to clients that trust the CA, and not over plain http', async () => {
    assert.match(d.endpoint, /^https:/);
    const clusters = await d.ecs.send(new ListClustersCommand({}));
    assert.ok(clusters.clusterArns!.some((a) => a.endsWith(':cluster/default')));
    const cli = await sh('/usr/bin/aws', ['--endpoint-url', d.endpoint, 'ecs', 'list-clusters', '--output', 'json'], { env: d.cliEnv });
    assert.equal(cli.code, 0, cli.out);
    assert.match(cli.out, /cluster\/default/);
    // Without the CA the CLI refuses the certificate (an empty AWS_CA_BUNDLE would turn verification off: leave it out).
    const { AWS_CA_BUNDLE: _ca, ...withoutCa } = d.cliEnv;
    const untrusted = await sh('/usr/bin/aws', ['--endpoint-url', d.endpoint, 'ecs', 'list-clusters'], { env: withoutCa });
    assert.notEqual(untrusted.code, 0);
    assert.match(untrusted.out, /SSL|certificate/i);
    await assert.rejects(fetch(`http://${host}/health`));
    // The CA's key stays private to the data dir's owner.
    assert.equal(statSync(join(d.dataDir, 'tls', 'ca.key')).mode & 0o777, 0o600);
    assert.equal(statSync(join(d.dataDir, 'tls', 'server.key')).mode & 0o777, 0o600);
  });

  test('docker pushes to the registry over TLS with the CA in /etc/docker/certs.d, and the embedded agent runs the pushed image', async () => {
    createdCertsRoot = !existsSync('/etc/docker/certs.d');
    certsDir = `/etc/docker/certs.d/${host}`;
    mkdirSync(certsDir, { recursive: true });
    copyFileSync(join(d.dataDir, 'tls', 'ca.crt'), join(certsDir, 'ca.crt'));
    const ecr = new ECRClient({ endpoint: d.endpoint, region: 'us-east-1', credentials, maxAttempts: 1, requestHandler: { httpsAgent: new HttpsAgent({ ca: d.ca }) } });
    try {
      await ecr.send(new CreateRepositoryCommand({ repositoryName: 'tls/app' }));
      const env = { ...d.cliEnv, DOCKER_CONFIG: dockerConfig };
      const pw = await sh('/usr/bin/aws', ['--endpoint-url', d.endpoint, 'ecr', 'get-login-password'], { env });
      assert.equal(pw.code, 0, pw.out);
      const login = await sh('docker', ['login', '--username', 'AWS', '--password-stdin', host], { env, input: pw.out.trim() });
      assert.equal(login.code, 0, login.out);
      const ref = `${host}/tls/app:1`;
      pushed.push(ref);
      assert.equal((await sh('docker', ['tag', 'dockyard-test/bb-httpd:1', ref], { env })).code, 0);
      const push = await sh('docker', ['push', ref], { env });
      assert.equal(push.code, 0, push.out);
      const images = await ecr.send(new DescribeImagesCommand({ repositoryName: 'tls/app' }));
      assert.deepEqual(images.imageDetails![0]!.imageTags, ['1']);

      // The embedded agent talks to the control plane over TLS and docker pulls the image over TLS.
      assert.ok(d.app.agent?.containerInstanceArn, 'the embedded agent registered over https');
      await sh('docker', ['rmi', ref], { env }); // so the task really pulls it
      const family = await register(d, [{ name: 'web', image: ref, memory: 32, stopTimeout: 2, portMappings: [{ containerPort: 8080 }] }]);
      const t = await waitTask(d, await run(d, family), isRunning);
      assert.equal(await httpGet(t.containers![0]!.networkBindings![0]!.hostPort!), 'hello from dockyard\n');
    } finally {
      ecr.destroy();
    }
  });

  test('an agent that pins the CA joins; one without it refuses to connect', async () => {
    // The operator's join-token client over https, trusting the same CA.
    const admin = new AdminClient({ endpoint: d.endpoint, region: 'us-east-1', credentials, ca: readFileSync(join(d.dataDir, 'tls', 'ca.crt')) });
    const { token } = await admin.createJoinToken({ description: 'tls agents' });
    await admin.close();
    const agent = async (name: string, ca?: Buffer) => {
      const a = await simulatedAgent(d, { cluster: 'default', stateDir: join(stateRoot, name), runtime: new SimulatedRuntime(), joinToken: token, tls: ca ? { ca } : undefined });
      agents.push(a);
      return a;
    };
    const unpinned = await agent('unpinned');
    await assert.rejects(unpinned.start(), (e: Error & { code?: string }) => e.code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    assert.equal(unpinned.containerInstanceArn, undefined);
    // Pinning another CA (a certificate that did not sign the server's) is refused as well.
    const other = await agent('other-ca', readFileSync(join(d.dataDir, 'tls', 'server.crt')));
    await assert.rejects(other.start(), (e: Error & { code?: string }) => /CERT|SIGNATURE/.test(e.code ?? ''));
    const pinned = await agent('pinned', readFileSync(join(d.dataDir, 'tls', 'ca.crt')));
    await pinned.start();
    assert.match(pinned.containerInstanceArn!, /:container-instance\/default\//);
  });
});

test('dockyard up --tls generates its CA into the data dir and serves /health over https', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'dockyard-up-tls-'));
  const port = await freePort();
  const child = spawn(process.execPath, [BIN, 'up', '--tls', '--no-agent', '--port', String(port), '--data-dir', dataDir, '--log-level', 'warn'], { stdio: 'ignore' });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  let dispatcher: UndiciAgent | undefined;
  try {
    let health: { status: string } | undefined;
    for (const deadline = Date.now() + 60_000; !health && Date.now() < deadline; ) {
      try {
        dispatcher ??= new UndiciAgent({ connect: { ca: readFileSync(join(dataDir, 'tls', 'ca.crt')) } });
        const res = await request(`https://127.0.0.1:${port}/health`, { dispatcher });
        health = (await res.body.json()) as { status: string };
      } catch {
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    assert.equal(health?.status, 'ok');
  } finally {
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    if (child.exitCode === null) child.kill('SIGKILL');
    await dispatcher?.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test("--tls-cert/--tls-key: the operator's certificate is served, and the embedded agent pins it even though it names another host", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dockyard-tls-files-'));
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=dockyard.example.test', '-addext', 'subjectAltName=DNS:dockyard.example.test'], { stdio: 'ignore' });
  let d: TestDockyard | undefined;
  const dispatcher = new UndiciAgent({ connect: { ca: readFileSync(cert), servername: 'dockyard.example.test' } });
  try {
    d = await startWithAgent({ config: { tls: { mode: 'files', certFile: cert, keyFile: key } } });
    assert.ok(d.app.agent?.containerInstanceArn, 'the embedded agent registered over https');
    const res = await request(`${d.endpoint}/health`, { dispatcher });
    assert.equal(res.statusCode, 200);
    await res.body.dump();
    // A client that checks the name against 127.0.0.1 refuses this certificate: only pinning let the agent in.
    await assert.rejects(request(`${d.endpoint}/health`, { dispatcher: new UndiciAgent({ connect: { ca: readFileSync(cert) } }) }), (e: Error & { code?: string }) => e.code === 'ERR_TLS_CERT_ALTNAME_INVALID');
  } finally {
    await dispatcher.close();
    await d?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
