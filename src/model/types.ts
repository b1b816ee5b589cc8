/**
 * Static types of records and handles, derived from the TypeBox shape. Type-only: no runtime cost.
 * `M` is the handle mode: 'now' (u.$: each call runs and resolves to its result) or 'pipe'
 * (inside a pipeline: calls record and return nothing).
 */
import type {
  Static, TAny, TArray, TNull, TObject, TOptional, TProperties, TRecord, TSchema, TUnion, TUnknown,
} from 'typebox';
import type { Explained } from '../client/run.js';
import type { Defaulted } from '../schema/defaulted.js';
import type { Condition } from '../ops/condition.js';
import type { Synchronous } from '../ops/recorder.js';

export type Mode = 'now' | 'pipe';
/** What a field operation returns: a promise of its result (immediate form), nothing in a pipeline. */
export type Ret<M extends Mode, T> = M extends 'now' ? Promise<T> : void;

/** A duration for date arithmetic: milliseconds, or parts that add up. */
export interface Duration { days?: number; hours?: number; minutes?: number; seconds?: number; ms?: number }

export type Data<S extends TProperties> = Static<TObject<S>>;

export interface ValueH<T> {
  eq(v: T | ValueH<T>): Condition;
  ne(v: T | ValueH<T>): Condition;
  gt(v: T | ValueH<T>): Condition;
  gte(v: T | ValueH<T>): Condition;
  lt(v: T | ValueH<T>): Condition;
  lte(v: T | ValueH<T>): Condition;
  in(values: readonly T[]): Condition;
  between(a: T | ValueH<T>, b: T | ValueH<T>): Condition;
  plus(x: number | ValueH<number>): ValueH<number>;
  minus(x: number | ValueH<number>): ValueH<number>;
  times(x: number | ValueH<number>): ValueH<number>;
  dividedBy(x: number | ValueH<number>): ValueH<number>;
  floorDiv(x: number | ValueH<number>): ValueH<number>;
  modulo(x: number | ValueH<number>): ValueH<number>;
  power(x: number | ValueH<number>): ValueH<number>;
  atMost(x: number | ValueH<number>): ValueH<number>;
  atLeast(x: number | ValueH<number>): ValueH<number>;
  concat(x: string | ValueH<string>): ValueH<string>;
}

/** `N` is `null` for a nullable field (`Type.Union([X, Type.Null()])`), which `set(null)` clears. */
export interface FieldH<T, M extends Mode, N extends null = never> extends ValueH<T> {
  /** A value, or a computed value evaluated by the script: `p.total.set(p.price.times(p.qty))`. */
  set(v: T | N | ValueH<any>): Ret<M, T | N>;
}

export interface NumberH<M extends Mode, N extends null = never> extends FieldH<number, M, N> {
  incr(n?: number): Ret<M, number>;
  decr(n?: number): Ret<M, number>;
  mul(n: number): Ret<M, number>;
  div(n: number): Ret<M, number>;
  mod(n: number): Ret<M, number>;
  pow(n: number): Ret<M, number>;
  min(n: number): Ret<M, number>;
  max(n: number): Ret<M, number>;
}

export interface StringH<T extends string, M extends Mode, N extends null = never> extends FieldH<T, M, N> {
  append(s: string): Ret<M, T>;
  prepend(s: string): Ret<M, T>;
  repeat(n: number): Ret<M, T>;
  startsWith(prefix: string | ValueH<string>): Condition;
  /** Every word of `query` is a word of the text (see "Text search" in the README). */
  matches(query: string): Condition;
  /** At least one word of `query` is a word of the text. */
  matchesAny(query: string): Condition;
  /** A word of the text starts with `prefix`. */
  matchesPrefix(prefix: string): Condition;
}

export interface BytesH<M extends Mode, N extends null = never> extends FieldH<Uint8Array, M, N> {
  append(b: Uint8Array): Ret<M, Uint8Array>;
  setRange(offset: number, b: Uint8Array): Ret<M, Uint8Array>;
  truncate(length: number): Ret<M, Uint8Array>;
}

export interface DateTimeH<M extends Mode, N extends null = never> extends FieldH<Date, M, N> {
  add(d: number | Duration): Ret<M, Date>;
  sub(d: number | Duration): Ret<M, Date>;
  setNow(): Ret<M, Date>;
}

