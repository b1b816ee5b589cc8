/**
 * Values <-> Redis strings. Scalars are stored as readable text (numbers in shortest round-trip
 * form, booleans as `true`/`false`, dates as epoch milliseconds, bytes raw); objects inside arrays
 * and records are JSON in schema order, with dates as milliseconds and bytes as base64.
 */
import { ValidationError } from '../errors.js';
import type { FieldSpec, ObjectSpec, ScalarSpec } from './spec.js';
import { setOwn } from './validate.js';

export type Raw = string | Buffer;

const text = (raw: Raw): string => (typeof raw === 'string' ? raw : raw.toString('utf8'));

export function encodeScalar(spec: ScalarSpec, value: unknown): Raw {
  switch (spec.kind) {
    case 'integer':
    case 'number':
      // String(-0) is '0'; keep the sign so the value round-trips exactly
      return Object.is(value, -0) ? '-0' : String(value);
    case 'enum':
      return String(value);
    case 'string':
      return value as string;
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bytes':
      return Buffer.from(value as Uint8Array);
    case 'datetime':
      return String((value as Date).getTime());
    case 'json':
      return canonicalJson(value);
  }
}

/** A stored value the schema cannot read (written under another schema, or by hand). */
function undecodable(spec: ScalarSpec, raw: Raw): never {
  const shown = text(raw).slice(0, 40);
  throw new ValidationError(`stored value ${JSON.stringify(shown)} is not a valid ${spec.kind}`, spec.path, 'decode');
}

/**
 * JSON with object keys sorted, so that equal values have equal text: equality conditions and
 * array `remove`/`contains` compare stored JSON by text.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (!v || typeof v !== 'object' || Array.isArray(v)) return v;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = (v as Record<string, unknown>)[k];
    return out;
  });
}

export function decodeScalar(spec: ScalarSpec, raw: Raw): unknown {
  switch (spec.kind) {
    case 'integer':
    case 'number': {
      const s = text(raw);
      const n = Number(s);
      if (s.trim() === '' || Number.isNaN(n)) undecodable(spec, raw);
      return n;
    }
    case 'string':
      return text(raw);
    case 'boolean': {
      const s = text(raw);
      if (s !== 'true' && s !== 'false') undecodable(spec, raw);
      return s === 'true';
    }
    case 'enum': {
      const s = text(raw);
      const found = spec.values.find((v) => String(v) === s);
      if (found === undefined) undecodable(spec, raw);
      return found;
    }
    case 'bytes':
      return typeof raw === 'string' ? new Uint8Array(Buffer.from(raw, 'utf8')) : new Uint8Array(raw);
    case 'datetime': {
      const s = text(raw);
      const d = new Date(Number(s));
      if (s.trim() === '' || Number.isNaN(d.getTime())) undecodable(spec, raw);
      return d;
    }
    case 'json':
      return JSON.parse(text(raw));
  }
}

/** The JSON form of a value inside an object element (dates as ms, bytes as base64). */
export function toJson(spec: FieldSpec, value: unknown): unknown {
  if (value === null || value === undefined) return value;
  switch (spec.kind) {
    case 'bytes': return Buffer.from(value as Uint8Array).toString('base64');
    case 'datetime': return (value as Date).getTime();
    case 'array': return (value as unknown[]).map((v) => toJson(spec.items, v));
    case 'record': {
      // keys sorted: equal records have equal text, so conditions compare stored elements by text
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(value as object).sort()) setOwn(out, k, toJson(spec.values, (value as Record<string, unknown>)[k]));
      return out;
    }
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const name of spec.order) {
        const v = (value as Record<string, unknown>)[name];
        if (v !== undefined) out[name] = toJson(spec.fields[name], v);
      }
      return out;
    }
    default: return value;
  }
}

export function fromJson(spec: FieldSpec, json: unknown): unknown {
  if (json === null || json === undefined) return json;
  switch (spec.kind) {
    case 'bytes': return new Uint8Array(Buffer.from(json as string, 'base64'));
    case 'datetime': return new Date(json as number);
    case 'array': return (json as unknown[]).map((v) => fromJson(spec.items, v));
    case 'record': {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(json as object)) setOwn(out, k, fromJson(spec.values, v));
      return out;
    }
    case 'object': return objectFromJson(spec, json as Record<string, unknown>);
    default: return json;
  }
}

function objectFromJson(spec: ObjectSpec, json: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of spec.order) {
    if (json[name] !== undefined) out[name] = fromJson(spec.fields[name], json[name]);
  }
  return out;
}

/** Elements stored as JSON text: objects, and arrays and records nested in a collection. */
export const isJsonElement = (spec: FieldSpec): boolean => spec.kind === 'object' || spec.kind === 'array' || spec.kind === 'record';

/** Encodes an array item or record value: scalars as scalars, objects and inner collections as JSON text. */
export function encodeElement(spec: FieldSpec, value: unknown): Raw {
  if (isJsonElement(spec)) return JSON.stringify(toJson(spec, value));
  return encodeScalar(spec as ScalarSpec, value);
}

export function decodeElement(spec: FieldSpec, raw: Raw): unknown {
  if (isJsonElement(spec)) return fromJson(spec, JSON.parse(text(raw)));
  return decodeScalar(spec as ScalarSpec, raw);
}
