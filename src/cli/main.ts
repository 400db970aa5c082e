/**
 * The `dockyard` command: `up` runs the control plane and an embedded agent for this host;
 * `agent` runs only an agent, joining a control plane elsewhere with a join token that
 * `join-token create` makes; `credentials` shows the account's root access key again (and can
 * write it as an AWS CLI profile); `reset` wipes a test instance's state.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { collect, hostSafetySettings, withHostSafetyOptions, type HostSafetyFlags } from './host-safety-flags.js';
import { defaultConfig } from '../server/config.js';
import type { TlsConfig } from '../server/tls.js';
import { VERSION } from '../server/version.js';
import type { AdminClient } from './admin-client.js';
import { logFormatOption, loggerOptions, type LogFormat } from './log-format.js';

// Each command imports what it runs inside its action, so that `dockyard agent` never loads the
// control plane (fastify, better-sqlite3, the services) and `--version`/`--help` load neither.
// The static imports above are commander and dependency-free modules (node built-ins only).
const program = new Command('dockyard').version(VERSION).description('A self-hosted container platform that speaks the AWS container APIs');
const defaults = defaultConfig();

const up = program
  .command('up')
  .description('start Dockyard on this machine')
  .addOption(new Option('--port <port>', 'port for every API').default(defaults.port).argParser(Number))
  .addOption(new Option('--host <addr>', 'address to listen on').default(defaults.host))
  .addOption(new Option('--data-dir <dir>', 'where state is kept').default(defaults.dataDir))
  .addOption(new Option('--region <region>', 'default region for unsigned requests').default(defaults.region))
  .addOption(new Option('--account-id <id>', 'account id used in ARNs').default(defaults.accountId))
  .addOption(new Option('--log-level <level>', 'pino log level').default(defaults.logLevel))
  .addOption(logFormatOption())
  .addOption(new Option('--registry-host <host:port>', 'registry address docker uses (repositoryUri); default 127.0.0.1:<port>').default(defaults.registryHost))
  .addOption(new Option('--ecr-create-on-push', 'create ECR repositories on first push').default(defaults.ecrCreateOnPush))
  .addOption(new Option('--ecr-vulnerability-db <path>', 'OSV vulnerability database (JSON file or directory) that ECR image scans match against').default(defaults.ecrVulnerabilityDb))
  .option('--no-agent', 'do not run the embedded agent for this host')
  .addOption(new Option('--enable-reset', 'serve POST /_dockyard/reset (wipes all state; for test suites)').default(defaults.enableReset))
  .addOption(new Option('--bind-ip <addr>', 'address task ports are published on').default('127.0.0.1'))
  .addOption(new Option('--lb-bind-host <addr>', 'address load-balancer listeners bind').default(defaults.loadBalancing?.bindHost ?? '127.0.0.1'))
  .addOption(
    new Option('--lb-workers <n>', 'worker processes serving load-balancer listeners (default: one per CPU; 1 serves them in this process)')
      .argParser((v: string) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('a whole number of at least 1');
        return n;
      })
      .default(defaults.loadBalancing?.workers),
  )
  .addOption(new Option('--regions <list>', 'comma-separated regions a request may be signed for (default: every AWS region)').argParser((v: string) => v.split(',').map((r) => r.trim()).filter(Boolean)).default(defaults.regions))
  .addOption(new Option('--accept-any-credentials', 'do not verify request signatures: anyone who reaches the port acts as the account (test suites only)').default(defaults.acceptAnyCredentials))
  .addOption(new Option('--secrets-key-file <file>', 'key that seals secrets at rest (32 bytes, base64 or hex; default <data-dir>/keys/secrets.key)').default(defaults.secretsKeyFile))
  .option('--tls', 'serve https with a CA that Dockyard generates into <data-dir>/tls (agents pin its ca.crt)')
  .addOption(new Option('--tls-cert <file>', 'serve https with this certificate (PEM, with its chain)'))
  .addOption(new Option('--tls-key <file>', 'the private key of --tls-cert (PEM)'));
withHostSafetyOptions(up)
  .action(async (opts: { port: number; host: string; dataDir: string; region: string; accountId: string; logLevel: string; registryHost?: string; ecrCreateOnPush?: boolean; ecrVulnerabilityDb?: string; enableReset?: boolean; agent: boolean; bindIp: string; lbBindHost: string; lbWorkers?: number; regions?: string[]; acceptAnyCredentials?: boolean; secretsKeyFile?: string; tls?: boolean; tlsCert?: string; tlsKey?: string; logFormat: LogFormat } & HostSafetyFlags) => {
    const { agent, bindIp, lbBindHost, lbWorkers, tls: selfSigned, tlsCert, tlsKey, allowPrivileged, allowDockerSocket, allowHostPath, denyHostNetwork, allowHostPid, allowHostIpc, allowCapability, allowDevice, ...server } = opts;
    const hostSafety = hostSafetySettings({ allowPrivileged, allowDockerSocket, allowHostPath, denyHostNetwork, allowHostPid, allowHostIpc, allowCapability, allowDevice });
    if (Boolean(tlsCert) !== Boolean(tlsKey)) program.error('--tls-cert and --tls-key go together');
    if (selfSigned && tlsCert) program.error('--tls generates its own certificate: leave out --tls-cert/--tls-key, or --tls');
    const tls: TlsConfig | undefined = tlsCert ? { mode: 'files', certFile: tlsCert, keyFile: tlsKey! } : selfSigned ? { mode: 'self-signed' } : undefined;
    const scheme = tls ? 'https' : 'http';
    const [{ createApp }, { ROOT_KEY_FILE }, { exportLines }] = await Promise.all([import('../server/app.js'), import('../iam/root-key.js'), import('./credentials.js')]);
    // `up` always has a `default` cluster; with the agent, this host joins it.
    const { logFormat, ...config } = server;
    const app = await createApp(
      { ...defaults, ...config, tls, loadBalancing: { ...defaults.loadBalancing, bindHost: lbBindHost, workers: lbWorkers }, createDefaultCluster: true, embeddedAgent: agent ? { bindIp, hostSafety } : undefined },
      { logger: loggerOptions(opts.logLevel, logFormat) },
    );
    const port = await app.listen();
    app.http.log.info({ port, dataDir: opts.dataDir }, `Dockyard ${VERSION} listening on ${scheme}://${opts.host}:${port}`);
    if (app.tls?.caFile) {
      app.http.log.info(
        { caFile: app.tls.caFile },
        `TLS with a generated CA: agents join with --ca-cert ${app.tls.caFile}; docker trusts it from /etc/docker/certs.d/<registry host:port>/ca.crt; the AWS CLI with --ca-bundle`,
      );
    }
    // For the person at the terminal (stderr), never in the JSON logs (stdout).
    if (opts.acceptAnyCredentials) {
      app.http.log.warn('--accept-any-credentials: request signatures are NOT verified');
      process.stderr.write(
        `\n!!! --accept-any-credentials: signatures are NOT verified. Anyone who can reach ${scheme}://${opts.host}:${port} acts as account ${opts.accountId}. Use this only for test suites. !!!\n\n`,
      );
    } else {
      process.stderr.write(
        `\nRoot access key of account ${opts.accountId} (kept in ${join(opts.dataDir, ROOT_KEY_FILE)}; \`dockyard credentials\` shows it again). Paste into a shell:\n\n` +
          exportLines(app.rootKey, opts.region) +
          `\nthen: aws --endpoint-url ${scheme}://${opts.host}:${port}${app.tls?.caFile ? ` --ca-bundle ${app.tls.caFile}` : ''} ecs list-clusters\n\n`,
      );
    }
    const stop = async () => {
      await app.close();
      process.exit(0);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });

program
  .command('credentials')
  .description("print the account's root access key as shell export lines; --profile also writes it as an AWS CLI profile")
  .addOption(new Option('--data-dir <dir>', 'where Dockyard keeps state').default(defaults.dataDir))
  .addOption(new Option('--region <region>', 'AWS_DEFAULT_REGION / the profile region').default(defaults.region))
  .option('--profile <name>', 'also add this profile to ~/.aws/credentials and ~/.aws/config (never replaces an existing different profile)')
  .addOption(new Option('--endpoint-url <url>', 'endpoint_url written into the profile').default(`http://${defaults.host}:${defaults.port}`))
  .action(async (opts: { dataDir: string; region: string; profile?: string; endpointUrl: string }) => {
    const [{ loadOrCreateRootKey }, { awsProfileFiles, exportLines, writeAwsProfile }] = await Promise.all([import('../iam/root-key.js'), import('./credentials.js')]);
    const key = loadOrCreateRootKey(opts.dataDir);
    process.stdout.write(exportLines(key, opts.region));
    if (opts.profile) {
      const files = awsProfileFiles();
      try {
        const outcome = writeAwsProfile(files, opts.profile, key, { region: opts.region, endpointUrl: opts.endpointUrl });
        process.stderr.write(
          outcome === 'written'
            ? `wrote profile '${opts.profile}' to ${files.credentialsFile} and ${files.configFile}: aws --profile ${opts.profile} --endpoint-url ${opts.endpointUrl} ecs list-clusters\n`
            : `profile '${opts.profile}' is already up to date\n`,
        );
      } catch (e) {
        process.stderr.write(`dockyard credentials: ${(e as Error).message}\n`);
        process.exitCode = 1;
      }
    }
  });

function providerName(v: string): string {
  if (!/^[a-zA-Z0-9_-]{1,255}$/.test(v)) throw new InvalidArgumentError('a capacity provider name: letters, digits, _ and -, at most 255');
  return v;
}

const agentCommand = program
  .command('agent')
  .description('run the host agent: join a Dockyard control plane and run its tasks on this Docker Engine')
  .requiredOption('--endpoint <url>', 'the control plane, e.g. https://10.0.0.5:4600')
  .addOption(new Option('--token <token>', "join token for this host's first registration (from 'dockyard join-token create')").env('DOCKYARD_JOIN_TOKEN'))
  .addOption(new Option('--ca-cert <file>', "trust only this CA for an https endpoint (the control plane's <data-dir>/tls/ca.crt with --tls)"))
  .addOption(new Option('--cluster <name>', 'cluster to join').default('default'))
  .addOption(new Option('--state-dir <dir>', 'where the agent keeps its instance id and credential').default(join(homedir(), '.dockyard-agent')))
  .addOption(new Option('--docker-socket <path>', 'Docker Engine socket').default('/var/run/docker.sock'))
  .addOption(new Option('--bind-ip <addr>', 'address task ports are published on').default('127.0.0.1'))
  .addOption(new Option('--lb-bind-host <addr>', 'address load-balancer listeners bind').default(defaults.loadBalancing?.bindHost ?? '127.0.0.1'))
  .addOption(new Option('--cleanup-delay <seconds>', 'how long stopped tasks keep their containers').default(3600).argParser(Number))
  .addOption(new Option('--stats-interval <seconds>', "how often running tasks' CPU, memory, network and disk use is sampled and sent (0: never)").default(20).argParser(Number))
  .option('--fargate-capacity', 'offer this host for FARGATE and FARGATE_SPOT tasks', false)
  .addOption(new Option('--capacity-provider <name>', 'provide capacity for this capacity provider (one created with create-capacity-provider)').argParser(providerName))
  .addOption(new Option('--task-endpoint-port <port>', 'port of the task metadata and credentials endpoints on 169.254.170.2 (default: ephemeral; 80 gives the relative credentials URI)').argParser(Number))
  .option('--no-task-endpoint', 'do not serve the task metadata and credentials endpoints')
  .addOption(new Option('--log-level <level>', 'pino log level').default(defaults.logLevel))
  .addOption(logFormatOption())
  .option('--protect-path <dir>', `a directory tasks may never mount, nor any parent of it, like the agent's state dir and ${defaults.dataDir}; repeatable (e.g. a control plane's --data-dir on this host)`, collect);
withHostSafetyOptions(agentCommand)
  .action(
    async (opts: { endpoint: string; token?: string; caCert?: string; cluster: string; stateDir: string; dockerSocket: string; bindIp: string; cleanupDelay: number; statsInterval: number; fargateCapacity: boolean; capacityProvider?: string; taskEndpointPort?: number; taskEndpoint: boolean; logLevel: string; logFormat: LogFormat; protectPath?: string[] } & HostSafetyFlags) => {
      const [{ pino }, { Agent, AGENT_VERSION, DockerRuntime, HostSafety, loadInstanceId }] = await Promise.all([import('pino'), import('../agent/index.js')]);
      const log = pino(loggerOptions(opts.logLevel, opts.logFormat));
      const instanceId = loadInstanceId(opts.stateDir);
      const hostSafety = new HostSafety(hostSafetySettings(opts), {
        protectedPaths: [opts.stateDir, defaults.dataDir, ...(opts.protectPath ?? [])],
        dockerSocket: opts.dockerSocket,
      });
      const agent = new Agent({
        endpoint: opts.endpoint,
        cluster: opts.cluster,
        stateDir: opts.stateDir,
        joinToken: opts.token,
        tls: opts.caCert ? { ca: readFileSync(opts.caCert) } : undefined,
        runtime: new DockerRuntime({ instanceId, socketPath: opts.dockerSocket, bindIp: opts.bindIp, hostSafety }),
        log,
        host: { fargateCapacity: opts.fargateCapacity, capacityProvider: opts.capacityProvider, privilegedContainers: hostSafety.privilegedAllowed },
        cleanupDelayMs: opts.cleanupDelay * 1000,
        statsIntervalMs: opts.statsInterval * 1000,
        taskEndpoint: opts.taskEndpoint ? { port: opts.taskEndpointPort } : undefined,
      });
      try {
        await agent.start();
      } catch (e) {
        log.error({ err: String(e) }, 'could not join the control plane');
        await agent.close();
        process.exit(1);
      }
      log.info({ containerInstanceArn: agent.containerInstanceArn }, `Dockyard agent ${AGENT_VERSION} joined ${opts.cluster}`);
      const stop = async () => {
        await agent.close();
        process.exit(0);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    },
  );

const joinToken = program.command('join-token').description('manage the join tokens that let new hosts join (signed with your AWS credentials, as the AWS CLI finds them)');
type AdminOpts = { endpoint: string; region?: string; profile?: string; caCert?: string };
/** A subcommand of `group` that signs admin requests with the caller's AWS credentials. */
const signedCommand = (group: Command, name: string, description: string) =>
  group
    .command(name)
    .description(description)
    .requiredOption('--endpoint <url>', 'the control plane, e.g. https://10.0.0.5:4600')
    .addOption(new Option('--region <region>', 'signing region (default: AWS_REGION, AWS_DEFAULT_REGION, us-east-1)'))
    .addOption(new Option('--profile <name>', 'AWS profile to sign with (default: environment credentials, then AWS_PROFILE or default)'))
    .addOption(new Option('--ca-cert <file>', "CA that signed the control plane's certificate"));
