import { expect } from 'chai';
import { RESP_TYPES } from 'redis';
import { Type } from 'typebox';
import { AbortError, UsageError, abort, and, connect, defineModel, not, or } from '../../src/index.js';
import { connectOptions, db, raw } from '../helpers/redis.js';

const Account = defineModel('Account', {
  owner: Type.String(),
  balance: Type.Integer({ minimum: 0, default: 0 }),
  limit: Type.Integer({ default: 0 }),
  price: Type.Number({ default: 0 }),
  qty: Type.Integer({ default: 0 }),
  total: Type.Number({ default: 0 }),
  level: Type.String({ default: 'basic' }),
  tags: Type.Array(Type.String(), { default: [] }),
  nums: Type.Array(Type.Integer(), { default: [] }),
  prefs: Type.Record(Type.String(), Type.Integer(), { default: {} }),
});

const Checklist = defineModel('Checklist', {
  flags: Type.Array(Type.Boolean(), { default: [] }),
  items: Type.Array(Type.Object({ name: Type.String(), done: Type.Boolean() }), { default: [] }),
  yes: Type.Integer({ default: 0 }),
  doneCount: Type.Integer({ default: 0 }),
  openCount: Type.Integer({ default: 0 }),
});

const dump = async (key: string): Promise<Buffer | null> =>
  raw.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer }).dump(key) as Promise<Buffer | null>;

