/**
 * The awsQuery codec against a small model that uses every trait IAM and STS do not
 * (flattened lists and maps, locationName, xmlNamespace): form decoding into the input shape,
 * validation, XML output and ErrorResponse documents.
 */
import { XMLParser } from 'fast-xml-parser';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AwsError } from './errors.js';
import type { ServiceModel } from './model.js';
import { QueryProtocol } from './query-protocol.js';
import type { RequestContext, ServiceModule } from './service.js';

const model: ServiceModel = {
  metadata: { endpointPrefix: 'demo', signingName: 'demo', protocol: 'query', apiVersion: '2020-01-01', xmlNamespace: 'https://demo.example/doc/2020-01-01/' },
  operations: {
    Echo: { name: 'Echo', input: { shape: 'EchoInput' }, output: { shape: 'EchoOutput', resultWrapper: 'EchoResult' }, errors: [{ shape: 'Missing' }] },
    Fail: { name: 'Fail', input: { shape: 'Empty' } },
    Nothing: { name: 'Nothing', input: { shape: 'Empty' } },
  },
  shapes: {
    Empty: { type: 'structure', members: {} },
    EchoInput: {
      type: 'structure',
      required: ['Name'],
      members: {
        Name: { shape: 'Name' },
        Count: { shape: 'Int' },
        Ratio: { shape: 'Double' },
        Enabled: { shape: 'Bool' },
        When: { shape: 'Time' },
        Items: { shape: 'Strings' },
        Flat: { shape: 'FlatStrings' },
        Renamed: { shape: 'Strings', locationName: 'Other' },
        Attributes: { shape: 'Attributes' },
        FlatAttributes: { shape: 'FlatAttributes' },
        Nested: { shape: 'Nested' },
        Records: { shape: 'Records' },
      },
    },
    EchoOutput: {
      type: 'structure',
      members: {
        Name: { shape: 'Name' },
        Count: { shape: 'Int' },
        Ratio: { shape: 'Double' },
        Enabled: { shape: 'Bool' },
        When: { shape: 'Time' },
        Items: { shape: 'Strings' },
        Flat: { shape: 'FlatStrings' },
        Renamed: { shape: 'Strings', locationName: 'Other' },
        Attributes: { shape: 'Attributes' },
        Nested: { shape: 'Nested' },
        Records: { shape: 'Records' },
      },
    },
    Name: { type: 'string', min: 1, max: 10 },
    Int: { type: 'integer', min: 0, max: 100 },
    Double: { type: 'double' },
    Bool: { type: 'boolean' },
    Time: { type: 'timestamp' },
    Strings: { type: 'list', member: { shape: 'Name' }, max: 3 },
    FlatStrings: { type: 'list', member: { shape: 'Name', locationName: 'Entry' }, flattened: true },
    Attributes: { type: 'map', key: { shape: 'Name' }, value: { shape: 'Name' } },
    FlatAttributes: { type: 'map', key: { shape: 'Name', locationName: 'K' }, value: { shape: 'Name', locationName: 'V' }, flattened: true },
    Nested: { type: 'structure', members: { Inner: { shape: 'Nested' }, Label: { shape: 'Name' } } },
    Records: { type: 'list', member: { shape: 'Record' } },
    Record: { type: 'structure', required: ['Key'], members: { Key: { shape: 'Name' }, Value: { shape: 'Name' } } },
    Missing: { type: 'structure', exception: true, error: { code: 'NoSuchThing', httpStatusCode: 404, senderFault: true }, members: { message: { shape: 'Name' } } },
  },
};

let received: Record<string, unknown> | undefined;
const module: ServiceModule = {
  name: 'demo',
  model,
  protocol: 'awsQuery',
  validationErrorCode: 'ValidationError',
  operations: {
    Echo: (_ctx, input) => {
      received = input;
      if (input.Name === 'missing') throw new AwsError('Missing', 'There is no such thing.');
      return { ...input, Undeclared: 'dropped' };
    },
    Fail: () => {
      throw new Error('secret detail');
    },
  },
};
const logged: object[] = [];
const protocol = new QueryProtocol([module], { error: (obj) => logged.push(obj) });
const ctx: RequestContext = {
  requestId: 'req-1',
  region: 'us-east-1',
  accountId: '000000000000',
  accessKeyId: undefined,
  caller: { kind: 'trusted', accountId: '000000000000', arn: 'arn:aws:iam::000000000000:root', userId: '000000000000' },
};
const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_', parseTagValue: false, isArray: (name) => ['member', 'entry', 'Entry'].includes(name) });

