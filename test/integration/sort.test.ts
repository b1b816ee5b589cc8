import { expect } from 'chai';
import { Type } from 'typebox';
import { QueryError, defineModel, type Infer } from '../../src/index.js';
import { onCluster, raw } from '../helpers/redis.js';
import { int, pick, rng } from '../helpers/random.js';

const Emp = defineModel('SortEmp', {
  last: Type.String(),
  first: Type.Optional(Type.String()),
  age: Type.Integer(),
  pay: Type.Number(),
  active: Type.Boolean(),
}, { indexes: ['age', 'last'], shards: onCluster ? 3 : 1 });
type E = Infer<typeof Emp> & { id: string };

type Key = readonly ['last' | 'first' | 'age' | 'pay', 'asc' | 'desc'];
const cmpKeys = (keys: readonly Key[]) => (a: E, b: E): number => {
  for (const [f, dir] of keys) {
    const x = a[f];
    const y = b[f];
    if (x === y) continue;
    if (x === undefined) return 1;
    if (y === undefined) return -1;
    const c = typeof x === 'number' ? Math.sign(x - (y as number)) : Buffer.compare(Buffer.from(x), Buffer.from(y as string));
    return dir === 'desc' ? -c : c;
  }
  const c = Buffer.compare(Buffer.from(a.id), Buffer.from(b.id));
  return keys.at(-1)?.[1] === 'desc' ? -c : c;
};

async function seed(n: number, r: () => number): Promise<E[]> {
  const recs = await Emp.insertMany(Array.from({ length: n }, () => ({
    last: pick(r, ['Smith', 'Jones', 'smith', 'Émile', 'Ng']),
    ...(r() < 0.8 ? { first: pick(r, ['Ann', 'Bob', 'Cy', 'Dee']) } : {}),
    age: int(r, 20, 30),
    pay: int(r, 0, 8) / 2,
    active: r() < 0.5,
  })));
  return recs.map((x) => ({ ...(x.toJSON() as E), id: x.id }));
}

