import { expect } from 'chai';
import { Type } from 'typebox';
import { ConflictError, defineModel } from '../../../src/index.js';
import { raw } from '../../helpers/redis.js';

const catchErr = (p: Promise<unknown>): Promise<unknown> => p.then(() => undefined, (e: unknown) => e);

describe('hardening: save() is version-checked', () => {
  const Note = defineModel('HardSaveNote', { text: Type.String(), n: Type.Integer({ default: 0 }) }, { indexes: ['n'] });

  it('a stale copy cannot overwrite newer data; force: true can', async () => {
    const a = await Note.create({ text: 'v1' });
    const stale = await Note.get(a.id);
    a.text = 'v2';
    await a.save();
    await a.save(); // its own saves keep it current
    await a.$.n.incr(1);
    a.text = 'v3';
    await a.save();
    stale.text = 'old';
    const before = await raw.hGetAll(a.key);
    expect(await catchErr(stale.save())).to.be.instanceOf(ConflictError);
    expect(await raw.hGetAll(a.key)).to.deep.equal(before);
    await stale.save({ force: true });
    expect((await Note.get(a.id)).text).to.equal('old');
    expect(await Note.find((u) => u.n.eq(0)).count()).to.equal(1);
  });

  it('saving a deleted record raises ConflictError and does not bring it back', async () => {
    const a = await Note.create({ text: 'x', n: 5 });
    await Note.delete(a.id);
    a.text = 'y';
    expect(await catchErr(a.save())).to.be.instanceOf(ConflictError);
    expect(await Note.exists(a.id)).to.equal(false);
    expect(await Note.find((u) => u.n.eq(5)).count()).to.equal(0);
    await a.save({ force: true });
    expect((await Note.get(a.id)).text).to.equal('y');
  });

  it('locked.save() fails when the lease ran out and someone else wrote', async () => {
    const a = await Note.create({ text: 'x' });
    const err = await catchErr(a.lock(async (locked) => {
      await Note.pipeline(a.id, (p) => p.text.set('other writer'));
      locked.text = 'mine';
      await locked.save();
    }, { leaseMs: 50 }));
    expect(err).to.be.instanceOf(ConflictError);
    expect((await Note.get(a.id)).text).to.equal('other writer');
  });
});
