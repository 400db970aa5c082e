/**
 * The scheduler must stay a pure function (DESIGN.md): its modules import only each other and
 * read no clock, no global randomness and no process state. Checked here so it fails in CI.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const modules = readdirSync(here).filter((name) => name.endsWith('.ts') && !name.endsWith('.test.ts'));

const FORBIDDEN: [RegExp, string][] = [
  [/\bDate\.now\s*\(/, 'Date.now()'],
  [/\bnew\s+Date\s*\(\s*\)/, 'new Date()'],
  [/\bMath\.random\s*\(/, 'Math.random()'],
  [/\bprocess\./, 'process'],
  [/\bperformance\./, 'performance'],
  [/\brequire\s*\(/, 'require()'],
  [/\bimport\s*\(/, 'dynamic import()'],
  [/\bsetTimeout\b|\bsetInterval\b|\bsetImmediate\b/, 'timers'],
];

it('scheduler modules import only ./ siblings and use no clock, randomness or process state', () => {
  assert.ok(modules.includes('schedule.ts') && modules.includes('index.ts'));
  for (const name of modules) {
    const source = readFileSync(join(here, name), 'utf8');
    for (const match of source.matchAll(/^\s*(?:import|export)\b[^'"]*?\bfrom\s+['"]([^'"]+)['"]/gm)) {
      const specifier = match[1]!;
      assert.ok(/^\.\/[\w.-]+\.js$/.test(specifier), `${name} imports '${specifier}': the scheduler may import only its own files`);
    }
    const code = source.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
    for (const [pattern, what] of FORBIDDEN) assert.ok(!pattern.test(code), `${name} uses ${what}`);
  }
});
