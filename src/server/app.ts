/**
 * The composition root: the only place that constructs the object graph.
 */
import type { FastifyInstance } from 'fastify';
import type { ServiceModule } from '../aws/service.js';
import { join } from 'node:path';
import { Agent, DockerRuntime, HostSafety, loadInstanceId, type Runtime } from '../agent/index.js';
import { ADMIN_SIGNING_NAME, AgentAuth, AgentLiveness, registerAgentApi, registerJoinTokenApi, registerLogRoutes, registerSpotInterruptionApi, registerTaskStatsRoutes, type CallerAuthenticator } from '../agent-api/index.js';
import { RoleCredentialsVendor } from '../agent-api/role-credentials.js';
import { systemClock, type Clock } from '../core/clock.js';
import type { Authorizer } from '../iam/principal.js';
import { isKnownAwsRegion } from '../aws/sigv4.js';
import { CredentialResolverChain } from '../iam/credential-chain.js';
import { loadOrCreateRootKey, rootKeyResolver, type AccessKey } from '../iam/root-key.js';
import { createRegistry, registerRegistryRoutes } from '../registry/index.js';
import { createEcrDomain, ecrService, mintRegistryCredential, RegistryMaintenance } from '../services/ecr/index.js';
import { containerInstanceOperations } from '../services/ecs/container-instance-operations.js';
import { ContainerInstances } from '../services/ecs/container-instances.js';
import { InstanceAttributes } from '../services/ecs/instance-attributes.js';
import { createEcsDomain, ecsService } from '../services/ecs/index.js';
import { ExpressServices, expressOperations } from '../services/ecs-express/index.js';
import { createServer as createNetServer } from 'node:net';
import { ServiceController, soleLeader } from '../controllers/index.js';
import { createIamDomain, iamService } from '../services/iam/index.js';
import { createLogs, logsService } from '../services/logs/index.js';
import { StsSessions, stsService } from '../services/sts/index.js';
import { createSsmDomain, ssmService } from '../services/ssm/index.js';
import { createSecretsManagerDomain, secretsManagerService } from '../services/secretsmanager/index.js';
import { acmService, Certificates } from '../services/acm/index.js';
import { createElbv2Domain, elbv2Service, type Elbv2Domain } from '../services/elbv2/index.js';
import { LoadBalancerDataPlane } from '../lb/index.js';
import { cloudWatchService, createCloudWatchDomain, scopeKey } from '../services/cloudwatch/index.js';
import { aggregateByMinute, type MetricPoint } from '../services/ecs/task-metrics.js';
import { AlarmEvaluator } from '../controllers/alarm-evaluator.js';
import { ScheduledActionRunner } from '../controllers/scheduled-actions.js';
import { ClusterMetricsPublisher } from '../controllers/cluster-metrics.js';
import { applicationAutoScalingService, AutoScaling, type ScalableTargetDriver } from '../services/application-autoscaling/index.js';
import { ecsServiceDriver } from './scaling-drivers.js';
import { SecretBox } from '../core/secret-box.js';
import { IdentityPolicies } from '../services/iam/identity-policies.js';
import { StoredCredentials } from '../iam/stored-credentials.js';
import { SqliteStore } from '../store/sqlite.js';
import type { Store } from '../store/store.js';
import type { ServerConfig } from './config.js';
import type { PolicyAuthorizer } from '../iam/operation-authorizer.js';
import { authenticate, RequestAuthenticator } from './auth.js';
import { createAuthorizer, principalCallers, registryAuthorizer } from './authorization.js';
import { buildHttpServer } from './http.js';
import { taskSecretsResolver } from './task-secrets.js';
import { ecsRotationRunner } from './secret-rotation.js';
import { registerResetRoute, resetEverything, type ResetReport } from './reset.js';
import { loadTls, type TlsMaterial } from './tls.js';
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
  agentAuth: AgentAuth;
  /** The certificate served when config.tls is set (and the generated CA's file, in self-signed mode). */
  tls: TlsMaterial | undefined;
  /** Wipes all state (what POST /_dockyard/reset does when enabled). */
  reset(): Promise<ResetReport>;
  /** The account's root access key (`dockyard up` prints it). */
  rootKey: AccessKey;
  /** Where access key ids resolve to principals: the root key, IAM users' access keys, STS sessions. */
  credentials: CredentialResolverChain;
  authenticator: RequestAuthenticator;
  /** The identity-based policies in force for a caller, for the policy engine. */
  identityPolicies: IdentityPolicies;
  /** IAM policy evaluation for callers (the Authorizer of src/iam/principal.ts; `forOperation` runs before every handler). */
  authorizer: PolicyAuthorizer;
  /** Mints task-role credentials (STS). */
  roleCredentials: StsSessions;
  /** ELBv2's domain (registerTargets, deregisterTargets, target health, waitForDeregistration for service controllers). */
  elbv2: Elbv2Domain;
  /** The load balancers' listeners and health checks (absent when config.loadBalancing.dataPlane is false). */
  loadBalancing: LoadBalancerDataPlane | undefined;
  /** Listens on config.host:config.port; resolves with the bound port (0 → an ephemeral one). */
  listen(): Promise<number>;
  close(): Promise<void>;
}

