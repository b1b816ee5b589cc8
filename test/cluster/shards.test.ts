/**
 * Sharded models on the 3-master cluster (`shards: 16`): records spread over every master, each
 * record's keys in its shard, and fan-out queries that return exactly what a brute-force filter of
 * the same data returns — and what the same model returns on a single node (one shard).
 */
import { expect } from 'chai';
import { Type } from 'typebox';
import type { RedisClientType, RedisClusterType } from 'redis';
import { slot } from '../../src/client/slot.js';
import { shardOf } from '../../src/model/keys.js';
import {
  and, connect, ConflictError, CrossSlotError, defineModel, not, or, t, type Condition, type Connection, type Infer,
} from '../../src/index.js';
import { startRedis, type EmbeddedRedis } from '../helpers/embedded-redis.js';
import { db, raw } from '../helpers/redis.js';

const shape = {
  code: Type.String(),
  name: Type.String(),
  age: Type.Integer({ minimum: 0 }),
  score: Type.Number({ default: 0 }),
  city: Type.String(),
  active: Type.Boolean(),
  seen: t.DateTime(),
  nick: Type.Optional(Type.String()),
  level: Type.Integer(),
};
const SHARDS = 16;
const Sharded = defineModel('Sharded', shape, { key: 'code', indexes: ['age', 'score', 'city', 'active', 'seen', 'name'], shards: SHARDS });

type P = Infer<typeof Sharded>;
type Fields = typeof Sharded.fields;
type Pred = (p: P) => boolean;

let seed = 7;
const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
const pick = <T>(xs: readonly T[]): T => xs[rand(xs.length)];
const CITIES = ['Paris', 'Lyon', 'Nice', 'Lille', 'Pau'];

function randomPerson(i: number): P {
  return {
    code: `p${String(i).padStart(4, '0')}`,
    name: `${pick(['ann', 'bob', 'carl', 'dora', 'eve'])}${rand(50)}`,
    age: rand(80),
    score: rand(300) / 10,
    city: pick(CITIES),
    active: rand(2) === 0,
    seen: new Date(1_700_000_000_000 + rand(1000) * 86_400_000),
    ...(rand(3) === 0 ? { nick: `n${rand(10)}` } : {}),
    level: rand(5),
  };
}

function randomCondition(f: Fields, depth: number): [Condition, Pred] {
  if (depth > 0 && rand(3) === 0) {
    const parts = Array.from({ length: 2 + rand(2) }, () => randomCondition(f, depth - 1));
    const kind = rand(3);
    if (kind === 0) return [and(...parts.map((p) => p[0])), (x) => parts.every((p) => p[1](x))];
    if (kind === 1) return [or(...parts.map((p) => p[0])), (x) => parts.some((p) => p[1](x))];
    return [not(parts[0][0]), (x) => !parts[0][1](x)];
  }
  const leaves: (() => [Condition, Pred])[] = [
    () => { const v = rand(80); return [f.age.gt(v), (x) => x.age > v]; },
    () => { const v = rand(80); return [f.age.lte(v), (x) => x.age <= v]; },
    () => { const v = rand(80); return [f.age.eq(v), (x) => x.age === v]; },
    () => { const v = rand(80); return [f.age.ne(v), (x) => x.age !== v]; },
    () => { const a = rand(80); const b = a + rand(30); return [f.age.between(a, b), (x) => x.age >= a && x.age <= b]; },
    () => { const v = rand(300) / 10; return [f.score.gte(v), (x) => x.score >= v]; },
    () => { const v = rand(300) / 10; return [f.score.lt(v), (x) => x.score < v]; },
    () => { const v = rand(2) === 0; return [f.active.eq(v), (x) => x.active === v]; },
    () => { const v = pick(CITIES); return [f.city.eq(v), (x) => x.city === v]; },
    () => { const v = pick(CITIES); return [f.city.ne(v), (x) => x.city !== v]; },
    () => { const vs = [pick(CITIES), pick(CITIES)]; return [f.city.in(vs), (x) => vs.includes(x.city)]; },
    () => { const v = pick(['a', 'b', 'ca', 'd', 'e', 'bo']); return [f.name.startsWith(v), (x) => x.name.startsWith(v)]; },
    () => { const v = pick(['ann1', 'bob', 'carl30', 'eve']); return [f.name.gt(v), (x) => x.name > v]; },
    () => { const v = new Date(1_700_000_000_000 + rand(1000) * 86_400_000); return [f.seen.lt(v), (x) => x.seen < v]; },
    () => { const v = rand(5); return [f.level.eq(v), (x) => x.level === v]; },
    () => { const v = `n${rand(10)}`; return [f.nick.eq(v), (x) => x.nick === v]; },
    () => [f.level.gte(0), () => true],
  ];
  return pick(leaves)();
}

