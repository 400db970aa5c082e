/** Server configuration: flags win over environment variables, which win over defaults. */
import { homedir } from 'node:os';
import type { HostSafetySettings } from '../agent/host-safety.js';
import { join } from 'node:path';
import type { TlsConfig } from './tls.js';

export interface ServerConfig {
  host: string;
  port: number;
  dataDir: string;
  region: string;
  accountId: string;
  logLevel: string;
  /** host:port that docker uses for the registry (repositoryUri, proxyEndpoint); default 127.0.0.1:<bound port>. */
  registryHost?: string;
  /** Create a repository on the first push to it instead of failing with NAME_UNKNOWN. */
  ecrCreateOnPush?: boolean;
  /** OSV vulnerability database (a JSON file or a directory of them) for ECR image scans; none: scans inventory only. */
  ecrVulnerabilityDb?: string;
  /** How often lifecycle policies are enforced; 0 turns the schedule off. */
  ecrLifecycleIntervalSeconds?: number;
  /** How often abandoned uploads are swept and unreferenced blobs collected; 0 turns it off. */
  registryGcIntervalSeconds?: number;
  /** The agent `up` embeds for this host (absent: none). It joins `cluster` (default `default`). */
  embeddedAgent?: EmbeddedAgentConfig;
  /** Create the `default` cluster at start if it is missing (`up` does). */
  createDefaultCluster?: boolean;
  /** Agent protocol: heartbeat interval handed to agents, and the silence after which agentConnected=false. */
  agentHeartbeatIntervalMs?: number;
  agentHeartbeatTtlMs?: number;
  /** The service controller's longest sleep without a change (ms; default 2000). */
  serviceControllerIdleMs?: number;
  /** Run the service controller (default true). API-only tests turn it off so nothing writes in the background. */
  serviceController?: boolean;
  /** Seconds in one minute of a deployment's bake times and lifecycle hook timeouts (tests shorten it; default 60). */
  deploymentMinuteSeconds?: number;
  /** Serve https on the port: the operator's certificate, or a CA generated into the data dir. */
  tls?: TlsConfig;
  /** Mount POST /_dockyard/reset (test suites); absent or false, it answers 404. */
  enableReset?: boolean;
  /** The account's root access key; absent, the one in the data dir (created on first start). */
  rootKey?: { accessKeyId: string; secretAccessKey: string };
  /** Regions a credential scope may name; absent, every region of the AWS partitions. */
  regions?: string[];
  /** The key that seals secrets at rest (32 bytes, base64 or hex, in a file); absent, `<dataDir>/keys/secrets.key`. */
  secretsKeyFile?: string;
  /** How often due secret rotations are started; 0 turns the schedule off. */
  secretsRotationIntervalSeconds?: number;
  /** Verify nothing: any key id is trusted as the account (test suites). */
  acceptAnyCredentials?: boolean;
  /**
   * Load-balancer listeners: the address they bind (default 127.0.0.1), the DNS suffix of DNSName,
   * false to run no data plane, and how many worker processes serve them (default: one per CPU;
   * 1 serves them in the Dockyard process).
   */
  loadBalancing?: {
    bindHost?: string;
    dnsSuffix?: string;
    dataPlane?: boolean;
    workers?: number;
    /** The ports ECS Express Mode services' listeners get, lowest free first (default 4601-4699). */
    expressPorts?: { from: number; to: number };
  };
  /** CloudWatch and Application Auto Scaling timing (tests shorten these). */
  metrics?: MetricsConfig;
}

export interface MetricsConfig {
  /** How often alarms are evaluated (default 60 000; 0 turns the evaluator off). */
  alarmEvaluationIntervalMs?: number;
  /** How often due scheduled actions are looked for (default 10 000; 0 turns it off). */
  scheduledActionIntervalMs?: number;
  /** How long one-minute metric data is kept (default 15 days) and hourly rollups (default 455 days). */
  minuteRetentionSeconds?: number;
  hourRetentionSeconds?: number;
  /** Target tracking alarms: the evaluation periods of the high and low alarms (AWS: 3 and 15 one-minute periods). */
  targetTrackingHighPeriods?: number;
  targetTrackingLowPeriods?: number;
  /** How often the cluster metrics (CPU/MemoryReservation, Container Insights' counts) are published (default 60 000; 0 turns it off). */
  containerInsightsIntervalMs?: number;
  /** How often the load balancers' AWS/ApplicationELB counters are published (default 60 000 ms). */
  loadBalancerMetricsIntervalMs?: number;
}

