/**
 * Straight-line code for the common update programs: scalar field operations (and at most one
 * array append per array), on records whose indexes are numeric or lexicographic, without unique
 * fields or a change stream. The compiler knows every operation, field and type, so it emits the
 * work itself on Lua locals instead of calling the generic record state (lua/lib/state.lua and
 * commit.lua): one HMGET per record, the new values in locals, one HSET, one ZADD per changed
 * numeric index, and the patch reply built from the same table as the HSET.
 *
 * Redis runs a script's whole body on every call, so each linked library function is a closure
 * made per call and each state a handful of tables: a straight-line increment links four small
 * functions where the generic one links thirty-six. The result is the same as the generic path's
 * (same reply, same stored data, same errors), which test/integration/specialised.test.ts checks
 * on random programs; anything else (conditions, loops, nullable or nested fields, other array
 * operations, dicts, unique fields, word indexes, change streams) keeps the generic path.
 *
 * ```lua
 * local h1 = redis.call('HMGET', KEYS[1], "#v", "score")
 * if not h1[1] then fail('NOT_FOUND', 'record ' .. tostring(P[1]) .. ' not found') end
 * if not h1[2] then fail('OPERATION', "score" .. ' holds no value', "score") end
 * local r1 = (h1[2] * 1) + (P[3] * 1)
 * if r1 ~= r1 or r1 == math.huge or r1 == -math.huge or r1 < 0 then check_num({min=0}, "score", r1) end
 * r1 = fmt_num(r1)
 * ```
 */
import type { Constraints } from '../ast/expr.js';
import type { FieldOpNode, ProgramNode, QueryNode, Stmt } from '../ast/nodes.js';
import type { IndexRef, RecordRef } from '../ast/refs.js';
import { emit } from './emit.js';
import { luaString } from './link.js';
import { refParams } from './shape.js';
import { DEFAULT_MAX_VALUE_BYTES } from '../schema/validate.js';
import { createArgs, createBody, plain } from './straight-create.js';
import { constraintLiteral, unconstrained, type Writer } from './writer.js';

/** The operations emitted straight, by target. */
const STRAIGHT: Readonly<Record<string, ReadonlySet<string>>> = {
  num: new Set(['incr', 'decr', 'mul', 'div', 'mod', 'pow', 'min', 'max']),
  str: new Set(['append', 'prepend']),
  bool: new Set(['toggle']),
  scalar: new Set(['set']),
  date: new Set(['add', 'sub', 'setNow']),
  array: new Set(['append']),
};

/** Lua allows 200 locals per function: an append takes three, a clock read two, any other statement one, a record four. */
const MAX_LOCALS = 180;
/**
 * An update by query keeps up to this many written values in one list each, and up to this many
 * parameters made numbers before its loop: a local each, on top of MAX_LOCALS.
 */
const MAX_HOISTED = 8;
/** Values per `unpack` (Lua's C stack holds about 8,000): an HSET's slice. */
const UNPACK_MAX = 4000;

/** Whether `program` is one the straight-line code covers. */
export function isStraight(program: ProgramNode): boolean {
  return createArgs(program) !== undefined || isStraightUpdate(program);
}

function isStraightUpdate(program: Pick<ProgramNode, 'mode' | 'records' | 'body'>): boolean {
  if (program.mode !== 'update' || program.body.length === 0) return false;
  if (!program.records.every(plain)) return false;
  const locals = program.body.reduce((n, s) => n + (s.kind !== 'FieldOp' ? 1 : s.target === 'array' ? 3 : s.op === 'setNow' ? 2 : 1), 0);
  if (locals + 4 * program.records.length > MAX_LOCALS) return false;
  const arrays = new Set<string>();
  return program.body.every((s) => {
    if (s.kind !== 'FieldOp' || s.within !== undefined || s.nullable || !STRAIGHT[s.target]?.has(s.op)) return false;
    if (s.target !== 'array') return s.args.every((a) => a.kind === 'Param' && a.value !== null);
    const key = `${s.rec}:${s.field}`;
    if (arrays.has(key) || program.records[s.rec - 1].ix?.some((x) => x.field === s.field)) return false;
    arrays.add(key);
    return s.args.length === 1 && s.args[0].kind === 'ParamList';
  });
}

