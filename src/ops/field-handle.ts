/**
 * The base handles: a value a condition can compare or compute with (`ValueHandle`), and a stored
 * field whose operations record FieldOp statements (`FieldHandle`). Values are validated and
 * encoded as they are recorded (Drizzle-style). The classes implement the handle types of
 * src/model/types.ts, so the two cannot drift apart.
 */
import {
  fieldOp, make, param, paramList, type ArithOp, type CompareOp, type Constraints, type Expr, type FieldOpNode, type FieldOps, type FieldOpTarget,
  type NestedNode, type NestedOpNode,
} from '../ast/nodes.js';
import { OperationError } from '../errors.js';
import type { FieldH, Mode, Ret, ValueH } from '../model/types.js';
import { decodeScalar, encodeElement, encodeScalar, type Raw } from '../schema/codec.js';
import type { LuaType } from '../ast/nodes.js';
import { constraintsOf, luaTypeOf, schemaCheckOf } from '../schema/facts.js';
import type { FieldSpec, ScalarSpec } from '../schema/spec.js';
import { checkBytes, checkText, validate } from '../schema/validate.js';
import { Condition } from './condition.js';
import { pathGet, type Nest } from './nest.js';
import type { Recorder, ResultDecoder } from './recorder.js';

export interface Ctx {
  readonly recorder: Recorder;
  /** 1-based index of the record in the program. */
  readonly rec: number;
  /** The local record the immediate form updates (and reads results from). */
  readonly data: () => Record<string, unknown>;
  /** The model's maxValueBytes: what a string or bytes result computed on the server may hold. */
  readonly maxBytes?: number;
}

/** The read of a nested value as a condition operand (JSON text for collections and objects), its length, or whether it holds an item. */
export const nestedRead = (ctx: Ctx, nest: Nest, read: NestedNode['read'], as: LuaType, contains?: Pick<NestedNode, 'item' | 'eq'>): NestedNode =>
  make('Nested', { rec: ctx.rec, field: nest.field, top: nest.top, steps: nest.steps, path: nest.path, read, as, ...contains });

/** A value handle: something a condition can compare (a field, a loop item, an element). */
export class ValueHandle<T = unknown> implements ValueH<T> {
  constructor(protected readonly ctx: Ctx, readonly spec: FieldSpec, readonly expr: Expr) {}

  /** A literal or another handle, as an expression of this handle's type. */
  protected operand(v: unknown): Expr {
    if (v instanceof ValueHandle) return v.expr;
    if (v === null || v === undefined) return param(null);
    validate({ ...this.spec, optional: false, nullable: false } as FieldSpec, v, this.spec.path || 'value');
    // an element that is an inner collection compares as its stored JSON text
    return param(encodeElement(this.spec, v), luaTypeOf(this.spec));
  }

  protected compare(op: CompareOp, v: unknown): Condition {
    return new Condition(make('Compare', { op, left: this.expr, right: this.operand(v) }), this.ctx.recorder);
  }

  eq(v: T | ValueH<T>): Condition { return this.compare('eq', v); }
  ne(v: T | ValueH<T>): Condition { return this.compare('ne', v); }
  gt(v: T | ValueH<T>): Condition { return this.compare('gt', v); }
  gte(v: T | ValueH<T>): Condition { return this.compare('gte', v); }
  lt(v: T | ValueH<T>): Condition { return this.compare('lt', v); }
  lte(v: T | ValueH<T>): Condition { return this.compare('lte', v); }

  /** a <= value <= b */
  between(a: T | ValueH<T>, b: T | ValueH<T>): Condition {
    return this.gte(a).and(this.lte(b));
  }

  in(values: readonly T[]): Condition {
    const raws = values.map((v) => {
      validate({ ...this.spec, optional: false, nullable: false } as FieldSpec, v, this.spec.path || 'value');
      return encodeScalar(this.spec as ScalarSpec, v);
    });
    return new Condition(make('In', { value: this.expr, list: paramList(raws), as: luaTypeOf(this.spec) }), this.ctx.recorder);
  }

