/**
 * Change streams: every write kind appends exactly one correct entry per changed record, in the
 * script that writes it; failed, aborted and empty programs append none; replay rebuilds the
 * stored state; a consumer group loses nothing when a worker dies mid-batch. Runs on a single node
 * and on the local cluster (where `Sharded` spreads over 4 streams merged by `changes()`).
 */
import { expect } from 'chai';
import { Type } from 'typebox';
import {
  AbortError, ConflictError, NotFoundError, SchemaError, UniqueViolationError, UsageError, ValidationError, abort, defineModel,
  type Change, type ChangesOptions,
} from '../../src/index.js';
import { spawn } from 'node:child_process';
import { Job } from '../helpers/change-models.js';
import { connectOptions, db, onCluster, prefix, raw } from '../helpers/redis.js';

const shape = {
  name: Type.String(),
  score: Type.Integer({ minimum: 0, default: 0 }),
  address: Type.Optional(Type.Object({ city: Type.String(), zip: Type.String() })),
  nick: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  tags: Type.Array(Type.String(), { default: [] }),
  notes: Type.Record(Type.String(), Type.String(), { default: {} }),
};
const User = defineModel('ChUser', shape, { changes: true, indexes: ['score'], unique: ['name'] });
const Plain = defineModel('ChPlain', shape);
const Sharded = defineModel('ChSharded', { n: Type.Integer({ default: 0 }), s: Type.String({ default: '' }) }, { changes: true, shards: 4 });
const Expiring = defineModel('ChExpiring', { name: Type.String() }, { changes: true, indexes: ['name'] });

const streamKey = (model: string): string => `${prefix(model)}#changes`;

/** Every event the model's streams hold now (replayed from '0', ending at the current end). */
async function events(model: { changes(o?: ChangesOptions): AsyncIterable<Change> }): Promise<Change[]> {
  const out: Change[] = [];
  for await (const c of model.changes({ from: '0', follow: false })) out.push(c);
  return out;
}

const brief = (c: Change): [string, string, number, readonly string[]] => [c.op, c.id, c.version, c.fields];

