import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileFilterPattern, FilterPatternError, splitFields } from './filter-pattern.js';

const m = (pattern: string, message: string) => compileFilterPattern(pattern).matches(message);
const bad = (pattern: string) => assert.throws(() => compileFilterPattern(pattern), FilterPatternError, pattern);

describe('filter patterns: unstructured terms', () => {
  it('an empty pattern matches everything', () => {
    assert.equal(m('', 'anything'), true);
    assert.equal(m('   ', 'anything'), true);
    assert.equal(m('""', 'anything'), true);
  });

  it('terms must all appear, case-sensitively', () => {
    assert.equal(m('ERROR', '[ERROR] disk full'), true);
    assert.equal(m('ERROR', '[error] disk full'), false);
    assert.equal(m('ERROR disk', '[ERROR] disk full'), true);
    assert.equal(m('ERROR memory', '[ERROR] disk full'), false);
  });

  it('a quoted phrase matches as a whole', () => {
    assert.equal(m('"disk full"', 'ERROR: disk full now'), true);
    assert.equal(m('"disk full"', 'ERROR: full disk'), false);
    assert.equal(m('"say \\"hi\\""', 'they say "hi"'), true);
  });

  it('? terms: at least one', () => {
    assert.equal(m('?ERROR ?WARN', 'WARN low disk'), true);
    assert.equal(m('?ERROR ?WARN', 'ERROR low disk'), true);
    assert.equal(m('?ERROR ?WARN', 'INFO all good'), false);
    assert.equal(m('disk ?ERROR ?WARN', 'WARN low memory'), false);
  });

  it('- terms exclude', () => {
    assert.equal(m('ERROR -Exiting', 'ERROR retrying'), true);
    assert.equal(m('ERROR -Exiting', 'ERROR Exiting now'), false);
    assert.equal(m('-"health check"', 'GET /healthz'), true);
    assert.equal(m('-"health check"', 'a health check passed'), false);
  });

  it('%regex% terms', () => {
    assert.equal(m('%ERR[0-9]+%', 'code ERR42 here'), true);
    assert.equal(m('%ERR[0-9]+%', 'code ERR here'), false);
    bad('%(a+)+%');
    bad('%unterminated');
  });

  it('exposes the substrings a match requires', () => {
    assert.deepEqual(compileFilterPattern('ERROR "disk full" ?x -y').required, ['ERROR', 'disk full']);
    assert.deepEqual(compileFilterPattern('{ $.a = 1 }').required, []);
  });

  it('refuses unquoted terms with structure characters and dangling operators', () => {
    bad('a{b');
    bad('"unterminated');
    bad('ERROR ?');
  });
});

