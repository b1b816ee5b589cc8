/**
 * The tables a record state takes (st_indexed, lua/lib/index.lua) as Lua text over KEYS slots:
 * `{{"age", KEYS[2], "n"}}, {{"email", KEYS[3]}}, {KEYS[4], KEYS[5]}, {KEYS[6], 100000, {"notes"}}`.
 */
import type { ChangesRef, RecordRef } from '../ast/nodes.js';
import type { Writer } from './compiler.js';
import { luaString } from './link.js';

/** The index and unique tables of a record state (see lua/lib/index.lua). */
export function ixUqTables(r: Pick<RecordRef, 'ix' | 'uq'>, w: Writer): string {
  const ix = (r.ix ?? []).map((x) => `{${luaString(x.field)}, ${w.key(x.key)}, "${x.type}"}`);
  const uq = (r.uq ?? []).map((u) => `{${luaString(u.field)}, ${w.key(u.key)}}`);
  return `{${ix.join(', ')}}, {${uq.join(', ')}}`;
}

/** A model's change stream as lua/lib/changes.lua takes it, or nil: `{KEYS[i], maxLen, {dict paths}}`. */
export function changesTable(ch: ChangesRef | undefined, w: Writer): string {
  return ch ? `{${w.key(ch.key)}, ${ch.maxLen}, {${ch.dicts.map(luaString).join(', ')}}}` : 'nil';
}

/** The index, unique, expiry and (when the model has one) change-stream tables of a record state (see lua/lib/index.lua). */
export function indexTables(r: Pick<RecordRef, 'ix' | 'uq' | 'exp' | 'ch'>, w: Writer): string {
  const ixUq = ixUqTables(r, w); // KEYS slots in order: indexes, unique, expiry, stream
  const exp = r.exp ? `{${w.key(r.exp[0])}, ${w.key(r.exp[1])}}` : 'nil';
  return `${ixUq}, ${exp}${r.ch ? `, ${changesTable(r.ch, w)}` : ''}`;
}