describe('conditions, loops and transactions', () => {
  it('nested branches decide on the server', async () => {
    const a = await Account.create({ owner: 'a', balance: 50, limit: 10 });
    await a.pipeline((p) => {
      p.balance.gte(p.limit).ifTrue(() => {
        p.balance.gt(100).ifTrue(() => p.level.set('gold')).else(() => {
          and(p.balance.gt(40), not(p.limit.eq(0))).ifTrue(() => p.level.set('silver'));
        });
      }).else(() => p.level.set('none'));
      or(p.level.eq('gold'), p.level.startsWith('sil')).ifTrue([() => p.tags.append('ranked'), () => p.qty.incr(1)]);
    });
    expect((await Account.get(a.id)).toJSON()).to.deep.include({ level: 'silver', tags: ['ranked'], qty: 1 });
  });

  it('decides on a value another client changed after this record was loaded', async () => {
    const a = await Account.create({ owner: 'a', balance: 10 });
    await Account.pipeline(a.id, (p) => p.balance.set(500));
    expect(a.balance).to.equal(10);
    await a.pipeline((p) => p.balance.gt(100).ifTrue(() => p.level.set('rich')).else(() => p.level.set('poor')));
    expect(a.level).to.equal('rich');
    expect(a.balance).to.equal(500);
  });

  it('abort writes nothing (DUMP before and after) and throws AbortError', async () => {
    const a = await Account.create({ owner: 'a', balance: 10, tags: ['x'] });
    const before = await dump(a.key);
    const err = await a.pipeline((p) => {
      p.balance.incr(5);
      p.tags.append('y');
      p.prefs.setItem('k', 1);
      p.balance.lt(100).ifTrue(() => abort('too poor'));
    }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(AbortError);
    expect((err as Error).message).to.equal('too poor');
    expect(await dump(a.key)).to.deep.equal(before);
  });

  it('pipeline-only constructs outside a pipeline raise UsageError', async () => {
    const u = await Account.create({ owner: 'x', balance: 1 });
    expect(() => abort('no')).to.throw(UsageError);
    expect(() => u.$.balance.gt(0).ifTrue(() => undefined)).to.throw(UsageError);
  });

  it('a loop that removes every other element', async () => {
    const a = await Account.create({ owner: 'a', nums: Array.from({ length: 20 }, (_, i) => i) });
    await a.pipeline((p) => {
      for (const n of p.nums) n.modulo(2).eq(1).ifTrue(() => p.nums.remove(n));
    });
    expect((await Account.get(a.id)).nums).to.deep.equal([0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
    expect(a.nums).to.deep.equal([0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
    await a.pipeline((p) => p.nums.removeWhere((n) => n.gte(10)));
    expect((await Account.get(a.id)).nums).to.deep.equal([0, 2, 4, 6, 8]);
  });

  it('loops over a Record field', async () => {
    const a = await Account.create({ owner: 'a', prefs: { a: 1, b: 5, 'c.d e': 10 } });
    await a.pipeline((p) => {
      p.prefs.forEach((value, key) => {
        value.gte(5).ifTrue(() => p.tags.append('big')).else(() => p.qty.incr(1));
        key.eq('b').ifTrue(() => p.total.set(p.total.plus(value)));
      });
    });
    expect((await Account.get(a.id)).toJSON()).to.deep.include({ tags: ['big', 'big'], qty: 1, total: 5 });
  });

  it('boolean loop items are conditions and compare for equality (boolean arrays, boolean fields of object items)', async () => {
    const c = await Checklist.create({ flags: [true, false, true], items: [{ name: 'a', done: true }, { name: 'b', done: false }] });
    await c.pipeline((p) => {
      p.flags.forEach((f) => f.ifTrue(() => p.yes.incr(1)));
      p.items.forEach((item) => item.done.ifTrue(() => p.doneCount.incr(1)));
      for (const item of p.items) item.done.ne(true).ifTrue(() => p.openCount.incr(1));
      p.flags.removeWhere((f) => f.eq(false));
    });
    expect((await Checklist.get(c.id)).toJSON()).to.deep.include({ yes: 2, doneCount: 1, openCount: 1, flags: [true, true] });
  });

  it('computed values: total = price x qty, a counter clamped by another field', async () => {
    const a = await Account.create({ owner: 'a', price: 2.5, qty: 4, balance: 70, limit: 50 });
    await a.pipeline((p) => {
      p.total.set(p.price.times(p.qty));
      p.balance.set(p.balance.plus(10).atMost(p.limit));
      p.owner.set(p.owner.concat('-vip'));
    });
    expect((await Account.get(a.id)).toJSON()).to.deep.include({ total: 10, balance: 50, owner: 'a-vip' });
    const err = await a.pipeline((p) => p.balance.set(p.limit.minus(1000))).catch((e: unknown) => e);
    expect((err as { rule?: string }).rule).to.equal('minimum');
  });

  it('db.transaction: a conditional transfer across two records', async () => {
    const alice = await Account.create({ owner: 'alice', balance: 80 });
    const bob = await Account.create({ owner: 'bob', balance: 0 });
    const transfer = (amount: number) => db.transaction([alice, bob], (a, b) => {
      a.balance.gte(amount).ifTrue(() => { a.balance.decr(amount); b.balance.incr(amount); }).else(() => abort('insufficient funds'));
    });
    await transfer(50);
    expect([alice.balance, bob.balance]).to.deep.equal([30, 50]);
    expect(await transfer(50).catch((e: unknown) => e)).to.be.instanceOf(AbortError);
    expect([(await Account.get(alice.id)).balance, (await Account.get(bob.id)).balance]).to.deep.equal([30, 50]);
  });

  it('10 workers x 100 transfers between 10 accounts: total conserved, never negative', async function () {
    this.timeout(60_000);
    const accounts = await Promise.all(Array.from({ length: 10 }, (_, i) => Account.create({ owner: `o${i}`, balance: 100 })));
    let seed = 7;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    const workers = await Promise.all(Array.from({ length: 10 }, () => connect(connectOptions)));
    let aborted = 0;
    await Promise.all(workers.map(async (w) => {
      const M = Account.withDb(w);
      for (let i = 0; i < 100; i++) {
        const from = rand(10);
        const to = (from + 1 + rand(9)) % 10;
        const amount = 1 + rand(60);
        const [a, b] = await Promise.all([M.get(accounts[from].id), M.get(accounts[to].id)]);
        await w.transaction([a, b], (pa, pb) => {
          pa.balance.gte(amount).ifTrue(() => { pa.balance.decr(amount); pb.balance.incr(amount); }).else(() => abort('insufficient'));
        }).catch((e: unknown) => {
          if (!(e instanceof AbortError)) throw e;
          aborted++;
        });
      }
    }));
    await Promise.all(workers.map((w) => w.close()));
    const balances = await Promise.all(accounts.map(async (a) => (await Account.get(a.id)).balance));
    expect(balances.reduce((x, y) => x + y, 0)).to.equal(1000);
    expect(balances.every((b) => b >= 0)).to.equal(true);
    expect(aborted).to.be.greaterThan(0);
  });
});
