/**
 * The writer that a compiled body is written with: it hands out KEYS and ARGV slots (so no value
 * ever enters the Lua text), the constraint tables of field checks, and result slots.
 */
import type { ChangesRef, Constraints, IndexRef, ParamListNode, ParamNode, ProgramNode, SchemaCheck, UniqueRef } from '../ast/nodes.js';
import type { Raw } from '../schema/codec.js';
import { luaString } from './link.js';

/** Collects KEYS, ARGV and constraint tables while the body is written. */
export class Writer {
  readonly keys: string[] = [];
  readonly argv: Raw[] = [];
  /** The node each ARGV slot group came from, in order (see src/compile/shape.ts). */
  readonly sources: (ParamNode | ParamListNode)[] = [];
  shape = '';
  private readonly constraints: string[] = [];
  private results = 0;
  /**
   * A query's lean filter (src/compile/query.ts): the slot of each record field in the candidate's
   * HMGET reply `V`, read there instead of through the record state; and the parameters it reads
   * as numbers or booleans, converted once per script into `A` instead of once per candidate.
   */
  lean?: { readonly slots: ReadonlyMap<string, number>; readonly hoisted: string[] };

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

  /** The ARGV slot of `p`, read as `as` (default: the param's own type). */
  param(p: ParamNode, as = p.as): string {
    if (p.value === null) return 'nil';
    this.argv.push(p.value);
    this.sources.push(p);
    this.shape += 's';
    const ref = `P[${this.shape.length}]`;
    const value = as === 'num' ? `tonumber(${ref})` : as === 'bool' ? `(${ref} == "true")` : ref;
    if (value === ref || !this.lean) return value;
    return `A[${this.lean.hoisted.push(value)}]`;
  }

  list(p: ParamListNode): string {
    // a loop, not push(...values): spreading a user-sized list into a call overflows the stack
    this.argv.push(String(p.values.length));
    for (const v of p.values) this.argv.push(v);
    this.sources.push(p);
    this.shape += 'l';
    return `P[${this.shape.length}]`;
  }

  check(c: Constraints): string {
    return this.table(constraintLiteral(c));
  }

  /** A nested value's schema as lua/lib/nest.lua nv_check reads it: `{t=..., <constraints>, i=..., f={...}, q={...}, z=true}`. */
  schema(s: SchemaCheck): string {
    return this.table(schemaTable(s));
  }

  private table(table: string): string {
    let i = this.constraints.indexOf(table);
    if (i < 0) i = this.constraints.push(table) - 1;
    return `C[${i + 1}]`;
  }

  result(): string {
    return `R[${++this.results}]`;
  }

  hasConstraints(): boolean {
    return this.constraints.length > 0;
  }

  constraintTables(): string {
    return `{${this.constraints.join(', ')}}`;
  }
}

/** `c` as a Lua table literal, as lua/lib/check.lua reads it. */
export const constraintLiteral = (c: Constraints): string => `{${constraintParts(c).join(',')}}`;

/** Whether `c` holds no rule (its check table would be empty). */
export const unconstrained = (c: Constraints): boolean => constraintParts(c).length === 0;

function constraintParts(c: Constraints): string[] {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(c)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) parts.push(`${k}={${v.map((x) => luaString(String(x))).join(',')}}`);
    else parts.push(`${k}=${String(v)}`);
  }
  return parts;
}

function schemaTable(s: SchemaCheck): string {
  const parts = [`t="${s.t}"`, ...constraintParts(s.c)];
  if (s.items) parts.push(`i=${schemaTable(s.items)}`);
  if (s.fields) {
    parts.push(`f={${Object.entries(s.fields).map(([n, f]) => `[${luaString(n)}]=${schemaTable(f)}`).join(',')}}`);
    parts.push(`q={${(s.required ?? []).map(luaString).join(',')}}`);
  }
  if (s.nullable) parts.push('z=true');
  return `{${parts.join(',')}}`;
}

/** Record `rec` (1-based) of a program, in Lua: a program's states are `S`, and so is a query filter's argument. */
export const state = (rec: number): string => `S[${rec}]`;

/** The index table of a record state, `{{field, KEYS[i], type}, ...}` (see st_indexed in lua/lib/index.lua). */
export const ixTable = (ix: readonly IndexRef[], w: Writer): string =>
  `{${ix.map((x) => `{${luaString(x.field)}, ${w.key(x.key)}, "${x.type}"}`).join(', ')}}`;

/** The unique table of a record state, `{{field, KEYS[i]}, ...}`. */
export const uqTable = (uq: readonly UniqueRef[], w: Writer): string =>
  `{${uq.map((u) => `{${luaString(u.field)}, ${w.key(u.key)}}`).join(', ')}}`;

/** The index and unique tables, as st_indexed and ix_fill take them. */
export const indexTables = (ix: readonly IndexRef[], uq: readonly UniqueRef[], w: Writer): string =>
  `${ixTable(ix, w)}, ${uqTable(uq, w)}`;

/** The expiry table of a record state: the model's two expiry bookkeeping keys. */
export const expiryTable = (exp: readonly [string, string], w: Writer): string => `{${w.key(exp[0])}, ${w.key(exp[1])}}`;

/**
 * A model's change stream as a record state takes it (lua/lib/changes.lua), or nil:
 * `{KEYS[i], maxLen, {dict paths}}` (shape, not values: fixed for a model).
 */
export const changesTable = (ch: ChangesRef | undefined, w: Writer): string =>
  (ch ? `{${w.key(ch.key)}, ${ch.maxLen}, {${ch.dicts.map(luaString).join(', ')}}}` : 'nil');
