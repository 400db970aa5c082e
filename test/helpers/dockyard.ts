/**
 * Starts a Dockyard control plane for a test on an ephemeral 127.0.0.1 port with its own data
 * directory, and builds real AWS SDK v3 clients pointed at it.
 */
import { ECSClient } from '@aws-sdk/client-ecs';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent as HttpsAgent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp, type App, type AppOptions } from '../../src/server/app.js';
import { defaultConfig, type ServerConfig } from '../../src/server/config.js';
import { removeAgentLeftovers } from './docker.js';

export interface TestDockyard {
  app: App;
  /** http://127.0.0.1:<port>, or https:// when config.tls is set. */
  endpoint: string;
  port: number;
  /** With config.tls: the PEM that clients trust (the generated CA, or the served certificate). */
  ca?: Buffer;
  dataDir: string;
  ecs: ECSClient;
  /** Environment for running the AWS CLI against this server. */
  cliEnv: NodeJS.ProcessEnv;
  restart(): Promise<TestDockyard>;
  /** Stops the server; unless keepData, also removes its data dir and, by label, whatever its embedded agent created. */
  stop(opts?: { keepData?: boolean }): Promise<void>;
}

export const credentials = { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' };

export async function startDockyard(overrides: Partial<ServerConfig> = {}, dataDir?: string, opts: Pick<AppOptions, 'clock' | 'agentRuntime' | 'logger' | 'scalableTargetDrivers'> = {}): Promise<TestDockyard> {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'dockyard-test-'));
  // The test credentials are the server's root key: every request is really verified.
  const config: ServerConfig = { ...defaultConfig({}), host: '127.0.0.1', port: 0, dataDir: dir, logLevel: 'silent', rootKey: credentials, ...overrides };
  // Two load-balancer worker processes whatever the machine's CPUs (one per CPU by default), so the suite's cost does not grow with the host.
  config.loadBalancing = { workers: 2, ...config.loadBalancing };
  const app = await createApp(config, { logger: false, ...opts });
  const port = await app.listen();
  const endpoint = `${app.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  const ca = app.tls ? (app.tls.caFile ? readFileSync(app.tls.caFile) : app.tls.cert) : undefined;
  const ecs = new ECSClient({ endpoint, region: 'us-east-1', credentials, maxAttempts: 1, ...(ca ? { requestHandler: { httpsAgent: new HttpsAgent({ ca }) } } : {}) });
  const self: TestDockyard = {
    app,
    endpoint,
    port,
    ca,
    dataDir: dir,
    ecs,
    cliEnv: {
      ...process.env,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_PAGER: '',
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      ...(app.tls?.caFile ? { AWS_CA_BUNDLE: app.tls.caFile } : {}),
    },
    async restart() {
      await self.stop({ keepData: true });
      return startDockyard({ ...overrides }, dir, opts);
    },
    async stop(opts = {}) {
      const agentInstance = app.agent?.instanceId;
      ecs.destroy();
      await app.close();
      if (opts.keepData) return; // a restart re-adopts what the embedded agent left running
      if (agentInstance) removeAgentLeftovers(agentInstance);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return self;
}
