/**
 * Unique values across shards on the 3-master cluster (src/model/unique.ts): records of one model
 * in 16 shards never hold one unique value twice, through create, save, delete, insertMany,
 * concurrent writers, and a client that stops between any two steps of the protocol.
 */
import { expect } from 'chai';
import { Type } from 'typebox';
import { setTimeout as sleep } from 'node:timers/promises';
import { abort, AbortError, ConflictError, connect, defineModel, LeaseExpiredError, UniqueViolationError, UsageError } from '../../src/index.js';
import { uniqueProtocol } from '../../src/model/unique.js';
import { connectOptions, db, raw } from '../helpers/redis.js';

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

  it('refuses every write of a unique field but a top-level set(value): branches, computed sets, other operations, updates of many records', async () => {
    const a = await Member.create({ email: 'ada@x', nick: 'ada' });
    const refused = [
      a.$.nick.append('!'),
      a.pipeline((p) => p.n.gte(0).ifTrue(() => p.email.set('y@x'))),
      a.pipeline((p) => p.nick.set(p.email)),
      a.pipeline((p) => {
        p.email.set('q@x');
        p.email.append('!');
      }),
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
    let stored = await Member.get(a.id);
    expect([stored.email, stored.nick, stored.n]).to.deep.equal(['ada@x', 'ada', 2]);
    // a top-level set of a value is claimed
    expect(await a.$.email.set('x@x')).to.equal('x@x');
    await Member.pipeline(a.id, (p) => p.nick.set('z'));
    stored = await Member.get(a.id);
    expect([stored.email, stored.nick, stored.n]).to.deep.equal(['x@x', 'z', 2]);
  });

  it('a top-level set of a unique value claims it: refused when another shard\'s record holds it, the old value freed, the new one taken', async () => {
    const a = await Member.create({ email: 'a@x', nick: 'a' });
    let b = await Member.create({ email: 'b@x' });
    while (Member.keys.shardOf(b.id) === Member.keys.shardOf(a.id)) {
      await b.delete();
      b = await Member.create({ email: 'b@x' });
    }
    const before = await raw.hGetAll(a.key);
    for (const set of [() => a.$.email.set('b@x'), () => a.pipeline((p) => {
      p.n.incr(1);
      p.email.set('b@x');
    })]) {
      expect(await set().catch((e: unknown) => e)).to.be.instanceOf(UniqueViolationError);
      expect(await raw.hGetAll(a.key)).to.deep.equal(before); // nothing written, the version unchanged
      expect([a.email, a.n]).to.deep.equal(['a@x', 0]);
    }

    expect(await a.$.email.set('c@x')).to.equal('c@x');
    expect(a.email).to.equal('c@x');
    expect((await Member.get(a.id)).email).to.equal('c@x');
    await Member.create({ email: 'a@x' }); // the old value is free
    expect(await Member.create({ email: 'c@x' }).catch((e: unknown) => e)).to.be.instanceOf(UniqueViolationError);

    // one script: the set and the other operations
    await a.pipeline((p) => {
      p.email.set('d@x');
      p.n.incr(3);
    });
    expect([a.email, a.n]).to.deep.equal(['d@x', 3]);
    expect(await Member.pipeline(a.id, (p) => p.nick.set('k')).then((m) => [m.email, m.nick, m.n])).to.deep.equal(['d@x', 'k', 3]);
    await Member.create({ email: 'c@x', nick: 'a' });

    // the value it holds already
    expect(await a.$.email.set('d@x')).to.equal('d@x');
    expect(await Member.create({ email: 'd@x' }).catch((e: unknown) => e)).to.be.instanceOf(UniqueViolationError);

    // two sets of one field: the record ends with the last, the first is never claimed
    await a.pipeline((p) => {
      p.email.set('f@x');
      p.email.set('g@x');
    });
    expect((await Member.get(a.id)).email).to.equal('g@x');
    await Member.create({ email: 'f@x' });
    await Member.create({ email: 'd@x' });
    expect(await Member.create({ email: 'g@x' }).catch((e: unknown) => e)).to.be.instanceOf(UniqueViolationError);

    // a transaction over records of one shard
    let c = await Member.create({ email: 'h@x', nick: 'h' });
    for (let i = 0; Member.keys.shardOf(c.id) !== Member.keys.shardOf(a.id); i++) {
      expect(i).to.be.lessThan(500);
      await c.delete();
      c = await Member.create({ email: 'h@x', nick: 'h' });
    }
    await db.transaction([a, c], (pa, pc) => {
      pa.email.set('i@x');
      pc.nick.set('j');
      pc.n.incr(1);
    });
    expect([a.email, c.email, c.nick, c.n]).to.deep.equal(['i@x', 'h@x', 'j', 1]);
    await Member.create({ email: 'g@x', nick: 'h' });
    expect(await Member.create({ email: 'z@x', nick: 'j' }).catch((e: unknown) => e)).to.be.instanceOf(UniqueViolationError);

    const all = await Member.find().toArray();
    expect(new Set(all.map((m) => m.email)).size).to.equal(all.length);
    expect(await Member.checkIndexes()).to.include({ stale: 0, missing: 0 });
  });

  it('setNull of a nullable unique field lets its value go', async () => {
    const Aliased = defineModel('UniqueAliased', { alias: Type.Union([Type.String(), Type.Null()]), n: Type.Integer({ default: 0 }) }, { unique: ['alias'], shards: 16 });
    const a = await Aliased.create({ alias: 'al' });
    expect(await a.$.alias.set(null)).to.equal(null);
    expect((await Aliased.get(a.id)).alias).to.equal(null);
    await Aliased.create({ alias: 'al' });
    await a.pipeline((p) => {
      p.alias.set('bo');
      p.alias.set(null);
      p.alias.set('cy');
    });
    expect(await Aliased.create({ alias: 'cy' }).catch((e: unknown) => e)).to.be.instanceOf(UniqueViolationError);
    await Aliased.create({ alias: 'bo' });
    expect(await Aliased.checkIndexes()).to.include({ stale: 0, missing: 0 });
  });

  it('a field set its script refuses gives its claim back; one past its lease claims again', async () => {
    const a = await Member.create({ email: 'a@x' });
    const err = await a.pipeline((p) => {
      p.email.set('b@x');
      abort('no');
    }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(AbortError);
    await Member.create({ email: 'b@x' }); // given back at once, not left pending
    const saved = { ...uniqueProtocol };
    try {
      Object.assign(uniqueProtocol, { leaseMs: 150, skewMs: 0 });
      let claims = 0;
      // the first two claims outlive their lease: their writes are refused, the third lands
      uniqueProtocol.step = async (name, model) => {
        if (model === Member && name === 'claim' && ++claims < 3) await sleep(300);
      };
      expect(await a.$.email.set('c@x')).to.equal('c@x');
      expect(claims).to.equal(3);
    } finally {
      Object.assign(uniqueProtocol, saved);
      uniqueProtocol.step = undefined;
    }
    expect((await Member.get(a.id)).email).to.equal('c@x');
    await Member.create({ email: 'a@x' });
    expect(await Member.checkIndexes()).to.include({ stale: 0, missing: 0 });
  });

  it('lets exactly one of many concurrent field sets of one value win', async () => {
    const other = await connect(connectOptions);
    try {
      const Other = Member.withDb(other);
      const recs = await Promise.all(Array.from({ length: 24 }, (_, i) => Member.create({ email: `r${i}@x`, n: i })));
      const tries = recs.map((r, i) => (i % 2 ? r.$.email.set('same@x') : Other.pipeline(r.id, (p) => {
        p.email.set('same@x');
        p.n.incr(100);
      })));
      const results = await Promise.allSettled(tries);
      expect(results.filter((r) => r.status === 'fulfilled')).to.have.length(1);
      for (const r of results) if (r.status === 'rejected') expect(r.reason).to.be.instanceOf(UniqueViolationError);
      const winner = results.findIndex((r) => r.status === 'fulfilled');
      const stored = new Map((await Member.find().toArray()).map((m) => [m.id, [m.email, m.n]]));
      expect(recs.map((r) => stored.get(r.id))).to.deep.equal(recs.map((_, i) => (i !== winner ? [`r${i}@x`, i] : ['same@x', i % 2 ? i : i + 100])));
      await Member.create({ email: `r${winner}@x` }); // the winner's old value is free
      expect(await Member.checkIndexes()).to.include({ stale: 0, missing: 0 });
    } finally {
      await other.close();
    }
  });

  after(() => {
    uniqueProtocol.step = undefined;
  });
});
