/**
 * awsJson1_1 over HTTP: POST / with `X-Amz-Target: <targetPrefix>.<Operation>` and a JSON body.
 * The pipeline is fixed: route → deserialize → validate → invoke → serialize. Errors are
 * `{"__type": "<Shape>", "message": ...}` with `x-amzn-ErrorType`; unknown failures become
 * InternalFailure without their details (which could carry secrets) reaching the caller.
 */
import { Readable } from 'node:stream';
import { serializationError, unknownOperation } from './errors.js';
import { encodeEvents, EVENT_STREAM_CONTENT_TYPE, EventStreamOutput } from './event-stream.js';
import { ownOperation, shapeOutput, validateInput } from './model.js';
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
    try {
      const result = await this.dispatch(target, body, ctx);
      if (result instanceof EventStreamOutput) {
        return { status: 200, headers: { ...this.headers(ctx), 'content-type': EVENT_STREAM_CONTENT_TYPE }, body: Readable.from(encodeEvents(result.events)) };
      }
      return { status: 200, headers: this.headers(ctx), body: stringifyOutput(result) };
    } catch (err) {
      return this.errorResponse(err, ctx);
    }
  }

  errorResponse(err: unknown, ctx: RequestContext): JsonResponse {
    const error = awsErrorOf(err, this.log, ctx.requestId);
    const headers = { ...this.headers(ctx), 'x-amzn-ErrorType': error.code };
    return { status: error.status, headers, body: JSON.stringify({ ...error.fields, __type: error.code, message: error.message }) };
  }

  private headers(ctx: RequestContext): Record<string, string> {
    return { 'content-type': JSON_CONTENT_TYPE, 'x-amzn-RequestId': ctx.requestId };
  }

  private async dispatch(target: string, body: Buffer | string | undefined, ctx: RequestContext): Promise<unknown> {
    const dot = target.lastIndexOf('.');
    const service = this.byPrefix.get(target.slice(0, dot));
    const opName = target.slice(dot + 1);
    // Own properties only: `constructor`, `__proto__` or `toString` name no operation.
    const operation = service && ownOperation(service.model, opName);
    if (!service || !operation) throw unknownOperation(target);
    const handler = operationHandler(service, opName);

    let raw: unknown = {};
    const text = body === undefined ? '' : body.toString();
    if (text.trim() !== '') {
      try {
        raw = JSON.parse(text);
      } catch {
        throw serializationError('Request body is not valid JSON');
      }
    }
    const input = operation.input ? validateInput(service.model, operation.input.shape, raw, service.validationErrorCode, service.validationMessage) : {};
    await this.authorize(ctx, service, opName, input);
    const output = await handler(ctx, input);
    if (output instanceof EventStreamOutput) return output;
    return operation.output ? shapeOutput(service.model, operation.output.shape, output) : {};
  }
}