const adminCommand = (name: string, description: string) => signedCommand(joinToken, name, description);
const withAdmin = async (opts: AdminOpts, fn: (client: AdminClient) => Promise<unknown>, command = 'join-token') => {
  const { AdminClient } = await import('./admin-client.js');
  const client = new AdminClient({ endpoint: opts.endpoint, region: opts.region, profile: opts.profile, ca: opts.caCert ? readFileSync(opts.caCert) : undefined });
  try {
    await fn(client);
  } catch (e) {
    process.stderr.write(`dockyard ${command}: ${(e as Error).message}\n`);
    process.exitCode = 1;
  } finally {
    await client.close();
  }
};
const positiveInt = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`not a whole number: ${v}`);
  return n;
};

adminCommand('create', 'create a join token; prints it (the only time it is shown)')
  .option('--description <text>', 'what the token is for')
  .addOption(new Option('--expires-in <seconds>', 'the token expires this many seconds from now').argParser(positiveInt))
  .addOption(new Option('--max-uses <n>', 'how many hosts may join with it').argParser(positiveInt))
  .addOption(new Option('--max-cpu <units>', 'largest CPU (units, 1024 per core) a joining host may declare').argParser(positiveInt))
  .addOption(new Option('--max-memory <MiB>', 'largest memory a joining host may declare').argParser(positiveInt))
  .action((opts: AdminOpts & { description?: string; expiresIn?: number; maxUses?: number; maxCpu?: number; maxMemory?: number }) =>
    withAdmin(opts, async (client) => {
      const created = await client.createJoinToken({ description: opts.description, expiresInSeconds: opts.expiresIn, maxUses: opts.maxUses, maxCpu: opts.maxCpu, maxMemoryMiB: opts.maxMemory });
      process.stdout.write(`${created.token}\n`);
      process.stderr.write(`join token ${created.tokenId} created; join a host with: dockyard agent --endpoint ${opts.endpoint} --token <token>\n`);
    }),
  );

