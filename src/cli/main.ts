/**
 * The `dockyard` command: `up` runs the control plane (and, once the agent exists, an
 * embedded agent for this host).
 */
import { Command, Option } from 'commander';
import { createApp } from '../server/app.js';
import { defaultConfig } from '../server/config.js';
import { VERSION } from '../server/version.js';

const program = new Command('dockyard').version(VERSION).description('A self-hosted container platform that speaks the AWS container APIs');
const defaults = defaultConfig();

program
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
  .action(async (opts: { port: number; host: string; dataDir: string; region: string; accountId: string; logLevel: string; registryHost?: string; ecrCreateOnPush?: boolean }) => {
    const app = await createApp({ ...defaults, ...opts });
    const port = await app.listen();
    app.http.log.info({ port, dataDir: opts.dataDir }, `Dockyard ${VERSION} listening on http://${opts.host}:${port}`);
    const stop = async () => {
      await app.close();
      process.exit(0);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });

await program.parseAsync(process.argv);
