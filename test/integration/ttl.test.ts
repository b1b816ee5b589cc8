import { expect } from 'chai';
import { Type } from 'typebox';
import { SchemaError, defineModel } from '../../src/index.js';
import { db, raw } from '../helpers/redis.js';

const shape = {
  name: Type.String(),
  n: Type.Integer({ default: 0 }),
  tags: Type.Array(Type.String(), { default: [] }),
};
/** Sliding: every read and write re-arms the 100 s TTL. */
const Sliding = defineModel('TtlSliding', shape, { ttl: { seconds: 100, sliding: true }, indexes: ['n'] });
/** Fixed: the TTL is set on create and save only. */
const Fixed = defineModel('TtlFixed', shape, { ttl: 100, indexes: ['n'] });

/** Shortens a record's TTL to 10 s, so that a re-arm shows as a TTL back near 100 s. */
const shorten = async (key: string): Promise<void> => {
  await raw.pExpire(key, 10_000);
};
const ttlOf = (key: string): Promise<number> => raw.pTTL(key);
const rearmed = async (key: string): Promise<boolean> => (await ttlOf(key)) > 90_000;

describe('sliding TTL', () => {
  it('every read re-arms it: get, getOrNull, reload, getMany, query results, streams, first', async () => {
    const a = await Sliding.create({ name: 'a', n: 1 });
    expect(await rearmed(a.key)).to.equal(true);
    const reads: [string, () => Promise<unknown>][] = [
      ['get', () => Sliding.get(a.id)],
      ['getOrNull', () => Sliding.getOrNull(a.id)],
      ['reload', () => a.reload()],
      ['getMany', () => Sliding.getMany([a.id])],
      ['find().toArray', () => Sliding.find((u) => u.n.eq(1)).toArray()],
      ['findOne', () => Sliding.findOne((u) => u.name.eq('a'))],
      ['stream', async () => { for await (const r of Sliding.find()) expect(r.name).to.equal('a'); }],
      ['lock', () => a.lock(async () => undefined)],
    ];
    for (const [what, read] of reads) {
      await shorten(a.key);
      await read();
      expect(await rearmed(a.key), what).to.equal(true);
    }
  });

  it('every write re-arms it: field operations, pipelines (a false branch too), transactions, bulk and query updates', async () => {
    const a = await Sliding.create({ name: 'a', n: 1 });
    const b = await Sliding.create({ name: 'b', n: 2 });
    const writes: [string, () => Promise<unknown>][] = [
      ['u.$ op', () => a.$.n.incr(1)],
      ['array op', () => a.$.tags.append('x')],
      ['pipeline', () => a.pipeline((p) => p.name.append('!'))],
      ['pipeline that writes nothing', () => a.pipeline((p) => p.n.gt(1000).ifTrue(() => p.n.set(0)))],
      ['Model.pipeline', () => Sliding.pipeline(a.id, (p) => p.n.incr(1))],
      ['transaction', () => db.transaction([a, b], (x, y) => { x.n.incr(1); y.n.decr(1); })],
      ['updateMany', () => Sliding.updateMany([a.id], (p) => p.n.incr(1))],
      ['query update', () => Sliding.find((u) => u.name.startsWith('a')).update((p) => p.n.incr(1))],
      ['save', () => a.save()],
    ];
    for (const [what, write] of writes) {
      await shorten(a.key);
      await write();
      expect(await rearmed(a.key), what).to.equal(true);
    }
  });

  it('calls that do not read the record leave it alone: count, ids, exists, ttl', async () => {
    const a = await Sliding.create({ name: 'a', n: 1 });
    await shorten(a.key);
    await Sliding.find((u) => u.n.eq(1)).count();
    await Sliding.find((u) => u.n.eq(1)).ids();
    await Sliding.exists(a.id);
    expect(await a.ttl()).to.be.within(9, 10);
    expect(await rearmed(a.key)).to.equal(false);
  });

  it('a fixed TTL is set on create and save only', async () => {
    const a = await Fixed.create({ name: 'a', n: 1 });
    await shorten(a.key);
    await Fixed.get(a.id);
    await a.$.n.incr(1);
    await Fixed.find((u) => u.n.eq(2)).toArray();
    expect(await rearmed(a.key)).to.equal(false);
    await a.save();
    expect(await rearmed(a.key)).to.equal(true);
  });

  it('an idle record still expires, and is gone from queries and counts at once', async () => {
    const a = await Sliding.create({ name: 'a', n: 7 });
    const keep = await Sliding.create({ name: 'keep', n: 7 });
    await a.expire(0.03);
    await new Promise((r) => setTimeout(r, 80));
    expect(await Sliding.getOrNull(a.id)).to.equal(null);
    expect(await Sliding.find((u) => u.n.eq(7)).count()).to.equal(1);
    expect((await Sliding.find().toArray()).map((r) => r.id)).to.deep.equal([keep.id]);
  });

  it('refuses a malformed ttl with SchemaError', () => {
    expect(() => defineModel('TtlBad1', shape, { ttl: { seconds: 0, sliding: true } })).to.throw(SchemaError);
    expect(() => defineModel('TtlBad2', shape, { ttl: { sliding: true } as never })).to.throw(SchemaError);
    expect(() => defineModel('TtlBad3', shape, { ttl: -1 })).to.throw(SchemaError);
  });
});
