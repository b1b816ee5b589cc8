import { expect } from 'chai';
import { Type } from 'typebox';
import { QueryError, and, defineModel, t, type Condition, type Infer } from '../../src/index.js';

const shape = {
  name: Type.String(),
  age: Type.Integer({ minimum: 0 }),
  score: Type.Number(),
  bonus: Type.Optional(Type.Integer()),
  status: Type.Union([Type.Literal('new'), Type.Literal('adult'), Type.Literal('minor')]),
  level: Type.Integer(),
  active: Type.Boolean(),
  city: Type.Optional(Type.String()),
  seen: t.DateTime(),
};
const Player = defineModel('AggPlayer', shape, { indexes: ['age', 'status', 'active'] });
/** The same on 3 shards (on the test cluster): every shard returns partials, merged by the client. */
const Sharded = defineModel('AggSharded', shape, { indexes: ['age', 'status', 'active'], shards: 3 });
type P = Infer<typeof Player> & { id: string };

let seed = 7;
const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
const pick = <T>(xs: readonly T[]): T => xs[rand(xs.length)];
const STATUSES = ['new', 'adult', 'minor'] as const;
const CITIES = ['Paris', 'Lyon', 'Nice', 'Évry'];

const randomPlayer = (i: number): Omit<P, 'id'> => ({
  name: `p${i}`,
  age: rand(90),
  // quarters: sums of a few thousand of them are exact in doubles, in any order
  score: (rand(4000) - 1000) / 4,
  ...(rand(3) === 0 ? {} : { bonus: rand(50) - 10 }),
  status: pick(STATUSES),
  level: rand(12),
  active: rand(3) !== 0,
  ...(rand(4) === 0 ? {} : { city: pick(CITIES) }),
  seen: new Date(1_700_000_000_000 + rand(100_000) * 1000),
});

const SPECS = {
  n: 'count', total: ['sum', 'score'], mean: ['avg', 'score'], top: ['max', 'score'], low: ['min', 'age'],
  bonuses: ['count', 'bonus'], bonusSum: ['sum', 'bonus'], bonusAvg: ['avg', 'bonus'], bonusMin: ['min', 'bonus'],
  first: ['min', 'seen'], last: ['max', 'seen'],
} as const;

/** The same aggregates in plain JS over the matching records. */
function brute(rows: P[]): Record<string, unknown> {
  const nums = (xs: (number | undefined)[]): number[] => xs.filter((x): x is number => x !== undefined);
  const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
  const scores = rows.map((r) => r.score);
  const bonuses = nums(rows.map((r) => r.bonus));
  const seen = rows.map((r) => r.seen.getTime());
  return {
    n: rows.length,
    total: sum(scores),
    mean: rows.length ? sum(scores) / rows.length : null,
    top: rows.length ? Math.max(...scores) : null,
    low: rows.length ? Math.min(...rows.map((r) => r.age)) : null,
    bonuses: bonuses.length,
    bonusSum: sum(bonuses),
    bonusAvg: bonuses.length ? sum(bonuses) / bonuses.length : null,
    bonusMin: bonuses.length ? Math.min(...bonuses) : null,
    first: rows.length ? new Date(Math.min(...seen)) : null,
    last: rows.length ? new Date(Math.max(...seen)) : null,
  };
}

type Fields = typeof Player.fields;
function randomCondition(f: Fields): [Condition | undefined, (p: P) => boolean] {
  const leaves: (() => [Condition, (p: P) => boolean])[] = [
    () => { const v = rand(90); return [f.age.gt(v), (p) => p.age > v]; },
    () => { const v = pick(STATUSES); return [f.status.eq(v), (p) => p.status === v]; },
    () => [f.active.eq(true), (p) => p.active],
    () => { const v = rand(12); return [f.level.lte(v), (p) => p.level <= v]; },
    () => { const v = pick(CITIES); return [f.city.eq(v), (p) => p.city === v]; },
  ];
  const k = rand(4);
  if (k === 0) return [undefined, () => true];
  const parts = Array.from({ length: k }, () => pick(leaves)());
  return [and(...parts.map((x) => x[0])), (p) => parts.every((x) => x[1](p))];
}

