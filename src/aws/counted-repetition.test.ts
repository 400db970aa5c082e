import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compilePattern } from './model.js';
import { splitCountedRepetitions } from './counted-repetition.js';

test('counts above 16 are split into counts of at most 16', () => {
  assert.equal(splitCountedRepetitions('a{40}'), 'a{16}a{16}a{8}');
  assert.equal(splitCountedRepetitions('[A-Z]{1,40}'), '[A-Z]{1}[A-Z]{0,16}[A-Z]{0,16}[A-Z]{0,7}');
  assert.equal(splitCountedRepetitions('\\d{20,}'), '\\d{16}\\d{4}\\d*');
  assert.equal(splitCountedRepetitions('(ab|c){17}x{3}'), '(?:ab|c){16}(?:ab|c){1}x{3}');
  assert.equal(splitCountedRepetitions('[{]{2}\\u000D{30}'), '[{]{2}\\u000D{16}\\u000D{14}');
  assert.equal(splitCountedRepetitions('(?:[a]{64}\\n)*'), '(?:[a]{16}[a]{16}[a]{16}[a]{16}\\n)*');
});

test("ACM's CertificateBody pattern runs in the linear engine and means what it says", () => {
  const pattern = '-{5}BEGIN CERTIFICATE-{5}\\u000D?\\u000A([A-Za-z0-9/+]{64}\\u000D?\\u000A)*[A-Za-z0-9/+]{1,64}={0,2}\\u000D?\\u000A-{5}END CERTIFICATE-{5}(\\u000D?\\u000A)?';
  const regex = compilePattern(pattern);
  assert.ok(regex, 'compiled');
  const line = 'A'.repeat(64);
  const pem = (body: string) => `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`;
  assert.ok(regex.test(pem(`${line}\n${line}\nAB==`)));
  assert.ok(!regex.test(pem(`${'A'.repeat(63)}\n${line}\nAB==`)), 'a short full line');
  assert.ok(!regex.test(pem(`${line}\n${'A'.repeat(65)}`)), 'a last line over 64');
  assert.ok(!regex.test(pem(`${line}!\nAB`)));
});

test('split patterns accept exactly what the original accepts', () => {
  const cases = ['a{17}', '[ab]{2,20}', '(ab){0,18}c', 'x{18,}'];
  for (const pattern of cases) {
    const original = new RegExp(`^(?:${pattern})$`);
    const split = new RegExp(`^(?:${splitCountedRepetitions(pattern)})$`);
    for (let n = 0; n < 45; n++) {
      for (const s of ['a'.repeat(n), 'ab'.repeat(n), `${'ab'.repeat(n)}c`, 'x'.repeat(n), 'ba'.repeat(n)]) {
        assert.equal(split.test(s), original.test(s), `${pattern} on ${s}`);
      }
    }
  }
});
