/**
 * The awsQuery front door over raw HTTP, signed with @smithy/signature-v4: routing by the
 * signed service, authentication failures and unknown actions in the ErrorResponse shape,
 * form edge cases (charset, empty lists, out-of-order members, escaping) on real IAM operations.
 */
import { XMLParser } from 'fast-xml-parser';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { credentials, startDockyard, type TestDockyard } from './helpers/dockyard.js';
import { FORM_CONTENT_TYPE, signedFormHeaders } from './helpers/sign.js';

let d: TestDockyard;
before(async () => {
  d = await startDockyard();
});
after(async () => {
  await d.stop();
});

const parser = new XMLParser({ parseTagValue: false, ignoreAttributes: false, attributeNamePrefix: '@_', isArray: (name) => name === 'member' });

async function post(body: string, opts: { service?: string; sign?: boolean; contentType?: string; secret?: string } = {}) {
  const contentType = { 'content-type': opts.contentType ?? FORM_CONTENT_TYPE };
  const headers =
    opts.sign === false
      ? contentType
      : await signedFormHeaders(d.endpoint, body, {
          service: opts.service ?? 'iam',
          credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: opts.secret ?? credentials.secretAccessKey },
          headers: contentType,
        });
  const res = await fetch(d.endpoint, { method: 'POST', headers, body });
  const text = await res.text();
  return { status: res.status, contentType: res.headers.get('content-type'), text, xml: parser.parse(text) };
}

test('an unsigned or badly signed form request is refused in the awsQuery error shape', async () => {
  const unsigned = await post('Action=ListUsers&Version=2010-05-08', { sign: false });
  assert.equal(unsigned.status, 403);
  assert.equal(unsigned.xml.ErrorResponse.Error.Code, 'MissingAuthenticationToken');
  assert.equal(unsigned.xml.ErrorResponse.Error.Type, 'Sender');
  assert.ok(unsigned.xml.ErrorResponse.RequestId);

  const forged = await post('Action=ListUsers&Version=2010-05-08', { secret: 'wrong' });
  assert.equal(forged.status, 403);
  assert.equal(forged.xml.ErrorResponse.Error.Code, 'SignatureDoesNotMatch');
  assert.equal(forged.xml.ErrorResponse['@_xmlns'], 'https://iam.amazonaws.com/doc/2010-05-08/');
});

test('routing by the signed service; unknown actions and versions are InvalidAction', async () => {
  const sts = await post('Action=GetCallerIdentity&Version=2011-06-15', { service: 'sts' });
  assert.equal(sts.status, 200);
  assert.equal(sts.contentType, 'text/xml');
  const result = sts.xml.GetCallerIdentityResponse;
  assert.equal(result['@_xmlns'], 'https://sts.amazonaws.com/doc/2011-06-15/');
  assert.equal(result.GetCallerIdentityResult.Arn, 'arn:aws:iam::000000000000:root');
  assert.match(result.ResponseMetadata.RequestId, /^[0-9a-f-]{36}$/);

  // The same action signed for IAM is not an IAM operation.
  const wrongService = await post('Action=GetCallerIdentity&Version=2011-06-15');
  assert.equal(wrongService.status, 400);
  assert.equal(wrongService.xml.ErrorResponse.Error.Code, 'InvalidAction');
  assert.equal(wrongService.xml.ErrorResponse['@_xmlns'], 'https://iam.amazonaws.com/doc/2010-05-08/');

  const jsonService = await post('Action=ListClusters&Version=2014-11-13', { service: 'ecs' });
  assert.equal(jsonService.status, 400);
  assert.equal(jsonService.xml.ErrorResponse.Error.Code, 'InvalidAction');

  for (const action of ['__proto__', 'constructor', 'NoSuchAction']) {
    const res = await post(`Action=${action}&Version=2010-05-08`);
    assert.equal(res.status, 400, action);
    assert.equal(res.xml.ErrorResponse.Error.Code, 'InvalidAction');
  }
});

