/**
 * AWS service models (botocore's service-2.json, imported by tools/import-models.py) drive
 * request validation and response shaping, so no shape is typed by hand:
 *   - validateInput: type checks (wrong JSON type, integers outside 32 bits, longs JavaScript
 *     cannot hold exactly → SerializationException), required members, null list items and map
 *     values, lengths, ranges, patterns and enums (→ the service's validation exception, with
 *     AWS's Coral-style message), timestamps to epoch seconds, blobs to Buffers; unknown members
 *     are dropped and nothing is looked up through an object's prototype.
 *   - shapeOutput: keeps only the members the output shape declares, timestamps as epoch
 *     seconds, blobs as base64.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import isSafeRegex from 'safe-regex2';
import { splitCountedRepetitions } from './counted-repetition.js';
import { AwsError, serializationError } from './errors.js';
import { RawJson } from './raw-json.js';

export interface ShapeRef {
  shape: string;
  /** awsQuery/XML: the element or parameter name, when it differs from the member name. */
  locationName?: string;
  xmlNamespace?: { uri: string; prefix?: string };
  /** awsQuery: a list/map member serialized without its wrapper (also settable on the shape). */
  flattened?: boolean;
}
export interface Shape {
  type: 'structure' | 'list' | 'map' | 'string' | 'integer' | 'long' | 'double' | 'float' | 'boolean' | 'timestamp' | 'blob';
  members?: Record<string, ShapeRef>;
  required?: string[];
  member?: ShapeRef;
  key?: ShapeRef;
  value?: ShapeRef;
  enum?: string[];
  min?: number;
  max?: number;
  /** A Java regular expression the whole string must match (Coral uses Matcher.matches). */
  pattern?: string;
  exception?: boolean;
  /** `code`: the awsQuery error code (e.g. IAM's NoSuchEntity for NoSuchEntityException). */
  error?: { code?: string; httpStatusCode?: number; senderFault?: boolean };
  flattened?: boolean;
  locationName?: string;
  xmlNamespace?: { uri: string; prefix?: string };
}
export interface Operation {
  name: string;
  input?: ShapeRef;
  /** awsQuery wraps the output in `<resultWrapper>` (e.g. CreateUserResult). */
  output?: ShapeRef & { resultWrapper?: string };
  errors?: ShapeRef[];
}
export interface ServiceModel {
  metadata: {
    targetPrefix?: string;
    signingName?: string;
    endpointPrefix: string;
    protocol: string;
    apiVersion: string;
    xmlNamespace?: string;
    jsonVersion?: string;
    /** Present on services that moved from awsQuery to JSON/CBOR and still name errors by their query codes (CloudWatch). */
    awsQueryCompatible?: object;
  };
  operations: Record<string, Operation>;
  shapes: Record<string, Shape>;
}

const modelsDir = fileURLToPath(new URL('../../models/', import.meta.url));

export function loadModel(service: string): ServiceModel {
  return JSON.parse(readFileSync(`${modelsDir}${service}.json`, 'utf8')) as ServiceModel;
}

/** The shape's own definition (never one inherited from Object.prototype, e.g. `constructor`). */
export function ownOperation(model: ServiceModel, name: string): Operation | undefined {
  return Object.hasOwn(model.operations, name) ? model.operations[name] : undefined;
}

// V8's linear-time regexp engine (the `l` flag) runs the model patterns that a backtracking
// engine could take exponential time on (nested quantifiers such as ECR's
// ScanningRepositoryFilterValue, `(?:[a-z*]?[a-z*]+)*`). It only changes what `l` means.
setFlagsFromString('--enable-experimental-regexp-engine');

/** Patterns the validator cannot run safely or cannot translate; they are not enforced. */
export const unenforcedPatterns = new Set<string>();

/**
 * A model pattern as a JavaScript RegExp matching the whole string, compiled once: the
 * backtracking engine for patterns without nested quantifiers (safe-regex2, as fastify checks
 * route patterns), the linear engine for the others, and undefined when neither can take it.
 */
/** Java's POSIX classes (ASCII), which JavaScript does not know: without the u flag `\p{Print}` would match the text "p{Print}". */
const JAVA_POSIX: Record<string, string> = {
  Print: '\\x20-\\x7E',
  Graph: '\\x21-\\x7E',
  Alnum: 'A-Za-z0-9',
  Alpha: 'A-Za-z',
  Digit: '0-9',
  Upper: 'A-Z',
  Lower: 'a-z',
  Punct: '!-\\/:-@\\[-`{-~',
  Space: ' \\t\\n\\x0B\\f\\r',
};