describe('filter patterns: JSON', () => {
  const doc = JSON.stringify({ level: 'error', latency: 250, user: { id: 'u-17', admin: false }, tags: ['a', 'b'], gone: null, code: '503' });

  it('string equality, inequality and wildcards', () => {
    assert.equal(m('{ $.level = "error" }', doc), true);
    assert.equal(m('{ $.level = error }', doc), true);
    assert.equal(m('{ $.level = "info" }', doc), false);
    assert.equal(m('{ $.level != "info" }', doc), true);
    assert.equal(m('{ $.user.id = "u-*" }', doc), true);
    assert.equal(m('{ $.user.id = "*-17" }', doc), true);
    assert.equal(m('{ $.user.id = "x*" }', doc), false);
    assert.equal(m('{ $.level = %^err% }', doc), true);
  });

  it('numeric comparisons, also on numeric strings', () => {
    assert.equal(m('{ $.latency > 100 }', doc), true);
    assert.equal(m('{ $.latency >= 250 }', doc), true);
    assert.equal(m('{ $.latency < 250 }', doc), false);
    assert.equal(m('{ $.latency <= 250 }', doc), true);
    assert.equal(m('{ $.latency = 250 }', doc), true);
    assert.equal(m('{ $.latency != 250 }', doc), false);
    assert.equal(m('{ $.latency = 2.5e2 }', doc), true);
    assert.equal(m('{ $.code >= 500 }', doc), true);
    assert.equal(m('{ $.level > 1 }', doc), false);
  });

  it('&&, || and parentheses', () => {
    assert.equal(m('{ $.level = "error" && $.latency > 100 }', doc), true);
    assert.equal(m('{ $.level = "error" && $.latency > 1000 }', doc), false);
    assert.equal(m('{ $.level = "info" || $.latency > 100 }', doc), true);
    assert.equal(m('{ ($.level = "info" || $.latency > 100) && $.user.admin IS FALSE }', doc), true);
    assert.equal(m('{ ($.level = "info" || $.latency > 1000) && $.user.admin IS FALSE }', doc), false);
    // && binds tighter than ||
    assert.equal(m('{ $.level = "info" && $.latency > 1000 || $.code = 503 }', doc), true);
  });

  it('arrays, IS, EXISTS', () => {
    assert.equal(m('{ $.tags[1] = "b" }', doc), true);
    assert.equal(m('{ $.tags[2] = "b" }', doc), false);
    assert.equal(m('{ $.gone IS NULL }', doc), true);
    assert.equal(m('{ $.user.admin IS TRUE }', doc), false);
    assert.equal(m('{ $.missing NOT EXISTS }', doc), true);
    assert.equal(m('{ $.level NOT EXISTS }', doc), false);
    assert.equal(m('{ $.level EXISTS }', doc), true);
  });

  it('a missing field or a non-JSON message never matches a comparison', () => {
    assert.equal(m('{ $.nope = "x" }', doc), false);
    assert.equal(m('{ $.nope != "x" }', doc), false);
    assert.equal(m('{ $.level = "error" }', 'level=error'), false);
    assert.equal(m('{ $.level = "error" }', '{"level": "error"'), false);
  });

  it('refuses malformed JSON patterns', () => {
    bad('{ $.level = "error" ');
    bad('{ level = "error" }');
    bad('{ $.a > "x" }');
    bad('{ $.a = }');
    bad('{ $.a IS MAYBE }');
    bad('{ $.a = 1 } trailing');
    bad('{ $.a[x] = 1 }');
  });
});

describe('filter patterns: space-delimited', () => {
  const line = '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 404 1534';

  it('splits fields, keeping quoted and bracketed text together', () => {
    assert.deepEqual(splitFields(line), ['127.0.0.1', '-', 'frank', '10/Oct/2000:13:25:15 -0700', 'GET /apache_pb.gif HTTP/1.0', '404', '1534']);
  });

  it('binds every field by position', () => {
    assert.equal(m('[ip, user, username, timestamp, request, status, bytes]', line), true);
    assert.equal(m('[ip, user, username, timestamp, request, status]', line), false);
    assert.equal(m('[ip, user, username, timestamp, request, status = 404, bytes]', line), true);
    assert.equal(m('[ip, user, username, timestamp, request, status = 4*, bytes > 1000]', line), true);
    assert.equal(m('[ip, user, username, timestamp, request, status = 4*, bytes > 2000]', line), false);
    assert.equal(m('[ip, user, username = frank, ...]', line), true);
    assert.equal(m('[ip, user, username = "bob", ...]', line), false);
    assert.equal(m('[ip, user, username, timestamp, request = "*apache*", ...]', line), true);
  });

  it('... stands for any number of fields', () => {
    assert.equal(m('[..., status = 404, bytes]', line), true);
    assert.equal(m('[ip = 127.0.0.1, ..., bytes = 1534]', line), true);
    assert.equal(m('[ip, ..., status = 200, ...]', line), false);
    assert.equal(m('[...]', 'anything at all'), true);
  });

  it('&& and || inside a field, naming other fields', () => {
    assert.equal(m('[ip, user, username, timestamp, request, status = 404 || status = 410, bytes]', line), true);
    assert.equal(m('[ip, user, username, timestamp, request, status >= 400 && status < 500, bytes]', line), true);
    assert.equal(m('[ip, user, username, timestamp, request, status = 200 || status = 201, bytes]', line), false);
  });

  it('refuses malformed space-delimited patterns', () => {
    bad('[]');
    bad('[a, b');
    bad('[a, b = ]');
    bad('[a, b = 1 || c = 2]');
  });
});
