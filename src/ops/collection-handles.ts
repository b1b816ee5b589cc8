/**
 * Handles of collections: arrays, records (dicts) and the items of server-side loops over them.
 * ArrayHandle and RecordHandle implement their types in src/model/types.ts.
 */
import { node, param, paramList, type Expr } from '../ast/nodes.js';
import type { ArrayH, BooleanItemH, ItemH, Mode, RecordH, Ret, ValueH } from '../model/types.js';
import { decodeElement, encodeElement, type Raw } from '../schema/codec.js';
import { luaTypeOf } from '../schema/facts.js';
import type { ArraySpec, FieldSpec, RecordSpec } from '../schema/spec.js';
import { validate } from '../schema/validate.js';
import { Condition } from './condition.js';
import type { Recorder } from './recorder.js';
import { FieldHandle, finite, integer, text, ValueHandle, type Ctx } from './field-handle.js';

/**
 * A loop item as its type reads it. The one cast left: `ItemH<I>` is computed from a generic `I`
 * (booleans are conditions, objects have their fields as properties defined at run time from the
 * schema, as on ObjectHandle), which TypeScript cannot match against a class. `loopItem` makes
 * the object each branch of `ItemH` describes.
 */
const itemOf = <I>(h: ItemHandle | BooleanItem): ItemH<I> => h as unknown as ItemH<I>;

/** A loop item, or a field inside an object item: readable and comparable. */
export class ItemHandle<I = unknown> extends ValueHandle<I> {
  constructor(ctx: Ctx, spec: FieldSpec, readonly loop: number, readonly path: readonly string[]) {
    super(ctx, spec, node({ kind: 'Item', loop, path: Object.freeze([...path]), as: luaTypeOf(spec) }));
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
    super(node({ kind: 'Compare', op: 'eq', left: item.expr, right: param('true', 'bool') }), recorder);
  }
  eq(v: boolean | ValueH<boolean>): Condition { return this.item.eq(v); }
  ne(v: boolean | ValueH<boolean>): Condition { return this.item.ne(v); }
}

/** The handle of a loop item or of a field inside one: booleans are conditions, the rest values. */
function loopItem(ctx: Ctx, spec: FieldSpec, loop: number, path: string[]): ItemHandle | BooleanItem {
  const h = new ItemHandle(ctx, spec, loop, path);
  return spec.kind === 'boolean' ? new BooleanItem(h as ItemHandle<boolean>, ctx.recorder) : h;
}

/** How stored items compare: JSON elements (objects, inner collections) by value, numbers as numbers, the rest by text. */
const itemEq = (spec: FieldSpec): 'n' | 's' | 'o' =>
  spec.kind === 'object' || spec.kind === 'array' || spec.kind === 'record' ? 'o' : luaTypeOf(spec) === 'num' ? 'n' : 's';

export class ArrayHandle<I = unknown, M extends Mode = Mode> extends FieldHandle<I[], M> implements ArrayH<I, M> {
  declare readonly spec: ArraySpec;

  private items(items: unknown[]): Expr {
    items.forEach((item, i) => validate(this.spec.items, item, `${this.spec.path}.${i}`));
    return paramList(items.map((item) => encodeElement(this.spec.items, item)));
  }

  private element(item: unknown): Expr {
    if (item instanceof BooleanItem) item = item.item;
    if (item instanceof ItemHandle && item.spec === this.spec.items) return node({ kind: 'Item', loop: item.loop, path: Object.freeze([]), as: 'raw' });
    validate(this.spec.items, item, this.spec.path);
    return param(encodeElement(this.spec.items, item));
  }