adminCommand('list', 'list join tokens (never their secrets) as JSON').action((opts: AdminOpts) =>
  withAdmin(opts, async (client) => {
    process.stdout.write(`${JSON.stringify({ joinTokens: await client.listJoinTokens() }, null, 2)}\n`);
  }),
);

adminCommand('revoke', 'revoke a join token by its id: no host can join with it any more')
  .argument('<token-id>', "the token's id (the 12 hex digits after 'dyjt.', as listed)")
  .action((tokenId: string, opts: AdminOpts) =>
    withAdmin(opts, async (client) => {
      process.stdout.write(`${JSON.stringify({ joinToken: await client.revokeJoinToken(tokenId) }, null, 2)}\n`);
    }),
  );

const spot = program.command('spot').description('rehearse FARGATE_SPOT interruptions (signed with your AWS credentials, as the AWS CLI finds them)');
signedCommand(spot, 'interrupt', "stop FARGATE_SPOT tasks as ECS does when it reclaims Spot capacity (stopCode SpotInterruption); prints what was interrupted as JSON")
  .option('--cluster <name>', 'the cluster (default: default)')
  .option('--task <arn>', 'a FARGATE_SPOT task to interrupt (ARN or id); repeatable', collect)
  .option('--all', "every FARGATE_SPOT task of the cluster that is not already stopping")
  .action((opts: AdminOpts & { cluster?: string; task?: string[]; all?: boolean }) => {
    if (Boolean(opts.task?.length) === Boolean(opts.all)) program.error('dockyard spot interrupt: give --task ARN (one or more) or --all');
    return withAdmin(
      opts,
      async (client) => {
        const outcome = await client.interruptSpotTasks({ cluster: opts.cluster, ...(opts.all ? { all: true as const } : { taskArns: opts.task }) });
        process.stdout.write(`${JSON.stringify(outcome, null, 2)}\n`);
        process.stderr.write(`${outcome.interrupted.length} spot task(s) interrupted${outcome.failures.length ? `, ${outcome.failures.length} failure(s)` : ''}\n`);
      },
      'spot interrupt',
    );
  });

program
  .command('reset')
  .description('wipe all state of a Dockyard started with --enable-reset (signed with AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)')
  .requiredOption('--endpoint <url>', 'the Dockyard to reset, e.g. http://127.0.0.1:4600')
  .addOption(new Option('--region <region>', 'region to sign for').default(process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? defaults.region))
  .action(async (opts: { endpoint: string; region: string }) => {
    const { credentialsFromEnv, requestReset } = await import('./reset.js');
    try {
      const report = await requestReset(opts.endpoint, credentialsFromEnv(), opts.region);
      console.log(`reset ${opts.endpoint} in ${report.durationMs} ms (${report.containersRemoved} containers removed)`);
    } catch (e) {
      console.error(`dockyard reset: ${e instanceof Error ? e.message : String(e)}`);
      process.exitCode = 1;
    }
  });

await program.parseAsync(process.argv);
