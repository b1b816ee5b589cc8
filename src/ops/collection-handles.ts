/**
 * Handles of collections: arrays, records (dicts) and the items of server-side loops over them.
 * ArrayHandle and RecordHandle implement their types in src/model/types.ts.
 */
import { make, param, paramList, type Expr, type ForEachNode } from '../ast/nodes.js';
import type { ArrayH, BooleanItemH, ElemH, ItemH, Mode, RecordH, Ret, ValueH } from '../model/types.js';
import { decodeElement, encodeElement, fromJson, isJsonElement, toJson, type Raw } from '../schema/codec.js';
import { luaTypeOf } from '../schema/facts.js';
import type { ArraySpec, FieldSpec, ObjectSpec, RecordSpec } from '../schema/spec.js';
import { validate } from '../schema/validate.js';
import { Condition } from './condition.js';
import type { Recorder } from './recorder.js';
import { FieldHandle, finite, integer, nestedRead, text, ValueHandle, type Ctx } from './field-handle.js';
import { nestInto, own, type Nest } from './nest.js';

/**
 * A loop item as its type reads it. The one cast left: `ItemH<I>` is computed from a generic `I`
 * (booleans are conditions, objects have their fields as properties defined at run time from the
 * schema, as on ObjectHandle), which TypeScript cannot match against a class. `loopItem` makes
 * the object each branch of `ItemH` describes.
 */
const itemOf = <I>(h: ItemHandle | BooleanItem): ItemH<I> => h as unknown as ItemH<I>;

/** A loop item, or a field inside an object item: readable and comparable. */
export class ItemHandle<I = unknown> extends ValueHandle<I> {
  /** `json`: the loop is over a nested collection, whose items are JSON text. */
  constructor(ctx: Ctx, spec: FieldSpec, readonly loop: number, readonly path: readonly string[], readonly raw: boolean, json = false) {
    super(ctx, spec, make('Item', { loop, path: Object.freeze([...path]), as: raw ? 'raw' : luaTypeOf(spec), ...(json && { json }) }));
    if (spec.kind === 'object') {
      for (const name of spec.order) {
        Object.defineProperty(this, name, {
          enumerable: true,
          get: () => loopItem(ctx, spec.fields[name], loop, [...path, name]),
        });
      }
    }
  }
}

/** A boolean loop item, or boolean field of an object item: a condition itself (`item.expired.ifTrue(...)`), like a boolean field. */
export class BooleanItem extends Condition implements BooleanItemH {
  constructor(readonly item: ItemHandle<boolean>, recorder: Recorder) {
    super(make('Compare', { op: 'eq', left: item.expr, right: param('true', 'bool') }), recorder);
  }
  eq(v: boolean | ValueH<boolean>): Condition { return this.item.eq(v); }
  ne(v: boolean | ValueH<boolean>): Condition { return this.item.ne(v); }
}

/** The handle of a loop item or of a field inside one: booleans are conditions, the rest values. */
function loopItem(ctx: Ctx, spec: FieldSpec, loop: number, path: string[], json = false): ItemHandle | BooleanItem {
  const h = new ItemHandle(ctx, spec, loop, path, false, json);
  return spec.kind === 'boolean' ? new BooleanItem(h as ItemHandle<boolean>, ctx.recorder) : h;
}

/** How stored items compare: JSON elements (objects, inner collections) by value, numbers as numbers, the rest by text. */
const itemEq = (spec: FieldSpec): 'n' | 's' | 'o' =>
  spec.kind === 'object' || spec.kind === 'array' || spec.kind === 'record' ? 'o' : luaTypeOf(spec) === 'num' ? 'n' : 's';

/**
 * The handle of a value inside an element (`p.matrix.at(0)`, `p.groups.get('admins')`): inner
 * arrays and records take every collection operation, objects give their fields, scalars compare.
 */
function elementHandle(ctx: Ctx, spec: FieldSpec, within: string | undefined, nest: Nest): unknown {
  const at = { ...spec, path: nest.path } as FieldSpec;
  switch (at.kind) {
    case 'array': return new ArrayHandle(ctx, at, within, nest);
    case 'record': return new RecordHandle(ctx, at, within, nest);
    case 'object': return nestedObject(ctx, at, within, nest);
    default: return new ValueHandle(ctx, at, nestedRead(ctx, nest, 'value', luaTypeOf(at)));
  }
}

