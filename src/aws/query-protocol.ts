/**
 * awsQuery over HTTP (IAM, STS, ELBv2): POST / with an `application/x-www-form-urlencoded` body
 * `Action=<Operation>&Version=<apiVersion>&…`, the service named by the SigV4 credential scope.
 *
 * Requests are decoded from the flat form into the operation's input shape, driven by the model:
 * nested structures with dots (`A.B=…`), lists as `L.member.N` (flattened: `L.N`), maps as
 * `M.entry.N.key` / `.value` (flattened: `M.N.key`), members renamed by `locationName`. Scalars
 * are typed from their strings, then the JSON pipeline's validator (model.ts) checks the result,
 * so both protocols enforce the same constraints.
 *
 * Responses are `<XResponse xmlns="…"><XResult>…</XResult><ResponseMetadata><RequestId>…`
 * with lists as `<member>` and timestamps in ISO 8601; errors are
 * `<ErrorResponse><Error><Type>Sender</Type><Code>…</Code><Message>…</Message></Error><RequestId>…`
 * with the awsQueryError code and HTTP status the model gives the exception.
 */
import { XMLBuilder } from 'fast-xml-parser';
import { AwsError } from './errors.js';
import type { Logger } from './json-protocol.js';
import { validateInput, type ServiceModel, type Shape, type ShapeRef } from './model.js';
import { awsErrorOf, operationHandler, serves, type OperationAuthorizer, type RequestContext, type ServiceModule } from './service.js';

export const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded';

export interface QueryResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** One dotted form key path as a tree: `Tags.member.1.Key=a` → Tags → member → 1 → Key = 'a'. */
interface FormNode {
  value?: string;
  children?: Map<string, FormNode>;
}

const xml = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_', suppressEmptyNode: false, format: false, processEntities: true });

export class QueryProtocol {
  private readonly byName = new Map<string, ServiceModule>();

  constructor(
    services: readonly ServiceModule[],
    private readonly log: Logger,
    private readonly authorize: OperationAuthorizer = async () => undefined,
  ) {
    for (const s of services) if (serves(s, 'awsQuery')) this.byName.set(s.model.metadata.signingName ?? s.model.metadata.endpointPrefix, s);
  }

  /** True when `service` (the SigV4 scope's service) is an awsQuery service served here. */
  handles(service: string | undefined): boolean {
    return service !== undefined && this.byName.has(service);
  }

  async handle(service: string, body: Buffer | string | undefined, ctx: RequestContext): Promise<QueryResponse> {
    const module = this.byName.get(service)!;
    try {
      const params = new URLSearchParams(body === undefined ? '' : body.toString());
      const action = params.get('Action');
      const operation = action !== null && Object.hasOwn(module.model.operations, action) ? module.model.operations[action] : undefined;
      const version = params.get('Version');
      if (!action || !operation || (version !== null && version !== module.model.metadata.apiVersion)) {
        throw new AwsError('InvalidAction', `Could not find operation ${action ?? ''} for version ${version ?? 'NO_VERSION_SPECIFIED'}`);
      }
      const handler = operationHandler(module, operation.name);
      const input = operation.input ? decodeInput(module, operation.input.shape, params) : {};
      await this.authorize(ctx, module, operation.name, input);
      const output = await handler(ctx, input);
      const result = operation.output ? { [operation.output.resultWrapper ?? `${operation.name}Result`]: toXml(module.model, operation.output, output ?? {}) } : {};
      const document = {
        [`${operation.name}Response`]: {
          '@_xmlns': module.model.metadata.xmlNamespace,
          ...result,
          ResponseMetadata: { RequestId: ctx.requestId },
        },
      };
      return { status: 200, headers: this.headers(ctx), body: xml.build(document) };
    } catch (err) {
      return this.errorResponse(module.model, err, ctx);
    }
  }

  /** The model of the awsQuery service a signing name stands for, if served here (for error namespaces). */
  modelFor(service: string | undefined): ServiceModel | undefined {
    return service === undefined ? undefined : this.byName.get(service)?.model;
  }

