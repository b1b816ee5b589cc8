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
import { freezeDeep, type CallFn, type ProgramNode, type QueryNode } from '../ast/nodes.js';
import type { Raw } from '../schema/codec.js';
import { block } from './emit.js';
import { linkFunctions, luaString } from './link.js';
import { readSets } from './read-set.js';
import { queryBody, readsOnly } from './query.js';
import { refParams, shapeOf, type Shape, type Source } from './shape.js';
import { guardLines } from './shard.js';
import { isStraight, straightBody } from './straight.js';
import { changesTable, expiryTable, indexTables, Writer } from './writer.js';

export interface Compiled {
  readonly lua: string;
  readonly sha1: string;
  readonly keys: readonly string[];
  readonly argv: readonly Raw[];
  readonly readOnly: boolean;
  /** Whether replies must keep binary values (Buffers) rather than text. */
  readonly binary: boolean;
  /**
   * A read the script would do with one Redis command on its one key (`HGETALL`, `EXISTS`, `TTL`):
   * the executor sends that command instead (same reply, without running Lua). See {@link plainRead}.
   */
  readonly command?: PlainRead;
  /**
   * A read the script would do with one command per key (getMany's chunk: HGETALL of each record):
   * the executor sends those commands in one MULTI/EXEC instead (as atomic, one round trip, and
   * Redis sends each hash as it is rather than converting a Lua table per record). See {@link plainReads}.
   */
  readonly each?: { readonly command: 'HGETALL'; readonly keys: readonly string[] };
}

/** The Redis command of each step that is a single command on the record's key (lua/lib/read.lua). */
const PLAIN_READS = { rec_read: 'HGETALL', rec_exists: 'EXISTS', rec_ttl: 'TTL' } as const;
export type PlainRead = (typeof PLAIN_READS)[keyof typeof PLAIN_READS];

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

/** Where each KEYS and ARGV slot of a shape's script comes from, as indexes into its {@link Shape}. */
interface Template {
  readonly lua: string;
  readonly sha1: string;
  readonly readOnly: boolean;
  readonly binary: boolean;
  readonly keys: readonly number[];
  readonly argv: readonly number[];
  readonly command?: PlainRead;
}

/** Templates by shape key; bounded, since a shape key holds no value but a caller could make shapes without end. */
const templates = new Map<string, Template>();
const MAX_TEMPLATES = 10_000;

/**
 * Compiles a program into one script. Pure: same node, same output. The first program of a shape
 * is compiled; every later one is bound from its template (only its KEYS and ARGV are built).
 */
export function compile(node: ProgramNode | QueryNode): Compiled {
  const compiled = compileScript(node);
  const each = node.kind === 'Program' ? plainReads(node) : undefined;
  return each ? Object.freeze({ ...compiled, each }) : compiled;
}

function compileScript(node: ProgramNode | QueryNode): Compiled {
  const shape = shapeOf(node);
  const template = templates.get(shape.key);
  if (template) return bind(template, shape);
  const { compiled, sources } = compileFresh(freezeDeep(node));
  const made = templateOf(compiled, sources, shapeOf(node, true));
  if (made) {
    if (templates.size >= MAX_TEMPLATES) templates.clear();
    templates.set(shape.key, made);
  }
  return compiled;
}

/**
 * Compiles without the shape cache (the reference the cache is tested against); `generic: true`
 * also leaves out the straight-line code and the read-set prefetch (the reference the specialised
 * code is tested against), `straight: false` only the straight-line code.
 */
export function compileUncached(node: ProgramNode | QueryNode, options: { generic?: boolean; straight?: boolean } = {}): Compiled {
  const mode = options.generic === true ? 'generic' : options.straight === false ? 'prefetch' : 'best';
  return compileFresh(freezeDeep(node), mode).compiled;
}

/** How much of the specialised code a compile uses (all of it but in the tests that compare the paths). */
type Mode = 'best' | 'prefetch' | 'generic';

function compileFresh(node: ProgramNode | QueryNode, mode: Mode = 'best'): { compiled: Compiled; sources: readonly Source[] } {
  if (node.kind === 'Program') {
    const { body, w } = programBody(node, mode);
    const compiled = finish(body, w, node.mode === 'read' && !slides(node), node.binary !== false);
    const command = mode === 'best' ? plainRead(node) : undefined;
    return { compiled: command ? Object.freeze({ ...compiled, command }) : compiled, sources: w.sources };
  }
  const { body, w } = queryBody(node, mode === 'generic');
  return { compiled: finish(body, w, readsOnly(node), node.binary !== false), sources: w.sources };
}