describe('change streams', () => {
  it('create, field operations, pipelines, save and delete each append one entry', async () => {
    const u = await User.create({ name: 'ada', address: { city: 'Paris', zip: '75001' }, tags: ['a'], notes: { 'k.1': 'v' } });
    await u.$.score.incr(5);
    await u.pipeline((p) => {
      p.tags.append('b', 'c');
      p.notes.setItem('x.y[z]!', 'w');
      p.address.city.set('Lyon');
      p.nick.set('n');
    });
    u.score = 9;
    u.name = 'ada2';
    await u.save();
    await u.save(); // nothing differs: an entry with the version, naming no field
    await u.delete();
    await User.delete(u.id); // already gone: nothing
    expect((await events(User)).map(brief)).to.deep.equal([
      ['create', u.id, 1, ['name', 'score', 'address', 'address.city', 'address.zip', 'tags', 'notes']],
      ['update', u.id, 2, ['score']],
      ['update', u.id, 3, ['tags', 'notes', 'address.city', 'nick']],
      ['update', u.id, 4, ['name', 'score']],
      ['update', u.id, 5, []],
      ['delete', u.id, 5, []],
    ]);
  });

  it("save({ force: true }) of a deleted record is a create again; a transaction appends one entry per record", async () => {
    const a = await User.create({ name: 'a' });
    const b = await User.create({ name: 'b' });
    await a.delete();
    await a.save({ force: true }); // a plain save() of a deleted record is a ConflictError
    await db.transaction([a, b], (pa, pb) => {
      pa.score.incr(1);
      pb.tags.append('t');
    });
    const got = (await events(User)).map(brief).slice(2);
    expect(got.slice(0, 2)).to.deep.equal([
      ['delete', a.id, 1, []],
      ['create', a.id, 1, ['name', 'score', 'tags', 'notes']],
    ]);
    expect(got.slice(2)).to.deep.equal([['update', a.id, 2, ['score']], ['update', b.id, 2, ['tags']]]);
  });

  it('bulk and query writes append one entry per changed record', async () => {
    const made = await User.insertMany([{ name: 'x1' }, { name: 'x2', score: 3 }, { name: 'x3', score: 7 }]);
    await User.insertMany([{ name: 'x1' }], { onConflict: 'skip' }); // its unique name is taken: skipped
    const before = (await events(User)).length;
    expect(before).to.equal(3);
    expect(await User.updateMany((u) => u.score.gt(2), (p) => p.score.incr(1))).to.equal(2);
    expect(await User.updateMany([made[0].id, 'missing'], (p) => p.tags.append('z'))).to.equal(1);
    expect(await User.find((u) => u.score.gt(100)).update((p) => p.score.incr(1))).to.equal(0);
    expect(await User.deleteMany([made[1].id, 'missing'])).to.equal(1);
    expect(await User.find((u) => u.score.eq(8)).delete()).to.equal(1);
    const after = (await events(User)).slice(before).map(brief);
    const [x1, x2, x3] = made.map((m) => m.id);
    expect(after).to.have.deep.members([
      ['update', x2, 2, ['score']],
      ['update', x3, 2, ['score']],
      ['update', x1, 2, ['tags']],
      ['delete', x2, 2, []],
      ['delete', x3, 2, []],
    ]);
    expect(after).to.have.length(5);
  });

  it('insertMany with onConflict replace is an update naming the fields that differ', async () => {
    const Keyed = defineModel('ChKeyed', { email: Type.String(), name: Type.String(), age: Type.Integer() }, { key: 'email', changes: true });
    await Keyed.insertMany([{ email: 'a@x', name: 'A', age: 1 }, { email: 'b@x', name: 'B', age: 2 }]);
    await Keyed.insertMany([{ email: 'a@x', name: 'A', age: 5 }, { email: 'c@x', name: 'C', age: 3 }], { onConflict: 'replace' });
    await Keyed.insertMany([{ email: 'b@x', name: 'B', age: 9 }], { onConflict: 'skip' });
    expect((await events(Keyed)).map(brief)).to.deep.equal([
      ['create', 'a@x', 1, ['email', 'name', 'age']],
      ['create', 'b@x', 1, ['email', 'name', 'age']],
      ['update', 'a@x', 2, ['age']],
      ['create', 'c@x', 1, ['email', 'name', 'age']],
    ]);
  });

  it('failed, aborted and empty programs append nothing', async () => {
    const u = await User.create({ name: 'taken' });
    const v = await User.create({ name: 'other' });
    const n = (await events(User)).length;
    expect(await User.create({ name: 'taken' }).catch((e: unknown) => e)).to.be.instanceOf(UniqueViolationError);
    expect(await v.$.score.decr(1).catch((e: unknown) => e)).to.be.instanceOf(ValidationError);
    expect(await u.pipeline((p) => {
      p.score.incr(1);
      abort('no');
    }).catch((e: unknown) => e)).to.be.instanceOf(AbortError);
    expect(await User.insertMany([{ name: 'fresh' }, { name: 'taken' }]).catch((e: unknown) => e)).to.be.instanceOf(UniqueViolationError);
    expect(await User.updateMany([v.id], (p) => p.name.set('taken')).catch((e: unknown) => e)).to.be.instanceOf(UniqueViolationError);
    await u.pipeline((p) => p.score.gt(100).ifTrue(() => p.score.set(0)));
    expect(await User.pipeline('nobody', (p) => p.score.incr(1)).catch((e: unknown) => e)).to.be.instanceOf(NotFoundError);
    const Keyed = defineModel('ChKeyed2', { email: Type.String() }, { key: 'email', changes: true });
    await Keyed.create({ email: 'e' });
    expect(await Keyed.create({ email: 'e' }).catch((e: unknown) => e)).to.be.instanceOf(ConflictError);
    expect((await events(User)).length).to.equal(n);
    expect(await events(Keyed)).to.have.length(1);
    expect(await u.reload()).to.include({ score: 0 });
  });

  it('a swept TTL expiry appends expire with the last version (the sweep is a write of its own, not the query)', async () => {
    const r = await Expiring.create({ name: 'gone' });
    await r.$.name.set('soon');
    await r.expire(0.01);
    while ((await raw.exists(r.key)) === 1) await new Promise((done) => setImmediate(done));
    expect(await Expiring.find((x) => x.name.eq('soon')).count()).to.equal(0);
    await Expiring.sweepExpired();
    expect((await events(Expiring)).map(brief)).to.deep.equal([
      ['create', r.id, 1, ['name']],
      ['update', r.id, 2, ['name']],
      ['expire', r.id, 2, []],
    ]);
  });

  it('a model without changes has no stream and refuses changes()', async () => {
    const p = await Plain.create({ name: 'p' });
    await p.$.score.incr(1);
    expect(await raw.exists(streamKey('ChPlain'))).to.equal(0);
    expect(() => Plain.changes()).to.throw(SchemaError);
    expect(() => defineModel('ChBad', shape, { changes: { maxLen: 0 } })).to.throw(SchemaError);
    expect(() => User.changes({ from: 'later' })).to.throw(UsageError, /from must be/);
    expect(() => User.changes({ group: 'g' })).to.throw(UsageError, /consumer/);
    expect(() => User.changes({ group: 'g', consumer: 'c', claimAfterMs: 0 })).to.throw(UsageError, /claimAfterMs/);
  });

  it('trims the stream to about maxLen', async () => {
    const Short = defineModel('ChShort', { n: Type.Integer() }, { changes: { maxLen: 10 } });
    const r = await Short.create({ n: 0 });
    for (let i = 0; i < 500; i++) await r.$.n.incr(1);
    const len = await raw.xLen(streamKey('ChShort'));
    expect(len).to.be.at.least(10).and.below(501);
    // the newest entries stay
    const last = (await events(Short)).at(-1)!;
    expect(brief(last)).to.deep.equal(['update', r.id, 501, ['n']]);
  });

  it("tails from '$' (only new events) and stops on its signal", async () => {
    await User.create({ name: 'old' });
    const stop = new AbortController();
    const seen: Change[] = [];
    const reading = (async () => {
      for await (const c of User.changes({ from: '$', signal: stop.signal })) {
        seen.push(c);
        if (seen.length === 2) stop.abort();
      }
    })();
    await blockedReader(streamKey('ChUser'));
    const a = await User.create({ name: 'new1' });
    await a.$.score.incr(2);
    await reading;
    expect(seen.map(brief)).to.deep.equal([['create', a.id, 1, ['name', 'score', 'tags', 'notes']], ['update', a.id, 2, ['score']]]);
    // resuming after an event id gives what followed it
    const resumed: Change[] = [];
    for await (const c of User.changes({ from: seen[0].eventId, follow: false })) resumed.push(c);
    expect(resumed.map(brief)).to.deep.equal([brief(seen[1])]);
  });

  it('a signal stops a reader blocked waiting for events, and its connection closes', async () => {
    const stop = new AbortController();
    const seen: Change[] = [];
    const reading = (async () => {
      for await (const c of User.changes({ from: '$', signal: stop.signal })) seen.push(c);
    })();
    await blockedReader(streamKey('ChUser'));
    stop.abort();
    await reading;
    expect(seen).to.deep.equal([]);
    await blockedReader(streamKey('ChUser'), 0);
  });

  it('a reader whose connection is killed while it waits reconnects and loses nothing', async () => {
    const stop = new AbortController();
    const seen: Change[] = [];
    const reading = (async () => {
      for await (const c of User.changes({ from: '$', signal: stop.signal })) {
        seen.push(c);
        stop.abort();
      }
    })();
    const node = await nodeOf(streamKey('ChUser'));
    await blockedReader(streamKey('ChUser'));
    const reader = /id=(\d+) [^\n]*cmd=xread/.exec(await node.clientList().then((l) => l.map((c) => `id=${c.id} cmd=${c.cmd}`).join('\n')))!;
    await node.sendCommand(['CLIENT', 'KILL', 'ID', reader[1]]);
    const a = await User.create({ name: 'after-kill' });
    await reading;
    expect(seen.map(brief)).to.deep.equal([['create', a.id, 1, ['name', 'score', 'tags', 'notes']]]);
  });

  it('two consumers of one group share the events, each delivered once', async () => {
    const made = await Job.insertMany(Array.from({ length: 200 }, () => ({})));
    const stop = new AbortController();
    const got = new Map<string, string[]>([['a', []], ['b', []]]);
    const total = (): number => got.get('a')!.length + got.get('b')!.length;
    await Promise.all(['a', 'b'].map(async (consumer) => {
      for await (const c of Job.changes({ group: 'pair', consumer, signal: stop.signal })) {
        got.get(consumer)!.push(`${c.shard} ${c.eventId}`);
        await c.ack();
        if (total() === made.length) stop.abort();
      }
    }));
    const all = [...got.get('a')!, ...got.get('b')!];
    expect(new Set(all).size).to.equal(made.length);
    expect(all).to.have.length(made.length);
    expect(await pendingCount(Job, 'pair')).to.equal(0);
  });

  it('merges the streams of a sharded model, each record in version order', async () => {
    const recs = await Sharded.insertMany(Array.from({ length: 40 }, () => ({})));
    for (let round = 0; round < 3; round++) {
      for (const r of recs) await r.$.n.incr(1);
    }
    const all = await events(Sharded);
    expect(all).to.have.length(160);
    const shards = new Set(all.map((c) => c.shard));
    expect(shards.size).to.equal(onCluster ? 4 : 1);
    for (const r of recs) {
      expect(all.filter((c) => c.id === r.id).map((c) => c.version)).to.deep.equal([1, 2, 3, 4]);
    }
  });
});

