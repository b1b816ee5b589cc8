/**
 * The `rapyer:script` tracing channel, `{ signal }` on long calls, and `stream({ pageSize })`.
 */
import { expect } from 'chai';
import { Type } from 'typebox';
import { defineModel, LockTimeoutError, QueryError, ValidationError } from '../../src/index.js';
import { onCluster } from '../helpers/redis.js';
import { traced } from '../helpers/traced.js';

const Job = defineModel('Job', {
  name: Type.String(),
  tries: Type.Integer({ minimum: 0, maximum: 3 }),
}, { indexes: ['tries'] });


const reason = new Error('stop here');

describe('diagnostics channel rapyer:script', () => {
  it('publishes start and asyncEnd for every script, with model, kind, sha1, key count and duration', async () => {
    let id = '';
    const events = await traced(async () => {
      id = (await Job.create({ name: 'a', tries: 0 })).id;
      await Job.get(id);
      await Job.find((j) => j.tries.eq(0)).count();
    });
    const ends = events.filter(([name]) => name === 'asyncEnd').map(([, e]) => e);
    expect(ends.map((e) => e.kind)).to.include.members(['WriteRecord', 'ReadRecord', 'query.count']);
    for (const e of ends.filter((x) => x.kind !== 'Meta')) {
      expect(e.model).to.equal('Job');
      expect(e.sha1).to.match(/^[0-9a-f]{40}$/);
      expect(e.keys).to.be.greaterThan(0);
      expect(e.durationMs).to.be.a('number').and.to.be.at.least(0);
    }
    expect(events.filter(([name]) => name === 'start')).to.have.length(ends.length);
    expect(ends.find((e) => e.kind === 'ReadRecord')!.readOnly).to.equal(true);
    // a get needs no script on one node: its one command goes in its place, and the event says so
    expect(ends.find((e) => e.kind === 'ReadRecord')!.command).to.equal(onCluster ? undefined : 'HGETALL');
  });

  it('publishes error with the typed error when a script fails', async () => {
    const job = await Job.create({ name: 'b', tries: 3 });
    const events = await traced(() => job.$.tries.incr().catch(() => {}));
    const errors = events.filter(([name]) => name === 'error').map(([, e]) => e);
    expect(errors).to.have.length(1);
    expect(errors[0]).to.deep.include({ model: 'Job', kind: 'update' });
    expect(errors[0].error).to.be.instanceOf(ValidationError);
  });
});

describe('{ signal } and stream({ pageSize })', () => {
  it('insertMany stops before the next chunk; chunks already sent (two in flight) stay written', async () => {
    const controller = new AbortController();
    const items = Array.from({ length: 14 }, (_, i) => ({ name: `j${i}`, tries: 0 }));
    const err = await Job.insertMany(items, {
      chunkSize: 4, signal: controller.signal, onProgress: () => controller.abort(reason),
    }).catch((e: unknown) => e);
    expect(err).to.equal(reason);
    // chunk 2 was sent with chunk 1, before chunk 1's progress aborted; chunks 3 and 4 never were
    expect(await Job.find((j) => j.tries.eq(0)).count()).to.equal(8);
  });

  it('an aborted signal rejects updateMany, deleteMany and getMany before any script', async () => {
    const job = await Job.create({ name: 'x', tries: 0 });
    const signal = AbortSignal.abort(reason);
    const events = await traced(async () => {
      expect(await Job.updateMany([job.id], (p) => p.tries.incr(), { signal }).catch((e: unknown) => e)).to.equal(reason);
      expect(await Job.deleteMany((j) => j.tries.eq(0), { signal }).catch((e: unknown) => e)).to.equal(reason);
      expect(await Job.getMany([job.id], { signal }).catch((e: unknown) => e)).to.equal(reason);
    });
    expect(events).to.deep.equal([]);
    expect((await Job.get(job.id)).tries).to.equal(0);
  });

  it('stream({ pageSize }) reads one script per page, and a signal stops it at the next page', async () => {
    await Job.insertMany(Array.from({ length: 7 }, (_, i) => ({ name: `s${i}`, tries: 1 })));
    const names: string[] = [];
    const events = await traced(async () => {
      for await (const job of Job.find((j) => j.tries.eq(1)).sort('name').stream({ pageSize: 2 })) names.push(job.name);
    });
    expect(names).to.deep.equal(['s0', 's1', 's2', 's3', 's4', 's5', 's6']);
    expect(events.filter(([name, e]) => name === 'asyncEnd' && e.kind === 'query.records')).to.have.length(4);

    const controller = new AbortController();
    const seen: string[] = [];
    const err = await (async () => {
      for await (const job of Job.find((j) => j.tries.eq(1)).sort('name').stream({ pageSize: 2, signal: controller.signal })) {
        seen.push(job.name);
        if (seen.length === 3) controller.abort(reason);
      }
    })().catch((e: unknown) => e);
    expect(err).to.equal(reason);
    expect(seen).to.deep.equal(['s0', 's1', 's2', 's3']);   // the page in hand is finished, the next is never read
    expect(() => Job.find((j) => j.tries.eq(1)).stream({ pageSize: 0 })).to.throw(QueryError, /pageSize/);
  });

  it('a lock wait rejects with the signal reason when aborted', async () => {
    const job = await Job.create({ name: 'locked', tries: 0 });
    const controller = new AbortController();
    const outcome = await job.lock(async () => {
      const waiter = Job.lock(job.id, () => 'got it', { waitMs: 60_000, signal: controller.signal }).catch((e: unknown) => e);
      controller.abort(reason);
      return waiter;
    });
    expect(outcome).to.equal(reason);
    expect(outcome).not.to.be.instanceOf(LockTimeoutError);
    expect(await Job.lock(job.id, () => 'free again', { signal: controller.signal }).catch((e: unknown) => e)).to.equal(reason);
    expect(await Job.lock(job.id, () => 'free again')).to.equal('free again');
  });
});
