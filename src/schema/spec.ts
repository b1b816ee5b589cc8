/**
 * Turns a TypeBox schema into rapyer's field specs: the one place that reads TypeBox's internals.
 * Everything downstream (layout, codecs, validation, the compiler) works on `FieldSpec` only.
 */
import { Type, type TSchema } from 'typebox';
import { SchemaError } from '../errors.js';
import { RAPYER_KIND } from './t.js';

interface SpecBase {
  /** Dotted path from the record root (`address.city`); '' for array items and record values. */
  readonly path: string;
  readonly optional: boolean;
  readonly nullable: boolean;
  /** A value, or a function returning a fresh one. */
  readonly default?: unknown;
  readonly hasDefault: boolean;
}

export interface NumericSpec extends SpecBase {
  readonly kind: 'integer' | 'number';
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: number;
  readonly exclusiveMaximum?: number;
  readonly multipleOf?: number;
}
export interface StringSpec extends SpecBase {
  readonly kind: 'string';
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: RegExp;
}
export interface BooleanSpec extends SpecBase {
  readonly kind: 'boolean';
}
export interface EnumSpec extends SpecBase {
  readonly kind: 'enum';
  readonly values: readonly (string | number)[];
}
export interface BytesSpec extends SpecBase {
  readonly kind: 'bytes';
  readonly minLength?: number;
  readonly maxLength?: number;
}
export interface DateTimeSpec extends SpecBase {
  readonly kind: 'datetime';
  /** Bounds in epoch milliseconds. */
  readonly minimum?: number;
  readonly maximum?: number;
}
export interface ArraySpec extends SpecBase {
  readonly kind: 'array';
  readonly items: FieldSpec;
  readonly minItems?: number;
  readonly maxItems?: number;
}
export interface RecordSpec extends SpecBase {
  readonly kind: 'record';
  readonly values: FieldSpec;
}
export interface ObjectSpec extends SpecBase {
  readonly kind: 'object';
  readonly fields: Readonly<Record<string, FieldSpec>>;
  /** Field names in declaration order (JSON encodings of elements follow it). */
  readonly order: readonly string[];
}

/** `Type.Any()` / `Type.Unknown()`: any JSON value, null included, stored as canonical JSON text. */
export interface JsonSpec extends SpecBase {
  readonly kind: 'json';
}

export type ScalarSpec = NumericSpec | StringSpec | BooleanSpec | EnumSpec | BytesSpec | DateTimeSpec | JsonSpec;
export type FieldSpec = ScalarSpec | ArraySpec | RecordSpec | ObjectSpec;
export type FieldKind = FieldSpec['kind'];

export const isScalar = (s: FieldSpec): s is ScalarSpec =>
  s.kind !== 'array' && s.kind !== 'record' && s.kind !== 'object';

/** Scalars with an order and a plain text form: what indexes, sorts, keys and groups take (not bytes, not JSON). */
export const isOrderable = (s: FieldSpec | undefined): s is ScalarSpec =>
  s !== undefined && isScalar(s) && s.kind !== 'bytes' && s.kind !== 'json';

/** Field names double as hash-field path segments and JS properties, so they stay identifiers. */
const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Names a record already uses: a schema field with one of these would shadow a method. */
export const RESERVED_NAMES = new Set([
  '$', 'id', 'key', 'save', 'reload', 'delete', 'expire', 'ttl', 'pipeline', 'explain', 'lock',
  'toJSON', 'model', 'constructor', 'prototype', '__proto__', 'toString', 'valueOf', 'hasOwnProperty',
]);

interface Modifiers {
  optional: boolean;
  nullable: boolean;
  default?: unknown;
  hasDefault: boolean;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);

function fail(path: string, why: string): never {
  throw new SchemaError(`${path || '<item>'}: ${why}`);
}

/** Splits `Union([X, Null])` into X and nullable; anything else passes through. */
function unwrapNullable(schema: TSchema): { schema: TSchema; nullable: boolean } {
  if (!Type.IsUnion(schema)) return { schema, nullable: false };
  const members = (schema as { anyOf: TSchema[] }).anyOf;
  const rest = members.filter((m) => !Type.IsNull(m));
  if (rest.length === members.length) return { schema, nullable: false };
  if (rest.length === 1) return { schema: rest[0], nullable: true };
  return { schema: { ...schema, anyOf: rest } as TSchema, nullable: true };
}

function fromNumeric(kind: 'integer' | 'number', s: Record<string, unknown>, base: SpecBase): NumericSpec {
  return {
    ...base, kind,
    minimum: num(s.minimum), maximum: num(s.maximum),
    exclusiveMinimum: num(s.exclusiveMinimum), exclusiveMaximum: num(s.exclusiveMaximum),
    multipleOf: num(s.multipleOf),
  };
}

function fromString(s: Record<string, unknown>, base: SpecBase): StringSpec {
  return {
    ...base, kind: 'string',
    minLength: num(s.minLength), maxLength: num(s.maxLength),
    pattern: typeof s.pattern === 'string' ? new RegExp(s.pattern, 'u') : undefined,
  };
}

