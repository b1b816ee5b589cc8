/**
 * Field handles: `p.score`, `p.tags`, `p.address.city`... Each operation records one FieldOp node
 * (values validated and encoded as they are recorded, Drizzle-style); comparisons build conditions.
 */
import {
  node, param, paramList, type ArithOp, type CompareOp, type Expr, type FieldOpNode, type TextMatchNode,
} from '../ast/nodes.js';
import { OperationError, QueryError } from '../errors.js';
import { isWordFragment, words } from '../query/tokenize.js';
import { decodeElement, decodeScalar, encodeElement, encodeScalar, type Raw } from '../schema/codec.js';
import { constraintsOf, luaTypeOf } from '../schema/facts.js';
import type { ArraySpec, FieldSpec, ObjectSpec, RecordSpec, ScalarSpec } from '../schema/spec.js';
import { validate } from '../schema/validate.js';
import { Condition } from './condition.js';
import type { Recorder } from './recorder.js';

export interface Ctx {
  readonly recorder: Recorder;
  /** 1-based index of the record in the program. */
  readonly rec: number;
  /** The local record the immediate form updates (and reads results from). */
  readonly data: () => Record<string, unknown>;
}

const pathGet = (data: Record<string, unknown>, path: string): unknown =>
  path.split('.').reduce<unknown>((o, k) => (o == null ? undefined : (o as Record<string, unknown>)[k]), data);

/** A value handle: something a condition can compare (a field, a loop item, an element). */
export class ValueHandle {
  constructor(protected readonly ctx: Ctx, readonly spec: FieldSpec, readonly expr: Expr) {}

  /** A literal or another handle, as an expression of this handle's type. */
  protected operand(v: unknown): Expr {
    if (v instanceof ValueHandle) return v.expr;
    if (v === null || v === undefined) return param(null);
    validate({ ...this.spec, optional: false, nullable: false } as FieldSpec, v, this.spec.path || 'value');
    return param(encodeScalar(this.spec as ScalarSpec, v), luaTypeOf(this.spec));
  }

  protected compare(op: CompareOp, v: unknown): Condition {
    return new Condition(node({ kind: 'Compare', op, left: this.expr, right: this.operand(v) }), this.ctx.recorder);
  }

  eq(v: unknown): Condition { return this.compare('eq', v); }
  ne(v: unknown): Condition { return this.compare('ne', v); }
  gt(v: unknown): Condition { return this.compare('gt', v); }
  gte(v: unknown): Condition { return this.compare('gte', v); }
  lt(v: unknown): Condition { return this.compare('lt', v); }
  lte(v: unknown): Condition { return this.compare('lte', v); }

  /** a <= value <= b */
  between(a: unknown, b: unknown): Condition {
    return this.gte(a).and(this.lte(b));
  }

  in(values: readonly unknown[]): Condition {
    const raws = values.map((v) => {
      validate({ ...this.spec, optional: false, nullable: false } as FieldSpec, v, this.spec.path || 'value');
      return encodeScalar(this.spec as ScalarSpec, v);
    });
    return new Condition(node({ kind: 'In', value: this.expr, list: paramList(raws), as: luaTypeOf(this.spec) }), this.ctx.recorder);
  }

  // Computed values (evaluated by the script): p.total.set(p.price.times(p.qty))
  private arith(op: ArithOp, other: unknown): ValueHandle {
    const right = other instanceof ValueHandle ? other.expr
      : op === 'concat' ? param(text(other), 'str') : param(String(finite(other, op)), 'num');
    const spec: FieldSpec = op === 'concat'
      ? { kind: 'string', path: this.spec.path, optional: false, nullable: false, hasDefault: false }
      : { kind: 'number', path: this.spec.path, optional: false, nullable: false, hasDefault: false };
    return new ValueHandle(this.ctx, spec, node({ kind: 'Arith', op, left: this.expr, right }));
  }
  plus(x: number | ValueHandle): ValueHandle { return this.arith('add', x); }
  minus(x: number | ValueHandle): ValueHandle { return this.arith('sub', x); }
  times(x: number | ValueHandle): ValueHandle { return this.arith('mul', x); }
  dividedBy(x: number | ValueHandle): ValueHandle { return this.arith('div', x); }
  /** Floor division: the integer part towards minus infinity. */
  floorDiv(x: number | ValueHandle): ValueHandle { return this.arith('floordiv', x); }
  modulo(x: number | ValueHandle): ValueHandle { return this.arith('mod', x); }
  power(x: number | ValueHandle): ValueHandle { return this.arith('pow', x); }
  /** The smaller of this value and x (clamps from above). */
  atMost(x: number | ValueHandle): ValueHandle { return this.arith('min', x); }
  /** The larger of this value and x (clamps from below). */
  atLeast(x: number | ValueHandle): ValueHandle { return this.arith('max', x); }
  concat(x: string | ValueHandle): ValueHandle { return this.arith('concat', x); }

