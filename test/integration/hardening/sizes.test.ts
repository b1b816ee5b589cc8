import { expect } from 'chai';
import { Type } from 'typebox';
import { ValidationError, defineModel, t } from '../../../src/index.js';
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
});
