import { expect } from 'chai';
import { Type } from 'typebox';
import { ValidationError, defineModel, t } from '../../../src/index.js';
import { raw } from '../../helpers/redis.js';

const catchErr = (p: Promise<unknown>): Promise<unknown> => p.then(() => undefined, (e: unknown) => e);

describe('hardening: values that must survive or be refused', () => {
  const Doc = defineModel('HardDoc', {
    name: Type.String({ default: '' }),
    n: Type.Number({ default: 0 }),
    when: t.DateTime({ default: () => new Date(0) }),
    tags: Type.Array(Type.String(), { default: [] }),
    notes: Type.Record(Type.String(), Type.String(), { default: {} }),
    items: Type.Array(Type.Object({ meta: Type.Record(Type.String(), Type.Integer()) }), { default: [] }),
  });
  const Named = defineModel('HardNamed', { name: Type.String(), v: Type.Integer({ default: 0 }) }, { key: 'name' });

  it('lone UTF-16 surrogates are refused with ValidationError wherever text goes', async () => {
    for (const call of [
      () => Doc.create({ name: 'a\uD800' }),
      () => Doc.create({ notes: { ['k\uDC00']: 'v' } }),
      () => Doc.create({ tags: ['\uDFFFx'] }),
      () => Named.create({ name: '\uD800' }),
      () => Named.get('\uD800'),
      () => Named.getOrNull('x\uDC00'),
    ]) {
      expect(await catchErr(call())).to.be.instanceOf(ValidationError);
    }
    // nothing was written: no record, and no id mapped to the replacement character
    expect(await Doc.find((u) => u.n.gte(-1)).count()).to.equal(0);
    expect(await Named.exists('\uFFFD')).to.equal(false);
    const d = await Doc.create({ name: 'ok 😀' });
    const stored = await raw.hGetAll(d.key);
    expect(await catchErr(d.$.name.append('\uD83D'))).to.be.instanceOf(ValidationError);
    expect(await catchErr(d.$.notes.setItem('\uDE00', 'v'))).to.be.instanceOf(ValidationError);
    expect(await raw.hGetAll(d.key)).to.deep.equal(stored);
    expect((await Doc.get(d.id)).name).to.equal('ok 😀');
  });

  it('__proto__ and constructor dict keys round-trip as own keys, prototypes untouched', async () => {
    const notes = JSON.parse('{"__proto__":"p","constructor":"c","toString":"s"}') as Record<string, string>;
    const meta = JSON.parse('{"__proto__":1,"constructor":2}') as Record<string, number>;
    const d = await Doc.create({ notes, items: [{ meta }] });
    for (const rec of [d, await Doc.get(d.id)]) {
      expect(Object.getPrototypeOf(rec.notes)).to.equal(Object.prototype);
      expect(Object.keys(rec.notes).sort()).to.deep.equal(['__proto__', 'constructor', 'toString']);
      expect(Object.getOwnPropertyDescriptor(rec.notes, '__proto__')?.value).to.equal('p');
      expect(Object.getPrototypeOf(rec.items[0].meta)).to.equal(Object.prototype);
      expect(Object.getOwnPropertyDescriptor(rec.items[0].meta, '__proto__')?.value).to.equal(1);
    }
    await d.$.notes.setItem('__proto__', 'q');
    expect(Object.getPrototypeOf(d.notes)).to.equal(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(d.notes, '__proto__')?.value).to.equal('q');
    const again = await Doc.get(d.id);
    expect(Object.getOwnPropertyDescriptor(again.notes, '__proto__')?.value).to.equal('q');
    expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
  });

  it('sparse arrays are refused with ValidationError', async () => {
    // eslint-disable-next-line no-sparse-arrays
    const holes = ['a', , 'c'] as string[];
    const err = await catchErr(Doc.create({ tags: holes }));
    expect(err).to.be.instanceOf(ValidationError);
    expect((err as ValidationError).path).to.equal('tags.1');
    const d = await Doc.create({});
    expect(await catchErr(d.$.tags.set(new Array<string>(3)))).to.be.instanceOf(ValidationError);
  });

  it('DateTime results past the JS Date range are refused with ValidationError, nothing written', async () => {
    const d = await Doc.create({ when: new Date(8.64e15 - 10) });
    expect(await catchErr(d.$.when.add(1000))).to.be.instanceOf(ValidationError);
    expect(await catchErr(d.pipeline((p) => p.when.sub(2e16)))).to.be.instanceOf(ValidationError);
    expect((await Doc.get(d.id)).when.getTime()).to.equal(8.64e15 - 10);
  });

  it('a DateTime key builds a canonical id (ISO 8601 UTC with milliseconds)', async () => {
    const Event = defineModel('HardEvent', { at: t.DateTime(), what: Type.String({ default: '' }) }, { key: 'at' });
    const at = new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678));
    const e = await Event.create({ at });
    expect(e.id).to.equal('2024-01-02T03:04:05.678Z');
    const other = await Event.create({ at: new Date(at.getTime() + 1) });
    expect(other.id).to.not.equal(e.id);
    expect((await Event.get('2024-01-02T03:04:05.678Z')).at.getTime()).to.equal(at.getTime());
  });

  it('a stored value that no longer decodes raises ValidationError naming the record and path', async () => {
    const d = await Doc.create({ n: 1 });
    await raw.hSet(d.key, 'n', 'not a number');
    const err = await catchErr(Doc.get(d.id));
    expect(err).to.be.instanceOf(ValidationError);
    expect((err as ValidationError).path).to.equal('n');
    expect((err as ValidationError).message).to.include(d.id);
    await raw.hSet(d.key, { n: '1', when: 'yesterday' });
    const err2 = await catchErr(Doc.get(d.id));
    expect(err2).to.be.instanceOf(ValidationError);
    expect((err2 as ValidationError).path).to.equal('when');
  });
});
