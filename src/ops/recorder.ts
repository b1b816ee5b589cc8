/**
 * The recorder: field handles and conditions push statement nodes here. A pipeline records a whole
 * program; the immediate form (`u.$`) runs each statement as soon as it is recorded.
 */
import { ifNode, type Expr, type Stmt } from '../ast/nodes.js';
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
  block(fn: () => void): Stmt[] {
    if (this.runner) throw new UsageError('conditions, branches and loops need a pipeline: use u.pipeline((p) => ...)');
    this.stack.push([]);
    try {
      fn();
    } catch (err) {
      this.stack.pop();
      throw err;
    }
    return this.stack.pop()!;
  }

  /**
   * Opens a loop body for `for (const item of p.array)`: statements recorded until the returned
   * close() runs go into the loop, which close() then records.
   */
  openLoop(rec: number, field: string, objects: boolean, loop: number): () => void {
    if (this.runner) throw new UsageError('loops need a pipeline: use u.pipeline((p) => ...)');
    const depth = this.stack.push([]);
    return () => {
      if (this.stack.length !== depth) throw new UsageError('a loop body must close before its enclosing block');
      const body = this.stack.pop()!;
      this.emit({ kind: 'ForEach', rec, field, over: 'array', objects, loop, body }, () => undefined);
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

/** The recorder of the program being recorded now, for the free functions (`abort`, `and`...). */
let active: Recorder | undefined;

export function recording<T>(recorder: Recorder, fn: () => T): T {
  const previous = active;
  active = recorder;
  try {
    return fn();
  } finally {
    active = previous;
  }
}

export function activeRecorder(what: string): Recorder {
  if (!active) throw new UsageError(`${what} can only be used inside a pipeline program`);
  return active;
}
