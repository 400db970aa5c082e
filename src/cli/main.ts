/**
 * The `dockyard` command: `up` runs the control plane and an embedded agent for this host;
 * `agent` runs only an agent, joining a control plane elsewhere; `credentials` shows the
 * account's root access key again (and can write it as an AWS CLI profile); `reset` wipes a
 * test instance's state.
 */
import { Command, Option } from 'commander';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Agent, AGENT_VERSION, DockerRuntime, HostSafety, loadInstanceId } from '../agent/index.js';
import { loadOrCreateRootKey, ROOT_KEY_FILE } from '../iam/root-key.js';
import { collect, hostSafetySettings, withHostSafetyOptions, type HostSafetyFlags } from './host-safety-flags.js';
import { createApp } from '../server/app.js';
import { credentialsFromEnv, requestReset } from './reset.js';
import { defaultConfig } from '../server/config.js';
import { VERSION } from '../server/version.js';
import { awsProfileFiles, exportLines, writeAwsProfile } from './credentials.js';

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
  .addOption(new Option('--registry-host <host:port>', 'registry address docker uses (repositoryUri); default 127.0.0.1:<port>').default(defaults.registryHost))
  .addOption(new Option('--ecr-create-on-push', 'create ECR repositories on first push').default(defaults.ecrCreateOnPush))
  .option('--no-agent', 'do not run the embedded agent for this host')
  .addOption(new Option('--enable-reset', 'serve POST /_dockyard/reset (wipes all state; for test suites)').default(defaults.enableReset))
  .addOption(new Option('--bind-ip <addr>', 'address task ports are published on').default('127.0.0.1'))
  .addOption(new Option('--regions <list>', 'comma-separated regions a request may be signed for (default: every AWS region)').argParser((v: string) => v.split(',').map((r) => r.trim()).filter(Boolean)).default(defaults.regions))
  .addOption(new Option('--accept-any-credentials', 'do not verify request signatures: anyone who reaches the port acts as the account (test suites only)').default(defaults.acceptAnyCredentials));
withHostSafetyOptions(up)
  .action(async (opts: { port: number; host: string; dataDir: string; region: string; accountId: string; logLevel: string; registryHost?: string; ecrCreateOnPush?: boolean; enableReset?: boolean; agent: boolean; bindIp: string; regions?: string[]; acceptAnyCredentials?: boolean } & HostSafetyFlags) => {
    const { agent, bindIp, allowPrivileged, allowDockerSocket, allowHostPath, denyHostNetwork, allowHostPid, allowHostIpc, allowCapability, allowDevice, ...server } = opts;
    const hostSafety = hostSafetySettings({ allowPrivileged, allowDockerSocket, allowHostPath, denyHostNetwork, allowHostPid, allowHostIpc, allowCapability, allowDevice });
    // `up` always has a `default` cluster; with the agent, this host joins it.
    const app = await createApp({ ...defaults, ...server, createDefaultCluster: true, embeddedAgent: agent ? { bindIp, hostSafety } : undefined });
    const port = await app.listen();
    app.http.log.info({ port, dataDir: opts.dataDir }, `Dockyard ${VERSION} listening on http://${opts.host}:${port}`);
    // For the person at the terminal (stderr), never in the JSON logs (stdout).
    if (opts.acceptAnyCredentials) {
      app.http.log.warn('--accept-any-credentials: request signatures are NOT verified');
      process.stderr.write(
        `\n!!! --accept-any-credentials: signatures are NOT verified. Anyone who can reach http://${opts.host}:${port} acts as account ${opts.accountId}. Use this only for test suites. !!!\n\n`,
      );
    } else {
      process.stderr.write(
        `\nRoot access key of account ${opts.accountId} (kept in ${join(opts.dataDir, ROOT_KEY_FILE)}; \`dockyard credentials\` shows it again). Paste into a shell:\n\n` +
          exportLines(app.rootKey, opts.region) +
          `\nthen: aws --endpoint-url http://${opts.host}:${port} ecs list-clusters\n\n`,
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
  .action((opts: { dataDir: string; region: string; profile?: string; endpointUrl: string }) => {
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

const agentCommand = program
  .command('agent')
  .description('run the host agent: join a Dockyard control plane and run its tasks on this Docker Engine')
  .requiredOption('--endpoint <url>', 'the control plane, e.g. http://10.0.0.5:4600')
  .addOption(new Option('--cluster <name>', 'cluster to join').default('default'))
  .addOption(new Option('--state-dir <dir>', 'where the agent keeps its instance id').default(join(homedir(), '.dockyard-agent')))
  .addOption(new Option('--docker-socket <path>', 'Docker Engine socket').default('/var/run/docker.sock'))
  .addOption(new Option('--bind-ip <addr>', 'address task ports are published on').default('127.0.0.1'))
  .addOption(new Option('--cleanup-delay <seconds>', 'how long stopped tasks keep their containers').default(3600).argParser(Number))
  .option('--fargate-capacity', 'offer this host for FARGATE tasks', false)
  .addOption(new Option('--log-level <level>', 'pino log level').default(defaults.logLevel))
  .option('--protect-path <dir>', `a directory tasks may never mount, nor any parent of it, like the agent's state dir and ${defaults.dataDir}; repeatable (e.g. a control plane's --data-dir on this host)`, collect);
withHostSafetyOptions(agentCommand)
  .action(async (opts: { endpoint: string; cluster: string; stateDir: string; dockerSocket: string; bindIp: string; cleanupDelay: number; fargateCapacity: boolean; logLevel: string; protectPath?: string[] } & HostSafetyFlags) => {
    const log = pino({ level: opts.logLevel });
    const instanceId = loadInstanceId(opts.stateDir);
    const hostSafety = new HostSafety(hostSafetySettings(opts), {
      protectedPaths: [opts.stateDir, defaults.dataDir, ...(opts.protectPath ?? [])],
      dockerSocket: opts.dockerSocket,
    });
    const agent = new Agent({
      endpoint: opts.endpoint,
      cluster: opts.cluster,
      stateDir: opts.stateDir,
      runtime: new DockerRuntime({ instanceId, socketPath: opts.dockerSocket, bindIp: opts.bindIp, hostSafety }),
      log,
      host: { fargateCapacity: opts.fargateCapacity, privilegedContainers: hostSafety.privilegedAllowed },
      cleanupDelayMs: opts.cleanupDelay * 1000,
    });
    await agent.start();
    log.info({ containerInstanceArn: agent.containerInstanceArn }, `Dockyard agent ${AGENT_VERSION} joined ${opts.cluster}`);
    const stop = async () => {
      await agent.close();
      process.exit(0);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });

program
  .command('reset')
  .description('wipe all state of a Dockyard started with --enable-reset (signed with AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)')
  .requiredOption('--endpoint <url>', 'the Dockyard to reset, e.g. http://127.0.0.1:4600')
  .addOption(new Option('--region <region>', 'region to sign for').default(process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? defaults.region))
  .action(async (opts: { endpoint: string; region: string }) => {
    try {
      const report = await requestReset(opts.endpoint, credentialsFromEnv(), opts.region);
      console.log(`reset ${opts.endpoint} in ${report.durationMs} ms (${report.containersRemoved} containers removed)`);
    } catch (e) {
      console.error(`dockyard reset: ${e instanceof Error ? e.message : String(e)}`);
      process.exitCode = 1;
    }
  });

await program.parseAsync(process.argv);
