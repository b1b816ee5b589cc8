/**
 * Client-side validation and defaults. Every write is checked here before anything is sent;
 * the same rules are compiled into Lua for values computed on the server (see lua/lib/check.lua).
 */
import { ValidationError } from '../errors.js';
import type { FieldSpec, ObjectSpec } from './spec.js';

/** Integers beyond this lose precision as doubles, on the client and in Lua alike. */
export const MAX_SAFE = Number.MAX_SAFE_INTEGER;

const join = (path: string, part: string | number): string => (path ? `${path}.${part}` : String(part));

function invalid(path: string, rule: string, message: string): never {
  throw new ValidationError(`${path || 'value'}: ${message}`, path, rule);
}

/**
 * Text must be well-formed UTF-16: a lone surrogate has no UTF-8 form and would be stored as
 * U+FFFD, so two distinct ids, values or dict keys would silently become one.
 */
const LONE_SURROGATE = /\p{Cs}/u; // with the u flag a valid pair is one code point, never Cs

export function checkText(s: string, path: string): string {
  if (LONE_SURROGATE.test(s)) invalid(path, 'wellFormed', 'contains a lone UTF-16 surrogate (not valid Unicode text)');
  return s;
}

/** Redis refuses a bulk string past 512 MiB (proto-max-bulk-len). */
export const REDIS_MAX_BYTES = 512 * 1024 * 1024;
/** What one stored value may hold unless the model sets `maxValueBytes`. */
export const DEFAULT_MAX_VALUE_BYTES = 64 * 1024 * 1024;

/**
 * Refuses a value to send that holds more than `cap` bytes (a model's maxValueBytes), before
 * anything is sent: Redis would refuse it past 512 MiB only after receiving it, and below that it
 * would store it. Strings are measured only when long (UTF-8 takes at most 3 bytes per UTF-16 unit).
 */
export function checkBytes(raw: string | Uint8Array | null, path: string, cap = DEFAULT_MAX_VALUE_BYTES): void {
  if (raw === null) return;
  if (typeof raw === 'string' ? raw.length * 3 <= cap : raw.length <= cap) return;
  const n = typeof raw === 'string' ? Buffer.byteLength(raw) : raw.length;
  if (n > cap) invalid(path, 'maxValueBytes', `the value holds ${n} bytes > maxValueBytes ${cap}`);
}

/** Sets an own property, even `__proto__`, without touching the object's prototype. */
export function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  // a plain assignment makes an own property of every other key, and costs far less than defineProperty
  if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

function checkNumber(spec: FieldSpec & { kind: 'integer' | 'number' }, v: unknown, path: string): void {
  if (typeof v !== 'number' || !Number.isFinite(v)) invalid(path, 'type', `expected a finite number, got ${describe(v)}`);
  if (spec.kind === 'integer' && !Number.isInteger(v)) invalid(path, 'integer', `expected an integer, got ${v}`);
  if (spec.kind === 'integer' && Math.abs(v) > MAX_SAFE) invalid(path, 'safeInteger', `${v} is beyond 2^53`);
  if (spec.minimum !== undefined && v < spec.minimum) invalid(path, 'minimum', `${v} < minimum ${spec.minimum}`);
  if (spec.maximum !== undefined && v > spec.maximum) invalid(path, 'maximum', `${v} > maximum ${spec.maximum}`);
  if (spec.exclusiveMinimum !== undefined && v <= spec.exclusiveMinimum) invalid(path, 'exclusiveMinimum', `${v} <= exclusiveMinimum ${spec.exclusiveMinimum}`);
  if (spec.exclusiveMaximum !== undefined && v >= spec.exclusiveMaximum) invalid(path, 'exclusiveMaximum', `${v} >= exclusiveMaximum ${spec.exclusiveMaximum}`);
  if (spec.multipleOf !== undefined && !isMultiple(v, spec.multipleOf)) invalid(path, 'multipleOf', `${v} is not a multiple of ${spec.multipleOf}`);
}

/** Same tolerance as check.lua, so client and server agree on decimals such as 0.3 / 0.1. */
export function isMultiple(v: number, m: number): boolean {
  const q = v / m;
  return Math.abs(q - Math.round(q)) < 1e-9;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v instanceof Date) return 'a Date';
  if (v instanceof Uint8Array) return 'bytes';
  return Array.isArray(v) ? 'an array' : typeof v;
}

