/**
 * Words of a text, for the word index and the text conditions. One definition, implemented here
 * (for query words) and in lua/lib/words.lua (for writes whose new value exists only on the
 * server); test/integration/tokenize.test.ts runs both on random Unicode text and compares.
 *
 * A word is a maximal run of characters other than ASCII whitespace (tab, LF, VT, FF, CR, space)
 * and ASCII punctuation (!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~). ASCII letters are lowered; every
 * other character is kept as written (`Été` and `été` are different words, `REDIS` and `redis`
 * the same). Only ASCII characters separate words, so a word is whole characters.
 *
 * @example words('Redis, LUA & redis!') // ['redis', 'lua']
 */
const SEPARATORS = /[\t\n\v\f\r !-/:-@[-`{-~]+/;

/** The distinct words of `text`, lowered, in order of first appearance. */
export function words(text: string): string[] {
  const out = new Set<string>();
  for (const w of text.split(SEPARATORS)) {
    if (w !== '') out.add(w.replace(/[A-Z]/g, (c) => c.toLowerCase()));
  }
  return [...out];
}

/** Whether `text` is one word fragment (no separator in it), as `matchesPrefix` needs. */
export function isWordFragment(text: string): boolean {
  return text !== '' && !SEPARATORS.test(text);
}
