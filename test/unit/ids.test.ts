import { expect } from 'chai';
import { newId } from '../../src/model/ids.js';

describe('generated ids', () => {
  const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

  it('stay ordered and distinct within one millisecond, and across the random pool refills', () => {
    const now = Date.now() + 10_000_000; // past any id made so far in this process
    const same = Array.from({ length: 1_000 }, () => newId(now));
    const later = Array.from({ length: 600 }, (_, i) => newId(now + 1 + i)); // more than one 4 KiB pool of draws
    const all = [...same, ...later];
    for (const id of all) expect(id).to.match(ULID);
    expect([...all].sort()).to.deep.equal(all);
    expect(new Set(all).size).to.equal(all.length);
    // distinct milliseconds draw fresh random parts: their random halves are not one sequence
    expect(new Set(later.map((id) => id.slice(10))).size).to.equal(later.length);
  });
});
