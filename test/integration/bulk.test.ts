import { expect } from 'chai';
import { Type } from 'typebox';
import {
  ConflictError, NotFoundError, and, UniqueViolationError, UsageError, ValidationError, connect, defineModel, type Infer,
} from '../../src/index.js';
import { compile } from '../../src/compile/compiler.js';
import {
  call, changesArg, expiryArg, indexesArg, keyArg, param, paramList, word, type ProgramNode,
} from '../../src/ast/nodes.js';
import { connectOptions, onCluster, prefix, raw } from '../helpers/redis.js';
import { calls, masters } from '../helpers/stats.js';

const Member = defineModel('Member', {
  name: Type.String(),
  age: Type.Integer({ minimum: 0 }),
  score: Type.Number({ default: 0 }),
  status: Type.Union([Type.Literal('new'), Type.Literal('adult'), Type.Literal('minor')], { default: 'new' }),
  counter: Type.Integer({ default: 0 }),
  tags: Type.Array(Type.String(), { default: [] }),
  notes: Type.Record(Type.String(), Type.String(), { default: {} }),
}, { indexes: ['age', 'score', 'status'], unique: ['name'] });

/** A model whose id is a field, so that inserts can collide on ids. */
const Account = defineModel('BulkAccount', {
  email: Type.String(),
  name: Type.String(),
  age: Type.Integer({ minimum: 0 }),
}, { key: 'email', indexes: ['age'], unique: ['name'] });

type M = Infer<typeof Member>;

const member = (i: number): M => ({
  name: `user${i}`,
  age: i % 90,
  score: (i % 1000) / 10,
  status: (['new', 'adult', 'minor'] as const)[i % 3],
  counter: 0,
  tags: [`t${i % 7}`, 'all'],
  notes: { k: `v${i}`, 'a.b': 'x' },
});

const plain = (r: object): unknown => JSON.parse(JSON.stringify(r));

/** Every index answer equals the brute-force answer over the stored records. */
async function expectIndexesExact(): Promise<void> {
  const all = await Member.find((u) => u.age.gte(0)).ids();
  const ids = (await raw.zRange(`${prefix('Member')}#ids`, 0, -1));
  expect([...all].sort()).to.deep.equal([...ids].sort());
  const recs = await Member.getMany(ids);
  for (const age of [0, 17, 45, 89]) {
    expect(await Member.find((u) => u.age.gt(age)).count()).to.equal(recs.filter((r) => r.age > age).length);
  }
  for (const status of ['new', 'adult', 'minor'] as const) {
    expect(await Member.find((u) => u.status.eq(status)).count()).to.equal(recs.filter((r) => r.status === status).length);
  }
  expect(await Member.find((u) => u.score.between(10, 50)).count()).to.equal(recs.filter((r) => r.score >= 10 && r.score <= 50).length);
  // the unique hash holds exactly the stored names
  const uniq = await raw.hGetAll(`${prefix('Member')}#uniq:name`);
  expect(uniq).to.deep.equal(Object.fromEntries(recs.map((r) => [r.name, r.id])));
}