/** An object inside an element: comparable as a whole, with a handle per field. */
function nestedObject(ctx: Ctx, spec: ObjectSpec, within: string | undefined, nest: Nest): ValueHandle {
  const h = new ValueHandle(ctx, spec, nestedRead(ctx, nest, 'value', 'raw'));
  for (const name of spec.order) {
    Object.defineProperty(h, name, {
      enumerable: true,
      get: () => elementHandle(ctx, spec.fields[name], within, nestInto(nest, '', nest.top, { by: 'f', name }, name, (o) => own(o, name))),
    });
  }
  return h;
}

/** A nested value's JSON text (the client's encoding, which the server keeps as it is). */
const jsonText = (spec: FieldSpec, v: unknown): string => JSON.stringify(toJson(spec, v));

export class ArrayHandle<I = unknown, M extends Mode = Mode> extends FieldHandle<I[], M> implements ArrayH<I, M> {
  declare readonly spec: ArraySpec;

  /** Items of an inner array travel as JSON text (as they are stored in it); others as stored at the top. */
  private encode(item: unknown): Raw {
    return this.nest ? jsonText(this.spec.items, item) : encodeElement(this.spec.items, item);
  }

  private items(items: unknown[]): Expr {
    items.forEach((item, i) => validate(this.spec.items, item, `${this.spec.path}.${i}`));
    return paramList(items.map((item) => this.encode(item)));
  }

  private element(item: unknown): Expr {
    if (item instanceof BooleanItem) item = item.item;
    if (item instanceof ItemHandle && item.spec === this.spec.items) return make('Item', { loop: item.loop, path: Object.freeze([]), as: 'raw' });
    validate(this.spec.items, item, this.spec.path);
    return param(this.encode(item));
  }

  private whole = (): unknown => this.current();
  private removed = (raw: Raw | null): unknown => (raw === null ? undefined
    : this.nest ? fromJson(this.spec.items, JSON.parse(String(raw))) : decodeElement(this.spec.items, raw));

  override set(items: I[]): Ret<M, I[]> {
    validate(this.spec, items, this.spec.path);
    return this.op<I[]>('array', 'set', [this.items(items)], this.whole);
  }
  append(...items: I[]): Ret<M, I[]> { return this.op<I[]>('array', 'append', [this.items(items)], this.whole); }
  prepend(...items: I[]): Ret<M, I[]> { return this.op<I[]>('array', 'prepend', [this.items(items)], this.whole); }
  insert(i: number, item: I | ItemH<I>): Ret<M, I[]> { return this.op<I[]>('array', 'insert', [index(i), this.element(item)], this.whole); }
  setAt(i: number, item: I | ItemH<I>): Ret<M, I[]> { return this.op<I[]>('array', 'setAt', [index(i), this.element(item)], this.whole); }
  /** Removes and returns the item at i (default: the last); undefined when the array is empty. */
  pop(i = -1): Ret<M, I | undefined> { return this.op<I | undefined>('array', 'pop', [index(i)], this.removed); }
  /** Removes the first item equal to `item` (deep equality for objects); resolves to whether one was. */
  remove(item: I | ItemH<I>): Ret<M, boolean> {
    return this.op<boolean>('array', 'remove', [this.element(item)], (raw) => raw !== null && String(raw) === 'true', itemEq(this.spec.items));
  }
  removeAt(i: number): Ret<M, I> { return this.op<I>('array', 'removeAt', [index(i)], this.removed); }
  /** Deletes items[start:end] with Python slice rules (negative indices count from the end, clamped). */
  removeRange(start: number, end?: number): Ret<M, I[]> {
    return this.op<I[]>('array', 'removeRange', [index(start), end === undefined ? param(null) : index(end)], this.whole);
  }
  clear(): Ret<M, I[]> { return this.op<I[]>('array', 'clear', [], this.whole); }

