import { expect } from 'chai';
import { Type } from 'typebox';
import { defineModel } from '../../../src/index.js';
import { prefix, raw } from '../../helpers/redis.js';

describe('hardening: index entries of strings holding NUL and low bytes', () => {
  const Word = defineModel('HardWord', { w: Type.String(), n: Type.Integer({ default: 0 }) }, { indexes: ['w'] });
  const values = ['a', 'a\0b', 'a\0', 'a\x01', 'a\x01\0', 'a\0\x01', '\0', '', 'b', 'ab', 'a\x02'];

  it('equality, ranges, prefixes and counts match a brute force', async () => {
    const recs = await Word.insertMany(values.map((w) => ({ w })));
    const ids = (pred: (w: string) => boolean): string[] => recs.filter((r) => pred(r.w)).map((r) => r.id).sort();
    const found = async (q: ReturnType<typeof Word.find>): Promise<string[]> => (await q.ids()).sort();
    for (const v of values) {
      expect(await found(Word.find((u) => u.w.eq(v))), `eq ${JSON.stringify(v)}`).to.deep.equal(ids((w) => w === v));
      expect(await Word.find((u) => u.w.eq(v)).count(), `count ${JSON.stringify(v)}`).to.equal(ids((w) => w === v).length);
      expect(await found(Word.find((u) => u.w.gt(v))), `gt ${JSON.stringify(v)}`).to.deep.equal(ids((w) => w > v));
      expect(await found(Word.find((u) => u.w.lte(v))), `lte ${JSON.stringify(v)}`).to.deep.equal(ids((w) => w <= v));
      expect(await found(Word.find((u) => u.w.startsWith(v))), `prefix ${JSON.stringify(v)}`).to.deep.equal(ids((w) => w.startsWith(v)));
    }
    const sorted = (await Word.find((u) => u.w.gte('')).sort('w').toArray()).map((r) => r.w);
    expect(sorted).to.deep.equal([...values].sort());
  });

  it('an update by query changes only the matching records and creates none', async () => {
    const [ab] = await Word.insertMany([{ w: 'a\0b' }, { w: 'a' }]);
    const before = await raw.dbSize();
    expect(await Word.find((u) => u.w.eq('a\0b')).update((p) => p.n.incr(1))).to.equal(1);
    expect((await Word.get(ab.id)).n).to.equal(1);
    expect(await raw.dbSize()).to.equal(before);
  });

  it('a write by query never creates a record an index entry points to', async () => {
    const [a] = await Word.insertMany([{ w: 'x' }]);
    await raw.del(a.key); // gone behind rapyer's back: the entries stay
    const before = await raw.dbSize();
    expect(await Word.find((u) => u.w.eq('x')).update((p) => p.n.incr(1))).to.equal(0);
    expect(await raw.exists(a.key)).to.equal(0);
    expect(await raw.dbSize()).to.equal(before);
  });

  it('checkIndexes({ repair: true }) converges and then finds nothing', async () => {
    await Word.insertMany(values.map((w) => ({ w })));
    await raw.del(`${prefix('HardWord')}#idx:w`);
    const first = await Word.checkIndexes({ repair: true });
    expect(first.missing).to.equal(values.length);
    const second = await Word.checkIndexes({ repair: true });
    expect(second).to.include({ missing: 0, stale: 0 });
    expect(await Word.find((u) => u.w.eq('a\0b')).count()).to.equal(1);
  });
});
