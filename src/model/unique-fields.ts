/**
 * Which unique fields of a model need owners across shards (src/model/unique.ts), and the programs
 * that cannot write them. Kept apart from the protocol so that records and queries use it without
 * importing the protocol's reads.
 */
import type { Stmt } from '../ast/nodes.js';
import { UsageError } from '../errors.js';
import type { ModelCore } from './contract.js';

/** The unique fields of a model that need owners of their own: all but the key, on a sharded model. */
export function crossUnique(model: Pick<ModelCore, 'keys' | 'options'>): string[] {
  if (model.keys.shards === 1) return [];
  return (model.options.unique ?? []).filter((field) => field !== model.options.key);
}

/**
 * Refuses, before anything is sent, a program that writes a cross-shard unique field with a field
 * operation or a computed set (in branches and loops too), or replaces an object holding one: its
 * value is known only inside the record's script, which cannot claim it in the owner's slot.
 * `crossOf(rec)`: the model name and cross-shard unique fields of record `rec` of the program.
 */
export function refuseUniqueWrites(body: readonly Stmt[], crossOf: (rec: number) => { model: string; fields: readonly string[] }): void {
  for (const s of body) {
    if (s.kind === 'If') {
      refuseUniqueWrites(s.then, crossOf);
      refuseUniqueWrites(s.else, crossOf);
    } else if (s.kind === 'ForEach') {
      refuseUniqueWrites(s.body, crossOf);
    } else if (s.kind === 'FieldOp' || s.kind === 'SetComputed') {
      const { model, fields } = crossOf(s.rec);
      const hit = fields.find((f) => f === s.field || f.startsWith(`${s.field}.`));
      if (hit !== undefined) {
        throw new UsageError(`${model}.${hit} is unique across shards: change it with save() (a field operation or pipeline cannot claim its value in the owner's slot)`);
      }
    }
  }
}