async function call(form: Record<string, string> | string) {
  const body = typeof form === 'string' ? form : new URLSearchParams({ Version: '2020-01-01', ...form }).toString();
  const res = await protocol.handle('demo', body, ctx);
  return { ...res, xml: parser.parse(res.body) };
}

test('decodes every shape: nested structures, lists (member.N and flattened), maps (entry.N and flattened), scalars', async () => {
  const res = await call({
    Action: 'Echo',
    Name: 'n',
    Count: '42',
    Ratio: '0.5',
    Enabled: 'TRUE',
    When: '2024-02-03T04:05:06Z',
    // Out of order indexes are put in order; the gap is not an item.
    'Items.member.2': 'b',
    'Items.member.1': 'a',
    'Items.member.10': 'c',
    'Flat.1': 'x',
    'Flat.2': 'y',
    'Other.member.1': 'r',
    'Attributes.entry.1.key': 'k1',
    'Attributes.entry.1.value': 'v1',
    'Attributes.entry.2.key': '__proto__',
    'Attributes.entry.2.value': 'v2',
    'FlatAttributes.1.K': 'fk',
    'FlatAttributes.1.V': 'fv',
    'Nested.Inner.Inner.Label': 'deep',
    'Records.member.1.Key': 'k',
    'Records.member.1.Value': 'v',
    Unknown: 'ignored',
  });
  assert.equal(res.status, 200, res.body);
  assert.equal(received!.Count, 42);
  assert.equal(received!.Ratio, 0.5);
  assert.equal(received!.Enabled, true);
  assert.equal(received!.When, Date.parse('2024-02-03T04:05:06Z') / 1000);
  assert.deepEqual(received!.Items, ['a', 'b', 'c']);
  assert.deepEqual(received!.Flat, ['x', 'y']);
  assert.deepEqual(received!.Renamed, ['r']);
  assert.equal(Object.getPrototypeOf(received!.Attributes), Object.prototype, 'a map key never sets a prototype');
  assert.deepEqual(Object.entries(received!.Attributes as object), [['k1', 'v1'], ['__proto__', 'v2']]);
  assert.deepEqual({ ...(received!.FlatAttributes as object) }, { fk: 'fv' });
  assert.deepEqual(received!.Nested, { Inner: { Inner: { Label: 'deep' } } });
  assert.deepEqual(received!.Records, [{ Key: 'k', Value: 'v' }]);
  assert.equal('Unknown' in received!, false);

  const out = res.xml.EchoResponse;
  assert.equal(out['@_xmlns'], 'https://demo.example/doc/2020-01-01/');
  assert.equal(out.ResponseMetadata.RequestId, 'req-1');
  const result = out.EchoResult;
  assert.equal(result.Count, '42');
  assert.equal(result.Enabled, 'true');
  assert.equal(result.When, '2024-02-03T04:05:06Z');
  assert.deepEqual(result.Items.member, ['a', 'b', 'c']);
  assert.deepEqual(result.Entry, ['x', 'y'], 'a flattened list repeats its member element');
  assert.deepEqual(result.Other.member, ['r'], 'locationName renames the element');
  assert.deepEqual(result.Attributes.entry, [{ key: 'k1', value: 'v1' }, { key: '__proto__', value: 'v2' }]);
  assert.equal(result.Nested.Inner.Inner.Label, 'deep');
  assert.deepEqual(result.Records.member, [{ Key: 'k', Value: 'v' }]);
  assert.equal(result.Undeclared, undefined, 'members the model does not declare are not sent');
});

test('an empty list is `Name=` on the way in and an empty element on the way out', async () => {
  const res = await call({ Action: 'Echo', Name: 'n', Items: '' });
  assert.equal(res.status, 200);
  assert.deepEqual(received!.Items, []);
  assert.match(res.body, /<Items><\/Items>|<Items\/>/);
});

test('text is escaped in XML', async () => {
  const res = await call({ Action: 'Echo', Name: '<a&b>"\'' });
  assert.equal(res.status, 200);
  assert.ok(!res.body.includes('<a&b>'));
  assert.equal(res.xml.EchoResponse.EchoResult.Name, '<a&b>"\'');
});

