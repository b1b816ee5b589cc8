/**
 * Field handles: `p.score`, `p.tags`, `p.address.city`... `ObjectHandle` gives a handle per field
 * of an object, recursively; `handleFor` picks the handle class of a field's kind. The classes live
 * in field-handle.ts (the base), scalar-handles.ts and collection-handles.ts.
 */
import type { FieldSpec, ObjectSpec } from '../schema/spec.js';
import { ArrayHandle, RecordHandle } from './collection-handles.js';
import { FieldHandle, type Ctx } from './field-handle.js';
import { BooleanHandle, BytesHandle, DateTimeHandle, NumberHandle, StringHandle } from './scalar-handles.js';

/** A nested object: a handle per field, recursively, each made on first access. */
export class ObjectHandle {
  constructor(ctx: Ctx, spec: ObjectSpec, within?: string) {
    // an object that may be absent guards the writes into it (see obj_present in lua/lib/scalar.lua)
    const inner = spec.optional || spec.nullable ? spec.path : within;
    const handle = Object.create(fieldsProto(spec)) as ObjectHandle;
    (handle as unknown as Inner)[INNER] = { ctx, inner, handles: {} };
    return handle;
  }
}

const INNER = Symbol('rapyer.object');
interface Inner { [INNER]: { ctx: Ctx; inner?: string; handles: Record<string, unknown> } }

/**
 * The prototype of an object's handles: one getter per field, made once per object spec, so a
 * handle costs one object, not a closure and a property definition per field.
 */
const protos = new WeakMap<ObjectSpec, object>();

function fieldsProto(spec: ObjectSpec): object {
  let proto = protos.get(spec);
  if (!proto) {
    proto = Object.create(ObjectHandle.prototype) as object;
    for (const name of spec.order) {
      Object.defineProperty(proto, name, {
        enumerable: true,
        get(this: Inner) {
          const state = this[INNER];
          return (state.handles[name] ??= handleFor(state.ctx, spec.fields[name], state.inner));
        },
      });
    }
    protos.set(spec, proto);
  }
  return proto;
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