  startsWith(prefix: string | ValueHandle): Condition {
    const p = prefix instanceof ValueHandle ? prefix.expr : param(prefix, 'str');
    return new Condition(node({ kind: 'StartsWith', value: this.expr, prefix: p }), this.ctx.recorder);
  }
}

/** A handle on a stored field: operations record FieldOp statements. */
export class FieldHandle extends ValueHandle {
  /** `within`: the nearest enclosing object that may be absent; writing into it while absent would leave a partial object. */
  constructor(ctx: Ctx, spec: FieldSpec, protected readonly within?: string) {
    super(ctx, spec, node({ kind: 'Field', rec: ctx.rec, field: spec.path, as: luaTypeOf(spec) }));
  }

  private get guard(): { within?: string } {
    return this.within === undefined ? {} : { within: this.within };
  }

  protected op(target: FieldOpNode['target'], op: string, args: Expr[], decode: (raw: Raw | null) => unknown, eq?: FieldOpNode['eq']): any {
    const stmt = node({
      kind: 'FieldOp' as const, rec: this.ctx.rec, target, op, field: this.spec.path, path: this.spec.path,
      args: Object.freeze(args), check: Object.freeze(constraintsOf(this.spec)), ...(eq ? { eq } : {}), ...this.guard,
    });
    return this.ctx.recorder.emit(stmt, decode);
  }

  protected current(): unknown {
    return pathGet(this.ctx.data(), this.spec.path);
  }

  protected scalarResult = (raw: Raw | null): unknown => (raw === null ? undefined : decodeScalar(this.spec as ScalarSpec, raw));

  /** Sets the field: a value (validated now; `null` for nullable fields) or a computed value (checked by the script). */
  set(value: unknown): any {
    if (value instanceof ValueHandle) {
      const as = luaTypeOf(this.spec) === 'num' ? 'n' : luaTypeOf(this.spec) === 'bool' ? 'b' : 's';
      return this.ctx.recorder.emit(node({
        kind: 'SetComputed', rec: this.ctx.rec, field: this.spec.path, path: this.spec.path, value: value.expr, as,
        check: Object.freeze(constraintsOf(this.spec)), ...this.guard,
      }), this.scalarResult);
    }
    validate(this.spec, value, this.spec.path);
    if (value === null) return this.op('scalar', 'setNull', [], () => null);
    return this.op('scalar', 'set', [param(encodeScalar(this.spec as ScalarSpec, value))], this.scalarResult);
  }
}

const finite = (n: unknown, what: string): number => {
  if (typeof n !== 'number' || !Number.isFinite(n)) throw new OperationError(`${what}: expected a finite number, got ${String(n)}`);
  return n;
};

/** Indices, offsets, lengths and counts: Lua would silently truncate or misuse a fraction. */
const integer = (n: unknown, what: string): number => {
  const v = finite(n, what);
  if (!Number.isInteger(v)) throw new OperationError(`${what}: expected an integer, got ${v}`);
  return v;
};

export class NumberHandle extends FieldHandle {
  private num(op: string, n: unknown): any {
    return this.op('num', op, [param(String(finite(n, `${this.spec.path}.${op}`)), 'raw')], this.scalarResult);
  }
  incr(n = 1): any { return this.num('incr', n); }
  decr(n = 1): any { return this.num('decr', n); }
  mul(n: number): any { return this.num('mul', n); }
  /** Integer fields: floor division; Number fields: true division. */
  div(n: number): any { return this.num('div', n); }
  /** Modulo with the sign of the divisor (Python's %). */
  mod(n: number): any { return this.num('mod', n); }
  pow(n: number): any { return this.num('pow', n); }
  /** Sets the field to the smaller of its value and n. */
  min(n: number): any { return this.num('min', n); }
  /** Sets the field to the larger of its value and n. */
  max(n: number): any { return this.num('max', n); }
}