const SORTS = ['age', 'score', 'name', 'city', 'active', 'seen', 'nick', 'level'] as const;
type SortField = (typeof SORTS)[number];

/** What q_sort compares: numbers and dates numerically, the rest by stored text; absent = null. */
function sortKey(p: P, field: SortField): number | string | null {
  const v = p[field];
  if (v === undefined || v === null) return null;
  if (v instanceof Date) return v.getTime();
  return typeof v === 'boolean' ? String(v) : v;
}

/** The brute-force answer: filter, then sort as a single script would (absent last, ties by id). */
function expected(all: Map<string, P>, pred: Pred, sort?: { field: SortField; desc: boolean }): string[] {
  const rows = [...all].filter(([, p]) => pred(p));
  const dir = sort?.desc ? -1 : 1;
  rows.sort(([ia, a], [ib, b]) => {
    if (sort) {
      const x = sortKey(a, sort.field);
      const y = sortKey(b, sort.field);
      if (x !== y) {
        if (x === null) return 1;
        if (y === null) return -1;
        return (x < y ? -1 : 1) * dir;
      }
    }
    return (ia < ib ? -1 : ia > ib ? 1 : 0) * dir;
  });
  return rows.map(([id]) => id);
}

const cluster = () => raw as unknown as RedisClusterType;

/** Keys per master (DBSIZE of each), in the cluster's master order. */
async function keysPerMaster(): Promise<{ node: string; keys: number }[]> {
  return Promise.all(cluster().masters.map(async (m) => {
    const client = (await cluster().nodeClient(m)) as unknown as RedisClientType;
    return { node: `${m.host}:${m.port}`, keys: await client.dbSize() };
  }));
}

