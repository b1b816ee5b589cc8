import { expect } from 'chai';
import { Type } from 'typebox';
import { defineModel } from '../../../src/index.js';
import { raw } from '../../helpers/redis.js';

describe('hardening: script cache storms', function () {
  this.timeout(60_000);
  const Counter = defineModel('HardScriptCounter', { n: Type.Integer({ default: 0 }), tag: Type.String({ default: 'x' }) }, { indexes: ['tag'] });

  it('SCRIPT FLUSH every 2 ms under load never surfaces an error', async () => {
    const recs = await Counter.insertMany(Array.from({ length: 20 }, () => ({})));
    let flushing = true;
    let flushes = 0;
    const flusher = (async () => {
      while (flushing) {
        await raw.scriptFlush();
        flushes++;
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    const errors: unknown[] = [];
    let done = 0;
    await Promise.all(recs.map(async (r, i) => {
      for (let k = 0; k < 40; k++) {
        try {
          if (k % 4 === 3) await Counter.find((u) => u.tag.eq('x')).count();
          else await (i % 2 ? r.$.n.incr(1) : Counter.pipeline(r.id, (p) => p.n.incr(1)));
          done++;
        } catch (err) {
          errors.push(err);
        }
      }
    }));
    flushing = false;
    await flusher;
    expect(errors.map(String).slice(0, 3)).to.deep.equal([]);
    expect(flushes).to.be.greaterThan(10);
    expect(done).to.equal(800);
    const total = (await Counter.getMany(recs.map((r) => r.id))).reduce((s, r) => s + r.n, 0);
    expect(total).to.equal(600);
  });
});
