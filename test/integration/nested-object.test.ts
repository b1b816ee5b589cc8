import { expect } from 'chai';
import { Type } from 'typebox';
import { ValidationError, defineModel } from '../../src/index.js';
import { raw } from '../helpers/redis.js';

const Place = defineModel('NestPlace', {
  name: Type.String(),
  address: Type.Object({
    city: Type.String(),
    zip: Type.String({ maxLength: 5 }),
    lines: Type.Array(Type.String(), { default: [] }),
    geo: Type.Optional(Type.Object({ lat: Type.Number(), lon: Type.Number() })),
  }),
  billing: Type.Optional(Type.Object({ city: Type.String(), vat: Type.Optional(Type.String()) })),
  previous: Type.Union([Type.Object({ city: Type.String() }), Type.Null()], { default: null }),
}, { indexes: ['address.city', 'billing.city'] });

const cityIds = (city: string): Promise<string[]> => Place.find((u) => u.address.city.eq(city)).ids();

describe('whole nested objects', () => {
  it('u.$.address.set replaces the object in one operation; the index on address.city follows', async () => {
    const p = await Place.create({ name: 'a', address: { city: 'Lyon', zip: '69001', lines: ['1 rue A', 'bis'], geo: { lat: 1, lon: 2 } } });
    const after = await p.$.address.set({ city: 'Paris', zip: '75001', lines: ['2 rue B'] });
    expect(after).to.deep.equal({ city: 'Paris', zip: '75001', lines: ['2 rue B'] });
    expect(p.address).to.deep.equal({ city: 'Paris', zip: '75001', lines: ['2 rue B'] });
    expect((await Place.get(p.id)).toJSON().address).to.deep.equal({ city: 'Paris', zip: '75001', lines: ['2 rue B'] });
    expect(await cityIds('Lyon')).to.deep.equal([]);
    expect(await cityIds('Paris')).to.deep.equal([p.id]);
    const fields = Object.keys(await raw.hGetAll(p.key)).filter((f) => f.startsWith('address')).sort();
    expect(fields).to.deep.equal(['address', 'address.city', 'address.lines', 'address.lines[0]', 'address.zip']);
    expect(await Place.checkIndexes()).to.include({ missing: 0, stale: 0 });
  });

  it('in a pipeline, with operations before and after it', async () => {
    const p = await Place.create({ name: 'a', address: { city: 'Lyon', zip: '69001', lines: ['x', 'y', 'z'] } });
    await p.pipeline((q) => {
      q.address.lines.removeAt(1);
      q.address.set({ city: 'Nice', zip: '06000', lines: ['n'] });
      q.address.lines.append('m');
      q.address.city.append('!');
    });
    expect(p.address).to.deep.equal({ city: 'Nice!', zip: '06000', lines: ['n', 'm'] });
    expect((await Place.get(p.id)).address).to.deep.equal({ city: 'Nice!', zip: '06000', lines: ['n', 'm'] });
    expect(await cityIds('Nice!')).to.deep.equal([p.id]);
  });

  it('optional and nullable objects: set them, clear them, fill them again', async () => {
    const p = await Place.create({ name: 'a', address: { city: 'Lyon', zip: '69001', lines: [] } });
    await p.$.billing.set({ city: 'Pau', vat: 'FR1' });
    expect((await Place.get(p.id)).billing).to.deep.equal({ city: 'Pau', vat: 'FR1' });
    expect(await Place.find((u) => u.billing.city.eq('Pau')).ids()).to.deep.equal([p.id]);
    await p.$.billing.set(undefined);
    expect('billing' in (await Place.get(p.id))).to.equal(false);
    expect(await Place.find((u) => u.billing.city.eq('Pau')).count()).to.equal(0);
    await p.$.previous.set({ city: 'Old' });
    expect((await Place.get(p.id)).previous).to.deep.equal({ city: 'Old' });
    await p.$.previous.set(null);
    expect((await Place.get(p.id)).previous).to.equal(null);
    expect(p.previous).to.equal(null);
  });

  it('is validated before anything is written', async () => {
    const p = await Place.create({ name: 'a', address: { city: 'Lyon', zip: '69001', lines: [] } });
    expect(await p.$.address.set({ city: 'Paris', zip: 'too long' } as never).catch((e: unknown) => e)).to.be.instanceOf(ValidationError);
    expect(await p.$.address.set({ city: 'Paris' } as never).catch((e: unknown) => e)).to.be.instanceOf(ValidationError);
    expect(await p.$.address.set(null as never).catch((e: unknown) => e)).to.be.instanceOf(ValidationError);
    expect((await Place.get(p.id)).address).to.deep.equal({ city: 'Lyon', zip: '69001', lines: [] });
  });
});
