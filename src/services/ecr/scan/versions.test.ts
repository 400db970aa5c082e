/**
 * Version order against the package managers' own definitions: pairs from Debian policy §5.6.12
 * and dpkg's test suite, apk-tools' test/version.data, and rpm's rpmvercmp.at.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { compareApk, compareDpkg, compareRpm, rpmvercmp } from './versions.js';

const sign = (n: number) => Math.sign(n) + 0; // + 0: no -0

function checkTable(compare: (a: string, b: string) => number, table: [string, '<' | '=' | '>', string][]) {
  for (const [a, op, b] of table) {
    const expected = op === '<' ? -1 : op === '>' ? 1 : 0;
    assert.equal(sign(compare(a, b)), expected, `${a} ${op} ${b}`);
    assert.equal(sign(compare(b, a)), -expected + 0, `${b} reversed ${a}`);
  }
}

test('dpkg: epochs, upstream and revision, tilde before everything, letters before other characters', () => {
  checkTable(compareDpkg, [
    ['1.0', '=', '1.0'],
    ['0:1.0', '=', '1.0'],
    ['1.0', '<', '1.0a'],
    ['1.0~rc1', '<', '1.0'],
    ['1.0~~', '<', '1.0~'],
    ['1.0~~a', '<', '1.0~'],
    ['1.0~', '<', '1.0'],
    ['1.0', '<', '1.0+b1'],
    ['1.0a', '<', '1.0+'],
    ['1:0.1', '>', '9.9'],
    ['2:1.0', '<', '10:0.1'],
    ['1.0-1', '<', '1.0-2'],
    ['1.0-1~bpo11+1', '<', '1.0-1'],
    ['2.30', '>', '2.4'],
    ['1.0.0', '>', '1.0'],
    ['1.002', '=', '1.2'],
    ['3.0.11-1~deb12u2', '<', '3.0.11-1~deb12u3'],
    ['3.0.11-1~deb12u2', '<', '3.0.13-1~deb12u1'],
    ['7.88.1-10+deb12u5', '>', '7.88.1-10+deb12u4'],
    ['1.2.3-1', '<', '1.2.3-1.1'],
  ]);
});

test('apk: suffixes (pre-release before release, _p after), letters, revisions and leading zeros', () => {
  checkTable(compareApk, [
    ['1.0', '=', '1.0'],
    ['1.0', '<', '1.1'],
    ['1.0_alpha1', '<', '1.0'],
    ['1.0_alpha', '<', '1.0_beta'],
    ['1.0_beta2', '<', '1.0_rc1'],
    ['1.0_rc1', '<', '1.0'],
    ['1.0', '<', '1.0_p1'],
    ['1.0_p1', '<', '1.0_p2'],
    ['1.0-r1', '<', '1.0-r2'],
    ['1.0', '<', '1.0-r1'],
    ['1.0a', '<', '1.0b'],
    ['1.0', '<', '1.0a'],
    ['1.01', '<', '1.1'],
    ['2.9.3-r0', '<', '2.10.0-r0'],
    ['3.0.8-r0', '<', '3.0.10-r0'],
    ['1.36.1-r5', '<', '1.36.1-r15'],
    ['3.1.4-r5', '>', '3.1.4-r1'],
  ]);
});

test('rpm: rpmvercmp segments, tilde and caret, epoch:version-release', () => {
  checkTable(rpmvercmp, [
    ['1.0', '=', '1.0'],
    ['1.0', '<', '2.0'],
    ['2.0.1', '>', '2.0'],
    ['2.0.1a', '>', '2.0.1'],
    ['5.5p1', '<', '5.5p2'],
    ['5.5p10', '>', '5.5p1'],
    ['10xyz', '<', '10.1xyz'],
    ['xyz10', '<', 'xyz10.1'],
    ['1.0', '<', '1.0a'],
    ['1.0~rc1', '<', '1.0'],
    ['1.0~rc1', '<', '1.0~rc2'],
    ['1.0^', '>', '1.0'],
    ['1.0^git1', '<', '1.01'],
    ['1b.fc17', '<', '1.fc17'],
    ['6.0.rc1', '>', '6.0'],
    ['a+', '=', 'a_'],
  ]);
  checkTable(compareRpm, [
    ['1:1.0-1', '>', '2.0-1'],
    ['3.0.7-16.el9', '<', '3.0.7-18.el9'],
    ['3.0.7-16.el9_2', '>', '3.0.7-16.el9'],
  ]);
});

test('each order is antisymmetric and transitive on generated versions', () => {
  const part = fc.stringMatching(/^[0-9a-z~+.]{1,6}$/);
  const dpkg = fc.tuple(fc.nat(3), part.filter((p) => /^[0-9]/.test(p)), part).map(([e, u, r]) => `${e}:${u}-${r}`);
  const apk = fc.tuple(fc.array(fc.nat(20), { minLength: 1, maxLength: 3 }), fc.constantFrom('', '_alpha', '_rc1', '_p2'), fc.nat(5)).map(([nums, suffix, rev]) => `${nums.join('.')}${suffix}-r${rev}`);
  for (const [compare, gen] of [[compareDpkg, dpkg], [compareApk, apk], [compareRpm, dpkg]] as const) {
    fc.assert(
      fc.property(gen, gen, gen, (a, b, c) => {
        assert.equal(sign(compare(a, b)), -sign(compare(b, a)) + 0);
        if (compare(a, b) <= 0 && compare(b, c) <= 0) assert.ok(compare(a, c) <= 0, `${a} <= ${b} <= ${c}`);
      }),
      { numRuns: 500 },
    );
  }
});
