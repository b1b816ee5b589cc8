import { expect } from 'chai';
import { Type } from 'typebox';
import { RapyerError, defineModel } from '../../../src/index.js';
import { db, raw } from '../../helpers/redis.js';

const catchErr = (p: Promise<unknown>): Promise<unknown> => p.then(() => undefined, (e: unknown) => e);

describe('hardening: async program callbacks', () => {
  const Acc = defineModel('HardAsyncAcc', { a: Type.Integer({ default: 0 }), b: Type.String({ default: '' }) });
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
  before(() => process.on('unhandledRejection', onUnhandled));
  after(() => process.off('unhandledRejection', onUnhandled));

  it('a callback returning a promise rejects with RapyerError before anything is sent', async () => {
    const u = await Acc.create({});
    const other = await Acc.create({});
    const before = await raw.hGetAll(u.key);
    const tick = () => new Promise((r) => setTimeout(r, 5));
    const async1 = (async (p: any) => { p.a.incr(1); await tick(); p.b.append('y'); }) as any;
    const calls = [
      () => u.pipeline(async1),
      () => Acc.pipeline(u.id, async1),
      () => Acc.updateMany([u.id], async1),
      () => Acc.find((x) => x.a.eq(0)).update(async1),
      () => db.transaction([u, other], (async (p: any) => { p.a.incr(1); await tick(); }) as any),
      () => u.pipeline(((p: any) => ({ then: (ok: () => void) => { p.a.incr(1); ok(); } })) as any),
      () => u.pipeline((p) => p.a.gt(-1).ifTrue((async () => { p.a.incr(5); }) as any)),
    ];
    for (const call of calls) {
      const err = await catchErr(call());
      expect(err).to.be.instanceOf(RapyerError);
      expect((err as Error).message).to.match(/synchronous/);
    }
    await new Promise((r) => setTimeout(r, 50)); // let the async callbacks finish their tails
    expect(await raw.hGetAll(u.key)).to.deep.equal(before);
    expect(unhandled).to.deep.equal([]);
  });
});