/** One entry of a record's write order: a field and the local that holds its final value, or an append's items. */
type Entry = { kind: 'field'; field: string } | { kind: 'append'; field: string; k: number };

/** What the emitter knows of one record while it writes the body. */
class RecordCode {
  /** The HMGET list (`#v` first): field -> 1-based slot. */
  readonly slots = new Map<string, number>([['#v', 1]]);
  /** Fields written so far -> the local that holds their current value. */
  readonly current = new Map<string, string>();
  readonly order: Entry[] = [];

  /** `fields`: slots read already (a query's candidate fields, `#v` first). */
  constructor(readonly i: number, readonly key: string, fields: readonly string[] = []) {
    fields.forEach((f, k) => this.slots.set(f, k + 1));
  }

  slot(field: string): string {
    let n = this.slots.get(field);
    if (n === undefined) this.slots.set(field, (n = this.slots.size + 1));
    return `h${this.i}[${n}]`;
  }

  /** The field's stored value as st_get sees it: the staged local, else the read one (false when absent). */
  value(field: string): string {
    return this.current.get(field) ?? this.slot(field);
  }

  put(field: string, local: string): void {
    if (!this.current.has(field)) this.order.push({ kind: 'field', field });
    this.current.set(field, local);
  }
}

/**
 * Field checks, guarded: a cheap test of the rules that passes whenever the value surely meets
 * them, so the call to lua/lib/check.lua (with its rules as a table literal, built then only) runs
 * only for a value that may fail, and raises the same error as always. Each returns the guard's
 * condition, or undefined when a rule has none (the check then always runs).
 */
const GUARDS = {
  num(c: Constraints, v: string): string | undefined {
    if (c.mult !== undefined) return undefined;
    const conds = [`${v} ~= ${v}`, `${v} == math.huge`, `${v} == -math.huge`];
    if (c.int) conds.push(`${v} ~= math.floor(${v})`, `${v} > 9007199254740991`, `${v} < -9007199254740991`);
    if (c.min !== undefined) conds.push(`${v} < ${c.min}`);
    if (c.max !== undefined) conds.push(`${v} > ${c.max}`);
    if (c.xmin !== undefined) conds.push(`${v} <= ${c.xmin}`);
    if (c.xmax !== undefined) conds.push(`${v} >= ${c.xmax}`);
    return conds.join(' or ');
  },
  // a text's byte count bounds its character count from above: only a maximum has a guard (a
  // minimum needs the count); bytes are counted exactly
  len(c: Constraints, v: string): string | undefined {
    if (c.minLen !== undefined && !c.bytes) return undefined;
    return [...(c.maxLen !== undefined ? [`#${v} > ${c.maxLen}`] : []), ...(c.minLen !== undefined ? [`#${v} < ${c.minLen}`] : [])].join(' or ');
  },
  enum(c: Constraints, v: string): string | undefined {
    return c.enum!.length <= 16 ? c.enum!.map((e) => `${v} ~= ${luaString(e)}`).join(' and ') : undefined;
  },
  items(c: Constraints, v: string): string | undefined {
    return [...(c.minItems !== undefined ? [`${v} < ${c.minItems}`] : []), ...(c.maxItems !== undefined ? [`${v} > ${c.maxItems}`] : [])].join(' or ');
  },
};

/** `check_<kind>(rules, path, value)` behind its guard (see GUARDS). */
function guarded(kind: keyof typeof GUARDS, c: Constraints, path: string, value: string): string {
  const call = `check_${kind}(${constraintLiteral(c)}, ${path}, ${value})`;
  const guard = GUARDS[kind](c, value);
  return guard === undefined ? call : `if ${guard} then ${call} end`;
}