export interface BooleanH<M extends Mode, N extends null = never> extends Condition {
  set(v: boolean | N): Ret<M, boolean | N>;
  toggle(): Ret<M, boolean>;
  eq(v: boolean | ValueH<boolean>): Condition;
  ne(v: boolean | ValueH<boolean>): Condition;
}

/** A boolean loop item (or boolean field of an object item): a condition itself, `item.done.ifTrue(...)`, like a boolean field. */
export interface BooleanItemH extends Condition {
  eq(v: boolean | ValueH<boolean>): Condition;
  ne(v: boolean | ValueH<boolean>): Condition;
}

/** A loop item: the element itself (scalars) or its fields (objects). */
export type ItemH<I> = I extends boolean ? BooleanItemH
  : I extends Date | Uint8Array | string | number ? ValueH<I>
  : I extends object ? ValueH<I> & { readonly [K in keyof I]-?: ItemH<NonNullable<I[K]>> }
  : ValueH<I>;

/**
 * The handle of an element of a collection (`p.matrix.at(0)`, `p.groups.get('admins')`): an inner
 * array or record takes the operations of its kind, an object gives a handle per field, and every
 * element compares as a value. (A record is told from an object by its string index signature.)
 */
export type ElemH<I, M extends Mode> = [I] extends [readonly (infer E)[]] ? ArrayH<E, M> & ValueH<I>
  : [I] extends [Date | Uint8Array] ? ValueH<I>
  : [I] extends [object] ? (string extends keyof I ? RecordH<I[string], M> & ValueH<I> : ValueH<I> & { readonly [K in keyof I]-?: ElemH<NonNullable<I[K]>, M> })
  : ValueH<I>;

export interface ArrayH<I, M extends Mode> {
  set(items: I[]): Ret<M, I[]>;
  append(...items: I[]): Ret<M, I[]>;
  prepend(...items: I[]): Ret<M, I[]>;
  insert(i: number, item: I | ItemH<I>): Ret<M, I[]>;
  setAt(i: number, item: I | ItemH<I>): Ret<M, I[]>;
  pop(i?: number): Ret<M, I | undefined>;
  remove(item: I | ItemH<I>): Ret<M, boolean>;
  removeAt(i: number): Ret<M, I>;
  removeRange(start: number, end?: number): Ret<M, I[]>;
  clear(): Ret<M, I[]>;
  length(): ValueH<number>;
  isEmpty(): Condition;
  contains(item: I | ItemH<I>): Condition;
  /** The element at i: comparable, and a handle of its own when it is a collection or an object. */
  at(i: number): ElemH<I, M>;
  forEach(fn: (item: ItemH<I>) => void): void;
  removeWhere(fn: (item: ItemH<I>) => Condition): void;
  [Symbol.iterator](): Iterator<ItemH<I>>;
}

export interface RecordH<V, M extends Mode> {
  set(obj: Record<string, V>): Ret<M, Record<string, V>>;
  /** Keys are strings, or a loop's key handle (`p.scores.forEach((v, k) => p.scores.delete(k))`). */
  setItem(k: string | ValueH<string>, v: V): Ret<M, Record<string, V>>;
  update(obj: Record<string, V>): Ret<M, Record<string, V>>;
  delete(k: string | ValueH<string>): Ret<M, V | undefined>;
  pop(k: string | ValueH<string>, dflt?: V): Ret<M, V>;
  popItem(): Ret<M, [string, V]>;
  clear(): Ret<M, Record<string, V>>;
  incr(k: string | ValueH<string>, n?: number): Ret<M, number>;
  /** The value at k (or at a loop's key): comparable, and a handle of its own when it is a collection or an object. */
  get(k: string | ValueH<string>): ElemH<V, M>;
  forEach(fn: (value: ItemH<V>, key: ValueH<string>) => void): void;
}

/** A nested object: its field handles, and `set` to replace it whole. */
export interface ObjectH<T, M extends Mode> {
  set(v: T): Ret<M, T>;
}

/** A `Type.Any()` / `Type.Unknown()` field: set, and equality conditions on the JSON value. */
export interface JsonH<T, M extends Mode> {
  set(v: T): Ret<M, T>;
  eq(v: T | ValueH<any>): Condition;
  ne(v: T | ValueH<any>): Condition;
  in(values: readonly T[]): Condition;
}

type ScalarH<T, M extends Mode, N extends null> = [T] extends [boolean] ? BooleanH<M, N>
  : [T] extends [number] ? NumberH<M, N>
  : [T] extends [string] ? StringH<T, M, N>
  : [T] extends [Date] ? DateTimeH<M, N>
  : [T] extends [Uint8Array] ? BytesH<M, N>
  : FieldH<T, M, N>;

