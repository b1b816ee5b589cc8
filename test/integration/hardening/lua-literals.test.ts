import { expect } from 'chai';
import { Type } from 'typebox';
import { defineModel } from '../../../src/index.js';
import { luaString } from '../../../src/compile/link.js';
import { raw } from '../../helpers/redis.js';

/** Deterministic pseudo-random text (xorshift), mixing digits right after control characters. */
function randomStrings(n: number): string[] {
  let x = 0x9e3779b9;
  const next = (): number => {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    return x;
  };
  const alphabet = ['\n', '\0', '\x01', '"', '\\', '1', '2', '9', 'a', 'é', '€', '😀', '\x7f', '\t', "'", ']'];
  return Array.from({ length: n }, () => {
    let s = '';
    const len = next() % 12;
    for (let i = 0; i < len; i++) s += alphabet[next() % alphabet.length];
    return s;
  });
}

describe('hardening: Lua string literals of schema values', () => {
  it('every literal evaluates to its source text, byte for byte', async () => {
    const samples = ['a\n1', '"1', '\x001', '\\1', ...randomStrings(300)];
    const lua = `return {${samples.map(luaString).join(', ')}}`;
    const out = (await raw.eval(lua, { keys: [], arguments: [] })) as string[];
    expect(out).to.deep.equal(samples);
  });

  it('enum literals with escapes compile into working scripts', async () => {
    const Tag = defineModel('HardLuaTag', {
      kind: Type.Union([Type.Literal('a\n1'), Type.Literal('"1'), Type.Literal('plain')], { default: 'plain' }),
      n: Type.Integer({ default: 0 }),
    });
    const t = await Tag.create({});
    await t.pipeline((p) => {
      p.kind.set('a\n1');
      p.n.incr(1);
    });
    expect(t.kind).to.equal('a\n1');
    await t.pipeline((p) => p.kind.set('"1'));
    expect((await Tag.get(t.id)).kind).to.equal('"1');
  });
});