/**
 * A number from Lua text. Lua 5.1's tonumber parses a string twice (lua_isnumber, then
 * lua_tonumber), arithmetic coerces it with one parse: strtod is the dearest step of an increment.
 * The text is a stored number or a parameter the client encoded, so both read the same. `* 1`, not
 * `+ 0`: -0 + 0 is +0, and a stored -0 must stay -0 (as the client's encoding keeps it).
 */
const coerce = (text: string): string => `(${text} * 1)`;

/** The Lua of one scalar field operation into local `r`; its lines. `number(arg)`: a parameter as a number. */
function scalarOp(n: FieldOpNode, rc: RecordCode, r: string, w: Writer, number: (arg: string) => string = coerce): string[] {
  const f = luaString(n.field);
  const args = n.args.map((a) => emit(a, w));
  const lines: string[] = [];
  // sc_raw: the stored text, OPERATION when the field holds no value
  const stored = (): string => {
    const v = rc.value(n.field);
    if (!rc.current.has(n.field)) lines.push(`if not ${v} then fail('OPERATION', ${f} .. ' holds no value', ${f}) end`);
    return v;
  };
  // put_num: checked, then stored as text
  const num = (value: string, pre: string[] = []): void => {
    // check_finite written out (as lua/lib/check.lua words it): linking it and `invalid` would
    // cost every call two closures for a check that almost never fails
    const check = unconstrained(n.check)
      ? `if ${r} ~= ${r} or ${r} == math.huge or ${r} == -math.huge then fail('VALIDATION', ${f} .. ': the result is not a finite number', ${f}, 'type') end`
      : guarded('num', n.check, f, r);
    lines.push(`local ${r} = ${value}`, ...pre, check, `${r} = fmt_num(${r})`);
  };
  switch (n.target) {
    case 'num': {
      const cur = coerce(stored());
      const arg = number(args[0]);
      const zero = `if ${arg} == 0 then fail('OPERATION', ${f} .. ': division by zero', ${f}) end`;
      switch (n.op) {
        case 'incr': num(`${cur} + ${arg}`); break;
        case 'decr': num(`${cur} - ${arg}`); break;
        case 'mul': num(`${cur} * ${arg}`); break;
        case 'div':
          lines.push(zero);
          num(`${cur} / ${arg}`, n.check.int ? [`${r} = math.floor(${r})`] : []);
          break;
        case 'mod': lines.push(zero); num(`${cur} % ${arg}`); break;
        case 'pow': num(`${cur} ^ ${arg}`); break;
        case 'min': num(`math.min(${cur}, ${arg})`); break;
        case 'max': num(`math.max(${cur}, ${arg})`); break;
      }
      break;
    }
    case 'date':
      if (n.op === 'setNow') {
        // the server's clock, in ms (date_op 'now'): no stored value needed
        const t = `${r}_t`;
        lines.push(`local ${t} = redis.call('TIME')`);
        num(`tonumber(${t}[1]) * 1000 + math.floor(tonumber(${t}[2]) / 1000)`);
      } else {
        num(`${coerce(stored())} ${n.op === 'add' ? '+' : '-'} ${number(args[0])}`);
      }
      break;
    case 'str': {
      const cur = stored();
      const size = `#${cur} + #${args[0]}`;
      lines.push(
        `if ${size} > ${n.check.maxBytes ?? DEFAULT_MAX_VALUE_BYTES} then check_size(${constraintLiteral(n.check)}, ${f}, ${size}) end`,
        `local ${r} = ${n.op === 'append' ? `${cur} .. ${args[0]}` : `${args[0]} .. ${cur}`}`,
      );
      // counting characters walks the whole text: only for a length rule
      if (n.check.minLen !== undefined || n.check.maxLen !== undefined) lines.push(guarded('len', n.check, f, r));
      if (n.check.enum) lines.push(guarded('enum', n.check, f, r));
      break;
    }
    case 'bool':
      lines.push(`local ${r} = 'true'`, `if ${stored()} == 'true' then ${r} = 'false' end`);
      break;
    default: // scalar set: the client validated the value
      lines.push(`local ${r} = ${args[0]}`);
  }
  rc.put(n.field, r);
  return lines;
}

