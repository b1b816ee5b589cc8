import { expect } from 'chai';
import { Type } from 'typebox';
import { NotFoundError, UsageError, connect, defineModel } from '../../src/index.js';
import { connectOptions, db, prefix, raw } from '../helpers/redis.js';

const Author = defineModel('XAuthor', { name: Type.String(), age: Type.Integer() }, { indexes: ['age'], unique: ['name'] });
const Book = defineModel('XBook', { title: Type.String(), year: Type.Integer() }, { indexes: ['year'], shards: 3 });
const Tag = defineModel('XTag', { code: Type.String(), n: Type.Integer({ default: 0 }) }, { key: 'code' });

describe('across models', () => {
  it('db.get and db.getMany load records of any model by key, in input order', async () => {
    const a = await Author.create({ name: 'Ada', age: 36 });
    const b = await Book.create({ title: 'Notes', year: 1843 });
    const t = await Tag.create({ code: 'x:y{z}' });
    const one = await db.get(b.key);
    expect(one.id).to.equal(b.id);
    expect(one.toJSON()).to.deep.equal({ title: 'Notes', year: 1843 });
    const many = await db.getMany([t.key, a.key, b.key, a.key]);
    expect(many.map((r) => r.key)).to.deep.equal([t.key, a.key, b.key, a.key]);
    expect(many.map((r) => r.toJSON())).to.deep.equal([{ code: 'x:y{z}', n: 0 }, { name: 'Ada', age: 36 }, { title: 'Notes', year: 1843 }, { name: 'Ada', age: 36 }]);
    // the records are the models' own: their operations work
    const tag = many[0] as unknown as Awaited<ReturnType<typeof Tag.get>>;
    await tag.$.n.incr(2);
    expect((await Tag.get('x:y{z}')).n).to.equal(2);
  });

  it('missing keys: NotFoundError, or skipped, or null', async () => {
    const a = await Author.create({ name: 'Ada', age: 36 });
    const gone = Book.keys.record('nope');
    expect(await db.get(gone).catch((e: unknown) => e)).to.be.instanceOf(NotFoundError);
    expect(await db.getMany([a.key, gone]).catch((e: unknown) => e)).to.be.instanceOf(NotFoundError);
    expect((await db.getMany([gone, a.key], { missing: 'skip' })).map((r) => r.id)).to.deep.equal([a.id]);
    expect((await db.getMany([gone, a.key], { missing: 'null' })).map((r) => r?.id ?? null)).to.deep.equal([null, a.id]);
  });

  it('a key of no declared model is a UsageError', async () => {
    expect(await db.get('Nobody:1').catch((e: unknown) => e)).to.be.instanceOf(UsageError);
    expect(await db.get(`${prefix('XAuthor')}`).catch((e: unknown) => e)).to.be.instanceOf(UsageError);
  });

  it('db.deleteMany deletes records of several models, by key or record, indexes and unique values included', async () => {
    const authors = await Author.insertMany(Array.from({ length: 30 }, (_, i) => ({ name: `a${i}`, age: i })));
    const books = await Book.insertMany(Array.from({ length: 40 }, (_, i) => ({ title: `b${i}`, year: 1900 + i })));
    const n = await db.deleteMany([...authors.slice(0, 10), ...books.slice(0, 25).map((b) => b.key), Book.keys.record('nope')]);
    expect(n).to.equal(35);
    expect(await Author.find().count()).to.equal(20);
    expect(await Book.find().count()).to.equal(15);
    expect(await Author.find((u) => u.age.lt(10)).count()).to.equal(0);
    expect(Number(await raw.hExists(`${prefix('XAuthor')}#uniq:name`, 'a3'))).to.equal(0);
    expect(await Author.checkIndexes()).to.include({ missing: 0, stale: 0 });
    expect(await Book.checkIndexes()).to.include({ missing: 0, stale: 0 });
  });

  it('records passed to insertMany keep their ids', async () => {
    const made = await Author.insertMany([{ name: 'Ada', age: 36 }, { name: 'Bob', age: 40 }]);
    const copies = await Author.getMany(made.map((r) => r.id));
    await db.deleteMany(made);
    const again = await Author.insertMany(copies);
    expect(again.map((r) => r.id)).to.deep.equal(made.map((r) => r.id));
    expect((await Author.get(made[1].id)).name).to.equal('Bob');
  });

  it('on another connection, the models declared there', async () => {
    const db2 = await connect(connectOptions);
    try {
      const a = await Author.create({ name: 'Ada', age: 36 });
      expect(await db2.get(a.key).catch((e: unknown) => e)).to.be.instanceOf(UsageError);
      Author.withDb(db2);
      expect((await db2.get(a.key)).id).to.equal(a.id);
    } finally {
      await db2.close();
    }
  });
});
