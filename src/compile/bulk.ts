/**
 * Emitters of the bulk statements (see lua/lib/bulk.lua); the compiler's statement table
 * dispatches `InsertMany` and `ReadMany` here.
 *
 * ```lua
 * R[1] = bulk_insert(KEYS[1], {{"age", KEYS[2], "n"}}, {{"name", KEYS[3]}}, {KEYS[4], KEYS[5]}, nil, P[1], "error", P[2], P[3])
 * R[1] = bulk_read(P[1], P[2])
 * ```
 */
import type { InsertManyNode, ReadManyNode } from '../ast/nodes.js';
import { changesTable, expiryTable, indexTables, type Writer } from './writer.js';

export function emitInsertMany(n: InsertManyNode, w: Writer, ind: string): string {
  const ids = w.key(n.idsKey);
  const tables = `${indexTables(n.ix, n.uq, w)}, ${expiryTable(n.exp, w)}, ${changesTable(n.ch, w)}`;
  return `${ind}${w.result()} = bulk_insert(${ids}, ${tables}, ${w.param(n.prefix)}, "${n.onConflict}", ${w.param(n.ttlMs)}, ${w.list(n.items)})`;
}

export function emitReadMany(n: ReadManyNode, w: Writer, ind: string): string {
  w.key(n.idsKey); // declared only, so the script routes to the model's slot; records are prefix .. id
  return `${ind}${w.result()} = bulk_read(${w.param(n.prefix)}, ${w.list(n.ids)}, ${n.slideMs ? w.param(n.slideMs) : 'nil'})`;
}