function fromLiteralUnion(members: TSchema[], base: SpecBase): EnumSpec {
  const values = members.map((m) => (m as { const?: unknown }).const);
  const allStrings = values.every((v) => typeof v === 'string');
  const allNumbers = values.every((v) => typeof v === 'number');
  if (!allStrings && !allNumbers) fail(base.path, 'a literal union must hold only strings or only numbers');
  return { ...base, kind: 'enum', values: values as (string | number)[] };
}

function fromObject(schema: TSchema, base: SpecBase): ObjectSpec {
  const properties = (schema as { properties: Record<string, TSchema> }).properties;
  const fields: Record<string, FieldSpec> = {};
  for (const [name, child] of Object.entries(properties)) {
    if (!FIELD_NAME.test(name)) fail(base.path ? `${base.path}.${name}` : name, 'field names must be identifiers ([A-Za-z_][A-Za-z0-9_]*)');
    fields[name] = fromSchema(child, base.path ? `${base.path}.${name}` : name);
  }
  return { ...base, kind: 'object', fields, order: Object.keys(fields) };
}

/** Walks one schema; `path` is '' for array items and record values. */
export function fromSchema(input: TSchema, path: string): FieldSpec {
  const raw = input as unknown as Record<string, unknown>;
  const { schema, nullable } = unwrapNullable(input);
  const s = schema as unknown as Record<string, unknown>;
  const optional = Type.IsOptional(input);
  const defaultValue = raw.default !== undefined ? raw.default : s.default;
  const mods: Modifiers = { optional, nullable, default: defaultValue, hasDefault: defaultValue !== undefined };
  const base: SpecBase = { path, ...mods };

  switch (s[RAPYER_KIND]) {
    case 'bytes': return { ...base, kind: 'bytes', minLength: num(s.minLength), maxLength: num(s.maxLength) };
    case 'datetime': return {
      ...base, kind: 'datetime',
      minimum: s.minimum instanceof Date ? s.minimum.getTime() : undefined,
      maximum: s.maximum instanceof Date ? s.maximum.getTime() : undefined,
    };
  }
  if (Type.IsAny(schema) || Type.IsUnknown(schema)) return { ...base, kind: 'json' };
  if (Type.IsInteger(schema)) return fromNumeric('integer', s, base);
  if (Type.IsNumber(schema)) return fromNumeric('number', s, base);
  if (Type.IsString(schema)) return fromString(s, base);
  if (Type.IsBoolean(schema)) return { ...base, kind: 'boolean' };
  if (Type.IsLiteral(schema)) return fromLiteralUnion([schema], base);
  if (Type.IsUnion(schema)) {
    const members = (schema as { anyOf: TSchema[] }).anyOf;
    if (members.every((m) => Type.IsLiteral(m))) return fromLiteralUnion(members, base);
    fail(path, 'unions are supported only as literal unions (enums) or X | null');
  }
  if (Type.IsArray(schema)) {
    const items = fromSchema((schema as { items: TSchema }).items, '');
    if (items.optional || items.nullable) fail(path, 'array items cannot be optional or null');
    return { ...base, kind: 'array', items, minItems: num(s.minItems), maxItems: num(s.maxItems) };
  }
  if (Type.IsRecord(schema)) {
    const patterns = (schema as { patternProperties?: Record<string, TSchema> }).patternProperties ?? {};
    const [keyPattern, valueSchema] = Object.entries(patterns)[0] ?? [];
    if (!valueSchema || (keyPattern !== '^.*$' && keyPattern !== '^(.*)$')) fail(path, 'records need string keys');
    const values = fromSchema(valueSchema, '');
    if (values.optional || values.nullable) fail(path, 'record values cannot be optional or null');
    return { ...base, kind: 'record', values };
  }
  if (Type.IsObject(schema)) return fromObject(schema, base);
  return fail(path, `unsupported schema ${JSON.stringify(s)}`);
}

/**
 * Walks a model's shape (its top-level properties). `key` is the model's key field: a field named
 * `id` is allowed when it is the key, since `u.id` and the field then hold the same value.
 */
export function fromShape(shape: Record<string, TSchema>, key?: string): ObjectSpec {
  for (const name of Object.keys(shape)) {
    if (name === 'id' && key === 'id') continue;
    if (RESERVED_NAMES.has(name)) throw new SchemaError(`field "${name}" collides with a record method or property`);
  }
  return fromObject({ type: 'object', properties: shape } as unknown as TSchema, {
    path: '', optional: false, nullable: false, hasDefault: false,
  });
}

/** The spec at a dotted path, or undefined. Paths go through nested objects only. */
export function specAt(root: ObjectSpec, path: string): FieldSpec | undefined {
  let spec: FieldSpec = root;
  for (const part of path.split('.')) {
    if (spec.kind !== 'object') return undefined;
    spec = spec.fields[part];
    if (!spec) return undefined;
  }
  return spec;
}
