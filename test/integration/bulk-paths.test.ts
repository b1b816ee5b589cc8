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

/** With a ttl, so that deletes also drop the expiry bookkeeping. */
const LeanQ = defineModel('PathLeanQ', shape, { ...options, ttl: 600 });
/** The reference: Model.delete (rec_delete) and Model.pipeline one record at a time. */
const OneQ = defineModel('PathOneQ', shape, { ...options, ttl: 600 });

describe('updateMany / deleteMany by query (one command per key per chunk) against one record at a time', () => {
  for (let seed = 1; seed <= 3; seed++) {
    it(`seed ${seed}: same counts, same DUMP of every key, same change entries`, async () => {
      const rnd = rng(100 + seed);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
      const data: Item[] = Array.from({ length: 120 }, (_, n) => ({
        email: `q${n}@x`, name: `name${n}`, age: Math.floor(rnd() * 50), status: pick(['new', 'adult'] as const),
        bio: Array.from({ length: Math.floor(rnd() * 4) }, () => pick(['red', 'green', 'blue', 'tea'])).join(' '),
        ...(rnd() < 0.5 ? { nick: pick(['a', 'b']) } : {}),
      }));
      for (const d of data) {
        await LeanQ.create(d);
        await OneQ.create(d);
      }
      const chunkSize = 1 + Math.floor(rnd() * 30);
      const lo = Math.floor(rnd() * 25);
      const update = (p: Parameters<Parameters<typeof LeanQ.pipeline>[1]>[0]): void => {
        p.age.incr(3);
        p.status.eq('new').ifTrue(() => p.bio.set('fresh tea'));
        p.tags.append('seen');
      };
      const changed = await LeanQ.updateMany((u) => u.age.gte(lo), update, { chunkSize });
      const targets = data.filter((d) => d.age >= lo);
      for (const d of targets) await OneQ.pipeline(d.email, update);
      expect(changed).to.equal(targets.length);
      const gone = await LeanQ.deleteMany((u) => u.status.eq('adult'), { chunkSize });
      const adults = (await OneQ.find((u) => u.status.eq('adult')).ids());
      for (const id of adults) await OneQ.delete(id);
      expect(gone).to.equal(adults.length);
      const ids = data.map((d) => d.email);
      // expiry times (and TTLs) differ by the milliseconds between the two writes: the expiry set's
      // members alone, the records' fields alone
      const lean = await dumps(LeanQ, ids);
      const one = await dumps(OneQ, ids);
      for (const m of [lean, one]) m.delete('exp');
      for (const id of ids) for (const m of [lean, one]) if (m.get(`record ${id}`)) m.set(`record ${id}`, Buffer.from('present'));
      expect(lean).to.deep.equal(one);
      for (const id of ids) {
        expect(await raw.hGetAll(LeanQ.keys.record(id))).to.deep.equal(await raw.hGetAll(OneQ.keys.record(id)));
      }
      const expiring = async (m: typeof LeanQ): Promise<string[]> => (await raw.zRange(m.keys.expiry()[0], 0, -1)).sort();
      expect(await expiring(LeanQ)).to.deep.equal(await expiring(OneQ));
      // the chunks take records in index order, the reference in its own: each record's entries, in order
      const byRecord = async (m: typeof LeanQ): Promise<unknown[]> =>
        (await entries(m)).map((e) => e as Record<string, string>).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      expect(await byRecord(LeanQ)).to.deep.equal(await byRecord(OneQ));
    });
  }
});
