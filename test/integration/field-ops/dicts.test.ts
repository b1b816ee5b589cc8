/**
 * Record (dict) fields: setItem, update, delete, pop, popItem, clear, set, incr.
 * Immediate (`u.$`) and pipelined, against a real Redis: the results, the local record and the
 * stored one (re-read with `Model.get`) must agree.
 */
import { expect } from 'chai';
import { Type } from 'typebox';
import { OperationError, defineModel, t } from '../../../src/index.js';
import { raw } from '../../helpers/redis.js';
import { synced, failsCleanly, invalid } from './helpers.js';

const Dict = defineModel('FoDict', {
  notes: Type.Record(Type.String(), Type.String(), { default: {} }),
  counts: Type.Record(Type.String(), Type.Integer({ maximum: 1000 }), { default: {} }),
  scores: Type.Record(Type.String(), Type.Number(), { default: {} }),
  objs: Type.Record(Type.String(), Type.Object({ n: Type.Integer(), when: t.DateTime() }), { default: {} }),
  label: Type.String({ default: 'unchanged' }),
});

const AWKWARD_KEYS = ['a.b', 'with space', 'line\nbreak', '', 'ünï 🎉', '[0]', 'x@', 'notes', '.', 'a.b.'];

describe('field ops: Record (dict)', () => {
  it('setItem with awkward keys (immediate)', async () => {
    const u = await Dict.create({});
    const expected: Record<string, string> = {};
    for (const [i, k] of AWKWARD_KEYS.entries()) {
      expected[k] = `v${i}`;
      expect(await u.$.notes.setItem(k, `v${i}`), JSON.stringify(k)).to.deep.equal(expected);
    }
    expected['a.b'] = 'over';
    expect(await u.$.notes.setItem('a.b', 'over')).to.deep.equal(expected);
    expect(u.notes).to.deep.equal(expected);
    expect((await synced(Dict, u)).notes).to.deep.equal(expected);
    expect(await raw.hGet(u.key, 'notes')).to.equal(String(AWKWARD_KEYS.length));
  });

  it('setItem, update, delete, pop, popItem, clear, set (pipeline)', async () => {
    const u = await Dict.create({ notes: { a: '1', b: '2' } });
    await u.pipeline((p) => {
      p.notes.setItem('', 'empty');
      p.notes.update({ 'a.b': 'x', b: 'B', 'c\nd': 'y' });
      p.notes.delete('a');
      p.notes.pop('b');
      p.notes.pop('missing', 'dflt');
    });
    expect(u.notes).to.deep.equal({ '': 'empty', 'a.b': 'x', 'c\nd': 'y' });
    expect((await synced(Dict, u)).notes).to.deep.equal({ '': 'empty', 'a.b': 'x', 'c\nd': 'y' });
    await u.pipeline((p) => { p.notes.popItem(); p.notes.popItem(); });
    expect((await synced(Dict, u)).notes).to.deep.equal({ '': 'empty' });
    await u.pipeline((p) => { p.notes.clear(); p.notes.setItem('k', 'v'); });
    expect((await synced(Dict, u)).notes).to.deep.equal({ k: 'v' });
    await u.pipeline((p) => { p.notes.set({ k: 'w', z: 'z' }); p.notes.delete('z'); p.notes.setItem('n', 'm'); });
    expect((await synced(Dict, u)).notes).to.deep.equal({ k: 'w', n: 'm' });
    expect(await raw.hGet(u.key, 'notes')).to.equal('2');
  });

  it('update merges, set replaces, clear empties (immediate)', async () => {
    const u = await Dict.create({ notes: { a: '1', 'b.c': '2' } });
    expect(await u.$.notes.update({ 'b.c': 'B', d: '4', '': '' })).to.deep.equal({ a: '1', 'b.c': 'B', d: '4', '': '' });
    expect((await synced(Dict, u)).notes).to.deep.equal({ a: '1', 'b.c': 'B', d: '4', '': '' });
    expect(await u.$.notes.update({})).to.deep.equal({ a: '1', 'b.c': 'B', d: '4', '': '' });
    expect(await u.$.notes.set({ x: 'X', a: 'A' })).to.deep.equal({ x: 'X', a: 'A' });
    expect((await synced(Dict, u)).notes).to.deep.equal({ x: 'X', a: 'A' });
    expect(await raw.hGet(u.key, 'notes')).to.equal('2');
    expect(await u.$.notes.clear()).to.deep.equal({});
    expect((await synced(Dict, u)).notes).to.deep.equal({});
    expect(await raw.hGet(u.key, 'notes')).to.equal('0');
    expect(await u.$.notes.set({})).to.deep.equal({});
  });

  it('delete returns the old value (undefined when absent)', async () => {
    const u = await Dict.create({ notes: { a: '1', 'a.b': '2' } });
    expect(await u.$.notes.delete('a')).to.equal('1');
    expect(await u.$.notes.delete('a')).to.equal(undefined);
    expect(u.notes).to.deep.equal({ 'a.b': '2' });
    expect((await synced(Dict, u)).notes).to.deep.equal({ 'a.b': '2' });
    expect(await raw.hGet(u.key, 'notes')).to.equal('1');
  });

  it('pop with and without a default; a missing key without one is an OperationError', async () => {
    const u = await Dict.create({ notes: { a: '1', b: '2' } });
    expect(await u.$.notes.pop('a')).to.equal('1');
    expect(await u.$.notes.pop('b', 'dflt')).to.equal('2');
    expect(await u.$.notes.pop('a', 'dflt')).to.equal('dflt');
    expect(await u.$.notes.pop('a', '')).to.equal('');
    expect(u.notes).to.deep.equal({});
    await failsCleanly(u, () => u.$.notes.pop('a'), OperationError);
    await u.$.notes.setItem('k', 'v');
    await failsCleanly(u, () => u.pipeline((p) => { p.notes.pop('k'); p.label.set('written?'); p.notes.pop('k'); }), OperationError);
    expect((await synced(Dict, u)).notes).to.deep.equal({ k: 'v' });
  });

  it('popItem removes and returns the entry with the greatest key; empty is an OperationError', async () => {
    const u = await Dict.create({ notes: { b: '2', 'a.z': '1', c: '3', '': '0' } });
    expect(await u.$.notes.popItem()).to.deep.equal(['c', '3']);
    expect(await u.$.notes.popItem()).to.deep.equal(['b', '2']);
    expect(await u.$.notes.popItem()).to.deep.equal(['a.z', '1']);
    expect(await u.$.notes.popItem()).to.deep.equal(['', '0']);
    expect(u.notes).to.deep.equal({});
    await failsCleanly(u, () => u.$.notes.popItem(), OperationError);
    expect((await synced(Dict, u)).notes).to.deep.equal({});
  });

  it('incr on numeric values: missing keys count as 0, constraints checked per value', async () => {
    const u = await Dict.create({ counts: { a: 1 } });
    expect(await u.$.counts.incr('a', 5)).to.equal(6);
    expect(await u.$.counts.incr('a')).to.equal(7);
    expect(await u.$.counts.incr('new.key', -3)).to.equal(-3);
    expect(u.counts).to.deep.equal({ a: 7, 'new.key': -3 });
    expect((await synced(Dict, u)).counts).to.deep.equal({ a: 7, 'new.key': -3 });
    expect(await raw.hGet(u.key, 'counts')).to.equal('2');
    await invalid(u, () => u.$.counts.incr('a', 994), 'counts.a', 'maximum');
    await invalid(u, () => u.$.counts.incr('b', 0.5), 'counts.b', 'integer');
    await invalid(u, () => u.pipeline((p) => { p.counts.incr('a', 1); p.counts.incr('a', 1000); }), 'counts.a', 'maximum');
    expect(await u.$.scores.incr('x', 0.1)).to.equal(0.1);
    expect(await u.$.scores.incr('x', 0.2)).to.equal(0.1 + 0.2);
    await u.pipeline((p) => { p.counts.incr('a', 3); p.counts.incr('a', -10); p.scores.incr('y'); p.scores.incr('x', -0.5); });
    expect(u.counts).to.deep.equal({ a: 0, 'new.key': -3 });
    expect(u.scores).to.deep.equal({ x: 0.1 + 0.2 - 0.5, y: 1 });
    await synced(Dict, u);
  });

  it('object values: setItem, update, pop, delete, popItem', async () => {
    const u = await Dict.create({});
    const o = (n: number) => ({ n, when: new Date(n) });
    expect(await u.$.objs.setItem('a b', o(1))).to.deep.equal({ 'a b': o(1) });
    await u.$.objs.update({ 'x.y': o(2), z: o(3) });
    expect(await u.$.objs.pop('x.y')).to.deep.equal(o(2));
    expect(await u.$.objs.pop('x.y', o(9))).to.deep.equal(o(9));
    expect(await u.$.objs.popItem()).to.deep.equal(['z', o(3)]);
    expect(await u.$.objs.delete('a b')).to.deep.equal(o(1));
    await u.pipeline((p) => { p.objs.set({ k: o(4) }); p.objs.setItem('k', o(5)); });
    expect((await synced(Dict, u)).objs).to.deep.equal({ k: o(5) });
    await invalid(u, () => u.$.objs.setItem('bad', { n: 1.5, when: new Date(0) }), 'objs.bad.n', 'integer');
  });
});