  length(): ValueHandle<number> {
    return new ValueHandle<number>(this.ctx, lengthSpec(this.spec.path), this.nest
      ? nestedRead(this.ctx, this.nest, 'length', 'num')
      : make('ArrayLength', { rec: this.ctx.rec, field: this.spec.path }));
  }
  isEmpty(): Condition { return this.length().eq(0); }
  contains(item: I | ItemH<I>): Condition {
    const eq = itemEq(this.spec.items);
    return new Condition(this.nest
      ? nestedRead(this.ctx, this.nest, 'contains', 'bool', { item: this.element(item), eq })
      : make('ArrayContains', { rec: this.ctx.rec, field: this.spec.path, item: this.element(item), eq }), this.ctx.recorder);
  }
  /**
   * The element at i: a value for conditions (`p.tags.at(0).eq('x')`), and when it is itself a
   * collection, its handle (`p.matrix.at(0).setAt(1, 5)`).
   */
  at(i: number): ElemH<I, M> {
    if (!this.nest && !isJsonElement(this.spec.items)) {
      return new ValueHandle<I>(this.ctx, this.spec.items, make('ArrayAt', {
        rec: this.ctx.rec, field: this.spec.path, index: index(i), as: luaTypeOf(this.spec.items),
      })) as unknown as ElemH<I, M>;
    }
    const pick = (a: unknown): unknown => (Array.isArray(a) ? a[i < 0 ? i + a.length : i] : undefined);
    const nest = nestInto(this.nest, this.spec.path, 'array', { by: 'i', at: index(i) }, String(i), pick);
    return elementHandle(this.ctx, this.spec.items, this.within, nest) as ElemH<I, M>;
  }

  /** What a loop over this array runs over: the stored field, or a nested collection. */
  private loopOver(loop: number, body: ForEachNode['body']): ForEachNode {
    return loopNode(this.ctx.rec, this.spec.path, 'array', this.spec.items, loop, body, this.nest);
  }

  /** A server-side loop: the body is recorded once with a symbolic item. */
  forEach(fn: (item: ItemH<I>) => void): void {
    const loop = this.ctx.recorder.nextLoop();
    const item = loopItem(this.ctx, this.spec.items, loop, [], this.nest !== undefined);
    const body = this.ctx.recorder.block(() => fn(itemOf<I>(item)));
    this.ctx.recorder.emit(this.loopOver(loop, body), () => undefined);
  }

  /** Removes every item for which `fn(item)` holds on the server. */
  removeWhere(fn: (item: ItemH<I>) => Condition): void {
    this.forEach((item) => fn(item).ifTrue(() => this.remove(item)));
  }

  /** `for (const item of p.inventory) { ... }`: the loop body becomes a server-side loop. */
  [Symbol.iterator](): Iterator<ItemH<I>> {
    const recorder = this.ctx.recorder;
    const loop = recorder.nextLoop();
    const item = loopItem(this.ctx, this.spec.items, loop, [], this.nest !== undefined);
    let step = 0;
    let close: (() => void) | undefined;
    const finish = (): void => {
      close?.();
      close = undefined;
    };
    return {
      next: () => {
        if (step++ === 0) {
          close = recorder.openLoop((body) => this.loopOver(loop, body));
          return { value: itemOf<I>(item), done: false };
        }
        finish();
        return { value: undefined, done: true };
      },
      return: () => {
        finish();
        return { value: undefined, done: true };
      },
    };
  }
}

const index = (i: number): Expr => param(String(integer(i, 'index')), 'raw');

const lengthSpec = (path: string): FieldSpec => ({ kind: 'integer', path: `${path}.length`, optional: false, nullable: false, hasDefault: false });

function loopNode(
  rec: number, field: string, over: 'array' | 'dict', items: FieldSpec, loop: number, body: ForEachNode['body'], nest: Nest | undefined,
): ForEachNode {
  const base = { rec, field: nest ? nest.field : field, over, objects: items.kind === 'object', loop, body } as const;
  return make('ForEach', nest ? { ...base, nested: { top: nest.top, steps: nest.steps, path: nest.path } } : base);
}

export class RecordHandle<V = unknown, M extends Mode = Mode> extends FieldHandle<Record<string, V>, M> implements RecordH<V, M> {
  declare readonly spec: RecordSpec;

  private value(v: unknown, key: string): Raw {
    validate(this.spec.values, v, `${this.spec.path}.${key}`);
    return this.nest ? jsonText(this.spec.values, v) : encodeElement(this.spec.values, v);
  }

  /** A key: a string, or a loop's key (`p.scores.forEach((v, k) => ... p.scores.delete(k))`). */
  private key(k: string | ValueH<string>): Expr {
    return k instanceof ValueHandle ? k.expr : param(text(k));
  }

