/**
 * Field handles: `p.score`, `p.tags`, `p.address.city`... `ObjectHandle` gives a handle per field
 * of an object, recursively; `handleFor` picks the handle class of a field's kind. The classes live
 * in field-handle.ts (the base), scalar-handles.ts and collection-handles.ts.
 */
import type { FieldSpec, ObjectSpec } from '../schema/spec.js';
import { ArrayHandle, RecordHandle } from './collection-handles.js';
import { FieldHandle, type Ctx } from './field-handle.js';
import { fieldOp, paramList } from '../ast/nodes.js';
import { UsageError } from '../errors.js';
import { flatten } from '../model/layout.js';
import { validate } from '../schema/validate.js';
import type { Mode, ObjectH, Ret } from '../model/types.js';
import { BooleanHandle, BytesHandle, DateTimeHandle, JsonHandle, NumberHandle, StringHandle } from './scalar-handles.js';

/**
 * A nested object: a handle per field, recursively, each made on first access, and `set(obj)` to
 * replace it whole. (A nested field named `set` shadows that method: replace such an object
 * through its parent.)
 */
export class ObjectHandle<T = unknown, M extends Mode = Mode> implements ObjectH<T, M> {
  constructor(ctx: Ctx, spec: ObjectSpec, within?: string) {
    // an object that may be absent guards the writes into it (see obj_present in lua/lib/scalar.lua)
    const inner = spec.optional || spec.nullable ? spec.path : within;
    const handle = Object.create(fieldsProto(spec)) as ObjectHandle<T, M>;
    (handle as unknown as Inner)[INNER] = { ctx, spec, within, inner, handles: {} };
    return handle;
  }

  /**
   * Replaces the whole object (validated now; `null` when nullable, `undefined` when optional):
   * every stored field under it goes, the new ones are written, indexes on its fields follow.
   * `p.address.set({ city: 'Paris', zip: '75001' })`
   */
  set(value: T): Ret<M, T> {
    const { ctx, spec, within } = (this as unknown as Inner)[INNER];
    if (!spec.path) throw new UsageError('a record is replaced with save(), not set()');
    validate(spec, value, spec.path);
    const stmt = fieldOp<'object'>({
      rec: ctx.rec, target: 'object', op: 'set', field: spec.path,
      args: Object.freeze([paramList(flatten(spec, value, []))]), check: Object.freeze({}),
      ...(within === undefined ? {} : { within }),
    });
    return ctx.recorder.emit(stmt, () => pathGet(ctx.data(), spec.path)) as Ret<M, T>;
  }
}

const pathGet = (data: Record<string, unknown>, path: string): unknown =>
  path.split('.').reduce<unknown>((o, k) => (o == null ? undefined : (o as Record<string, unknown>)[k]), data);

const INNER = Symbol('rapyer.object');
/** An object handle's state: under a symbol, so that no field name can shadow it. */
interface Inner { [INNER]: { ctx: Ctx; spec: ObjectSpec; within?: string; inner?: string; handles: Record<string, unknown> } }

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
    case 'json': return new JsonHandle(ctx, spec, within);
    case 'bytes': return new BytesHandle(ctx, spec, within);
    case 'datetime': return new DateTimeHandle(ctx, spec, within);
    case 'boolean': return new BooleanHandle(ctx, spec, within);
    case 'array': return new ArrayHandle(ctx, spec, within);
    case 'record': return new RecordHandle(ctx, spec, within);
    case 'object': return new ObjectHandle(ctx, spec, within);
  }
}
