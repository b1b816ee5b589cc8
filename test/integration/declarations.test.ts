import { expect } from 'chai';
import { Type } from 'typebox';
import { SchemaError, connect, defineModel } from '../../src/index.js';
import { connectOptions, prefix, raw } from '../helpers/redis.js';

describe('field names users choose', () => {
  it('a field named id is allowed when it is the key, and u.id is its value', async () => {
    const Sku = defineModel('DeclSku', { id: Type.String(), qty: Type.Integer({ default: 0 }) }, { key: 'id', indexes: ['qty'] });
    const s = await Sku.create({ id: 'A-1', qty: 2 });
    expect(s.id).to.equal('A-1');
    expect(s.key).to.equal(`${prefix('DeclSku')}:A-1`);
    expect(s.toJSON()).to.deep.equal({ id: 'A-1', qty: 2 });
    await s.$.qty.incr(3);
    const back = await Sku.get('A-1');
    expect(back.id).to.equal('A-1');
    expect(back.toJSON()).to.deep.equal({ id: 'A-1', qty: 5 });
    expect(await raw.hGet(`${prefix('DeclSku')}:A-1`, 'id')).to.equal('A-1');
    expect((await Sku.find((u) => u.id.eq('A-1')).toArray()).map((r) => r.qty)).to.deep.equal([5]);
    await back.reload();
    expect(back.id).to.equal('A-1');
  });

  it('a field named id that is not the key is still refused', () => {
    expect(() => defineModel('DeclNoKey', { id: Type.String() })).to.throw(SchemaError, /collides/);
    expect(() => defineModel('DeclOtherKey', { id: Type.String(), name: Type.String() }, { key: 'name' })).to.throw(SchemaError);
  });

  it('a second model under a name in use with other fields is a SchemaError', () => {
    defineModel('DeclTwice', { a: Type.String() });
    expect(() => defineModel('DeclTwice', { b: Type.Integer() })).to.throw(SchemaError, /DeclTwice/);
    expect(() => defineModel('DeclTwice', { a: Type.Integer() })).to.throw(SchemaError);
    expect(() => defineModel('DeclTwice', { a: Type.Optional(Type.String()) })).to.throw(SchemaError);
    // the same fields again (new indexes, a TTL): a redeclaration, allowed
    expect(() => defineModel('DeclTwice', { a: Type.String({ maxLength: 9 }) }, { indexes: ['a'], ttl: 5 })).to.not.throw();
  });

  it('withDb declares the same model on another connection', async () => {
    const db2 = await connect(connectOptions);
    try {
      const First = defineModel('DeclShared', { a: Type.String() });
      expect(() => First.withDb(db2)).to.not.throw();
      const made = await First.create({ a: 'x' });
      expect((await First.withDb(db2).get(made.id)).a).to.equal('x');
    } finally {
      await db2.close();
    }
  });
});

describe('every record: find() with no condition', () => {
  const Item = defineModel('DeclItem', {
    name: Type.String(),
    n: Type.Integer(),
    tag: Type.Optional(Type.String()),
  }, { indexes: ['n'] });

  const seed = async (count: number): Promise<void> => {
    await Item.insertMany(Array.from({ length: count }, (_, i) => ({ name: `item${String(i).padStart(3, '0')}`, n: (i * 7) % 13 })));
  };

  it('matches every record, with sort, paging and count', async () => {
    await seed(40);
    expect(await Item.find().count()).to.equal(40);
    const all = await Item.find().sort('name', 'desc').toArray();
    expect(all.map((r) => r.name)).to.deep.equal(Array.from({ length: 40 }, (_, i) => `item${String(39 - i).padStart(3, '0')}`));
    const page = await Item.find().sort('n').offset(5).limit(10).toArray();
    const expected = [...all].sort((a, b) => a.n - b.n || (a.id < b.id ? -1 : 1)).slice(5, 15);
    expect(page.map((r) => r.id)).to.deep.equal(expected.map((r) => r.id));
    expect((await Item.find().ids()).length).to.equal(40);
    expect(await Item.findOne()).to.not.equal(null);
    expect(Item.find().explain().scan).to.equal(true);
  });

  it('streams, updates and deletes every record', async () => {
    await seed(1200);
    let seen = 0;
    for await (const r of Item.find()) {
      expect(r.name).to.match(/^item/);
      seen++;
    }
    expect(seen).to.equal(1200);
    expect(await Item.find().update((p) => p.n.incr(100))).to.equal(1200);
    expect(await Item.find((u) => u.n.lt(100)).count()).to.equal(0);
    expect(await Item.find().delete()).to.equal(1200);
    expect(await Item.find().count()).to.equal(0);
    expect(await raw.exists(`${prefix('DeclItem')}#idx:n`)).to.equal(0);
  });

  it('on an empty model, matches nothing', async () => {
    expect(await Item.find().toArray()).to.deep.equal([]);
    expect(await Item.find().count()).to.equal(0);
  });
});
