/**
 * Terraform (1.11, AWS provider 5.100 from the local mirror /opt/tf-plugins) in a working
 * directory, with Dockyard's test credentials: `plan` answers its exit code (2: changes).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { credentials } from './dockyard.js';

const exec = promisify(execFile);

/** A CLI configuration that installs providers from the local mirror only. */
function writeMirrorConfig(dir: string): void {
  writeFileSync(
    join(dir, 'cli.tfrc'),
    'provider_installation {\n  filesystem_mirror {\n    path    = "/opt/tf-plugins"\n    include = ["registry.terraform.io/*/*"]\n  }\n  direct {\n    exclude = ["registry.terraform.io/*/*"]\n  }\n}\n',
  );
}

function terraformIn(dir: string) {
  return async function tf(...args: string[]): Promise<{ stdout: string; code: number }> {
    const env = {
      ...process.env,
      TF_CLI_CONFIG_FILE: join(dir, 'cli.tfrc'),
      TF_IN_AUTOMATION: '1',
      ...(process.env.TF_TEST_LOG ? { TF_LOG: 'DEBUG', TF_LOG_PATH: process.env.TF_TEST_LOG } : {}),
      CHECKPOINT_DISABLE: '1',
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_REGION: 'us-east-1',
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    };
    const t0 = Date.now();
    try {
      const { stdout } = await exec('terraform', args, { cwd: dir, env, timeout: 240_000, maxBuffer: 16 * 1024 * 1024 });
      if (process.env.TF_TEST_TIMING) console.log(`terraform ${args[0]}: ${Date.now() - t0} ms`);
      return { stdout, code: 0 };
    } catch (e) {
      const err = e as { stdout?: string; stderr?: string; code?: number };
      if (args[0] === 'plan' && err.code === 2) return { stdout: err.stdout ?? '', code: 2 };
      throw new Error(`terraform ${args.join(' ')} failed:\n${err.stdout}\n${err.stderr}`);
    }
  };
}

/** The AWS provider 5.100 pointed at Dockyard's `endpoint` for `services` (ecs, elbv2, iam, …). */
function providerBlock(endpoint: string, services: readonly string[]): string {
  return `
terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = "5.100.0" }
  }
}
provider "aws" {
  region                      = "us-east-1"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  endpoints {
${services.map((s) => `    ${s} = "${endpoint}"`).join('\n')}
  }
}`;
}

const MIRROR = '/opt/tf-plugins';

/** A Terraform working directory with one configuration, initialised against the local mirror. */
export interface TerraformStack {
  dir: string;
  /** terraform `args` -input=false -no-color: plan's exit 2 (changes) is returned, other failures throw with the output. */
  run(...args: string[]): Promise<{ stdout: string; code: number }>;
  /** apply -auto-approve; its output. */
  apply(): Promise<string>;
  /** The check every Terraform test makes after apply: a second plan shows no changes (else fails with the plan). */
  assertNoChanges(): Promise<void>;
  /** destroy -auto-approve; its output. */
  destroy(): Promise<string>;
  /** Removes the directory. */
  remove(): void;
}

/** A temporary directory holding `resources` under the provider block for `services` at `endpoint`, after `terraform init`. */
export async function terraformStack(endpoint: string, services: readonly string[], resources: string): Promise<TerraformStack> {
  if (!existsSync(MIRROR)) throw new Error(`the Terraform AWS provider mirror ${MIRROR} is missing`);
  const dir = mkdtempSync(join(tmpdir(), 'dockyard-tf-'));
  writeMirrorConfig(dir);
  writeFileSync(join(dir, 'main.tf'), `${providerBlock(endpoint, services)}\n${resources}`);
  const tf = terraformIn(dir);
  const run = (...args: string[]) => tf(...args, '-input=false', '-no-color');
  await run('init');
  return {
    dir,
    run,
    apply: async () => (await run('apply', '-auto-approve')).stdout,
    async assertNoChanges() {
      // -detailed-exitcode: 0 = no changes, 2 = changes.
      const plan = await run('plan', '-detailed-exitcode');
      assert.equal(plan.code, 0, `a second plan must show no changes:\n${plan.stdout}`);
      assert.match(plan.stdout, /No changes\./);
    },
    destroy: async () => (await run('destroy', '-auto-approve')).stdout,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