export class StringHandle extends FieldHandle {
  append(s: string): any { return this.op('str', 'append', [param(text(s))], this.scalarResult); }
  prepend(s: string): any { return this.op('str', 'prepend', [param(text(s))], this.scalarResult); }
  repeat(n: number): any { return this.op('str', 'repeat', [param(String(integer(n, 'repeat')))], this.scalarResult); }

  private text(mode: TextMatchNode['mode'], list: readonly string[]): Condition {
    return new Condition(node({ kind: 'TextMatch', value: this.expr, mode, words: paramList(list) }), this.ctx.recorder);
  }

  private queryWords(query: unknown, call: string): string[] {
    const list = words(text(query));
    if (list.length === 0) throw new QueryError(`${call}(${JSON.stringify(query)}) holds no word`);
    return list;
  }

  /** True when the text holds every word of `query` (words as src/query/tokenize.ts finds them). */
  matches(query: string): Condition { return this.text('all', this.queryWords(query, 'matches')); }

  /** True when the text holds at least one word of `query`. */
  matchesAny(query: string): Condition { return this.text('any', this.queryWords(query, 'matchesAny')); }

  /** True when a word of the text starts with `prefix` (one word fragment; ASCII case ignored). */
  matchesPrefix(prefix: string): Condition {
    if (!isWordFragment(text(prefix))) throw new QueryError(`matchesPrefix(${JSON.stringify(prefix)}) must be part of one word`);
    return this.text('prefix', words(prefix));
  }
}

const text = (s: unknown): string => {
  if (typeof s !== 'string') throw new OperationError(`expected a string, got ${typeof s}`);
  return s;
};

const bytesOf = (b: unknown): Buffer => {
  if (!(b instanceof Uint8Array)) throw new OperationError('expected a Uint8Array');
  return Buffer.from(b);
};

export class BytesHandle extends FieldHandle {
  append(b: Uint8Array): any { return this.op('bytes', 'append', [param(bytesOf(b))], this.scalarResult); }
  /** Overwrites from `offset` (zero-padding a gap, like SETRANGE). */
  setRange(offset: number, b: Uint8Array): any {
    return this.op('bytes', 'setRange', [param(String(integer(offset, 'setRange'))), param(bytesOf(b))], this.scalarResult);
  }
  truncate(length: number): any { return this.op('bytes', 'truncate', [param(String(integer(length, 'truncate')))], this.scalarResult); }
}

export interface Duration { days?: number; hours?: number; minutes?: number; seconds?: number; ms?: number }

export function durationMs(d: number | Duration): number {
  if (typeof d === 'number') return finite(d, 'duration');
  const ms = (d.days ?? 0) * 86_400_000 + (d.hours ?? 0) * 3_600_000 + (d.minutes ?? 0) * 60_000 + (d.seconds ?? 0) * 1000 + (d.ms ?? 0);
  return finite(ms, 'duration');
}

export class DateTimeHandle extends FieldHandle {
  add(d: number | Duration): any { return this.op('date', 'add', [param(String(durationMs(d)))], this.scalarResult); }
  sub(d: number | Duration): any { return this.op('date', 'sub', [param(String(durationMs(d)))], this.scalarResult); }
  /** Sets the field to the Redis server's clock. */
  setNow(): any { return this.op('date', 'setNow', [], this.scalarResult); }
}

/** A boolean field is a condition itself: `p.active.ifTrue(...)`. */
export class BooleanHandle extends Condition {
  private readonly field: FieldHandle;
  constructor(ctx: Ctx, spec: FieldSpec, within?: string) {
    const field = new FieldHandle(ctx, spec, within);
    super(node({ kind: 'Compare', op: 'eq', left: field.expr, right: param('true', 'bool') }), ctx.recorder);
    this.field = field;
  }
  set(v: boolean | null): any { return this.field.set(v); }
  toggle(): any {
    return (this.field as unknown as { op: FieldHandle['op'] }).op.call(this.field, 'bool', 'toggle', [], (raw) => raw === null ? undefined : String(raw) === 'true');
  }
  eq(v: unknown): Condition { return this.field.eq(v); }
  ne(v: unknown): Condition { return this.field.ne(v); }
  get spec(): FieldSpec { return this.field.spec; }
  get valueExpr(): Expr { return this.field.expr; }
}

