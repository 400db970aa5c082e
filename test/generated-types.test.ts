/**
 * The handler types under src/aws/generated/ are generated from models/ by
 * tools/gen-handler-types.ts: this fails when a model changed and the types were not generated
 * again (run `npx tsx tools/gen-handler-types.ts`), or when a generated file was edited by hand.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { generate, generatedPath, modelPath, SERVICES } from '../tools/gen-handler-types.js';

describe('generated handler types', () => {
  for (const service of SERVICES) {
    it(`src/aws/generated/${service}.ts is what models/${service}.json generates`, () => {
      const committed = readFileSync(generatedPath(service), 'utf8');
      assert.ok(committed === generate(service, readFileSync(modelPath(service), 'utf8')), `src/aws/generated/${service}.ts is stale: run npx tsx tools/gen-handler-types.ts`);
    });
  }

  it('a model change shows in the generated types', () => {
    const model = JSON.parse(readFileSync(modelPath('ecs'), 'utf8')) as { shapes: Record<string, { required?: string[] }> };
    const before = generate('ecs', JSON.stringify(model));
    assert.match(before, /export type RunTaskRequest = \{[^}]*\n  taskDefinition: string;/);
    assert.match(before, /\n  RunTask: \{ input: RunTaskRequest; output: RunTaskResponse \};/);
    model.shapes.RunTaskRequest!.required = [];
    const after = generate('ecs', JSON.stringify(model));
    assert.match(after, /export type RunTaskRequest = \{[^}]*\n  taskDefinition\?: string;/);
  });
});
