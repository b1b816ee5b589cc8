/**
 * The Lua compiler: one pure function from a Program node to `{ lua, sha1, keys, argv, readOnly }`,
 * with one dispatch table over expression kinds and one over statement kinds.
 *
 * Values never enter the Lua text: every Param becomes an ARGV slot (read by `read_params`), every
 * key a KEYS slot, so the same program shape always compiles to the same script and SHA1.
 * All writes are staged in Lua (lua/lib/state.lua) and sent by `st_commit` after the body, so every
 * check of a program runs before its first write.
 */
import { createHash } from 'node:crypto';
import type {
  Constraints, Expr, IndexRef, LuaType, ParamListNode, ParamNode, PlanNode, ProgramNode, QueryNode, RecordRef, Stmt,
} from '../ast/nodes.js';
import type { Raw } from '../schema/codec.js';
import { linkFunctions, luaString } from './link.js';
import { fieldOpCall } from './field-ops.js';
import { emitInsertMany, emitReadMany } from './bulk.js';

export interface Compiled {
  readonly lua: string;
  readonly sha1: string;
  readonly keys: readonly string[];
  readonly argv: readonly Raw[];
  readonly readOnly: boolean;
  /** Whether replies must keep binary values (Buffers) rather than text. */
  readonly binary: boolean;
}

/** Collects KEYS, ARGV and constraint tables while the body is written. */
export class Writer {
  readonly keys: string[] = [];
  readonly argv: Raw[] = [];
  shape = '';
  private readonly constraints: string[] = [];
  private results = 0;

  constructor(private readonly records: ProgramNode['records']) {}

  /** The KEYS slot of the model id set of record `rec`. */
  idsKey(rec: number): string {
    return this.key(this.records[rec - 1].idsKey);
  }

  key(name: string): string {
    let i = this.keys.indexOf(name);
    if (i < 0) i = this.keys.push(name) - 1;
    return `KEYS[${i + 1}]`;
  }

  param(p: ParamNode): string {
    if (p.value === null) return 'nil';
    this.argv.push(p.value);
    this.shape += 's';
    const ref = `P[${this.shape.length}]`;
    switch (p.as) {
      case 'num': return `tonumber(${ref})`;
      case 'bool': return `(${ref} == "true")`;
      default: return ref;
    }
  }

  list(p: ParamListNode): string {
    this.argv.push(String(p.values.length), ...p.values);
    this.shape += 'l';
    return `P[${this.shape.length}]`;
  }

  check(c: Constraints): string {
    const parts: string[] = [];
    for (const [k, v] of Object.entries(c)) {
      if (v === undefined) continue;
      if (Array.isArray(v)) parts.push(`${k}={${v.map((x) => luaString(String(x))).join(',')}}`);
      else parts.push(`${k}=${typeof v === 'boolean' ? String(v) : String(v)}`);
    }
    const table = `{${parts.join(',')}}`;
    let i = this.constraints.indexOf(table);
    if (i < 0) i = this.constraints.push(table) - 1;
    return `C[${i + 1}]`;
  }

  result(): string {
    return `R[${++this.results}]`;
  }

  constraintTables(): string {
    return `{${this.constraints.join(', ')}}`;
  }
}

const state = (rec: number): string => `S[${rec}]`;

const decode = (raw: string, as: LuaType): string => {
  switch (as) {
    case 'num': return `dec_num(${raw})`;
    case 'bool': return `dec_bool(${raw})`;
    default: return raw;
  }
};

const jsonPath = (obj: string, path: readonly string[], as: LuaType): string => {
  const v = `jget(${[obj, ...path.map(luaString)].join(', ')})`;
  return as === 'num' ? `dec_num(${v})` : v;
};

type ExprEmitters = { [K in Expr['kind']]: (n: Extract<Expr, { kind: K }>, w: Writer) => string };
type StmtEmitters = { [K in Stmt['kind']]: (n: Extract<Stmt, { kind: K }>, w: Writer, indent: string) => string };