  // Computed values (evaluated by the script): p.total.set(p.price.times(p.qty))
  private arith<R>(op: ArithOp, other: unknown): ValueHandle<R> {
    const right = other instanceof ValueHandle ? other.expr
      : op === 'concat' ? param(text(other), 'str') : param(String(finite(other, op)), 'num');
    const spec: FieldSpec = op === 'concat'
      ? { kind: 'string', path: this.spec.path, optional: false, nullable: false, hasDefault: false }
      : { kind: 'number', path: this.spec.path, optional: false, nullable: false, hasDefault: false };
    return new ValueHandle<R>(this.ctx, spec, make('Arith', { op, left: this.expr, right }));
  }
  plus(x: number | ValueH<number>): ValueHandle<number> { return this.arith<number>('add', x); }
  minus(x: number | ValueH<number>): ValueHandle<number> { return this.arith<number>('sub', x); }
  times(x: number | ValueH<number>): ValueHandle<number> { return this.arith<number>('mul', x); }
  dividedBy(x: number | ValueH<number>): ValueHandle<number> { return this.arith<number>('div', x); }
  /** Floor division: the integer part towards minus infinity. */
  floorDiv(x: number | ValueH<number>): ValueHandle<number> { return this.arith<number>('floordiv', x); }
  modulo(x: number | ValueH<number>): ValueHandle<number> { return this.arith<number>('mod', x); }
  power(x: number | ValueH<number>): ValueHandle<number> { return this.arith<number>('pow', x); }
  /** The smaller of this value and x (clamps from above). */
  atMost(x: number | ValueH<number>): ValueHandle<number> { return this.arith<number>('min', x); }
  /** The larger of this value and x (clamps from below). */
  atLeast(x: number | ValueH<number>): ValueHandle<number> { return this.arith<number>('max', x); }
  concat(x: string | ValueH<string>): ValueHandle<string> { return this.arith<string>('concat', x); }

  startsWith(prefix: string | ValueH<string>): Condition {
    const p = prefix instanceof ValueHandle ? prefix.expr : param(text(prefix), 'str');
    return new Condition(make('StartsWith', { value: this.expr, prefix: p }), this.ctx.recorder);
  }
}

/** A handle on a stored field: operations record FieldOp statements. */
export class FieldHandle<T = unknown, M extends Mode = Mode, N extends null = never> extends ValueHandle<T> implements FieldH<T, M, N> {
  /**
   * `within`: the nearest enclosing object that may be absent; writing into it while absent would
   * leave a partial object. `nest`: the handle is an inner collection (its spec's path is then the
   * path errors name, `groups.admins`).
   */
  constructor(ctx: Ctx, spec: FieldSpec, protected readonly within?: string, protected readonly nest?: Nest) {
    super(ctx, spec, nest ? nestedRead(ctx, nest, 'value', 'raw') : make('Field', { rec: ctx.rec, field: spec.path, as: luaTypeOf(spec) }));
  }

  /** What the compiler must know of where the field sits: an enclosing object that may be absent, and whether it may be null. */
  private get guard(): { within?: string; nullable?: boolean } {
    const within = this.within === undefined ? {} : { within: this.within };
    return this.spec.nullable ? { ...within, nullable: true } : within;
  }

