/**
 * Emitters of the resharding statements (see lua/lib/shard.lua and src/model/reshard.ts).
 *
 * ```lua
 * R[1] = shard_take(P[1], KEYS[1], {{"age", KEYS[2], "n"}}, {}, {KEYS[3], KEYS[4]}, P[2], P[3])
 * ```
 */
import type { ShardDropNode, ShardMetaNode, ShardPutNode, ShardTakeNode } from '../ast/nodes.js';
import { indexTables } from './bulk.js';
import type { Writer } from './compiler.js';

export const emitShardMeta = (n: ShardMetaNode, w: Writer, ind: string): string =>
  `${ind}${w.result()} = shard_meta(${w.key(n.key)}, ${w.param(n.declared)})`;

type Chunk = ShardTakeNode | ShardPutNode | ShardDropNode;

/** The shard's prefix, id set and index tables: the first arguments of every chunk step. */
const shardArgs = (n: Chunk, w: Writer): string => `${w.param(n.prefix)}, ${w.key(n.idsKey)}, ${indexTables(n.ix, n.uq, n.exp, w)}`;

export const emitShardTake = (n: ShardTakeNode, w: Writer, ind: string): string =>
  `${ind}${w.result()} = shard_take(${shardArgs(n, w)}, ${w.param(n.cursor)}, ${w.param(n.count)})`;

export const emitShardPut = (n: ShardPutNode, w: Writer, ind: string): string =>
  `${ind}${w.result()} = shard_put(${shardArgs(n, w)}, ${w.list(n.items)})`;

export const emitShardDrop = (n: ShardDropNode, w: Writer, ind: string): string =>
  `${ind}${w.result()} = shard_drop(${shardArgs(n, w)}, ${w.list(n.ids)})`;
