import { expect } from 'chai';
import { linkFunctions } from '../../src/compile/link.js';
import { words } from '../../src/query/tokenize.js';
import { raw } from '../helpers/redis.js';
import { rng, unicodeText } from '../helpers/random.js';

/** The Lua tokenizer (lua/lib/words.lua), run by real Redis on `text`. */
async function luaWords(texts: readonly string[]): Promise<string[][]> {
  const body = 'local out = {}\nfor i, t in ipairs(ARGV) do out[i] = tx_words(t) end\nreturn out';
  const script = `${linkFunctions(body)}\n${body}`;
  return (await raw.eval(script, { keys: [], arguments: [...texts] })) as string[][];
}

describe('tokenizer: one definition, implemented in TypeScript and Lua', () => {
  it('splits on ASCII whitespace and punctuation and lowers ASCII letters only', async () => {
    const text = 'Redis, LUA & redis!\tÉté été ÉTÉ\u00a0x_y-z a.b:c 東京タワー 🎉party\0nul';
    const expected = ['redis', 'lua', 'Été', 'été', 'ÉtÉ\u00a0x', 'y', 'z', 'a', 'b', 'c', '東京タワー', '🎉party\0nul'];
    expect(words(text)).to.deep.equal(expected);
    expect((await luaWords([text]))[0]).to.deep.equal(expected);
    expect(words(' ,;\n')).to.deep.equal([]);
  });

  it('gives the same words in TypeScript and in Lua on random Unicode text', async function () {
    this.timeout(60_000);
    const seed = Date.now() % 1_000_000;
    const r = rng(seed);
    for (let round = 0; round < 20; round++) {
      const texts = Array.from({ length: 100 }, () => unicodeText(r, 60));
      const lua = await luaWords(texts);
      texts.forEach((text, i) => {
        expect(lua[i], `seed ${seed}, text ${JSON.stringify(text)}`).to.deep.equal(words(text));
      });
    }
  });
});
