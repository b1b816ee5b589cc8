/**
 * String fields: set, append, prepend, repeat.
 * Immediate (`u.$`) and pipelined, against a real Redis: the results, the local record and the
 * stored one (re-read with `Model.get`) must agree.
 */
import { expect } from 'chai';
import { Type } from 'typebox';
import { OperationError, defineModel } from '../../../src/index.js';
import { synced, failsCleanly, invalid } from './helpers.js';

const Str = defineModel('FoStr', {
  s: Type.String({ default: '' }),
  short: Type.String({ maxLength: 5, default: '' }),
});

describe('field ops: String', () => {
  it('set, append, prepend, repeat (immediate)', async () => {
    const u = await Str.create({});
    expect(await u.$.s.set('hello')).to.equal('hello');
    expect(await u.$.s.append(' world')).to.equal('hello world');
    expect(await u.$.s.prepend('>> ')).to.equal('>> hello world');
    expect(u.s).to.equal('>> hello world');
    expect((await synced(Str, u)).s).to.equal('>> hello world');
    await u.$.s.set('ab');
    expect(await u.$.s.repeat(3)).to.equal('ababab');
    expect(await u.$.s.repeat(1)).to.equal('ababab');
    expect(await u.$.s.repeat(0)).to.equal('');
    expect((await synced(Str, u)).s).to.equal('');
    expect(await u.$.s.append('')).to.equal('');
  });

  it('set, append, prepend, repeat (pipeline)', async () => {
    const u = await Str.create({ s: 'x' });
    await u.pipeline((p) => { p.s.set('ab'); p.s.append('c'); p.s.prepend('z'); p.s.repeat(3); p.s.append('!'); });
    expect(u.s).to.equal('zabczabczabc!');
    expect((await synced(Str, u)).s).to.equal('zabczabczabc!');
  });

  it('keeps unicode and control characters intact', async () => {
    const u = await Str.create({ s: 'héllo' });
    expect(await u.$.s.append(' wörld ✓ 🎉')).to.equal('héllo wörld ✓ 🎉');
    expect(await u.$.s.prepend('日本\u0000\n')).to.equal('日本\u0000\nhéllo wörld ✓ 🎉');
    await u.pipeline((p) => { p.s.set('é🎉'); p.s.repeat(2); p.s.append('\r\n"\\'); });
    expect(u.s).to.equal('é🎉é🎉\r\n"\\');
    expect((await synced(Str, u)).s).to.equal('é🎉é🎉\r\n"\\');
  });

  it('counts maxLength in code points, on the server as on the client', async () => {
    const u = await Str.create({ short: '🎉🎉🎉🎉' });
    expect(await u.$.short.append('é')).to.equal('🎉🎉🎉🎉é');
    await invalid(u, () => u.$.short.append('x'), 'short', 'maxLength');
    await invalid(u, () => u.$.short.prepend('🎉'), 'short', 'maxLength');
    await invalid(u, () => u.$.short.repeat(2), 'short', 'maxLength');
    await invalid(u, () => u.$.short.set('123456'), 'short', 'maxLength');
    await invalid(u, () => u.pipeline((p) => { p.s.set('written?'); p.short.append('x'); }), 'short', 'maxLength');
    await u.$.short.set('ab');
    await invalid(u, () => u.$.short.repeat(1000000), 'short', 'maxLength');
    expect((await synced(Str, u)).short).to.equal('ab');
  });

  it('refuses a negative or fractional repeat count with OperationError', async () => {
    const u = await Str.create({ s: 'ab' });
    await failsCleanly(u, () => u.$.s.repeat(-1), OperationError);
    await failsCleanly(u, () => u.$.s.repeat(1.5), OperationError);
  });
});