const Doc = defineModel('ChDoc', {
  n: Type.Integer({ default: 0 }),
  s: Type.String({ default: '' }),
  tags: Type.Array(Type.String(), { default: [] }),
  notes: Type.Record(Type.String(), Type.Integer(), { default: {} }),
}, { changes: true, shards: 4, indexes: ['n'] });
const DOC_FIELDS = ['n', 's', 'tags', 'notes'];

type Expected = [string, number, readonly string[]];

describe('change streams: replay and consumer groups', () => {
  it("replay from '0' rebuilds the ids and versions of 1,000 records after 10,000 random writes", async function () {
    this.timeout(300_000);
    let seed = 11;
    const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    const expected = new Map<string, Expected[]>(); // per record: its events, in order
    const live: string[] = [];
    const version = new Map<string, number>();
    const note = (id: string, op: string, fields: readonly string[]): void => {
      const v = op === 'create' ? 1 : op === 'delete' ? version.get(id)! : version.get(id)! + 1;
      version.set(id, v);
      if (!expected.has(id)) expected.set(id, []);
      expected.get(id)!.push([op, v, fields]);
    };
    const created = (ids: string[]): void => ids.forEach((id) => { live.push(id); note(id, 'create', DOC_FIELDS); });
    const removed = (id: string): void => { live.splice(live.indexOf(id), 1); note(id, 'delete', []); };
    const some = (k: number): string[] => [...new Set(Array.from({ length: k }, () => live[rand(live.length)]))];
    created((await Doc.insertMany(Array.from({ length: 1000 }, () => ({})))).map((r) => r.id));
    for (let i = 0; i < 10_000; i++) {
      const id = live[rand(live.length)];
      switch (rand(10)) {
        case 0: created([(await Doc.create({ n: rand(100) })).id]); break;
        case 1: created((await Doc.insertMany([{}, { s: 'x' }])).map((r) => r.id)); break;
        case 2: await Doc.delete(id); removed(id); break;
        case 3: { const ids = some(3); await Doc.deleteMany(ids); ids.forEach(removed); break; }
        case 4: { const ids = some(4); await Doc.updateMany(ids, (p) => p.n.incr(1)); ids.forEach((x) => note(x, 'update', ['n'])); break; }
        case 5: await Doc.pipeline(id, (p) => { p.tags.append('t'); p.notes.incr(`k${rand(3)}`, 1); }); note(id, 'update', ['tags', 'notes']); break;
        case 6: { const r = await Doc.get(id); r.s += 'y'; await r.save(); note(id, 'update', ['s']); break; }
        case 7: await Doc.pipeline(id, (p) => p.s.append('z')); note(id, 'update', ['s']); break;
        default: await Doc.pipeline(id, (p) => p.n.incr(1)); note(id, 'update', ['n']); break;
      }
    }
    // replay: rebuild which records exist and their versions from the events alone
    const rebuilt = new Map<string, number>();
    const got = new Map<string, Expected[]>();
    for await (const c of Doc.changes({ from: '0', follow: false })) {
      if (!got.has(c.id)) got.set(c.id, []);
      got.get(c.id)!.push([c.op, c.version, c.fields]);
      if (c.op === 'delete' || c.op === 'expire') rebuilt.delete(c.id);
      else rebuilt.set(c.id, c.version);
    }
    expect(got).to.deep.equal(expected);
    const stored = await Doc.find((d) => d.n.gte(0)).ids();
    expect([...rebuilt.keys()].sort()).to.deep.equal([...stored].sort());
    const versions = await Promise.all(stored.map((id) => raw.hGet(Doc.keys.record(id), '#v')));
    expect(stored.map((id) => String(rebuilt.get(id)))).to.deep.equal(versions);
    expect(stored.length).to.be.within(800, 1200);
  });

  it('a worker killed mid-batch loses nothing: its pending events are claimed by another', async function () {
    this.timeout(120_000);
    await Job.insertMany(Array.from({ length: 300 }, () => ({})));
    const all = new Set((await events(Job)).map((c) => `${c.shard} ${c.eventId}`));
    expect(all.size).to.equal(300);
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/change-worker.ts'], {
      env: { ...process.env, RAPYER_CONNECT: JSON.stringify(connectOptions), ACK: '120' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const signal = await new Promise((done) => child.once('exit', (_code, sig) => done(sig)));
    expect(signal).to.equal('SIGKILL');
    const acked = new Set(out.split('\n').filter(Boolean));
    expect(acked.size).to.equal(120);
    const pending = await pendingCount(Job, 'workers');
    expect(pending).to.be.above(0); // the dead worker's batch

    const stop = new AbortController();
    const second = new Set<string>();
    for await (const c of Job.changes({ group: 'workers', consumer: 'w2', claimAfterMs: 100, signal: stop.signal })) {
      second.add(`${c.shard} ${c.eventId}`);
      await c.ack();
      if (acked.size + second.size >= all.size) stop.abort();
    }
    expect([...second].filter((e) => acked.has(e))).to.deep.equal([]);
    expect(new Set([...acked, ...second])).to.deep.equal(all);
    expect(await pendingCount(Job, 'workers')).to.equal(0);
  });
});

/** Events pending in `group` over every shard's stream (XPENDING). */
async function pendingCount(model: typeof Job, group: string): Promise<number> {
  let n = 0;
  for (let shard = 0; shard < model.keys.shards; shard++) {
    const reply = await raw.xPending(model.keys.changes(shard), group);
    n += Number(reply.pending);
  }
  return n;
}

/** The client of the node serving `key`. */
async function nodeOf(key: string): Promise<typeof raw> {
  return onCluster ? (raw as unknown as { getNodeClientForKey(k: string): Promise<typeof raw> }).getNodeClientForKey(key) : raw;
}

/** Resolves once `count` clients (default: at least one) are blocked on the node that serves `key` (asks the server). */
async function blockedReader(key: string, count?: number): Promise<void> {
  const node = await nodeOf(key);
  for (;;) {
    const blocked = Number(/blocked_clients:(\d+)/.exec(await node.info('clients'))![1]);
    if (count === undefined ? blocked > 0 : blocked === count) return;
    await new Promise((done) => setImmediate(done));
  }
}
