/**
 * Boolean fields: set, toggle.
 * Immediate (`u.$`) and pipelined, against a real Redis: the results, the local record and the
 * stored one (re-read with `Model.get`) must agree.
 */
import { expect } from 'chai';
import { Type } from 'typebox';
import { defineModel } from '../../../src/index.js';
import { synced } from './helpers.js';

const Flag = defineModel('FoFlag', { on: Type.Boolean({ default: false }), other: Type.Boolean({ default: true }) });

describe('field ops: Boolean', () => {
  it('set and toggle (immediate)', async () => {
    const u = await Flag.create({});
    expect(await u.$.on.set(true)).to.equal(true);
    expect(u.on).to.equal(true);
    expect(await u.$.on.toggle()).to.equal(false);
    expect(u.on).to.equal(false);
    expect((await synced(Flag, u)).on).to.equal(false);
    expect(await u.$.on.toggle()).to.equal(true);
    expect(await u.$.on.set(true)).to.equal(true);
    expect((await synced(Flag, u)).on).to.equal(true);
  });

  it('set and toggle (pipeline)', async () => {
    const u = await Flag.create({});
    await u.pipeline((p) => { p.on.toggle(); p.on.toggle(); p.on.toggle(); p.other.set(false); p.other.toggle(); p.other.toggle(); });
    expect(u.toJSON()).to.deep.equal({ on: true, other: false });
    await synced(Flag, u);
  });
});