  /** The ErrorResponse document for `err`, with the code and status the model gives its exception. */
  errorResponse(model: ServiceModel | undefined, err: unknown, ctx: RequestContext): QueryResponse {
    const error = awsErrorOf(err, this.log, ctx.requestId);
    // Handlers throw the exception's shape name (NoSuchEntityException); the wire wants its code.
    // Authentication failures carry their awsQuery name (SignatureDoesNotMatch, …) in `query`.
    const modeled = model && Object.hasOwn(model.shapes, error.code) ? model.shapes[error.code] : undefined;
    const code = error.query?.code ?? (modeled?.exception ? (modeled.error?.code ?? error.code) : error.code);
    const status = error.query?.status ?? (modeled?.exception ? (modeled.error?.httpStatusCode ?? error.status) : error.status);
    const sender = modeled?.exception ? modeled.error?.senderFault !== false && status < 500 : status < 500;
    const document = {
      ErrorResponse: {
        '@_xmlns': model?.metadata.xmlNamespace,
        Error: { Type: sender ? 'Sender' : 'Receiver', Code: code, Message: error.message },
        RequestId: ctx.requestId,
      },
    };
    return { status, headers: this.headers(ctx), body: xml.build(document) };
  }

  private headers(ctx: RequestContext): Record<string, string> {
    return { 'content-type': 'text/xml', 'x-amzn-RequestId': ctx.requestId };
  }
}

/** Decodes the form into `shapeName` and validates it as the JSON protocol does. */
export function decodeInput(module: Pick<ServiceModule, 'model' | 'validationErrorCode'>, shapeName: string, params: URLSearchParams): Record<string, unknown> {
  const root: FormNode = { children: new Map() };
  for (const [key, value] of params) {
    if (key === 'Action' || key === 'Version') continue;
    let node = root;
    for (const part of key.split('.')) {
      node.children ??= new Map();
      let next = node.children.get(part);
      if (!next) node.children.set(part, (next = {}));
      node = next;
    }
    node.value = value;
  }
  const decoded = decodeShape(module.model, { shape: shapeName }, root, '', module.validationErrorCode);
  try {
    return validateInput(module.model, shapeName, decoded, module.validationErrorCode);
  } catch (err) {
    // The query protocol has no SerializationException: a value the form's text cannot stand for
    // (an integer beyond 32 bits, a timestamp past year 275760) is the service's validation error.
    if (err instanceof AwsError && err.code === 'SerializationException') throw new AwsError(module.validationErrorCode, err.message);
    throw err;
  }
}

/** Children with positive integer keys (`member.1`, `member.2`, …), in numeric order. */
function numbered(node: FormNode | undefined): FormNode[] {
  if (!node?.children) return [];
  return [...node.children]
    .filter(([k]) => /^[1-9][0-9]{0,8}$/.test(k))
    .sort((a, b) => Number(a[0]) - Number(b[0]))
    .map(([, n]) => n);
}

function invalidValue(code: string, value: string, path: string, expected: string): AwsError {
  const shown = value.length > 64 ? `${value.slice(0, 64)}...` : value;
  return new AwsError(code, `1 validation error detected: Value '${shown}' at '${path}' failed to satisfy constraint: Member must be ${expected}`);
}

function decodeShape(model: ServiceModel, ref: ShapeRef, node: FormNode, path: string, code: string): unknown {
  const shape: Shape = model.shapes[ref.shape]!;
  const flattened = ref.flattened ?? shape.flattened ?? false;
  switch (shape.type) {
    case 'structure': {
      const out: Record<string, unknown> = {};
      for (const [name, member] of Object.entries(shape.members ?? {})) {
        const child = node.children?.get(member.locationName ?? name);
        if (child) out[name] = decodeShape(model, member, child, path ? `${path}.${name}` : name, code);
      }
      return out;
    }
    case 'list': {
      // `L=` with nothing under it is how the query protocol sends an empty list.
      const items = flattened ? numbered(node) : numbered(node.children?.get(shape.member!.locationName ?? 'member'));
      return items.map((item, i) => decodeShape(model, shape.member!, item, `${path}.${i + 1}.member`, code));
    }
    case 'map': {
      const out: Record<string, unknown> = Object.create(null);
      const keyName = shape.key!.locationName ?? 'key';
      const valueName = shape.value!.locationName ?? 'value';
      for (const entry of flattened ? numbered(node) : numbered(node.children?.get('entry'))) {
        const key = entry.children?.get(keyName)?.value;
        const value = entry.children?.get(valueName);
        if (key === undefined) continue;
        out[key] = value ? decodeShape(model, shape.value!, value, `${path}.${key}`, code) : null;
      }
      return out;
    }
    default:
      return node.value === undefined ? undefined : decodeScalar(shape, node.value, path, code);
  }
}

