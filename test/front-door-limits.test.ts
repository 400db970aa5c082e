/**
 * The front door against hostile input, over signed raw HTTP: operation names that exist only
 * on Object.prototype, nulls where objects belong, numbers beyond 32 bits, pattern-violating
 * strings, bodies over the limit, oversized headers, deep nesting; and a modeled but
 * unimplemented operation. Every answer is AWS-shaped and nothing is written.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import type { AwsError } from '../src/aws/errors.js';
import { compilePattern, loadModel, ownOperation, unenforcedPatterns, validateInput } from '../src/aws/model.js';
import { MAX_JSON_BODY_BYTES } from '../src/server/http.js';
import { startDockyard, type TestDockyard } from './helpers/dockyard.js';
import { postSigned, signingName, type RawResponse } from './helpers/signed-http.js';

const ECS = 'AmazonEC2ContainerServiceV20141113';
const ECR = 'AmazonEC2ContainerRegistry_V20150921';

function assertAwsError(res: RawResponse, status: number, type: string, message?: RegExp) {
  assert.equal(res.status, status, res.text);
  assert.equal(res.headers['x-amzn-errortype'], type, res.text);
  assert.ok(res.json, `error body is JSON: ${res.text}`);
  assert.equal(res.json.__type, type);
  assert.equal(typeof res.json.message, 'string');
  if (message) assert.match(res.json.message as string, message);
  assert.match(String(res.headers['content-type']), /application\/x-amz-json-1\.1/);
}

describe('front door limits', () => {
  let t: TestDockyard;
  before(async () => {
    t = await startDockyard();
  });
  after(() => t.stop());

  const ecs = (operation: string, body: unknown) =>
    postSigned(t.endpoint, { service: 'ecs', target: `${ECS}.${operation}`, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const ecr = (operation: string, body: unknown) =>
    postSigned(t.endpoint, { service: 'ecr', target: `${ECR}.${operation}`, body: typeof body === 'string' ? body : JSON.stringify(body) });

  test('names that exist only on Object.prototype are unknown operations, in every service', async () => {
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__', 'isPrototypeOf']) {
      assertAwsError(await ecs(name, '{}'), 400, 'UnknownOperationException');
      assertAwsError(await ecr(name, '{}'), 400, 'UnknownOperationException');
    }
  });

  test('a modeled but unimplemented operation is 501 NotImplementedException in AWS error shape', async () => {
    // awsJson1_1 services; awsQuery ones (IAM, STS) have no X-Amz-Target to name an operation with.
    for (const service of t.app.services.filter((s) => s.protocol === 'awsJson1_1')) {
      const unimplemented = Object.keys(service.model.operations).find((op) => !Object.hasOwn(service.operations, op));
      if (!unimplemented) continue; // every operation of this service is implemented
      assert.ok(ownOperation(service.model, unimplemented));
      const prefix = service.model.metadata.targetPrefix!;
      const res = await postSigned(t.endpoint, { service: signingName(service), target: `${prefix}.${unimplemented}`, body: '{}' });
      assertAwsError(res, 501, 'NotImplementedException', new RegExp(`${service.name}\\.${unimplemented} is not implemented`));
      assert.match(String(res.headers['x-amzn-requestid']), /^[0-9a-f-]{36}$/);
    }
    // The test must exercise at least one service: ECS models far more than Dockyard implements.
    assert.ok(t.app.services.some((s) => Object.keys(s.model.operations).some((op) => !Object.hasOwn(s.operations, op))));
  });

  test('nulls where objects belong are 400 with the service validation exception', async () => {
    const before = t.app.store.changeIndex();
    assertAwsError(await ecs('RegisterTaskDefinition', { family: 'n', containerDefinitions: [null] }), 400, 'InvalidParameterException', /containerDefinitions\.1\.member.*must not be null/);
    assertAwsError(
      await ecs('RegisterTaskDefinition', { family: 'n', containerDefinitions: [{ name: 'a', image: 'b', memory: 64, portMappings: [null] }] }),
      400,
      'InvalidParameterException',
    );
    assertAwsError(
      await ecs('RegisterTaskDefinition', { family: 'n', containerDefinitions: [{ name: 'a', image: 'b', memory: 64, dockerLabels: { k: null } }] }),
      400,
      'InvalidParameterException',
    );
    assertAwsError(await ecs('DescribeClusters', { clusters: [null, 'x'] }), 400, 'InvalidParameterException');
    assertAwsError(await ecr('BatchGetImage', { repositoryName: 'rr', imageIds: [null] }), 400, 'InvalidParameterException');
    // A null where a structure or list is expected is simply absent (as AWS treats JSON null).
    const res = await ecs('ListClusters', { maxResults: null, nextToken: null });
    assert.equal(res.status, 200, res.text);
    assert.equal(t.app.store.changeIndex(), before, 'nothing was written');
  });

  test('__proto__ and constructor as map keys and members stay data', async () => {
    const body = `{"family":"proto","containerDefinitions":[{"name":"a","image":"b","memory":64,"dockerLabels":{"__proto__":{"x":"y"},"constructor":"c"}}],"__proto__":{"family":"evil"}}`;
    // dockerLabels values are strings: {"x":"y"} under __proto__ is a wrong type, not a prototype.
    assertAwsError(await ecs('RegisterTaskDefinition', body), 400, 'SerializationException');
    const ok = await ecs(
      'RegisterTaskDefinition',
      `{"family":"proto","containerDefinitions":[{"name":"a","image":"b","memory":64,"dockerLabels":{"__proto__":"p","constructor":"c"}}]}`,
    );
    assert.equal(ok.status, 200, ok.text);
    const described = await ecs('DescribeTaskDefinition', { taskDefinition: 'proto' });
    const labels = (described.json!.taskDefinition as { containerDefinitions: { dockerLabels: Record<string, string> }[] }).containerDefinitions[0]!.dockerLabels;
    assert.equal(Object.getPrototypeOf(labels), Object.prototype);
    assert.deepEqual(Object.entries(labels), [
      ['__proto__', 'p'],
      ['constructor', 'c'],
    ]);
  });

  test('integer members beyond 32 bits and longs beyond 2^53 are SerializationException; non-finite numbers too', async () => {
    assertAwsError(await ecs('ListClusters', { maxResults: 2 ** 31 }), 400, 'SerializationException', /out of range/);
    assertAwsError(await ecs('ListClusters', { maxResults: -(2 ** 31) - 1 }), 400, 'SerializationException');
    assertAwsError(await ecs('ListClusters', '{"maxResults": 1e400}'), 400, 'SerializationException');
    assertAwsError(
      await ecs('RegisterTaskDefinition', { family: 'big', containerDefinitions: [{ name: 'a', image: 'b', memory: 99999999999 }] }),
      400,
      'SerializationException',
    );
    // In range for 32 bits but outside the model's range: the validation exception.
    assertAwsError(await ecr('DescribeRepositories', { maxResults: 1001 }), 400, 'InvalidParameterException', /less than or equal to 1000/);
    // ECR's UploadLayerPart.partFirstByte is a long.
    assertAwsError(
      await ecr('UploadLayerPart', { repositoryName: 'rr', uploadId: '00000000-0000-0000-0000-000000000000', partFirstByte: 2 ** 60, partLastByte: 1, layerPartBlob: 'AA==' }),
      400,
      'SerializationException',
      /Long/,
    );
    assertAwsError(await ecs('ListTasks', { cluster: 'x', startedBy: 'a', maxResults: 1.5 }), 400, 'SerializationException');
  });

  test('model patterns are enforced, catastrophic ones in linear time', async () => {
    assertAwsError(
      await ecr('CreateRepository', { repositoryName: 'Upper/Case' }),
      400,
      'InvalidParameterException',
      /Member must satisfy regular expression pattern/,
    );
    assertAwsError(await ecr('DescribeRepositories', { registryId: '12345' }), 400, 'InvalidParameterException', /registryId.*regular expression pattern/);
    assertAwsError(
      await ecs('TagResource', { resourceArn: 'arn:aws:ecs:us-east-1:000000000000:cluster/x', tags: [{ key: 'bad\u0000key', value: 'v' }] }),
      400,
      'InvalidParameterException',
      /pattern/,
    );
    // ScanningRepositoryFilterValue is (?:[a-z0-9*]?[a-z0-9*]+)*: exponential for a backtracking engine.
    // Through the API (the front door validates before the handler), and through the validator alone, timed.
    const evil = 'a'.repeat(250) + '!';
    const input = { rules: [{ scanFrequency: 'SCAN_ON_PUSH', repositoryFilters: [{ filter: evil, filterType: 'WILDCARD' }] }] };
    assertAwsError(await ecr('PutRegistryScanningConfiguration', input), 400, 'InvalidParameterException', /filter.*pattern/);
    const ecrModel = t.app.services.find((s) => s.name === 'ecr')!.model;
    const started = performance.now();
    assert.throws(
      () => validateInput(ecrModel, 'PutRegistryScanningConfigurationRequest', input, 'InvalidParameterException'),
      (e: AwsError) => e.code === 'InvalidParameterException' && /rules\.1\.member\.repositoryFilters\.1\.member\.filter.*pattern/.test(e.message),
    );
    assert.ok(performance.now() - started < 50, `validated in ${performance.now() - started} ms`);
  });

  test('every pattern of every imported model compiles, and none backtracks catastrophically', () => {
    const models = readdirSync(new URL('../models/', import.meta.url)).filter((f) => f.endsWith('.json')).map((f) => loadModel(f.replace(/\.json$/, '')));
    let checked = 0;
    for (const model of models) {
      for (const [name, shape] of Object.entries(model.shapes)) {
        if (shape.pattern === undefined) continue;
        const regex = compilePattern(shape.pattern);
        assert.ok(regex, `${name}: ${shape.pattern} is enforced`);
        // Pumped near-matches: what makes nested quantifiers explode in a backtracking engine.
        const started = performance.now();
        for (const probe of ['a'.repeat(3000) + '!', 'a-'.repeat(1500) + '!', 'a/'.repeat(1500) + '!', '*'.repeat(3000) + '!']) regex.test(probe);
        assert.ok(performance.now() - started < 100, `${name}: ${shape.pattern} ran in ${performance.now() - started} ms`);
        checked += 1;
      }
    }
    assert.ok(checked > 50, `patterns checked: ${checked}`);
    assert.deepEqual([...unenforcedPatterns], []);
  });

  test('a JSON body over the limit is 413 in AWS error shape and the connection is closed', async () => {
    const big = Buffer.alloc(MAX_JSON_BODY_BYTES + 1024, 'a');
    // Declared length over the limit: refused before the body is read.
    const res = await request(`${t.endpoint}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `${ECS}.ListClusters` },
      body: big,
    }).catch((e: unknown) => e as Error);
    if (res instanceof Error) assert.fail(`the client saw no answer: ${res.message}`);
    const text = await res.body.text();
    assert.equal(res.statusCode, 413, text);
    assert.equal(res.headers['x-amzn-errortype'], 'RequestEntityTooLargeException');
    assert.equal(res.headers.connection, 'close');
    assert.equal(JSON.parse(text).__type, 'RequestEntityTooLargeException');
    // Chunked (no Content-Length): the limit is noticed while reading.
    const answer = await rawExchange(
      t.port,
      `POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-amz-json-1.1\r\nX-Amz-Target: ${ECS}.ListClusters\r\nTransfer-Encoding: chunked\r\n\r\n`,
      (write) => {
        const chunk = Buffer.alloc(1024 * 1024, 'a');
        for (let i = 0; i < 40; i++) write(`${chunk.length.toString(16)}\r\n${chunk.toString()}\r\n`);
      },
    );
    assert.match(answer, /^HTTP\/1\.1 413 /);
    assert.match(answer, /RequestEntityTooLargeException/);
    // The server is still healthy afterwards.
    assert.equal((await ecs('ListClusters', {})).status, 200);
  });

  test('oversized headers get a clean 431 and the connection closes', async () => {
    const answer = await rawExchange(t.port, `POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'b'.repeat(64 * 1024)}\r\nContent-Length: 2\r\n\r\n{}`);
    assert.match(answer, /^HTTP\/1\.1 431 /);
    assert.match(answer, /x-amzn-ErrorType: RequestHeaderFieldsTooLarge/i);
    assert.match(answer, /Connection: close/i);
    const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));
    assert.equal(body.__type, 'RequestHeaderFieldsTooLarge');
  });

  test('deeply nested JSON is refused without blowing the stack', async () => {
    const depth = 200_000;
    const nested = `{"clusters":${'['.repeat(depth)}${']'.repeat(depth)}}`;
    assertAwsError(await ecs('DescribeClusters', nested), 400, 'SerializationException');
    const deepObject = `{"family":"deep","containerDefinitions":[{"name":"a","image":"b","memory":64,"x":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}]}`;
    const res = await ecs('RegisterTaskDefinition', deepObject);
    assert.equal(res.status, 200, res.text); // the unknown member is dropped without being walked
  });
});

/** Writes `head` (and whatever `more` writes) on a raw socket and returns everything read until the server closes. */
function rawExchange(port: number, head: string, more?: (write: (s: string) => void) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server left the connection open: ${Buffer.concat(chunks).toString().slice(0, 200)}`));
    }, 10_000);
    socket.on('data', (d) => chunks.push(d));
    socket.on('error', () => undefined); // a reset after the answer is expected
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString());
    });
    socket.write(head);
    more?.((s) => {
      if (!socket.destroyed) socket.write(s);
    });
  });
}