/** The handle of one schema. */
export type HandleOf<S extends TSchema, M extends Mode> =
  S extends TAny | TUnknown ? JsonH<Static<S>, M>
  : S extends TRecord<string, infer V extends TSchema> ? RecordH<Static<V>, M>
  : S extends TArray<infer I extends TSchema> ? ArrayH<Static<I>, M>
  : S extends TObject<infer P extends TProperties> ? Handles<P, M> & ObjectH<Static<S> | (S extends TOptional<TSchema> ? undefined : never), M>
  : S extends TUnion<[TObject<infer P extends TProperties>, TNull]> | TUnion<[TNull, TObject<infer P extends TProperties>]>
    ? Handles<P, M> & ObjectH<Static<S>, M>
  : ScalarH<NonNullable<Static<S>>, M, null extends Static<S> ? null : never>;

export type Handles<S extends TProperties, M extends Mode> = { readonly [K in keyof S]: HandleOf<S[K], M> };

/** A pipeline program over one record: `u.pipeline((p) => { p.score.incr(1); p.tags.append('x'); })`. */
/** Recorded synchronously: a callback returning a promise is refused, by type and at run time. */
export type PipelineFn<S extends TProperties, R = unknown> = (p: Handles<S, 'pipe'>) => Synchronous<R>;

export interface SaveOptions {
  /** Overwrite the stored record even if it changed (or was deleted) since this copy was read. */
  force?: boolean;
}

export interface LockOptions {
  /** How long the lock lives if it is not released (its holder died): 10,000 ms by default. */
  leaseMs?: number;
  /** How long to wait for a lock someone else holds before `LockTimeoutError`: 5,000 ms by default. */
  waitMs?: number;
  /** Stops waiting: the call rejects with `signal.reason` (a lock already taken is held until `fn` ends). */
  signal?: AbortSignal;
}

/** The methods every record has besides its fields. */
export interface RecordMethods<S extends TProperties> {
  readonly id: string;
  readonly key: string;
  /** Atomic field operations that run at once: `await u.$.score.incr(10)`. */
  readonly $: Handles<S, 'now'>;
  /** ConflictError when the stored record changed or was deleted since this copy was read. */
  save(options?: SaveOptions): Promise<this>;
  reload(): Promise<this>;
  delete(): Promise<boolean>;
  expire(seconds: number): Promise<boolean>;
  ttl(): Promise<number>;
  pipeline<R>(fn: PipelineFn<S, R>): Promise<this>;
  explain<R>(fn: PipelineFn<S, R>): Explained;
  /** Runs `fn` holding the record's lock, with the record freshly loaded: `await u.lock(async (locked) => ...)`. */
  lock<T>(fn: (locked: Rec<S>) => Promise<T> | T, options?: LockOptions): Promise<T>;
  toJSON(): Data<S>;
}

export type Rec<S extends TProperties> = Data<S> & RecordMethods<S>;

/** Fields `create` may leave out: optional ones, and those declared with a `default` (see src/schema/defaulted.ts). */
type OmittableKeys<S extends TProperties> = { [K in keyof S]: S[K] extends TOptional<TSchema> | Defaulted ? K : never }[keyof S];

/** The input form of one schema: defaults are filled at every depth (objects, array items, dict values). */
type InputOf<S extends TSchema> =
  S extends TRecord<string, infer V extends TSchema> ? Record<string, InputOf<V>>
  : S extends TArray<infer I extends TSchema> ? InputOf<I>[]
  : S extends TObject<infer P extends TProperties> ? InputObject<P>
  : S extends TUnion<[TObject<infer P extends TProperties>, TNull]> | TUnion<[TNull, TObject<infer P extends TProperties>]>
    ? InputObject<P> | null
  : Static<S>;

type InputObject<S extends TProperties> = {
  -readonly [K in Exclude<keyof S, OmittableKeys<S>>]: InputOf<S[K]>;
} & {
  -readonly [K in OmittableKeys<S>]?: InputOf<S[K]>;
} extends infer O ? { [K in keyof O]: O[K] } : never;

/**
 * What `create` and `insertMany` accept: every required field, and the optional or defaulted ones
 * when wanted (`create({ name: 'Ada', age: 36 })` on a model whose `score` has a default).
 */
export type CreateInput<S extends TProperties> = InputObject<S>;
