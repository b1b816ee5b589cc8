/**
 * The straight-line code of `Model.create` (see src/compile/straight.ts): the record, its index
 * and expiry entries and its id written by the script itself, its field list read straight from
 * ARGV, instead of the generic rec_write.
 */
import type { CallSignatures, ProgramNode, RecordRef } from '../ast/nodes.js';
import { luaString } from './link.js';
import { refParams } from './shape.js';
import { expiryTable, ixTable, type Writer } from './writer.js';

/** Records whose writes the straight-line code keeps: no unique fields, word indexes or change stream. */
export const plain = (r: RecordRef): boolean => !r.uq?.length && !r.ch && !r.ix?.some((x) => x.type === 't');

/** The arguments of a create of one record (Model.create) with a TTL given: rec_write 'create' alone in its program. */
export function createArgs(program: ProgramNode): Readonly<CallSignatures['rec_write']> | undefined {
  const [s] = program.body;
  if (program.mode !== 'write' || program.body.length !== 1 || s.kind !== 'Call' || s.fn !== 'rec_write') return undefined;
  const [, , id, , mode, ttlMs] = s.args;
  const fits = mode.word === 'create' && ttlMs.value !== null && id.value !== null && program.records.length === 1 && plain(program.records[0]);
  return fits ? s.args : undefined;
}

/**
 * Model.create (rec_write in mode 'create'): CONFLICT when the id exists, the entries an expired
 * record of the same id left behind dropped (exp_reuse), the index entries of the
 * values in the field list (last one wins, as ix_changes), the expiry entry when the TTL is set,
 * one HSET with the version first, the id set. The field list is the last parameter: P = ARGV,
 * its count at P[n] and its items after it, so nothing copies it.
 */
export function createBody(program: ProgramNode, w: Writer, guards: () => string[]): string[] {
  const r = program.records[0];
  const [, , idParam, fields, , ttlMs] = createArgs(program)!;
  const key = w.key(r.key);
  const ix = (r.ix ?? []).map((x) => ({ ...x, slot: w.key(x.key) }));
  const exp = r.exp?.map((k) => w.key(k));
  const id = w.param(refParams(r).id);
  const ids = w.key(r.idsKey);
  const newId = w.param(idParam);
  const ttl = w.param(ttlMs);
  const lines = guards();
  const count = w.list(fields);
  // the list's count is ARGV[at], its items ARGV[at + 1 .. at + c]
  const at = w.shape.length;
  const first = at + 1;
  const last = `${at} + c`;
  lines.push(`if redis.call('HGET', ${key}, '#v') then fail('CONFLICT', 'record ' .. ${newId} .. ' already exists') end`);
  if (r.exp) {
    // exp_reuse: an expired record of this id that no sweep reached left entries: they go first
    lines.push(`if redis.call('HEXISTS', ${exp![1]}, ${id}) == 1 then exp_drop(${id}, ${ids}, ${expiryTable(r.exp, w)}, ${ixTable(r.ix ?? [], w)}, {}, nil) end`);
  }
  lines.push(`local c = ${count} + 0`);
  if (ix.length > 0) {
    lines.push(`local ${ix.map((_, k) => `x${k + 1}`).join(', ')} = ${ix.map(() => 'false').join(', ')}`);
    lines.push(`for i = ${first}, ${last}, 2 do`, '  local f = P[i]');
    ix.forEach((x, k) => lines.push(`  ${k === 0 ? 'if' : 'elseif'} f == ${luaString(x.field)} then x${k + 1} = P[i + 1]`));
    lines.push('  end', 'end');
  }
  lines.push(`local ttl = ${ttl} + 0`);
  if (exp) {
    // exp_track: the expiry time, and the lexicographic values a sweep needs to drop the entries
    lines.push(
      'if ttl > 0 then',
      `  local t = redis.call('TIME')`,
      `  redis.call('ZADD', ${exp[0]}, tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + ttl, ${id})`,
      '  local e = {}',
      ...ix.flatMap((x, k) => (x.type === 's' ? [`  if x${k + 1} then e[${luaString(x.field)}] = x${k + 1} end`] : [])),
      `  redis.call('HSET', ${exp[1]}, ${id}, cjson.encode(e))`,
      'end',
    );
  }
  // scores as text: a Lua number would be printed back to text for Redis (a snprintf each)
  ix.forEach((x, k) => lines.push(x.type === 'n'
    ? `if x${k + 1} then redis.call('ZADD', ${x.slot}, x${k + 1}, ${id}) end`
    : `if x${k + 1} then redis.call('ZADD', ${x.slot}, '0', ix_member(x${k + 1}, ${id})) end`));
  lines.push(
    // the version rides with the first fields: one HSET for an ordinary record
    `local head = math.min(c, 3998)`,
    `redis.call('HSET', ${key}, '#v', '1', unpack(P, ${first}, ${at} + head))`,
    `for i = ${first} + head, ${last}, 4000 do redis.call('HSET', ${key}, unpack(P, i, math.min(i + 3999, ${last}))) end`,
    `redis.call('ZADD', ${ids}, '0', ${newId})`,
    `if ttl > 0 then redis.call('PEXPIRE', ${key}, ttl) end`,
    // a bare version, not a list of one: Redis converts a table reply at a cost (decode.str reads both)
    `return '1'`,
  );
  return lines;
}
