import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileConditions, wildcard, type RequestFacts } from './conditions.js';

const req = (over: Partial<RequestFacts>): RequestFacts => ({ method: 'GET', host: 'example.com', path: '/', query: '', headers: {}, sourceIp: '127.0.0.1', ...over });

describe('rule conditions', () => {
  it('wildcards: * and ? anchored, case as asked', () => {
    assert.ok(wildcard('/api/*', false).test('/api/v1/x'));
    assert.ok(!wildcard('/api/*', false).test('/API/v1'));
    assert.ok(wildcard('*.EXAMPLE.com', true).test('www.example.com'));
    assert.ok(wildcard('a?c', false).test('abc') && !wildcard('a?c', false).test('abbc'));
    assert.ok(wildcard('/a.b', false).test('/a.b') && !wildcard('/a.b', false).test('/axb'));
  });

  it('values OR, conditions AND', () => {
    const p = compileConditions([
      { Field: 'path-pattern', PathPatternConfig: { Values: ['/a/*', '/b'] } },
      { Field: 'host-header', HostHeaderConfig: { Values: ['api.*'] } },
    ]);
    assert.ok(p(req({ path: '/b', host: 'api.example.com' })));
    assert.ok(p(req({ path: '/a/1', host: 'api.x' })));
    assert.ok(!p(req({ path: '/b', host: 'www.example.com' })));
    assert.ok(!p(req({ path: '/c', host: 'api.x' })));
  });

  it('headers, methods, query strings and source addresses', () => {
    assert.ok(compileConditions([{ Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: 'X-Env', Values: ['bl?e'] } }])(req({ headers: { 'x-env': 'BLUE' } })));
    assert.ok(!compileConditions([{ Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: 'X-Env', Values: ['blue'] } }])(req({ headers: {} })));
    assert.ok(compileConditions([{ Field: 'http-request-method', HttpRequestMethodConfig: { Values: ['POST', 'PUT'] } }])(req({ method: 'PUT' })));
    assert.ok(!compileConditions([{ Field: 'http-request-method', HttpRequestMethodConfig: { Values: ['POST'] } }])(req({ method: 'GET' })));
    const q = compileConditions([{ Field: 'query-string', QueryStringConfig: { Values: [{ Key: 'v', Value: '2*' }, { Value: 'canary' }] } }]);
    assert.ok(q(req({ query: 'a=1&v=20' })) && q(req({ query: 'x=canary' })) && !q(req({ query: 'v=1' })));
    const ip = compileConditions([{ Field: 'source-ip', SourceIpConfig: { Values: ['10.0.0.0/8', '::1/128'] } }]);
    assert.ok(ip(req({ sourceIp: '10.2.3.4' })) && ip(req({ sourceIp: '::1' })) && !ip(req({ sourceIp: '127.0.0.1' })));
  });
});
