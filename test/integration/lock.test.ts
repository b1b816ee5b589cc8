import { expect } from 'chai';
import { setTimeout as sleep } from 'node:timers/promises';
import { Type } from 'typebox';
import { LockTimeoutError, NotFoundError, UsageError, connect, defineModel, type Connection } from '../../src/index.js';
import { compile } from '../../src/compile/compiler.js';
import { acquireProgram, releaseProgram } from '../../src/model/lock.js';
import { connectOptions, prefix, raw } from '../helpers/redis.js';
import { until } from '../helpers/until.js';

const Counter = defineModel('Counter', { n: Type.Integer({ default: 0 }), note: Type.String({ default: '' }) });

/** A promise and the function that resolves it. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => { open = resolve; });
  return { opened, open };
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

describe('locks', () => {
  const conns: Connection[] = [];
  afterEach(async () => {
    await Promise.all(conns.splice(0).map((c) => c.close()));
  });

  it('compiles acquire and release to scripts that take the lock key in KEYS and values in ARGV', () => {
    const a = compile(acquireProgram('Counter#lock:1', 'token-a', 100));
    const b = compile(acquireProgram('Counter#lock:2', 'token-b', 9_000));
    expect(a.sha1).to.equal(b.sha1);
    expect(a.keys).to.deep.equal(['Counter#lock:1']);
    expect(a.argv).to.deep.equal(['token-a', '100']);
    expect(a.lua).to.contain('R[1] = lock_acquire(KEYS[1], P[1], P[2])');
    expect(a.lua).to.contain("redis.call('SET', key, token, 'NX', 'PX', lease_ms)");
    expect(a.lua).not.to.contain('Counter');
    const r = compile(releaseProgram('Counter#lock:1', 'token-a'));
    expect(r.keys).to.deep.equal(['Counter#lock:1']);
    expect(r.argv).to.deep.equal(['token-a']);
    expect(r.lua).to.contain('R[1] = lock_release(KEYS[1], P[1])');
  });

  it('returns the callback value, holds the lease key while inside, and releases it after', async () => {
    const u = await Counter.create({});
    const key = `${prefix('Counter')}#lock:${u.id}`;
    const result = await u.lock(async (locked) => {
      expect(locked.id).to.equal(u.id);
      expect(await raw.exists(key)).to.equal(1);
      const pttl = await raw.pTTL(key);
      expect(pttl).to.be.greaterThan(0).and.at.most(10_000);
      return 'done';
    });
    expect(result).to.equal('done');
    expect(await raw.exists(key)).to.equal(0);
  });

  it('releases the lock when the callback throws', async () => {
    const u = await Counter.create({});
    const err = await rejection(u.lock(() => { throw new Error('boom'); }));
    expect((err as Error).message).to.equal('boom');
    expect(await raw.exists(`${prefix('Counter')}#lock:${u.id}`)).to.equal(0);
    expect(await u.lock(() => 1, { waitMs: 0 })).to.equal(1);
  });

  it('Model.lock on an absent record raises NotFoundError and leaves no lock behind', async () => {
    const err = await rejection(Counter.lock('nope', () => 1));
    expect(err).to.be.instanceOf(NotFoundError);
    expect(await raw.exists(`${prefix('Counter')}#lock:nope`)).to.equal(0);
  });

  it('gives mutual exclusion to concurrent read-modify-write over separate connections', async () => {
    const { id } = await Counter.create({});
    let inside = 0;
    let most = 0;
    const task = async (): Promise<void> => {
      const db = await connect(connectOptions);
      conns.push(db);
      const M = Counter.withDb(db);
      const u = await M.get(id);
      for (let round = 0; round < 3; round++) {
        await u.lock(async (locked) => {
          inside++;
          most = Math.max(most, inside);
          const n = locked.n;
          await sleep(2);
          locked.n = n + 1;
          await locked.save();
          inside--;
        });
      }
    };
    await Promise.all(Array.from({ length: 10 }, task));
    expect(most).to.equal(1);
    expect((await Counter.get(id)).n).to.equal(30);
    expect(await raw.exists(`${prefix('Counter')}#lock:${id}`)).to.equal(0);
  });

  it('raises LockTimeoutError when the lock stays held past waitMs', async () => {
    const u = await Counter.create({});
    const held = gate();
    const release = gate();
    const holder = u.lock(async () => {
      held.open();
      await release.opened;
    });
    await held.opened;
    const db = await connect(connectOptions);
    conns.push(db);
    const err = await rejection(Counter.withDb(db).lock(u.id, () => 'never', { waitMs: 50 }));
    expect(err).to.be.instanceOf(LockTimeoutError);
    expect(await raw.exists(`${prefix('Counter')}#lock:${u.id}`)).to.equal(1);
    release.open();
    await holder;
    expect(await Counter.lock(u.id, () => 'after', { waitMs: 0 })).to.equal('after');
  });

  it('lets another holder in once the lease of a dead holder expires', async () => {
    const u = await Counter.create({});
    const key = `${prefix('Counter')}#lock:${u.id}`;
    // What a holder that died leaves behind: its token, with a lease still running.
    await raw.set(key, 'dead-holder', { PX: 150 });
    expect(await rejection(u.lock(() => 1, { waitMs: 0 }))).to.be.instanceOf(LockTimeoutError);
    const got = await u.lock(async () => (await raw.get(key)) !== 'dead-holder', { waitMs: 2_000 });
    expect(got).to.equal(true);
    expect(await raw.exists(key)).to.equal(0);
  });

  it("does not let a holder whose lease expired release the next holder's lock", async () => {
    const u = await Counter.create({});
    const key = `${prefix('Counter')}#lock:${u.id}`;
    const firstIn = gate();
    const firstDone = gate();
    const first = u.lock(async () => {
      const token = await raw.get(key);
      firstIn.open();
      // outlives its 100 ms lease: holds on until the server shows the lock taken by another
      await until('another holder took the lock', async () => ![token, null].includes(await raw.get(key)));
    }, { leaseMs: 100 }).finally(firstDone.open);
    await firstIn.opened;
    const db = await connect(connectOptions);
    conns.push(db);
    const second = Counter.withDb(db).lock(u.id, async () => {
      const mine = await raw.get(key);
      await firstDone.opened; // the stale holder has now run its release
      expect(await raw.get(key)).to.equal(mine);
      const err = await rejection(Counter.lock(u.id, () => 'third', { waitMs: 0 }));
      expect(err).to.be.instanceOf(LockTimeoutError);
      return 'second';
    }, { leaseMs: 5_000, waitMs: 2_000 });
    await first;
    expect(await second).to.equal('second');
    expect(await raw.exists(key)).to.equal(0);
  });

  it('hands the callback the record as stored now, not the caller\'s stale copy', async () => {
    const u = await Counter.create({ n: 1, note: 'old' });
    const db = await connect(connectOptions);
    conns.push(db);
    const other = await Counter.withDb(db).get(u.id);
    await other.$.n.incr(41);
    other.note = 'new';
    await other.save();
    expect(u.n).to.equal(1);
    const seen = await u.lock((locked) => ({ n: locked.n, note: locked.note }));
    expect(seen).to.deep.equal({ n: 42, note: 'new' });
  });

  it('rejects bad options before touching Redis', async () => {
    const u = await Counter.create({});
    expect(await rejection(u.lock(() => 1, { leaseMs: 0 }))).to.be.instanceOf(UsageError);
    expect(await rejection(u.lock(() => 1, { waitMs: -1 }))).to.be.instanceOf(UsageError);
    expect(await raw.exists(`${prefix('Counter')}#lock:${u.id}`)).to.equal(0);
  });
});