/** Checks one value against its spec; throws `ValidationError` naming the path and rule. */
export function validate(spec: FieldSpec, v: unknown, path: string = spec.path): void {
  if (v === undefined) {
    if (spec.optional) return;
    invalid(path, 'required', 'is required');
  }
  if (v === null) {
    if (spec.nullable || spec.kind === 'json') return;
    invalid(path, 'type', 'may not be null');
  }
  switch (spec.kind) {
    case 'integer':
    case 'number':
      return checkNumber(spec, v, path);
    case 'string': {
      if (typeof v !== 'string') invalid(path, 'type', `expected a string, got ${describe(v)}`);
      checkText(v, path);
      const n = [...v].length;
      if (spec.minLength !== undefined && n < spec.minLength) invalid(path, 'minLength', `length ${n} < minLength ${spec.minLength}`);
      if (spec.maxLength !== undefined && n > spec.maxLength) invalid(path, 'maxLength', `length ${n} > maxLength ${spec.maxLength}`);
      if (spec.pattern && !spec.pattern.test(v)) invalid(path, 'pattern', `does not match ${spec.pattern}`);
      return;
    }
    case 'boolean':
      if (typeof v !== 'boolean') invalid(path, 'type', `expected a boolean, got ${describe(v)}`);
      return;
    case 'enum':
      if (!spec.values.includes(v as string | number)) invalid(path, 'enum', `${JSON.stringify(v)} is not one of ${JSON.stringify(spec.values)}`);
      return;
    case 'bytes': {
      if (!(v instanceof Uint8Array)) invalid(path, 'type', `expected a Uint8Array, got ${describe(v)}`);
      if (spec.minLength !== undefined && v.length < spec.minLength) invalid(path, 'minLength', `length ${v.length} < minLength ${spec.minLength}`);
      if (spec.maxLength !== undefined && v.length > spec.maxLength) invalid(path, 'maxLength', `length ${v.length} > maxLength ${spec.maxLength}`);
      return;
    }
    case 'datetime': {
      if (!(v instanceof Date) || Number.isNaN(v.getTime())) invalid(path, 'type', `expected a valid Date, got ${describe(v)}`);
      const ms = v.getTime();
      if (spec.minimum !== undefined && ms < spec.minimum) invalid(path, 'minimum', `${v.toISOString()} is before the minimum`);
      if (spec.maximum !== undefined && ms > spec.maximum) invalid(path, 'maximum', `${v.toISOString()} is after the maximum`);
      return;
    }
    case 'array': {
      if (!Array.isArray(v)) invalid(path, 'type', `expected an array, got ${describe(v)}`);
      if (spec.minItems !== undefined && v.length < spec.minItems) invalid(path, 'minItems', `${v.length} items < minItems ${spec.minItems}`);
      if (spec.maxItems !== undefined && v.length > spec.maxItems) invalid(path, 'maxItems', `${v.length} items > maxItems ${spec.maxItems}`);
      // a hole is not undefined to forEach: it would be skipped here and stored as nothing
      for (let i = 0; i < v.length; i++) {
        if (!Object.hasOwn(v, i)) invalid(join(path, i), 'sparse', 'is a hole in a sparse array');
        validate(spec.items, v[i], join(path, i));
      }
      return;
    }
    case 'record': {
      if (!isPlainObject(v)) invalid(path, 'type', `expected an object, got ${describe(v)}`);
      for (const [k, item] of Object.entries(v)) {
        checkText(k, join(path, k));
        validate(spec.values, item, join(path, k));
      }
      return;
    }
    case 'object':
      return validateObject(spec, v, path);
    case 'json':
      return validateJson(v, path);
  }
}

/** A JSON value that reads back equal: null, booleans, finite numbers, strings, arrays and plain objects. */
function validateJson(v: unknown, path: string): void {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) invalid(path, 'type', `${v} is not a JSON number`);
    return;
  }
  if (Array.isArray(v)) {
    v.forEach((item, i) => {
      if (item === undefined) invalid(join(path, i), 'type', 'undefined is not a JSON value');
      validateJson(item, join(path, i));
    });
    return;
  }
  const proto = typeof v === 'object' ? Object.getPrototypeOf(v) : undefined;
  if (proto !== Object.prototype && proto !== null) invalid(path, 'type', `expected a JSON value, got ${describe(v)}`);
  for (const [k, item] of Object.entries(v as object)) {
    if (item !== undefined) validateJson(item, join(path, k));
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date) && !(v instanceof Uint8Array);
}

function validateObject(spec: ObjectSpec, v: unknown, path: string): void {
  if (!isPlainObject(v)) invalid(path, 'type', `expected an object, got ${describe(v)}`);
  for (const key of Object.keys(v)) {
    if (!(key in spec.fields) && v[key] !== undefined) invalid(join(path, key), 'additionalProperties', 'is not a field of the schema');
  }
  for (const name of spec.order) validate(spec.fields[name], v[name], join(path, name));
}

function defaultOf(spec: FieldSpec): unknown {
  const d = spec.default;
  if (typeof d === 'function') return (d as () => unknown)();
  return structuredClone(d);
}

/** A copy of `data` with defaults filled in, recursively (nested objects and object elements). */
export function withDefaults(spec: FieldSpec, data: unknown): unknown {
  if (data === undefined && spec.hasDefault) data = defaultOf(spec);
  if (data === undefined || data === null) return data;
  switch (spec.kind) {
    case 'object': {
      if (!isPlainObject(data)) return data;
      const out: Record<string, unknown> = { ...data };
      for (const name of spec.order) {
        const value = withDefaults(spec.fields[name], data[name]);
        if (value !== undefined) out[name] = value;
      }
      return out;
    }
    case 'array':
      return Array.isArray(data) ? data.map((item) => withDefaults(spec.items, item)) : data;
    case 'record': {
      if (!isPlainObject(data)) return data;
      const out: Record<string, unknown> = {};
      for (const [k, item] of Object.entries(data)) setOwn(out, k, withDefaults(spec.values, item));
      return out;
    }
    default:
      return data;
  }
}
