import { expect } from 'chai';
import { Type } from 'typebox';
import { OperationError, ValidationError, abort, and, defineModel } from '../../src/index.js';
import { db, raw } from '../helpers/redis.js';

const Team = defineModel('NestTeam', {
  matrix: Type.Array(Type.Array(Type.Integer({ minimum: 0 }), { maxItems: 4 }), { default: [] }),
  cube: Type.Array(Type.Array(Type.Array(Type.Number())), { default: [] }),
  groups: Type.Record(Type.String(), Type.Array(Type.String({ maxLength: 8 })), { default: {} }),
  scores: Type.Record(Type.String(), Type.Record(Type.String(), Type.Integer({ maximum: 100 })), { default: {} }),
  people: Type.Record(Type.String(), Type.Object({ name: Type.String(), tags: Type.Array(Type.String()) }), { default: {} }),
  meta: Type.Record(Type.String(), Type.Record(Type.String(), Type.Any()), { default: {} }),
});

const start = () => Team.create({
  matrix: [[1, 2], [], [3]],
  cube: [[[0.5, -1], []], []],
  groups: { admins: ['ada', 'bob'], empty: [] },
  scores: { ada: { math: 9, art: 7 }, bob: {} },
  people: { p1: { name: 'Ada', tags: ['x'] } },
  meta: { a: { k: [] } },
});

