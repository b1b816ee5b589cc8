/**
 * Seeded random generators for the randomized tests (a failing seed is printed and replays).
 */

/** mulberry32: a small, fast, seedable generator of floats in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const pick = <T>(r: () => number, items: readonly T[]): T => items[Math.floor(r() * items.length)];
export const int = (r: () => number, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));

/** Code points from every region a tokenizer can trip on: ASCII separators and letters, NUL, Latin-1, combining marks, CJK, astral (emoji), private use. */
const RANGES: readonly (readonly [number, number])[] = [
  [0x00, 0x7f], [0x00, 0x7f], [0x00, 0x7f], [0x41, 0x5a], [0x61, 0x7a],
  [0x80, 0xff], [0x300, 0x36f], [0x400, 0x4ff], [0x2000, 0x206f], [0x3000, 0x303f], [0x4e00, 0x4fff],
  [0xe000, 0xe0ff], [0xfff0, 0xfffd], [0x1f300, 0x1f64f], [0x10000, 0x10ffff],
];

/** A random string of valid Unicode (no lone surrogates: text travels to Redis as UTF-8). */
export function unicodeText(r: () => number, maxLength: number): string {
  let s = '';
  const n = int(r, 0, maxLength);
  for (let i = 0; i < n; i++) {
    const [lo, hi] = pick(r, RANGES);
    s += String.fromCodePoint(int(r, lo, hi));
  }
  return s;
}