  private whole = (): unknown => this.current();
  private removed = (raw: Raw | null): unknown => (raw === null ? undefined : decodeElement(this.spec.items, raw));

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
    const spec: FieldSpec = { kind: 'integer', path: `${this.spec.path}.length`, optional: false, nullable: false, hasDefault: false };
    return new ValueHandle<number>(this.ctx, spec, node({ kind: 'ArrayLength', rec: this.ctx.rec, field: this.spec.path }));
  }
  isEmpty(): Condition { return this.length().eq(0); }
  contains(item: I | ItemH<I>): Condition {
    return new Condition(node({ kind: 'ArrayContains', rec: this.ctx.rec, field: this.spec.path, item: this.element(item), eq: itemEq(this.spec.items) }), this.ctx.recorder);
  }
  /** The element at i, for conditions; `p.tags.at(0).eq('x')`. */
  at(i: number): ValueHandle<I> {
    return new ValueHandle<I>(this.ctx, this.spec.items, node({
      kind: 'ArrayAt', rec: this.ctx.rec, field: this.spec.path, index: index(i), as: luaTypeOf(this.spec.items), sub: Object.freeze([]),
    }));
  }

  /** A server-side loop: the body is recorded once with a symbolic item. */
  forEach(fn: (item: ItemH<I>) => void): void {
    const loop = this.ctx.recorder.nextLoop();
    const item = loopItem(this.ctx, this.spec.items, loop, []);
    const body = this.ctx.recorder.block(() => fn(itemOf<I>(item)));
    this.ctx.recorder.emit(node({
      kind: 'ForEach', rec: this.ctx.rec, field: this.spec.path, over: 'array', objects: this.spec.items.kind === 'object', loop, body,
    }), () => undefined);
  }

  /** Removes every item for which `fn(item)` holds on the server. */
  removeWhere(fn: (item: ItemH<I>) => Condition): void {
    this.forEach((item) => fn(item).ifTrue(() => this.remove(item)));
  }

  /** `for (const item of p.inventory) { ... }`: the loop body becomes a server-side loop. */
  [Symbol.iterator](): Iterator<ItemH<I>> {
    const recorder = this.ctx.recorder;
    const loop = recorder.nextLoop();
    const item = loopItem(this.ctx, this.spec.items, loop, []);
    let step = 0;
    let close: (() => void) | undefined;
    const finish = (): void => {
      close?.();
      close = undefined;
    };
    return {
      next: () => {
        if (step++ === 0) {
          close = recorder.openLoop(this.ctx.rec, this.spec.path, this.spec.items.kind === 'object', loop);
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

export class RecordHandle<V = unknown, M extends Mode = Mode> extends FieldHandle<Record<string, V>, M> implements RecordH<V, M> {
  declare readonly spec: RecordSpec;

  private value(v: unknown, key: string): Raw {
    validate(this.spec.values, v, `${this.spec.path}.${key}`);
    return encodeElement(this.spec.values, v);
  }

  private pairs(obj: Record<string, unknown>): Expr {
    const flat: Raw[] = [];
    for (const [k, v] of Object.entries(obj)) flat.push(k, this.value(v, k));
    return paramList(flat);
  }

  private whole = (): unknown => this.current();
  private old = (raw: Raw | null): unknown => (raw === null ? undefined : decodeElement(this.spec.values, raw));

  override set(obj: Record<string, V>): Ret<M, Record<string, V>> {
    validate(this.spec, obj, this.spec.path);
    return this.op<Record<string, V>>('dict', 'set', [this.pairs(obj)], this.whole);
  }
  setItem(k: string, v: V): Ret<M, Record<string, V>> { return this.op<Record<string, V>>('dict', 'setItem', [param(text(k)), param(this.value(v, k))], this.whole); }
  update(obj: Record<string, V>): Ret<M, Record<string, V>> { return this.op<Record<string, V>>('dict', 'update', [this.pairs(obj)], this.whole); }
  /** Deletes key k; resolves to its old value (undefined if absent). */
  delete(k: string): Ret<M, V | undefined> { return this.op<V | undefined>('dict', 'delete', [param(text(k))], this.old); }
  /** Removes k and returns its value; without a default, a missing key is an OperationError. */
  pop(k: string, ...dflt: [V?]): Ret<M, V> {
    const has = dflt.length > 0;
    return this.op<V>('dict', 'pop', [param(text(k)), param(has ? '1' : '0'), param(has ? this.value(dflt[0], k) : '')], this.old);
  }
  /** Removes and returns [key, value] of the entry with the greatest key. */
  popItem(): Ret<M, [string, V]> {
    return this.op<[string, V]>('dict', 'popItem', [], (raw) => {
      const [k, v] = raw as unknown as Buffer[];
      return [k.toString('utf8'), decodeElement(this.spec.values, v)];
    });
  }
  clear(): Ret<M, Record<string, V>> { return this.op<Record<string, V>>('dict', 'clear', [], this.whole); }
  /** Adds n to the numeric value at k (a missing key counts as 0). */
  incr(k: string, n = 1): Ret<M, number> {
    return this.op<number>('dict', 'incr', [param(text(k)), param(String(finite(n, 'incr')))], (raw) => (raw === null ? undefined : Number(String(raw))));
  }
  /** The value at k, for conditions. */
  get(k: string): ValueHandle<V> {
    return new ValueHandle<V>(this.ctx, this.spec.values, node({
      kind: 'DictGet', rec: this.ctx.rec, field: this.spec.path, key: param(text(k)), as: luaTypeOf(this.spec.values), sub: Object.freeze([]),
    }));
  }
  /** A server-side loop over the entries, in key order: `fn(value, key)`. */
  forEach(fn: (value: ItemH<V>, key: ValueH<string>) => void): void {
    const loop = this.ctx.recorder.nextLoop();
    const value = loopItem(this.ctx, this.spec.values, loop, []);
    const keySpec: FieldSpec = { kind: 'string', path: `${this.spec.path}.<key>`, optional: false, nullable: false, hasDefault: false };
    const key = new ValueHandle<string>(this.ctx, keySpec, node({ kind: 'Item', loop, path: Object.freeze([]), as: 'str', key: true }));
    const body = this.ctx.recorder.block(() => fn(itemOf<V>(value), key));
    this.ctx.recorder.emit(node({
      kind: 'ForEach', rec: this.ctx.rec, field: this.spec.path, over: 'dict', objects: this.spec.values.kind === 'object', loop, body,
    }), () => undefined);
  }
}
