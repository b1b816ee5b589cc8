/**
 * Nested objects: fields reached recursively, absent optional objects guarded.
 * Immediate (`u.$`) and pipelined, against a real Redis: the results, the local record and the
 * stored one (re-read with `Model.get`) must agree.
 */
import { expect } from 'chai';
import { Type } from 'typebox';
import { OperationError, defineModel } from '../../../src/index.js';
import { synced, failsCleanly, invalid } from './helpers.js';

const Person = defineModel('FoPerson', {
  name: Type.String(),
  address: Type.Optional(Type.Object({
    city: Type.String({ maxLength: 20 }),
    zip: Type.String(),
    geo: Type.Object({ lat: Type.Number(), visits: Type.Integer({ minimum: 0 }) }),
    tags: Type.Array(Type.String(), { default: [] }),
  })),
});

describe('field ops: nested objects', () => {
  it('reaches nested fields recursively, immediate and pipelined', async () => {
    const u = await Person.create({ name: 'Ann', address: { city: 'Lyon', zip: '69000', geo: { lat: 45.75, visits: 0 }, tags: [] } });
    expect(await u.$.address.city.set('Paris')).to.equal('Paris');
    expect(u.address!.city).to.equal('Paris');
    expect(await u.$.address.geo.visits.incr()).to.equal(1);
    await u.pipeline((p) => {
      p.address.city.append(' 15e');
      p.address.zip.set('75015');
      p.address.geo.lat.incr(0.25);
      p.address.geo.visits.incr(2);
      p.address.tags.append('home');
    });
    const expected = { name: 'Ann', address: { city: 'Paris 15e', zip: '75015', geo: { lat: 46, visits: 3 }, tags: ['home'] } };
    expect(u.toJSON()).to.deep.equal(expected);
    expect(await synced(Person, u)).to.deep.equal(expected);
    await invalid(u, () => u.$.address.geo.visits.decr(4), 'address.geo.visits', 'minimum');
    await invalid(u, () => u.pipeline((p) => { p.name.set('x'); p.address.city.repeat(3); }), 'address.city', 'maxLength');
  });

  it('refuses to write into an absent optional object, which would leave it partial', async () => {
    const u = await Person.create({ name: 'Bob' });
    await failsCleanly(u, () => u.$.address.city.set('Paris'), OperationError);
    await failsCleanly(u, () => u.$.address.geo.visits.incr(), OperationError);
    await failsCleanly(u, () => u.$.address.tags.append('home'), OperationError);
    await failsCleanly(u, () => u.pipeline((p) => { p.name.set('x'); p.address.zip.set('75015'); }), OperationError);
    expect(await synced(Person, u)).to.deep.equal({ name: 'Bob' });
  });
});
