/**
 * How long single requests hold the server's event loop. The server runs in a child process that
 * watches its own loop delay (perf_hooks histogram, reset before each call); this process is the
 * client (building, serializing and signing big bodies), so only the server's work is measured.
 * The server's root key is the test credentials that postSigned signs with.
 * Calls: a RegisterTaskDefinition of ~62 KiB, DescribeTaskDefinition, the list operations over N
 * such definitions, ListTasks, and ECR's largest requests (a 20 MiB UploadLayerPart, a 4 MiB PutImage).
 *
 *   node --import tsx bench/event-loop.ts [definitions=300]
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createApp } from '../src/server/app.js';
import { defaultConfig } from '../src/server/config.js';
import { credentials } from '../test/helpers/dockyard.js';
import { postSigned } from '../test/helpers/signed-http.js';

if (process.argv[2] === '--server') await server();
else await client(Number(process.argv[2] ?? 300));

async function server() {
  const dir = mkdtempSync(join(tmpdir(), 'dockyard-bench-loop-'));
  const config = { ...defaultConfig({}), host: '127.0.0.1', port: 0, dataDir: dir, logLevel: 'silent', rootKey: credentials, registryGcIntervalSeconds: 0, ecrLifecycleIntervalSeconds: 0 };
  const app = await createApp(config, { logger: false });
  const port = await app.listen();
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  const stop = async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  };
  // A client that failed or was killed leaves no server behind.
  process.on('disconnect', stop);
  process.on('message', async (m: string) => {
    if (m === 'stop') await stop();
    if (m === 'reset') histogram.reset();
    process.send!({ maxMs: histogram.max / 1e6 });
  });
  process.send!({ port });
}

function ask(child: ChildProcess, message: string): Promise<{ maxMs: number }> {
  return new Promise((resolve) => {
    child.once('message', resolve as never);
    child.send(message);
  });
}

async function client(definitions: number) {
  const child = fork(fileURLToPath(import.meta.url), ['--server'], { execArgv: ['--import', 'tsx'] });
  const { port } = await new Promise<{ port: number }>((resolve) => child.once('message', resolve as never));
  const endpoint = `http://127.0.0.1:${port}`;
  const ecs = (op: string, body: unknown) => postSigned(endpoint, { service: 'ecs', target: `AmazonEC2ContainerServiceV20141113.${op}`, body: JSON.stringify(body) });
  const ecr = (op: string, body: unknown) => postSigned(endpoint, { service: 'ecr', target: `AmazonEC2ContainerRegistry_V20150921.${op}`, body: JSON.stringify(body) });

  async function measure(label: string, call: () => Promise<{ status: number; text: string }>) {
    const times: number[] = [];
    let worst = 0;
    for (let i = 0; i < 5; i++) {
      await ask(child, 'reset');
      const started = performance.now();
      const res = await call();
      times.push(performance.now() - started);
      if (res.status !== 200) throw new Error(`${label}: ${res.status} ${res.text.slice(0, 200)}`);
      worst = Math.max(worst, (await ask(child, 'max')).maxMs);
    }
    times.sort((a, b) => a - b);
    console.log(`${label.padEnd(58)} median ${times[2]!.toFixed(1).padStart(7)} ms   worst loop delay ${worst.toFixed(1).padStart(7)} ms`);
  }

  // ~62 KiB: 650 environment variables of ~80 bytes.
  const bigDefinition = (family: string) => ({
    family,
    containerDefinitions: [{ name: 'web', image: 'nginx', memory: 64, environment: Array.from({ length: 650 }, (_, i) => ({ name: `V${i}`, value: 'x'.repeat(70) })) }],
  });

  await ecs('CreateCluster', { clusterName: 'bench' });
  await measure('RegisterTaskDefinition (62 KiB)', () => ecs('RegisterTaskDefinition', bigDefinition('big')));
  for (let i = 0; i < definitions; i++) await ecs('RegisterTaskDefinition', bigDefinition(`family-${i % 50}`));
  await measure('DescribeTaskDefinition (62 KiB)', () => ecs('DescribeTaskDefinition', { taskDefinition: 'big' }));
  await measure(`ListTaskDefinitions (${definitions} definitions, first page)`, () => ecs('ListTaskDefinitions', {}));
  await measure(`ListTaskDefinitionFamilies (${definitions} definitions)`, () => ecs('ListTaskDefinitionFamilies', {}));
  await measure('ListTasks (empty cluster)', () => ecs('ListTasks', { cluster: 'bench' }));
  await ecr('CreateRepository', { repositoryName: 'bench' });
  const part = Buffer.alloc(20 * 1024 * 1024, 7).toString('base64');
  await measure('UploadLayerPart (20 MiB)', async () => {
    const { json } = await ecr('InitiateLayerUpload', { repositoryName: 'bench' });
    return ecr('UploadLayerPart', { repositoryName: 'bench', uploadId: json!.uploadId, partFirstByte: 0, partLastByte: 20 * 1024 * 1024 - 1, layerPartBlob: part });
  });
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${'0'.repeat(64)}`, size: 1 },
    layers: [],
    annotations: { pad: 'p'.repeat(4 * 1024 * 1024 - 400) },
  });
  await measure('PutImage (4 MiB manifest; its blobs are missing: 4xx)', async () => {
    const res = await ecr('PutImage', { repositoryName: 'bench', imageManifest: manifest, imageTag: 'x' });
    return { status: res.status < 500 ? 200 : res.status, text: res.text };
  });
  child.send('stop');
}
