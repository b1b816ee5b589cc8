/**
 * Which unique fields of a model need owners across shards (src/model/unique.ts), which writes of
 * them a record program may claim, and the programs that cannot write them. Kept apart from the
 * protocol so that queries use it without importing the protocol's reads.
 */
import type { Stmt } from '../ast/nodes.js';
import { UsageError } from '../errors.js';
import type { ModelCore } from './contract.js';

/**
 * The unique fields of a model that need owners of their own: all but the key, on a sharded model.
 * Made once per key layout (a model on one connection): the update path asks on every call, so the
 * answer, most often "none", costs no allocation.
 */
const crossByKeys = new WeakMap<object, readonly string[]>();

export function crossUnique(model: Pick<ModelCore, 'keys' | 'options'>): readonly string[] {
  const keys = model.keys;
  let fields = crossByKeys.get(keys);
  if (!fields) {
    fields = Object.freeze(keys.shards === 1 ? [] : (model.options.unique ?? []).filter((field) => field !== model.options.key));
    crossByKeys.set(keys, fields);
  }
  return fields;
}

/** The model name and cross-shard unique fields of record `rec` (1-based) of a program. */
export type CrossOf = (rec: number) => { model: string; fields: readonly string[] };

/**
 * A top-level `set(value)` (or `setNull`) of a cross-shard unique field: record `rec` ends the
 * program holding `value` (the stored text; null: no value), which the client can claim before the
 * record's script runs.
 */
export interface UniqueSet { readonly rec: number; readonly field: string; readonly value: string | null }

/**
 * Refuses, before anything is sent, a program over many records (updateMany, a query's update)
 * that writes a cross-shard unique field: each record's value would need its own claim.
 */
export function refuseUniqueWrites(body: readonly Stmt[], crossOf: CrossOf): void {
  walk(body, crossOf, undefined);
}

/**
 * The claimable sets of a record program (`u.$`, a pipeline, a transaction): the top-level
 * `set(value)` and `setNull` of cross-shard unique fields, the last per record and field (what the
 * record ends with). Refuses (UsageError) every other write of such a field: a set in a branch or a
 * loop, a computed set, another operation, an object replaced whole, whose value or whose running
 * at all is known only inside the record's script, which cannot claim it in the owner's slot.
 */
export function uniqueSets(body: readonly Stmt[], crossOf: CrossOf): UniqueSet[] {
  const sets: UniqueSet[] = [];
  walk(body, crossOf, sets);
  return sets;
}

/** One walk of `body`: claimable sets go to `sets` (top level only; none when undefined), any other write of a cross field throws. */
function walk(body: readonly Stmt[], crossOf: CrossOf, sets: UniqueSet[] | undefined): void {
  for (const s of body) {
    if (s.kind === 'If') {
      walk(s.then, crossOf, undefined);
      walk(s.else, crossOf, undefined);
    } else if (s.kind === 'ForEach') {
      walk(s.body, crossOf, undefined);
    } else if (s.kind === 'FieldOp' || s.kind === 'SetComputed') {
      const { model, fields } = crossOf(s.rec);
      const hit = fields.find((f) => f === s.field || f.startsWith(`${s.field}.`));
      if (hit === undefined) continue;
      const set = sets && claimable(s, hit);
      if (!set) throw refusal(model, hit, sets !== undefined);
      const at = sets!.findIndex((x) => x.rec === set.rec && x.field === set.field);
      if (at < 0) sets!.push(set);
      else sets![at] = set;
    }
  }
}

/** The set a statement makes of cross field `field`, when the client knows its value. */
function claimable(s: Stmt, field: string): UniqueSet | undefined {
  if (s.kind !== 'FieldOp' || s.target !== 'scalar' || s.field !== field) return undefined;
  if (s.op === 'setNull') return { rec: s.rec, field, value: null };
  const [arg] = s.args;
  return arg?.kind === 'Param' && arg.value !== null ? { rec: s.rec, field, value: String(arg.value) } : undefined;
}

function refusal(model: string, field: string, record: boolean): UsageError {
  const why = record
    ? 'a set in a branch or loop, a computed set, another operation or an object set has a value known only inside the script, which cannot claim it in the owner\'s slot'
    : 'an update of many records cannot claim each record\'s value in the owner\'s slot';
  return new UsageError(`${model}.${field} is unique across shards: change it with save() or a top-level set(value) of one record (u.$.${field}.set(v), a pipeline, a transaction); ${why}`);
}