const COMPARE = { eq: '==', ne: '~=' } as const;

const expr: ExprEmitters = {
  Param: (n, w) => w.param(n),
  ParamList: (n, w) => w.list(n),
  Field: (n) => `rd_${n.as === 'raw' ? 'str' : n.as}(${state(n.rec)}, ${luaString(n.field)})`,
  Item: (n) => {
    if (n.key) return `K${n.loop}`;
    if (n.path.length > 0) return jsonPath(`O${n.loop}`, n.path, n.as);
    return decode(`I${n.loop}`, n.as);
  },
  ArrayLength: (n) => `arr_length(${state(n.rec)}, ${luaString(n.field)})`,
  ArrayAt: (n, w) => {
    const raw = `arr_at(${state(n.rec)}, ${luaString(n.field)}, ${luaString(n.path)}, ${emit(n.index, w)})`;
    return n.sub.length > 0 ? jsonPath(`cjson.decode(${raw})`, n.sub, n.as) : decode(raw, n.as);
  },
  ArrayContains: (n, w) => `arr_contains(${state(n.rec)}, ${luaString(n.field)}, "${n.eq}", ${emit(n.item, w)})`,
  DictGet: (n, w) => {
    const raw = `dict_get(${state(n.rec)}, ${luaString(n.field)}, ${emit(n.key, w)})`;
    return n.sub.length > 0 ? jsonPath(`cjson.decode(${raw} or "null")`, n.sub, n.as) : decode(raw, n.as);
  },
  Arith: (n, w) => {
    const a = emit(n.left, w);
    const b = emit(n.right, w);
    switch (n.op) {
      case 'add': return `(${a} + ${b})`;
      case 'sub': return `(${a} - ${b})`;
      case 'mul': return `(${a} * ${b})`;
      case 'div': return `(${a} / ${b})`;
      case 'floordiv': return `math.floor(${a} / ${b})`;
      case 'mod': return `(${a} % ${b})`;
      case 'pow': return `(${a} ^ ${b})`;
      case 'min': return `math.min(${a}, ${b})`;
      case 'max': return `math.max(${a}, ${b})`;
      case 'concat': return `(${a} .. ${b})`;
    }
  },
  Compare: (n, w) => {
    const a = emit(n.left, w);
    const b = emit(n.right, w);
    if (n.op === 'eq' || n.op === 'ne') return `(${a} ${COMPARE[n.op]} ${b})`;
    return `c_${n.op}(${a}, ${b})`;
  },
  In: (n, w) => `c_in(${emit(n.value, w)}, ${w.list(n.list)}, "${n.as}")`,
  StartsWith: (n, w) => `c_prefix(${emit(n.value, w)}, ${emit(n.prefix, w)})`,
  TextMatch: (n, w) => `tx_match(${emit(n.value, w)}, ${w.list(n.words)}, "${n.mode}")`,
  And: (n, w) => `(${n.items.map((i) => emit(i, w)).join(' and ')})`,
  Or: (n, w) => `(${n.items.map((i) => emit(i, w)).join(' or ')})`,
  Not: (n, w) => `(not ${emit(n.item, w)})`,
};

function emit(n: Expr, w: Writer): string {
  return (expr[n.kind] as (n: Expr, w: Writer) => string)(n, w);
}

const block = (body: readonly Stmt[], w: Writer, indent: string): string =>
  body.map((s) => statement(s, w, indent)).join('\n');

/** The check that an enclosing object that may be absent is there, before a write into it. */
const present = (n: { rec: number; path: string; within?: string }, ind: string): string =>
  n.within === undefined ? '' : `${ind}obj_present(${state(n.rec)}, ${luaString(n.within)}, ${luaString(n.path)})\n`;