describe('sharded models (shards: 16)', function () {
  this.timeout(120_000);
  let single: EmbeddedRedis;
  let singleDb: Connection;
  let SingleSharded: typeof Sharded;

  before(async () => {
    single = await startRedis();
    singleDb = await connect({ url: single.url });
    SingleSharded = Sharded.withDb(singleDb);
  });
  after(async () => {
    await singleDb?.close();
    await single?.stop();
  });
  beforeEach(async () => {
    await (singleDb.client as unknown as RedisClientType).flushAll();
  });

  /** The same records on the cluster (sharded) and on the single node (one shard). */
  async function seed(n: number): Promise<Map<string, P>> {
    const all = new Map<string, P>();
    for (let i = 0; i < n; i += 100) {
      const batch = Array.from({ length: Math.min(100, n - i) }, (_, j) => randomPerson(i + j));
      await Promise.all(batch.flatMap((p) => [Sharded.create(p), SingleSharded.create(p)]));
      for (const p of batch) all.set(p.code, p);
    }
    return all;
  }

  it('spreads records over all three masters; each record lives in the shard its id picks', async () => {
    const all = await seed(800);
    const perMaster = await keysPerMaster();
    const shardsOn = (node: string) => Array.from({ length: SHARDS }, (_, s) => s).filter((s) => {
      const owner = cluster().slots[slot(Sharded.keys.ids(s))].master;
      return `${owner.host}:${owner.port}` === node;
    });
    console.log(`      keys per master (800 records, ${SHARDS} shards, 6 indexes): ${perMaster.map((m) => `${m.node}=${m.keys} keys (shards ${shardsOn(m.node).join(',')})`).join('; ')}`);
    expect(perMaster.map((m) => shardsOn(m.node).length).reduce((a, b) => a + b, 0)).to.equal(SHARDS);
    expect(perMaster).to.have.length(3);
    for (const m of perMaster) expect(m.keys, m.node).to.be.greaterThan(100);
    const perShard = await Promise.all(Array.from({ length: SHARDS }, (_, s) => raw.zCard(Sharded.keys.ids(s))));
    console.log(`      records per shard: ${perShard.join(' ')}`);
    expect(perShard.reduce((a, b) => a + b, 0)).to.equal(800);
    for (const n of perShard) expect(n).to.be.within(20, 90);
    for (const id of [...all.keys()].slice(0, 50)) {
      const s = shardOf(id, SHARDS);
      expect(Sharded.keys.record(id)).to.equal(`{Sharded:${s}}:${id}`);
      expect(await raw.exists(`{Sharded:${s}}:${id}`)).to.equal(1);
      expect(await raw.zScore(`{Sharded:${s}}#ids`, id)).to.equal(0);
      expect(slot(Sharded.keys.record(id))).to.equal(slot(Sharded.keys.index('age', s)));
    }
    // one shard on the single node: today's keys
    expect(SingleSharded.keys.shards).to.equal(1);
    expect(await (singleDb.client as unknown as RedisClientType).zCard('Sharded#ids')).to.equal(800);
  });

  it('fan-out queries match a brute-force filter and the single node, sorted and paged included', async () => {
    const all = await seed(800);
    for (let i = 0; i < 120; i++) {
      const [cond, pred] = randomCondition(Sharded.fields, 3);
      const field = pick(SORTS);
      const desc = rand(2) === 0;
      const want = expected(all, pred);
      const wantSorted = expected(all, pred, { field, desc });
      const offset = rand(3) === 0 ? 0 : rand(60);
      const limit = 1 + rand(40);
      const q = Sharded.find(cond);
      const [count, ids, page, pageRecs, first, singleIds, singlePage] = await Promise.all([
        q.count(),
        q.ids(),
        q.sort(field, desc ? 'desc' : 'asc').offset(offset).limit(limit).ids(),
        q.sort(field, desc ? 'desc' : 'asc').offset(offset).limit(limit).toArray(),
        q.sort(field, desc ? 'desc' : 'asc').first(),
        SingleSharded.find(cond).ids(),
        SingleSharded.find(cond).sort(field, desc ? 'desc' : 'asc').offset(offset).limit(limit).ids(),
      ]);
      const what = `query ${i}, sorted by ${field} ${desc ? 'desc' : 'asc'}, offset ${offset} limit ${limit}`;
      expect(count, what).to.equal(want.length);
      expect(ids, what).to.deep.equal(want);
      expect(singleIds, what).to.deep.equal(want);
      expect(page, what).to.deep.equal(wantSorted.slice(offset, offset + limit));
      expect(singlePage, what).to.deep.equal(page);
      expect(pageRecs.map((r) => r.id), what).to.deep.equal(page);
      for (const r of pageRecs) expect(r.toJSON(), what).to.deep.equal(all.get(r.id));
      expect(first?.id ?? null, what).to.equal(wantSorted[0] ?? null);
      if (i % 10 === 0) {
        const unsortedPage = await q.offset(offset).limit(limit).toArray();
        expect(unsortedPage.map((r) => r.id), what).to.deep.equal(want.slice(offset, offset + limit));
        const all2 = await q.sort(field, desc ? 'desc' : 'asc').toArray();
        expect(all2.map((r) => r.id), what).to.deep.equal(wantSorted);
      }
    }
  });

  it('streams across shards in query order, with offset and limit', async () => {
    const all = await seed(800);
    const collect = async (q: AsyncIterable<{ id: string }>) => {
      const out: string[] = [];
      for await (const r of q) out.push(r.id);
      return out;
    };
    expect(await collect(Sharded.find((u) => u.age.gte(0)))).to.deep.equal(expected(all, () => true));
    expect(await collect(Sharded.find((u) => u.age.gte(10)).sort('score', 'desc')))
      .to.deep.equal(expected(all, (p) => p.age >= 10, { field: 'score', desc: true }));
    expect(await collect(Sharded.find((u) => u.active.eq(true)).sort('name').offset(25).limit(70)))
      .to.deep.equal(expected(all, (p) => p.active, { field: 'name', desc: false }).slice(25, 95));
  });

  it('update and delete act on every shard and sum their counts', async () => {
    const all = await seed(400);
    const want = expected(all, (p) => p.age < 30);
    expect(await Sharded.find((u) => u.age.lt(30)).update((p) => p.level.set(9))).to.equal(want.length);
    expect(await Sharded.find((u) => u.level.eq(9)).ids()).to.deep.equal(want);
    expect(await SingleSharded.find((u) => u.age.lt(30)).update((p) => p.level.set(9))).to.equal(want.length);
    const gone = expected(all, (p) => p.city === 'Paris');
    expect(await Sharded.find((u) => u.city.eq('Paris')).delete()).to.equal(gone.length);
    expect(await Sharded.find((u) => u.age.gte(0)).count()).to.equal(400 - gone.length);
    expect(await Sharded.exists(gone[0])).to.equal(false);
    expect(await Sharded.checkIndexes()).to.deep.equal({ records: 400 - gone.length, missing: 0, stale: 0, repaired: false });
  });

  it('single-record programs use the record\'s shard keys', async () => {
    const input = randomPerson(1);
    const a = await Sharded.create(input);
    const s = shardOf(a.id, SHARDS);
    const ref = Sharded.ref(a.id);
    expect(ref.key).to.equal(`{Sharded:${s}}:${a.id}`);
    expect(ref.idsKey).to.equal(`{Sharded:${s}}#ids`);
    expect(ref.ix!.map((x) => x.key)).to.include(`{Sharded:${s}}#idx:age`);
    expect(ref.exp).to.deep.equal([`{Sharded:${s}}#exp`, `{Sharded:${s}}#expv`]);
    expect(a.explain((p) => p.age.incr(1)).keys.every((k) => slot(k) === slot(a.key))).to.equal(true);
    expect(await raw.zScore(`{Sharded:${s}}#idx:age`, a.id)).to.equal(a.age);
    await a.$.age.incr(1);
    await a.pipeline((p) => { p.level.set(4); p.name.set('zed'); });
    a.city = 'Pau';
    await a.save();
    expect(await raw.zScore(`{Sharded:${s}}#idx:age`, a.id)).to.equal(a.age);
    expect((await Sharded.get(a.id)).toJSON()).to.deep.equal({ ...input, age: a.age, level: 4, name: 'zed', city: 'Pau' });
    expect(await Sharded.lock(a.id, async (locked) => {
      expect(await raw.exists(`{Sharded:${s}}#lock:${a.id}`)).to.equal(1);
      return locked.level;
    })).to.equal(4);
    expect(await a.expire(100)).to.equal(true);
    expect(await raw.zScore(`{Sharded:${s}}#exp`, a.id)).to.not.equal(null);
    expect(await a.delete()).to.equal(true);
    expect(await raw.zCard(`{Sharded:${s}}#ids`)).to.equal(0);
    expect(await raw.zCard(`{Sharded:${s}}#idx:age`)).to.equal(0);
  });

  it('a transaction over records of two shards raises CrossSlotError; within one shard it runs', async () => {
    const people = await Promise.all(Array.from({ length: 40 }, (_, i) => Sharded.create(randomPerson(i))));
    const byShard = new Map<number, typeof people>();
    for (const p of people) byShard.set(shardOf(p.id, SHARDS), [...(byShard.get(shardOf(p.id, SHARDS)) ?? []), p]);
    const [x, y] = people.filter((p) => shardOf(p.id, SHARDS) !== shardOf(people[0].id, SHARDS)).slice(0, 1).concat(people[0]);
    const err = await db.transaction([x, y], (px, py) => { px.level.incr(1); py.level.incr(1); }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(CrossSlotError);
    const pair = [...byShard.values()].find((g) => g.length >= 2)!;
    await db.transaction([pair[0], pair[1]], (p0, p1) => { p0.level.set(7); p1.level.set(8); });
    expect([(await Sharded.get(pair[0].id)).level, (await Sharded.get(pair[1].id)).level]).to.deep.equal([7, 8]);
  });

  it('checkIndexes and ensureIndexes run per shard; explain says the query fans out', async () => {
    const Late = defineModel('ShardLate', shape, { key: 'code', shards: SHARDS });
    const people = Array.from({ length: 200 }, (_, i) => randomPerson(i));
    await Promise.all(people.map((p) => Late.create(p)));
    const Indexed = defineModel('ShardLate', shape, { key: 'code', indexes: ['age'], shards: SHARDS });
    // built per shard before the first query
    expect(await Indexed.find((u) => u.age.lt(40)).count()).to.equal(people.filter((p) => p.age < 40).length);
    const sizes = await Promise.all(Array.from({ length: SHARDS }, (_, s) => raw.zCard(Indexed.keys.index('age', s))));
    expect(sizes.reduce((a, b) => a + b, 0)).to.equal(200);
    const victim = people[3].code;
    await raw.zRem(Indexed.keys.index('age', shardOf(victim, SHARDS)), victim);
    await raw.zAdd(Indexed.keys.index('age', 0), { score: 1, value: 'ghost' });
    expect(await Indexed.checkIndexes()).to.deep.equal({ records: 200, missing: 1, stale: 1, repaired: false });
    expect(await Indexed.checkIndexes({ repair: true })).to.deep.equal({ records: 200, missing: 1, stale: 1, repaired: true });
    expect(await Indexed.checkIndexes()).to.deep.equal({ records: 200, missing: 0, stale: 0, repaired: false });
    const plan = Indexed.find((u) => u.age.lt(40)).sort('age').limit(5).explain();
    expect(plan.shards).to.equal(SHARDS);
    expect(plan.plan).to.match(/^fan-out over 16 shards .*index age in \(-inf, "40"\)/);
    expect(plan.keys.every((k) => k.startsWith('{ShardLate:0}'))).to.equal(true);
  });

  it('bulk operations group by shard: results in input order, counts summed, errors at the caller\'s index', async () => {
    const people = Array.from({ length: 1000 }, (_, i) => randomPerson(i));
    let progress = 0;
    const recs = await Sharded.insertMany(people, { chunkSize: 40, onProgress: ({ done }) => void (progress = done) });
    expect(progress).to.equal(1000);
    expect(recs.map((r) => r.id)).to.deep.equal(people.map((p) => p.code));
    const perShard = await Promise.all(Array.from({ length: SHARDS }, (_, s) => raw.zCard(Sharded.keys.ids(s))));
    for (const [s, n] of perShard.entries()) expect(n, `shard ${s}`).to.equal(people.filter((p) => shardOf(p.code, SHARDS) === s).length);
    const all = new Map(people.map((p) => [p.code, p]));
    expect(await Sharded.find((u) => u.age.lt(20)).sort('score').ids()).to.deep.equal(expected(all, (p) => p.age < 20, { field: 'score', desc: false }));
    const ids = ['p0999', 'nope', 'p0000', 'p0500', 'p0001'];
    const got = await Sharded.getMany(ids, { missing: 'null', chunkSize: 2 });
    expect(got.map((r) => r?.id ?? null)).to.deep.equal(['p0999', null, 'p0000', 'p0500', 'p0001']);
    expect(got[3]!.toJSON()).to.deep.equal(all.get('p0500'));
    expect(await Sharded.updateMany((u) => u.age.lt(20), (p) => p.level.set(9), { chunkSize: 30 })).to.equal(expected(all, (p) => p.age < 20).length);
    expect(await Sharded.updateMany(['p0001', 'p0002', 'nope'], (p) => p.level.incr(100))).to.equal(2);
    expect((await Sharded.get('p0002')).level).to.equal(all.get('p0002')!.level + (all.get('p0002')!.age < 20 ? 9 - all.get('p0002')!.level : 0) + 100);
    const err = await Sharded.insertMany([randomPerson(2000), randomPerson(2001), { ...randomPerson(3), code: 'p0003' }], { chunkSize: 1 })
      .catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ConflictError);
    expect((err as { index?: number }).index).to.equal(2);
    const gone = expected(all, (p) => p.city === 'Lyon');
    expect(await Sharded.deleteMany((u) => u.city.eq('Lyon'), { chunkSize: 50 })).to.equal(gone.length);
    expect(await Sharded.deleteMany([...gone.slice(0, 3), 'p0004'])).to.equal(all.get('p0004')!.city === 'Lyon' ? 0 : 1);
    expect(await Sharded.checkIndexes()).to.deep.include({ missing: 0, stale: 0 });
  });
  it('pages merge exactly when one shard holds the whole top of the order', async () => {
    // records of shard 3 carry the highest scores: the page comes from shard 3 alone
    const people = Array.from({ length: 400 }, (_, i) => randomPerson(i))
      .map((p, i) => ({ ...p, score: shardOf(p.code, SHARDS) === 3 ? 1000 + i : i / 10 }));
    await Sharded.insertMany(people);
    const order = [...people].sort((a, b) => b.score - a.score || (a.code < b.code ? 1 : -1));
    for (const [offset, limit] of [[0, 1], [0, 30], [5, 30], [60, 10], [0, 400], [390, 20]] as const) {
      const want = order.slice(offset, offset + limit).map((p) => p.code);
      const q = Sharded.find((u) => u.age.gte(0)).sort('score', 'desc').offset(offset).limit(limit);
      expect((await q.toArray()).map((r) => r.code), `toArray ${offset}/${limit}`).to.deep.equal(want);
      expect(await q.ids(), `ids ${offset}/${limit}`).to.deep.equal(want);
    }
    const byId = [...people].map((p) => p.code).sort();
    expect(await Sharded.find((u) => u.age.gte(0)).offset(100).limit(7).ids()).to.deep.equal(byId.slice(100, 107));
    expect((await Sharded.find((u) => u.age.gte(0)).offset(3).limit(20).toArray()).map((r) => r.code)).to.deep.equal(byId.slice(3, 23));
  });
});
