/**
 * AWS service models (botocore's service-2.json, imported by tools/import-models.py) drive
 * request validation and response shaping, so no shape is typed by hand:
 *   - validateInput: type checks (wrong JSON type → SerializationException), required members,
 *     lengths, ranges and enums (→ the service's validation exception, with AWS's Coral-style
 *     message), timestamps to epoch seconds, blobs to Buffers; unknown members are dropped.
 *   - shapeOutput: keeps only the members the output shape declares, timestamps as epoch
 *     seconds, blobs as base64.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { AwsError, serializationError } from './errors.js';

export interface ShapeRef {
  shape: string;
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
  exception?: boolean;
  error?: { httpStatusCode?: number; senderFault?: boolean };
}
export interface Operation {
  name: string;
  input?: ShapeRef;
  output?: ShapeRef;
  errors?: ShapeRef[];
}
export interface ServiceModel {
  metadata: { targetPrefix?: string; signingName?: string; endpointPrefix: string; protocol: string; apiVersion: string };
  operations: Record<string, Operation>;
  shapes: Record<string, Shape>;
}

const modelsDir = fileURLToPath(new URL('../../models/', import.meta.url));

export function loadModel(service: string): ServiceModel {
  return JSON.parse(readFileSync(`${modelsDir}${service}.json`, 'utf8')) as ServiceModel;
}

type Validation = { code: string; problems: string[] };

/** Validates and normalises `input` against `shapeName`; throws AwsError on the first bad input. */
export function validateInput(model: ServiceModel, shapeName: string, input: unknown, validationCode: string): Record<string, unknown> {
  const v: Validation = { code: validationCode, problems: [] };
  const out = checkValue(model, shapeName, input ?? {}, '', v) as Record<string, unknown>;
  if (v.problems.length > 0) {
    const n = v.problems.length;
    throw new AwsError(validationCode, `${n} validation error${n > 1 ? 's' : ''} detected: ${v.problems.join('; ')}`);
  }
  return out;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `'${value.length > 64 ? value.slice(0, 64) + '...' : value}'`;
  return Array.isArray(value) ? 'list' : typeof value === 'object' ? 'map' : String(value);
}

function checkValue(model: ServiceModel, shapeName: string, value: unknown, path: string, v: Validation): unknown {
  const shape = model.shapes[shapeName];
  if (!shape) throw new Error(`model has no shape ${shapeName}`);
  const where = path || 'input';
  switch (shape.type) {
    case 'structure': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        throw serializationError(`Start of structure or map found where not expected at '${where}'`);
      }
      const obj = value as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const [name, ref] of Object.entries(shape.members ?? {})) {
        const member = obj[name];
        if (member === undefined || member === null) continue;
        out[name] = checkValue(model, ref.shape, member, path ? `${path}.${name}` : name, v);
      }
      for (const name of shape.required ?? []) {
        if (out[name] === undefined) {
          v.problems.push(`Value null at '${path ? `${path}.${name}` : name}' failed to satisfy constraint: Member must not be null`);
        }
      }
      return out;
    }
    case 'list': {
      if (!Array.isArray(value)) throw serializationError(`Expected list at '${where}'`);
      checkLength(shape, value.length, value, where, v);
      return value.map((item, i) =>
        item === null ? null : checkValue(model, shape.member!.shape, item, `${where}.${i + 1}.member`, v),
      );
    }
    case 'map': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw serializationError(`Expected map at '${where}'`);
      const out: Record<string, unknown> = {};
      const entries = Object.entries(value as Record<string, unknown>);
      checkLength(shape, entries.length, value, where, v);
      for (const [k, item] of entries) {
        checkValue(model, shape.key!.shape, k, `${where}.key`, v);
        out[k] = item === null ? null : checkValue(model, shape.value!.shape, item, `${where}.${k}`, v);
      }
      return out;
    }
    case 'string': {
      if (typeof value !== 'string') throw serializationError(`STRING_VALUE can not be converted to ${describe(value)} at '${where}'`);
      checkLength(shape, value.length, value, where, v);
      if (shape.enum && !shape.enum.includes(value)) {
        v.problems.push(`Value '${value}' at '${where}' failed to satisfy constraint: Member must satisfy enum value set: [${shape.enum.join(', ')}]`);
      }
      return value;
    }
    case 'integer':
    case 'long':
      if (typeof value !== 'number' || !Number.isInteger(value)) throw serializationError(`NUMBER_VALUE can not be converted to an Integer at '${where}'`);
      checkRange(shape, value, where, v);
      return value;
    case 'double':
    case 'float':
      if (typeof value !== 'number') throw serializationError(`NUMBER_VALUE can not be converted to a Double at '${where}'`);
      checkRange(shape, value, where, v);
      return value;
    case 'boolean':
      if (typeof value !== 'boolean') throw serializationError(`Expected boolean at '${where}'`);
      return value;
    case 'timestamp': {
      if (typeof value === 'number') return value;
      if (typeof value === 'string' && !Number.isNaN(Date.parse(value))) return Date.parse(value) / 1000;
      throw serializationError(`Expected timestamp at '${where}'`);
    }
    case 'blob':
      if (typeof value !== 'string') throw serializationError(`Expected base64 blob at '${where}'`);
      return Buffer.from(value, 'base64');
    default:
      return value;
  }
}

function checkLength(shape: Shape, length: number, value: unknown, where: string, v: Validation) {
  if (shape.min !== undefined && length < shape.min) {
    v.problems.push(`Value ${describe(value)} at '${where}' failed to satisfy constraint: Member must have length greater than or equal to ${shape.min}`);
  }
  if (shape.max !== undefined && length > shape.max) {
    v.problems.push(`Value ${describe(value)} at '${where}' failed to satisfy constraint: Member must have length less than or equal to ${shape.max}`);
  }
}

function checkRange(shape: Shape, value: number, where: string, v: Validation) {
  if (shape.min !== undefined && value < shape.min) {
    v.problems.push(`Value '${value}' at '${where}' failed to satisfy constraint: Member must have value greater than or equal to ${shape.min}`);
  }
  if (shape.max !== undefined && value > shape.max) {
    v.problems.push(`Value '${value}' at '${where}' failed to satisfy constraint: Member must have value less than or equal to ${shape.max}`);
  }
}

/** Shapes a domain value into the wire form of `shapeName` (see the file comment). */
export function shapeOutput(model: ServiceModel, shapeName: string, value: unknown): unknown {
  if (value === undefined || value === null) return undefined;
  const shape = model.shapes[shapeName]!;
  switch (shape.type) {
    case 'structure': {
      if (typeof value !== 'object') return undefined;
      const obj = value as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const [name, ref] of Object.entries(shape.members!)) {
        const member = obj[name];
        if (member === undefined || member === null) continue;
        const shaped = shapeOutput(model, ref.shape, member);
        if (shaped !== undefined) out[name] = shaped;
      }
      return out;
    }
    case 'list':
      return Array.isArray(value) ? value.map((item) => shapeOutput(model, shape.member!.shape, item) ?? null) : undefined;
    case 'map': {
      const out: Record<string, unknown> = {};
      for (const [k, item] of Object.entries(value as Record<string, unknown>)) out[k] = shapeOutput(model, shape.value!.shape, item);
      return out;
    }
    case 'timestamp':
      if (value instanceof Date) return value.getTime() / 1000;
      if (typeof value === 'string') return Date.parse(value) / 1000;
      return value;
    case 'blob':
      return Buffer.isBuffer(value) ? value.toString('base64') : value;
    default:
      return value;
  }
}
