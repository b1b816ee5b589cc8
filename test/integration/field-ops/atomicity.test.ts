/**
 * All or nothing, server-relative semantics, concurrency and size.
 * Immediate (`u.$`) and pipelined, against a real Redis: the results, the local record and the
 * stored one (re-read with `Model.get`) must agree.
 */
import { expect } from 'chai';
import { Type } from 'typebox';
import { OperationError, ValidationError, connect, defineModel, t, type Connection } from '../../../src/index.js';
import { connectOptions, raw } from '../../helpers/redis.js';
import { type ErrorClass, dump, synced, failsCleanly, bytes } from './helpers.js';

const All = defineModel('FoAll', {
  i: Type.Integer({ default: 0 }),
  s: Type.String({ maxLength: 30, default: '' }),
  b: t.Bytes({ default: () => new Uint8Array([0, 1, 0]) }),
  at: t.DateTime({ default: () => new Date(0) }),
  on: Type.Boolean({ default: false }),
  tags: Type.Array(Type.String(), { maxItems: 10, default: [] }),
  notes: Type.Record(Type.String(), Type.String(), { default: {} }),
  address: Type.Object({ city: Type.String() }, { default: { city: 'Lyon' } }),
});

describe('field ops: all or nothing', () => {
  const failing: [string, (p: any) => void, ErrorClass<Error>][] = [
    ['a division by zero', (p) => p.i.div(0), OperationError],
    ['an index past the end', (p) => p.tags.pop(50), OperationError],
    ['a missing dict key', (p) => p.notes.pop('nope'), OperationError],
    ['a maxLength violation', (p) => p.s.repeat(10), ValidationError],
    ['a maxItems violation', (p) => p.tags.append('1', '2', '3', '4', '5', '6', '7', '8'), ValidationError],
    ['an overflow past 2^53', (p) => p.i.pow(80), ValidationError],
  ];
  for (const [what, last, cls] of failing) {
    it(`a pipeline whose last op fails with ${what} leaves the key byte-for-byte unchanged`, async () => {
      const u = await All.create({ tags: ['a', 'b'], notes: { k: 'v' } });
      await u.$.tags.prepend('z');
      const stored = await All.get(u.id);
      await failsCleanly(u, () => u.pipeline((p) => {
        p.i.incr(5);
        p.s.append('hello');
        p.b.setRange(5, bytes(0, 9));
        p.at.add({ days: 1 });
        p.on.toggle();
        p.tags.append('c');
        p.tags.insert(1, 'm');
        p.tags.pop(0);
        p.notes.setItem('new', 'x');
        p.notes.delete('k');
        p.address.city.set('Paris');
        last(p);
      }), cls);
      const before = await dump(u.key);
      await failsCleanly(u, () => All.pipeline(u.id, (p) => { p.i.set(3); p.s.set('abcdef'); p.notes.clear(); p.on.set(true); last(p); }), cls);
      expect(await dump(u.key)).to.deep.equal(before);
      expect((await All.get(u.id)).toJSON()).to.deep.equal(stored.toJSON());
    });
  }
});

const Counter = defineModel('FoCounter', {
  score: Type.Integer({ default: 0 }),
  name: Type.String({ default: '' }),
  log: Type.String({ default: '' }),
  tags: Type.Array(Type.String(), { default: [] }),
});

describe('field ops: server-relative semantics', () => {
  it('operations apply to the server value, and the record then holds the server state', async () => {
    const u = await Counter.create({ score: 10, name: 'a', tags: ['t'] });
    await Counter.pipeline(u.id, (p) => { p.score.incr(5); p.name.set('changed'); p.tags.prepend('s'); p.tags.append('u'); });
    expect(u.score).to.equal(10);
    expect(await u.$.score.incr(1)).to.equal(16);
    expect(u.toJSON()).to.deep.equal({ score: 16, name: 'changed', log: '', tags: ['s', 't', 'u'] });
    await synced(Counter, u);

    await raw.hSet(u.key, 'score', '100');
    expect(await u.$.score.incr(1)).to.equal(101);
    expect(u.score).to.equal(101);
    await synced(Counter, u);

    const other = await Counter.get(u.id);
    await other.$.tags.pop(0);
    await other.$.tags.prepend('x', 'y');
    expect(await u.$.tags.append('v')).to.deep.equal(['x', 'y', 't', 'u', 'v']);
    await u.pipeline((p) => { p.score.decr(1); p.log.append('!'); });
    expect(u.toJSON()).to.deep.equal({ score: 100, name: 'changed', log: '!', tags: ['x', 'y', 't', 'u', 'v'] });
    await synced(Counter, u);
    // the other copy is stale now; its next op still applies to the server state
    expect(await other.$.tags.pop()).to.equal('v');
    expect(other.toJSON()).to.deep.equal({ score: 100, name: 'changed', log: '!', tags: ['x', 'y', 't', 'u'] });
  });

  it('20 connections x 100 pipelines on one record lose no update', async function () {
    this.timeout(60_000);
    const u = await Counter.create({});
    const conns: Connection[] = await Promise.all(Array.from({ length: 20 }, () => connect(connectOptions)));
    try {
      await Promise.all(conns.map(async (db, w) => {
        const M = Counter.withDb(db);
        const mine = await M.get(u.id);
        for (let k = 0; k < 100; k++) {
          if ((w + k) % 2 === 0) {
            await M.pipeline(u.id, (p) => { p.score.incr(1); p.log.append('x'); });
          } else {
            await mine.pipeline((p) => { p.score.incr(1); p.log.append('x'); });
            // one script did both writes, so any state the reply shows has them in step
            expect(mine.log.length).to.equal(mine.score);
          }
        }
      }));
    } finally {
      await Promise.all(conns.map((c) => c.close()));
    }
    const back = await Counter.get(u.id);
    expect(back.score).to.equal(2000);
    expect(back.log).to.equal('x'.repeat(2000));
  });
});

const Big = defineModel('FoBig', { list: Type.Array(Type.Integer(), { default: [] }) });

describe('field ops: large arrays', () => {
  it('append and pop work on a 100,000-element array', async function () {
    this.timeout(60_000);
    const n = 100_000;
    const u = await Big.create({});
    const expected = Array.from({ length: n }, (_, i) => i);
    expect((await u.$.list.set(expected)).length).to.equal(n);
    expect(await u.$.list.append(n, n + 1)).to.have.length(n + 2);
    expected.push(n, n + 1);
    expect(await u.$.list.pop()).to.equal(n + 1);
    expect(await u.$.list.pop(0)).to.equal(0);
    expect(await u.$.list.prepend(-1)).to.have.length(n + 1);
    expected.pop();
    expected.shift();
    expected.unshift(-1);
    await u.pipeline((p) => { p.list.append(7); p.list.pop(0); p.list.pop(); p.list.pop(); });
    expected.push(7);
    expected.shift();
    expected.pop();
    expected.pop();
    expect(u.list).to.have.length(n - 1);
    expect(u.list[0]).to.equal(1);
    expect(u.list[n - 2]).to.equal(n - 1);
    expect(u.list).to.deep.equal(expected);
    expect((await Big.get(u.id)).list).to.deep.equal(expected);
  });
});
