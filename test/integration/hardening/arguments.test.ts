import { expect } from 'chai';
import { Type } from 'typebox';
import { ValidationError, defineModel } from '../../../src/index.js';

const catchErr = (p: Promise<unknown>): Promise<unknown> => p.then(() => undefined, (e: unknown) => e);

describe('hardening: wrong arguments are never silent no-ops', () => {
  const Item = defineModel('HardArgItem', { name: Type.String(), n: Type.Integer({ default: 0 }) });
  const Other = defineModel('HardArgOther', { name: Type.String() });

  it('deleteMany, updateMany and getMany accept records and use their ids', async () => {
    const [a, b, c] = await Item.insertMany([{ name: 'a' }, { name: 'b' }, { name: 'c' }]);
    expect((await Item.getMany([a, b.id])).map((r) => r.name)).to.deep.equal(['a', 'b']);
    expect(await Item.updateMany([a, c], (p) => p.n.incr(1))).to.equal(2);
    expect(await Item.deleteMany([a, b])).to.equal(2);
    expect(await Item.exists(a.id)).to.equal(false);
    expect((await Item.get(c.id)).n).to.equal(1);
  });

  it('anything else in an ids array is a ValidationError naming its position, nothing written', async () => {
    const a = await Item.create({ name: 'a' });
    const o = await Other.create({ name: 'o' });
    const bad: unknown[][] = [[a.id, 42], [a.id, Item.fields.n.gt(0)], [o], [a.id, null]];
    for (const ids of bad) {
      for (const call of [
        () => Item.deleteMany(ids as string[]),
        () => Item.updateMany(ids as string[], (p) => p.n.incr(1)),
        () => Item.getMany(ids as string[]),
      ]) {
        const err = await catchErr(call());
        expect(err, String(ids)).to.be.instanceOf(ValidationError);
        expect((err as ValidationError).index).to.equal(ids.length - 1);
      }
    }
    expect((await Item.get(a.id)).n).to.equal(0);
    expect(await Other.exists(o.id)).to.equal(true);
  });
});