/**
 * An append (arr_append on an array that is not materialized): the new length in `r`, the head
 * in `r_b`, the items in `r_n`; the items and the length are written at commit (see commitLines).
 */
function appendOp(n: FieldOpNode, rc: RecordCode, r: string, w: Writer): string[] {
  const len = rc.value(n.field);
  const head = rc.value(`${n.field}@`);
  rc.order.push({ kind: 'append', field: n.field, k: Number(r.slice(1)) });
  rc.current.set(n.field, `string.format('%d', ${r})`);
  const lines = [
    `local ${r}, ${r}_b, ${r}_n = 0, 0, ${emit(n.args[0], w)}`,
    `if ${len} then ${r}_b = tonumber(${head} or '0'); ${r} = tonumber(${len}) end`,
    `${r} = ${r} + #${r}_n`,
  ];
  if (n.check.minItems !== undefined || n.check.maxItems !== undefined) lines.push(guarded('items', n.check, luaString(n.field), r));
  return lines;
}

/** The lexicographic indexes whose value the program changes, when the record is filed for expiry (exp_refresh keeps their values). */
function expiryRefreshes(r: Pick<RecordRef, 'ix' | 'exp'>, rc: RecordCode): readonly IndexRef[] {
  const lex = (r.ix ?? []).filter((x) => x.type === 's');
  return r.exp && lex.some((x) => rc.current.has(x.field)) ? lex : [];
}

/** The table `e` of the values exp_refresh keeps: every lexicographic index value the record holds. */
function expiryValues(lex: readonly IndexRef[], rc: RecordCode, indent: string): string[] {
  return [`${indent}local e = {}`, ...lex.map((x) => `${indent}if ${rc.value(x.field)} then e[${luaString(x.field)}] = ${rc.value(x.field)} end`)];
}

/** The index entries the program moves (ix_sync): per changed indexed field, its stored value and its new one. */
function indexMoves(r: Pick<RecordRef, 'ix'>, rc: RecordCode): { x: IndexRef; old: string; now: string }[] {
  return (r.ix ?? []).flatMap((x) => {
    const now = rc.current.get(x.field);
    return now === undefined ? [] : [{ x, old: rc.slot(x.field), now }];
  });
}

/**
 * The record's staged writes, in order, in `Q<i>` = { 'p', f1, v1, ... } with false for a deleted
 * field (also the patch reply), after its new version `v<i>`; `d<i>` is true when Q holds a deletion.
 */