test('validation through the model: required members, lengths, ranges, list sizes, malformed scalars', async () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{}, /Value null at 'name' failed to satisfy constraint: Member must not be null/],
    [{ Name: 'x'.repeat(11) }, /length less than or equal to 10/],
    [{ Name: 'n', Count: '101' }, /value less than or equal to 100/],
    [{ Name: 'n', Count: '4x' }, /Value '4x' at 'Count' failed to satisfy constraint: Member must be an integer/],
    [{ Name: 'n', Ratio: 'NaN' }, /at 'Ratio'.*a number/],
    [{ Name: 'n', Enabled: 'yes' }, /at 'Enabled'.*boolean/],
    [{ Name: 'n', When: 'not a date' }, /at 'When'.*timestamp/],
    [{ Name: 'n', 'Items.member.1': 'a', 'Items.member.2': 'b', 'Items.member.3': 'c', 'Items.member.4': 'd' }, /length less than or equal to 3/],
    [{ Name: 'n', 'Records.member.1.Value': 'v' }, /Value null at 'records.1.member.key'/],
    // Found by the fuzzer: values the JSON validator calls SerializationException, which awsQuery has not.
    [{ Name: 'n', Count: '9007199254740992' }, /out of range of an Integer at 'count'/],
    [{ Name: 'n', Count: '-2147483649' }, /out of range of an Integer at 'count'/],
    [{ Name: 'n', When: '9000000000000' }, /Expected timestamp at 'when'/],
  ];
  for (const [form, message] of cases) {
    const res = await call({ Action: 'Echo', ...form });
    assert.equal(res.status, 400, JSON.stringify(form));
    const error = res.xml.ErrorResponse.Error;
    assert.equal(error.Type, 'Sender');
    assert.equal(error.Code, 'ValidationError');
    assert.match(error.Message, message);
  }
});

test('modeled errors get their awsQueryError code and HTTP status; unknown failures are InternalFailure without details', async () => {
  const missing = await call({ Action: 'Echo', Name: 'missing' });
  assert.equal(missing.status, 404);
  assert.deepEqual(missing.xml.ErrorResponse.Error, { Type: 'Sender', Code: 'NoSuchThing', Message: 'There is no such thing.' });
  assert.equal(missing.xml.ErrorResponse.RequestId, 'req-1');

  const fail = await call({ Action: 'Fail' });
  assert.equal(fail.status, 500);
  assert.equal(fail.xml.ErrorResponse.Error.Type, 'Receiver');
  assert.equal(fail.xml.ErrorResponse.Error.Code, 'InternalFailure');
  assert.ok(!fail.body.includes('secret detail'));
  assert.equal(logged.length, 1);
});

test('unknown actions, prototype names, other versions and unimplemented operations', async () => {
  for (const action of ['Nope', '__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
    const res = await call({ Action: action });
    assert.equal(res.status, 400, action);
    assert.equal(res.xml.ErrorResponse.Error.Code, 'InvalidAction');
    assert.match(res.xml.ErrorResponse.Error.Message, new RegExp(`Could not find operation ${action} for version 2020-01-01`));
  }
  const noAction = await call('Version=2020-01-01');
  assert.equal(noAction.xml.ErrorResponse.Error.Code, 'InvalidAction');
  const otherVersion = await call('Action=Echo&Name=n&Version=1999-01-01');
  assert.equal(otherVersion.status, 400);
  assert.equal(otherVersion.xml.ErrorResponse.Error.Code, 'InvalidAction');
  const unimplemented = await call({ Action: 'Nothing' });
  assert.equal(unimplemented.status, 501);
  assert.equal(unimplemented.xml.ErrorResponse.Error.Code, 'NotImplementedException');
});

test('an operation without output answers with the response metadata only', async () => {
  const m: ServiceModule = { ...module, operations: { Nothing: () => ({ ignored: true }) } };
  const res = await new QueryProtocol([m], { error: () => undefined }).handle('demo', 'Action=Nothing&Version=2020-01-01', ctx);
  assert.equal(res.status, 200);
  assert.deepEqual(parser.parse(res.body), { NothingResponse: { '@_xmlns': 'https://demo.example/doc/2020-01-01/', ResponseMetadata: { RequestId: 'req-1' } } });
});