export function compilePattern(pattern: string): RegExp | undefined {
  const java = pattern.replace(/\\p\{(Print|Graph|Alnum|Alpha|Digit|Upper|Lower|Punct|Space)\}/g, (_m, name: string) => `[${JAVA_POSIX[name]}]`);
  const source = `^(?:${java})$`;
  // Java's \p{L} needs the u flag; Java-isms such as `\:` or `[0-9-:]` only compile without it
  // (but a `\p{…}` left over would then match literally, so such patterns need the u flag).
  // The linear engine refuses counts above 16; the same language with the counts split it takes.
  // Last, what the linear engine cannot run at all (lookarounds, backreferences, nested counts),
  // on the backtracking engine: such values are length-bounded first (checkLength), and the
  // front-door test times every model pattern on pumped inputs.
  const needsUnicode = /\\p\{/.test(java);
  const attempts: [string, string][] = (
    isSafeRegex(source) ? [[source, 'u'], [source, '']] : [[source, 'l'], [splitCountedRepetitions(source), 'l'], ...javaFlags(java)]
  ).filter(([, flags]) => !needsUnicode || (flags ?? '').includes('u')) as [string, string][];
  for (const [text, flags] of attempts) {
    try {
      return new RegExp(text, flags);
    } catch {
      // try the next form
    }
  }
  unenforcedPatterns.add(pattern);
  return undefined;
}

/** A Java pattern's leading inline flags (`(?i)`) as JavaScript flags, for the backtracking engine. */
function javaFlags(pattern: string): [string, string][] {
  const inline = /^\(\?([i]+)\)/.exec(pattern);
  const body = inline ? pattern.slice(inline[0].length) : pattern;
  const flags = inline ? inline[1]! : '';
  return [[`^(?:${body})$`, `u${flags}`], [`^(?:${body})$`, flags]];
}


/** One failed constraint: the offending value (as AWS prints it), where it is, and the constraint. */
export interface ValidationProblem {
  value: string;
  where: string;
  constraint: string;
}
type Validation = { code: string; problems: ValidationProblem[] };

/** AWS's Coral wording: "N validation error(s) detected: Value X at 'p' failed to satisfy constraint: …". */
export function coralValidationMessage(problems: ValidationProblem[]): string {
  const n = problems.length;
  return `${n} validation error${n > 1 ? 's' : ''} detected: ${problems.map((p) => `Value ${p.value} at '${p.where}' failed to satisfy constraint: ${p.constraint}`).join('; ')}`;
}

/**
 * Each shape is compiled once per model into a closure (member lists resolved, scalar members
 * marked), so the per-request walk does no model lookups or Object.entries of the model.
 */
type Checker = (value: unknown, path: string, v: Validation) => unknown;
type Shaper = (value: unknown) => unknown;

const compiledCheckers = new WeakMap<ServiceModel, Map<string, Checker>>();
const compiledShapers = new WeakMap<ServiceModel, Map<string, Shaper>>();

/** Compiles `shapeName` with `compile`, caching per model; recursive shapes resolve through a forwarder. */
function compiled<F extends (...args: never[]) => unknown>(
  caches: WeakMap<ServiceModel, Map<string, F>>,
  model: ServiceModel,
  shapeName: string,
  compile: (model: ServiceModel, shape: Shape, shapeName: string) => F,
): F {
  let cache = caches.get(model);
  if (!cache) caches.set(model, (cache = new Map()));
  const hit = cache.get(shapeName);
  if (hit) return hit;
  const shape = model.shapes[shapeName];
  if (!shape) throw new Error(`model has no shape ${shapeName}`);
  let fn: F | undefined;
  cache.set(shapeName, ((...args: Parameters<F>) => fn!(...args)) as F);
  fn = compile(model, shape, shapeName);
  cache.set(shapeName, fn);
  return fn;
}

/** Validates and normalises `input` against `shapeName`; throws AwsError on the first bad input. */
export function validateInput(
  model: ServiceModel,
  shapeName: string,
  input: unknown,
  validationCode: string,
  message: (problems: ValidationProblem[]) => string = coralValidationMessage,
): Record<string, unknown> {
  const v: Validation = { code: validationCode, problems: [] };
  const out = compiled(compiledCheckers, model, shapeName, compileChecker)(input ?? {}, '', v) as Record<string, unknown>;
  if (v.problems.length > 0) throw new AwsError(validationCode, message(v.problems));
  return out;
}

const MAX_TIMESTAMP_SECONDS = 8.64e12;

function describe(value: unknown): string {
  if (typeof value === 'string') return `'${value.length > 64 ? value.slice(0, 64) + '...' : value}'`;
  if (Buffer.isBuffer(value)) return 'java.nio.HeapByteBuffer';
  return Array.isArray(value) ? 'list' : typeof value === 'object' ? 'map' : String(value);
}

const isPlainObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function compileChecker(model: ServiceModel, shape: Shape): Checker {
  const checker = (name: string) => compiled(compiledCheckers, model, name, compileChecker);
  switch (shape.type) {
    case 'structure': {
      // awsQuery services (IAM, STS, ELBv2) name members lowerCamelCase in their messages ('roleSessionName').
      const shown = model.metadata.protocol === 'query' ? (name: string) => name.charAt(0).toLowerCase() + name.slice(1) : (name: string) => name;
      const members = Object.entries(shape.members ?? {}).map(([name, ref]) => ({ name, label: shown(name), check: checker(ref.shape) }));
      const required = (shape.required ?? []).map((name) => ({ name, label: shown(name) }));
      return (value, path, v) => {
        if (!isPlainObject(value)) throw serializationError(`Start of structure or map found where not expected at '${path || 'input'}'`);
        const out: Record<string, unknown> = {};
        for (const { name, label, check } of members) {
          const member = Object.hasOwn(value, name) ? value[name] : undefined;
          if (member === undefined || member === null) continue;
          out[name] = check(member, path ? `${path}.${label}` : label, v);
        }
        for (const { name, label } of required) {
          if (out[name] === undefined) {
            v.problems.push({ value: 'null', where: path ? `${path}.${label}` : label, constraint: `Member must not be null` });
          }
        }
        return out;
      };
    }
    case 'list': {
      const item = checker(shape.member!.shape);
      return (value, path, v) => {
        const where = path || 'input';
        if (!Array.isArray(value)) throw serializationError(`Expected list at '${where}'`);
        checkLength(shape, value.length, value, where, v);
        return value.map((x, i) => {
          const at = `${where}.${i + 1}.member`;
          if (x !== null) return item(x, at, v);
          v.problems.push({ value: 'null', where: at, constraint: 'Member must not be null' });
          return null;
        });
      };
    }
    case 'map': {
      const key = checker(shape.key!.shape);
      const item = checker(shape.value!.shape);
      return (value, path, v) => {
        const where = path || 'input';
        if (!isPlainObject(value)) throw serializationError(`Expected map at '${where}'`);
        const entries = Object.entries(value);
        checkLength(shape, entries.length, value, where, v);
        // fromEntries defines own properties: a `__proto__` key stays a key, not a prototype.
        return Object.fromEntries(
          entries.map(([k, x]) => {
            key(k, `${where}.key`, v);
            if (x !== null) return [k, item(x, `${where}.${k}`, v)];
            v.problems.push({ value: 'null', where: `${where}.${k}`, constraint: 'Member must not be null' });
            return [k, null];
          }),
        );
      };
    }
    case 'string': {
      const allowed = shape.enum && new Set(shape.enum);
      const pattern = shape.pattern === undefined ? undefined : compilePattern(shape.pattern);
      return (value, path, v) => {
        const where = path || 'input';
        if (typeof value !== 'string') throw serializationError(`STRING_VALUE can not be converted to ${describe(value)} at '${where}'`);
        checkLength(shape, value.length, value, where, v);
        if (allowed && !allowed.has(value)) {
          v.problems.push({ value: describe(value), where, constraint: `Member must satisfy enum value set: [${shape.enum!.join(', ')}]` });
        }
        // An over-long value already failed; it is not also run through the pattern (bounded work).
        if (pattern && (shape.max === undefined || value.length <= shape.max) && !pattern.test(value)) {
          v.problems.push({ value: describe(value), where, constraint: `Member must satisfy regular expression pattern: ${shape.pattern}` });
        }
        return value;
      };
    }
    case 'integer':
    case 'long': {
      // Java's int is 32 bits; a long beyond 2^53 would silently lose digits in a JavaScript number.
      const [min, max, kind] = shape.type === 'integer' ? [-(2 ** 31), 2 ** 31 - 1, 'an Integer'] : [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 'a Long'];
      return (value, path, v) => {
        const where = path || 'input';
        if (typeof value !== 'number' || !Number.isInteger(value)) throw serializationError(`NUMBER_VALUE can not be converted to ${kind} at '${where}'`);
        if (value < min || value > max) throw serializationError(`Numeric value (${value}) out of range of ${kind} at '${where}'`);
        checkRange(shape, value, where, v);
        return value;
      };
    }
    case 'double':
    case 'float':
      return (value, path, v) => {
        const where = path || 'input';
        // JSON numbers such as 1e400 parse to Infinity.
        if (typeof value !== 'number' || !Number.isFinite(value)) throw serializationError(`NUMBER_VALUE can not be converted to a Double at '${where}'`);
        checkRange(shape, value, where, v);
        return value;
      };
    case 'boolean':
      return (value, path) => {
        if (typeof value !== 'boolean') throw serializationError(`Expected boolean at '${path || 'input'}'`);
        return value;
      };
    case 'timestamp':
      return (value, path) => {
        const seconds = typeof value === 'number' ? value : typeof value === 'string' ? Date.parse(value) / 1000 : NaN;
        // Only instants a Date can hold (±8.64e12 s), so that later formatting cannot throw.
        if (Number.isFinite(seconds) && Math.abs(seconds) <= MAX_TIMESTAMP_SECONDS) return seconds;
        throw serializationError(`Expected timestamp at '${path || 'input'}'`);
      };
    case 'blob':
      return (value, path, v) => {
        const where = path || 'input';
        if (typeof value !== 'string') throw serializationError(`Expected base64 blob at '${where}'`);
        const bytes = Buffer.from(value, 'base64');
        checkLength(shape, bytes.length, bytes, where, v);
        return bytes;
      };
    default:
      return (value) => value;
  }
}

function checkLength(shape: Shape, length: number, value: unknown, where: string, v: Validation) {
  if (shape.min !== undefined && length < shape.min) {
    v.problems.push({ value: describe(value), where, constraint: `Member must have length greater than or equal to ${shape.min}` });
  }
  if (shape.max !== undefined && length > shape.max) {
    v.problems.push({ value: describe(value), where, constraint: `Member must have length less than or equal to ${shape.max}` });
  }
}

function checkRange(shape: Shape, value: number, where: string, v: Validation) {
  if (shape.min !== undefined && value < shape.min) {
    v.problems.push({ value: `'${value}'`, where, constraint: `Member must have value greater than or equal to ${shape.min}` });
  }
  if (shape.max !== undefined && value > shape.max) {
    v.problems.push({ value: `'${value}'`, where, constraint: `Member must have value less than or equal to ${shape.max}` });
  }
}

/** Shapes a domain value into the wire form of `shapeName` (see the file comment). */
export function shapeOutput(model: ServiceModel, shapeName: string, value: unknown): unknown {
  return compiled(compiledShapers, model, shapeName, compileShaper)(value);
}

/** Shapes whose wire form is the domain value itself. */
const PASS_THROUGH = new Set<Shape['type']>(['string', 'integer', 'long', 'double', 'float', 'boolean']);

function compileShaper(model: ServiceModel, shape: Shape): Shaper {
  const shaper = (name: string) => compiled(compiledShapers, model, name, compileShaper);
  const passThrough = (name: string) => PASS_THROUGH.has(model.shapes[name]!.type);
  switch (shape.type) {
    case 'structure': {
      // Scalar members are copied as they are; only nested shapes go through a shaper.
      const members = Object.entries(shape.members ?? {}).map(([name, ref]) => ({ name, shape: passThrough(ref.shape) ? undefined : shaper(ref.shape) }));
      return (value) => {
        if (value === undefined || value === null || typeof value !== 'object') return undefined;
        const obj = value as Record<string, unknown>;
        const out: Record<string, unknown> = {};
        for (const { name, shape } of members) {
          const member = obj[name];
          if (member === undefined || member === null) continue;
          // RawJson is already in wire form (see raw-json.ts).
          const shaped = shape && !(member instanceof RawJson) ? shape(member) : member;
          if (shaped !== undefined) out[name] = shaped;
        }
        return out;
      };
    }
    case 'list': {
      const item = shaper(shape.member!.shape);
      return (value) => (Array.isArray(value) ? value.map((x) => item(x) ?? null) : undefined);
    }
    case 'map': {
      const item = shaper(shape.value!.shape);
      return (value) => {
        if (value === undefined || value === null) return undefined;
        return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, x]) => [k, item(x)]));
      };
    }
    case 'timestamp':
      return (value) => {
        if (value === undefined || value === null) return undefined;
        if (value instanceof Date) return value.getTime() / 1000;
        if (typeof value === 'string') return Date.parse(value) / 1000;
        return value;
      };
    case 'blob':
      return (value) => (value === undefined || value === null ? undefined : Buffer.isBuffer(value) ? value.toString('base64') : value);
    default:
      return (value) => (value === null ? undefined : value);
  }
}
