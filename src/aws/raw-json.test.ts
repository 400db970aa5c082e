import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RawJson, stringifyOutput } from './raw-json.js';

test('stringifyOutput splices top-level RawJson members in as they are', () => {
  const out = stringifyOutput({ taskDefinition: new RawJson('{"family":"web","revision":1}'), tags: [{ key: 'a', value: 'b' }], none: undefined });
  assert.deepEqual(JSON.parse(out), { taskDefinition: { family: 'web', revision: 1 }, tags: [{ key: 'a', value: 'b' }] });
});

test('stringifyOutput without RawJson is JSON.stringify, and an empty output is {}', () => {
  const value = { a: [1, 'x', { b: null }], c: 'q"uote' };
  assert.equal(stringifyOutput(value), JSON.stringify(value));
  assert.equal(stringifyOutput(undefined), '{}');
});

test('a nested RawJson refuses to serialize instead of producing a wrong body', () => {
  assert.throws(() => stringifyOutput({ list: [new RawJson('{}')] }), /top-level/);
});
