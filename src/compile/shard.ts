/** The shard layout checks of a script (see lua/lib/shard.lua shard_guard and src/model/reshard.ts). */
import type { ShardGuard } from '../ast/nodes.js';
import { guardParam } from './shape.js';
import type { Writer } from './writer.js';

/** The layout checks a script runs before anything else, one per shard meta key (see ShardGuard). */
export function guardLines(guards: readonly (ShardGuard | undefined)[], w: Writer): string[] {
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const g of guards) {
    if (!g || seen.has(g.meta)) continue;
    seen.add(g.meta);
    lines.push(`shard_guard(${w.key(g.meta)}, ${w.param(guardParam(g))})`);
  }
  return lines;
}