test('form edge cases on IAM operations: empty lists, out-of-order members, escaping', async () => {
  const created = await post(
    [
      'Action=CreateUser',
      'Version=2010-05-08',
      'UserName=raw',
      // IAM paths may hold XML's special characters (tag values may not): they must come back escaped.
      'Path=' + encodeURIComponent('/a<&"\'>b/'),
      'Tags.member.2.Key=b',
      'Tags.member.2.Value=' + encodeURIComponent('p=q:r'),
      'Tags.member.1.Key=a',
      'Tags.member.1.Value=' + encodeURIComponent('x y+z'),
    ].join('&'),
  );
  assert.equal(created.status, 200, created.text);
  assert.deepEqual(created.xml.CreateUserResponse.CreateUserResult.User.Tags.member, [
    { Key: 'a', Value: 'x y+z' },
    { Key: 'b', Value: 'p=q:r' },
  ]);
  assert.equal(created.xml.CreateUserResponse.CreateUserResult.User.Path, '/a<&"\'>b/');
  assert.ok(!created.text.includes('<&"'), 'the path is escaped in the XML');
  assert.match(created.xml.CreateUserResponse.CreateUserResult.User.CreateDate, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

  // `Tags=` is the query protocol's empty list.
  const emptyTags = await post('Action=CreateUser&Version=2010-05-08&UserName=raw2&Tags=');
  assert.equal(emptyTags.status, 200, emptyTags.text);
  assert.equal(emptyTags.xml.CreateUserResponse.CreateUserResult.User.Tags, undefined);

  // An empty result list is an empty element.
  const noKeys = await post('Action=ListAccessKeys&Version=2010-05-08&UserName=raw2');
  assert.equal(noKeys.xml.ListAccessKeysResponse.ListAccessKeysResult.AccessKeyMetadata, '');
  assert.equal(noKeys.xml.ListAccessKeysResponse.ListAccessKeysResult.IsTruncated, 'false');

  // A tag without its required Value: the model's validation, in IAM's ValidationError.
  const missingValue = await post('Action=TagUser&Version=2010-05-08&UserName=raw&Tags.member.1.Key=k');
  assert.equal(missingValue.status, 400);
  assert.equal(missingValue.xml.ErrorResponse.Error.Code, 'ValidationError');
  assert.match(missingValue.xml.ErrorResponse.Error.Message, /Value null at 'tags.1.member.value' failed to satisfy constraint: Member must not be null/);

  const badNumber = await post('Action=ListUsers&Version=2010-05-08&MaxItems=ten');
  assert.equal(badNumber.status, 400);
  assert.equal(badNumber.xml.ErrorResponse.Error.Code, 'ValidationError');
  const outOfRange = await post('Action=ListUsers&Version=2010-05-08&MaxItems=1001');
  assert.match(outOfRange.xml.ErrorResponse.Error.Message, /less than or equal to 1000/);
  const badBoolean = await post('Action=CreatePolicyVersion&Version=2010-05-08&PolicyArn=arn:aws:iam::000000000000:policy/x&PolicyDocument=%7B%7D&SetAsDefault=maybe');
  assert.equal(badBoolean.xml.ErrorResponse.Error.Code, 'ValidationError');

  const notFound = await post('Action=GetUser&Version=2010-05-08&UserName=ghost');
  assert.equal(notFound.status, 404);
  assert.deepEqual(notFound.xml.ErrorResponse.Error, { Type: 'Sender', Code: 'NoSuchEntity', Message: 'The user with name ghost cannot be found.' });
});

test('a form body over the size limit is refused in the awsQuery error shape, not JSON', async () => {
  // Found reviewing the fuzzer's paths: the body-limit handler answered every protocol in JSON.
  const body = `Action=ListUsers&Version=2010-05-08&Marker=${'a'.repeat(33 * 1024 * 1024)}`;
  const res = await post(body, { sign: false });
  assert.equal(res.status, 413);
  assert.match(String(res.contentType), /text\/xml/);
  assert.equal(res.xml.ErrorResponse.Error.Code, 'RequestEntityTooLarge');
  assert.equal(res.xml.ErrorResponse.Error.Type, 'Sender');
  assert.ok(res.xml.ErrorResponse.RequestId);
});
