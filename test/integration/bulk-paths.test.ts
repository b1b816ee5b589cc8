/**
 * insertMany writes a new record by a path of its own (bulk_new in lua/lib/bulk.lua: the hash at
 * once, the id-set, index and unique entries gathered into multi-member ZADD / HSET), and every
 * other record by rec_write. Both must leave every key exactly as rec_write alone would: the same
 * DUMP of each record, id set, index, word list and unique hash, the same members of each word's
 * id set, and the same change entries, on random mixes of new records, replaced ones and ids
 * repeated within a chunk.
 */
import { expect } from 'chai';
import { RESP_TYPES } from 'redis';
import { Type } from 'typebox';
import { defineModel } from '../../src/index.js';
import { raw } from '../helpers/redis.js';
import { rng } from '../helpers/random.js';

const shape = {
  email: Type.String(),
  name: Type.String(),
  age: Type.Integer({ minimum: 0 }),
  status: Type.Union([Type.Literal('new'), Type.Literal('adult')]),
  bio: Type.String({ default: '' }),
  nick: Type.Optional(Type.String()),
  tags: Type.Array(Type.String(), { default: [] }),
};
const options = { key: 'email', indexes: ['age', 'status', 'nick'], unique: ['name'], search: ['bio'], changes: true } as const;
/** Written by insertMany (the gathered path for new records). */
const Fast = defineModel('PathFast', shape, options);
/** Written one record at a time through rec_write: create() for a new id, a one-item replace for a stored one. */
const Slow = defineModel('PathSlow', shape, options);
type Item = Parameters<typeof Fast.create>[0];

const binary = () => raw.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
const dump = (key: string): Promise<Buffer | null> => binary().dump(key) as Promise<Buffer | null>;

/** The DUMP of every key a model's records use, by a name that does not hold the model's. */
async function dumps(model: typeof Fast, ids: readonly string[]): Promise<Map<string, Buffer | null>> {
  const out = new Map<string, Buffer | null>();
  const k = model.keys;
  for (const id of ids) out.set(`record ${id}`, await dump(k.record(id)));
  for (const [name, key] of [['ids', k.ids()], ['age', k.index('age')], ['status', k.index('status')], ['nick', k.index('nick')],
    ['name', k.unique('name')], ['words', k.words('bio')], ['exp', k.expiry()[0]], ['expv', k.expiry()[1]]] as const) {
    out.set(name, await dump(key));
  }
  // a word's id set is a hash table whose DUMP order follows the server's hash seed (two nodes of
  // a cluster differ): its members, sorted
  for (const w of await raw.zRange(k.words('bio'), 0, -1)) {
    out.set(`word ${w}`, Buffer.from(JSON.stringify((await raw.sMembers(`${k.words('bio')}:${w}`)).sort())));
  }
  return out;
}

/** The change entries without their stream ids (times). */
async function entries(model: typeof Fast): Promise<unknown[]> {
  return ((await raw.xRange(model.keys.changes(), '-', '+')) ?? []).map((e) => e?.message);
}

describe('insertMany: the gathered path of new records against rec_write', () => {
  for (let seed = 1; seed <= 4; seed++) {
    it(`seed ${seed}: same replies, same DUMP of every key, same change entries`, async () => {
      const rnd = rng(seed);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
      const words = ['red', 'green', 'blue', 'fast', 'slow', 'tea'];
      const item = (n: number): Item => ({
        email: `u${n}@x`, name: `name${n}-${Math.floor(rnd() * 1000)}`, age: Math.floor(rnd() * 50), status: pick(['new', 'adult'] as const),
        bio: Array.from({ length: Math.floor(rnd() * 4) }, () => pick(words)).join(' '),
        ...(rnd() < 0.5 ? { nick: pick(['a', 'b', 'c\u0000d']) } : {}),
        tags: Array.from({ length: Math.floor(rnd() * 3) }, (_, i) => `t${i}`),
      });
      // stored before: ids 0..39; the call mixes new ids, stored ones and ids repeated in a chunk
      const stored = Array.from({ length: 40 }, (_, n) => item(n));
      for (const d of stored) {
        await Fast.create(d);
        await Slow.create(d);
      }
      const batch = Array.from({ length: 150 }, () => item(Math.floor(rnd() * 120)));
      const fast = await Fast.insertMany(batch, { onConflict: 'replace', chunkSize: 1 + Math.floor(rnd() * 60) });
      const slow = [];
      for (const d of batch) {
        slow.push(await Slow.exists(d.email) ? (await Slow.insertMany([d], { onConflict: 'replace' }))[0] : await Slow.create(d));
      }
      expect(fast.map((r) => [r.id, r.toJSON()])).to.deep.equal(slow.map((r) => [r.id, r.toJSON()]));
      const ids = [...new Set([...stored, ...batch].map((d) => d.email))];
      expect(await dumps(Fast, ids)).to.deep.equal(await dumps(Slow, ids));
      expect(await entries(Fast)).to.deep.equal(await entries(Slow));
    });
  }
});
