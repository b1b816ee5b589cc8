/**
 * Bytes fields: set, append, setRange, truncate.
 * Immediate (`u.$`) and pipelined, against a real Redis: the results, the local record and the
 * stored one (re-read with `Model.get`) must agree.
 */
import { expect } from 'chai';
import { OperationError, defineModel, t } from '../../../src/index.js';
import { synced, failsCleanly, invalid, bytes } from './helpers.js';

const Bin = defineModel('FoBin', {
  b: t.Bytes({ default: () => new Uint8Array() }),
  small: t.Bytes({ maxLength: 4, default: () => new Uint8Array() }),
});

describe('field ops: Bytes', () => {
  it('set, append, setRange, truncate (immediate), 0x00 included', async () => {
    const u = await Bin.create({});
    expect(await u.$.b.set(bytes(0, 1, 0))).to.deep.equal(bytes(0, 1, 0));
    expect(await u.$.b.append(bytes(0, 255))).to.deep.equal(bytes(0, 1, 0, 0, 255));
    expect(await u.$.b.setRange(1, bytes(9, 9))).to.deep.equal(bytes(0, 9, 9, 0, 255));
    expect(await u.$.b.setRange(0, bytes())).to.deep.equal(bytes(0, 9, 9, 0, 255));
    expect(await u.$.b.setRange(4, bytes(7, 8))).to.deep.equal(bytes(0, 9, 9, 0, 7, 8));
    expect(await u.$.b.setRange(6, bytes(1))).to.deep.equal(bytes(0, 9, 9, 0, 7, 8, 1));
    expect(await u.$.b.setRange(10, bytes(5, 0))).to.deep.equal(bytes(0, 9, 9, 0, 7, 8, 1, 0, 0, 0, 5, 0));
    expect(u.b).to.be.instanceOf(Uint8Array);
    expect((await synced(Bin, u)).b).to.deep.equal(bytes(0, 9, 9, 0, 7, 8, 1, 0, 0, 0, 5, 0));
    expect(await u.$.b.truncate(20)).to.deep.equal(bytes(0, 9, 9, 0, 7, 8, 1, 0, 0, 0, 5, 0));
    expect(await u.$.b.truncate(3)).to.deep.equal(bytes(0, 9, 9));
    expect(await u.$.b.truncate(0)).to.deep.equal(bytes());
    expect((await synced(Bin, u)).b).to.deep.equal(bytes());
  });

  it('set, append, setRange, truncate (pipeline)', async () => {
    const u = await Bin.create({ b: bytes(1, 2, 3) });
    await u.pipeline((p) => {
      p.b.append(bytes(0, 0));
      p.b.setRange(7, bytes(255));
      p.b.truncate(6);
      p.b.setRange(0, bytes(0));
    });
    expect(u.b).to.deep.equal(bytes(0, 2, 3, 0, 0, 0));
    expect((await synced(Bin, u)).b).to.deep.equal(bytes(0, 2, 3, 0, 0, 0));
    await u.pipeline((p) => { p.b.set(bytes(0xc3, 0x28)); p.b.append(bytes(0xff, 0xfe, 0x00)); });
    expect((await synced(Bin, u)).b).to.deep.equal(bytes(0xc3, 0x28, 0xff, 0xfe, 0x00));
  });

  it('checks maxLength in bytes; refuses negative offsets and lengths', async () => {
    const u = await Bin.create({ small: bytes(0, 0, 0) });
    expect(await u.$.small.append(bytes(0))).to.deep.equal(bytes(0, 0, 0, 0));
    await invalid(u, () => u.$.small.append(bytes(0)), 'small', 'maxLength');
    await invalid(u, () => u.$.small.setRange(4, bytes(1)), 'small', 'maxLength');
    await invalid(u, () => u.pipeline((p) => { p.b.set(bytes(1)); p.small.setRange(10, bytes()); }), 'small', 'maxLength');
    await failsCleanly(u, () => u.$.b.setRange(-1, bytes(1)), OperationError);
    await failsCleanly(u, () => u.$.b.truncate(-1), OperationError);
    await failsCleanly(u, () => u.$.b.setRange(1.5, bytes(1)), OperationError);
    await failsCleanly(u, () => u.$.b.truncate(1.5), OperationError);
  });
});