  private pairs(obj: Record<string, unknown>): Expr {
    const flat: Raw[] = [];
    for (const [k, v] of Object.entries(obj)) flat.push(text(k), this.value(v, k));
    return paramList(flat);
  }

  private whole = (): unknown => this.current();
  private decodeValue = (raw: Raw): unknown => (this.nest ? fromJson(this.spec.values, JSON.parse(String(raw))) : decodeElement(this.spec.values, raw));
  private old = (raw: Raw | null): unknown => (raw === null ? undefined : this.decodeValue(raw));

  override set(obj: Record<string, V>): Ret<M, Record<string, V>> {
    validate(this.spec, obj, this.spec.path);
    return this.op<Record<string, V>>('dict', 'set', [this.pairs(obj)], this.whole);
  }
  setItem(k: string | ValueH<string>, v: V): Ret<M, Record<string, V>> {
    return this.op<Record<string, V>>('dict', 'setItem', [this.key(k), param(this.value(v, typeof k === 'string' ? k : '<key>'))], this.whole);
  }
  update(obj: Record<string, V>): Ret<M, Record<string, V>> { return this.op<Record<string, V>>('dict', 'update', [this.pairs(obj)], this.whole); }
  /** Deletes key k; resolves to its old value (undefined if absent). */
  delete(k: string | ValueH<string>): Ret<M, V | undefined> { return this.op<V | undefined>('dict', 'delete', [this.key(k)], this.old); }
  /** Removes k and returns its value; without a default, a missing key is an OperationError. */
  pop(k: string | ValueH<string>, ...dflt: [V?]): Ret<M, V> {
    const has = dflt.length > 0;
    const dv = has ? this.value(dflt[0], typeof k === 'string' ? k : '<key>') : '';
    return this.op<V>('dict', 'pop', [this.key(k), param(has ? '1' : '0'), param(dv)], this.old);
  }
  /** Removes and returns [key, value] of the entry with the greatest key. */
  popItem(): Ret<M, [string, V]> {
    return this.op<[string, V]>('dict', 'popItem', [], (raw) => {
      const [k, v] = raw as unknown as Buffer[];
      return [k.toString('utf8'), this.decodeValue(v)];
    });
  }
  clear(): Ret<M, Record<string, V>> { return this.op<Record<string, V>>('dict', 'clear', [], this.whole); }
  /** Adds n to the numeric value at k (a missing key counts as 0). */
  incr(k: string | ValueH<string>, n = 1): Ret<M, number> {
    return this.op<number>('dict', 'incr', [this.key(k), param(String(finite(n, 'incr')))], (raw) => (raw === null ? undefined : Number(String(raw))));
  }
  /**
   * The value at k (or at a loop's key): a value for conditions, and when it is itself a
   * collection, its handle (`p.groups.get('admins').append('ada')`).
   */
  get(k: string | ValueH<string>): ElemH<V, M> {
    const key = this.key(k);
    if (!this.nest && !isJsonElement(this.spec.values)) {
      return new ValueHandle<V>(this.ctx, this.spec.values, make('DictGet', {
        rec: this.ctx.rec, field: this.spec.path, key, as: luaTypeOf(this.spec.values),
      })) as unknown as ElemH<V, M>;
    }
    const name = typeof k === 'string' ? k : '<key>';
    const pick = (o: unknown): unknown => (typeof k === 'string' ? own(o, k) : undefined);
    const nest = nestInto(this.nest, this.spec.path, 'dict', { by: 'k', at: key }, name, pick);
    return elementHandle(this.ctx, this.spec.values, this.within, nest) as ElemH<V, M>;
  }
  /** A server-side loop over the entries, in key order: `fn(value, key)`. */
  forEach(fn: (value: ItemH<V>, key: ValueH<string>) => void): void {
    const loop = this.ctx.recorder.nextLoop();
    const value = loopItem(this.ctx, this.spec.values, loop, [], this.nest !== undefined);
    const key = new ValueHandle<string>(this.ctx, { ...lengthSpec(this.spec.path), kind: 'string', path: `${this.spec.path}.<key>` },
      make('Item', { loop, path: Object.freeze([]), as: 'str', key: true }));
    const body = this.ctx.recorder.block(() => fn(itemOf<V>(value), key));
    this.ctx.recorder.emit(loopNode(this.ctx.rec, this.spec.path, 'dict', this.spec.values, loop, body, this.nest), () => undefined);
  }
}