/** The template of a compiled script, or undefined when a slot came from outside the shape walk. */
function templateOf(c: Compiled, sources: readonly Source[], shape: Shape): Template | undefined {
  const sourceAt = new Map<Source, number>();
  shape.sources.forEach((s, i) => sourceAt.has(s) || sourceAt.set(s, i));
  const argv = sources.map((s) => sourceAt.get(s) ?? -1);
  const keys = c.keys.map((k) => shape.keys.indexOf(k));
  if (argv.includes(-1) || keys.includes(-1)) return undefined;
  return { lua: c.lua, sha1: c.sha1, readOnly: c.readOnly, binary: c.binary, keys, argv, command: c.command };
}

/**
 * A program's KEYS and ARGV by its template. `record`: the key and id of another record to bind in
 * place of the walked program's one record (the first key and the first source, see recordBinder).
 */
function bind(t: Template, shape: Shape, record?: { key: string; id: string }): Compiled {
  const keys = t.keys.map((i) => (record && i === 0 ? record.key : shape.keys[i]));
  let argv: Raw[] = [];
  for (const i of t.argv) {
    const s = shape.sources[i];
    if (record && i === 0) argv.push(record.id);
    else if (s.kind === 'Param') argv.push(s.value!);
    else {
      argv.push(String(s.values.length));
      // concat copies natively: a bulk chunk's list holds tens of thousands of values
      argv = argv.concat(s.values);
    }
  }
  const { lua, sha1, readOnly, binary, command } = t;
  return Object.freeze(command ? { lua, sha1, keys, argv, readOnly, binary, command } : { lua, sha1, keys, argv, readOnly, binary });
}

/** Binds a prepared program to one record (see {@link recordBinder}). */
export type RecordBinder = (key: string, id: string) => Compiled;

/**
 * A prepared program of one record: compiled (or taken from the shape cache) once, then bound to
 * any record whose program would differ only in its record's key and id, from those two alone: no
 * program built, no shape walk. For the hot one-record reads (get, exists, ttl), whose body names
 * the record only through its state, never by its id or key. The record's key is the walk's first
 * key and its id the first source (a RecordRef's `key` comes first, and its id and seen version are
 * the first values of a program); undefined where that does not hold, or the id is also a value
 * elsewhere in the program (a body that holds it would bind wrong): the caller then compiles as usual.
 */
export function recordBinder(program: ProgramNode): RecordBinder | undefined {
  const [record, other] = program.records;
  if (!record || other) return undefined;
  const shape = shapeOf(program);
  const first = shape.sources[0];
  if (shape.keys[0] !== record.key || first?.kind !== 'Param' || first.value !== record.id) return undefined;
  if (shape.sources.some((s, i) => i > 0 && (s.kind === 'Param' ? s.value === record.id : s.values.includes(record.id)))) return undefined;
  if (!templates.has(shape.key)) compile(program);
  const template = templates.get(shape.key);
  return template && ((key, id) => bind(template, shape, { key, id }));
}

/**
 * The one command a program's script would run, when that is all it does: one read step of one
 * record, with no layout check (a cluster's shard guard) and no sliding TTL to re-arm. Such a read
 * is as atomic as its script, and costs the server no Lua.
 */
function plainRead(program: ProgramNode): PlainRead | undefined {
  const [step, more] = program.body;
  const [record, other] = program.records;
  if (program.mode !== 'read' || more || other || !record || record.guard || program.guards?.length) return undefined;
  if (step?.kind !== 'Call' || !(step.fn in PLAIN_READS) || slides(program)) return undefined;
  return PLAIN_READS[step.fn as keyof typeof PLAIN_READS];
}

/**
 * The commands a bulk read's script would run, one HGETALL per record, when that is all it does:
 * no layout check (a cluster's shard guard), no sliding TTL to re-arm, and text replies.
 */
function plainReads(program: ProgramNode): Compiled['each'] {
  const [step, more] = program.body;
  // (node-redis decodes a transaction's replies without the client's type mapping: text only)
  if (program.mode !== 'read' || program.binary !== false || more || program.records.length > 0 || program.guards?.length) return undefined;
  if (step?.kind !== 'Call' || step.fn !== 'bulk_read' || slides(program)) return undefined;
  const [, prefix, ids] = step.args;
  return { command: 'HGETALL', keys: ids.values.map((id) => `${String(prefix.value)}${String(id)}`) };
}

