import { expect } from 'chai';
import { Type } from 'typebox';
import { slot } from '../../src/client/slot.js';
import { changesRef } from '../../src/changes/changes.js';
import { compareIds } from '../../src/changes/stream.js';
import { KeySpace } from '../../src/model/keys.js';
import { fromShape } from '../../src/schema/spec.js';

describe('change streams (no Redis)', () => {
  it("a shard's stream is in the slot of the shard's records", () => {
    const keys = new KeySpace('User', true, 16);
    for (let i = 0; i < 200; i++) {
      const id = `u${i}`;
      expect(slot(keys.changes(keys.shardOf(id)))).to.equal(slot(keys.record(id)));
    }
    expect(new KeySpace('User', false).changes()).to.equal('User#changes');
    expect(new KeySpace('User', true).changes()).to.equal('{User}#changes');
  });

  it('names the dict fields of a schema, nested ones included, and defaults maxLen to 100,000', () => {
    const spec = fromShape({
      notes: Type.Record(Type.String(), Type.String()),
      profile: Type.Object({ city: Type.String(), links: Type.Record(Type.String(), Type.String()) }),
      tags: Type.Array(Type.Object({ k: Type.String() })),
    });
    expect(changesRef(spec, 'k', true)).to.deep.equal({ key: 'k', maxLen: 100_000, dicts: ['notes', 'profile.links'] });
    expect(changesRef(spec, 'k', { maxLen: 5 }).maxLen).to.equal(5);
  });

  it('orders stream ids numerically', () => {
    expect(compareIds('9-0', '10-0')).to.be.below(0);
    expect(compareIds('10-2', '10-10')).to.be.below(0);
    expect(compareIds('10-1', '10-1')).to.equal(0);
    expect(compareIds('1700000000000-0', '0-0')).to.be.above(0);
  });
});
