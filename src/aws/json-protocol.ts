/**
 * awsJson1_1 and awsJson1_0 over HTTP: POST / with `X-Amz-Target: <targetPrefix>.<Operation>` and a JSON body.
 * The pipeline is fixed: route → deserialize → validate → invoke → serialize. Errors are
 * `{"__type": "<Shape>", "message": ...}` with `x-amzn-ErrorType`; unknown failures become
 * InternalFailure without their details (which could carry secrets) reaching the caller.
 */
import { Readable } from 'node:stream';
import { serializationError, unknownOperation, type AwsError } from './errors.js';
import { encodeEvents, EVENT_STREAM_CONTENT_TYPE, EventStreamOutput } from './event-stream.js';
import { ownOperation, shapeOutput, validateInput, type ServiceModel } from './model.js';
import { stringifyOutput } from './raw-json.js';
import { awsErrorOf, operationHandler, type OperationAuthorizer, type RequestContext, type ServiceModule } from './service.js';

export const JSON_CONTENT_TYPE = 'application/x-amz-json-1.1';

export interface JsonResponse {
  status: number;
  headers: Record<string, string>;
  /** A stream for event-stream output (StartLiveTail). */
  body: string | Readable;
}

export interface Logger {
  error(obj: object, msg: string): void;
}

export class JsonProtocol {
  private readonly byPrefix = new Map<string, ServiceModule>();

  constructor(
    services: readonly ServiceModule[],
    private readonly log: Logger,
    private readonly authorize: OperationAuthorizer = async () => undefined,
  ) {
    for (const s of services) this.byPrefix.set(s.model.metadata.targetPrefix!, s);
  }

  /** True when the target names a service this protocol serves. */
  handles(target: string): boolean {
    return this.serviceFor(target) !== undefined;
  }

  /** The service a target names (`<targetPrefix>.<Operation>`), if this protocol serves it. */
  serviceFor(target: string): ServiceModule | undefined {
    return this.byPrefix.get(target.slice(0, target.lastIndexOf('.')));
  }

  async handle(target: string, body: Buffer | string | undefined, ctx: RequestContext): Promise<JsonResponse> {
    const service = this.serviceFor(target);
    try {
      const result = await this.dispatch(target, body, ctx);
      if (result instanceof EventStreamOutput) {
        return { status: 200, headers: { ...this.headers(ctx, service), 'content-type': EVENT_STREAM_CONTENT_TYPE }, body: Readable.from(encodeEvents(result.events)) };
      }
      return { status: 200, headers: this.headers(ctx, service), body: stringifyOutput(result) };
    } catch (err) {
      return this.errorResponse(err, ctx, service);
    }
  }

  errorResponse(err: unknown, ctx: RequestContext, service?: ServiceModule): JsonResponse {
    const error = awsErrorOf(err, this.log, ctx.requestId);
    const headers = { ...this.headers(ctx, service), 'x-amzn-ErrorType': error.code, ...queryCompatibleErrorHeader(service?.model, error) };
    return { status: error.status, headers, body: JSON.stringify({ ...error.fields, __type: error.code, message: error.message }) };
  }

  private headers(ctx: RequestContext, service: ServiceModule | undefined): Record<string, string> {
    return { 'content-type': service ? jsonContentType(service.model) : JSON_CONTENT_TYPE, 'x-amzn-RequestId': ctx.requestId };
  }

  private async dispatch(target: string, body: Buffer | string | undefined, ctx: RequestContext): Promise<unknown> {
    const dot = target.lastIndexOf('.');
    const service = this.byPrefix.get(target.slice(0, dot));
    const opName = target.slice(dot + 1);
    if (!service || !ownOperation(service.model, opName)) throw unknownOperation(target);

    let raw: unknown = {};
    const text = body === undefined ? '' : body.toString();
    if (text.trim() !== '') {
      try {
        raw = JSON.parse(text);
      } catch {
        throw serializationError('Request body is not valid JSON');
      }
    }
    return invokeOperation(service, opName, raw, ctx, this.authorize);
  }
}

/**
 * The pipeline after decoding, shared by the JSON and CBOR protocols: validate the decoded
 * input against the model, authorize, run the handler, shape the output (undefined: no output shape).
 */
export async function invokeOperation(service: ServiceModule, opName: string, raw: unknown, ctx: RequestContext, authorize: OperationAuthorizer): Promise<unknown> {
  // Own properties only: `constructor`, `__proto__` or `toString` name no operation.
  const operation = ownOperation(service.model, opName);
  if (!operation) throw unknownOperation(`${service.model.metadata.targetPrefix}.${opName}`);
  const handler = operationHandler(service, opName);
  const input = operation.input ? validateInput(service.model, operation.input.shape, raw, service.validationErrorCode, service.validationMessage) : {};
  await authorize(ctx, service, opName, input);
  const output = await handler(ctx, input);
  // An event stream (StartLiveTail) is written as it comes, not shaped.
  if (output instanceof EventStreamOutput) return output;
  return operation.output ? shapeOutput(service.model, operation.output.shape, output) : undefined;
}

/** `application/x-amz-json-1.0` or `-1.1`, as the model's jsonVersion says. */
export function jsonContentType(model: ServiceModel): string {
  return `application/x-amz-json-${model.metadata.jsonVersion ?? '1.1'}`;
}

/**
 * Services that moved from awsQuery to JSON or CBOR (`awsQueryCompatible`, CloudWatch) also name
 * the error by its awsQuery code, which clients show instead of the shape name.
 */
export function queryCompatibleErrorHeader(model: ServiceModel | undefined, error: AwsError): Record<string, string> {
  if (!model?.metadata.awsQueryCompatible) return {};
  const modeled = Object.hasOwn(model.shapes, error.code) ? model.shapes[error.code] : undefined;
  const code = modeled?.exception ? (modeled.error?.code ?? error.code) : (error.query?.code ?? error.code);
  const sender = modeled?.error?.senderFault !== false && error.status < 500;
  return { 'x-amzn-query-error': `${code};${sender ? 'Sender' : 'Receiver'}` };
}
