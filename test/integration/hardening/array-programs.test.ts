import { expect } from 'chai';
import { Type } from 'typebox';
import { defineModel } from '../../../src/index.js';

/**
 * Edits inside loops go through a gap buffer (lua/lib/array.lua): every other array operation
 * later in the same program must still see the items at their positions.
 * (The linear cost itself is measured by scenario 11 of bench/run.ts, not here: no timings in tests.)
 */
describe('hardening: array programs with many removals', function () {
  this.timeout(60_000);
  const Bag = defineModel('HardArrBag', {
    nums: Type.Array(Type.Integer(), { default: [] }),
    objs: Type.Array(Type.Object({ k: Type.Integer(), gone: Type.Boolean() }), { default: [] }),
    n: Type.Integer({ default: 0 }),
  });

  it('removeWhere then positional operations in the same program', async () => {
    const nums = Array.from({ length: 20_000 }, (_, i) => (i % 10 === 0 ? 0 : i));
    const b = await Bag.create({ nums });
    await b.pipeline((p) => {
      p.nums.removeWhere((x) => x.eq(0));
      p.n.set(p.nums.length());
      p.nums.setAt(0, -1);
      p.nums.insert(5, -5);
      p.nums.append(-9);
      p.nums.remove(19_999);
      p.nums.contains(-5).ifTrue(() => p.nums.prepend(-100));
    });
    const expected = nums.filter((x) => x !== 0);
    const n = expected.length;
    expected[0] = -1;
    expected.splice(5, 0, -5);
    expected.push(-9);
    expected.splice(expected.indexOf(19_999), 1);
    expected.unshift(-100);
    const got = await Bag.get(b.id);
    expect(got.n).to.equal(n);
    expect(got.nums).to.deep.equal(expected);
    expect(b.nums).to.deep.equal(expected);
  });

  it('loops removing objects by value, and removals from both ends', async () => {
    const objs = Array.from({ length: 3_000 }, (_, k) => ({ k, gone: k % 3 === 0 }));
    const b = await Bag.create({ objs, nums: [1, 2, 3, 4, 5, 6] });
    await b.pipeline((p) => {
      for (const o of p.objs) o.gone.ifTrue(() => p.objs.remove(o));
      p.n.set(p.objs.length());
      p.nums.removeWhere((x) => x.gt(3));
      p.nums.pop(0);
      p.nums.removeWhere((x) => x.lt(3));
    });
    const got = await Bag.get(b.id);
    expect(got.objs).to.deep.equal(objs.filter((o) => !o.gone));
    expect(got.n).to.equal(2_000);
    expect(got.nums).to.deep.equal([3]);
  });

  it('inserts, positional removals, prepends and range removals inside a loop keep every item in place', async () => {
    const nums = Array.from({ length: 5_000 }, (_, i) => (i % 7 === 0 ? 0 : i));
    const b = await Bag.create({ nums });
    await b.pipeline((p) => {
      for (const x of p.nums) {
        x.eq(0).ifTrue(() => {
          p.nums.insert(5, -1);
          p.nums.removeAt(3);
          p.nums.prepend(-2);
          p.nums.insert(-2, -3);
          p.nums.pop(1);
          p.nums.setAt(7, -7);
        });
      }
      p.nums.removeRange(10, 20);
      p.nums.append(-9);
      p.n.set(p.nums.at(7));
    });
    const want = [...nums];
    for (const x of nums) {
      if (x !== 0) continue;
      want.splice(5, 0, -1);
      want.splice(3, 1);
      want.unshift(-2);
      want.splice(want.length - 2, 0, -3);
      want.splice(1, 1);
      want[7] = -7;
    }
    want.splice(10, 10);
    want.push(-9);
    const got = await Bag.get(b.id);
    expect(got.nums).to.deep.equal(want);
    expect(b.nums).to.deep.equal(want);
    expect(got.n).to.equal(want[7]);
  });
});