  /**
   * Records one field operation; `R` is what the immediate form resolves to (the type the handle
   * types of src/model/types.ts promise, which `decode` produces). Pipelines get nothing back.
   */
  protected op<R, O extends FieldOpTarget = FieldOpTarget>(
    target: O, op: FieldOps[O], args: Expr[], decode: ResultDecoder, eq?: FieldOpNode['eq'],
  ): Ret<M, R> {
    // every value an operation sends (a string, bytes, an item, a dict value) fits the model's cap
    for (const a of args) {
      if (a.kind === 'Param') checkBytes(a.value, this.spec.path || 'value', this.ctx.maxBytes);
      else if (a.kind === 'ParamList') for (const v of a.values) checkBytes(v, this.spec.path || 'value', this.ctx.maxBytes);
    }
    if (this.nest) return this.nestedOp<R>(target, op, args, decode, eq);
    const stmt = fieldOp<O>({
      rec: this.ctx.rec, target, op, field: this.spec.path,
      args: Object.freeze(args), check: checkOf(this.spec, this.ctx.maxBytes), ...(eq ? { eq } : {}), ...this.guard,
    });
    return this.ctx.recorder.emit(stmt, decode) as Ret<M, R>;
  }

  /** An operation on an inner collection: the same operation, applied inside the outer element. */
  private nestedOp<R>(target: FieldOpTarget, op: string, args: Expr[], decode: ResultDecoder, eq?: FieldOpNode['eq']): Ret<M, R> {
    const { field, top, steps, path } = this.nest!;
    const stmt = make('NestedOp', {
      rec: this.ctx.rec, field, top, steps, path, target, op, args: Object.freeze(args),
      schema: schemaCheckOf(this.spec, this.ctx.maxBytes), ...(eq ? { eq } : {}), ...(this.within === undefined ? {} : { within: this.within }),
    } as NestedOpNode);
    return this.ctx.recorder.emit(stmt, decode) as Ret<M, R>;
  }

  protected current(): unknown {
    return this.nest ? this.nest.locate(this.ctx.data()) : pathGet(this.ctx.data(), this.spec.path);
  }

  protected scalarResult = (raw: Raw | null): unknown => (raw === null ? undefined : decodeScalar(this.spec as ScalarSpec, raw));

  /** Sets the field: a value (validated now; `null` for nullable fields) or a computed value (checked by the script). */
  set(value: T | N | ValueH<any>): Ret<M, T | N> {
    if (value instanceof ValueHandle) {
      const as = luaTypeOf(this.spec) === 'num' ? 'n' : luaTypeOf(this.spec) === 'bool' ? 'b' : 's';
      return this.ctx.recorder.emit(make('SetComputed', {
        rec: this.ctx.rec, field: this.spec.path, value: value.expr, as,
        check: checkOf(this.spec, this.ctx.maxBytes), ...this.guard,
      }), this.scalarResult) as Ret<M, T | N>;
    }
    validate(this.spec, value, this.spec.path);
    if (value === null) return this.op<N>('scalar', 'setNull', [], () => null);
    return this.op<T>('scalar', 'set', [param(encodeScalar(this.spec as ScalarSpec, value))], this.scalarResult);
  }
}

export const finite = (n: unknown, what: string): number => {
  if (typeof n !== 'number' || !Number.isFinite(n)) throw new OperationError(`${what}: expected a finite number, got ${String(n)}`);
  return n;
};

/** Indices, offsets, lengths and counts: Lua would silently truncate or misuse a fraction. */
export const integer = (n: unknown, what: string): number => {
  const v = finite(n, what);
  if (!Number.isInteger(v)) throw new OperationError(`${what}: expected an integer, got ${v}`);
  return v;
};

export const text = (s: unknown): string => {
  if (typeof s !== 'string') throw new OperationError(`expected a string, got ${typeof s}`);
  return checkText(s, 'value');
};

/**
 * The server-side checks of a field, made once per spec (they ride in every FieldOp node); a spec
 * belongs to one model, so its maxValueBytes is the same on every call.
 */
const checks = new WeakMap<FieldSpec, Constraints>();

function checkOf(spec: FieldSpec, maxBytes: number | undefined): Constraints {
  let c = checks.get(spec);
  if (!c) checks.set(spec, (c = Object.freeze(constraintsOf(spec, maxBytes))));
  return c;
}
