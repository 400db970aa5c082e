/**
 * Showing the root access key to the person who runs Dockyard: shell `export` lines to paste,
 * and, when asked, an AWS CLI profile (~/.aws/credentials + ~/.aws/config) that never
 * replaces a profile someone else wrote.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { AccessKey } from '../iam/root-key.js';

export function exportLines(key: AccessKey, region: string): string {
  return `export AWS_ACCESS_KEY_ID=${key.accessKeyId} AWS_SECRET_ACCESS_KEY=${shellQuote(key.secretAccessKey)} AWS_DEFAULT_REGION=${region}\n`;
}

/** Secrets may hold `+` and `/` (safe) but quote anything else a shell would interpret. */
function shellQuote(text: string): string {
  return /^[A-Za-z0-9+/=_.-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

export interface ProfileFiles {
  credentialsFile: string;
  configFile: string;
}

/** Where the AWS CLI and SDKs look (their own environment variables win). */
export function awsProfileFiles(env: NodeJS.ProcessEnv = process.env): ProfileFiles {
  return {
    credentialsFile: env.AWS_SHARED_CREDENTIALS_FILE || join(homedir(), '.aws', 'credentials'),
    configFile: env.AWS_CONFIG_FILE || join(homedir(), '.aws', 'config'),
  };
}

export type ProfileOutcome = 'written' | 'unchanged';

/**
 * Adds `[profile]` with the key to the credentials file, and its region (and endpoint_url, which
 * AWS CLI v2 and recent SDKs honour) to the config file. A profile of that name that holds
 * anything else is an error: nothing is written.
 */
export function writeAwsProfile(files: ProfileFiles, profile: string, key: AccessKey, settings: { region: string; endpointUrl?: string }): ProfileOutcome {
  if (!/^[A-Za-z0-9_.-]+$/.test(profile)) throw new Error(`profile name '${profile}' may hold only letters, digits, '_', '.' and '-'`);
  const credentialsSection = profile;
  const configSection = profile === 'default' ? 'default' : `profile ${profile}`;
  const wantedCredentials = { aws_access_key_id: key.accessKeyId, aws_secret_access_key: key.secretAccessKey };
  const wantedConfig: Record<string, string> = { region: settings.region, ...(settings.endpointUrl ? { endpoint_url: settings.endpointUrl } : {}) };

  const credentialsText = readIfExists(files.credentialsFile);
  const configText = readIfExists(files.configFile);
  const haveCredentials = iniSection(credentialsText, credentialsSection);
  const haveConfig = iniSection(configText, configSection);
  const sameAsWanted = (have: Record<string, string> | undefined, wanted: Record<string, string>) =>
    have !== undefined && Object.keys(have).length === Object.keys(wanted).length && Object.entries(wanted).every(([k, v]) => have[k] === v);
  if (haveCredentials && !sameAsWanted(haveCredentials, wantedCredentials)) {
    throw new Error(`profile '${profile}' already exists in ${files.credentialsFile} with other keys; not overwriting it (choose another --profile name)`);
  }
  if (haveConfig && !sameAsWanted(haveConfig, wantedConfig)) {
    throw new Error(`[${configSection}] already exists in ${files.configFile} with other settings; not overwriting it (choose another --profile name)`);
  }
  if (haveCredentials && haveConfig) return 'unchanged';
  if (!haveCredentials) appendSection(files.credentialsFile, credentialsText, credentialsSection, wantedCredentials);
  if (!haveConfig) appendSection(files.configFile, configText, configSection, wantedConfig);
  return 'written';
}

function readIfExists(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
}

function appendSection(file: string, current: string, section: string, values: Record<string, string>): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const separator = current === '' || current.endsWith('\n\n') ? '' : current.endsWith('\n') ? '\n' : '\n\n';
  const body = `[${section}]\n${Object.entries(values).map(([k, v]) => `${k} = ${v}\n`).join('')}`;
  writeFileSync(file, current + separator + body, { mode: 0o600 });
  chmodSync(file, 0o600);
}

/** The key = value pairs of `[section]` in an INI text, or undefined when there is no such section. */
export function iniSection(text: string, section: string): Record<string, string> | undefined {
  let inside = false;
  let found: Record<string, string> | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[\s*(.+?)\s*\]$/.exec(line);
    if (header) {
      inside = header[1] === section;
      if (inside) found ??= {};
      continue;
    }
    const eq = line.indexOf('=');
    if (inside && eq > 0) found![line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return found;
}
