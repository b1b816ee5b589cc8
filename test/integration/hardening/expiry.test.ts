/**
 * Expired records are gone everywhere at once, before any sweep: reads skip them (exact counts,
 * pages, aggregates, streams) and run read-only, so they answer under maxmemory/noeviction and a
 * long one stays killable; writes take an expired owner's unique value and id as free;
 * checkIndexes reports no false counts; sweeps are write scripts of their own, in bounded chunks,
 * with the 'expire' change events.
 */
import { expect } from 'chai';
import { Type } from 'typebox';
import { and, connect, defineModel } from '../../../src/index.js';
import { connectOptions, prefix, raw } from '../../helpers/redis.js';
import { calls, masters } from '../../helpers/stats.js';
import { traced } from '../../helpers/traced.js';
import { until } from '../../helpers/until.js';

const shape = {
  name: Type.String(),
  n: Type.Integer({ default: 0 }),
  city: Type.String({ default: 'Paris' }),
  bio: Type.String({ default: 'likes rust' }),
};
const opts = { indexes: ['n', 'city'], unique: ['name'], search: ['bio'], ttl: 3600, changes: true } as const;
const User = defineModel('ExpUser', shape, opts);
const Keyed = defineModel('ExpKeyed', { email: Type.String(), city: Type.String() }, { key: 'email', indexes: ['city'], ttl: 3600, changes: true });

/** Expires records now (their TTL set by rapyer, which files it) and waits until Redis no longer has them. */
async function expireNow(...recs: { key: string; expire(seconds: number): Promise<boolean> }[]): Promise<void> {
  for (const r of recs) await r.expire(0.001);
  await until('Redis expired the records', async () => (await raw.exists(recs.map((r) => r.key))) === 0);
}

const uniqKey = `${prefix('ExpUser')}#uniq:name`;
const events = async (model: typeof User | typeof Keyed): Promise<[string, string][]> => {
  const out: [string, string][] = [];
  for await (const c of model.changes({ from: '0', follow: false })) out.push([c.op, c.id]);
  return out;
};

