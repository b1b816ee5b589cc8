/**
 * The handle classes (src/ops/*-handles.ts) against the handle types users see (src/model/types.ts).
 * `implements` alone lets a class method take a NARROWER or unrelated-looking parameter (methods
 * are checked bivariantly) and a wider one (`unknown`) hides what the types promise; here every
 * method of each type must exist on its class with exactly the same parameters, and a return type
 * the type accepts. A drift fails `tsc --noEmit` naming the method. Nothing here runs.
 */
import type {
  ArrayH, BooleanH, BooleanItemH, BytesH, DateTimeH, FieldH, JsonH, NumberH, ObjectH, RecordH, StringH, ValueH,
} from '../../src/model/types.js';
import type { ArrayHandle, BooleanItem, RecordHandle } from '../../src/ops/collection-handles.js';
import type { FieldHandle, ValueHandle } from '../../src/ops/field-handle.js';
import type { ObjectHandle } from '../../src/ops/handles.js';
import type {
  BooleanHandle, BytesHandle, DateTimeHandle, JsonHandle, NumberHandle, StringHandle,
} from '../../src/ops/scalar-handles.js';

type Equal<A, B> = (<X>() => X extends A ? 1 : 2) extends (<X>() => X extends B ? 1 : 2) ? true : false;
type Args<F> = F extends (...args: infer A) => unknown ? A : never;
type Result<F> = F extends (...args: never[]) => infer R ? R : never;

/** The methods of type `I` that class `C` lacks, or declares with other parameters or an unfit result. */
type Drift<C, I> = {
  [K in keyof I]-?: K extends keyof C
    ? Equal<Args<C[K]>, Args<I[K]>> extends true ? (Result<C[K]> extends Result<I[K]> ? never : K) : K
    : K;
}[keyof I];

/** Compiles only when `D` is `never`: an error here names the drifting methods. */
type NoDrift<D extends never> = D;

export type Checked = [
  NoDrift<Drift<ValueHandle<number>, ValueH<number>>>,
  NoDrift<Drift<ValueHandle<string>, ValueH<string>>>,
  NoDrift<Drift<FieldHandle<'a' | 'b', 'now'>, FieldH<'a' | 'b', 'now'>>>,
  NoDrift<Drift<FieldHandle<number, 'pipe', null>, FieldH<number, 'pipe', null>>>,
  NoDrift<Drift<NumberHandle<'now'>, NumberH<'now'>>>,
  NoDrift<Drift<NumberHandle<'pipe', null>, NumberH<'pipe', null>>>,
  NoDrift<Drift<StringHandle<'now'>, StringH<string, 'now'>>>,
  NoDrift<Drift<StringHandle<'pipe', null>, StringH<string, 'pipe', null>>>,
  NoDrift<Drift<BytesHandle<'now'>, BytesH<'now'>>>,
  NoDrift<Drift<DateTimeHandle<'pipe'>, DateTimeH<'pipe'>>>,
  NoDrift<Drift<BooleanHandle<'now'>, BooleanH<'now'>>>,
  NoDrift<Drift<BooleanHandle<'pipe', null>, BooleanH<'pipe', null>>>,
  NoDrift<Drift<JsonHandle<'now'>, JsonH<unknown, 'now'>>>,
  NoDrift<Drift<ArrayHandle<string, 'now'>, ArrayH<string, 'now'>>>,
  NoDrift<Drift<ArrayHandle<{ sku: string; qty: number }, 'pipe'>, ArrayH<{ sku: string; qty: number }, 'pipe'>>>,
  NoDrift<Drift<RecordHandle<number, 'now'>, RecordH<number, 'now'>>>,
  NoDrift<Drift<RecordHandle<string[], 'pipe'>, RecordH<string[], 'pipe'>>>,
  NoDrift<Drift<ObjectHandle<{ city: string }, 'now'>, ObjectH<{ city: string }, 'now'>>>,
  NoDrift<Drift<BooleanItem, BooleanItemH>>,
];

// the check itself can fail: a class method taking `unknown` where its type takes a number drifts
interface Loose { incr(n: unknown): void }
// @ts-expect-error: Drift<Loose, ...> is 'incr', not never
export type Caught = NoDrift<Drift<Loose, { incr(n: number): void }>>;
