/**
 * Sorted pages of a sharded model (`shards: 16` over the 3-master cluster), read in two steps:
 * each shard gives the ids and sort values of its first matches, the client merges them, then
 * reads only the records of the merged page. Every page is checked against a client-side oracle
 * (the order of q_before: numbers numerically, text bytewise, absent last, ties by id in the
 * direction of the last key) and against the same model on a single node (one script).
 */
import { tracingChannel } from 'node:diagnostics_channel';
import { expect } from 'chai';
import { Type } from 'typebox';
import type { RedisClientType } from 'redis';
import { shardOf } from '../../src/model/keys.js';
import { connect, defineModel, SCRIPT_CHANNEL, t, type Condition, type Connection, type Infer, type ScriptEvent } from '../../src/index.js';
import { startRedis, type EmbeddedRedis } from '../helpers/embedded-redis.js';
import { int, pick, rng } from '../helpers/random.js';
import { db } from '../helpers/redis.js';

const SHARDS = 16;
const shape = {
  code: Type.String(),
  a: Type.Integer(),
  b: Type.Number(),
  s: Type.String(),
  tag: Type.Optional(Type.String()),
  level: Type.Integer(),
  on: Type.Boolean(),
};
const Item = defineModel('PageItem', shape, { key: 'code', indexes: ['a', 'b', 's'], shards: SHARDS });
const Blob = defineModel('PageBlob', { ...shape, data: t.Bytes({ default: new Uint8Array() }) }, { key: 'code', indexes: ['b', 's'], shards: SHARDS });
type P = Infer<typeof Item>;
type Field = 'a' | 'b' | 's' | 'tag' | 'level' | 'on';
type Key = readonly [Field, 'asc' | 'desc'];
const FIELDS: readonly Field[] = ['a', 'b', 's', 'tag', 'level', 'on'];
// few values per field, so that ties are common; text that UTF-16 and UTF-8 order differently
const TEXTS = ['', 'a', 'B', 'b', 'é', 'e', 'z', '\u{ff61}', '\u{1f600}', '日本'];

function randomItem(r: () => number, i: number): P {
  return {
    code: `c${String(int(r, 0, 99_999)).padStart(5, '0')}x${i}`,
    a: int(r, -3, 6),
    b: int(r, 0, 40) / 4,
    s: pick(r, TEXTS),
    ...(r() < 0.6 ? { tag: pick(r, TEXTS) } : {}),
    level: int(r, 0, 3),
    on: r() < 0.5,
  };
}

/** A sort value as q_sort compares it: numbers as numbers, everything else as its stored UTF-8 bytes. */
function valueOf(p: P, field: Field): number | Buffer | null {
  const v = p[field];
  if (v === undefined) return null;
  if (typeof v === 'number') return v;
  return Buffer.from(String(v), 'utf8');
}

/** The oracle: every item matching `pred`, in the query order of `keys`. */
function oracle(items: Iterable<P>, pred: (p: P) => boolean, keys: readonly Key[]): string[] {
  const idDesc = keys.at(-1)?.[1] === 'desc';
  return [...items].filter(pred).sort((x, y) => {
    for (const [field, dir] of keys) {
      const a = valueOf(x, field);
      const b = valueOf(y, field);
      if (a === null && b === null) continue;
      if (a === null) return 1;
      if (b === null) return -1;
      const c = typeof a === 'number' ? Math.sign(a - (b as number)) : Buffer.compare(a, b as Buffer);
      if (c !== 0) return dir === 'desc' ? -c : c;
    }
    const c = Buffer.compare(Buffer.from(x.code), Buffer.from(y.code));
    return idDesc ? -c : c;
  }).map((p) => p.code);
}

type Fields = typeof Item.fields;
const CONDITIONS: ((r: () => number) => [(f: Fields) => Condition, (p: P) => boolean])[] = [
  () => [(f) => f.a.gte(-100), () => true],
  (r) => { const v = int(r, -3, 6); return [(f) => f.a.lte(v), (p) => p.a <= v]; },
  (r) => { const v = int(r, 0, 40) / 4; return [(f) => f.b.gt(v), (p) => p.b > v]; },
  (r) => { const vs = [pick(r, TEXTS), pick(r, TEXTS)]; return [(f) => f.s.in(vs), (p) => vs.includes(p.s)]; },
  (r) => { const v = int(r, 0, 3); return [(f) => f.level.eq(v), (p) => p.level === v]; },
  (r) => { const v = r() < 0.5; return [(f) => f.on.eq(v), (p) => p.on === v]; },
];

