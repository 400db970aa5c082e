/**
 * The composition root: the only place that constructs the object graph.
 */
import type { FastifyInstance } from 'fastify';
import { systemClock, type Clock } from '../core/clock.js';
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
  const http = buildHttpServer({
    config,
    version: VERSION,
    services: [ecsService(ecs)],
    logger: opts.logger ?? { level: config.logLevel },
  });
  return {
    config,
    store,
    http,
    async listen() {
      await http.listen({ host: config.host, port: config.port });
      const addr = http.server.address();
      return typeof addr === 'object' && addr ? addr.port : config.port;
    },
    async close() {
      await http.close();
      await store.close();
    },
  };
}
