/**
 * The front door with raw HTTP (no SDK smoothing anything over): awsJson1_1 routing by
 * X-Amz-Target, AWS error shapes and headers, request ids, SigV4 scope region, /health.
 * Every request is signed with the test root key (the front door verifies SigV4).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { startDockyard, type TestDockyard } from './helpers/dockyard.js';
import { ECS_TARGET as PREFIX, signedJsonHeaders } from './helpers/sign.js';
import { rawPost, type RawResponse } from './helpers/signed-http.js';


describe('front door (raw HTTP)', () => {
  let t: TestDockyard;
  before(async () => {
    t = await startDockyard();
  });
  after(() => t.stop());

  const post = (body: string | undefined, headers: Record<string, string>) => rawPost(t.endpoint, body, headers);

  /** A raw call signed for `region` (the signature covers the target and the body). */
  const signedPost = async (target: string | undefined, body: string, region = 'us-east-1') => {
    const headers = await signedJsonHeaders(t.endpoint, target ?? '', body, { region });
    if (target === undefined) delete headers['x-amz-target'];
    return post(body, headers);
  };
  const call = (operation: string, body: string, region = 'us-east-1') => signedPost(`${PREFIX}.${operation}`, body, region);

  function assertAwsError(res: RawResponse, type: string, message?: RegExp) {
    assert.equal(res.status, 400, res.text);
    assert.equal(res.headers['x-amzn-errortype'], type);
    assert.ok(res.json, `error body is JSON: ${res.text}`);
    assert.equal(res.json.__type, type);
    assert.equal(typeof res.json.message, 'string');
    if (message) assert.match(res.json.message as string, message);
    assert.match(String(res.headers['content-type']), /application\/x-amz-json-1\.1/);
    assert.match(String(res.headers['x-amzn-requestid']), /^[0-9a-f-]{36}$/);
  }

  test('a successful call answers 200 JSON with x-amzn-RequestId, unique per request', async () => {
    const a = await call('ListClusters', '{}');
    const b = await call('ListClusters', '{}');
    assert.equal(a.status, 200);
    assert.deepEqual(a.json, { clusterArns: [] });
    assert.match(String(a.headers['content-type']), /application\/x-amz-json-1\.1/);
    assert.match(String(a.headers['x-amzn-requestid']), /^[0-9a-f-]{36}$/);
    assert.notEqual(a.headers['x-amzn-requestid'], b.headers['x-amzn-requestid']);
    assert.equal(a.headers['x-amzn-errortype'], undefined);
  });

  test('an empty body is an empty input', async () => {
    const res = await call('ListClusters', '');
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { clusterArns: [] });
  });

  test('an unknown operation of a known service is UnknownOperationException', async () => {
    assertAwsError(await call('LaunchRockets', '{}'), 'UnknownOperationException');
  });

  test('an unknown target prefix or a missing X-Amz-Target is UnknownOperationException', async () => {
    assertAwsError(await signedPost('NoSuchService_2020.DoThing', '{}'), 'UnknownOperationException');
    assertAwsError(await signedPost(undefined, '{}'), 'UnknownOperationException');
  });

  test('malformed JSON is SerializationException', async () => {
    assertAwsError(await call('CreateCluster', '{"clusterName": '), 'SerializationException');
    assertAwsError(await call('CreateCluster', 'not json at all'), 'SerializationException');
  });

  test('JSON of the wrong type is SerializationException', async () => {
    assertAwsError(await call('CreateCluster', '{"clusterName": 42}'), 'SerializationException');
    assertAwsError(await call('CreateCluster', '[]'), 'SerializationException');
    assertAwsError(await call('CreateCluster', '"cluster"'), 'SerializationException');
    assertAwsError(await call('DescribeClusters', '{"clusters": "prod"}'), 'SerializationException');
    assertAwsError(await call('ListClusters', '{"maxResults": "10"}'), 'SerializationException');
    assertAwsError(await call('ListClusters', '{"maxResults": 1.5}'), 'SerializationException');
    assertAwsError(
      await call('RegisterTaskDefinition', JSON.stringify({ family: 'f', containerDefinitions: [{ name: 'a', image: 'b', memory: 64, essential: 'yes' }] })),
      'SerializationException',
    );
    assertAwsError(await call('CreateCluster', '{"tags": {"k": "v"}}'), 'SerializationException');
  });

  test('a missing required member is the service validation exception with a Coral-style message', async () => {
    assertAwsError(await call('DeleteCluster', '{}'), 'InvalidParameterException', /Value null at 'cluster' failed to satisfy constraint: Member must not be null/);
  });

  test('modeled service errors carry their own __type', async () => {
    assertAwsError(await call('DeleteCluster', '{"cluster": "ghost"}'), 'ClusterNotFoundException');
    assertAwsError(await call('DescribeTaskDefinition', '{"taskDefinition": "ghost"}'), 'ClientException');
  });

  test('members the model does not declare are ignored, and the output carries only modeled members', async () => {
    const res = await call('CreateCluster', JSON.stringify({ clusterName: 'extra', surprise: { deep: true } }));
    assert.equal(res.status, 200);
    const cluster = res.json!.cluster as Record<string, unknown>;
    assert.equal(cluster.clusterName, 'extra');
    for (const internal of ['accountId', 'region', 'createdAt', 'surprise']) assert.equal(cluster[internal], undefined, internal);
  });

  test('the verified SigV4 credential scope picks the region; unsigned requests are refused before routing', async () => {
    const eu = await call('CreateCluster', '{"clusterName": "where"}', 'ap-southeast-2');
    assert.equal((eu.json!.cluster as { clusterArn: string }).clusterArn, 'arn:aws:ecs:ap-southeast-2:000000000000:cluster/where');
    const unsigned = await post('{"clusterName": "where"}', { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `${PREFIX}.CreateCluster` });
    assertAwsError(unsigned, 'MissingAuthenticationTokenException', /^Missing Authentication Token$/);
    const listed = await call('ListClusters', '{}');
    assert.ok(!(listed.json!.clusterArns as string[]).some((arn) => arn.endsWith('/where')), 'nothing was created in the default region');
  });

  test('GET /health answers 200 JSON naming the version and the services', async () => {
    const res = await request(`${t.endpoint}/health`);
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /application\/json/);
    const body = (await res.body.json()) as { status: string; version: string; services: string[] };
    assert.equal(body.status, 'ok');
    assert.match(body.version, /^\d+\.\d+\.\d+/);
    assert.ok(body.services.includes('ecs'), `services: ${body.services.join(', ')}`);
    assert.match(String(res.headers['x-amzn-requestid']), /^[0-9a-f-]{36}$/);
  });

  test('even a request for an unknown path gets an x-amzn-RequestId', async () => {
    const res = await request(`${t.endpoint}/no/such/path`);
    await res.body.text();
    assert.equal(res.statusCode, 404);
    assert.match(String(res.headers['x-amzn-requestid']), /^[0-9a-f-]{36}$/);
  });

  test('an unexpected failure is InternalFailure (500) without internal details', async () => {
    const leaky = 'secret-token-do-not-leak';
    const original = t.app.store.read.bind(t.app.store);
    t.app.store.read = async () => {
      throw new Error(`database exploded: ${leaky}`);
    };
    try {
      const res = await call('ListClusters', '{}');
      assert.equal(res.status, 500);
      assert.equal(res.json!.__type, 'InternalFailure');
      assert.equal(res.headers['x-amzn-errortype'], 'InternalFailure');
      assert.ok(!res.text.includes(leaky));
      assert.ok(!res.text.includes('database exploded'));
    } finally {
      t.app.store.read = original;
    }
  });
});
