/**
 * The composition root: the only place that constructs the object graph.
 */
import type { FastifyInstance } from 'fastify';
import { systemClock, type Clock } from '../core/clock.js';
import { createRegistry, registerRegistryRoutes } from '../registry/index.js';
import { createEcrDomain, ecrService, RegistryMaintenance } from '../services/ecr/index.js';
import { createEcsDomain, ecsService } from '../services/ecs/index.js';
import { SqliteStore } from '../store/sqlite.js';
import type { Store } from '../store/store.js';
import type { ServerConfig } from './config.js';
import { buildHttpServer } from './http.js';
import { VERSION } from './version.js';

export interface App {
  config: ServerConfig;
  store: Store;
  http: FastifyInstance;
  /** Listens on config.host:config.port; resolves with the bound port (0 → an ephemeral one). */
  listen(): Promise<number>;
  close(): Promise<void>;
}

export async function createApp(config: ServerConfig, opts: { clock?: Clock; logger?: boolean | object } = {}): Promise<App> {
  const clock = opts.clock ?? systemClock;
  const store = new SqliteStore(config.dataDir);
  const ecs = createEcsDomain({ store, clock });
  // The registry host defaults to the port we end up listening on (known after listen()).
  let boundPort = config.port;
  const registryHost = () => config.registryHost ?? `127.0.0.1:${boundPort}`;
  const registry = await createRegistry({ dataDir: config.dataDir, store, clock });
  const ecr = createEcrDomain({ store, clock, registry, registryHost });
  const http = buildHttpServer({
    config,
    version: VERSION,
    services: [ecsService(ecs), ecrService(ecr)],
    logger: opts.logger ?? { level: config.logLevel },
  });
  registerRegistryRoutes(http, {
    ...registry,
    repositories: ecr.repositories.lookup(config.ecrCreateOnPush ?? false),
    clock,
    registryHost,
    log: { error: (obj, msg) => http.log.error(obj, msg) },
  });
  const hour = 3600 * 1000;
  const registryMaintenance = new RegistryMaintenance(
    [
      { name: 'ecr-lifecycle', intervalMs: (config.ecrLifecycleIntervalSeconds ?? 3600) * 1000, run: () => ecr.lifecycle.applyAll() },
      {
        name: 'registry-gc',
        intervalMs: (config.registryGcIntervalSeconds ?? 3600) * 1000,
        run: async () => ({ uploads: await registry.collector.sweepUploads(24 * hour), blobs: (await registry.collector.collect({ graceMs: hour })).deleted.length }),
      },
    ],
    { info: (obj, msg) => http.log.info(obj, msg), error: (obj, msg) => http.log.error(obj, msg) },
  );
  return {
    config,
    store,
    http,
    async listen() {
      await http.listen({ host: config.host, port: config.port });
      const addr = http.server.address();
      boundPort = typeof addr === 'object' && addr ? addr.port : config.port;
      registryMaintenance.start();
      return boundPort;
    },
    async close() {
      await registryMaintenance.stop();
      await http.close();
      await store.close();
    },
  };
}
