import { expect } from 'chai';
import { Type } from 'typebox';
import { ValidationError, defineModel } from '../../src/index.js';
import { raw } from '../helpers/redis.js';

const Board = defineModel('NestBoard', {
  matrix: Type.Array(Type.Array(Type.Integer({ minimum: 0 })), { default: [] }),
  cube: Type.Array(Type.Array(Type.Array(Type.Number())), { default: [] }),
  groups: Type.Record(Type.String(), Type.Array(Type.String()), { default: {} }),
  scores: Type.Record(Type.String(), Type.Record(Type.String(), Type.Integer()), { default: {} }),
  rows: Type.Array(Type.Record(Type.String(), Type.Boolean()), { default: [] }),
  people: Type.Record(Type.String(), Type.Object({ name: Type.String(), tags: Type.Array(Type.String()) }), { default: {} }),
});

const value = {
  matrix: [[1, 2], [], [3]],
  cube: [[[0.5, -1], []], []],
  groups: { admins: ['ada', 'bob'], empty: [] },
  scores: { ada: { math: 9, art: 7 }, bob: {} },
  rows: [{ a: true }, {} as Record<string, boolean>],
  people: { p1: { name: 'Ada', tags: ['x'] } },
};

describe('nested collections (arrays and records of arrays and records, to any depth)', () => {
  it('round-trip through create, get, save and set', async () => {
    const b = await Board.create(value);
    expect((await Board.get(b.id)).toJSON()).to.deep.equal(value);
    b.matrix = [[9]];
    await b.save();
    expect((await Board.get(b.id)).matrix).to.deep.equal([[9]]);
    await b.$.groups.set({ ops: ['z'] });
    await b.$.cube.set([[[1], [2, 3]]]);
    expect((await Board.get(b.id)).toJSON()).to.deep.include({ groups: { ops: ['z'] }, cube: [[[1], [2, 3]]] });
  });

  it('take the collection operations with whole inner values: append, insert, setAt, remove by value, pop, setItem, update', async () => {
    const b = await Board.create(value);
    await b.pipeline((p) => {
      p.matrix.append([4, 5]);
      p.matrix.insert(0, [0]);
      p.matrix.setAt(2, [7, 7]);
      p.matrix.remove([3]);
      p.groups.setItem('devs', ['cy']);
      p.groups.delete('empty');
      p.scores.update({ cy: { math: 1 } });
      p.rows.remove({});
    });
    const back = await Board.get(b.id);
    expect(back.matrix).to.deep.equal([[0], [1, 2], [7, 7], [4, 5]]);
    expect(back.groups).to.deep.equal({ admins: ['ada', 'bob'], devs: ['cy'] });
    expect(back.scores).to.deep.equal({ ada: { math: 9, art: 7 }, bob: {}, cy: { math: 1 } });
    expect(back.rows).to.deep.equal([{ a: true }]);
    expect(await b.$.matrix.pop()).to.deep.equal([4, 5]);
    expect(b.matrix).to.deep.equal([[0], [1, 2], [7, 7]]);
  });

  it('conditions compare inner values: contains, at(i).eq, get(k).eq, and loops over the outer collection', async () => {
    const b = await Board.create(value);
    const ids = async (cond: Parameters<typeof Board.find>[0]): Promise<number> => Board.find(cond).count();
    expect(await ids((u) => u.matrix.contains([1, 2]))).to.equal(1);
    expect(await ids((u) => u.matrix.contains([2, 1]))).to.equal(0);
    expect(await ids((u) => u.matrix.at(2).eq([3]))).to.equal(1);
    expect(await ids((u) => u.scores.get('ada').eq({ art: 7, math: 9 }))).to.equal(1);
    await b.pipeline((p) => {
      for (const row of p.matrix) row.eq([]).ifTrue(() => p.matrix.remove(row));
      p.groups.forEach((members, key) => members.eq(['ada', 'bob']).ifTrue(() => p.groups.setItem('copy', ['ada', 'bob'])));
    });
    const back = await Board.get(b.id);
    expect(back.matrix).to.deep.equal([[1, 2], [3]]);
    expect(back.groups.copy).to.deep.equal(['ada', 'bob']);
  });

  it('inner schemas are checked before anything is written', async () => {
    const b = await Board.create(value);
    expect(await b.$.matrix.append([-1] as never).catch((e: unknown) => e)).to.be.instanceOf(ValidationError);
    expect(await b.$.matrix.append([1.5] as never).catch((e: unknown) => e)).to.be.instanceOf(ValidationError);
    expect(await b.$.groups.setItem('x', [3] as never).catch((e: unknown) => e)).to.be.instanceOf(ValidationError);
    expect(await b.$.scores.setItem('x', { a: 'no' } as never).catch((e: unknown) => e)).to.be.instanceOf(ValidationError);
    expect(await Board.create({ matrix: [[1], ['a']] } as never).catch((e: unknown) => e)).to.be.instanceOf(ValidationError);
    expect((await Board.get(b.id)).toJSON()).to.deep.equal(value);
  });

  it('stores inner collections as JSON text in the element (records with sorted keys)', async () => {
    const b = await Board.create({ scores: { z: { b: 1, a: 2 } }, matrix: [[1, 2]] });
    expect(await raw.hGet(b.key, 'scores.z')).to.equal('{"a":2,"b":1}');
    expect(await raw.hGet(b.key, 'matrix[0]')).to.equal('[1,2]');
  });
});
