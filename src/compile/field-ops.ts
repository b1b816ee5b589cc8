/**
 * The Lua call of each field operation, keyed by target family and operation name.
 * Arguments arrive already emitted (ARGV references or expressions).
 */
import type { FieldOpNode, FieldOps, FieldOpTarget, NestedOpNode } from '../ast/nodes.js';
import { luaString } from './link.js';

type Call = (s: string, f: string, path: string, c: string, a: readonly string[], n: FieldOpNode) => string;

const num = (op: string): Call => (s, f, p, c, a) => `num_op(${s}, ${f}, ${p}, ${c}, "${op}", ${a[0]})`;
const str = (op: string): Call => (s, f, p, c, a) => `str_op(${s}, ${f}, ${p}, ${c}, "${op}", ${a[0]})`;
const bytes = (op: string): Call => (s, f, p, c, a) => `bytes_op(${s}, ${f}, ${p}, ${c}, "${op}", ${a[0]}, ${a[1] ?? 'nil'})`;
const date = (op: string): Call => (s, f, p, c, a) => `date_op(${s}, ${f}, ${p}, ${c}, "${op}", ${a[0] ?? 'nil'})`;

/** Every operation of every target: a missing or unknown one is a type error, not a runtime one. */
const CALLS: { readonly [T in FieldOpTarget]: { readonly [O in FieldOps[T]]: Call } } = {
  num: { incr: num('incr'), decr: num('decr'), mul: num('mul'), div: num('div'), mod: num('mod'), pow: num('pow'), min: num('min'), max: num('max') },
  str: { append: str('append'), prepend: str('prepend'), repeat: str('repeat') },
  bytes: { append: bytes('append'), setRange: bytes('setRange'), truncate: bytes('truncate') },
  date: { add: date('add'), sub: date('sub'), setNow: date('now') },
  bool: { toggle: (s, f, p) => `bool_toggle(${s}, ${f}, ${p})` },
  scalar: {
    set: (s, f, _p, _c, a) => `sc_set(${s}, ${f}, ${a[0]})`,
    setNull: (s, f) => `sc_null(${s}, ${f})`,
  },
  array: {
    append: (s, f, p, c, a) => `arr_append(${s}, ${f}, ${p}, ${c}, ${a[0]})`,
    prepend: (s, f, p, c, a) => `arr_prepend(${s}, ${f}, ${p}, ${c}, ${a[0]})`,
    insert: (s, f, p, c, a) => `arr_insert(${s}, ${f}, ${p}, ${c}, ${a[0]}, ${a[1]})`,
    setAt: (s, f, p, _c, a) => `arr_set_at(${s}, ${f}, ${p}, ${a[0]}, ${a[1]})`,
    pop: (s, f, p, c, a) => `arr_pop(${s}, ${f}, ${p}, ${c}, ${a[0]})`,
    remove: (s, f, p, c, a, n) => `arr_remove(${s}, ${f}, ${p}, ${c}, "${n.eq ?? 's'}", ${a[0]})`,
    removeAt: (s, f, p, c, a) => `arr_remove_at(${s}, ${f}, ${p}, ${c}, ${a[0]})`,
    removeRange: (s, f, p, c, a) => `arr_remove_range(${s}, ${f}, ${p}, ${c}, ${a[0]}, ${a[1]})`,
    clear: (s, f, p, c) => `arr_clear(${s}, ${f}, ${p}, ${c})`,
    set: (s, f, p, c, a) => `arr_set(${s}, ${f}, ${p}, ${c}, ${a[0]})`,
  },
  dict: {
    setItem: (s, f, _p, _c, a) => `dict_set(${s}, ${f}, ${a[0]}, ${a[1]})`,
    update: (s, f, _p, _c, a) => `dict_update(${s}, ${f}, ${a[0]})`,
    delete: (s, f, _p, _c, a) => `dict_delete(${s}, ${f}, ${a[0]})`,
    pop: (s, f, p, _c, a) => `dict_pop(${s}, ${f}, ${p}, ${a[0]}, ${a[1]}, ${a[2]})`,
    popItem: (s, f, p) => `dict_pop_item(${s}, ${f}, ${p})`,
    clear: (s, f) => `dict_clear(${s}, ${f})`,
    set: (s, f, _p, _c, a) => `dict_replace(${s}, ${f}, ${a[0]})`,
    incr: (s, f, p, c, a) => `dict_incr(${s}, ${f}, ${p}, ${c}, ${a[0]}, ${a[1]})`,
  },
  object: {
    set: (s, f, _p, _c, a) => `obj_set(${s}, ${f}, ${a[0]})`,
  },
};

export function fieldOpCall(n: FieldOpNode, s: string, c: string, args: readonly string[]): string {
  // TypeScript cannot pair n.target with n.op across the union: the table's type above does
  const call = (CALLS[n.target] as Readonly<Record<FieldOps[FieldOpTarget], Call>>)[n.op];
  const field = luaString(n.field);
  return call(s, field, field, c, args, n);
}

/**
 * The lua/lib/nest.lua function of each operation on a nested collection: each takes the record
 * state, the target's JSON text (`v`), its path, its schema table, then the operation's arguments
 * (`remove` first its equality kind), and returns its result and the new text.
 */
const NESTED: { readonly [T in 'array' | 'dict']: { readonly [O in FieldOps[T]]: string } } = {
  array: {
    append: 'na_append', prepend: 'na_prepend', insert: 'na_insert', setAt: 'na_set_at', pop: 'na_pop', remove: 'na_remove',
    removeAt: 'na_remove_at', removeRange: 'na_remove_range', clear: 'na_clear', set: 'na_set',
  },
  dict: {
    setItem: 'nd_set_item', update: 'nd_update', delete: 'nd_delete', pop: 'nd_pop', popItem: 'nd_pop_item',
    clear: 'nd_clear', set: 'nd_set', incr: 'nd_incr',
  },
};

export function nestedOpCall(n: NestedOpNode, s: string, path: string, schema: string, args: readonly string[]): string {
  const fn = (NESTED[n.target] as Readonly<Record<string, string>>)[n.op];
  const all = n.op === 'remove' ? [`"${n.eq ?? 's'}"`, ...args] : args;
  return `${fn}(${[s, 'v', path, schema, ...all].join(', ')})`;
}
