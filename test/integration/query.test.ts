import { expect } from 'chai';
import { Type } from 'typebox';
import { and, not, or, defineModel, t, type Condition, type Infer } from '../../src/index.js';
import { prefix, raw } from '../helpers/redis.js';

const Person = defineModel('Person', {
  name: Type.String(),
  age: Type.Integer({ minimum: 0 }),
  score: Type.Number({ default: 0 }),
  status: Type.Union([Type.Literal('new'), Type.Literal('adult'), Type.Literal('minor')]),
  active: Type.Boolean(),
  city: Type.String(),
  lastSeen: t.DateTime(),
  nick: Type.Optional(Type.String()),
  level: Type.Integer(),
  tags: Type.Array(Type.String(), { default: [] }),
  address: Type.Object({ city: Type.String(), zip: Type.String() }),
}, { indexes: ['age', 'score', 'status', 'active', 'lastSeen', 'address.city', 'name'] });

type P = Infer<typeof Person>;
type Fields = typeof Person.fields;

let seed = 42;
const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
const pick = <T>(xs: readonly T[]): T => xs[rand(xs.length)];
const CITIES = ['Paris', 'Lyon', 'Nice', 'Lille', 'Pau'];
const STATUSES = ['new', 'adult', 'minor'] as const;

function randomPerson(i: number): P {
  return {
    name: `${pick(['ann', 'bob', 'carl', 'dora', 'eve'])}${rand(50)}`,
    age: rand(80),
    score: rand(1000) / 10,
    status: pick(STATUSES),
    active: rand(2) === 0,
    city: pick(CITIES),
    lastSeen: new Date(1_700_000_000_000 + rand(1000) * 86_400_000),
    ...(rand(3) === 0 ? { nick: `n${rand(10)}` } : {}),
    level: rand(5),
    tags: [],
    address: { city: pick(CITIES), zip: String(10000 + (i % 7)) },
  };
}

/** A random condition and the same predicate in plain JS. */
type Pred = (p: P) => boolean;
function randomCondition(f: Fields, depth: number): [Condition, Pred] {
  if (depth > 0 && rand(3) === 0) {
    const n = 2 + rand(2);
    const parts = Array.from({ length: n }, () => randomCondition(f, depth - 1));
    const kind = rand(3);
    if (kind === 0) return [and(...parts.map((p) => p[0])), (x) => parts.every((p) => p[1](x))];
    if (kind === 1) return [or(...parts.map((p) => p[0])), (x) => parts.some((p) => p[1](x))];
    const [c, pr] = parts[0];
    return [not(c), (x) => !pr(x)];
  }
  const leaves: (() => [Condition, Pred])[] = [
    () => { const v = rand(80); return [f.age.gt(v), (x) => x.age > v]; },
    () => { const v = rand(80); return [f.age.lte(v), (x) => x.age <= v]; },
    () => { const v = rand(80); return [f.age.eq(v), (x) => x.age === v]; },
    () => { const v = rand(80); return [f.age.ne(v), (x) => x.age !== v]; },
    () => { const a = rand(80); const b = a + rand(20); return [f.age.between(a, b), (x) => x.age >= a && x.age <= b]; },
    () => { const v = rand(1000) / 10; return [f.score.gte(v), (x) => x.score >= v]; },
    () => { const v = rand(1000) / 10; return [f.score.lt(v), (x) => x.score < v]; },
    () => { const v = pick(STATUSES); return [f.status.eq(v), (x) => x.status === v]; },
    () => { const vs = [pick(STATUSES), pick(STATUSES)]; return [f.status.in(vs), (x) => vs.includes(x.status)]; },
    () => { const v = rand(2) === 0; return [f.active.eq(v), (x) => x.active === v]; },
    () => [f.active, (x) => x.active],
    () => { const v = pick(CITIES); return [f.address.city.eq(v), (x) => x.address.city === v]; },
    () => { const v = pick(CITIES); return [f.city.eq(v), (x) => x.city === v]; },
    () => { const v = pick(CITIES); return [f.city.ne(v), (x) => x.city !== v]; },
    () => { const v = pick(['a', 'b', 'ca', 'd', 'e', 'bo']); return [f.name.startsWith(v), (x) => x.name.startsWith(v)]; },
    () => { const v = pick(['a', 'b', 'c']); return [f.city.startsWith(v), (x) => x.city.startsWith(v)]; },
    () => { const v = pick(['ann1', 'bob', 'carl30', 'eve']); return [f.name.gt(v), (x) => x.name > v]; },
    () => { const v = pick(['ann1', 'bob', 'carl30', 'eve']); return [f.name.lte(v), (x) => x.name <= v]; },
    () => { const v = new Date(1_700_000_000_000 + rand(1000) * 86_400_000); return [f.lastSeen.lt(v), (x) => x.lastSeen < v]; },
    () => { const v = rand(5); return [f.level.eq(v), (x) => x.level === v]; },
    () => { const v = `n${rand(10)}`; return [f.nick.eq(v), (x) => x.nick === v]; },
    () => { const v = rand(5); return [f.level.in([v, v + 1]), (x) => x.level === v || x.level === v + 1]; },
  ];
  return pick(leaves)();
}

async function seedPeople(n: number): Promise<Map<string, P>> {
  const all = new Map<string, P>();
  for (let i = 0; i < n; i += 100) {
    const batch = await Promise.all(Array.from({ length: Math.min(100, n - i) }, (_, j) => Person.create(randomPerson(i + j))));
    for (const p of batch) all.set(p.id, p.toJSON() as P);
  }
  return all;
}

