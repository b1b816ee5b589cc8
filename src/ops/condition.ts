/**
 * Conditions: boolean expressions recorded from handles, decided by the script on the server.
 * `cond.ifTrue(fn or [fns]).else(fn or [fns])`, combinable with `.and() .or() .not()` and the free
 * functions `and(...) or(...) not(c)`.
 */
import { make, param, type Expr } from '../ast/nodes.js';
import { activeRecorder, assertSynchronous, type Recorder } from './recorder.js';

export type Branch = (() => unknown) | readonly (() => unknown)[];

const runBranch = (b: Branch): void => {
  if (typeof b === 'function') assertSynchronous(b(), 'a branch callback');
  else for (const fn of b) assertSynchronous(fn(), 'a branch callback');
};

export interface ElseClause {
  else(branch: Branch): void;
}

export class Condition {
  constructor(readonly expr: Expr, protected readonly recorder?: Recorder) {}

  and(...others: Condition[]): Condition {
    return and(this, ...others);
  }

  or(...others: Condition[]): Condition {
    return or(this, ...others);
  }

  not(): Condition {
    return not(this);
  }

  /** Runs `branch` on the server when the condition holds there at execution time. */
  ifTrue(branch: Branch): ElseClause {
    const recorder = this.recorder ?? activeRecorder('ifTrue');
    const then = recorder.block(() => runBranch(branch));
    const withElse = recorder.branch(this.expr, then);
    return {
      else(otherwise: Branch) {
        withElse(recorder.block(() => runBranch(otherwise)));
      },
    };
  }

  /** Runs `branch` when the condition does not hold. */
  ifFalse(branch: Branch): ElseClause {
    return this.not().ifTrue(branch);
  }
}

const conditions = (items: readonly (Condition | undefined)[]): Condition[] =>
  items.filter((c): c is Condition => c !== undefined);

/** All of the conditions (undefined ones are ignored, as in Drizzle). */
export function and(...items: (Condition | undefined)[]): Condition {
  const list = conditions(items);
  if (list.length === 1) return list[0];
  if (list.length === 0) return new Condition(param('true', 'bool'));
  return new Condition(make('And', { items: Object.freeze(list.map((c) => c.expr)) }));
}

export function or(...items: (Condition | undefined)[]): Condition {
  const list = conditions(items);
  if (list.length === 1) return list[0];
  if (list.length === 0) return new Condition(param('false', 'bool'));
  return new Condition(make('Or', { items: Object.freeze(list.map((c) => c.expr)) }));
}

export function not(c: Condition): Condition {
  return new Condition(make('Not', { item: c.expr }));
}

/** The condition of `find()` with none, and of bulk operations by ids: holds on every stored record. */
export const EVERY = new Condition(param('true', 'bool'));

/** Stops the whole program before any write; the call rejects with `AbortError(message)`. */
export function abort(message: string): void {
  activeRecorder('abort').emit(make('Abort', { message: param(message, 'str') }), () => undefined);
}