const stmt: StmtEmitters = {
  FieldOp: (n, w, ind) => {
    const args = n.args.map((a) => emit(a, w));
    return `${present(n, ind)}${ind}${w.result()} = ${fieldOpCall(n, state(n.rec), w.check(n.check), args)} or false`;
  },
  SetComputed: (n, w, ind) =>
    `${present(n, ind)}${ind}${w.result()} = set_checked(${state(n.rec)}, ${luaString(n.field)}, ${luaString(n.path)}, ${w.check(n.check)}, "${n.as}", ${emit(n.value, w)})`,
  If: (n, w, ind) => {
    const lines = [`${ind}if ${emit(n.cond, w)} then`, block(n.then, w, `${ind}  `)];
    if (n.else.length > 0) lines.push(`${ind}else`, block(n.else, w, `${ind}  `));
    lines.push(`${ind}end`);
    return lines.filter((l) => l !== '').join('\n');
  },
  ForEach: (n, w, ind) => {
    const s = state(n.rec);
    const f = luaString(n.field);
    const i = n.loop;
    const decodeItem = n.objects ? `\n${ind}  local O${i} = cjson.decode(I${i})` : '';
    if (n.over === 'array') {
      return `${ind}for _, I${i} in ipairs(arr_snapshot(${s}, ${f})) do${decodeItem}\n${block(n.body, w, `${ind}  `)}\n${ind}end`;
    }
    return [
      `${ind}for _, K${i} in ipairs(dict_keys(${s}, ${f})) do`,
      `${ind}  local I${i} = dict_get(${s}, ${f}, K${i})`,
      `${ind}  if I${i} ~= nil then${decodeItem.replace(/\n {2}/, '\n    ')}`,
      block(n.body, w, `${ind}    `),
      `${ind}  end`,
      `${ind}end`,
    ].join('\n');
  },
  Abort: (n, w, ind) => `${ind}fail("ABORT", tostring(${emit(n.message, w)}))`,
  WriteRecord: (n, w, ind) =>
    `${ind}${w.result()} = rec_write(${state(n.rec)}, ${w.idsKey(n.rec)}, ${w.param(n.id)}, ${w.list(n.fields)}, "${n.mode}", ${w.param(n.ttlMs)})`,
  DeleteRecord: (n, w, ind) =>
    `${ind}${w.result()} = rec_delete(${state(n.rec)}, ${w.idsKey(n.rec)}, ${w.param(n.id)})`,
  ReadRecord: (n, w, ind) => `${ind}${w.result()} = rec_read(${state(n.rec)})`,
  IndexFill: (n, w, ind) =>
    `${ind}${w.result()} = ix_fill(${w.param(n.prefix)}, ${w.key(n.idsKey)}, ${w.param(n.cursor)}, ${w.param(n.count)}, ${indexTables({ ix: n.ix, uq: n.uq }, w).replace(/, nil$/, '')}, ${w.param(n.repair)})`,
  IndexPrune: (n, w, ind) =>
    `${ind}${w.result()} = ix_prune(${w.param(n.prefix)}, ${w.key(n.key)}, "${n.type}", ${luaString(n.field)}, ${w.param(n.cursor)}, ${w.param(n.count)}, ${w.param(n.repair)})`,
  Meta: (n, w, ind) => n.value
    ? `${ind}${w.result()} = meta_set(${w.key(n.key)}, ${luaString(n.field)}, ${w.param(n.value)})`
    : `${ind}${w.result()} = meta_get(${w.key(n.key)}, ${luaString(n.field)})`,
  ExistsRecord: (n, w, ind) => `${ind}${w.result()} = rec_exists(${state(n.rec)})`,
  ExpireRecord: (n, w, ind) => `${ind}${w.result()} = rec_expire(${state(n.rec)}, ${w.param(n.ms)})`,
  TtlRecord: (n, w, ind) => `${ind}${w.result()} = rec_ttl(${state(n.rec)})`,
  AcquireLock: (n, w, ind) => `${ind}${w.result()} = lock_acquire(${w.key(n.key)}, ${w.param(n.token)}, ${w.param(n.leaseMs)})`,
  ReleaseLock: (n, w, ind) => `${ind}${w.result()} = lock_release(${w.key(n.key)}, ${w.param(n.token)})`,
  InsertMany: emitInsertMany,
  ReadMany: emitReadMany,
};

