import { expect } from 'chai';
import { Type } from 'typebox';
import { QueryError, SchemaError, ValidationError, defineModel } from '../../src/index.js';
import { raw } from '../helpers/redis.js';

const Doc = defineModel('DynDoc', {
  name: Type.String(),
  data: Type.Any(),
  meta: Type.Optional(Type.Unknown()),
  list: Type.Array(Type.Any(), { default: [] }),
  bag: Type.Record(Type.String(), Type.Unknown(), { default: {} }),
});

const VALUES: unknown[] = [
  null, true, false, 0, -0.5, 2 ** 53 - 1, 1e300, '', 'text', 'ünïcødé 🎉', [], [1, 'a', null, [2, [3]]],
  {}, { a: 1, b: { c: [1, 2, { d: null }] }, e: 'x' }, [{ x: 1 }, { y: [] }],
];

describe('dynamic values: Type.Any() and Type.Unknown()', () => {
  it('round-trip any JSON value through create, get, set and save', async () => {
    for (const value of VALUES) {
      const d = await Doc.create({ name: 'n', data: value, meta: value, list: [value, value], bag: { k: value } });
      const back = await Doc.get(d.id);
      expect(back.data, JSON.stringify(value)).to.deep.equal(value);
      expect(back.meta).to.deep.equal(value);
      expect(back.list).to.deep.equal([value, value]);
      expect(back.bag).to.deep.equal({ k: value });
      await d.$.data.set({ wrapped: value });
      expect(d.data).to.deep.equal({ wrapped: value });
      expect((await Doc.get(d.id)).data).to.deep.equal({ wrapped: value });
      d.data = value;
      await d.save();
      expect((await Doc.get(d.id)).data).to.deep.equal(value);
    }
  });

  it('an optional dynamic field may be absent, and is then undefined', async () => {
    const d = await Doc.create({ name: 'n', data: 1 });
    expect('meta' in (await Doc.get(d.id))).to.equal(false);
  });

  it('equality conditions compare values, whatever the key order', async () => {
    const a = await Doc.create({ name: 'a', data: { x: 1, y: [1, 2] } });
    const b = await Doc.create({ name: 'b', data: null });
    const c = await Doc.create({ name: 'c', data: 'x' });
    const ids = async (cond: Parameters<typeof Doc.find>[0]): Promise<string[]> => (await Doc.find(cond).sort('name').ids());
    expect(await ids((u) => u.data.eq({ y: [1, 2], x: 1 }))).to.deep.equal([a.id]);
    expect(await ids((u) => u.data.eq(null))).to.deep.equal([b.id]);
    expect(await ids((u) => u.data.ne(null))).to.deep.equal([a.id, c.id]);
    expect(await ids((u) => u.data.in(['x', null]))).to.deep.equal([b.id, c.id]);
    await a.pipeline((p) => p.data.eq({ y: [1, 2], x: 1 }).ifTrue(() => p.name.set('matched')));
    expect(a.name).to.equal('matched');
  });

  it('array items and record values of any JSON value take the collection operations', async () => {
    const d = await Doc.create({ name: 'n', data: 0, list: [{ a: 1 }, 'x'] });
    await d.$.list.append({ b: [2] }, null);
    expect(await d.$.list.remove({ a: 1 })).to.equal(true);
    await d.$.bag.setItem('k', { deep: { deeper: [true] } });
    const back = await Doc.get(d.id);
    expect(back.list).to.deep.equal(['x', { b: [2] }, null]);
    expect(back.bag).to.deep.equal({ k: { deep: { deeper: [true] } } });
    expect(await Doc.find((u) => u.list.contains({ b: [2] })).count()).to.equal(1);
  });

  it('stores canonical JSON text readable with redis-cli', async () => {
    const d = await Doc.create({ name: 'n', data: { b: 1, a: [true] } });
    expect(await raw.hGet(d.key, 'data')).to.equal('{"a":[true],"b":1}');
  });

  it('refuses what JSON cannot hold, writing nothing', async () => {
    const d = await Doc.create({ name: 'n', data: 1 });
    for (const bad of [undefined, Number.NaN, Infinity, new Date(), new Uint8Array(2), () => 1, new Map(), [undefined]]) {
      expect(await d.$.data.set(bad).catch((e: unknown) => e)).to.be.instanceOf(ValidationError);
    }
    expect(await Doc.create({ name: 'n', data: new Date() }).catch((e: unknown) => e)).to.be.instanceOf(ValidationError);
    expect((await Doc.get(d.id)).data).to.equal(1);
  });

  it('has no order: ordered comparisons, sorts and indexes are refused', () => {
    expect(() => Doc.find((u) => (u.data as unknown as { gt(v: number): never }).gt(1))).to.throw(QueryError);
    expect(() => Doc.find().sort('data' as never)).to.throw(QueryError);   // the types refuse these too (test/types)
    expect(() => defineModel('DynIndexed', { data: Type.Any() }, { indexes: ['data' as never] })).to.throw(SchemaError);
  });
});