/** Whether a program re-arms a sliding TTL (a read that does is a write for Redis: not EVALSHA_RO). */
function slides(program: ProgramNode): boolean {
  return program.body.some((s) => s.kind === 'Call' && (
    (s.fn === 'rec_read' && program.records[s.args[0].rec - 1]?.slideMs) || (s.fn === 'bulk_read' && s.args[3].value !== null)));
}

/**
 * The first lines of a body: its parameters (ARGV itself when it holds no list, or when the body
 * reads ARGV `direct`ly) and its constraint tables.
 */
function header(w: Writer, direct = false): string[] {
  const lines = [w.shape.includes('l') && !direct ? `local P = read_params(ARGV, "${w.shape}")` : 'local P = ARGV'];
  if (w.hasConstraints()) lines.push(`local C = ${w.constraintTables()}`);
  return lines;
}

/** Steps that read a record's key and nothing else (lua/lib/read.lua). */
const KEY_ONLY: ReadonlySet<CallFn> = new Set<CallFn>(['rec_read', 'rec_exists', 'rec_ttl']);

function programBody(program: ProgramNode, mode: Mode): { body: string; w: Writer } {
  const w = new Writer(program.records);
  const guards = (): string[] => guardLines([...(program.guards ?? []), ...program.records.map((r) => r.guard)], w);
  if (mode === 'best' && isStraight(program)) {
    const { lines, direct } = straightBody(program, w, guards);
    return { body: [...header(w, direct), ...lines].join('\n'), w };
  }
  // reads of a whole record (get, exists, ttl) use nothing of a state but its key
  const keyOnly = program.mode === 'read' && program.body.every((s) => s.kind === 'Call' && KEY_ONLY.has(s.fn));
  const states = program.records.map((r) => {
    const state = keyOnly ? `{ key = ${w.key(r.key)} }` : `st_new(${w.key(r.key)})`;
    // a read touches only the record's own key (one key, routed and cached like any read)
    if (program.mode === 'read' || (!r.ix?.length && !r.uq?.length && !r.exp && !r.ch)) return state;
    const id = w.param(refParams(r).id);
    const tables = indexTables(r.ix ?? [], r.uq ?? [], w);
    const exp = r.exp ? expiryTable(r.exp, w) : 'nil';
    return `st_indexed(${state}, ${id}, ${tables}, ${exp}${r.ch ? `, ${changesTable(r.ch, w)}` : ''})`;
  });
  const lines: string[] = [];
  if (program.mode === 'update') {
    if (mode !== 'generic') lines.push(...prefetch(program));
    program.records.forEach((_, i) => lines.push(`rec_require(S[${i + 1}])`));
  }
  const seen = program.mode === 'update' ? program.records.map((r) => w.param(refParams(r).seen)) : [];
  lines.push(block(program.body, w, ''));
  let ret = 'return R';
  if (program.mode === 'update') {
    lines.push('st_check_all(S)');
    program.records.forEach((_, i) => lines.push(`st_commit(S[${i + 1}])`));
    ret = `return { R, ${seen.map((p, i) => `st_reply(S[${i + 1}], ${p})`).join(', ')} }`;
  }
  // a sliding TTL is re-armed, after the writes, by the programs that read or update the record
  const slide = program.mode === 'update' || (program.mode === 'read' && program.body.some((s) => s.kind === 'Call' && s.fn === 'rec_read'));
  // (the TTL is the model's declaration, part of the program's shape: a whole number of ms in the text)
  const slid = slide ? program.records.flatMap((r, i) => (r.slideMs ? [`rec_slide(S[${i + 1}], ${Number(r.slideMs)})`] : [])) : [];
  lines.push(...slid);
  // the layout checks run first but take the last slots, so a sharded script differs only by them
  const guarded = guards();
  const body = [
    ...header(w),
    `local S = { ${states.join(', ')} }`,
    'local R = {}',
    ...guarded,
    ...lines.filter((l) => l !== ''),
    ret,
  ].join('\n');
  return { body, w };
}

/** The read set of each record, read with one HMGET before the body (see src/compile/read-set.ts). */
function prefetch(program: ProgramNode): string[] {
  const list = (names: Set<string>): string => `{${[...names].map(luaString).join(', ')}}`;
  return readSets(program).map((r, i) => `st_prefetch(S[${i + 1}], ${list(r.fields)}, ${list(r.absent)})`);
}

/** A body and its slots as a script: linked (or taken from the cache), frozen. */
function finish(body: string, w: Writer, readOnly: boolean, binary: boolean): Compiled {
  const { lua, sha1 } = linked(body, readOnly);
  return Object.freeze({ lua, sha1, keys: Object.freeze(w.keys), argv: Object.freeze(w.argv), readOnly, binary });
}
