/**
 * The `dockyard` command: `up` runs the control plane and an embedded agent for this host;
 * `agent` runs only an agent, joining a control plane elsewhere.
 */
import { Command, Option } from 'commander';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Agent, AGENT_VERSION, DockerRuntime, HostSafety, loadInstanceId } from '../agent/index.js';
import { collect, hostSafetySettings, withHostSafetyOptions, type HostSafetyFlags } from './host-safety-flags.js';
import { createApp } from '../server/app.js';
import { defaultConfig } from '../server/config.js';
import { VERSION } from '../server/version.js';

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
  .addOption(new Option('--ecr-vulnerability-db <path>', 'OSV vulnerability database (JSON file or directory) that ECR image scans match against').default(defaults.ecrVulnerabilityDb))
  .option('--no-agent', 'do not run the embedded agent for this host')
  .addOption(new Option('--bind-ip <addr>', 'address task ports are published on').default('127.0.0.1'));
withHostSafetyOptions(up)
  .action(async (opts: { port: number; host: string; dataDir: string; region: string; accountId: string; logLevel: string; registryHost?: string; ecrCreateOnPush?: boolean; ecrVulnerabilityDb?: string; agent: boolean; bindIp: string } & HostSafetyFlags) => {
    const { agent, bindIp, allowPrivileged, allowDockerSocket, allowHostPath, denyHostNetwork, allowHostPid, allowHostIpc, allowCapability, allowDevice, ...server } = opts;
    const hostSafety = hostSafetySettings({ allowPrivileged, allowDockerSocket, allowHostPath, denyHostNetwork, allowHostPid, allowHostIpc, allowCapability, allowDevice });
    // `up` always has a `default` cluster; with the agent, this host joins it.
    const app = await createApp({ ...defaults, ...server, createDefaultCluster: true, embeddedAgent: agent ? { bindIp, hostSafety } : undefined });
    const port = await app.listen();
    app.http.log.info({ port, dataDir: opts.dataDir }, `Dockyard ${VERSION} listening on http://${opts.host}:${port}`);
    const stop = async () => {
      await app.close();
      process.exit(0);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
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

await program.parseAsync(process.argv);
