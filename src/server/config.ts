/** Server configuration: flags win over environment variables, which win over defaults. */
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface ServerConfig {
  host: string;
  port: number;
  dataDir: string;
  region: string;
  accountId: string;
  logLevel: string;
}

export function defaultConfig(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  return {
    host: env.DOCKYARD_HOST ?? '127.0.0.1',
    port: Number(env.DOCKYARD_PORT ?? 4600),
    dataDir: env.DOCKYARD_DATA_DIR ?? join(homedir(), '.dockyard'),
    region: env.DOCKYARD_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    accountId: env.DOCKYARD_ACCOUNT_ID ?? '000000000000',
    logLevel: env.DOCKYARD_LOG_LEVEL ?? 'info',
  };
}
