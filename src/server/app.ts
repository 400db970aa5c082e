/**
 * The composition root: the only place that constructs the object graph.
 */
import type { FastifyInstance } from 'fastify';
import type { ServiceModule } from '../aws/service.js';
import { join } from 'node:path';
import { Agent, DockerRuntime, HostSafety, loadInstanceId } from '../agent/index.js';
import { AgentLiveness, registerAgentApi } from '../agent-api/index.js';
import { systemClock, type Clock } from '../core/clock.js';
import { createRegistry, registerRegistryRoutes } from '../registry/index.js';
import { createEcrDomain, ecrService, mintRegistryCredential, RegistryMaintenance } from '../services/ecr/index.js';
import { ContainerInstances, containerInstanceOperations } from '../services/ecs/container-instances.js';
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
  /** The AWS service modules the front door serves (tests walk their models). */
  services: readonly ServiceModule[];
  /** The embedded agent for this host, once listening (config.embeddedAgent). */
  agent: Agent | undefined;
  liveness: AgentLiveness;
  /** Listens on config.host:config.port; resolves with the bound port (0 → an ephemeral one). */
  listen(): Promise<number>;
  close(): Promise<void>;
}

export async function createApp(config: ServerConfig, opts: { clock?: Clock; logger?: boolean | object } = {}): Promise<App> {
  const clock = opts.clock ?? systemClock;
  const store = new SqliteStore(config.dataDir);
  const ecs = createEcsDomain({ store, clock });
  const containerInstances = new ContainerInstances(store, clock);
  const scope = { accountId: config.accountId, region: config.region };
  const liveness = new AgentLiveness(store, clock, {
    heartbeatIntervalMs: config.agentHeartbeatIntervalMs ?? 10_000,
    ttlMs: config.agentHeartbeatTtlMs ?? 3 * (config.agentHeartbeatIntervalMs ?? 10_000),
  });
  let agent: Agent | undefined;
  // The registry host defaults to the port we end up listening on (known after listen()).
  let boundPort = config.port;
  const registryHost = () => config.registryHost ?? `127.0.0.1:${boundPort}`;
  const registry = await createRegistry({ dataDir: config.dataDir, store, clock });
  let http: ReturnType<typeof buildHttpServer> | undefined;
  const ecr = createEcrDomain({
    store,
    clock,
    registry,
    registryHost,
    vulnerabilityDb: config.ecrVulnerabilityDb,
    log: { error: (obj, msg) => http?.log.error(obj, msg) },
  });
  const services = [ecsService(ecs, containerInstanceOperations(containerInstances)), ecrService(ecr)];
  http = buildHttpServer({
    config,
    version: VERSION,
    services,
    logger: opts.logger ?? { level: config.logLevel },
  });
  registerRegistryRoutes(http, {
    ...registry,
    repositories: ecr.repositories.lookup(config.ecrCreateOnPush ?? false),
    clock,
    registryHost,
    log: { error: (obj, msg) => http.log.error(obj, msg) },
  });
  registerAgentApi(http, {
    store,
    clock,
    instances: containerInstances,
    liveness,
    scope,
    ensureDefaultCluster: async () => {
      await ecs.clusters.create(scope, { clusterName: 'default' });
    },
    // Images in this Dockyard's own registry are pulled with a freshly minted ECR credential.
    registryCredentials: async (image, imageScope) =>
      image.startsWith(`${registryHost()}/`) ? mintRegistryCredential(ecr, imageScope) : undefined,
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
    services,
    get agent() {
      return agent;
    },
    liveness,
    async listen() {
      await http.listen({ host: config.host, port: config.port });
      const addr = http.server.address();
      boundPort = typeof addr === 'object' && addr ? addr.port : config.port;
      registryMaintenance.start();
      await liveness.start();
      if (config.createDefaultCluster || (config.embeddedAgent && (config.embeddedAgent.cluster ?? 'default') === 'default')) {
        await ecs.clusters.create(scope, { clusterName: 'default' });
      }
      if (config.embeddedAgent) {
        const cluster = config.embeddedAgent.cluster ?? 'default';
        const stateDir = join(config.dataDir, 'agent');
        const instanceId = loadInstanceId(stateDir);
        const hostSafety = new HostSafety(config.embeddedAgent.hostSafety ?? {}, { protectedPaths: [config.dataDir, stateDir] });
        agent = new Agent({
          endpoint: `http://127.0.0.1:${boundPort}`,
          cluster,
          stateDir,
          runtime: new DockerRuntime({ instanceId, bindIp: config.embeddedAgent.bindIp, hostSafety }),
          log: http.log.child({ component: 'agent' }),
          // The local host is the capacity Dockyard manages itself: FARGATE tasks land here.
          host: { fargateCapacity: true, reservedPorts: ['22', '2375', '2376', String(boundPort)], privilegedContainers: hostSafety.privilegedAllowed },
          cleanupDelayMs: config.embeddedAgent.cleanupDelayMs,
          pollWaitMs: config.embeddedAgent.pollWaitMs,
        });
        try {
          await agent.start();
        } catch (e) {
          // No Docker here (or it is down): the APIs still work; tasks wait for an agent.
          http.log.error({ err: String(e) }, 'the embedded agent could not start; running without one');
          await agent.close().catch(() => undefined);
          agent = undefined;
        }
      }
      return boundPort;
    },
    async close() {
      await agent?.close();
      await liveness.stop();
      await registryMaintenance.stop();
      await http.close();
      // Replications and scans started by pushes finish before the store closes.
      await ecr.idle();
      await store.close();
    },
  };
}
