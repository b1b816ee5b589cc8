import { expect } from 'chai';
import { Type } from 'typebox';
import { defineModel } from '../../src/index.js';
import { readRecord } from '../../src/model/layout.js';

describe('record layout: decoding a hash', () => {
  const Doc = defineModel('LayoutDoc', {
    n: Type.Integer(),
    tags: Type.Array(Type.String()),
    meta: Type.Record(Type.String(), Type.String()),
    at: Type.Object({ city: Type.String() }),
  });

  it('decodes the same with the field names cached and past the cache bound (items and entries of unbounded names)', () => {
    const hash = (k: number): string[] => {
      const flat = ['#v', '3', 'n', String(k), 'tags', '2', 'tags[0]', `a${k}`, 'tags[1]', 'b', 'meta', '2', `meta.k${k}`, 'x', 'meta.y', String(k), 'at.city', 'Oslo'];
      return flat;
    };
    // 12,000 distinct entry names: more than a schema's cache keeps
    for (let k = 0; k < 12_000; k++) {
      const { data, meta } = readRecord(Doc.spec, hash(k), `id${k}`);
      if (k % 1_000 !== 0 && k < 11_990) continue;
      expect(data).to.deep.equal({ n: k, tags: [`a${k}`, 'b'], meta: { [`k${k}`]: 'x', y: String(k) }, at: { city: 'Oslo' } });
      expect(meta.version).to.equal('3');
    }
  });

  it('names the record and the field a stored value cannot decode, on the fast path of top-level scalars too', () => {
    expect(() => readRecord(Doc.spec, ['#v', '1', 'n', 'seven'], 'r1')).to.throw(/record r1: n: /);
    expect(() => readRecord(Doc.spec, ['#v', '1', 'n', '1', 'meta', '1', 'meta.a', 'ok', 'tags', 'x'], 'r2')).to.throw(/record r2: tags/);
  });
});
