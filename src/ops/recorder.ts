/**
 * The recorder: field handles and conditions push statement nodes here. A pipeline records a whole
 * program; the immediate form (`u.$`) runs each statement as soon as it is recorded.
 */
import { ifNode, type Expr, type ForEachNode, type Stmt } from '../ast/nodes.js';
import { UsageError } from '../errors.js';
import type { Raw } from '../schema/codec.js';

/** Turns an op's raw result (and the updated record) into what the immediate call resolves to. */
export type ResultDecoder = (raw: Raw | null) => unknown;

export type Runner = (stmt: Stmt, decode: ResultDecoder) => Promise<unknown>;

export class Recorder {
  private readonly stack: Stmt[][] = [[]];
  private loops = 0;

  /** With a runner, every statement runs at once (the immediate form). */
  constructor(private readonly runner?: Runner) {}

  emit(stmt: Stmt, decode: ResultDecoder): Promise<unknown> | undefined {
    if (this.runner) return this.runner(stmt, decode);
    this.stack[this.stack.length - 1].push(stmt);
    return undefined;
  }

  /** Records what `fn` records into a new block, and returns that block. */
  block(fn: () => unknown): Stmt[] {
    if (this.runner) throw new UsageError('conditions, branches and loops need a pipeline: use u.pipeline((p) => ...)');
    this.stack.push([]);
    try {
      assertSynchronous(fn(), 'a branch or loop callback');
    } catch (err) {
      this.stack.pop();
      throw err;
    }
    return this.stack.pop()!;
  }

  /**
   * Opens a loop body for `for (const item of p.array)`: statements recorded until the returned
   * close() runs go into the loop, whose node (`loop(body)`) close() then records.
   */
  openLoop(loop: (body: readonly Stmt[]) => ForEachNode): () => void {
    if (this.runner) throw new UsageError('loops need a pipeline: use u.pipeline((p) => ...)');
    const depth = this.stack.push([]);
    return () => {
      if (this.stack.length !== depth) throw new UsageError('a loop body must close before its enclosing block');
      this.emit(loop(this.stack.pop()!), () => undefined);
    };
  }

  nextLoop(): number {
    return ++this.loops;
  }

  get body(): readonly Stmt[] {
    return this.stack[0];
  }

  /**
   * Records `if cond then ... end`; the returned function adds an else branch by replacing the
   * recorded node (in the recorder's block, which is still open) with a new one: nodes are
   * frozen when made and never change.
   */
  branch(cond: Expr, then: readonly Stmt[]): (otherwise: readonly Stmt[]) => void {
    const block = this.stack[this.stack.length - 1];
    const at = block.push(ifNode(cond, then, [])) - 1;
    return (otherwise) => {
      block[at] = ifNode(cond, then, otherwise);
    };
  }
}

/**
 * Programs are recorded synchronously, then sent as one script: a callback that returns a promise
 * (an `async` one) would have recorded only what ran before its first `await`. Such a result is
 * refused before anything is sent; the callback's own later failure is swallowed (it can no
 * longer record anything), so it never surfaces as an unhandled rejection.
 */
export function assertSynchronous(result: unknown, what: string): void {
  const then = result !== null && (typeof result === 'object' || typeof result === 'function')
    ? (result as { then?: unknown }).then : undefined;
  if (typeof then !== 'function') return;
  Promise.resolve(result).catch(() => undefined);
  throw new UsageError(`${what} must be synchronous (it returned a promise): programs are recorded at once and run as one script, so record every operation before returning, without await`);
}

/** What a program callback may return: anything but a promise or thenable (see {@link assertSynchronous}). */
export type Synchronous<R> = R & (R extends PromiseLike<unknown> ? never : unknown);

/** The recorder of the program being recorded now, for the free functions (`abort`, `and`...). */
let active: Recorder | undefined;

/** Runs a program callback with `recorder` active; refuses a callback that returns a promise. */
export function recording<T>(recorder: Recorder, fn: () => T): T {
  const previous = active;
  active = recorder;
  try {
    const result = fn();
    assertSynchronous(result, 'a pipeline, transaction or updateMany callback');
    return result;
  } finally {
    active = previous;
  }
}

export function activeRecorder(what: string): Recorder {
  if (!active) throw new UsageError(`${what} can only be used inside a pipeline program`);
  return active;
}