export interface AppOptions {
  clock?: Clock;
  logger?: boolean | object;
  /** Who signed an admin request; default: the SigV4 gate, for the `dockyard` signing name. */
  authenticate?: CallerAuthenticator;
  /** IAM policy evaluation for admin requests of IAM users and roles (default: the policy authorizer). */
  authorizer?: Authorizer;
  /** Tests only: the embedded agent's runtime instead of Docker (e.g. the simulated one). */
  agentRuntime?: Runtime;
  /** Tests only: Application Auto Scaling drivers by service namespace, instead of the ECS one. */
  scalableTargetDrivers?: Record<string, ScalableTargetDriver>;
}

/** Whether nothing listens on host:port now (a listen that succeeds is closed at once). */
function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createNetServer();
    probe.once('error', () => resolve(false));
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve(true)));
  });
}

/** The address the embedded agent dials: loopback when listening on every interface. */
const dialHost = (host: string) => (host === '0.0.0.0' || host === '::' || host === '' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host);

export async function createApp(config: ServerConfig, opts: AppOptions = {}): Promise<App> {
  const clock = opts.clock ?? systemClock;
  const store = new SqliteStore(config.dataDir);
  const rootKey = loadOrCreateRootKey(config.dataDir, config.rootKey);
  const credentials = new CredentialResolverChain([rootKeyResolver(rootKey, config.accountId)]);
  const regions = config.regions ? new Set(config.regions) : undefined;
  const authenticator = new RequestAuthenticator({
    credentials,
    accountId: config.accountId,
    defaultRegion: config.region,
    isValidRegion: regions ? (r) => regions.has(r) : isKnownAwsRegion,
    acceptAnyCredentials: config.acceptAnyCredentials,
    now: () => clock.now() * 1000,
  });
  const ecs = createEcsDomain({ store, clock, serviceScheduler: config.deploymentMinuteSeconds !== undefined ? { minuteSeconds: config.deploymentMinuteSeconds } : undefined });
  // Controllers run on the leader; one process on SQLite always is.
  let serviceController: ServiceController | undefined;
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
  const tls = config.tls ? loadTls(config.tls, config.dataDir, [config.host, (config.registryHost ?? '').replace(/:\d+$/, '')]) : undefined;
  const agentAuth = new AgentAuth(store, clock);
  const registry = await createRegistry({ dataDir: config.dataDir, store, clock });
  let http: ReturnType<typeof buildHttpServer> | undefined;
  const ecr = createEcrDomain({
    store,
    clock,
    registry,
    registryHost,
    registryScheme: tls ? 'https' : 'http',
    vulnerabilityDb: config.ecrVulnerabilityDb,
    log: { error: (obj, msg) => http?.log.error(obj, msg) },
  });
  const secrets = SecretBox.forDataDir(config.dataDir, config.secretsKeyFile);
  const iam = createIamDomain({ store, clock, secrets });
  const sts = new StsSessions(store, clock, iam.roles, secrets);
  credentials.add(new StoredCredentials(iam.accessKeys, sts));
  const identityPolicies = new IdentityPolicies(store);
  // Log data has its own SQLite file in the data dir, apart from the control-plane store.
  const logs = createLogs({ dataDir: config.dataDir, clock });
  store.onClear(() => logs.domain.events.clear());
  const ssm = createSsmDomain({ store, clock, secrets });
  const secretsManager = createSecretsManagerDomain({ store, clock, secrets, rotationRunner: ecsRotationRunner(ecs) });
  const authorizer = createAuthorizer({ identityPolicies, clock, store, ecs, ecr, iam, secretsManager });
  // ACM's certificates serve HTTPS listeners; ELBv2 checks the ones listeners name, ACM asks which listeners use one.
  const certificates: Certificates = new Certificates(store, clock, secrets, (arn) => elbv2.listeners.usingCertificate(arn));
  const elbv2 = createElbv2Domain({ store, clock, certificateExists: (s, arn) => certificates.exists(s, arn), dnsSuffix: config.loadBalancing?.dnsSuffix });
  const metricsConfig = config.metrics ?? {};
  const cloudwatch = createCloudWatchDomain({
    store,
    clock,
    dataDir: config.dataDir,
    retention: { minuteRetentionSeconds: metricsConfig.minuteRetentionSeconds, hourRetentionSeconds: metricsConfig.hourRetentionSeconds },
  });
  // Scaling policies own CloudWatch alarms; alarms invoke scaling policies.
  const autoscaling = new AutoScaling(
    store,
    clock,
    opts.scalableTargetDrivers ?? {
      // Capacity changes are UpdateService(desiredCount) through the ECS domain, so the service scheduler starts or stops tasks.
      ecs: ecsServiceDriver({ store, updateDesiredCount: async (scope, cluster, service, desiredCount) => void (await ecs.services.update(scope, { cluster, service, desiredCount })) }),
    },
    {
      check: (alarm) => cloudwatch.alarms.check(alarm as never),
      put: (scope, alarm) => cloudwatch.alarms.put(scope, alarm as never),
      delete: (scope, names) => cloudwatch.alarms.deleteIfPresent(scope, names),
    },
    { targetTrackingHighPeriods: metricsConfig.targetTrackingHighPeriods, targetTrackingLowPeriods: metricsConfig.targetTrackingLowPeriods },
  );
  cloudwatch.alarms.setActionInvoker(async (action, alarm, value) => {
    if (!/^arn:aws[a-z-]*:autoscaling:[^:]*:[^:]*:scalingPolicy:/.test(action)) throw new Error(`Dockyard does not run ${action.split(':')[2] ?? 'these'} actions`);
    return autoscaling.executePolicy(action, { AlarmName: alarm.AlarmName, Threshold: alarm.Threshold as number | undefined, StateValue: alarm.StateValue }, value);
  });
  const lbBindHost = config.loadBalancing?.bindHost ?? '127.0.0.1';
  // Express Mode composes ECS, ELBv2 and Application Auto Scaling; each service gets a listener port of its own.
  const express = new ExpressServices({
    store,
    clock,
    ecs,
    elbv2,
    autoscaling,
    bindHost: lbBindHost,
    ports: config.loadBalancing?.expressPorts ?? { from: 4601, to: 4699 },
    portFree: (port) => portFree(lbBindHost, port),
  });
  const services = [
    ecsService(ecs, { ...containerInstanceOperations(containerInstances, new InstanceAttributes(store)), ...expressOperations(express) }),
    ecrService(ecr),
    iamService(iam),
    stsService(sts),
    ssmService(ssm),
    secretsManagerService(secretsManager),
    logsService(logs.domain),
    elbv2Service(elbv2),
    acmService(certificates),
    cloudWatchService(cloudwatch),
    applicationAutoScalingService(autoscaling),
  ];
  http = buildHttpServer({
    config,
    authenticator,
    version: VERSION,
    services,
    logger: opts.logger ?? { level: config.logLevel },
    tls,
    authorize: authorizer.forOperation,
  });
  registerRegistryRoutes(http, {
    ...registry,
    repositories: ecr.repositories.lookup(config.ecrCreateOnPush ?? false),
    clock,
    registryHost,
    registryScheme: tls ? 'https' : 'http',
    log: { error: (obj, msg) => http.log.error(obj, msg) },
    authorize: registryAuthorizer(authorizer, principalCallers(store, iam)),
  });
  registerAgentApi(http, {
    store,
    clock,
    instances: containerInstances,
    liveness,
    auth: agentAuth,
    scope,
    ensureDefaultCluster: async () => {
      await ecs.clusters.create(scope, { clusterName: 'default' });
    },
    // Images in this Dockyard's own registry are pulled with a freshly minted ECR credential,
    // as the task's execution role when it has one.
    registryCredentials: async (image, imageScope) =>
      image.startsWith(`${registryHost()}/`) ? mintRegistryCredential(ecr, imageScope, imageScope.principal) : undefined,
    // Task-role and execution-role sessions come from STS, as `ecs-tasks.amazonaws.com`.
    // Task secrets are read as the task's execution role, for the agent the task is placed on.
    taskSecrets: taskSecretsResolver({ parameters: ssm.parameters, secrets: secretsManager.secrets, authorizer, callerOf: principalCallers(store, iam) }),
    roleCredentials: new RoleCredentialsVendor({ issuer: sts, now: () => clock.now() * 1000, log: http.log.child({ component: 'role-credentials' }) }),
  });
  // awslogs containers' output, shipped by the agents into CloudWatch Logs.
  registerLogRoutes(http, {
    store,
    auth: agentAuth,
    logs: {
      open: (t) => logs.domain.openShippingStream({ accountId: config.accountId, region: t.region }, t.logGroupName, t.logStreamName, t.createGroup),
      ingest: (t, events) => logs.domain.ingestShipped({ accountId: config.accountId, region: t.region }, t.logGroupName, t.logStreamName, events),
    },
  });
  // Tasks' resource use, sampled by the agents, published as ECS's CloudWatch metrics.
  const recordEcsMetrics = (s: { accountId: string; region: string }, points: readonly MetricPoint[]) =>
    cloudwatch.metrics.record(
      aggregateByMinute(points).map(({ point: p, count, sum, min, max }) => ({
        key: { scope: scopeKey(s), namespace: p.namespace, metricName: p.metricName, dimensions: p.dimensions },
        unit: p.unit,
        timestamp: p.timestamp,
        count,
        sum,
        min,
        max,
      })),
    );
  registerTaskStatsRoutes(http, { store, clock, auth: agentAuth, metrics: recordEcsMetrics });
  const clusterMetrics = new ClusterMetricsPublisher({
    store,
    clock,
    record: recordEcsMetrics,
    intervalMs: metricsConfig.containerInsightsIntervalMs ?? 60_000,
    log: { error: (obj, msg) => http.log.error(obj, msg) },
  });
  registerJoinTokenApi(http, { auth: agentAuth, authenticate: opts.authenticate ?? (async (req) => (await authenticate(req, { service: ADMIN_SIGNING_NAME })).caller), authorizer: opts.authorizer ?? authorizer });
  registerSpotInterruptionApi(http, {
    spot: ecs.spotInterruptions,
    authenticate: async (req) => {
      const signed = await authenticate(req, { service: ADMIN_SIGNING_NAME });
      return { caller: signed.caller, region: signed.region };
    },
    authorizer: opts.authorizer ?? authorizer,
  });
  // `up` always keeps a `default` cluster; so does an embedded agent that joins it.
  const keepsDefaultCluster = config.createDefaultCluster || (config.embeddedAgent !== undefined && (config.embeddedAgent.cluster ?? 'default') === 'default');
  const reset = () =>
    resetEverything({
      wipeStore: () => store.clear(),
      wipeRegistry: async () => {
        await registry.blobs.clear();
        await registry.uploads.clear();
      },
      recreateDefaults: async () => {
        if (keepsDefaultCluster) await ecs.clusters.create(scope, { clusterName: 'default' });
      },
      resetAgent: async () => (agent ? agent.reset() : 0),
    });
  if (config.enableReset) {
    // Signature verified like any AWS call; mayReset then admits only the root (or accept-any mode).
    registerResetRoute(http, { reset, authenticate });
  }
  const loadBalancing =
    config.loadBalancing?.dataPlane === false
      ? undefined
      : new LoadBalancerDataPlane({
          store,
          bindHost: lbBindHost,
          tlsMaterial: (arn) => certificates.tlsMaterial(arn),
          completeDrain: (tg, id, port) => elbv2.targets.completeDrain(tg, id, port),
          workers: config.loadBalancing?.workers,
          publishMetrics: (points) => cloudwatch.metrics.record(points),
          metricsIntervalMs: metricsConfig.loadBalancerMetricsIntervalMs,
          log: { info: (obj, msg) => http.log.info(obj, msg), error: (obj, msg) => http.log.error(obj, msg) },
        });
  elbv2.targets.healthSource = loadBalancing;
  const alarmEvaluator = new AlarmEvaluator({
    alarms: cloudwatch.alarms,
    metrics: cloudwatch.metrics,
    clock,
    intervalMs: metricsConfig.alarmEvaluationIntervalMs ?? 60_000,
    log: { error: (obj, msg) => http.log.error(obj, msg) },
  });
  const scheduledActions = new ScheduledActionRunner(autoscaling, metricsConfig.scheduledActionIntervalMs ?? 10_000, { error: (obj, msg) => http.log.error(obj, msg) });
  // CreateService / UpdateService check the target groups a service names.
  ecs.services.targetGroups = async (s, arn) => {
    const found = await elbv2.targetGroups.describe(s, { TargetGroupArns: [arn] }).catch(() => undefined);
    const tg = found?.TargetGroups?.[0];
    return tg ? { targetType: tg.TargetType ?? 'instance', loadBalancerArns: tg.LoadBalancerArns ?? [] } : undefined;
  };
  ecs.services.listenerRules = (s, arn) => elbv2.listeners.forwardTargets(s, arn);
  const hour = 3600 * 1000;
  const registryMaintenance = new RegistryMaintenance(
    [
      { name: 'ecr-lifecycle', intervalMs: (config.ecrLifecycleIntervalSeconds ?? 3600) * 1000, run: () => ecr.lifecycle.applyAll() },
      {
        name: 'registry-gc',
        intervalMs: (config.registryGcIntervalSeconds ?? 3600) * 1000,
        run: async () => ({ uploads: await registry.collector.sweepUploads(24 * hour), blobs: (await registry.collector.collect({ graceMs: hour })).deleted.length }),
      },
      // Metric data past retention goes a whole day (or 32-day rollup) table at a time.
      { name: 'metric-retention', intervalMs: hour, run: async () => ({ droppedTables: cloudwatch.metricStore.enforceRetention(clock.now()) }) },
    ],
    { info: (obj, msg) => http.log.info(obj, msg), error: (obj, msg) => http.log.error(obj, msg) },
  );
  // Secrets: scheduled rotations started and finished, deleted secrets purged after their recovery window.
  // Logged only when something happened (the rotation check runs every minute).
  const busy = (result: unknown) => Object.values((result ?? {}) as Record<string, number>).some((n) => n > 0);
  const secretsMaintenance = new RegistryMaintenance(
    [
      { name: 'secrets-rotation', intervalMs: (config.secretsRotationIntervalSeconds ?? 60) * 1000, run: () => secretsManager.rotation.tick() },
      { name: 'secrets-purge', intervalMs: hour, run: async () => ({ purged: await secretsManager.secrets.purgeDue() }) },
    ],
    {
      info: (obj, _msg) => busy((obj as { result?: unknown }).result) && http.log.info(obj, 'secrets maintenance'),
      error: (obj, _msg) => http.log.error(obj, 'secrets maintenance failed'),
    },
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
    agentAuth,
    tls,
    reset,
    rootKey,
    credentials,
    authenticator,
    identityPolicies,
    authorizer,
    roleCredentials: sts,
    elbv2,
    loadBalancing,
    async listen() {
      await http.listen({ host: config.host, port: config.port });
      const addr = http.server.address();
      boundPort = typeof addr === 'object' && addr ? addr.port : config.port;
      registryMaintenance.start();
      secretsMaintenance.start();
      logs.retention.start();
      alarmEvaluator.start();
      scheduledActions.start();
      clusterMetrics.start();
      await liveness.start();
      if (config.serviceController !== false) {
        serviceController = new ServiceController(store, ecs.serviceScheduler, soleLeader, clock, {
          idleMs: config.serviceControllerIdleMs,
          targets: elbv2.targets,
          listeners: elbv2.listeners,
          log: { error: (obj, msg) => http.log.error(obj, msg) },
        });
        serviceController.start();
      }
      await loadBalancing?.start();
      if (keepsDefaultCluster) {
        await ecs.clusters.create(scope, { clusterName: 'default' });
      }
      if (config.embeddedAgent) {
        const cluster = config.embeddedAgent.cluster ?? 'default';
        const stateDir = join(config.dataDir, 'agent');
        const instanceId = loadInstanceId(stateDir);
        const hostSafety = new HostSafety(config.embeddedAgent.hostSafety ?? {}, { protectedPaths: [config.dataDir, stateDir] });
        // Trusted in-process: its credential is minted here and handed over, never sent for.
        const credential = await agentAuth.issueInternalCredential(containerInstances.instanceArn(scope, cluster, instanceId));
        agent = new Agent({
          endpoint: `${tls ? 'https' : 'http'}://${dialHost(config.host)}:${boundPort}`,
          cluster,
          stateDir,
          credential,
          tls: tls ? { pinnedFingerprint256: tls.fingerprint256 } : undefined,
          runtime: opts.agentRuntime ?? new DockerRuntime({ instanceId, bindIp: config.embeddedAgent.bindIp, hostSafety }),
          log: http.log.child({ component: 'agent' }),
          // The local host is the capacity Dockyard manages itself: FARGATE tasks land here.
          host: { fargateCapacity: true, reservedPorts: ['22', '2375', '2376', String(boundPort)], privilegedContainers: hostSafety.privilegedAllowed },
          cleanupDelayMs: config.embeddedAgent.cleanupDelayMs,
          pollWaitMs: config.embeddedAgent.pollWaitMs,
          statsIntervalMs: config.embeddedAgent.statsIntervalMs,
          taskEndpoint: config.embeddedAgent.taskEndpoint === false ? undefined : (config.embeddedAgent.taskEndpoint ?? {}),
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
      await serviceController?.stop();
      await agent?.close();
      await loadBalancing?.close();
      await liveness.stop();
      await registryMaintenance.stop();
      await secretsMaintenance.stop();
      await alarmEvaluator.stop();
      await scheduledActions.stop();
      await clusterMetrics.stop();
      await http.close();
      // Replications and scans started by pushes finish before the store closes.
      await ecr.idle();
      logs.close();
      cloudwatch.metricStore.close();
      await store.close();
    },
  };
}