function expectSame(actual: string[], all: Map<string, P>, pred: Pred, what: string): void {
  const expected = [...all].filter(([, p]) => pred(p)).map(([id]) => id).sort();
  expect([...actual].sort(), what).to.deep.equal(expected);
}

describe('queries', function () {
  this.timeout(120_000);

  it('find matches a brute-force filter for random conditions, indexed or not, after random writes', async () => {
    const all = await seedPeople(1200);
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 60; i++) {
        const [cond, pred] = randomCondition(Person.fields, 3);
        expectSame(await Person.find(cond).ids(), all, pred, `round ${round} query ${i}`);
        expect(await Person.find(cond).count()).to.equal([...all.values()].filter(pred).length);
        const field = pick(['score', 'age', 'name', 'level'] as const);
        const desc = rand(2) === 0;
        const [offset, limit] = [rand(30), 1 + rand(60)];
        const sorted = [...all].filter(([, p]) => pred(p)).sort(([ia, a], [ib, b]) => {
          const x = a[field];
          const y = b[field];
          if (x !== y) return (x < y ? -1 : 1) * (desc ? -1 : 1);
          return (ia < ib ? -1 : 1) * (desc ? -1 : 1);
        }).slice(offset, offset + limit).map(([id]) => id);
        const page = await Person.find(cond).sort(field, desc ? 'desc' : 'asc').offset(offset).limit(limit).ids();
        expect(page, `sorted page ${i} by ${field}`).to.deep.equal(sorted);
      }
      // random writes through every path: field ops, pipelines, conditional programs, deletes
      const ids = [...all.keys()];
      for (let i = 0; i < 200; i++) {
        const id = pick(ids);
        if (!all.has(id)) continue;
        const op = rand(5);
        const rec = await Person.get(id);
        if (op === 0) await rec.$.age.incr(rand(5));
        else if (op === 1) await rec.pipeline((p) => { p.status.set(pick(STATUSES)); p.address.city.set(pick(CITIES)); p.score.set(rand(1000) / 10); });
        else if (op === 2) await rec.pipeline((p) => p.age.gt(40).ifTrue(() => p.active.toggle()).else(() => p.name.set(`eve${rand(50)}`)));
        else if (op === 3) { await rec.delete(); all.delete(id); continue; }
        else { rec.level = rand(5); rec.lastSeen = new Date(1_700_000_000_000 + rand(1000) * 86_400_000); await rec.save(); }
        all.set(id, (await Person.get(id)).toJSON() as P);
      }
    }
  });

  it('returns every match beyond 10,000, and sorted pages match a client-side sort', async () => {
    const n = 10_500;
    for (let i = 0; i < n; i += 500) {
      await Promise.all(Array.from({ length: 500 }, (_, j) => Person.create({ ...randomPerson(i + j), age: 30 + ((i + j) % 7) })));
    }
    expect((await Person.find((u) => u.age.gte(30)).toArray()).length).to.equal(n);
    const all = (await Person.find((u) => u.age.gte(0)).toArray()).map((r) => r.toJSON() as P & { id?: string });
    const page = await Person.find((u) => and(u.age.between(31, 34), u.active.eq(true))).sort('score', 'desc').offset(20).limit(50).toArray();
    const expected = (await Person.find((u) => and(u.age.between(31, 34), u.active.eq(true))).toArray())
      .sort((a, b) => b.score - a.score || (a.id < b.id ? 1 : -1)).slice(20, 70).map((r) => r.id);
    expect(page.map((r) => r.id)).to.deep.equal(expected);
    expect(all.length).to.equal(n);
  });

  it('findOne, first, keys, streaming, update and delete by query', async () => {
    await seedPeople(300);
    const adults = await Person.find((u) => u.age.gte(18)).count();
    let streamed = 0;
    for await (const p of Person.find((u) => u.age.gte(18))) {
      expect(p.age).to.be.at.least(18);
      streamed++;
    }
    expect(streamed).to.equal(adults);
    const one = await Person.findOne(Person.fields.status.eq('adult'));
    expect(one?.status).to.equal('adult');
    expect(await Person.findOne((u) => u.age.gt(1000))).to.equal(null);
    const keys = await Person.find((u) => u.age.lt(5)).keys();
    expect(keys.every((k) => k.startsWith(`${prefix('Person')}:`))).to.equal(true);
    const changed = await Person.find((u) => u.age.lt(18)).update((p) => p.status.set('minor'));
    expect(changed).to.equal(await Person.find((u) => u.age.lt(18)).count());
    expect(await Person.find((u) => and(u.age.lt(18), u.status.ne('minor'))).count()).to.equal(0);
    const minors = await Person.find((u) => u.status.eq('minor')).count();
    const deleted = await Person.find((u) => u.status.eq('minor')).delete();
    expect(deleted).to.equal(minors);
    expect(await Person.find((u) => u.status.eq('minor')).count()).to.equal(0);
    expect(await raw.zCard(`${prefix('Person')}#ids`)).to.equal(300 - deleted);
    expect(await raw.zLexCount(`${prefix('Person')}#idx:status`, '[minor\0', '[minor\x01')).to.equal(0);
  });

  it('explain says whether an index narrows the query', () => {
    expect(Person.find((u) => and(u.age.gt(25), u.city.eq('Paris'))).explain().plan).to.equal('index age in ("25", +inf)');
    expect(Person.find((u) => u.city.eq('Paris')).explain().scan).to.equal(true);
    expect(Person.find((u) => u.age.between(3, 9)).explain().plan).to.equal('index age in ["3", "9"]');
  });
});
