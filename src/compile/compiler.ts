/**
 * The Lua compiler: one pure function from a Program or Query node to
 * `{ lua, sha1, keys, argv, readOnly }`. Expressions and statements are emitted by the dispatch
 * tables of src/compile/emit.ts, queries by src/compile/query.ts, and the body is linked with the
 * lua/lib functions it calls (src/compile/link.ts).
 *
 * Values never enter the Lua text: every Param becomes an ARGV slot (read by `read_params`), every
 * key a KEYS slot, so the same program shape always compiles to the same script and SHA1.
 * All writes are staged in Lua (lua/lib/state.lua) and sent by `st_commit` after the body, so every
 * check of a program runs before its first write.
 */
import { createHash } from 'node:crypto';
import type { ProgramNode, QueryNode } from '../ast/nodes.js';
import type { Raw } from '../schema/codec.js';
import { block } from './emit.js';
import { linkFunctions } from './link.js';
import { queryBody } from './query.js';
import { guardLines } from './shard.js';
import { changesTable, expiryTable, indexTables, Writer } from './writer.js';

export interface Compiled {
  readonly lua: string;
  readonly sha1: string;
  readonly keys: readonly string[];
  readonly argv: readonly Raw[];
  readonly readOnly: boolean;
  /** Whether replies must keep binary values (Buffers) rather than text. */
  readonly binary: boolean;
}

/**
 * Scripts by body text. A body depends only on the program's shape, so this stays as small as the
 * set of shapes in use, and a hot call skips linking and hashing.
 */
const scripts = new Map<string, { lua: string; sha1: string }>();

function linked(body: string, readOnly: boolean): { lua: string; sha1: string } {
  const cacheKey = readOnly ? `ro\n${body}` : body;
  let script = scripts.get(cacheKey);
  if (!script) {
    const lua = `${readOnly ? '#!lua flags=no-writes\n' : ''}${linkFunctions(body)}\n\n${body}\n`;
    script = { lua, sha1: createHash('sha1').update(lua).digest('hex') };
    scripts.set(cacheKey, script);
  }
  return script;
}

/** Compiles a program into one script. Pure: same node, same output. */
export function compile(node: ProgramNode | QueryNode): Compiled {
  if (node.kind === 'Program') return compileProgram(node);
  const { body, w } = queryBody(node);
  return finish(body, w, false, node.binary !== false);
}

function compileProgram(program: ProgramNode): Compiled {
  const w = new Writer(program.records);
  const states = program.records.map((r) => {
    const state = `st_new(${w.key(r.key)})`;
    if (!r.ix?.length && !r.uq?.length && !r.exp && !r.ch) return state;
    const id = w.param({ kind: 'Param', value: r.id, as: 'str' });
    const tables = indexTables(r.ix ?? [], r.uq ?? [], w);
    const exp = r.exp ? expiryTable(r.exp, w) : 'nil';
    return `st_indexed(${state}, ${id}, ${tables}, ${exp}${r.ch ? `, ${changesTable(r.ch, w)}` : ''})`;
  });
  const lines: string[] = [];
  if (program.mode === 'update') {
    program.records.forEach((_, i) => lines.push(`rec_require(S[${i + 1}])`));
  }
  const seen = program.mode === 'update'
    ? program.records.map((r) => w.param({ kind: 'Param', value: r.seen, as: 'str' }))
    : [];
  lines.push(block(program.body, w, ''));
  let ret = 'return R';
  if (program.mode === 'update') {
    program.records.forEach((_, i) => lines.push(`st_check(S[${i + 1}])`));
    program.records.forEach((_, i) => lines.push(`st_commit(S[${i + 1}])`));
    ret = `return { R, ${seen.map((p, i) => `st_reply(S[${i + 1}], ${p})`).join(', ')} }`;
  }
  // the layout checks run first but take the last slots, so a sharded script differs only by them
  const guards = guardLines([...(program.guards ?? []), ...program.records.map((r) => r.guard)], w);
  const body = [
    `local P = read_params(ARGV, "${w.shape}")`,
    `local C = ${w.constraintTables()}`,
    `local S = { ${states.join(', ')} }`,
    'local R = {}',
    ...guards,
    ...lines.filter((l) => l !== ''),
    ret,
  ].join('\n');
  return finish(body, w, program.mode === 'read', program.binary !== false);
}

/** A body and its slots as a script: linked (or taken from the cache), frozen. */
function finish(body: string, w: Writer, readOnly: boolean, binary: boolean): Compiled {
  const { lua, sha1 } = linked(body, readOnly);
  return Object.freeze({ lua, sha1, keys: Object.freeze(w.keys), argv: Object.freeze(w.argv), readOnly, binary });
}
