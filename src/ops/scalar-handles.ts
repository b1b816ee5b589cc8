/**
 * Handles of scalar fields: numbers, strings (with the text conditions), bytes, dates, booleans.
 * Each implements its type in src/model/types.ts.
 */
import { make, param, paramList, type Expr, type FieldOps, type TextMatchNode } from '../ast/nodes.js';
import { OperationError, QueryError, ValidationError } from '../errors.js';
import type { BooleanH, BytesH, DateTimeH, Duration, JsonH, Mode, NumberH, Ret, StringH, ValueH } from '../model/types.js';
import { encodeScalar, type Raw } from '../schema/codec.js';
import { validate } from '../schema/validate.js';
import { isWordFragment, words } from '../query/tokenize.js';
import type { FieldSpec, ScalarSpec } from '../schema/spec.js';
import { Condition } from './condition.js';
import { FieldHandle, ValueHandle, finite, integer, text, type Ctx } from './field-handle.js';

export class NumberHandle<M extends Mode = Mode, N extends null = never> extends FieldHandle<number, M, N> implements NumberH<M, N> {
  private num(op: FieldOps['num'], n: unknown): Ret<M, number> {
    return this.op<number>('num', op, [param(String(finite(n, `${this.spec.path}.${op}`)), 'raw')], this.scalarResult);
  }
  incr(n = 1): Ret<M, number> { return this.num('incr', n); }
  decr(n = 1): Ret<M, number> { return this.num('decr', n); }
  mul(n: number): Ret<M, number> { return this.num('mul', n); }
  /** Integer fields: floor division; Number fields: true division. */
  div(n: number): Ret<M, number> { return this.num('div', n); }
  /** Modulo with the sign of the divisor (Python's %). */
  mod(n: number): Ret<M, number> { return this.num('mod', n); }
  pow(n: number): Ret<M, number> { return this.num('pow', n); }
  /** Sets the field to the smaller of its value and n. */
  min(n: number): Ret<M, number> { return this.num('min', n); }
  /** Sets the field to the larger of its value and n. */
  max(n: number): Ret<M, number> { return this.num('max', n); }
}

export class StringHandle<M extends Mode = Mode, N extends null = never> extends FieldHandle<string, M, N> implements StringH<string, M, N> {
  append(s: string): Ret<M, string> { return this.op<string>('str', 'append', [param(text(s))], this.scalarResult); }
  prepend(s: string): Ret<M, string> { return this.op<string>('str', 'prepend', [param(text(s))], this.scalarResult); }
  repeat(n: number): Ret<M, string> { return this.op<string>('str', 'repeat', [param(String(integer(n, 'repeat')))], this.scalarResult); }

