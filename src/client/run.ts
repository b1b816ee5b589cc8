/**
 * The one seam every program runs through: freeze the recorded nodes, compile (the compiler keeps
 * one script per shape), run on a connection, decode the reply with a typed decoder
 * (src/client/decode.ts), published on the `rapyer:script` diagnostics channel (src/client/diagnostics.ts).
 * `explainProgram` shows what would run, without running it.
 *
 * @example
 * const exists = await runProgram(model.db, program, decode.flag);
 */
import type { ProgramNode, QueryNode } from '../ast/nodes.js';
import { compile, type Compiled } from '../compile/compiler.js';
import type { Decoder } from './decode.js';
import { traced } from './diagnostics.js';
import type { ScriptRunner } from './executor.js';

/** A program's script, its KEYS and its ARGV. */
export type Explained = Pick<Compiled, 'lua' | 'keys' | 'argv'>;

export function runProgram<T>(db: ScriptRunner, program: ProgramNode | QueryNode, decode: Decoder<T>): Promise<T> {
  // a hot call: no async frame (a compile error still rejects, never throws)
  let script: Compiled;
  try {
    script = compile(program);
  } catch (err) {
    return Promise.reject(err);
  }
  return runCompiled(db, program, script, decode);
}

/** Runs a program compiled already (a prepared one, see recordBinder in src/compile/compiler.ts). */
export function runCompiled<T>(db: ScriptRunner, program: ProgramNode | QueryNode, script: Compiled, decode: Decoder<T>): Promise<T> {
  return traced(program, script, () => db.run(script).then(decode));
}

export function explainProgram(program: ProgramNode | QueryNode): Explained {
  const { lua, keys, argv } = compile(program);
  return { lua, keys, argv };
}
