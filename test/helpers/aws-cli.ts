/** The two AWS CLIs the tests drive: Debian's v2 at /usr/bin/aws and the pip-installed v1 on PATH. */
import { accessSync, constants, realpathSync } from 'node:fs';
import { join } from 'node:path';

export const AWS_CLI_V2 = '/usr/bin/aws';

/** The first `aws` on PATH that is not Debian's v2, i.e. the pip-installed v1; undefined when there is none. */
export function findCliV1(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const candidate = join(dir, 'aws');
    try {
      accessSync(candidate, constants.X_OK);
      // /bin/aws is Debian's v2 too where /bin links to /usr/bin.
      if (realpathSync(candidate) === realpathSync(AWS_CLI_V2)) continue;
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** AWS CLI v1, or a failure that says how to get it: a test that needs it must not pass without it. */
export function requireCliV1(): string {
  const bin = findCliV1();
  if (!bin) throw new Error('AWS CLI v1 (pip) is not on PATH: install it with `python3 -m pip install --user awscli` (npm test tries to) and put it on PATH before /usr/bin');
  return bin;
}

/**
 * Runs an AWS CLI (`bin`) against `endpoint` with `env`, `--output json`: the parsed answer, or
 * the exit code and stderr (where the CLI prints `An error occurred (Code) when calling …`).
 */
export async function runCli(bin: string, endpoint: string, env: NodeJS.ProcessEnv, args: string[]): Promise<{ code: number; json: any; stderr: string }> {
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  try {
    const { stdout } = await promisify(execFile)(bin, [...args, '--endpoint-url', endpoint, '--output', 'json'], { env, timeout: 60_000 });
    return { code: 0, json: stdout.trim() ? JSON.parse(stdout) : {}, stderr: '' };
  } catch (e) {
    const err = e as { code?: number; stderr?: string };
    return { code: err.code ?? -1, json: undefined, stderr: err.stderr ?? '' };
  }
}

/**
 * Makes `dir` an AWS_DATA_PATH under which botocore (so CLI v1) speaks Smithy RPC v2 CBOR to
 * CloudWatch: botocore 1.43 prefers JSON 1.0 when the model offers both, so the copy of its
 * CloudWatch model there offers CBOR only. Returns `dir`.
 */
export async function cloudWatchCborDataPath(dir: string): Promise<string> {
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  const script = `
import botocore, gzip, json, os, sys
src = os.path.join(os.path.dirname(botocore.__file__), 'data', 'cloudwatch', '2010-08-01', 'service-2.json.gz')
model = json.load(gzip.open(src, 'rt'))
assert 'smithy-rpc-v2-cbor' in model['metadata'].get('protocols', []), 'this botocore has no CBOR CloudWatch model'
model['metadata']['protocols'] = ['smithy-rpc-v2-cbor']
out = os.path.join(sys.argv[1], 'cloudwatch', '2010-08-01')
os.makedirs(out, exist_ok=True)
json.dump(model, open(os.path.join(out, 'service-2.json'), 'w'))
`;
  await promisify(execFile)('python3', ['-c', script, dir], { timeout: 60_000 });
  return dir;
}
