import { expect } from 'chai';
import { Type } from 'typebox';
import { SchemaError, ValidationError, defineModel, t } from '../../../src/index.js';
import { raw } from '../../helpers/redis.js';

const catchErr = (p: Promise<unknown>): Promise<unknown> => p.then(() => undefined, (e: unknown) => e);

describe('hardening: results a short call would amplify', () => {
  const Blob = defineModel('HardSizeBlob', { s: Type.String({ default: 'ab' }), b: t.Bytes({ default: new Uint8Array([1]) }) });
  const Small = defineModel('HardSizeSmall', { s: Type.String({ default: 'ab' }) }, { maxValueBytes: 1000 });

  it('repeat and setRange past maxValueBytes (default 64 MiB) are refused before anything is built', async () => {
    const x = await Blob.create({});
    const before = await raw.hGetAll(x.key);
    for (const call of [() => x.$.s.repeat(10_000_000_000), () => x.$.s.repeat(40_000_000), () => x.$.b.setRange(600 * 1024 * 1024, new Uint8Array([1]))]) {
      const err = await catchErr(call());
      expect(err).to.be.instanceOf(ValidationError);
      expect((err as ValidationError).rule).to.equal('maxValueBytes');
    }
    expect(await raw.hGetAll(x.key)).to.deep.equal(before);
    expect(await x.$.s.repeat(3)).to.equal('ababab');
  });

  it('a model-level maxValueBytes caps every computed string', async () => {
    const x = await Small.create({});
    expect(await catchErr(x.$.s.repeat(501))).to.be.instanceOf(ValidationError);
    expect(await catchErr(x.pipeline((p) => p.s.append('y'.repeat(999))))).to.be.instanceOf(ValidationError);
    expect((await x.$.s.repeat(500)).length).to.equal(1000);
  });

  it('values sent past maxValueBytes are refused on the client before anything is sent: every op that can grow a value', async () => {
    const Capped = defineModel('HardSizeCapped', {
      s: Type.String({ default: 'ab' }),
      b: t.Bytes({ default: new Uint8Array([1]) }),
      list: Type.Array(Type.String(), { default: [] }),
      dict: Type.Record(Type.String(), Type.String(), { default: {} }),
    }, { maxValueBytes: 1000 });
    const x = await Capped.create({});
    const before = await raw.hGetAll(x.key);
    const big = 'é'.repeat(501); // 1,002 UTF-8 bytes in 501 UTF-16 units
    const calls: [string, () => Promise<unknown>][] = [
      ['set', () => x.$.s.set(big)],
      ['append', () => x.$.s.append(big)],
      ['prepend', () => x.$.s.prepend(big)],
      ['bytes append', () => x.$.b.append(new Uint8Array(1001))],
      ['bytes setRange', () => x.$.b.setRange(0, new Uint8Array(1001))],
      ['array append', () => x.$.list.append('ok', big)],
      ['array insert', () => x.$.list.insert(0, big)],
      ['array set', () => x.$.list.set([big])],
      ['dict setItem', () => x.$.dict.setItem('k', big)],
      ['pipeline', () => x.pipeline((p) => { p.s.set('fine'); p.list.prepend(big); })],
      ['save', () => { x.s = big; return x.save(); }],
    ];
    for (const [what, call] of calls) {
      const err = await catchErr(call());
      expect(err, what).to.be.instanceOf(ValidationError);
      expect((err as ValidationError).rule, what).to.equal('maxValueBytes');
    }
    expect(await raw.hGetAll(x.key)).to.deep.equal(before);
    // create and insertMany check every item before the first chunk is sent
    expect(await catchErr(Capped.create({ s: big }))).to.be.instanceOf(ValidationError);
    const items = [...Array.from({ length: 5 }, () => ({ s: 'small' })), { list: ['a', big] }];
    const err = await catchErr(Capped.insertMany(items, { chunkSize: 2 }));
    expect(err).to.be.instanceOf(ValidationError);
    expect(await Capped.find().count()).to.equal(1);
    expect(() => defineModel('HardSizeTooBig', { s: Type.String() }, { maxValueBytes: 512 * 1024 * 1024 + 1 })).to.throw(SchemaError);
  });
});
