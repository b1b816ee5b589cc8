/**
 * The two dispatch tables of the compiler: one emitter per expression kind and one per statement
 * kind (mapped types over the node kinds, so a kind without an emitter fails to compile).
 * Emitters write Lua through a {@link Writer}: values become ARGV slots, keys KEYS slots.
 */
import type { CallArg, Expr, LuaType, NestedPlace, Stmt } from '../ast/nodes.js';
import { fieldOpCall, nestedOpCall } from './field-ops.js';
import { luaString } from './link.js';
import { changesTable, expiryTable, indexTables, state, type Writer } from './writer.js';

const decode = (raw: string, as: LuaType): string => {
  switch (as) {
    case 'num': return `dec_num(${raw})`;
    case 'bool': return `dec_bool(${raw})`;
    default: return raw;
  }
};

/** A nested value's JSON text read as `as` (a string is decoded; collections stay JSON text). */
const decodeJson = (raw: string, as: LuaType): string => (as === 'str' ? `nj_unstr(${raw})` : decode(raw, as));

/** The arguments that name a nested place: `S[r], field, top, {steps}, path` (see lua/lib/nest.lua). */
const place = (n: Omit<NestedPlace, 'rec'> & { rec?: number }, rec: number, w: Writer): string => {
  const steps = n.steps.map((s) => (s.by === 'f' ? `"f", ${luaString(s.name)}` : `"${s.by}", ${emit(s.at, w)}`)).join(', ');
  return `${state(rec)}, ${luaString(n.field)}, "${n.top}", {${steps}}, ${luaString(n.path)}`;
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
  Field: (n, w) => {
    const slot = n.rec === 1 ? w.lean?.slots.get(n.field) : undefined;
    // a lean query filter reads the candidate's HMGET reply, where an absent field is false
    if (slot !== undefined) return n.as === 'num' || n.as === 'bool' ? decode(`V[${slot}]`, n.as) : `(V[${slot}] or nil)`;
    return `rd_${n.as === 'raw' ? 'str' : n.as}(${state(n.rec)}, ${luaString(n.field)})`;
  },
  Item: (n) => {
    if (n.key) return `K${n.loop}`;
    if (n.path.length > 0) return jsonPath(`O${n.loop}`, n.path, n.as);
    return n.json ? decodeJson(`I${n.loop}`, n.as) : decode(`I${n.loop}`, n.as);
  },
  ArrayLength: (n) => `arr_length(${state(n.rec)}, ${luaString(n.field)})`,
  ArrayAt: (n, w) => decode(`arr_at(${state(n.rec)}, ${luaString(n.field)}, ${luaString(n.field)}, ${emit(n.index, w)})`, n.as),
  ArrayContains: (n, w) => `arr_contains(${state(n.rec)}, ${luaString(n.field)}, "${n.eq}", ${emit(n.item, w)})`,
  DictGet: (n, w) => decode(`dict_get(${state(n.rec)}, ${luaString(n.field)}, ${emit(n.key, w)})`, n.as),
  Nested: (n, w) => {
    switch (n.read) {
      case 'value': return decodeJson(`nest_get(${place(n, n.rec, w)})`, n.as);
      case 'length': return `nest_length(${place(n, n.rec, w)})`;
      case 'contains': return `nest_contains(${place(n, n.rec, w)}, "${n.eq ?? 's'}", ${emit(n.item!, w)})`;
    }
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

export function emit(n: Expr, w: Writer): string {
  return (expr[n.kind] as (n: Expr, w: Writer) => string)(n, w);
}

export const block = (body: readonly Stmt[], w: Writer, indent: string): string =>
  body.map((s) => statement(s, w, indent)).join('\n');

type CallArgEmitters = { [K in CallArg['kind']]: (a: Extract<CallArg, { kind: K }>, w: Writer) => string };

/** How each kind of argument of a fixed Lua step is written (see CallSignatures in src/ast/stmt.ts). */
const callArgs: CallArgEmitters = {
  Param: (a, w) => w.param(a),
  ParamList: (a, w) => w.list(a),
  Key: (a, w) => w.key(a.key),
  State: (a) => state(a.rec),
  Ids: (a, w) => w.idsKey(a.rec),
  Word: (a) => luaString(a.word),
  Indexes: (a, w) => indexTables(a.ix, a.uq, w),
  Expiry: (a, w) => expiryTable(a.exp, w),
  Changes: (a, w) => changesTable(a.ch, w),
};

const callArg = (a: CallArg, w: Writer): string => (callArgs[a.kind] as (a: CallArg, w: Writer) => string)(a, w);

/** The check that an enclosing object that may be absent is there, before a write into it. */
const present = (n: { rec: number; field: string; within?: string }, ind: string): string =>
  n.within === undefined ? '' : `${ind}obj_present(${state(n.rec)}, ${luaString(n.within)}, ${luaString(n.field)})\n`;

const stmt: StmtEmitters = {
  FieldOp: (n, w, ind) => {
    const args = n.args.map((a) => emit(a, w));
    return `${present(n, ind)}${ind}${w.result()} = ${fieldOpCall(n, state(n.rec), w.check(n.check), args)} or false`;
  },
  NestedOp: (n, w, ind) => {
    const args = n.args.map((a) => emit(a, w));
    const edit = `nest_edit(${place(n, n.rec, w)}, function(v) return ${nestedOpCall(n, state(n.rec), luaString(n.path), w.schema(n.schema), args)} end)`;
    return `${present(n, ind)}${ind}${w.result()} = ${edit} or false`;
  },
  SetComputed: (n, w, ind) =>
    `${present(n, ind)}${ind}${w.result()} = set_checked(${state(n.rec)}, ${luaString(n.field)}, ${luaString(n.field)}, ${w.check(n.check)}, "${n.as}", ${emit(n.value, w)})`,
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
    // object items are decoded once per iteration, at the top of the loop body
    const decodeItem = (inner: string): string[] => (n.objects ? [`${inner}local O${i} = cjson.decode(I${i})`] : []);
    if (n.nested) {
      // a nested collection: a snapshot of its item texts (or entries), taken as the loop starts
      const where = place({ ...n.nested, field: n.field }, n.rec, w);
      const head = n.over === 'array'
        ? [`${ind}for _, I${i} in ipairs(nest_items(${where})) do`]
        : [`${ind}for _, E${i} in ipairs(nest_entries(${where})) do`, `${ind}  local K${i}, I${i} = E${i}[1], E${i}[2]`];
      return [...head, ...decodeItem(`${ind}  `), block(n.body, w, `${ind}  `), `${ind}end`].join('\n');
    }
    if (n.over === 'array') {
      return [
        `${ind}for _, I${i} in ipairs(arr_snapshot(${s}, ${f})) do`,
        ...decodeItem(`${ind}  `),
        block(n.body, w, `${ind}  `),
        `${ind}end`,
      ].join('\n');
    }
    return [
      `${ind}for _, K${i} in ipairs(dict_keys(${s}, ${f})) do`,
      `${ind}  local I${i} = dict_get(${s}, ${f}, K${i})`,
      `${ind}  if I${i} ~= nil then`,
      ...decodeItem(`${ind}    `),
      block(n.body, w, `${ind}    `),
      `${ind}  end`,
      `${ind}end`,
    ].join('\n');
  },
  Abort: (n, w, ind) => `${ind}fail("ABORT", tostring(${emit(n.message, w)}))`,
  Call: (n, w, ind) => `${ind}${w.result()} = ${n.fn}(${(n.args as readonly CallArg[]).map((a) => callArg(a, w)).join(', ')})`,
};

function statement(n: Stmt, w: Writer, indent: string): string {
  return (stmt[n.kind] as (n: Stmt, w: Writer, indent: string) => string)(n, w, indent);
}
