/**
 * Array fields: every list operation, checked against Python list semantics.
 * Immediate (`u.$`) and pipelined, against a real Redis: the results, the local record and the
 * stored one (re-read with `Model.get`) must agree.
 */
import { expect } from 'chai';
import { Type } from 'typebox';
import { OperationError, defineModel, t } from '../../../src/index.js';
import { raw } from '../../helpers/redis.js';
import { synced, failsCleanly, invalid, py } from './helpers.js';

const Arr = defineModel('FoArr', {
  tags: Type.Array(Type.String(), { default: [] }),
  nums: Type.Array(Type.Integer(), { default: [] }),
  items: Type.Array(Type.Object({ sku: Type.String(), qty: Type.Integer(), at: t.DateTime() }), { default: [] }),
  few: Type.Array(Type.String(), { minItems: 1, maxItems: 3, default: ['a'] }),
});

const item = (sku: string, qty: number) => ({ sku, qty, at: new Date(qty * 1000) });

describe('field ops: Array', () => {
  it('append and prepend several items (unshift order), immediate', async () => {
    const u = await Arr.create({});
    expect(await u.$.tags.append('a', 'b', 'c')).to.deep.equal(['a', 'b', 'c']);
    expect(await u.$.tags.prepend('x', 'y')).to.deep.equal(['x', 'y', 'a', 'b', 'c']);
    expect(await u.$.tags.prepend('w')).to.deep.equal(['w', 'x', 'y', 'a', 'b', 'c']);
    expect(await u.$.tags.append('z')).to.deep.equal(['w', 'x', 'y', 'a', 'b', 'c', 'z']);
    expect(u.tags).to.deep.equal(['w', 'x', 'y', 'a', 'b', 'c', 'z']);
    expect((await synced(Arr, u)).tags).to.deep.equal(['w', 'x', 'y', 'a', 'b', 'c', 'z']);
  });

  it('insert in the middle, at negative indices, past either end', async () => {
    const u = await Arr.create({ nums: [1, 2, 3] });
    const expected = [1, 2, 3];
    for (const [i, x] of [[1, 10], [-1, 20], [100, 30], [-100, 40], [0, 50], [5, 60], [-2, 70], [3, 80]]) {
      py.insert(expected, i, x);
      expect(await u.$.nums.insert(i, x), `insert(${i}, ${x})`).to.deep.equal(expected);
    }
    expect(expected).to.deep.equal([50, 40, 1, 80, 10, 2, 60, 20, 70, 3, 30]);
    expect((await synced(Arr, u)).nums).to.deep.equal(expected);
  });

  it('setAt with positive and negative indices; past the end is an OperationError', async () => {
    const u = await Arr.create({ tags: ['a', 'b', 'c'] });
    expect(await u.$.tags.setAt(0, 'A')).to.deep.equal(['A', 'b', 'c']);
    expect(await u.$.tags.setAt(-1, 'C')).to.deep.equal(['A', 'b', 'C']);
    expect(await u.$.tags.setAt(1, '')).to.deep.equal(['A', '', 'C']);
    await failsCleanly(u, () => u.$.tags.setAt(3, 'x'), OperationError);
    await failsCleanly(u, () => u.$.tags.setAt(-4, 'x'), OperationError);
    expect((await synced(Arr, u)).tags).to.deep.equal(['A', '', 'C']);
  });

  it('pop() / pop(0) / pop(i) / pop(-i) return the removed item; pop on empty is undefined', async () => {
    const u = await Arr.create({ tags: ['a', 'b', 'c', 'd', 'e', 'f'] });
    expect(await u.$.tags.pop()).to.equal('f');
    expect(await u.$.tags.pop(0)).to.equal('a');
    expect(u.tags).to.deep.equal(['b', 'c', 'd', 'e']);
    expect(await u.$.tags.pop(1)).to.equal('c');
    expect(await u.$.tags.pop(-2)).to.equal('d');
    expect(u.tags).to.deep.equal(['b', 'e']);
    expect((await synced(Arr, u)).tags).to.deep.equal(['b', 'e']);
    await failsCleanly(u, () => u.$.tags.pop(2), OperationError);
    await failsCleanly(u, () => u.$.tags.pop(-3), OperationError);
    expect(await u.$.tags.pop()).to.equal('e');
    expect(await u.$.tags.pop(0)).to.equal('b');
    expect(await u.$.tags.pop()).to.equal(undefined);
    expect(await u.$.tags.pop(0)).to.equal(undefined);
    expect(u.tags).to.deep.equal([]);
    expect((await synced(Arr, u)).tags).to.deep.equal([]);
  });

  it('remove removes the first equal item only and says whether it found one', async () => {
    const u = await Arr.create({ tags: ['a', 'b', 'c', 'b'], nums: [1, 2, 1] });
    expect(await u.$.tags.remove('b')).to.equal(true);
    expect(u.tags).to.deep.equal(['a', 'c', 'b']);
    expect(await u.$.tags.remove('zz')).to.equal(false);
    expect(await u.$.nums.remove(1)).to.equal(true);
    expect(await u.$.nums.remove(3)).to.equal(false);
    expect(u.nums).to.deep.equal([2, 1]);
    const back = await synced(Arr, u);
    expect(back.tags).to.deep.equal(['a', 'c', 'b']);
    expect(back.nums).to.deep.equal([2, 1]);
  });

  it('removeAt returns the removed item; past the end is an OperationError', async () => {
    const u = await Arr.create({ tags: ['a', 'b', 'c', 'd'] });
    expect(await u.$.tags.removeAt(1)).to.equal('b');
    expect(await u.$.tags.removeAt(-1)).to.equal('d');
    expect(await u.$.tags.removeAt(0)).to.equal('a');
    await failsCleanly(u, () => u.$.tags.removeAt(1), OperationError);
    expect((await synced(Arr, u)).tags).to.deep.equal(['c']);
  });

  const slices: [number, number | undefined][] = [
    [2, 5], [-3, undefined], [-3, -1], [5, 2], [-100, 3], [8, 100], [0, undefined], [3, undefined],
    [-1, -2], [0, 10], [10, undefined], [-10, -9], [1, -1], [0, 0], [9, 10], [4, -5],
  ];
  for (const [start, end] of slices) {
    it(`removeRange(${start}, ${end}) follows Python slice deletion (immediate and pipeline)`, async () => {
      const base = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
      const expected = [...base];
      py.delSlice(expected, start, end);
      const u = await Arr.create({ nums: base });
      expect(await u.$.nums.removeRange(start, end)).to.deep.equal(expected);
      expect((await synced(Arr, u)).nums).to.deep.equal(expected);
      const v = await Arr.create({ nums: base });
      await v.pipeline((p) => { p.nums.removeRange(start, end); });
      expect(v.nums).to.deep.equal(expected);
      expect((await synced(Arr, v)).nums).to.deep.equal(expected);
    });
  }

  it('clear and set', async () => {
    const u = await Arr.create({ tags: ['a', 'b'] });
    expect(await u.$.tags.clear()).to.deep.equal([]);
    expect((await synced(Arr, u)).tags).to.deep.equal([]);
    expect(await u.$.tags.set(['x', 'y', 'z'])).to.deep.equal(['x', 'y', 'z']);
    await u.$.tags.pop(0);
    expect(await u.$.tags.set(['p'])).to.deep.equal(['p']);
    expect((await synced(Arr, u)).tags).to.deep.equal(['p']);
    expect(await u.$.tags.set([])).to.deep.equal([]);
    expect((await synced(Arr, u)).tags).to.deep.equal([]);
  });

  it('arrays of objects: append, prepend, insert, setAt, pop, remove by deep equality, removeAt', async () => {
    const u = await Arr.create({});
    expect(await u.$.items.append(item('a', 1), item('b', 2))).to.deep.equal([item('a', 1), item('b', 2)]);
    expect(await u.$.items.prepend(item('z', 0))).to.deep.equal([item('z', 0), item('a', 1), item('b', 2)]);
    await u.$.items.insert(1, item('m', 5));
    await u.$.items.setAt(-1, item('B', 2));
    expect(u.items).to.deep.equal([item('z', 0), item('m', 5), item('a', 1), item('B', 2)]);
    expect(await u.$.items.remove({ sku: 'a', qty: 1, at: new Date(999) })).to.equal(false);
    expect(await u.$.items.remove(item('a', 1))).to.equal(true);
    expect(await u.$.items.pop()).to.deep.equal(item('B', 2));
    expect(await u.$.items.removeAt(0)).to.deep.equal(item('z', 0));
    expect(await u.$.items.pop(0)).to.deep.equal(item('m', 5));
    expect(await u.$.items.pop()).to.equal(undefined);
    await u.pipeline((p) => {
      p.items.append(item('a', 1), item('b', 2), item('a', 1));
      p.items.remove(item('a', 1));
      p.items.prepend(item('c', 3));
      p.items.insert(1, item('d', 4));
    });
    expect(u.items).to.deep.equal([item('c', 3), item('d', 4), item('b', 2), item('a', 1)]);
    expect((await synced(Arr, u)).items).to.deep.equal([item('c', 3), item('d', 4), item('b', 2), item('a', 1)]);
  });

  it('remove compares stored objects by value, whatever the key order of the stored JSON', async () => {
    const u = await Arr.create({ items: [item('a', 1), item('b', 2)] });
    // the same object, written by another client with its keys in another order
    await raw.hSet(u.key, 'items[0]', JSON.stringify({ at: 1000, qty: 1, sku: 'a' }));
    expect(await u.$.items.remove(item('a', 1))).to.equal(true);
    expect((await synced(Arr, u)).items).to.deep.equal([item('b', 2)]);
  });

  it('mixes every array op in one pipeline, like the same calls on a Python list', async () => {
    const u = await Arr.create({ tags: ['a', 'b', 'c', 'd'] });
    const expected = ['a', 'b', 'c', 'd'];
    await u.pipeline((p) => {
      p.tags.append('e', 'f'); expected.push('e', 'f');
      p.tags.prepend('0', '1'); expected.unshift('0', '1');
      p.tags.pop(); py.pop(expected);
      p.tags.pop(0); py.pop(expected, 0);
      p.tags.insert(2, 'mid'); py.insert(expected, 2, 'mid');
      p.tags.append('g'); expected.push('g');
      p.tags.prepend('p'); expected.unshift('p');
      p.tags.setAt(-2, 'E'); expected[expected.length - 2] = 'E';
      p.tags.remove('c'); expected.splice(expected.indexOf('c'), 1);
      p.tags.removeAt(1); py.pop(expected, 1);
      p.tags.removeRange(-2); py.delSlice(expected, -2);
      p.tags.pop(0); py.pop(expected, 0);
      p.tags.append('h', 'i'); expected.push('h', 'i');
      p.tags.removeRange(0, 1); py.delSlice(expected, 0, 1);
      p.tags.insert(-1, 'j'); py.insert(expected, -1, 'j');
      p.tags.pop(); py.pop(expected);
      p.tags.prepend('q'); expected.unshift('q');
    });
    expect(u.tags).to.deep.equal(expected);
    expect((await synced(Arr, u)).tags).to.deep.equal(expected);
    await u.pipeline((p) => { p.tags.clear(); p.tags.append('x'); p.tags.prepend('w'); });
    expect((await synced(Arr, u)).tags).to.deep.equal(['w', 'x']);
    await u.pipeline((p) => { p.tags.set(['1', '2', '3']); p.tags.pop(0); p.tags.append('4'); p.tags.removeRange(1, 2); });
    expect((await synced(Arr, u)).tags).to.deep.equal(['2', '4']);
  });

  it('runs a random sequence of array ops, immediate and pipelined, like a Python list', async () => {
    let seed = 12345;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const u = await Arr.create({ nums: [0, 1, 2] });
    const expected = [0, 1, 2];
    let next = 100;
    const step = (h: any): unknown => {
      const len = expected.length;
      switch (rand(8)) {
        case 0: { const a = next++; const b = next++; expected.push(a, b); return h.append(a, b); }
        case 1: { const a = next++; expected.unshift(a); return h.prepend(a); }
        case 2: { const i = rand(len + 3) - 1; const x = next++; py.insert(expected, i, x); return h.insert(i, x); }
        case 3: if (len === 0) return undefined; { const i = rand(len); expected[i] = next; return h.setAt(i, next++); }
        case 4: if (len === 0) return undefined; { const i = rand(len) - (rand(2) ? len : 0); py.pop(expected, i); return h.pop(i); }
        case 5: if (len === 0) return undefined; { const i = rand(len); const x = expected[i]; expected.splice(i, 1); return h.remove(x); }
        case 6: { const a = rand(len + 2) - 1; const b = rand(len + 2) - 1; py.delSlice(expected, a, b); return h.removeRange(a, b); }
        default: if (len === 0) return undefined; { const i = rand(len); py.pop(expected, i); return h.removeAt(i); }
      }
    };
    for (let round = 0; round < 30; round++) {
      if (round % 2 === 0) {
        await step(u.$.nums);
      } else {
        await u.pipeline((p) => { for (let k = 0; k < 6; k++) step(p.nums); });
      }
      expect(u.nums, `round ${round}`).to.deep.equal(expected);
    }
    expect((await synced(Arr, u)).nums).to.deep.equal(expected);
  });

  it('minItems and maxItems: every op that would break them raises ValidationError and writes nothing', async () => {
    const u = await Arr.create({ few: ['a', 'b'] });
    expect(await u.$.few.append('c')).to.deep.equal(['a', 'b', 'c']);
    await invalid(u, () => u.$.few.append('d'), 'few', 'maxItems');
    await invalid(u, () => u.$.few.prepend('d'), 'few', 'maxItems');
    await invalid(u, () => u.$.few.insert(1, 'd'), 'few', 'maxItems');
    await invalid(u, () => u.$.few.insert(9, 'd'), 'few', 'maxItems');
    await invalid(u, () => u.$.few.set(['1', '2', '3', '4']), 'few', 'maxItems');
    await invalid(u, () => u.pipeline((p) => { p.tags.append('x'); p.few.pop(); p.few.append('d', 'e'); }), 'few', 'maxItems');
    await u.$.few.removeRange(1);
    expect(u.few).to.deep.equal(['a']);
    await invalid(u, () => u.$.few.pop(), 'few', 'minItems');
    await invalid(u, () => u.$.few.pop(0), 'few', 'minItems');
    await invalid(u, () => u.$.few.removeAt(0), 'few', 'minItems');
    await invalid(u, () => u.$.few.remove('a'), 'few', 'minItems');
    await invalid(u, () => u.$.few.removeRange(0), 'few', 'minItems');
    await invalid(u, () => u.$.few.clear(), 'few', 'minItems');
    await invalid(u, () => u.$.few.set([]), 'few', 'minItems');
    await invalid(u, () => u.pipeline((p) => { p.few.append('b'); p.few.removeRange(0); }), 'few', 'minItems');
    expect((await synced(Arr, u)).few).to.deep.equal(['a']);
  });

  it('refuses fractional indices with OperationError', async () => {
    const u = await Arr.create({ tags: ['a', 'b', 'c'] });
    for (const op of [
      () => u.$.tags.insert(1.5, 'x'), () => u.$.tags.setAt(0.5, 'x'), () => u.$.tags.pop(0.5),
      () => u.$.tags.removeAt(1.5), () => u.$.tags.removeRange(0.5, 2), () => u.$.tags.removeRange(0, 1.5),
      () => u.pipeline((p) => { p.tags.append('d'); p.tags.insert(-0.5, 'x'); }),
    ]) await failsCleanly(u, op, OperationError);
    expect((await synced(Arr, u)).tags).to.deep.equal(['a', 'b', 'c']);
  });

  it('refuses items that break the item schema before sending anything', async () => {
    const u = await Arr.create({});
    await invalid(u, () => u.$.nums.append(1, 2.5), 'nums.1', 'integer');
    await invalid(u, () => u.$.tags.append(3 as unknown as string), 'tags.0', 'type');
  });
});
