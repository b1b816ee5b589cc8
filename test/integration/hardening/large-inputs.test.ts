import { expect } from 'chai';
import { Type } from 'typebox';
import { defineModel } from '../../../src/index.js';

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
});
