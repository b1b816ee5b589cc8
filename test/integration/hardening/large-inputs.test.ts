import { expect } from 'chai';
import { Type } from 'typebox';
import { ValidationError, defineModel } from '../../../src/index.js';

describe('hardening: large inputs never overflow the call stack', function () {
  this.timeout(120_000);
  const Big = defineModel('HardBig', {
    list: Type.Array(Type.Integer(), { default: [] }),
    dict: Type.Record(Type.String(), Type.Integer(), { default: {} }),
  });
  const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

  it('create and insertMany with 100,000-item arrays and dicts', async () => {
    const dict = Object.fromEntries(range(100_000).map((i) => [`k${i}`, i]));
    const a = await Big.create({ list: range(100_000), dict });
    const got = await Big.get(a.id);
    expect(got.list.length).to.equal(100_000);
    expect(got.list[99_999]).to.equal(99_999);
    expect(Object.keys(got.dict).length).to.equal(100_000);
    const [b] = await Big.insertMany([{ list: range(100_000) }]);
    expect((await Big.get(b.id)).list.length).to.equal(100_000);
  });

  it('arr.set of 200,000 items and append(...50,000)', async () => {
    const a = await Big.create({});
    await a.$.list.set(range(200_000));
    await a.$.list.append(...range(50_000));
    await a.pipeline((p) => p.list.prepend(...range(50_000)));
    const got = await Big.get(a.id);
    expect(got.list.length).to.equal(300_000);
    expect(got.list[0]).to.equal(0);
    expect(got.list[250_000 - 1]).to.equal(199_999);
  });

  it('1,000,000-item arrays and dicts meet a typed error on the way, never a RangeError, nothing written (bench/million.ts stores them)', async () => {
    const Capped = defineModel('HardBigCapped', {
      list: Type.Array(Type.Integer(), { maxItems: 100_000, default: [] }),
      dict: Type.Record(Type.String(), Type.Integer(), { default: {} }),
    });
    const million = range(1_000_000);
    const dict: Record<string, unknown> = Object.fromEntries(million.map((i) => [`k${i}`, i]));
    dict.k999999 = 'not a number'; // the last entry is wrong: every entry is read before anything is sent
    const a = await Capped.create({});
    const calls: [string, () => Promise<unknown>][] = [
      ['create array', () => Capped.create({ list: million })],
      ['create dict', () => Capped.create({ dict: dict as Record<string, number> })],
      ['insertMany', () => Capped.insertMany([{}, { list: million }])],
      ['set', () => a.$.list.set(million)],
      ['pipeline set', () => a.pipeline((p) => p.list.set(million))],
      ['dict update', () => a.$.dict.update(dict as Record<string, number>)],
    ];
    for (const [what, call] of calls) {
      const err = await call().then(() => undefined, (e: unknown) => e);
      expect(err, what).to.be.instanceOf(ValidationError);
    }
    expect(await Capped.find().count()).to.equal(1);
    expect((await Capped.get(a.id)).list).to.deep.equal([]);
  });
});