export interface EmbeddedAgentConfig {
  cluster?: string;
  /** Address task ports are published on (127.0.0.1 by default). */
  bindIp?: string;
  /** How long a stopped task's containers are kept before removal. */
  cleanupDelayMs?: number;
  pollWaitMs?: number;
  /** How often the agent samples its running tasks' stats (default 20 000; 0: never). */
  statsIntervalMs?: number;
  /** The task metadata and credentials endpoints (default: on 169.254.170.2, an ephemeral port); false turns them off. */
  taskEndpoint?: { host?: string; port?: number } | false;
  /** What tasks may take from this host (DEFAULT_HOST_SAFETY for what is left out); the data dir is always protected. */
  hostSafety?: Partial<HostSafetySettings>;
}

/** `FROM-TO` (DOCKYARD_EXPRESS_PORTS), e.g. `4601-4699`; absent or malformed: the default range. */
function portRange(text: string | undefined): { from: number; to: number } | undefined {
  const m = /^(\d{1,5})-(\d{1,5})$/.exec(text?.trim() ?? '');
  if (!m) return undefined;
  const from = Number(m[1]);
  const to = Number(m[2]);
  return from >= 1 && from <= to && to <= 65535 ? { from, to } : undefined;
}

export function defaultConfig(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  return {
    host: env.DOCKYARD_HOST ?? '127.0.0.1',
    port: Number(env.DOCKYARD_PORT ?? 4600),
    dataDir: env.DOCKYARD_DATA_DIR ?? join(homedir(), '.dockyard'),
    region: env.DOCKYARD_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    accountId: env.DOCKYARD_ACCOUNT_ID ?? '000000000000',
    logLevel: env.DOCKYARD_LOG_LEVEL ?? 'info',
    registryHost: env.DOCKYARD_REGISTRY_HOST || undefined,
    ecrCreateOnPush: /^(1|true|yes)$/i.test(env.DOCKYARD_ECR_CREATE_ON_PUSH ?? ''),
    ecrVulnerabilityDb: env.DOCKYARD_ECR_VULNERABILITY_DB || undefined,
    ecrLifecycleIntervalSeconds: Number(env.DOCKYARD_ECR_LIFECYCLE_INTERVAL ?? 3600),
    registryGcIntervalSeconds: Number(env.DOCKYARD_REGISTRY_GC_INTERVAL ?? 3600),
    enableReset: /^(1|true|yes)$/i.test(env.DOCKYARD_ENABLE_RESET ?? ''),
    regions: env.DOCKYARD_REGIONS ? env.DOCKYARD_REGIONS.split(',').map((r) => r.trim()).filter(Boolean) : undefined,
    secretsKeyFile: env.DOCKYARD_SECRETS_KEY_FILE || undefined,
    secretsRotationIntervalSeconds: Number(env.DOCKYARD_SECRETS_ROTATION_INTERVAL ?? 60),
    acceptAnyCredentials: /^(1|true|yes)$/i.test(env.DOCKYARD_ACCEPT_ANY_CREDENTIALS ?? ''),
    deploymentMinuteSeconds: env.DOCKYARD_DEPLOYMENT_MINUTE_SECONDS ? Number(env.DOCKYARD_DEPLOYMENT_MINUTE_SECONDS) : undefined,
    loadBalancing: { bindHost: env.DOCKYARD_LB_BIND_HOST || '127.0.0.1', dnsSuffix: env.DOCKYARD_LB_DNS_SUFFIX || 'elb.localhost', expressPorts: portRange(env.DOCKYARD_EXPRESS_PORTS), workers: env.DOCKYARD_LB_WORKERS ? Number(env.DOCKYARD_LB_WORKERS) : undefined },
    metrics: env.DOCKYARD_ALARM_EVALUATION_INTERVAL_MS ? { alarmEvaluationIntervalMs: Number(env.DOCKYARD_ALARM_EVALUATION_INTERVAL_MS) } : undefined,
  };
}