const byText = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

function bruteGroups(rows: P[], field: 'status' | 'level' | 'city' | 'active'): Record<string, unknown>[] {
  const groups = new Map<unknown, P[]>();
  for (const r of rows) {
    const v = r[field] ?? null;
    groups.set(v, [...(groups.get(v) ?? []), r]);
  }
  const keys = [...groups.keys()].sort((a, b) => {
    if (a === null || b === null) return a === null ? 1 : -1;
    return typeof a === 'number' ? a - (b as number) : byText(String(a), String(b));
  });
  return keys.map((k) => ({ [field]: k, ...brute(groups.get(k)!) }));
}

async function current(Model: typeof Player): Promise<P[]> {
  return (await Model.find().toArray()).map((r) => ({ ...r.toJSON(), id: r.id }) as P);
}

describe('aggregates', () => {
  for (const Model of [Player, Sharded]) it(`match brute force on random data and conditions, before and after random writes (${Model.name})`, async function () {
    this.timeout(120_000);
    const Player = Model;
    await Player.insertMany(Array.from({ length: 600 }, (_, i) => randomPlayer(i)));
    for (let round = 0; round < 3; round++) {
      const rows = await current(Player);
      for (let q = 0; q < 12; q++) {
        const [cond, pred] = randomCondition(Player.fields);
        const matching = rows.filter(pred);
        const query = cond ? Player.find(cond) : Player.find();
        expect(await query.aggregate(SPECS), `round ${round} query ${q}`).to.deep.equal(brute(matching));
        const field = pick(['status', 'level', 'city', 'active'] as const);
        expect(await query.groupBy(field).aggregate(SPECS), `round ${round} groupBy ${field}`).to.deep.equal(bruteGroups(matching, field));
      }
      // random writes of every kind, then compare again
      const ids = rows.map((r) => r.id);
      await Player.insertMany(Array.from({ length: 50 }, (_, i) => randomPlayer(1000 * (round + 1) + i)));
      await Player.deleteMany(ids.filter(() => rand(8) === 0));
      await Player.updateMany(ids.filter(() => rand(5) === 0), (p) => { p.score.incr(0.25); p.level.set(rand(12)); });
      await Player.find((u) => u.age.lt(rand(30))).update((p) => p.status.set(pick(STATUSES)));
      for (const id of ids.filter(() => rand(20) === 0)) {
        const rec = await Player.getOrNull(id);
        if (rec) await rec.$.bonus.set(rand(100));
      }
    }
  });

  it('of nothing: count 0, sum 0, the rest null; no groups', async () => {
    expect(await Player.find((u) => u.age.gt(1000)).aggregate({ n: 'count', s: ['sum', 'score'], a: ['avg', 'score'], m: ['max', 'seen'] }))
      .to.deep.equal({ n: 0, s: 0, a: null, m: null });
    expect(await Player.find().groupBy('status').aggregate({ n: 'count' })).to.deep.equal([]);
  });

  it('refuses what cannot be aggregated, with QueryError', async () => {
    const q = Player.find();
    for (const specs of [{}, { x: ['sum', 'name'] }, { x: ['avg', 'seen'] }, { x: ['median', 'score'] }, { x: ['sum', 'nope'] }]) {
      expect(await q.aggregate(specs as never).catch((e: unknown) => e), JSON.stringify(specs)).to.be.instanceOf(QueryError);
    }
    expect(await q.limit(5).aggregate({ n: 'count' }).catch((e: unknown) => e)).to.be.instanceOf(QueryError);
    expect(() => q.groupBy('nope' as never)).to.throw(QueryError);   // the types refuse it too (test/types)
    expect(await q.groupBy('status').aggregate({ status: 'count' } as never).catch((e: unknown) => e)).to.be.instanceOf(QueryError);
  });
});
