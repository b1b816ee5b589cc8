/**
 * The specialised query script (index probes before any record is read, the lean filter on the
 * HMGET reply, the exact count from probes, the walk chosen from a guess) against the generic one
 * (a record state per candidate, no probe): same replies on random conditions, sorts and pages,
 * over values that stress the probes (absent and null scores, lexicographic values holding the
 * bytes the index escapes, index entries whose record is gone).
 */
import { expect } from 'chai';
import { Type } from 'typebox';
import type { QueryNode } from '../../src/ast/nodes.js';
import { compileUncached } from '../../src/compile/compiler.js';
import { and, defineModel, not, or, type Condition, type Infer } from '../../src/index.js';
import { QueryRun } from '../../src/query/execute.js';
import { db, raw } from '../helpers/redis.js';
import { int, pick, rng } from '../helpers/random.js';

const Row = defineModel('QPathRow', {
  n: Type.Integer({ default: 0 }),
  f: Type.Optional(Type.Number()),
  x: Type.Union([Type.Number(), Type.Null()], { default: null }),
  s: Type.String({ default: '' }),
  u: Type.String({ default: '' }),
  tags: Type.Array(Type.String(), { default: [] }),
}, { indexes: ['n', 'f', 'x', 's'] });
type R = Infer<typeof Row>;
type Fields = typeof Row.fields;

const TEXTS = ['', 'a', 'ab', 'b', 'a\u0000', '\u0000a', 'a\u0001', 'a\u0001\u0002', 'é', 'a\u0000b'];

function randomRow(r: () => number): R {
  return {
    n: int(r, 0, 30),
    ...(r() < 0.7 ? { f: int(r, -8, 8) / 2 } : {}),
    x: r() < 0.3 ? null : int(r, 0, 5),
    s: pick(r, TEXTS),
    u: pick(r, ['p', 'q']),
    tags: r() < 0.5 ? ['t'] : [],
  };
}

function randomCondition(r: () => number, f: Fields, depth: number): Condition {
  if (depth > 0 && r() < 0.4) {
    const parts = Array.from({ length: int(r, 2, 3) }, () => randomCondition(r, f, depth - 1));
    const kind = int(r, 0, 4);
    if (kind <= 2) return and(...parts);
    return kind === 3 ? or(...parts) : not(parts[0]);
  }
  const v = int(r, 0, 30);
  const leaves: (() => Condition)[] = [
    () => f.n.gt(v), () => f.n.lte(v), () => f.n.eq(v), () => f.n.between(v, v + int(r, 0, 12)), () => f.n.ne(v),
    () => f.n.in([v, int(r, 0, 30), 99]),
    () => f.f.gte(int(r, -8, 8) / 2), () => f.f.lt(int(r, -8, 8) / 2), () => f.f.in([0.5, -1, 2]),
    () => f.x.eq(int(r, 0, 5)), () => f.x.gt(int(r, 0, 5)), () => f.x.lte(int(r, 0, 5)),
    () => f.s.eq(pick(r, TEXTS)), () => f.s.in([pick(r, TEXTS), pick(r, TEXTS)]), () => f.s.startsWith(pick(r, ['a', 'a\u0000', ''])),
    () => f.s.gt(pick(r, TEXTS)),
    () => f.u.eq('p'), () => f.tags.contains('t'),
  ];
  return pick(r, leaves)();
}

const SORTS = [[], [['n', 'desc']], [['f', 'asc']], [['n', 'asc'], ['s', 'desc']], [['x', 'desc'], ['f', 'asc']], [['s', 'asc']]] as const;

/** The node of a query terminal call, as the client builds it. */
function nodeOf(cond: Condition, action: QueryNode['action'], sort: readonly (readonly [string, string])[], offset: number, limit?: number): QueryNode {
  const options = { sort: sort.map(([field, dir]) => ({ field, desc: dir === 'desc' })), offset, ...(limit === undefined ? {} : { limit }) };
  return new QueryRun(Row as never, cond, options).node(action);
}

const reply = async (node: QueryNode, generic: boolean): Promise<string> =>
  JSON.stringify(await db.run(compileUncached(node, { generic })));

describe('specialised query scripts against the generic path', function () {
  this.timeout(120_000);

  it('give the same replies on random conditions, sorts and pages (index probes, lean filter, exact counts, walks)', async () => {
    const seed = Date.now() % 1_000_000;
    const r = rng(seed);
    const rows = Array.from({ length: 400 }, () => randomRow(r));
    const made = await Row.insertMany(rows);
    // index entries that outlive their record (expired, deleted by hand): never a match
    for (const rec of made.filter(() => r() < 0.05)) await raw.del(Row.keys.record(rec.id));
    await Row.find().count(); // builds the indexes
    for (let i = 0; i < 120; i++) {
      const cond = Row.find(randomCondition(r, Row.fields, 2)).condition;
      const sort = pick(r, SORTS);
      const limit = r() < 0.8 ? int(r, 1, 30) : undefined;
      const offset = int(r, 0, 10);
      for (const action of ['ids', 'records', 'count'] as const) {
        const node = nodeOf(cond, action, sort, offset, limit);
        const what = `seed ${seed} query ${i} ${action} ${JSON.stringify(sort)} ${offset} ${limit}`;
        expect(await reply(node, false), what).to.equal(await reply(node, true));
      }
    }
  });

  it('a probe skips no match: a sorted page walks the index past candidates the probes drop', async () => {
    // 2,000 rows, 1 in 10 matching: the page walks the n index, sifting ages with ZMSCORE
    await Row.insertMany(Array.from({ length: 2_000 }, (_, i) => ({ n: i % 1000, f: i % 10, s: i % 20 < 10 ? 'a\u0000' : 'a', x: i % 3 })));
    const cond = (u: Fields) => and(u.f.eq(3), u.s.eq('a\u0000'), u.x.in([0, 2]));
    const expected = Array.from({ length: 2_000 }, (_, i) => i).filter((i) => i % 10 === 3 && i % 20 < 10 && i % 3 !== 1).map((i) => i % 1000).sort((a, b) => b - a);
    const page = await Row.find(cond).sort('n', 'desc').limit(40).toArray();
    expect(page.map((p) => p.n)).to.deep.equal(expected.slice(0, 40));
    expect(await Row.find(cond).count()).to.equal(expected.length);
    for (const action of ['ids', 'count'] as const) {
      const node = nodeOf(Row.find(cond).condition, action, [['n', 'desc']], 0, 40);
      expect(await reply(node, false)).to.equal(await reply(node, true));
    }
  });
});