/** A loop item, or a field inside an object item: readable and comparable. */
export class ItemHandle extends ValueHandle {
  constructor(ctx: Ctx, spec: FieldSpec, readonly loop: number, readonly path: readonly string[], readonly raw: boolean) {
    super(ctx, spec, node({ kind: 'Item', loop, path: Object.freeze([...path]), as: raw ? 'raw' : luaTypeOf(spec) }));
    if (spec.kind === 'object') {
      for (const name of spec.order) {
        Object.defineProperty(this, name, {
          enumerable: true,
          get: () => itemFieldHandle(ctx, spec.fields[name], loop, [...path, name]),
        });
      }
    }
  }
}

function itemFieldHandle(ctx: Ctx, spec: FieldSpec, loop: number, path: string[]): ValueHandle | Condition {
  const h = new ItemHandle(ctx, spec, loop, path, false);
  if (spec.kind !== 'boolean') return h;
  return new Condition(node({ kind: 'Compare', op: 'eq', left: h.expr, right: param('true', 'bool') }), ctx.recorder);
}

const itemEq = (spec: FieldSpec): 'n' | 's' | 'o' =>
  spec.kind === 'object' ? 'o' : luaTypeOf(spec) === 'num' ? 'n' : 's';

export class ArrayHandle extends FieldHandle {
  declare readonly spec: ArraySpec;

  private items(items: unknown[]): Expr {
    items.forEach((item, i) => validate(this.spec.items, item, `${this.spec.path}.${i}`));
    return paramList(items.map((item) => encodeElement(this.spec.items, item)));
  }

  private element(item: unknown): Expr {
    if (item instanceof ItemHandle && item.spec === this.spec.items) return node({ kind: 'Item', loop: item.loop, path: Object.freeze([]), as: 'raw' });
    validate(this.spec.items, item, this.spec.path);
    return param(encodeElement(this.spec.items, item));
  }

  private whole = (): unknown => this.current();
  private removed = (raw: Raw | null): unknown => (raw === null ? undefined : decodeElement(this.spec.items, raw));

  override set(items: unknown[]): any {
    validate(this.spec, items, this.spec.path);
    return this.op('array', 'set', [this.items(items)], this.whole);
  }
  append(...items: unknown[]): any { return this.op('array', 'append', [this.items(items)], this.whole); }
  prepend(...items: unknown[]): any { return this.op('array', 'prepend', [this.items(items)], this.whole); }
  insert(i: number, item: unknown): any { return this.op('array', 'insert', [index(i), this.element(item)], this.whole); }
  setAt(i: number, item: unknown): any { return this.op('array', 'setAt', [index(i), this.element(item)], this.whole); }
  /** Removes and returns the item at i (default: the last); undefined when the array is empty. */
  pop(i = -1): any { return this.op('array', 'pop', [index(i)], this.removed); }
  /** Removes the first item equal to `item` (deep equality for objects); resolves to whether one was. */
  remove(item: unknown): any {
    return this.op('array', 'remove', [this.element(item)], (raw) => raw !== null && String(raw) === 'true', itemEq(this.spec.items));
  }
  removeAt(i: number): any { return this.op('array', 'removeAt', [index(i)], this.removed); }
  /** Deletes items[start:end] with Python slice rules (negative indices count from the end, clamped). */
  removeRange(start: number, end?: number): any {
    return this.op('array', 'removeRange', [index(start), end === undefined ? param(null) : index(end)], this.whole);
  }
  clear(): any { return this.op('array', 'clear', [], this.whole); }

  length(): ValueHandle {
    const spec: FieldSpec = { kind: 'integer', path: `${this.spec.path}.length`, optional: false, nullable: false, hasDefault: false };
    return new ValueHandle(this.ctx, spec, node({ kind: 'ArrayLength', rec: this.ctx.rec, field: this.spec.path }));
  }
  isEmpty(): Condition { return this.length().eq(0); }
  contains(item: unknown): Condition {
    return new Condition(node({ kind: 'ArrayContains', rec: this.ctx.rec, field: this.spec.path, item: this.element(item), eq: itemEq(this.spec.items) }), this.ctx.recorder);
  }
  /** The element at i, for conditions; `p.tags.at(0).eq('x')`. */
  at(i: number): ValueHandle {
    return new ValueHandle(this.ctx, this.spec.items, node({
      kind: 'ArrayAt', rec: this.ctx.rec, field: this.spec.path, path: this.spec.path, index: index(i), as: luaTypeOf(this.spec.items), sub: Object.freeze([]),
    }));
  }