function patchLines(rc: RecordCode): { version: string; lines: string[]; appends: boolean; statics?: string[] } {
  const i = rc.i;
  const q = `Q${i}`;
  const appends = rc.order.some((e) => e.kind === 'append');
  const statics: string[] = [];
  const tail: string[] = [];
  const add = (f: string, v: string): void => {
    if (tail.length === 0) statics.push(f, v);
    else tail.push(`${q}[#${q} + 1] = ${f}; ${q}[#${q} + 1] = ${v}`);
  };
  for (const e of rc.order) {
    if (e.kind === 'field') {
      add(luaString(e.field), rc.current.get(e.field)!);
      continue;
    }
    const a = `r${e.k}`;
    const f = luaString(e.field);
    const at = luaString(`${e.field}@`);
    tail.push(
      `for j = 1, #${a}_n do ${q}[#${q} + 1] = ${luaString(`${e.field}[`)} .. string.format('%d', ${a}_b + ${a} - #${a}_n + j - 1) .. ']'; ${q}[#${q} + 1] = ${a}_n[j] end`,
      `${q}[#${q} + 1] = ${f}; ${q}[#${q} + 1] = string.format('%d', ${a})`,
      // arr_put_meta: a head marker left at 0 is deleted
      `if ${a}_b == 0 and ${rc.slot(`${e.field}@`)} then ${q}[#${q} + 1] = ${at}; ${q}[#${q} + 1] = false; d${i} = true end`,
    );
  }
  add('"#v"', `v${i}`);
  const version = `local v${i} = string.format('%d', h${i}[1] + 1)`;
  const lines = [...(appends ? [`local d${i} = false`] : []), `local ${q} = { 'p', ${statics.join(', ')} }`, ...tail];
  return { version, lines, appends, ...(tail.length === 0 && { statics }) };
}

/**
 * A record's commit (st_commit): the version, the expiry values, the index entries, then the
 * writes in the order they were staged, in `Q<i>` (which is also the patch reply).
 */
function commitLines(r: RecordRef, rc: RecordCode, id: string, w: Writer, alone: boolean): string[] {
  const i = rc.i;
  const key = w.key(r.key);
  // a record the program does not change is not written (st_commit: nothing staged)
  if (rc.order.length === 0) return [`local Q${i} = { 'p' }`];
  const patch = patchLines(rc);
  const lines = [patch.version];
  // exp_refresh: a registered record keeps its lexicographic index values in the expiry hash
  const lex = expiryRefreshes(r, rc);
  if (lex.length > 0) {
    const expv = w.key(r.exp![1]);
    lines.push(`if redis.call('HEXISTS', ${expv}, ${id}) == 1 then`, ...expiryValues(lex, rc, '  '), `  redis.call('HSET', ${expv}, ${id}, cjson.encode(e))`, 'end');
  }
  // ix_sync: a changed value moves its entry (a numeric entry is the id: ZADD moves its score)
  for (const { x, old, now } of indexMoves(r, rc)) {
    const ix = w.key(x.key);
    if (x.type === 'n') {
      // the score as the text it is: a Lua number would be printed back to text for Redis
      lines.push(`if ${old} ~= ${now} then redis.call('ZADD', ${ix}, ${now}, ${id}) end`);
    } else {
      lines.push(
        `if ${old} ~= ${now} then`,
        `  if ${old} then redis.call('ZREM', ${ix}, ix_member(${old}, ${id})) end`,
        `  redis.call('ZADD', ${ix}, '0', ix_member(${now}, ${id}))`,
        'end',
      );
    }
  }
  const q = `Q${i}`;
  // the one record of a program, with only fields to set: its writes and its patch reply are
  // written out (see updateBody), without a table and two unpacks per call
  if (alone && patch.statics !== undefined) return [...lines, `redis.call('HSET', ${key}, ${patch.statics.join(', ')})`];
  lines.push(...patch.lines);
  if (!patch.appends) lines.push(`redis.call('HSET', ${key}, unpack(${q}, 2))`);
  else lines.push(`if d${i} then st_flush(${key}, ${q}) else`, `  for j = 2, #${q}, ${UNPACK_MAX} do redis.call('HSET', ${key}, unpack(${q}, j, math.min(j + ${UNPACK_MAX - 1}, #${q}))) end`, 'end');
  return lines;
}

/**
 * The action of an update by query whose body the straight-line code covers (lua/lib/query.lua
 * q_run with `light`: each match M[k] is its candidate's HMGET reply, of `fields`, with its id).
 * Two passes keep "nothing written on failure": the first runs every match's operations and
 * checks on locals and stages its writes, the second writes them, with one ZADD or ZREM per index
 * for the whole chunk. The fields the body reads that `fields` lacks are appended to it. Returns
 * the action's Lua, or undefined when the body is not straight.
 */
export function straightQueryUpdate(q: QueryNode, w: Writer, fields: string[]): string | undefined {
  const ref: RecordRef = { key: '', idsKey: q.idsKey, id: '', seen: '', ix: q.ix, uq: q.uq, exp: q.exp, ch: q.ch };
  if (!isStraightUpdate({ mode: 'update', records: [ref], body: q.body })) return undefined;
  const rc = new RecordCode(1, '', fields);
  // a parameter is the same for every match: made a number once, before the loop (while the
  // locals it takes fit: a long body leaves no room)
  const room = q.body.length <= MAX_LOCALS / 2;
  const numbers = new Map<string, string>();
  const number = (arg: string): string => {
    if (room && !numbers.has(arg) && numbers.size < MAX_HOISTED) numbers.set(arg, `n${numbers.size + 1}`);
    return numbers.get(arg) ?? coerce(arg);
  };
  const body = q.body.flatMap((s, k) => {
    const n = s as FieldOpNode;
    return n.target === 'array' ? appendOp(n, rc, `r${k + 1}`, w) : scalarOp(n, rc, `r${k + 1}`, w, number);
  });
  const patch = patchLines(rc);
  const moves = indexMoves(ref, rc);
  const lex = expiryRefreshes(ref, rc);
  const keep: string[] = [];
  const lists: string[] = [];
  const writes: string[] = [];
  moves.forEach(({ x, old, now }, k) => {
    const ix = w.key(x.key);
    if (x.type === 'n') {
      lists.push(`Z${k}`);
      keep.push(`if ${old} ~= ${now} then Z${k}[#Z${k} + 1] = ${now}; Z${k}[#Z${k} + 1] = id1 end`);
      writes.push(`q_each('ZADD', ${ix}, Z${k})`);
    } else {
      lists.push(`Z${k}`, `X${k}`);
      keep.push(
        `if ${old} ~= ${now} then`,
        `  if ${old} then X${k}[#X${k} + 1] = ix_member(${old}, id1) end`,
        `  Z${k}[#Z${k} + 1] = '0'; Z${k}[#Z${k} + 1] = ix_member(${now}, id1)`,
        'end',
      );
      writes.push(`q_each('ZREM', ${ix}, X${k})`, `q_each('ZADD', ${ix}, Z${k})`);
    }
  });
  if (lex.length > 0) {
    lists.push('E');
    keep.push(...expiryValues(lex, rc, ''), 'E[#E + 1] = id1; E[#E + 1] = cjson.encode(e)');
    const expv = w.key(q.exp[1]);
    writes.push(`for j = 1, #E, 2 do if redis.call('HEXISTS', ${expv}, E[j]) == 1 then redis.call('HSET', ${expv}, E[j], E[j + 1]) end end`);
  }
  fields.splice(0, fields.length, ...rc.slots.keys());
  // a match's id, after its values (q_run's q.idslot)
  const id = `M[k][${fields.length + 1}]`;
  // fields alone (no append): one list per written value, not a table per match
  const columns = room && patch.statics !== undefined && patch.statics.length <= 2 * MAX_HOISTED
    ? patch.statics.filter((_, j) => j % 2 === 1) : undefined;
  let staged = ['W'];
  let stage = [...patch.lines, 'W[k] = Q1'];
  let write = patch.appends ? `st_flush(q.prefix .. ${id}, W[k])` : `redis.call('HSET', q.prefix .. ${id}, unpack(W[k], 2))`;
  if (columns) {
    staged = columns.map((_, j) => `W${j + 1}`);
    stage = [columns.map((v, j) => `${staged[j]}[k] = ${v}`).join('; ')];
    write = `redis.call('HSET', q.prefix .. ${id}, ${patch.statics!.map((x, j) => (j % 2 === 0 ? x : `${staged[(j - 1) / 2]}[k]`)).join(', ')})`;
  }
  // the matches of a chunk mostly share a version (records written together, updated together):
  // each stored version's next one is formatted once per chunk
  const version = ['local v1 = VN[h1[1]]', "if not v1 then v1 = string.format('%d', h1[1] + 1); VN[h1[1]] = v1 end"];
  lists.push('VN');
  return [
    'function(q, M)',
    `  local ${[...staged, ...lists].join(', ')} = ${[...staged, ...lists].map(() => '{}').join(', ')}`,
    ...[...numbers].map(([arg, local]) => `  local ${local} = tonumber(${arg})`),
    '  for k = 1, #M do',
    `    local h1, id1 = M[k], ${id}`,
    ...[...body, ...version, ...stage, ...keep].map((l) => `    ${l}`),
    '  end',
    '  -- every match passed its checks: the writes',
    `  for k = 1, #M do ${write} end`,
    ...writes.map((l) => `  ${l}`),
    '  if q.slide then',
    `    for k = 1, #M do redis.call('PEXPIRE', q.prefix .. ${id}, q.slide) end`,
    '  end',
    '  return #M',
    'end',
  ].join('\n');
}

/**
 * The straight-line body of a program {@link isStraight} accepts, after its guards (`guards()`
 * allocates their slots: an update's go last, as in the generic body; a create's go before its
 * field list, which it reads straight from ARGV). `direct`: the body reads ARGV as it is, so its
 * `P` is ARGV even when it takes a list.
 */
export function straightBody(program: ProgramNode, w: Writer, guards: () => string[]): { lines: string[]; direct: boolean } {
  if (createArgs(program) !== undefined) return { lines: createBody(program, w, guards), direct: true };
  const lines = updateBody(program, w);
  return { lines: [...guards(), ...lines], direct: false };
}

/** The body of an update program: reads, operations on locals, commits, reply. */
function updateBody(program: ProgramNode, w: Writer): string[] {
  // the script declares the keys it touches: the records', then the index and expiry keys of the
  // changes it makes (a Redis script creates a string per KEYS entry on every call)
  const codes = program.records.map((r, k) => new RecordCode(k + 1, w.key(r.key)));
  // as st_indexed: a record without indexes or expiry keys has no id in its state
  const ids = program.records.map((r) => (r.ix?.length || r.exp ? w.param(refParams(r).id) : 'nil'));
  const seen = program.records.map((r) => w.param(refParams(r).seen));
  const body: string[] = [];
  program.body.forEach((s: Stmt, k) => {
    const n = s as FieldOpNode;
    const r = `r${k + 1}`;
    body.push(...(n.target === 'array' ? appendOp(n, codes[n.rec - 1], r, w) : scalarOp(n, codes[n.rec - 1], r, w)));
  });
  const alone = program.records.length === 1;
  const commits = program.records.flatMap((r, k) => commitLines(r, codes[k], ids[k], w, alone));
  const slides = program.records.flatMap((r, k) => (r.slideMs ? [`redis.call('PEXPIRE', ${codes[k].key}, ${Number(r.slideMs)})`] : []));
  const reads = codes.flatMap((rc) => [
    `local h${rc.i} = redis.call('HMGET', ${rc.key}, ${[...rc.slots.keys()].map(luaString).join(', ')})`,
  ]);
  const required = codes.map((rc, k) => `if not h${rc.i}[1] then fail('NOT_FOUND', 'record ' .. tostring(${ids[k]}) .. ' not found') end`);
  const results = program.body.map((_, k) => `r${k + 1}`).join(', ');
  const replies = codes.map((rc, k) => `${seen[k]} == h${rc.i}[1] and Q${rc.i} or st_full(${rc.key})`);
  // Redis converts each table of a reply through a deferred length, a new reply block each, and
  // each value on its own (together more than an increment's arithmetic). One record, its copy
  // current: the results alone (every r is set, none nil), `r1` or `{ n, r1..rn }`, from which the
  // client derives the patch (decode.DERIVED; an append's items are the list it sent). A stale copy
  // gets the whole hash, nested; so do several records (decode.update reads every form).
  const nested = `return { { ${results} }, ${replies.join(', ')} }`;
  const reply = !alone
    ? [nested]
    : [
      `if ${seen[0]} == h1[1] then return ${program.body.length === 1 ? 'r1' : `{ ${program.body.length}, ${results} }`} end`,
      `local all = redis.call('HGETALL', ${codes[0].key})`,
      "table.insert(all, 1, 'f')",
      `return { { ${results} }, all }`,
    ];
  return [
    ...reads,
    ...required,
    ...body,
    ...commits,
    ...slides,
    ...reply,
  ];
}
