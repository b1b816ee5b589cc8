/**
 * Facts about a field decided once from its spec: how Lua reads it, which checks the server runs
 * on it, how it is indexed, whether it holds bytes.
 */
import type { Constraints, LuaType } from '../ast/nodes.js';
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

/** The server-side checks of a field (see lua/lib/check.lua). */
export function constraintsOf(spec: FieldSpec): Constraints {
  switch (spec.kind) {
    case 'integer': case 'number':
      return {
        int: spec.kind === 'integer' || undefined, min: spec.minimum, max: spec.maximum,
        xmin: spec.exclusiveMinimum, xmax: spec.exclusiveMaximum, mult: spec.multipleOf,
      };
    case 'datetime': return { int: true, min: spec.minimum, max: spec.maximum };
    case 'string': return { minLen: spec.minLength, maxLen: spec.maxLength };
    case 'bytes': return { minLen: spec.minLength, maxLen: spec.maxLength, bytes: true };
    case 'enum': return { enum: spec.values.map(String) };
    case 'array': return { minItems: spec.minItems, maxItems: spec.maxItems };
    case 'record': return constraintsOf(spec.values);
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