describe('bulk operations', () => {
  // many chunks, of each kind of script (the timed run of 100,000 is bench/bulk-roundtrip.ts)
  const many = 2_500;
  it(`inserts ${many.toLocaleString('en')} records, reads them back exactly and deletes them`, async () => {
    const data = Array.from({ length: many }, (_, i) => member(i));
    const progress: number[] = [];
    const recs = await Member.insertMany(data, { onProgress: ({ done, total }) => { progress.push(done); expect(total).to.equal(many); } });
    expect(recs).to.have.length(many);
    expect(progress.at(-1)).to.equal(many);
    expect(progress.length).to.be.greaterThan(1);
    expect(await raw.zCard(`${prefix('Member')}#ids`)).to.equal(many);
    const ids = recs.map((r) => r.id);
    const back = await Member.getMany(ids);
    expect(back.map((r) => r.id)).to.deep.equal(ids);
    expect(back.map(plain)).to.deep.equal(data.map(plain));
    expect(await Member.find((u) => u.age.eq(42)).count()).to.equal(data.filter((d) => d.age === 42).length);
    expect(await Member.deleteMany(ids)).to.equal(many);
    // only the model's bookkeeping hash (Member#meta) is left, and its description if this process wrote it since the flush
    expect(await raw.dbSize() - await raw.exists(`${prefix('Member')}#schema`)).to.equal(1);
    expect(await raw.exists(`${prefix('Member')}#meta`)).to.equal(1);
  });

  it('validates every item first: one bad item writes nothing and names its position', async () => {
    await Member.insertMany([member(-1)].map((m) => ({ ...m, age: 1 })));
    const before = await raw.dbSize();
    const data: unknown[] = Array.from({ length: 1200 }, (_, i) => member(i));
    data[700] = { ...member(700), age: -3 };
    const err = await Member.insertMany(data as M[], { chunkSize: 100 }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ValidationError);
    expect((err as ValidationError).path).to.equal('700.age');
    expect((err as ValidationError).index).to.equal(700);
    expect((err as ValidationError).rule).to.equal('minimum');
    expect((err as Error).message).to.match(/item 700/);
    expect(await raw.dbSize()).to.equal(before);
    const missing = await Member.insertMany([member(1), { age: 3 } as M]).catch((e: unknown) => e);
    expect((missing as ValidationError).path).to.equal('1.name');
  });

  it('insertMany: a chunk that reaches Redis before the one before it is run again after it, so no record is lost', async () => {
    // the first chunk's script is held back on the client, so the second one runs first and its
    // chain refuses it (a redirect or a reconnect on a cluster can reorder sends the same way)
    const conn = Member.db;
    const run = conn.run.bind(conn);
    let held = false;
    conn.run = (script) => {
      if (held || !script.lua.includes('bulk_insert')) return run(script);
      held = true;
      return new Promise((resolve) => setTimeout(resolve, 100)).then(() => run(script));
    };
    try {
      const data = Array.from({ length: 40 }, (_, i) => member(i));
      const recs = await Member.insertMany(data, { chunkSize: 10 });
      expect(recs).to.have.length(40);
      expect(held).to.equal(true);
      expect((await Member.getMany(recs.map((r) => r.id))).map((r) => r.name)).to.deep.equal(data.map((d) => d.name));
    } finally {
      conn.run = run;
    }
  });

  it('fills defaults, applies the model ttl and returns the records', async () => {
    const Session = defineModel('BulkSession', { token: Type.String(), hits: Type.Integer({ default: 0 }) }, { ttl: 60, indexes: ['hits'] });
    const recs = await Session.insertMany([{ token: 'a' }, { token: 'b' }]);
    expect(recs.map((r) => r.hits)).to.deep.equal([0, 0]);
    expect(await recs[0].ttl()).to.be.within(59, 60);
    expect((await Session.get(recs[1].id)).token).to.equal('b');
  });

  describe('onConflict', () => {
    beforeEach(async () => {
      await Account.insertMany([
        { email: 'a@x', name: 'Ann', age: 30 },
        { email: 'b@x', name: 'Bob', age: 40 },
      ]);
    });

    it("'error': an existing id raises ConflictError and its chunk writes nothing", async () => {
      const before = await raw.dbSize();
      const err = await Account.insertMany([
        { email: 'c@x', name: 'Cid', age: 1 },
        { email: 'b@x', name: 'Bobby', age: 2 },
      ]).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(ConflictError);
      expect((err as Error).message).to.match(/item 1: .*b@x/);
      expect(await raw.dbSize()).to.equal(before);
      expect(await Account.exists('c@x')).to.equal(false);
      expect((await Account.get('b@x')).name).to.equal('Bob');
    });

    it("'error': a taken unique value, or one claimed twice in a chunk, raises UniqueViolationError", async () => {
      const before = await raw.dbSize();
      const taken = await Account.insertMany([{ email: 'c@x', name: 'Ann', age: 1 }]).catch((e: unknown) => e);
      expect(taken).to.be.instanceOf(UniqueViolationError);
      const twice = await Account.insertMany([
        { email: 'c@x', name: 'Cid', age: 1 },
        { email: 'd@x', name: 'Cid', age: 2 },
      ]).catch((e: unknown) => e);
      expect(twice).to.be.instanceOf(UniqueViolationError);
      expect((twice as UniqueViolationError).path).to.equal('name');
      expect((twice as Error).message).to.match(/^item 1: /);
      const dupId = await Account.insertMany([
        { email: 'c@x', name: 'Cid', age: 1 },
        { email: 'c@x', name: 'Cy', age: 2 },
      ]).catch((e: unknown) => e);
      expect(dupId).to.be.instanceOf(ConflictError);
      expect(await raw.dbSize()).to.equal(before);
    });

    it("'error' in a later chunk: earlier chunks stay written, later ones never run", async () => {
      const before = await raw.dbSize();
      const err = await Account.insertMany([
        { email: 'c@x', name: 'Cid', age: 1 },
        { email: 'd@x', name: 'Dan', age: 2 },
        { email: 'e@x', name: 'Eve', age: 3 },
        { email: 'a@x', name: 'Ann2', age: 4 },
        { email: 'f@x', name: 'Fay', age: 5 },
        { email: 'g@x', name: 'Gus', age: 6 },
      ], { chunkSize: 2 }).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(ConflictError);
      expect((err as Error).message).to.match(/^item 3: /);
      expect((err as { index?: number }).index).to.equal(3);
      const got = await Account.getMany(['c@x', 'd@x', 'e@x', 'f@x', 'g@x'], { missing: 'null' });
      expect(got.map((r) => r?.name ?? null)).to.deep.equal(['Cid', 'Dan', null, null, null]);
      // two records more, and no chain key left (chunk 3 was in flight when chunk 2 failed)
      expect(await raw.dbSize()).to.equal(before + 2);
    });

    it("'skip': existing ids and taken unique values are left as they are and left out of the result", async () => {
      const recs = await Account.insertMany([
        { email: 'a@x', name: 'Other', age: 99 },
        { email: 'c@x', name: 'Cid', age: 5 },
        { email: 'd@x', name: 'Bob', age: 6 },
        { email: 'e@x', name: 'Cid', age: 7 },
        { email: 'f@x', name: 'Fay', age: 8 },
      ], { onConflict: 'skip' });
      expect(recs.map((r) => r.id)).to.deep.equal(['c@x', 'f@x']);
      expect(plain(await Account.get('a@x'))).to.deep.equal({ email: 'a@x', name: 'Ann', age: 30 });
      expect(await Account.getMany(['d@x', 'e@x'], { missing: 'skip' })).to.deep.equal([]);
      expect(await Account.find((u) => u.age.eq(99)).count()).to.equal(0);
      expect(await raw.hGetAll(`${prefix('BulkAccount')}#uniq:name`)).to.deep.equal({ Ann: 'a@x', Bob: 'b@x', Cid: 'c@x', Fay: 'f@x' });
    });

    it("'replace': overwrites like save, moving index and unique entries", async () => {
      await raw.pExpire(`${prefix('BulkAccount')}:a@x`, 100_000);
      const recs = await Account.insertMany([
        { email: 'a@x', name: 'Anna', age: 31 },   // releases 'Ann'
        { email: 'c@x', name: 'Ann', age: 50 },    // takes it in the same chunk
        { email: 'c@x', name: 'Cid', age: 51 },    // the same id again: replaces the item before it
      ], { onConflict: 'replace' });
      expect(recs.map((r) => r.name)).to.deep.equal(['Anna', 'Ann', 'Cid']);
      expect(plain(await Account.get('a@x'))).to.deep.equal({ email: 'a@x', name: 'Anna', age: 31 });
      expect(plain(await Account.get('c@x'))).to.deep.equal({ email: 'c@x', name: 'Cid', age: 51 });
      expect(await raw.pTTL(`${prefix('BulkAccount')}:a@x`)).to.be.greaterThan(90_000);
      expect(await raw.hGetAll(`${prefix('BulkAccount')}#uniq:name`)).to.deep.equal({ Anna: 'a@x', Bob: 'b@x', Cid: 'c@x' });
      expect(await Account.find((u) => u.age.eq(30)).count()).to.equal(0);
      expect(await Account.find((u) => u.age.eq(50)).count()).to.equal(0);
      expect(await Account.find((u) => u.age.gt(0)).ids()).to.deep.equal(['a@x', 'b@x', 'c@x']);
      const before = await raw.dbSize();
      const held = await Account.insertMany([
        { email: 'd@x', name: 'Dan', age: 1 },
        { email: 'a@x', name: 'Bob', age: 1 },
      ], { onConflict: 'replace' }).catch((e: unknown) => e);
      expect(held).to.be.instanceOf(UniqueViolationError);
      expect(await raw.dbSize()).to.equal(before);
      expect((await Account.get('a@x')).name).to.equal('Anna');
    });
  });

  it("getMany: records in input order, and each missing mode", async () => {
    const recs = await Member.insertMany([member(1), member(2), member(3)]);
    const ids = recs.map((r) => r.id);
    const order = [ids[2], ids[0], ids[1], ids[0]];
    expect((await Member.getMany(order)).map((r) => r.name)).to.deep.equal(['user3', 'user1', 'user2', 'user1']);
    const asked = [ids[0], 'nope', ids[2]];
    const err = await Member.getMany(asked).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(NotFoundError);
    expect((err as Error).message).to.include('nope');
    expect((await Member.getMany(asked, { missing: 'skip' })).map((r) => r.name)).to.deep.equal(['user1', 'user3']);
    expect((await Member.getMany(asked, { missing: 'null', chunkSize: 1 })).map((r) => r?.name ?? null)).to.deep.equal(['user1', null, 'user3']);
    // chunks of one, two in flight: order kept, a missing id in a chunk read beside another still refused
    expect((await Member.getMany(order, { chunkSize: 1 })).map((r) => r.name)).to.deep.equal(['user3', 'user1', 'user2', 'user1']);
    expect(await Member.getMany(asked, { chunkSize: 1 }).catch((e: unknown) => e)).to.be.instanceOf(NotFoundError);
    const steps: number[] = [];
    await Member.getMany(order, { chunkSize: 1, onProgress: ({ done }) => steps.push(done) });
    expect(steps).to.deep.equal([1, 2, 3, 4]);
    expect(await Member.getMany([])).to.deep.equal([]);
    const r = (await Member.getMany([ids[1]]))[0];
    await r.$.counter.incr(5);
    expect((await Member.get(ids[1])).counter).to.equal(5);
  });

  it('getMany reads a chunk with one HGETALL per record in one MULTI/EXEC on a single node (no script), a sharded model with its script', async () => {
    const recs = await Member.insertMany(Array.from({ length: 25 }, (_, i) => member(i)));
    for (const node of await masters()) await node.configResetStat();
    const back = await Member.getMany([...recs.map((r) => r.id), 'nope'], { missing: 'null', chunkSize: 10 });
    expect(back.map((r) => r?.name ?? null)).to.deep.equal([...recs.map((r) => r.name), null]);
    // a cluster checks the shard layout first: its chunks stay scripts
    expect(await calls('exec')).to.equal(onCluster ? 0 : 3);
    expect(await calls('hgetall')).to.equal(26);
    const scripts = await calls('evalsha_ro') + await calls('evalsha');
    if (onCluster) expect(scripts).to.be.greaterThan(0);
    else expect(scripts).to.equal(0);
  });

  it('updateMany by ids runs a conditional program on each record; missing ids are skipped', async () => {
    const recs = await Member.insertMany(Array.from({ length: 30 }, (_, i) => member(i)));
    const ids = recs.map((r) => r.id);
    const n = await Member.updateMany([...ids, 'ghost', ids[0]], (p) => {
      p.age.gte(18).ifTrue(() => p.status.set('adult')).else(() => p.status.set('minor'));
      p.counter.incr(1);
      for (const tag of p.tags) tag.eq('all').ifTrue(() => p.notes.setItem('all', 'seen'));
      p.score.set(p.age.times(2));
    }, { chunkSize: 7 });
    expect(n).to.equal(30);
    expect(await Member.exists('ghost')).to.equal(false);
    const after = await Member.getMany(ids);
    after.forEach((r, i) => {
      expect(r.status).to.equal(i >= 18 ? 'adult' : 'minor');
      expect(r.counter).to.equal(1);
      expect(r.score).to.equal(2 * i);
      expect(r.notes).to.deep.equal({ k: `v${i}`, 'a.b': 'x', all: 'seen' });
    });
    await expectIndexesExact();
  });

  it('updateMany by query (function and Model.fields forms), chunk by chunk', async () => {
    await Member.insertMany(Array.from({ length: 200 }, (_, i) => member(i)));
    const progress: number[] = [];
    const n = await Member.updateMany((u) => u.age.gt(60), (p) => {
      p.status.eq('new').ifTrue(() => p.score.incr(1000));
      p.tags.append('old');
    }, { chunkSize: 16, onProgress: ({ done }) => progress.push(done) });
    const expected = Array.from({ length: 200 }, (_, i) => member(i)).filter((m) => m.age > 60);
    expect(n).to.equal(expected.length);
    expect(progress.at(-1)).to.equal(expected.length);
    expect(await Member.find((u) => u.tags.contains('old')).count()).to.equal(expected.length);
    expect(await Member.find((u) => u.score.gte(1000)).count()).to.equal(expected.filter((m) => m.status === 'new').length);
    const m = await Member.updateMany(Member.fields.status.eq('minor'), (p) => p.age.set(1));
    expect(m).to.equal(await Member.find((u) => u.status.eq('minor')).count());
    expect(await Member.find((u) => and(u.status.eq('minor'), u.age.ne(1))).count()).to.equal(0);
    await expectIndexesExact();
  });

  it('an update that fails in a chunk leaves that chunk unwritten', async () => {
    const recs = await Member.insertMany(Array.from({ length: 10 }, (_, i) => member(i)));
    const ids = recs.map((r) => r.id);
    const err = await Member.updateMany(ids, (p) => p.age.decr(5), { chunkSize: 5 }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ValidationError);
    const after = await Member.getMany(ids);
    expect(after.map((r) => r.age)).to.deep.equal(ids.map((_, i) => i));   // chunk 1 (ages 0..4) fails first
    await expectIndexesExact();
  });

  it('deleteMany by ids and by query removes records and index entries', async () => {
    const recs = await Member.insertMany(Array.from({ length: 300 }, (_, i) => member(i)));
    expect(await Member.deleteMany([recs[0].id, recs[1].id, 'ghost', recs[0].id])).to.equal(2);
    const adults = recs.slice(2).filter((r) => r.status === 'adult').length;
    expect(await Member.deleteMany((u) => u.status.eq('adult'), { chunkSize: 13 })).to.equal(adults);
    expect(await Member.deleteMany(Member.fields.age.lt(10))).to.equal(recs.slice(2).filter((r) => r.status !== 'adult' && r.age < 10).length);
    expect(await Member.find((u) => u.status.eq('adult')).count()).to.equal(0);
    await expectIndexesExact();
  });

  it('concurrent updateMany and single-record pipelines lose no update', async function () {
    this.timeout(30_000);
    const recs = await Member.insertMany(Array.from({ length: 100 }, (_, i) => member(i)));
    const ids = recs.map((r) => r.id);
    const conns = await Promise.all([1, 2, 3].map(() => connect(connectOptions)));
    try {
      const models = conns.map((c) => Member.withDb(c));
      const bulk = models.map((m) => (async () => {
        for (let k = 0; k < 10; k++) await m.updateMany(ids, (p) => p.counter.incr(1), { chunkSize: 17 });
      })());
      const single = models.map((m, j) => (async () => {
        for (let k = 0; k < 200; k++) await m.pipeline(ids[(k * 7 + j) % ids.length], (p) => p.counter.incr(2));
      })());
      await Promise.all([...bulk, ...single]);
      const total = (await Member.getMany(ids)).reduce((sum, r) => sum + r.counter, 0);
      expect(total).to.equal(3 * 10 * 100 + 3 * 200 * 2);
    } finally {
      await Promise.all(conns.map((c) => c.close()));
    }
    await expectIndexesExact();
  });

  it('indexes stay exact after a mix of bulk operations', async () => {
    const recs = await Member.insertMany(Array.from({ length: 500 }, (_, i) => member(i)), { chunkSize: 64 });
    await Member.updateMany((u) => u.age.between(20, 40), (p) => { p.age.incr(50); p.status.set('adult'); });
    await Member.deleteMany(recs.filter((_, i) => i % 5 === 0).map((r) => r.id));
    await Member.insertMany(Array.from({ length: 100 }, (_, i) => ({ ...member(1000 + i), age: 7 })), { chunkSize: 30 });
    await expectIndexesExact();
  });

  it('refuses bad options with UsageError before sending anything', async () => {
    const bad = [
      () => Member.insertMany([member(1)], { chunkSize: 0 }),
      () => Member.insertMany([member(1)], { onConflict: 'overwrite' as never }),
      () => Member.getMany(['1'], { missing: 'zero' as never }),
      () => Member.deleteMany(['1'], { chunkSize: 1.5 }),
    ];
    for (const bulk of bad) expect(await bulk().catch((e: unknown) => e)).to.be.instanceOf(UsageError);
    expect(await raw.dbSize()).to.equal(0);
  });

  it('a key field without a value is a ValidationError naming the item and the field', async () => {
    const err = await Account.insertMany([{ email: 'a@x', name: 'a', age: 1 }, { email: '', name: 'b', age: 1 }]).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ValidationError);
    expect((err as ValidationError).path).to.equal('1.email');
    expect((err as ValidationError).index).to.equal(1);
  });

  it('compiles to one script whatever the number of records and fields', () => {
    const program = (items: string[]): ProgramNode => ({
      kind: 'Program', mode: 'write', records: [],
      body: [call('bulk_insert', keyArg('X#ids'), indexesArg([{ field: 'a', key: 'X#idx:a', type: 'n' }], []), expiryArg(['X#exp', 'X#expv']),
        changesArg(undefined), keyArg('X#chain:t'), param('1'), param('2'), param('X:'), word('error'), param('0'), paramList(items))],
    });
    const one = compile(program(['1', '2', 'a', '5']));
    const two = compile(program(['1', '2', 'a', '5', '2', '4', 'a', '6', 'b', 'x']));
    expect(one.sha1).to.equal(two.sha1);
    expect(one.keys).to.deep.equal(['X#ids', 'X#idx:a', 'X#exp', 'X#expv', 'X#chain:t']);
    const read = (ids: string[]): ProgramNode => ({
      kind: 'Program', mode: 'read', records: [],
      body: [call('bulk_read', keyArg('X#ids'), param('X:'), paramList(ids), param(null))],
    });
    expect(compile(read(['1'])).sha1).to.equal(compile(read(['1', '2', '3'])).sha1);
    expect(compile(read(['1'])).readOnly).to.equal(true);
    expect(compile(read(['1'])).lua.startsWith('#!lua flags=no-writes')).to.equal(true);
  });
});



