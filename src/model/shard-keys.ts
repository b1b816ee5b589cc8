/**
 * The model-wide keys of one shard, as every write of the shard must keep them: the id set, the
 * indexes (score, lexicographic and word), unique values, expiry bookkeeping, the change stream
 * and the shard's meta hash. Built once per shard by the model (src/model/model.ts).
 */
import type { IndexRef, UniqueRef } from '../ast/nodes.js';
import { changesRef } from '../changes/changes.js';
import { indexType } from '../schema/facts.js';
import { specAt, type ObjectSpec } from '../schema/spec.js';
import type { ModelOptions, ShardKeys } from './contract.js';
import type { KeySpace } from './keys.js';

export function shardKeysOf(spec: ObjectSpec, options: ModelOptions, keys: KeySpace, shard: number): ShardKeys {
  return {
    shard,
    prefix: keys.recordPrefix(shard),
    idsKey: keys.ids(shard),
    ix: (options.indexes ?? []).map((field): IndexRef => ({
      field, key: keys.index(field, shard), type: indexType(specAt(spec, field)!),
    })).concat((options.search ?? []).map((field): IndexRef => ({ field, key: keys.words(field, shard), type: 't' }))),
    // a unique field other than the key of a sharded model has owners of its own (src/model/unique.ts)
    uq: (options.unique ?? []).filter((field) => keys.shards === 1 || field === options.key).map((field): UniqueRef => ({ field, key: keys.unique(field, shard) })),
    exp: keys.expiry(shard),
    ...(options.changes && { ch: changesRef(spec, keys.changes(shard), options.changes) }),
    meta: keys.meta(shard),
  };
}
