/**
 * Field handles: `p.score`, `p.tags`, `p.address.city`... `ObjectHandle` gives a handle per field
 * of an object, recursively; `handleFor` picks the handle class of a field's kind. The classes live
 * in field-handle.ts (the base), scalar-handles.ts and collection-handles.ts.
 */
import type { FieldSpec, ObjectSpec } from '../schema/spec.js';
import { ArrayHandle, RecordHandle } from './collection-handles.js';
import { FieldHandle, type Ctx } from './field-handle.js';
import { BooleanHandle, BytesHandle, DateTimeHandle, NumberHandle, StringHandle } from './scalar-handles.js';

/** A nested object: a handle per field, recursively. */
export class ObjectHandle {
  constructor(ctx: Ctx, spec: ObjectSpec, within?: string) {
    // an object that may be absent guards the writes into it (see obj_present in lua/lib/scalar.lua)
    const inner = spec.optional || spec.nullable ? spec.path : within;
    for (const name of spec.order) {
      let handle: unknown;
      Object.defineProperty(this, name, { enumerable: true, get: () => (handle ??= handleFor(ctx, spec.fields[name], inner)) });
    }
  }
}

export function handleFor(ctx: Ctx, spec: FieldSpec, within?: string): unknown {
  switch (spec.kind) {
    case 'integer': case 'number': return new NumberHandle(ctx, spec, within);
    case 'string': return new StringHandle(ctx, spec, within);
    case 'enum': return new FieldHandle(ctx, spec, within);
    case 'bytes': return new BytesHandle(ctx, spec, within);
    case 'datetime': return new DateTimeHandle(ctx, spec, within);
    case 'boolean': return new BooleanHandle(ctx, spec, within);
    case 'array': return new ArrayHandle(ctx, spec, within);
    case 'record': return new RecordHandle(ctx, spec, within);
    case 'object': return new ObjectHandle(ctx, spec, within);
  }
}
