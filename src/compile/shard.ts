/**
 * Emitters of the resharding statements and of the shard layout checks (see lua/lib/shard.lua and
 * src/model/reshard.ts).
 *
 * ```lua
 * R[1] = shard_take(P[1], KEYS[1], {{"age", KEYS[2], "n"}}, {}, {KEYS[3], KEYS[4]}, P[2], P[3])
 * ```
 */
import type { ShardDropNode, ShardMetaNode, ShardPutNode, ShardTakeNode } from '../ast/nodes.js';
import type { ShardGuard } from '../ast/nodes.js';
import { expiryTable, indexTables, type Writer } from './writer.js';

export const emitShardMeta = (n: ShardMetaNode, w: Writer, ind: string): string =>
  `${ind}${w.result()} = shard_meta(${w.key(n.key)}, ${w.param(n.declared)})`;

type Chunk = ShardTakeNode | ShardPutNode | ShardDropNode;

/** The shard's prefix, id set and index tables: the first arguments of every chunk step. */
const shardArgs = (n: Chunk, w: Writer): string =>
  `${w.param(n.prefix)}, ${w.key(n.idsKey)}, ${indexTables(n.ix, n.uq, w)}, ${expiryTable(n.exp, w)}`;

export const emitShardTake = (n: ShardTakeNode, w: Writer, ind: string): string =>
  `${ind}${w.result()} = shard_take(${shardArgs(n, w)}, ${w.param(n.cursor)}, ${w.param(n.count)})`;

export const emitShardPut = (n: ShardPutNode, w: Writer, ind: string): string =>
  `${ind}${w.result()} = shard_put(${shardArgs(n, w)}, ${w.list(n.items)})`;

export const emitShardDrop = (n: ShardDropNode, w: Writer, ind: string): string =>
  `${ind}${w.result()} = shard_drop(${shardArgs(n, w)}, ${w.list(n.ids)})`;

/** The layout checks a script runs before anything else, one per shard meta key (see ShardGuard). */
export function guardLines(guards: readonly (ShardGuard | undefined)[], w: Writer): string[] {
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const g of guards) {
    if (!g || seen.has(g.meta)) continue;
    seen.add(g.meta);
    lines.push(`shard_guard(${w.key(g.meta)}, ${w.param({ kind: 'Param', value: g.layout, as: 'str' })})`);
  }
  return lines;
}