/** Events of the `rapyer:script` channel while `fn` runs, by kind (`query.rows`, `query.records`, ...). */
async function scripts<T>(fn: () => Promise<T>, onEnd?: (e: ScriptEvent) => void): Promise<{ value: T; kinds: string[] }> {
  const kinds: string[] = [];
  const handlers = {
    start: (e: ScriptEvent) => void kinds.push(e.kind),
    asyncEnd: (e: ScriptEvent) => onEnd?.(e),
    end() {}, asyncStart() {}, error() {},
  };
  const channel = tracingChannel<unknown, ScriptEvent>(SCRIPT_CHANNEL);
  channel.subscribe(handlers);
  try {
    return { value: await fn(), kinds };
  } finally {
    channel.unsubscribe(handlers);
  }
}

const count = (kinds: readonly string[], kind: string): number => kinds.filter((k) => k === kind).length;

describe('sorted pages of a sharded model (ids and sort values, then the page\'s records)', function () {
  this.timeout(120_000);
  let single: EmbeddedRedis;
  let singleDb: Connection;
  let SingleItem: typeof Item;

  before(async () => {
    single = await startRedis();
    singleDb = await connect({ url: single.url });
    SingleItem = Item.withDb(singleDb);
  });
  after(async () => {
    await singleDb?.close();
    await single?.stop();
  });
  beforeEach(async () => {
    await (singleDb.client as unknown as RedisClientType).flushAll();
  });

  async function seed(r: () => number, n: number): Promise<Map<string, P>> {
    const items = Array.from({ length: n }, (_, i) => randomItem(r, i));
    await Promise.all([Item.insertMany(items), SingleItem.insertMany(items)]);
    return new Map(items.map((p) => [p.code, p]));
  }

  it('pages equal the oracle and the single node: several keys, ties, offsets past some shards, limits past the matches', async () => {
    const seed0 = 1_700;
    const r = rng(seed0);
    const all = await seed(r, 600);
    for (let i = 0; i < 80; i++) {
      const [cond, pred] = pick(r, CONDITIONS)(r);
      const keys: Key[] = Array.from({ length: int(r, 1, 3) }, () => [pick(r, FIELDS), r() < 0.5 ? 'asc' : 'desc'] as const);
      const want = oracle(all.values(), pred, keys);
      // offsets inside the first shard's share, past most shards' matches, past every match
      const offset = pick(r, [0, 0, int(r, 1, 10), int(r, 20, 80), int(r, 100, 300), want.length + 3]);
      const limit = pick(r, [1, int(r, 2, 60), 1_000, undefined]);
      const what = `seed ${seed0} query ${i}: sort ${JSON.stringify(keys)}, offset ${offset}, limit ${limit}`;
      let q = Item.find(cond).sort(keys).offset(offset);
      let s = SingleItem.find(cond).sort(keys).offset(offset);
      if (limit !== undefined) {
        q = q.limit(limit);
        s = s.limit(limit);
      }
      const page = want.slice(offset, limit === undefined ? undefined : offset + limit);
      const [recs, ids, first, singleIds] = await Promise.all([q.toArray(), q.ids(), q.first(), s.ids()]);
      expect(recs.map((x) => x.code), what).to.deep.equal(page);
      for (const x of recs) expect(x.toJSON(), what).to.deep.equal(all.get(x.code));
      expect(ids, what).to.deep.equal(page);
      expect(first?.code ?? null, what).to.equal(page[0] ?? null);
      expect(singleIds, what).to.deep.equal(page);
      if (i % 8 === 0) {
        const streamed: string[] = [];
        for await (const x of q.stream({ pageSize: int(r, 1, 40) })) streamed.push(x.code);
        expect(streamed, `${what} (stream)`).to.deep.equal(page);
      }
    }
  });

  it('reads only the merged page\'s records, one script per shard holding some; a single node stays one script', async () => {
    const all = await seed(rng(3), 400);
    const q = Item.find((f) => f.a.gte(-100)).sort('b', 'desc').thenBy('s').limit(10);
    const want = oracle(all.values(), () => true, [['b', 'desc'], ['s', 'asc']]).slice(0, 10);
    const { value, kinds } = await scripts(() => q.toArray());
    expect(value.map((x) => x.code)).to.deep.equal(want);
    expect(count(kinds, 'query.rows')).to.equal(SHARDS);
    expect(count(kinds, 'query.records')).to.equal(new Set(want.map((id) => shardOf(id, SHARDS))).size);
    // ids need no record at all
    expect(count((await scripts(() => q.ids())).kinds, 'query.records')).to.equal(0);
    const one = await scripts(() => SingleItem.find((f) => f.a.gte(-100)).sort('b', 'desc').thenBy('s').limit(10).toArray());
    expect(one.kinds).to.deep.equal(['query.records']);
    expect(one.value.map((x) => x.code)).to.deep.equal(want);
  });

  it('asks again only the shards that may hold more of the page: exact when one shard holds all of it', async () => {
    const r = rng(11);
    const items = Array.from({ length: 500 }, (_, i) => randomItem(r, i));
    // shard 5's records hold the 60 highest `b`, far more than its share of a page of 60
    const top = items.filter((p) => shardOf(p.code, SHARDS) === 5).slice(0, 25);
    for (const [i, p] of top.entries()) p.b = 1000 + (i % 7);
    await Item.insertMany(items);
    const want = oracle(items, () => true, [['b', 'desc']]);
    for (const [offset, limit] of [[0, 25], [3, 30], [20, 10], [0, 60]] as const) {
      const { value, kinds } = await scripts(() => Item.find((f) => f.a.gte(-100)).sort('b', 'desc').offset(offset).limit(limit).ids());
      expect(value, `${offset}/${limit}`).to.deep.equal(want.slice(offset, offset + limit));
      // the first round asks every shard, the second only shard 5 (and the few whose rows reach as far)
      expect(count(kinds, 'query.rows'), `${offset}/${limit}`).to.be.within(SHARDS + 1, SHARDS + 3);
    }
  });

  it('a record deleted between the two steps is not in the page, and the page stays exact (read again in one step)', async () => {
    const all = await seed(rng(5), 300);
    const keys: Key[] = [['level', 'asc'], ['b', 'desc']];
    const want = oracle(all.values(), () => true, keys).slice(4, 24);
    const victim = want[7];
    // deleted on the model's own connection right as the first step's replies arrive, so Redis
    // runs the delete before any script of the second step (one connection per master, in order)
    let rows = 0;
    const { value, kinds } = await scripts(() => Item.find((f) => f.a.gte(-100)).sort(keys).offset(4).limit(20).toArray(), (e) => {
      if (e.kind === 'query.rows' && ++rows === SHARDS) void (db.client as unknown as RedisClientType).del(Item.keys.record(victim));
    });
    all.delete(victim);
    expect(value.map((x) => x.code)).to.deep.equal(oracle(all.values(), () => true, keys).slice(4, 24));
    expect(value.map((x) => x.code)).to.not.include(victim);
    // the second step saw it gone: the page was read again, every shard returning records
    expect(count(kinds, 'query.records')).to.be.greaterThanOrEqual(SHARDS);
  });

  it('a record whose sort value changed between the two steps lands where it now belongs', async () => {
    const all = await seed(rng(6), 300);
    const keys: Key[] = [['level', 'desc'], ['tag', 'asc']];
    const want = oracle(all.values(), () => true, keys).slice(0, 15);
    const moved = want[2];
    let rows = 0;
    const { value } = await scripts(() => Item.find((f) => f.a.gte(-100)).sort(keys).limit(15).toArray(), (e) => {
      // `level` has no index: a write of the stored field alone keeps the record consistent
      if (e.kind === 'query.rows' && ++rows === SHARDS) void (db.client as unknown as RedisClientType).hSet(Item.keys.record(moved), 'level', '-1');
    });
    all.set(moved, { ...all.get(moved)!, level: -1 });
    expect(value.map((x) => x.code)).to.deep.equal(oracle(all.values(), () => true, keys).slice(0, 15));
    expect(value.find((x) => x.code === moved)).to.equal(undefined);
  });

  it('pages of a model holding bytes (replies as Buffers) merge by the bytes of the stored text', async () => {
    const r = rng(9);
    const items = Array.from({ length: 300 }, (_, i) => ({ ...randomItem(r, i), data: new Uint8Array([i % 256, 0, 255]) }));
    await Blob.insertMany(items);
    const byCode = new Map(items.map((p) => [p.code, p]));
    for (const keys of [[['s', 'asc']], [['tag', 'desc'], ['b', 'asc']], [['s', 'desc'], ['level', 'asc']]] as Key[][]) {
      const want = oracle(items, (p) => p.b >= 2, keys);
      for (const [offset, limit] of [[0, 10], [7, 33], [200, 50]] as const) {
        const page = await Blob.find((f) => f.b.gte(2)).sort(keys).offset(offset).limit(limit).toArray();
        const what = `${JSON.stringify(keys)} ${offset}/${limit}`;
        expect(page.map((x) => x.code), what).to.deep.equal(want.slice(offset, offset + limit));
        for (const x of page) expect(x.data, what).to.deep.equal(byCode.get(x.code)!.data);
      }
    }
  });
});