  /** A server-side loop: the body is recorded once with a symbolic item. */
  forEach(fn: (item: any) => void): void {
    const loop = this.ctx.recorder.nextLoop();
    const item = new ItemHandle(this.ctx, this.spec.items, loop, [], false);
    const body = this.ctx.recorder.block(() => fn(item));
    this.ctx.recorder.emit(node({
      kind: 'ForEach', rec: this.ctx.rec, field: this.spec.path, over: 'array', objects: this.spec.items.kind === 'object', loop, body,
    }), () => undefined);
  }

  /** Removes every item for which `fn(item)` holds on the server. */
  removeWhere(fn: (item: any) => Condition): void {
    this.forEach((item) => fn(item).ifTrue(() => this.remove(item)));
  }

  /** `for (const item of p.inventory) { ... }`: the loop body becomes a server-side loop. */
  [Symbol.iterator](): Iterator<any> {
    const recorder = this.ctx.recorder;
    const loop = recorder.nextLoop();
    const item = new ItemHandle(this.ctx, this.spec.items, loop, [], false);
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
          return { value: item, done: false };
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

export class RecordHandle extends FieldHandle {
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

  override set(obj: Record<string, unknown>): any {
    validate(this.spec, obj, this.spec.path);
    return this.op('dict', 'set', [this.pairs(obj)], this.whole);
  }
  setItem(k: string, v: unknown): any { return this.op('dict', 'setItem', [param(text(k)), param(this.value(v, k))], this.whole); }
  update(obj: Record<string, unknown>): any { return this.op('dict', 'update', [this.pairs(obj)], this.whole); }
  /** Deletes key k; resolves to its old value (undefined if absent). */
  delete(k: string): any { return this.op('dict', 'delete', [param(text(k))], this.old); }
  /** Removes k and returns its value; without a default, a missing key is an OperationError. */
  pop(k: string, ...dflt: [unknown?]): any {
    const has = dflt.length > 0;
    return this.op('dict', 'pop', [param(text(k)), param(has ? '1' : '0'), param(has ? this.value(dflt[0], k) : '')], this.old);
  }
  /** Removes and returns [key, value] of the entry with the greatest key. */
  popItem(): any {
    return this.op('dict', 'popItem', [], (raw) => {
      const [k, v] = raw as unknown as Buffer[];
      return [k.toString('utf8'), decodeElement(this.spec.values, v)];
    });
  }
  clear(): any { return this.op('dict', 'clear', [], this.whole); }
  /** Adds n to the numeric value at k (a missing key counts as 0). */
  incr(k: string, n = 1): any {
    return this.op('dict', 'incr', [param(text(k)), param(String(finite(n, 'incr')))], (raw) => (raw === null ? undefined : Number(String(raw))));
  }
  /** The value at k, for conditions. */
  get(k: string): ValueHandle {
    return new ValueHandle(this.ctx, this.spec.values, node({
      kind: 'DictGet', rec: this.ctx.rec, field: this.spec.path, key: param(text(k)), as: luaTypeOf(this.spec.values), sub: Object.freeze([]),
    }));
  }
  /** A server-side loop over the entries, in key order: `fn(value, key)`. */
  forEach(fn: (value: any, key: ValueHandle) => void): void {
    const loop = this.ctx.recorder.nextLoop();
    const value = new ItemHandle(this.ctx, this.spec.values, loop, [], false);
    const keySpec: FieldSpec = { kind: 'string', path: `${this.spec.path}.<key>`, optional: false, nullable: false, hasDefault: false };
    const key = new ValueHandle(this.ctx, keySpec, node({ kind: 'Item', loop, path: Object.freeze([]), as: 'str', key: true }));
    const body = this.ctx.recorder.block(() => fn(value, key));
    this.ctx.recorder.emit(node({
      kind: 'ForEach', rec: this.ctx.rec, field: this.spec.path, over: 'dict', objects: this.spec.values.kind === 'object', loop, body,
    }), () => undefined);
  }
}

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
