/**
 * Facts about a field decided once from its spec: how Lua reads it, which checks the server runs
 * on it, how it is indexed, whether it holds bytes.
 */
import type { Constraints, LuaType, SchemaCheck } from '../ast/nodes.js';
import type { FieldSpec } from './spec.js';

/** Lua reading of a scalar spec: numbers and dates as numbers, booleans as booleans. */
export function luaTypeOf(spec: FieldSpec): LuaType {
  switch (spec.kind) {
    case 'integer': case 'number': case 'datetime': return 'num';
    case 'boolean': return 'bool';
    case 'enum': return spec.values.every((v) => typeof v === 'number') ? 'num' : 'str';
    default: return 'str';
  }
}

/**
 * The server-side checks of a field (see lua/lib/check.lua); `maxBytes` is the model's
 * maxValueBytes when it sets one (check_size applies the 64 MiB default otherwise).
 */
export function constraintsOf(spec: FieldSpec, maxBytes?: number): Constraints {
  switch (spec.kind) {
    case 'integer': case 'number':
      return {
        int: spec.kind === 'integer' || undefined, min: spec.minimum, max: spec.maximum,
        xmin: spec.exclusiveMinimum, xmax: spec.exclusiveMaximum, mult: spec.multipleOf,
      };
    case 'datetime': return { int: true, min: spec.minimum, max: spec.maximum };
    case 'string': return { minLen: spec.minLength, maxLen: spec.maxLength, ...(maxBytes !== undefined && { maxBytes }) };
    case 'bytes': return { minLen: spec.minLength, maxLen: spec.maxLength, bytes: true, ...(maxBytes !== undefined && { maxBytes }) };
    case 'enum': return { enum: spec.values.map(String) };
    case 'array': return { minItems: spec.minItems, maxItems: spec.maxItems };
    case 'record': return constraintsOf(spec.values, maxBytes);
    default: return {};
  }
}

/** Numbers and dates are indexed by score; strings, booleans and enums lexicographically. */
export function indexType(spec: FieldSpec): 'n' | 's' {
  return luaTypeOf(spec) === 'num' ? 'n' : 's';
}

/** Whether a field holds bytes anywhere: only then must replies come back as Buffers. */
export function holdsBytes(spec: FieldSpec): boolean {
  switch (spec.kind) {
    case 'bytes': return true;
    case 'array': return holdsBytes(spec.items);
    case 'record': return holdsBytes(spec.values);
    case 'object': return Object.values(spec.fields).some(holdsBytes);
    default: return false;
  }
}

const KIND: { readonly [K in FieldSpec['kind']]: SchemaCheck['t'] } = {
  integer: 'i', number: 'n', datetime: 'd', string: 's', bytes: 'y', enum: 'e', boolean: 'b', json: 'j', array: 'a', record: 'r', object: 'o',
};

const trees = new WeakMap<FieldSpec, SchemaCheck>();

/**
 * The whole schema of a value inside a nested collection, as the server checks it (lua/lib/nest.lua
 * nv_check): what an operation on an inner collection makes is checked against it before anything
 * is written. Made once per spec.
 */
export function schemaCheckOf(spec: FieldSpec, maxBytes?: number): SchemaCheck {
  let tree = trees.get(spec);
  if (tree) return tree;
  const c = spec.kind === 'record' ? {} : constraintsOf(spec, maxBytes);
  tree = {
    t: KIND[spec.kind], c,
    ...(spec.nullable && { nullable: true }),
    ...(spec.kind === 'array' && { items: schemaCheckOf(spec.items, maxBytes) }),
    ...(spec.kind === 'record' && { items: schemaCheckOf(spec.values, maxBytes) }),
    ...(spec.kind === 'object' && {
      fields: Object.fromEntries(spec.order.map((n) => [n, schemaCheckOf(spec.fields[n], maxBytes)])),
      required: spec.order.filter((n) => !spec.fields[n].optional),
    }),
  };
  trees.set(spec, tree);
  return tree;
}
