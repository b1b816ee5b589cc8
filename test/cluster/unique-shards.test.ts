/**
 * Unique values across shards on the 3-master cluster (src/model/unique.ts): records of one model
 * in 16 shards never hold one unique value twice, through create, save, delete, insertMany,
 * concurrent writers, and a client that stops between any two steps of the protocol.
 */
import { expect } from 'chai';
import { Type } from 'typebox';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConflictError, connect, defineModel, LeaseExpiredError, UniqueViolationError, UsageError } from '../../src/index.js';
import { uniqueProtocol } from '../../src/model/unique.js';
import { connectOptions } from '../helpers/redis.js';

const shape = { email: Type.String(), nick: Type.Optional(Type.String()), n: Type.Integer({ default: 0 }) };
const Member = defineModel('UniqueMember', shape, { unique: ['email', 'nick'], indexes: ['n'], shards: 16 });

describe('unique values across shards', function () {
  this.timeout(60_000);

  it('refuses a second record with a value, in any shard', async () => {
    const a = await Member.create({ email: 'ada@x', nick: 'ada' });
    for (let i = 0; i < 20; i++) {
      const err = await Member.create({ email: 'ada@x' }).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(UniqueViolationError);
      expect((err as UniqueViolationError).path).to.equal('email');
    }
    expect(await Member.create({ email: 'bob@x', nick: 'ada' }).catch((e: unknown) => e)).to.be.instanceOf(UniqueViolationError);
    expect((await Member.find().toArray()).map((m) => m.id)).to.deep.equal([a.id]);
  });

  it('frees a value on delete and on save of another value', async () => {
    const a = await Member.create({ email: 'ada@x' });
    expect(await a.delete()).to.equal(true);
    const b = await Member.create({ email: 'ada@x' });
    b.email = 'bea@x';
    await b.save();
    const c = await Member.create({ email: 'ada@x' });
    expect(await Member.create({ email: 'bea@x' }).catch((e: unknown) => e)).to.be.instanceOf(UniqueViolationError);
    c.n = 5;
    await c.save();
    expect((await Member.get(c.id)).n).to.equal(5);
    const report = await Member.checkIndexes();
    expect(report.stale + report.missing).to.equal(0);
  });

  it('insertMany claims every item\'s values: error refuses the chunk, skip leaves taken items out', async () => {
    await Member.create({ email: 'taken@x', nick: 'old' });
    const items = Array.from({ length: 60 }, (_, i) => ({ email: `m${i}@x`, nick: `k${i}` }));
    const err = await Member.insertMany([...items.slice(0, 30), { email: 'taken@x' }, ...items.slice(30)]).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(UniqueViolationError);
    expect((err as UniqueViolationError).index).to.equal(30);
    expect(await Member.find().count()).to.be.lessThan(61);
    await Member.deleteMany(Member.fields.email.ne('taken@x'));
    expect(await Member.checkIndexes()).to.include({ stale: 0, missing: 0 }); // deleteMany let the values go
    // two items of one value: the second is refused (the first one's chunk may be written: chunks are scripts of their own)
    const dup = await Member.insertMany([{ email: 'a@x' }, { email: 'a@x' }]).catch((e: unknown) => e);
    expect(dup).to.be.instanceOf(UniqueViolationError);
    expect(await Member.find().count()).to.be.at.most(2);
    await Member.deleteMany(Member.fields.email.eq('a@x'));
    const kept = await Member.insertMany([...items, { email: 'taken@x' }, { email: 'b@x', nick: 'old' }, { email: 'c@x' }, { email: 'c@x' }], { onConflict: 'skip' });
    expect(kept.map((m) => m.email).sort()).to.deep.equal([...items.map((m) => m.email), 'c@x'].sort());
    const all = await Member.find().toArray();
    expect(all).to.have.length(62);
    expect(new Set(all.map((m) => m.email)).size).to.equal(62);
    expect(await Member.create({ email: 'm7@x' }).catch((e: unknown) => e)).to.be.instanceOf(UniqueViolationError);
    await Member.checkIndexes({ repair: true });
    expect(await Member.checkIndexes()).to.include({ stale: 0, missing: 0 });
  });

  it('a unique key needs no owner; insertMany skip gives back the claims of an item whose id exists, replace frees the old values', async () => {
    const Keyed = defineModel('KeyedMember', { code: Type.String(), email: Type.String() }, { key: 'code', unique: ['code', 'email'], shards: 16 });
    await Keyed.create({ code: 'a', email: 'e1' });
    expect(await Keyed.create({ code: 'a', email: 'e9' }).catch((e: unknown) => e)).to.be.instanceOf(ConflictError);
    const kept = await Keyed.insertMany([{ code: 'a', email: 'e2' }, { code: 'b', email: 'e3' }], { onConflict: 'skip' });
    expect(kept.map((k) => k.code)).to.deep.equal(['b']);
    await Keyed.create({ code: 'c', email: 'e2' }); // e2 was given back at once, not left pending
    await Keyed.insertMany([{ code: 'a', email: 'e4' }], { onConflict: 'replace' });
    await Keyed.create({ code: 'd', email: 'e1' });
    expect((await Keyed.find().toArray()).map((k) => `${k.code}=${k.email}`).sort()).to.deep.equal(['a=e4', 'b=e3', 'c=e2', 'd=e1']);
    await Keyed.checkIndexes({ repair: true });
    expect(await Keyed.checkIndexes()).to.include({ stale: 0, missing: 0 });
  });

  it('owners stay put through a reshard from 4 to 8 shards; a move from or to one shard is refused', async () => {
    const shape4 = { email: Type.String(), n: Type.Integer() };
    const Four = defineModel('Reowned', shape4, { unique: ['email'], shards: 4 });
    await Four.insertMany(Array.from({ length: 40 }, (_, n) => ({ email: `r${n}@x`, n })));
    expect(await Four.reshard(1).catch((e: unknown) => e)).to.be.instanceOf(UsageError);
    await Four.reshard(8);
    const Eight = defineModel('Reowned', shape4, { unique: ['email'], shards: 8 });
    expect(await Eight.create({ email: 'r7@x', n: 0 }).catch((e: unknown) => e)).to.be.instanceOf(UniqueViolationError);
    await Eight.delete((await Eight.findOne((r) => r.n.eq(7)))!.id);
    await Eight.create({ email: 'r7@x', n: 70 });
    expect(await Eight.checkIndexes()).to.include({ stale: 0, missing: 0 });
  });

  it('lets exactly one of many concurrent creates of one value win', async () => {
    const other = await connect(connectOptions);
    try {
      const Other = Member.withDb(other);
      const tries = Array.from({ length: 24 }, (_, i) => (i % 2 ? Member : Other).create({ email: 'same@x', n: i }));
      const results = await Promise.allSettled(tries);
      const won = results.filter((r) => r.status === 'fulfilled');
      expect(won).to.have.length(1);
      for (const r of results) if (r.status === 'rejected') expect(r.reason).to.be.instanceOf(UniqueViolationError);
    } finally {
      await other.close();
    }
  });

  it('a writer slower than its lease never writes: its record script refuses, it claims again and loses', async () => {
    const saved = { ...uniqueProtocol };
    const other = await connect(connectOptions);
    try {
      Object.assign(uniqueProtocol, { leaseMs: 300, skewMs: 50 });
      const Other = Member.withDb(other);
      let rival: Promise<unknown> | undefined;
      uniqueProtocol.step = async (name, model) => {
        if (model !== Member || name !== 'claim' || rival) return;
        // past the lease, the rival verifies that our record does not hold the value and takes it
        await sleep(500);
        rival = Other.create({ email: 'slow@x', n: 2 });
        await rival;
      };
      const err = await Member.create({ email: 'slow@x', n: 1 }).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(UniqueViolationError);
      expect((await Member.find().toArray()).map((m) => [m.email, m.n])).to.deep.equal([['slow@x', 2]]);
    } finally {
      Object.assign(uniqueProtocol, saved);
      uniqueProtocol.step = undefined;
      await other.close();
    }
  });

  it('a record write past its lease is refused with LeaseExpiredError, nothing written', async () => {
    const saved = { ...uniqueProtocol };
    try {
      Object.assign(uniqueProtocol, { leaseMs: 100, skewMs: 0 });
      // every try of the write sleeps past its lease: the third refusal reaches the caller
      uniqueProtocol.step = async (name, model) => {
        if (model === Member && name === 'claim') await sleep(250);
      };
      const err = await Member.create({ email: 'late@x' }).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(LeaseExpiredError);
      expect(await Member.find().count()).to.equal(0);
      uniqueProtocol.step = undefined;
      await Member.create({ email: 'late@x' });
    } finally {
      Object.assign(uniqueProtocol, saved);
      uniqueProtocol.step = undefined;
    }
  });

  it('refuses field operations and pipelines that write a unique field', async () => {
    const a = await Member.create({ email: 'ada@x', nick: 'ada' });
    const refused = [
      a.$.email.set('x@x'),
      a.$.nick.append('!'),
      a.pipeline((p) => p.n.gte(0).ifTrue(() => p.email.set('y@x'))),
      Member.pipeline(a.id, (p) => p.nick.set('z')),
      Member.updateMany([a.id], (p) => p.nick.set('z')),
      Member.updateMany((m) => m.n.gte(0), (p) => p.nick.set('z')),
      Member.find().update((p) => p.email.prepend('_')),
    ];
    for (const call of refused) {
      const err = await call.then(() => null, (e: unknown) => e);
      expect(err).to.be.instanceOf(UsageError);
      expect((err as Error).message).to.match(/UniqueMember\.(email|nick) is unique across shards: change it with save\(\)/);
    }
    // other fields keep their operations
    expect(await a.$.n.incr(2)).to.equal(2);
    const stored = await Member.get(a.id);
    expect([stored.email, stored.nick, stored.n]).to.deep.equal(['ada@x', 'ada', 2]);
  });

  after(() => {
    uniqueProtocol.step = undefined;
  });
});