  private text(mode: TextMatchNode['mode'], list: readonly string[]): Condition {
    return new Condition(make('TextMatch', { value: this.expr, mode, words: paramList(list) }), this.ctx.recorder);
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

const bytesOf = (b: unknown): Buffer => {
  if (!(b instanceof Uint8Array)) throw new OperationError('expected a Uint8Array');
  return Buffer.from(b);
};

export class BytesHandle<M extends Mode = Mode, N extends null = never> extends FieldHandle<Uint8Array, M, N> implements BytesH<M, N> {
  append(b: Uint8Array): Ret<M, Uint8Array> { return this.op<Uint8Array>('bytes', 'append', [param(bytesOf(b))], this.scalarResult); }
  /** Overwrites from `offset` (zero-padding a gap, like SETRANGE). */
  setRange(offset: number, b: Uint8Array): Ret<M, Uint8Array> {
    return this.op<Uint8Array>('bytes', 'setRange', [param(String(integer(offset, 'setRange'))), param(bytesOf(b))], this.scalarResult);
  }
  truncate(length: number): Ret<M, Uint8Array> { return this.op<Uint8Array>('bytes', 'truncate', [param(String(integer(length, 'truncate')))], this.scalarResult); }
}

export function durationMs(d: number | Duration): number {
  if (typeof d === 'number') return finite(d, 'duration');
  const ms = (d.days ?? 0) * 86_400_000 + (d.hours ?? 0) * 3_600_000 + (d.minutes ?? 0) * 60_000 + (d.seconds ?? 0) * 1000 + (d.ms ?? 0);
  return finite(ms, 'duration');
}

export class DateTimeHandle<M extends Mode = Mode, N extends null = never> extends FieldHandle<Date, M, N> implements DateTimeH<M, N> {
  add(d: number | Duration): Ret<M, Date> { return this.op<Date>('date', 'add', [param(String(durationMs(d)))], this.scalarResult); }
  sub(d: number | Duration): Ret<M, Date> { return this.op<Date>('date', 'sub', [param(String(durationMs(d)))], this.scalarResult); }
  /** Sets the field to the Redis server's clock. */
  setNow(): Ret<M, Date> { return this.op<Date>('date', 'setNow', [], this.scalarResult); }
}

/** The stored side of a boolean handle: set and toggle. */
class BooleanField<M extends Mode, N extends null> extends FieldHandle<boolean, M, N> {
  toggle(): Ret<M, boolean> {
    return this.op<boolean>('bool', 'toggle', [], (raw) => (raw === null ? undefined : String(raw) === 'true'));
  }
}

/** A boolean field is a condition itself: `p.active.ifTrue(...)`. */
export class BooleanHandle<M extends Mode = Mode, N extends null = never> extends Condition implements BooleanH<M, N> {
  private readonly field: BooleanField<M, N>;
  constructor(ctx: Ctx, spec: FieldSpec, within?: string) {
    const field = new BooleanField<M, N>(ctx, spec, within);
    super(make('Compare', { op: 'eq', left: field.expr, right: param('true', 'bool') }), ctx.recorder);
    this.field = field;
  }
  set(v: boolean | N): Ret<M, boolean | N> { return this.field.set(v); }
  toggle(): Ret<M, boolean> { return this.field.toggle(); }
  eq(v: boolean | ValueH<boolean>): Condition { return this.field.eq(v); }
  ne(v: boolean | ValueH<boolean>): Condition { return this.field.ne(v); }
  get spec(): FieldSpec { return this.field.spec; }
  get valueExpr(): Expr { return this.field.expr; }
}

/**
 * A `Type.Any()` / `Type.Unknown()` field: any JSON value (null included), stored as canonical
 * JSON text, so `set` and the equality conditions (`eq`, `ne`, `in`) compare values by their text.
 */
export class JsonHandle<M extends Mode = Mode> extends FieldHandle<unknown, M> implements JsonH<unknown, M> {
  protected override operand(v: unknown): Expr {
    if (v instanceof ValueHandle) return v.expr;
    validate(this.spec, v === undefined ? null : v, this.spec.path || 'value');
    return param(encodeScalar(this.spec as ScalarSpec, v === undefined ? null : v), 'str');
  }

  override set(value: unknown): Ret<M, unknown> {
    if (value instanceof ValueHandle) throw new QueryError(`${this.spec.path}: a JSON field is set from a value, not a computed one`);
    if (value === undefined) throw new ValidationError(`${this.spec.path}: undefined is not a JSON value (use null)`, this.spec.path, 'type');
    validate(this.spec, value, this.spec.path);
    return this.op<unknown>('scalar', 'set', [param(encodeScalar(this.spec as ScalarSpec, value))], this.scalarResult);
  }

  override in(values: readonly unknown[]): Condition {
    const list = values.map((v) => (this.operand(v) as { value: Raw }).value);
    return new Condition(make('In', { value: this.expr, list: paramList(list), as: 'str' }), this.ctx.recorder);
  }

  private unordered(): never {
    throw new QueryError(`${this.spec.path}: JSON values have no order; compare them with eq, ne or in`);
  }
  override gt(): Condition { return this.unordered(); }
  override gte(): Condition { return this.unordered(); }
  override lt(): Condition { return this.unordered(); }
  override lte(): Condition { return this.unordered(); }
}