function statement(n: Stmt, w: Writer, indent: string): string {
  return (stmt[n.kind] as (n: Stmt, w: Writer, indent: string) => string)(n, w, indent);
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

/** The index, unique and expiry tables of a record state (see lua/lib/index.lua). */
function indexTables(r: Pick<RecordRef, 'ix' | 'uq' | 'exp'>, w: Writer): string {
  const ix = (r.ix ?? []).map((x) => `{${luaString(x.field)}, ${w.key(x.key)}, "${x.type}"}`);
  const uq = (r.uq ?? []).map((u) => `{${luaString(u.field)}, ${w.key(u.key)}}`);
  const exp = r.exp ? `{${w.key(r.exp[0])}, ${w.key(r.exp[1])}}` : 'nil';
  return `{${ix.join(', ')}}, {${uq.join(', ')}}, ${exp}`;
}

/** Compiles a program into one script. Pure: same node, same output. */
export function compile(node: ProgramNode | QueryNode): Compiled {
  return node.kind === 'Query' ? compileQuery(node) : compileProgram(node);
}

function compileProgram(program: ProgramNode): Compiled {
  const w = new Writer(program.records);
  {
    const states = program.records.map((r) => {
      const state = `st_new(${w.key(r.key)})`;
      if (!r.ix?.length && !r.uq?.length && !r.exp) return state;
      return `st_indexed(${state}, ${w.param({ kind: 'Param', value: r.id, as: 'str' })}, ${indexTables(r, w)})`;
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
    // a sliding TTL is re-armed by the programs that read or update the record, after its writes
    const reads = program.body.some((s) => s.kind === 'ReadRecord');
    const slide = program.mode === 'update' || (program.mode === 'read' && reads);
    const slid = slide ? program.records.flatMap((r, i) => (r.slideMs ? [`rec_slide(S[${i + 1}], ${w.param({ kind: 'Param', value: r.slideMs, as: 'raw' })})`] : [])) : [];
    if (program.mode === 'update') {
      program.records.forEach((_, i) => lines.push(`st_check(S[${i + 1}])`));
      program.records.forEach((_, i) => lines.push(`st_commit(S[${i + 1}])`));
      ret = `return { R, ${seen.map((p, i) => `st_reply(S[${i + 1}], ${p})`).join(', ')} }`;
    }
    lines.push(...slid);
    const body = [
      `local P = read_params(ARGV, "${w.shape}")`,
      `local C = ${w.constraintTables()}`,
      `local S = { ${states.join(', ')} }`,
      'local R = {}',
      ...lines.filter((l) => l !== ''),
      ret,
    ].join('\n');
    const readOnly = program.mode === 'read' && slid.length === 0 && !program.body.some((s) => s.kind === 'ReadMany' && s.slideMs);
    const { lua, sha1 } = linked(body, readOnly);
    return Object.freeze({ lua, sha1, keys: Object.freeze(w.keys), argv: Object.freeze(w.argv), readOnly, binary: program.binary !== false });
  }
}

type PlanEmitters = { [K in PlanNode['kind']]: (n: Extract<PlanNode, { kind: K }>, w: Writer) => string };

const raw = (p: ParamNode): ParamNode => ({ ...p, as: 'raw' });

const plan: PlanEmitters = {
  PlanRange: (n, w) => {
    const parts = [`op="range"`, `key=${w.key(n.index.key)}`, `t="${n.index.type}"`];
    if (n.min) parts.push(`min=${w.param(raw(n.min))}`, `minx=${n.minEx}`);
    if (n.max) parts.push(`max=${w.param(raw(n.max))}`, `maxx=${n.maxEx}`);
    return `{${parts.join(', ')}}`;
  },
  PlanPrefix: (n, w) => `{op="prefix", key=${w.key(n.index.key)}, p=${w.param(raw(n.prefix))}}`,
  PlanIn: (n, w) => `{op="in", key=${w.key(n.index.key)}, t="${n.index.type}", values=${w.list(n.values)}}`,
  PlanWords: (n, w) => `{op="words", key=${w.key(n.index.key)}, mode="${n.mode}", values=${w.list(n.words)}}`,
  PlanAnd: (n, w) => `{op="and", ${n.items.map((i) => emitPlan(i, w)).join(', ')}}`,
  PlanOr: (n, w) => `{op="or", ${n.items.map((i) => emitPlan(i, w)).join(', ')}}`,
  PlanScan: () => '{op="scan"}',
  PlanIds: (n, w) => `{op="ids", values=${w.list(n.ids)}}`,
};

function emitPlan(n: PlanNode, w: Writer): string {
  return (plan[n.kind] as (n: PlanNode, w: Writer) => string)(n, w);
}

/** The action of a query on its matches (sorted and paged when it returns them). */
function queryAction(q: QueryNode, w: Writer): string[] {
  const page = [
    q.sort ? `if not sorted then q_sort(M, ${luaString(q.sort.field)}, ${q.sort.numeric}, ${q.sort.desc}) end` : 'q_sort(M, nil, false, false)',
    'local last = #M',
    'if limit ~= "" then last = math.min(last, first + tonumber(limit) - 1) end',
  ];
  switch (q.action) {
    case 'aggregate': {
      const { fields, group } = q.aggregate!;
      return [`return agg_collect(M, {${fields.map((f) => (f === null ? 'false' : luaString(f))).join(', ')}}, ${group ? luaString(group) : 'nil'})`];
    }
    case 'count':
      return ['return #M'];
    case 'ids':
      return [...page, 'local out = {}', 'for i = first, last do out[#out + 1] = M[i].id end', 'return out'];
    case 'records':
      return [
        ...page, 'local out = {}', 'for i = first, last do', '  out[#out + 1] = M[i].id', '  out[#out + 1] = rec_read(M[i])',
        ...(q.slideMs ? [`  rec_slide(M[i], ${w.param(q.slideMs)})`] : []), 'end', 'return out',
      ];
    case 'delete':
      return [
        'local n = 0',
        `for _, m in ipairs(M) do n = n + rec_delete(st_indexed(st_new(m.key), m.id, IX, UQ, EXP), ${w.key(q.idsKey)}, m.id) end`,
        'return n',
      ];
    case 'update':
      return [
        'local changed = 0',
        'for i, p in ipairs(M) do',
        '  local m = st_indexed(st_new(p.key), p.id, IX, UQ, EXP)',
        '  M[i] = m',
        '  local S = { m }',
        '  m.v0 = st_get(m, "#v")',
        block(q.body, w, '  '),
        'end',
        'for _, s in ipairs(M) do st_check(s) end',
        'for _, s in ipairs(M) do if st_commit(s) then changed = changed + 1 end end',
        ...(q.slideMs ? [`for _, s in ipairs(M) do rec_slide(s, ${w.param(q.slideMs)}) end`] : []),
        'return changed',
      ];
  }
}

/** The fields a query reads per candidate, fetched with one HMGET: its version, filter and sort fields. */
function prefetchFields(q: QueryNode): string[] {
  const fields = new Set<string>(['#v']);
  const visit = (value: unknown): void => {
    if (!value || typeof value !== 'object') return;
    const n = value as { kind?: string; rec?: number; field?: string };
    if (n.kind === 'Field' && n.rec === 1 && n.field) fields.add(n.field);
    Object.values(value).forEach(visit);
  };
  visit(q.filter);
  for (const f of sortAndAggregateFields(q)) fields.add(f);
  return [...fields];
}

/** The fields every match is read for after the filter: the sort field, or what aggregates read. */
function sortAndAggregateFields(q: QueryNode): string[] {
  const fields = new Set<string>(q.sort ? [q.sort.field] : []);
  for (const f of q.aggregate?.fields ?? []) if (f !== null) fields.add(f);
  if (q.aggregate?.group) fields.add(q.aggregate.group);
  return [...fields];
}

/**
 * A page sorted by a score index can walk that index in order and stop after offset+limit
 * matches, instead of collecting and sorting every match; the script takes that path when the
 * plan's own candidates are many (or unknown), and falls back when the walk runs out.
 */
function walkIndex(q: QueryNode): IndexRef | undefined {
  const index = q.sort && q.ix.find((x) => x.field === q.sort!.field && x.type === 'n');
  return index && (q.action === 'records' || q.action === 'ids') ? index : undefined;
}

function sortWalk(q: QueryNode, w: Writer): string[] {
  const index = walkIndex(q);
  if (!index) return [];
  return [
    'local est = q_count(PLAN)',
    'if limit ~= "" and (est == nil or est > 1000) then',
    `  M, sorted = q_walk(${w.key(index.key)}, ${q.sort!.desc}, first + tonumber(limit) - 1, probe, match)`,
    'end',
  ];
}

/**
 * A query: candidates from the plan (or every id), the filter checked on each stored record,
 * then the action. Record keys are built from the model's prefix: they share its hash tag.
 */
function compileQuery(q: QueryNode): Compiled {
  const w = new Writer([]);
  const ids = w.key(q.idsKey);
  const lines = [
    `local prefix = ${w.param(q.prefix)}`,
    `local first, limit = tonumber(${w.param(q.offset)}) + 1, ${w.param(q.limit)}`,
    `local IX, UQ, EXP = ${indexTables(q, w)}`,
    `exp_sweep(prefix, ${ids}, EXP, IX, UQ)`,
    `local PLAN = ${emitPlan(q.plan, w)}`,
    // an exact plan decides from the index sets alone; probes then read only the sort field
    // (a limited page that can walk the sort index probes fewer records than the sets hold)
    `local EX = ${q.exact ? (walkIndex(q) ? 'limit == "" and q_exact(PLAN) or nil' : 'q_exact(PLAN)') : 'nil'}`,
    `local PF = {${prefetchFields(q).map(luaString).join(', ')}}`,
    `local PS = {${sortAndAggregateFields(q).map(luaString).join(', ')}}`,
    `local function probe(id) return q_probe(prefix, id, EX and PS or PF) end`,
    `local function match(S)`,
    `  if EX then return EX.set[S[1].id] == true end`,
    `  return S[1].cache["#v"] and ${emit(q.filter, w)}`,
    `end`,
    ...(q.action === 'count' ? ['if EX then return #EX.ids end'] : []),
    'local M, sorted = {}, false',
    ...sortWalk(q, w),
    'if not sorted then',
    '  M = {}',
    `  for _, id in ipairs((EX and EX.ids) or q_ids(PLAN) or q_all(${ids})) do`,
    '    local S = { probe(id) }',
    '    if match(S) then M[#M + 1] = S[1] end',
    '  end',
    'end',
  ];
  lines.push(...queryAction(q, w));
  const body = [
    `local P = read_params(ARGV, "${w.shape}")`,
    `local C = ${w.constraintTables()}`,
    'local R = {}',
    ...lines.filter((l) => l !== ''),
  ].join('\n');
  const { lua, sha1 } = linked(body, false);
  return Object.freeze({ lua, sha1, keys: Object.freeze(w.keys), argv: Object.freeze(w.argv), readOnly: false, binary: q.binary !== false });
}

