/**
 * updateMany / deleteMany by query run chunk by chunk on the server (lua/lib/cursor.lua): the
 * first script selects the candidates, every later one takes the next chunk from the cursor the
 * previous one left, so no id comes to the client; each chunk is all or nothing, each candidate
 * is checked and acted on once, when its chunk runs.
 */
import { expect } from 'chai';
import { Type } from 'typebox';
import { and, defineModel, ValidationError } from '../../src/index.js';
import { raw } from '../helpers/redis.js';
import { calls, masters } from '../helpers/stats.js';
import { traced } from '../helpers/traced.js';

const Item = defineModel('CursorItem', {
  name: Type.String(),
  age: Type.Integer({ minimum: 0 }),
  score: Type.Number({ default: 0 }),
  status: Type.Union([Type.Literal('new'), Type.Literal('old')], { default: 'new' }),
}, { indexes: ['age', 'score', 'status'], unique: ['name'] });

/** The kinds of the scripts `fn` runs. */
const kinds = async (fn: () => Promise<unknown>): Promise<string[]> =>
  (await traced(fn)).filter(([event]) => event === 'start').map(([, e]) => e.kind);

const items = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `n${i}`, age: i % 50, score: n - i }));

describe('updateMany / deleteMany by query: chunks on the server', () => {
  it('one script per chunk, no id read by the client, and no cursor left', async () => {
    await Item.insertMany(items(100));
    await Item.find((u) => u.age.lt(30)).count(); // the model's first query checks its indexes: not traced below
    const before = await raw.dbSize();
    const progress: [number, number][] = [];
    const seen = await kinds(async () => {
      const n = await Item.updateMany((u) => u.age.lt(30), (p) => p.status.set('old'), {
        chunkSize: 7, onProgress: ({ done, total }) => progress.push([done, total]),
      });
      expect(n).to.equal(60);
    });
    // 60 candidates (the age index alone answers): 9 chunks, each one query.update script
    expect(seen).to.deep.equal(Array(9).fill('query.update'));
    expect(progress.map(([done]) => done)).to.deep.equal([7, 14, 21, 28, 35, 42, 49, 56, 60]);
    expect(progress.every(([, total]) => total === 60)).to.equal(true);
    expect(await Item.find((u) => u.status.eq('old')).count()).to.equal(60);
    expect(await raw.dbSize()).to.equal(before);
    const gone = await kinds(async () => expect(await Item.deleteMany((u) => u.status.eq('old'), { chunkSize: 25 })).to.equal(60));
    expect(gone).to.deep.equal(Array(3).fill('query.delete'));
    expect(await Item.find((u) => u.age.gte(0)).count()).to.equal(40);
  });

  it('acts on 1,000 matches per chunk by default (a by-id call keeps 200)', async () => {
    await Item.insertMany(Array.from({ length: 1_500 }, (_, i) => ({ name: `d${i}`, age: 60, score: i })));
    const progress: number[] = [];
    const n = await Item.updateMany((u) => u.age.eq(60), (p) => p.status.set('old'), { onProgress: ({ done }) => progress.push(done) });
    expect(n).to.equal(1_500);
    expect(progress).to.deep.equal([1_000, 1_500]);
    const byId: number[] = [];
    await Item.updateMany((await Item.find((u) => u.age.eq(60)).limit(300).toArray()).map((r) => r.id), (p) => p.score.incr(1), {
      onProgress: ({ done }) => byId.push(done),
    });
    expect(byId).to.deep.equal([200, 300]);
  });

  it('reads each match once and writes it once, with one command per index for the whole chunk', async () => {
    // no unique field: the update's operations run as straight-line code on each match's read
    const Plain = defineModel('CursorPlain', {
      age: Type.Integer({ minimum: 0 }),
      score: Type.Number({ default: 0 }),
      status: Type.Union([Type.Literal('new'), Type.Literal('old')], { default: 'new' }),
    }, { indexes: ['age', 'score', 'status'] });
    await Plain.insertMany(items(100).map(({ age, score }) => ({ age, score })));
    await Plain.find((u) => u.age.lt(30)).count(); // the model's first query checks its indexes
    for (const node of await masters()) await node.configResetStat();
    expect(await Plain.updateMany((u) => u.age.lt(30), (p) => { p.score.incr(1); p.status.set('old'); }, { chunkSize: 500 })).to.equal(60);
    expect([await calls('hmget'), await calls('hset')]).to.deep.equal([60, 60]);
    // the score and status indexes: one ZADD each, and one ZREM for the status entries the update replaces
    expect([await calls('zadd'), await calls('zrem')]).to.deep.equal([2, 1]);
    expect(await Plain.find((u) => u.status.eq('old')).count()).to.equal(60);
    expect(await Plain.find((u) => and(u.status.eq('old'), u.score.eq(101))).count()).to.equal(1);
    for (const node of await masters()) await node.configResetStat();
    expect(await Plain.deleteMany((u) => u.status.eq('old'), { chunkSize: 500 })).to.equal(60);
    expect([await calls('hmget'), await calls('del')]).to.deep.equal([60, 1]);
    expect(await Plain.find().count()).to.equal(40);
    expect(await Plain.checkIndexes()).to.deep.include({ records: 40, missing: 0, stale: 0 });
  });

  it('acts once on each record, even when the update moves it within the index the plan walks', async () => {
    const recs = await Item.insertMany(items(90));
    // every chunk moves its records up the age index, past records later chunks still hold
    expect(await Item.updateMany((u) => u.age.lt(40), (p) => p.age.incr(10), { chunkSize: 4 })).to.equal(80);
    const after = await Item.getMany(recs.map((r) => r.id));
    after.forEach((r, i) => expect(r.age).to.equal(recs[i].age + (recs[i].age < 40 ? 10 : 0)));
    expect(await Item.find((u) => u.age.lt(10)).count()).to.equal(0);
  });

  it('checks the whole condition on each candidate when its chunk runs', async () => {
    await Item.insertMany(items(60));
    // the plan narrows by age; the score condition is checked on each candidate
    const n = await Item.deleteMany((u) => u.age.lt(20).and(u.score.gt(30)), { chunkSize: 5 });
    const expected = items(60).filter((d) => d.age < 20 && d.score > 30).length;
    expect(n).to.equal(expected);
    expect(await Item.find((u) => u.age.gte(0)).count()).to.equal(60 - expected);
    // a condition no index narrows: every id is a candidate
    expect(await Item.updateMany((u) => u.name.startsWith('n1'), (p) => p.score.set(-1), { chunkSize: 3 }))
      .to.equal(await Item.find((u) => u.name.startsWith('n1')).count());
  });

  it('a failed chunk writes nothing: earlier chunks stay written, later ones never run, no cursor is left', async () => {
    // by score ascending (the plan's index), ages 9..0: the second chunk would go below the minimum
    await Item.insertMany(Array.from({ length: 10 }, (_, i) => ({ name: `f${i}`, age: 9 - i, score: i })));
    const before = await raw.dbSize();
    const err = await Item.updateMany((u) => u.score.gte(0), (p) => p.age.decr(5), { chunkSize: 5 }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ValidationError);
    const ages = (await Item.find((u) => u.score.gte(0)).sort('score').toArray()).map((r) => r.age);
    expect(ages).to.deep.equal([4, 3, 2, 1, 0, 4, 3, 2, 1, 0]);
    expect(await raw.dbSize()).to.equal(before);
  });

  it('an aborted call stops before its next chunk and leaves no cursor', async () => {
    await Item.insertMany(items(40));
    const before = await raw.dbSize();
    const controller = new AbortController();
    const reason = new Error('enough');
    const err = await Item.deleteMany((u) => u.age.gte(0), { chunkSize: 10, signal: controller.signal, onProgress: () => controller.abort(reason) })
      .catch((e: unknown) => e);
    expect(err).to.equal(reason);
    expect(await Item.find((u) => u.age.gte(0)).count()).to.equal(30);
    expect(await raw.dbSize()).to.equal(before - 10);
  });
});