describe('hardening: expired records are gone everywhere at once', () => {
  it('every write takes the unique value of an expired record before any sweep, and its owner entry in the same script', async () => {
    const holders = await User.insertMany(['v1', 'v2', 'v3', 'v4', 'v5', 'v6'].map((name) => ({ name, n: 1 })));
    const live = await User.create({ name: 'live', n: 2 });
    await expireNow(...holders);
    const created = await User.create({ name: 'v1', n: 3 });
    await live.$.name.set('v2');
    live.name = 'v3';
    await live.save({ force: true });
    const [inserted] = await User.insertMany([{ name: 'v4', n: 3 }]);
    await User.updateMany([live.id], (p) => p.name.set('v5'));
    await User.find((u) => u.n.eq(2)).update((p) => p.name.set('v6'));
    const owners = await raw.hGetAll(uniqKey);
    expect(owners).to.deep.include({ v1: created.id, v4: inserted.id, v6: live.id });
    // a value a live record holds is still refused
    expect(await User.create({ name: 'v6' }).catch((e: unknown) => (e as Error).name)).to.equal('UniqueViolationError');
  });

  it('a create that reuses an expired record\'s id drops its leftover entries first, with its expire event', async () => {
    const a = await Keyed.create({ email: 'e@x', city: 'Paris' });
    await expireNow(a);
    await Keyed.create({ email: 'e@x', city: 'Oslo' });
    expect(await Keyed.find((u) => u.city.eq('Paris')).count()).to.equal(0);
    expect(await Keyed.find((u) => u.city.eq('Paris')).ids()).to.deep.equal([]);
    expect(await Keyed.find((u) => u.city.eq('Oslo')).ids()).to.deep.equal(['e@x']);
    expect(await raw.zRange(`${prefix('ExpKeyed')}#idx:city`, 0, -1)).to.deep.equal(['Oslo\0e@x']);
    expect(await events(Keyed)).to.deep.equal([['create', 'e@x'], ['expire', 'e@x'], ['create', 'e@x']]);
  });

  it('reads skip expired ids before any sweep: exact counts, ids, pages, aggregates, streams; checkIndexes sees nothing wrong', async () => {
    const recs = await User.insertMany(Array.from({ length: 10 }, (_, i) => ({ name: `u${i}`, n: i, city: i % 2 ? 'Oslo' : 'Paris' })));
    await expireNow(recs[0], recs[3], recs[4]);
    const alive = recs.filter((_, i) => ![0, 3, 4].includes(i)).map((r) => r.id).sort();
    // no index entry, id or owner changed: checkIndexes runs first, before any query could sweep
    expect(await User.checkIndexes()).to.deep.equal({ records: 10, missing: 0, stale: 0, repaired: false });
    expect(await raw.zCard(`${prefix('ExpUser')}#ids`)).to.equal(10);
    expect(await User.find((u) => u.n.gte(0)).count()).to.equal(7);                        // exact: index sets alone
    expect(await User.find((u) => u.city.eq('Paris')).count()).to.equal(3);
    expect(await User.find((u) => and(u.city.eq('Oslo'), u.n.lt(5))).count()).to.equal(1);
    expect(await User.find((u) => u.bio.matches('rust')).count()).to.equal(7);
    expect(await User.find((u) => u.name.startsWith('u')).count()).to.equal(7);              // a scan
    expect((await User.find((u) => u.n.gte(0)).ids()).sort()).to.deep.equal(alive);
    expect((await User.find().toArray()).map((r) => r.id).sort()).to.deep.equal(alive);
    expect((await User.find((u) => u.n.gte(0)).sort('n').limit(2).toArray()).map((r) => r.n)).to.deep.equal([1, 2]);
    expect(await User.find((u) => u.n.gte(0)).aggregate({ c: 'count', s: ['sum', 'n'] })).to.deep.equal({ c: 7, s: 1 + 2 + 5 + 6 + 7 + 8 + 9 });
    const streamed: string[] = [];
    for await (const r of User.find((u) => u.n.gte(0)).stream({ pageSize: 2 })) streamed.push(r.id);
    expect(streamed.sort()).to.deep.equal(alive);
    // a sweep (the queries started one; sweepExpired finishes it) emits one expire event per record
    await User.sweepExpired();
    expect((await events(User)).filter(([op]) => op === 'expire').map(([, id]) => id).sort())
      .to.deep.equal([recs[0].id, recs[3].id, recs[4].id].sort());
    expect(await raw.zCard(`${prefix('ExpUser')}#ids`)).to.equal(7);
    expect(await User.checkIndexes()).to.deep.equal({ records: 7, missing: 0, stale: 0, repaired: false });
  });

  it('queries run read-only (EVALSHA_RO): the sweep is a write script of its own', async () => {
    const recs = await User.insertMany(Array.from({ length: 4 }, (_, i) => ({ name: `r${i}`, n: i })));
    await expireNow(recs[0]);
    for (const node of await masters()) await node.configResetStat();
    await User.find((u) => u.n.gte(0)).count();
    await User.find((u) => u.n.gte(0)).toArray();
    await User.find((u) => u.n.gte(0)).aggregate({ c: 'count' });
    await User.sweepExpired();
    expect(await calls('evalsha_ro')).to.equal(3);
    expect(await calls('evalsha')).to.be.at.least(1); // the sweeps (the one the first query started, and sweepExpired's)
    expect(await events(User)).to.deep.include(['expire', recs[0].id]);
  });

  it('sweeps in bounded chunks: sweepExpired drops every expired record, a chunk at a time', async () => {
    const recs = await User.insertMany(Array.from({ length: 25 }, (_, i) => ({ name: `c${i}`, n: i })));
    await expireNow(...recs.slice(0, 20));
    let dropped: number | undefined;
    const seen = await traced(async () => { dropped = await User.sweepExpired({ chunkSize: 6 }); });
    expect(dropped).to.equal(20);
    // the sweep's own scripts, seen by the client: server-wide call counts would also count any
    // background sweep still finishing from an earlier test
    const chunks = seen.filter(([ev, e]) => ev === 'asyncEnd' && e.kind === 'SweepExpired').map(([, e]) => e.result);
    expect(chunks).to.deep.equal([6, 6, 6, 2].map((n) => ({ handled: n, dropped: n })));
    expect(await User.sweepExpired()).to.equal(0);
    expect(await raw.zCard(`${prefix('ExpUser')}#ids`)).to.equal(5);
    expect(await raw.hLen(uniqKey)).to.equal(5);
  });

  it('the first queries of a TTL model answer with Redis full under noeviction', async () => {
    const other = await connect(connectOptions);
    const servers = await masters();
    try {
      const Fresh = User.withDb(other); // written on this connection, never queried: its first query comes under a full memory
      const recs = await Fresh.insertMany(Array.from({ length: 6 }, (_, i) => ({ name: `m${i}`, n: i })));
      await expireNow(recs[0], recs[1]);
      for (const node of servers) {
        await node.configSet('maxmemory-policy', 'noeviction');
        await node.configSet('maxmemory', '1');
      }
      expect(await raw.set('filler', 'x').catch((e: unknown) => String(e))).to.match(/OOM/);
      expect(await Fresh.find((u) => u.n.gte(0)).count()).to.equal(4);
      expect((await Fresh.find((u) => u.n.gte(0)).sort('n').toArray()).map((r) => r.n)).to.deep.equal([2, 3, 4, 5]);
      expect(await Fresh.find((u) => u.city.eq('Paris')).ids()).to.have.length(4);
      expect(await Fresh.find().aggregate({ c: 'count' })).to.deep.equal({ c: 4 });
      expect((await Fresh.get(recs[2].id)).n).to.equal(2);
    } finally {
      for (const node of servers) await node.configSet('maxmemory', '0');
      await other.close();
    }
  });

  it('a long query on a TTL model with expired records stays killable by SCRIPT KILL', async function () {
    this.timeout(120_000);
    const Big = defineModel('ExpBig', { n: Type.Integer(), s: Type.String() }, { indexes: ['n'], ttl: 3600 });
    const items = Array.from({ length: 60_000 }, (_, i) => ({ n: i, s: `s${i}` }));
    const recs = await Big.insertMany(items, { chunkSize: 5_000 });
    await expireNow(recs[0], recs[1]);
    const servers = await masters();
    for (const node of servers) await node.configSet('lua-time-limit', '10');
    try {
      // every candidate of the index range is read and filtered in one script
      const query = Big.find((u) => and(u.n.gte(0), u.s.eq('never'))).sort('s').toArray().then(() => 'answered', (e: unknown) => String(e));
      let killed = '';
      let finished = false;
      void query.then(() => (finished = true));
      // `raw` is a connection of its own: Redis serves SCRIPT KILL there while the script runs
      while (!finished && killed !== 'OK' && !/UNKILLABLE/.test(killed)) {
        for (const node of servers) {
          const reply = await node.sendCommand(['SCRIPT', 'KILL']).catch((e: unknown) => String(e));
          if (reply === 'OK' || /UNKILLABLE/.test(String(reply))) killed = String(reply);
        }
        await new Promise((r) => setTimeout(r, 2));
      }
      expect(killed).to.equal('OK');
      expect(await query).to.match(/killed/i);
    } finally {
      for (const node of servers) await node.configSet('lua-time-limit', '5000');
    }
    expect(await raw.ping()).to.equal('PONG');
  });
});