function decodeScalar(shape: Shape, value: string, path: string, code: string): unknown {
  switch (shape.type) {
    case 'integer':
    case 'long':
      if (!/^-?[0-9]{1,16}$/.test(value.trim())) throw invalidValue(code, value, path, 'an integer');
      return Number(value);
    case 'double':
    case 'float': {
      const n = value.trim() === '' ? NaN : Number(value);
      if (!Number.isFinite(n)) throw invalidValue(code, value, path, 'a number');
      return n;
    }
    case 'boolean':
      if (!/^(true|false)$/i.test(value)) throw invalidValue(code, value, path, 'a boolean (true or false)');
      return value.toLowerCase() === 'true';
    case 'timestamp':
      // ISO 8601 (what SDKs send) or epoch seconds.
      if (/^-?[0-9]+(\.[0-9]+)?$/.test(value)) return Number(value);
      if (Number.isNaN(Date.parse(value))) throw invalidValue(code, value, path, 'a timestamp');
      return value;
    default:
      return value;
  }
}

/** ISO 8601 in UTC as AWS's XML shows it, without milliseconds when they are zero. */
function isoTimestamp(value: unknown): string | undefined {
  const ms = value instanceof Date ? value.getTime() : typeof value === 'number' ? value * 1000 : typeof value === 'string' ? Date.parse(value) : NaN;
  if (Number.isNaN(ms)) return undefined;
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

/**
 * The XML builder's object for `value` as `ref`'s shape: element names from member names or
 * `locationName`, lists wrapped in `<member>` unless flattened, maps as `<entry><key/><value/>`.
 * Members the shape does not declare are dropped, as the JSON pipeline's shapeOutput does.
 */
function toXml(model: ServiceModel, ref: ShapeRef, value: unknown): unknown {
  const shape: Shape = model.shapes[ref.shape]!;
  switch (shape.type) {
    case 'structure': {
      if (typeof value !== 'object' || value === null) return undefined;
      const obj = value as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const [name, member] of Object.entries(shape.members ?? {})) {
        const v = obj[name];
        if (v === undefined || v === null) continue;
        const memberShape = model.shapes[member.shape]!;
        const flattened = member.flattened ?? memberShape.flattened ?? false;
        if (flattened && memberShape.type === 'list' && Array.isArray(v)) {
          out[memberShape.member!.locationName ?? member.locationName ?? name] = v.map((x) => toXml(model, memberShape.member!, x) ?? '');
        } else if (flattened && memberShape.type === 'map') {
          out[member.locationName ?? name] = mapEntries(model, memberShape, v);
        } else {
          const shaped = toXml(model, member, v);
          if (shaped !== undefined) out[member.locationName ?? name] = shaped;
        }
        const ns = member.xmlNamespace ?? memberShape.xmlNamespace;
        if (ns && typeof out[member.locationName ?? name] === 'object') {
          (out[member.locationName ?? name] as Record<string, unknown>)[ns.prefix ? `@_xmlns:${ns.prefix}` : '@_xmlns'] = ns.uri;
        }
      }
      return out;
    }
    case 'list':
      if (!Array.isArray(value)) return undefined;
      // An empty list is an empty element (<Users/>); the builder renders '' that way.
      return value.length === 0 ? '' : { [shape.member!.locationName ?? 'member']: value.map((x) => toXml(model, shape.member!, x) ?? '') };
    case 'map':
      return typeof value === 'object' && value !== null ? { entry: mapEntries(model, shape, value) } : undefined;
    case 'timestamp':
      return isoTimestamp(value);
    case 'boolean':
      return typeof value === 'boolean' ? String(value) : undefined;
    case 'blob':
      return Buffer.isBuffer(value) ? value.toString('base64') : typeof value === 'string' ? value : undefined;
    default:
      return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
  }
}

function mapEntries(model: ServiceModel, shape: Shape, value: unknown): unknown[] {
  return Object.entries(value as Record<string, unknown>).map(([k, v]) => ({
    [shape.key!.locationName ?? 'key']: k,
    [shape.value!.locationName ?? 'value']: toXml(model, shape.value!, v) ?? '',
  }));
}