describe('several sort keys', function () {
  this.timeout(60_000);

  it('.sort(a).thenBy(b) and .sort([[a], [b]]) order by every key, then by id, exact with offset, limit and streams', async () => {
    const seed0 = Date.now() % 100_000;
    const r = rng(seed0);
    const all = await seed(700, r);
    for (let i = 0; i < 25; i++) {
      const fields = ['last', 'first', 'age', 'pay'] as const;
      const keys: Key[] = Array.from({ length: int(r, 1, 3) }, () => [pick(r, fields), pick(r, ['asc', 'desc'] as const)]);
      const active = r() < 0.5;
      const expected = all.filter((e) => e.active === active).sort(cmpKeys(keys)).map((e) => e.id);
      const byList = Emp.find((u) => u.active.eq(active)).sort(keys.map(([f, d]) => [f, d] as const));
      let chained = Emp.find((u) => u.active.eq(active)).sort(keys[0][0], keys[0][1]);
      for (const [f, d] of keys.slice(1)) chained = chained.thenBy(f, d);
      const [offset, limit] = [int(r, 0, 40), int(r, 1, 80)];
      const what = `seed ${seed0} keys ${JSON.stringify(keys)}`;
      expect(await byList.ids(), what).to.deep.equal(expected);
      expect(await chained.offset(offset).limit(limit).ids(), what).to.deep.equal(expected.slice(offset, offset + limit));
      expect((await byList.offset(offset).limit(limit).toArray()).map((e) => e.id), what).to.deep.equal(expected.slice(offset, offset + limit));
      expect((await byList.offset(offset).first())?.id, what).to.equal(expected[offset]);
      const streamed: string[] = [];
      for await (const e of chained.offset(offset)) streamed.push(e.id);
      expect(streamed, what).to.deep.equal(expected.slice(offset));
      expect(await byList.count()).to.equal(expected.length);
    }
  });

  it('explain says how the sort is done; bad sort keys are refused', () => {
    const plan = Emp.find((u) => u.age.gt(3)).sort('age', 'desc').thenBy('first').limit(10).explain().plan;
    expect(plan).to.match(/sort by age desc, first asc, then id asc: walks index age in order/);
    expect(Emp.find((u) => u.pay.gt(3)).limit(5).explain().plan).to.match(/scan .*; in id order; the scan runs in slices of 2000 ids .*: a page stops after offset\+limit matches/);
    expect(() => Emp.find((u) => u.age.gt(3)).thenBy('age')).to.throw(QueryError);
    expect(() => Emp.find((u) => u.age.gt(3)).sort([])).to.throw(QueryError);
    // @ts-expect-error: the compiler refuses an unknown sort field too; the run-time check is under test
    expect(() => Emp.find((u) => u.age.gt(3)).sort([['nope', 'asc']])).to.throw(QueryError);
  });

  it('a stream pages by cursor: a record matching throughout is visited once, whatever is written meanwhile', async () => {
    const r = rng(7);
    const all = await seed(1_300, r);
    const seen = new Map<string, number>();
    const removed = new Set<string>();
    let added = 0;
    for await (const e of Emp.find((u) => u.age.gte(20)).sort('age').thenBy('last', 'desc')) {
      seen.set(e.id, (seen.get(e.id) ?? 0) + 1);
      if (seen.size % 200 === 0) {
        // records sorted before the cursor, and deletes of records not yet visited
        added += (await Emp.insertMany([{ last: 'Aaa', age: 20, pay: 0, active: true }, { last: 'Zzz', age: 20, pay: 1, active: true }])).length;
        const victim = pick(r, all.filter((x) => !seen.has(x.id) && !removed.has(x.id)));
        if (victim) { await Emp.delete(victim.id); removed.add(victim.id); }
      }
    }
    expect([...seen.values()].every((n) => n === 1)).to.equal(true);
    for (const e of all) if (!removed.has(e.id)) expect(seen.has(e.id), e.id).to.equal(true);
    expect(added).to.be.greaterThan(0);
    expect(await raw.ping()).to.equal('PONG');
  });

  it('a limited page of a scan stops after offset+limit matches in id order, and scans run in slices', async function () {
    const Scan = defineModel('SortScan', { n: Type.Integer(), flag: Type.Boolean() }, { shards: onCluster ? 2 : 1 });
    const recs = await Scan.insertMany(Array.from({ length: 5_000 }, (_, i) => ({ n: i, flag: i % 2 === 0 })));
    const flagged = recs.filter((x) => x.flag).map((x) => x.id).sort();
    expect(await Scan.find((u) => u.flag.eq(true)).offset(100).limit(20).ids()).to.deep.equal(flagged.slice(100, 120));
    expect(await Scan.find((u) => u.flag.eq(true)).count()).to.equal(2_500);
    expect((await Scan.find((u) => u.flag.eq(true)).sort('n', 'desc').limit(3).toArray()).map((x) => x.n)).to.deep.equal([4998, 4996, 4994]);
    expect(Scan.find((u) => u.flag.eq(true)).limit(20).explain().plan).to.match(/slices of 2000 ids/);
    if (onCluster) return;
    // what the page read: one HMGET per candidate, in one slice (the first 240 ids hold 120 matches)
    await raw.configResetStat();
    expect(await Scan.find((u) => u.flag.eq(true)).offset(100).limit(20).ids()).to.have.length(20);
    const stats = await raw.info('commandstats');
    const hmget = Number(/cmdstat_hmget:calls=(\d+)/.exec(stats)?.[1] ?? 0);
    const evals = Number(/cmdstat_evalsha_ro:calls=(\d+)/.exec(stats)?.[1] ?? 0); // a read runs read-only
    expect(hmget).to.be.within(120, 400);
    expect(evals).to.equal(1);
    // a count reads every slice: 5,000 ids in 3 scripts
    await raw.configResetStat();
    await Scan.find((u) => u.flag.eq(true)).count();
    expect(Number(/cmdstat_evalsha_ro:calls=(\d+)/.exec(await raw.info('commandstats'))?.[1])).to.equal(3);
  });
});
