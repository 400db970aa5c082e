/**
 * Which module may import which (DESIGN.md's layers), for every module under src/: a new module
 * fails here until it is given a rule. Relative imports are checked against the modules a module
 * may use, package imports against its packages; node: builtins are always allowed. Test files
 * are not checked (tests may reach anywhere). The scheduler's purity beyond imports (no clock,
 * no randomness) is checked in src/scheduler/purity.test.ts.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const src = fileURLToPath(new URL('.', import.meta.url));

interface Rule {
  /** Other modules it may import. */
  modules: readonly string[];
  /** npm packages it may import (exact names, or a scope ending in '/'). */
  packages: readonly string[];
  why: string;
}

/** One AWS service module: thin handlers over its domain, no other service's internals. */
const SERVICE: Rule = { modules: ['aws', 'core', 'iam', 'store'], packages: [], why: 'one module per AWS service, over the protocol layer and the store' };

const RULES: Record<string, Rule> = {
  core: { modules: [], packages: [], why: 'clock, ids, errors, pagination: the bottom layer' },
  protocol: { modules: [], packages: ['zod'], why: 'the agent protocol is shared by two programs and depends on nothing else' },
  scheduler: { modules: [], packages: [], why: 'the scheduler is a pure function over a snapshot' },
  agent: { modules: ['core', 'protocol'], packages: ['dockerode', 'undici', 'pino', 'zod'], why: 'the agent talks to the control plane only through the protocol' },
  store: { modules: ['core'], packages: ['better-sqlite3'], why: 'storage knows no service' },
  iam: { modules: ['core', 'aws'], packages: [], why: 'identity contracts and the pure policy engine; may raise AWS errors' },
  aws: { modules: ['core', 'iam'], packages: ['@smithy/', '@aws-crypto/', '@aws-sdk/core', 'fast-xml-parser', 'safe-regex2', 'cbor2'], why: 'the protocol layer: codecs, model validation, SigV4' },
  registry: { modules: ['aws', 'core', 'iam', 'store'], packages: ['fastify'], why: 'the OCI data plane; ECR metadata reaches it through the store and hooks' },
  'agent-api': { modules: ['aws', 'core', 'iam', 'protocol', 'store', 'services/ecs'], packages: ['fastify', 'zod'], why: 'the control-plane side of the protocol, writing through the ECS domain; the join-token admin API answers AWS-shaped errors to signed callers' },
  'services/ecs': { ...SERVICE, modules: [...SERVICE.modules, 'scheduler', 'protocol'], why: 'ECS asks the pure scheduler for placements; its task writer applies agents\' reports (the protocol\'s TaskReport and status order)' },
  'services/ecr': { ...SERVICE, modules: [...SERVICE.modules, 'registry'], packages: ['better-sqlite3', 'tar-stream'], why: 'ECR is the registry’s API; image scans read layers (tar) and rpm package databases (SQLite)' },
  'services/cloudwatch': { ...SERVICE, packages: ['better-sqlite3'], why: 'CloudWatch keeps metric data points in their own SQLite file, apart from the control-plane store' },
  'services/application-autoscaling': { ...SERVICE, packages: ['croner'], why: 'scheduled actions run on cron expressions (croner, with time zones)' },
  'services/ecs-express': {
    ...SERVICE,
    modules: [...SERVICE.modules, 'services/ecs', 'services/elbv2', 'services/application-autoscaling'],
    why: 'ECS Express Mode composes a task definition, load balancer, target group, listener, service and scaling policy through the ECS, ELBv2 and Application Auto Scaling domains',
  },
  controllers: { modules: ['core', 'scheduler', 'services/*', 'store'], packages: [], why: 'control loops: read a snapshot, ask a pure decision function (scheduler), write through the service domains' },
  server: { modules: ['agent', 'agent-api', 'aws', 'controllers', 'core', 'iam', 'lb', 'protocol', 'registry', 'scheduler', 'services/*', 'store'], packages: ['fastify'], why: 'the composition root builds the object graph' },
  'services/logs': { ...SERVICE, packages: ['better-sqlite3', 'safe-regex2'], why: 'log events live in their own SQLite file, apart from the control-plane store; filter patterns may hold regular expressions (checked for backtracking)' },
  lb: { modules: ['core', 'store', 'services/elbv2'], packages: ['undici'], why: "the load balancers' data plane: reads ELBv2's collections, reports health and ends drains through its domain" },
  cli: { modules: ['agent', 'agent-api', 'core', 'iam', 'server'], packages: ['commander', 'pino', 'undici', '@smithy/', '@aws-crypto/', '@aws-sdk/credential-provider-env', '@aws-sdk/credential-provider-ini'], why: 'commands start the server or an agent, or sign admin requests with the caller\'s AWS credentials' },
};