describe('handles into nested collections', () => {
  it('inner array operations in a pipeline apply to the stored value', async () => {
    const t = await start();
    await t.pipeline((p) => {
      p.groups.get('admins').append('cy', 'dee');
      p.groups.get('admins').remove('bob');
      p.groups.get('empty').prepend('z');
      p.matrix.at(0).setAt(1, 5);
      p.matrix.at(-1).insert(0, 0);
      p.matrix.at(1).append(7);
      p.cube.at(0).at(1).append(1.25, 1e-7, 2 ** 60);
      p.people.get('p1').tags.append('y');
    });
    const back = await Team.get(t.id);
    expect(back.groups).to.deep.equal({ admins: ['ada', 'cy', 'dee'], empty: ['z'] });
    expect(back.matrix).to.deep.equal([[1, 5], [7], [0, 3]]);
    expect(back.cube).to.deep.equal([[[0.5, -1], [1.25, 1e-7, 2 ** 60]], []]);
    expect(back.people.p1).to.deep.equal({ name: 'Ada', tags: ['x', 'y'] });
    expect(await raw.hGet(t.key, 'cube[0]')).to.equal(JSON.stringify([[0.5, -1], [1.25, 1e-7, 2 ** 60]]));
  });

  it('inner record operations keep the stored key order the client writes', async () => {
    const t = await start();
    await t.pipeline((p) => {
      p.scores.get('ada').setItem('bio', 3);
      p.scores.get('ada').incr('math', 2);
      p.scores.get('bob').update({ z: 1, '10': 2, '9': 3, a: 4 });
      p.scores.get('ada').delete('art');
      p.meta.get('a').setItem('n', { deep: [1, {}] });
    });
    const back = await Team.get(t.id);
    expect(back.scores).to.deep.equal({ ada: { bio: 3, math: 11 }, bob: { z: 1, '10': 2, '9': 3, a: 4 } });
    const client = await Team.create({ scores: { bob: { z: 1, '10': 2, '9': 3, a: 4 } } });
    expect(await raw.hGet(t.key, 'scores.bob')).to.equal(await raw.hGet(client.key, 'scores.bob'));
    expect(back.meta).to.deep.equal({ a: { k: [], n: { deep: [1, {}] } } });
  });

  it('the immediate form returns results and updates the local record', async () => {
    const t = await start();
    expect(await t.$.groups.get('admins').append('cy')).to.deep.equal(['ada', 'bob', 'cy']);
    expect(t.groups.admins).to.deep.equal(['ada', 'bob', 'cy']);
    expect(await t.$.groups.get('admins').pop()).to.equal('cy');
    expect(await t.$.groups.get('admins').remove('nobody')).to.equal(false);
    expect(await t.$.matrix.at(0).removeAt(0)).to.equal(1);
    expect(await t.$.scores.get('ada').incr('math', 5)).to.equal(14);
    expect(await t.$.scores.get('ada').popItem()).to.deep.equal(['math', 14]);
    expect(await t.$.scores.get('ada').pop('none', 3)).to.equal(3);
    expect(t.scores.ada).to.deep.equal({ art: 7 });
    expect(await t.$.cube.at(0).at(0).removeRange(0, 1)).to.deep.equal([-1]);
  });

  it('conditions read inner values: length, isEmpty, contains, at, get', async () => {
    const t = await start();
    await t.pipeline((p) => {
      p.groups.get('admins').length().gt(1).ifTrue(() => p.groups.get('admins').append('big'));
      p.groups.get('empty').isEmpty().ifTrue(() => p.groups.get('empty').append('wasempty'));
      p.groups.get('admins').contains('ada').ifTrue(() => p.matrix.at(1).append(1));
      p.matrix.at(0).at(1).eq(2).ifTrue(() => p.matrix.at(0).setAt(1, 20));
      p.scores.get('ada').get('math').gte(9).ifTrue(() => p.scores.get('ada').incr('math'));
      p.groups.get('admins').at(0).eq('ada').ifTrue(() => p.groups.get('admins').setAt(0, 'ADA'));
      p.scores.get('ada').get('art').lt(8).ifTrue(() => p.scores.get('bob').setItem('two', 2));
      p.people.get('p1').name.eq('Ada').ifTrue(() => p.people.get('p1').tags.clear());
    });
    const back = await Team.get(t.id);
    expect(back.groups).to.deep.equal({ admins: ['ADA', 'bob', 'big'], empty: ['wasempty'] });
    expect(back.matrix).to.deep.equal([[1, 20], [1], [3]]);
    expect(back.scores).to.deep.equal({ ada: { math: 10, art: 7 }, bob: { two: 2 } });
    expect(back.people.p1.tags).to.deep.equal([]);
  });

  it('loops over inner collections: for..of, forEach, removeWhere, record entries', async () => {
    const t = await start();
    await t.pipeline((p) => {
      for (const name of p.groups.get('admins')) name.eq('bob').ifTrue(() => p.groups.get('empty').insert(0, name));
      p.matrix.at(0).removeWhere((x) => x.gt(1));
      p.scores.get('ada').forEach((v, k) => v.lt(8).ifTrue(() => p.scores.get('ada').delete(k)));
      p.groups.forEach((members, key) => members.eq([]).ifTrue(() => p.groups.delete(key)));
    });
    const back = await Team.get(t.id);
    expect(back.groups).to.deep.equal({ admins: ['ada', 'bob'], empty: ['bob'] });
    expect(back.matrix[0]).to.deep.equal([1]);
    expect(back.scores.ada).to.deep.equal({ math: 9 });
  });

  it('work in transactions, updateMany, query updates and query conditions', async () => {
    const [a, b] = [await start(), await start()];
    await db.transaction([a, b], (pa, pb) => {
      pa.groups.get('admins').pop(0);
      pb.groups.get('admins').contains('ada').ifTrue(() => pb.groups.get('admins').append('from-a'));
    });
    expect((await Team.get(a.id)).groups.admins).to.deep.equal(['bob']);
    expect((await Team.get(b.id)).groups.admins).to.deep.equal(['ada', 'bob', 'from-a']);
    expect(await Team.find((u) => u.groups.get('admins').contains('from-a')).count()).to.equal(1);
    expect(await Team.find((u) => u.scores.get('ada').get('math').eq(9)).count()).to.be.at.least(2);
    await Team.updateMany([a.id, b.id], (p) => p.matrix.at(0).append(0));
    await Team.find((u) => u.groups.get('admins').length().eq(1)).update((p) => p.groups.get('admins').append('solo'));
    expect((await Team.get(a.id)).groups.admins).to.deep.equal(['bob', 'solo']);
    expect((await Team.get(b.id)).matrix[0]).to.deep.equal([1, 2, 0]);
  });

  it('read an absent inner collection as nothing: no length, contains nothing, loops over nothing', async () => {
    const t = await Team.create({ groups: { solo: ['x'] } });
    const id = (await Team.find((u) => and(u.groups.get('solo').length().eq(1), u.groups.get('admins').length().gte(0).not())).ids());
    expect(id).to.deep.equal([t.id]);
    expect(await Team.find((u) => and(u.groups.get('solo').contains('x'), u.groups.get('nobody').contains('x').not())).ids()).to.deep.equal([t.id]);
    await t.pipeline((p) => {
      for (const x of p.groups.get('nobody')) p.groups.get('solo').insert(0, x);
      p.scores.get('nobody').forEach((_, k) => p.groups.setItem(k, ['loop']));
      p.groups.get('nobody').isEmpty().ifTrue(() => p.groups.get('solo').append('empty'));
    });
    expect((await Team.get(t.id)).groups).to.deep.equal({ solo: ['x'] });
  });

  it('checks inner schemas on the server and writes nothing when one fails', async () => {
    const t = await start();
    const before = (await Team.get(t.id)).toJSON();
    const fails = async (fn: () => Promise<unknown>): Promise<unknown> => fn().then(() => null, (e: unknown) => e);
    expect(await fails(() => t.pipeline((p) => { p.groups.get('empty').append('ok'); p.matrix.at(0).append(1, 2, 3); }))).to.be.instanceOf(ValidationError);
    expect(await fails(() => t.pipeline((p) => { p.groups.get('empty').append('ok'); p.scores.get('ada').incr('math', 100); }))).to.be.instanceOf(ValidationError);
    expect(await fails(() => t.$.groups.get('nobody').append('x'))).to.be.instanceOf(OperationError);
    expect(await fails(() => t.$.matrix.at(9).append(1))).to.be.instanceOf(OperationError);
    expect(await fails(() => t.pipeline((p) => { p.groups.get('empty').append('ok'); abort('no'); }))).to.be.instanceOf(Error);
    // a raw value the client never checked: the script itself refuses it
    const ex = t.explain((p) => p.groups.get('admins').append('x'));
    const argv = ex.argv.map((a) => (a === '"x"' ? '5' : a));
    expect(argv).to.include('5');
    const err = await raw.eval(ex.lua, { keys: [...ex.keys], arguments: argv.map(String) }).catch((e: Error) => e);
    expect(String(err)).to.match(/RAPYER_VALIDATION/);
    expect((await Team.get(t.id)).toJSON()).to.deep.equal(before);
  });
});
