/**
 * The agent talks to the control plane only through the protocol: nothing under src/agent/ may
 * import the store, the services, the scheduler, the AWS front door or the agent API, and
 * src/protocol/ may import nothing but zod.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const src = fileURLToPath(new URL('..', import.meta.url));

function importsOf(dir: string): { file: string; spec: string }[] {
  const out: { file: string; spec: string }[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts') || entry.name.endsWith('.test.ts')) continue;
    const file = join(entry.parentPath, entry.name);
    for (const m of readFileSync(file, 'utf8').matchAll(/^\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]/gm)) out.push({ file, spec: m[1]! });
  }
  return out;
}

describe('module boundaries', () => {
  it('src/agent imports only core, protocol, its own files, node builtins, dockerode, undici and pino', () => {
    const allowedPackages = new Set(['dockerode', 'undici', 'pino', 'zod']);
    const imports = importsOf(join(src, 'agent'));
    assert.ok(imports.some((i) => i.spec === 'dockerode') && imports.some((i) => i.spec === '../protocol/index.js'), 'the scan finds imports');
    for (const { file, spec } of imports) {
      if (spec.startsWith('node:') || allowedPackages.has(spec)) continue;
      if (spec.startsWith('.')) {
        const target = join(file, '..', spec);
        const ok = [join(src, 'agent'), join(src, 'protocol'), join(src, 'core')].some((d) => target.startsWith(d + '/'));
        assert.ok(ok, `${file} imports ${spec}`);
        continue;
      }
      assert.fail(`${file} imports package ${spec}`);
    }
  });

  it('src/protocol imports only zod and itself', () => {
    for (const { file, spec } of importsOf(join(src, 'protocol'))) {
      assert.ok(spec === 'zod' || spec.startsWith('./'), `${file} imports ${spec}`);
    }
  });
});