/** `services/ecs` for files under src/services/ecs/, else the first directory. */
function moduleOf(file: string): string {
  const parts = relative(src, file).split(sep);
  return parts[0] === 'services' ? `services/${parts[1]}` : parts[0]!;
}

function ruleFor(module: string): Rule | undefined {
  return RULES[module] ?? (module.startsWith('services/') ? SERVICE : undefined);
}

function sourceFiles(): string[] {
  return readdirSync(src, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && e.parentPath !== src.replace(/\/$/, ''))
    .map((e) => join(e.parentPath, e.name));
}

const allowsModule = (rule: Rule, target: string) => rule.modules.some((m) => m === target || (m.endsWith('/*') && target.startsWith(m.slice(0, -1))));
/** Static imports and re-exports, and dynamic import('…') (the CLI loads its commands lazily). */
const importedSpecifiers = (text: string) =>
  [...text.matchAll(/^\s*(?:import|export)\b[^'"]*?\bfrom\s+['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/gm)].map((m) => (m[1] ?? m[2])!);
const allowsPackage = (rule: Rule, spec: string) => rule.packages.some((p) => (p.endsWith('/') ? spec.startsWith(p) : spec === p || spec.startsWith(`${p}/`)));

describe('module boundaries', () => {
  const files = sourceFiles();

  it('every module under src/ has a rule', () => {
    const modules = new Set(files.map(moduleOf));
    assert.ok(modules.has('scheduler') && modules.has('services/ecs') && modules.size >= 10, `found ${[...modules].join(', ')}`);
    for (const m of modules) assert.ok(ruleFor(m), `src/${m} has no rule in src/boundaries.test.ts: say which modules it may import`);
  });

  for (const module of Object.keys(RULES)) {
    it(`${module} imports only ${[...RULES[module]!.modules, ...RULES[module]!.packages].join(', ') || 'itself'} (${RULES[module]!.why})`, () => {
      const rule = RULES[module]!;
      const mine = files.filter((f) => moduleOf(f) === module);
      assert.ok(mine.length > 0, `src/${module} has no source files`);
      for (const file of mine) {
        const text = readFileSync(file, 'utf8');
        for (const spec of importedSpecifiers(text)) {
          if (spec.startsWith('node:')) continue;
          const where = relative(src, file);
          if (spec.startsWith('.')) {
            const target = moduleOf(join(file, '..', spec));
            if (target === module) continue;
            assert.ok(allowsModule(rule, target), `src/${where} imports ${spec}: ${module} may not use ${target}`);
          } else {
            assert.ok(allowsPackage(rule, spec), `src/${where} imports package ${spec}: not among ${module}'s packages`);
          }
        }
      }
    });
  }

  it('the checks see imports (a rule that finds nothing proves nothing)', () => {
    const ecs = files.filter((f) => moduleOf(f) === 'services/ecs').map((f) => readFileSync(f, 'utf8')).join('\n');
    assert.match(ecs, /from '\.\.\/\.\.\/scheduler\/index\.js'/);
    assert.ok(importedSpecifiers(readFileSync(join(src, 'cli', 'main.ts'), 'utf8')).includes('../server/app.js'), "the CLI's lazy import('../server/app.js') is seen");
    assert.equal(moduleOf(join(src, 'services', 'ecs', 'tasks.ts')), 'services/ecs');
    assert.ok(!allowsModule(RULES.store!, 'services/ecs') && allowsModule(RULES.server!, 'services/ecr'));
  });
});
