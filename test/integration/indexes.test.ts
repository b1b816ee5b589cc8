import { expect } from 'chai';
import { Type } from 'typebox';
import { UniqueViolationError, defineModel } from '../../src/index.js';
import { prefix, raw } from '../helpers/redis.js';
import { traced } from '../helpers/traced.js';
import { until } from '../helpers/until.js';

const shape = {
  name: Type.String(),
  email: Type.String(),
  age: Type.Integer({ default: 0 }),
  city: Type.String({ default: 'Paris' }),
};

describe('indexes: unique, TTL, checks and builds', function () {
  this.timeout(30_000);
  const User = defineModel('IxUser', shape, { indexes: ['age', 'city'], unique: ['email'] });

  it('a unique conflict raises UniqueViolationError and writes nothing', async () => {
    const a = await User.create({ name: 'a', email: 'a@x' });
    const b = await User.create({ name: 'b', email: 'b@x' });
    const before = await raw.dbSize();
    const err = await User.create({ name: 'c', email: 'a@x' }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(UniqueViolationError);
    expect((err as UniqueViolationError).path).to.equal('email');
    expect(await raw.dbSize()).to.equal(before);
    const keyB = await raw.hGetAll(b.key);
    expect(await b.$.email.set('a@x').catch((e: unknown) => e)).to.be.instanceOf(UniqueViolationError);
    expect(await raw.hGetAll(b.key)).to.deep.equal(keyB);
    await a.$.email.set('new@x');
    await b.$.email.set('a@x');
    expect(await raw.hGetAll(`${prefix('IxUser')}#uniq:email`)).to.deep.equal({ 'new@x': a.id, 'a@x': b.id });
    await a.delete();
    expect(await raw.hGetAll(`${prefix('IxUser')}#uniq:email`)).to.deep.equal({ 'a@x': b.id });
  });

  it('expired records never appear in find or count, and their entries are swept', async () => {
    const Session = defineModel('IxSession', shape, { indexes: ['age', 'city'], unique: ['email'], ttl: 1 });
    const gone = await Session.create({ name: 's1', email: 's1@x', age: 5 });
    const keep = await Session.create({ name: 's2', email: 's2@x', age: 5 });
    await keep.expire(60);
    const short = await User.create({ name: 'u', email: 'u@x', age: 5 });
    await short.expire(1);
    expect(await Session.find((u) => u.age.eq(5)).count()).to.equal(2);
    await until('Redis expired both records', async () => (await raw.exists([gone.key, short.key])) === 0);
    expect(await Session.find((u) => u.age.eq(5)).count()).to.equal(1);
    expect((await Session.find((u) => u.city.eq('Paris')).toArray()).map((r) => r.id)).to.deep.equal([keep.id]);
    expect(await User.find((u) => u.age.eq(5)).count()).to.equal(0);
    // the queries saw them due and started sweeps; sweepExpired finishes whatever is left
    await Session.sweepExpired();
    await User.sweepExpired();
    expect(await raw.zCard(`${prefix('IxSession')}#idx:age`)).to.equal(1);
    expect(await raw.zCard(`${prefix('IxSession')}#idx:city`)).to.equal(1);
    expect(await raw.hGetAll(`${prefix('IxSession')}#uniq:email`)).to.deep.equal({ 's2@x': keep.id });
    expect(await raw.zCard(`${prefix('IxSession')}#ids`)).to.equal(1);
    expect(await raw.zCard(`${prefix('IxUser')}#idx:age`)).to.equal(0);
  });

  it('checkIndexes finds and repairs missing and stale entries', async () => {
    const users = await Promise.all(Array.from({ length: 30 }, (_, i) => User.create({ name: `n${i}`, email: `e${i}`, age: i % 5 })));
    expect(await User.checkIndexes()).to.deep.equal({ records: 30, missing: 0, stale: 0, repaired: false });
    await raw.zRem(`${prefix('IxUser')}#idx:age`, users[0].id);
    await raw.zAdd(`${prefix('IxUser')}#idx:city`, { score: 0, value: 'Nowhere\0ghost' });
    await raw.hSet(`${prefix('IxUser')}#uniq:email`, 'zzz', users[1].id);
    await raw.hSet(users[2].key, 'age', '42');
    const found = await User.checkIndexes();
    expect(found.missing).to.equal(2);
    expect(found.stale).to.equal(3);
    const fixed = await User.checkIndexes({ repair: true, chunkSize: 7 });
    expect(fixed.repaired).to.equal(true);
    expect(await User.checkIndexes()).to.deep.equal({ records: 30, missing: 0, stale: 0, repaired: false });
    expect((await User.find((u) => u.age.eq(42)).ids())).to.deep.equal([users[2].id]);
  });

  it('an index added to a model with records is built before queries use it', async () => {
    const Before = defineModel('IxLate', shape);
    const made = await Promise.all(Array.from({ length: 2500 }, (_, i) => Before.create({ name: `n${i}`, email: `e${i}`, age: i % 10 })));
    const After = defineModel('IxLate', shape, { indexes: ['age'], unique: ['email'] });
    expect(await raw.exists(`${prefix('IxLate')}#idx:age`)).to.equal(0);
    expect(await After.find((u) => u.age.eq(3)).count()).to.equal(250);
    expect(await raw.zCard(`${prefix('IxLate')}#idx:age`)).to.equal(2500);
    expect(await raw.hLen(`${prefix('IxLate')}#uniq:email`)).to.equal(2500);
    expect(After.find((u) => u.age.eq(3)).explain().scan).to.equal(false);
    expect(made.length).to.equal(2500);
  });

  it('a key space filled from empty records its indexes as built: the first query walks no record', async () => {
    const Bulk = defineModel('IxFresh', shape, { indexes: ['age'], unique: ['email'] });
    await Bulk.insertMany(Array.from({ length: 3000 }, (_, i) => ({ name: `n${i}`, email: `e${i}`, age: i % 10 })));
    const One = defineModel('IxFreshOne', shape, { indexes: ['age'] });
    for (let i = 0; i < 3; i++) await One.create({ name: `n${i}`, email: `e${i}`, age: i });
    const events = await traced(async () => {
      expect(await Bulk.find((u) => u.age.eq(3)).count()).to.equal(300);
      expect(await One.find((u) => u.age.eq(1)).count()).to.equal(1);
    });
    expect(events.filter(([at, e]) => at === 'asyncEnd' && e.kind === 'IndexFill')).to.deep.equal([]);
    expect(await raw.hGet(`${prefix('IxFresh')}#meta`, 'indexes')).to.be.a('string');
  });
});
