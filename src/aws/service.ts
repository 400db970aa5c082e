/**
 * What a service module gives the front door: its model, how requests reach it, and one
 * handler per implemented operation. Handlers are thin: they call domain functions and
 * return plain objects that the pipeline shapes with the model's output shape.
 */
import type { Caller } from '../iam/principal.js';
import { AwsError, internalFailure, notImplemented } from './errors.js';
import type { ServiceModel, ValidationProblem } from './model.js';
import type { RawJson } from './raw-json.js';

export interface RequestContext {
  readonly requestId: string;
  /** Region from the SigV4 credential scope, else the server's default region. */
  readonly region: string;
  readonly accountId: string;
  readonly accessKeyId: string | undefined;
  /** Who signed the request (resolved once by the front door; handlers never parse credentials). */
  readonly caller: Caller;
  /** The client's address (aws:SourceIp) and whether it came over TLS (aws:SecureTransport). */
  readonly sourceIp?: string;
  readonly secureTransport?: boolean;
}

/**
 * Asked before every handler runs, with the validated input: throws the service's
 * AccessDeniedException when the caller may not perform `operation` (IAM policy evaluation).
 */
export type OperationAuthorizer = (ctx: RequestContext, service: ServiceModule, operation: string, input: unknown) => Promise<void>;

export type WireProtocol = ServiceModule['protocol'] | 'rpcv2Cbor';

/** Whether `service` answers requests in `protocol`. */
export function serves(service: ServiceModule, protocol: WireProtocol): boolean {
  return service.protocol === protocol || (service.alsoServes?.includes(protocol) ?? false);
}

/** One operation's handler: the model-validated input in, the output (before shaping) out. */
export type OperationHandler<Input = any, Output = unknown> = (ctx: RequestContext, input: Input) => Promise<Output> | Output;

/**
 * Handlers for some of a service's operations, typed by the `Operations` generated from its
 * model (src/aws/generated/<service>.ts, tools/gen-handler-types.ts).
 */
export type OperationHandlers<Ops> = {
  [K in keyof Ops]?: Ops[K] extends { input: infer I; output: infer O } ? OperationHandler<I, HandlerOutput<O>> : never;
};

/**
 * An output as a handler may return it: any top-level member may come already serialized
 * (RawJson), and enums are plain strings (the output is shaped, not validated).
 */
export type HandlerOutput<O> = O extends object ? { [K in keyof O]: Widened<O[K]> | RawJson } : O;
type Widened<T> = T extends string
  ? string
  : T extends Date | Buffer
    ? T
    : T extends readonly (infer U)[]
      ? Widened<U>[]
      : T extends object
        ? { [K in keyof T]: Widened<T[K]> }
        : T;

export interface ServiceModule {
  /** Signing name, also used in logs and /health. */
  readonly name: string;
  readonly model: ServiceModel;
  readonly protocol: 'awsJson1_1' | 'awsJson1_0' | 'awsQuery';
  /** Protocols the service answers besides `protocol` (CloudWatch: awsQuery and Smithy RPC v2 CBOR beside JSON 1.0). */
  readonly alsoServes?: readonly WireProtocol[];
  /** Exception name used for model validation failures (missing members, lengths, enums). */
  readonly validationErrorCode: string;
  /** How the service words validation failures (default: AWS's Coral "N validation errors detected: …"). */
  readonly validationMessage?: (problems: ValidationProblem[]) => string;
  readonly operations: Readonly<Record<string, OperationHandler>>;
}

/**
 * Wraps every handler so that domain errors (pagination tokens, optimistic-write conflicts, ...)
 * reach the caller as the service's own AWS errors: `translate` returns the AWS error for a
 * domain error, or undefined to let it through unchanged.
 */
export function translatingErrors(
  operations: Readonly<Record<string, OperationHandler>>,
  translate: (error: unknown) => Error | undefined,
): Record<string, OperationHandler> {
  return Object.fromEntries(
    Object.entries(operations).map(([name, fn]) => [
      name,
      async (ctx: RequestContext, input: unknown) => {
        try {
          return await fn(ctx, input);
        } catch (e) {
          throw translate(e) ?? e;
        }
      },
    ]),
  );
}

/** The handler a service implements for a modeled operation (own properties only), else NotImplementedException. */
export function operationHandler(service: ServiceModule, operation: string): OperationHandler {
  const handler = Object.hasOwn(service.operations, operation) ? service.operations[operation] : undefined;
  if (!handler) throw notImplemented(service.name, operation);
  return handler;
}

/**
 * What a protocol answers for a failure: AWS errors as they are; anything else is logged and
 * becomes InternalFailure, so its details (which could carry secrets) never reach the caller.
 */
export function awsErrorOf(err: unknown, log: { error(obj: object, msg: string): void }, requestId: string): AwsError {
  if (err instanceof AwsError) return err;
  log.error({ err, requestId }, 'unhandled error');
  return internalFailure();
}
