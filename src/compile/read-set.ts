/**
 * The read set of an update program: per record, the hash fields its statements and its commit
 * will read (the version, scalar values, array lengths and heads, the markers of objects that may
 * be absent and of fields that may be null), and the null markers known not to exist (those of
 * fields that cannot be null). The compiler reads the first with one HMGET per record before the
 * body (`st_prefetch`, lua/lib/state.lua) and marks the second absent, so the body and the commit
 * find every value in the state's cache instead of sending one HGET each.
 *
 * A field missed here is still read when it is needed (one HGET), so the read set is an
 * optimisation, never a condition of correctness; dict entries and array items are left to be read
 * as they are needed (their names are known only on the server).
 */
import type { ProgramNode } from '../ast/nodes.js';

export interface ReadSet {
  readonly fields: Set<string>;
  readonly absent: Set<string>;
}

const SCALAR_TARGETS = new Set(['num', 'str', 'bytes', 'date', 'bool', 'scalar']);

/** The read set of each record of `program` (index = record - 1); a query's update body has one record. */
export function readSets(program: { readonly records: readonly unknown[]; readonly body: ProgramNode['body'] }): ReadSet[] {
  const sets = program.records.map((): ReadSet => ({ fields: new Set(['#v']), absent: new Set() }));
  const at = (rec: number): ReadSet => sets[rec - 1];
  const array = (rec: number, field: string): void => {
    at(rec).fields.add(field);
    at(rec).fields.add(`${field}@`);
  };
  /** A scalar write reads the field's marker (to clear it): known absent unless the field may be null. */
  const scalar = (n: { rec: number; field: string; nullable?: boolean; within?: string }): void => {
    const set = at(n.rec);
    set.fields.add(n.field);
    if (n.nullable) set.fields.add(`${n.field}!`);
    else set.absent.add(`${n.field}!`);
  };
  const visit = (value: unknown): void => {
    if (!value || typeof value !== 'object' || value instanceof Buffer) return;
    if (Array.isArray(value)) {
      value.forEach(visit);
      return;
    }
    const n = value as { kind?: string; rec?: number; field?: string; target?: string; over?: string; within?: string };
    switch (n.kind) {
      case 'Param': case 'ParamList': return;
      case 'FieldOp':
        if (SCALAR_TARGETS.has(n.target!)) scalar(n as Parameters<typeof scalar>[0]);
        else if (n.target === 'array') array(n.rec!, n.field!);
        break;
      case 'SetComputed': scalar(n as Parameters<typeof scalar>[0]); break;
      case 'Field': at(n.rec!).fields.add(n.field!); break;
      case 'ArrayLength': case 'ArrayAt': case 'ArrayContains': array(n.rec!, n.field!); break;
      case 'ForEach': if (((n as { nested?: { top: string } }).nested?.top ?? n.over) === 'array') array(n.rec!, n.field!); break;
      case 'Nested': case 'NestedOp': if ((n as { top?: string }).top === 'array') array(n.rec!, n.field!); break;
    }
    if (n.within !== undefined && n.rec !== undefined) at(n.rec).fields.add(n.within);
    for (const child of Object.values(value)) visit(child);
  };
  visit(program.body);
  // a field read, or possibly null, is never also claimed absent
  for (const set of sets) for (const f of set.fields) set.absent.delete(f);
  return sets;
}
