/**
 * Smithy RPC v2 CBOR over HTTP (CloudWatch as botocore ≥ 1.40 and recent SDKs may send it):
 * `POST /service/<targetPrefix>/operation/<Operation>` with `smithy-protocol: rpc-v2-cbor` and a
 * CBOR map body. The body is decoded by cbor2 (bounded depth), turned into the JSON pipeline's
 * input form (timestamps as epoch seconds, blobs as base64), then validated, authorized and
 * handled exactly as awsJson is (invokeOperation). The shaped output is encoded back to CBOR
 * with timestamps as tag 1 (epoch seconds) and blobs as byte strings, driven by the model.
 * Errors are a CBOR map `{__type, message}` with `x-amzn-query-error` for query-compatible services.
 */
import { decode, encode, Tag } from 'cbor2';
import { serializationError, unknownOperation } from './errors.js';
import { invokeOperation, queryCompatibleErrorHeader, type Logger } from './json-protocol.js';
import { ownOperation, type ServiceModel, type ShapeRef } from './model.js';
import { awsErrorOf, serves, type OperationAuthorizer, type RequestContext, type ServiceModule } from './service.js';

export const CBOR_CONTENT_TYPE = 'application/cbor';
/** Nesting deeper than any model shape goes (and far from the stack's limit). */
const MAX_DEPTH = 64;

export interface CborResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export class CborProtocol {
  private readonly byPrefix = new Map<string, ServiceModule>();

  constructor(
    services: readonly ServiceModule[],
    private readonly log: Logger,
    private readonly authorize: OperationAuthorizer = async () => undefined,
  ) {
    for (const s of services) if (serves(s, 'rpcv2Cbor')) this.byPrefix.set(s.model.metadata.targetPrefix!, s);
  }

  /** The service `/service/<name>/…` names, if served in this protocol. */
  serviceFor(name: string): ServiceModule | undefined {
    return this.byPrefix.get(name);
  }

  async handle(service: ServiceModule, opName: string, body: Buffer | undefined, ctx: RequestContext): Promise<CborResponse> {
    try {
      if (!ownOperation(service.model, opName)) throw unknownOperation(`${service.model.metadata.targetPrefix}.${opName}`);
      const raw = body && body.length > 0 ? fromCbor(body) : {};
      const output = await invokeOperation(service, opName, raw, ctx, this.authorize);
      const operation = service.model.operations[opName]!;
      // An operation without output answers no body at all.
      const bytes = operation.output ? Buffer.from(encode(toCbor(service.model, operation.output, output ?? {}))) : Buffer.alloc(0);
      return { status: 200, headers: this.headers(ctx, bytes.length > 0), body: bytes };
    } catch (err) {
      return this.errorResponse(err, ctx, service);
    }
  }

  errorResponse(err: unknown, ctx: RequestContext, service?: ServiceModule): CborResponse {
    const error = awsErrorOf(err, this.log, ctx.requestId);
    const body = Buffer.from(encode({ ...error.fields, __type: error.code, message: error.message }));
    return { status: error.status, headers: { ...this.headers(ctx, true), 'x-amzn-ErrorType': error.code, ...queryCompatibleErrorHeader(service?.model, error) }, body };
  }

  private headers(ctx: RequestContext, hasBody: boolean): Record<string, string> {
    return { ...(hasBody ? { 'content-type': CBOR_CONTENT_TYPE } : {}), 'smithy-protocol': 'rpc-v2-cbor', 'x-amzn-RequestId': ctx.requestId };
  }
}

/** The request body as the JSON pipeline's raw input: Dates → epoch seconds, bytes → base64, safe bigints → numbers. */
function fromCbor(body: Buffer): unknown {
  let decoded: unknown;
  try {
    decoded = decode(body, { maxDepth: MAX_DEPTH });
  } catch {
    throw serializationError('The request body is not valid CBOR');
  }
  return plain(decoded);
}

function plain(value: unknown): unknown {
  if (value instanceof Date) return value.getTime() / 1000;
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (typeof value === 'bigint') return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : String(value);
  if (Array.isArray(value)) return value.map(plain);
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [String(k), plain(v)]));
  if (value instanceof Tag) return plain(value.contents);
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

/** A shaped output (epoch-second timestamps, base64 blobs) as CBOR values: tag 1 timestamps, byte strings. */
function toCbor(model: ServiceModel, ref: ShapeRef, value: unknown): unknown {
  const shape = model.shapes[ref.shape]!;
  if (value === undefined || value === null) return undefined;
  switch (shape.type) {
    case 'structure': {
      const out: Record<string, unknown> = {};
      for (const [name, member] of Object.entries(shape.members ?? {})) {
        const v = toCbor(model, member, (value as Record<string, unknown>)[name]);
        if (v !== undefined) out[name] = v;
      }
      return out;
    }
    case 'list':
      return Array.isArray(value) ? value.map((x) => toCbor(model, shape.member!, x) ?? null) : undefined;
    case 'map':
      return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, x]) => [k, toCbor(model, shape.value!, x)]));
    case 'timestamp':
      return typeof value === 'number' ? new Tag(1, value) : undefined;
    case 'blob':
      return typeof value === 'string' ? Buffer.from(value, 'base64') : value;
    default:
      return value;
  }
}
