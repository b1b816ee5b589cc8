import { expect } from 'chai';
import { crc16, slot } from '../../src/client/slot.js';

describe('hash slots', () => {
  it('computes CRC16/XMODEM', () => {
    expect(crc16(Buffer.from('123456789'))).to.equal(0x31c3); // the spec's check value
    expect(crc16(new Uint8Array())).to.equal(0);
  });

  it('gives the slots Redis gives (CLUSTER KEYSLOT)', () => {
    expect(slot('foo')).to.equal(12182);
    expect(slot('123456789')).to.equal(12739);
    expect(slot('')).to.equal(0);
    expect(slot('héllo')).to.equal(11061); // UTF-8 bytes
    expect(slot(Buffer.from('foo'))).to.equal(12182);
  });

  it('hashes only the first non-empty {tag}', () => {
    expect(slot('{user1000}.following')).to.equal(slot('{user1000}.followers'));
    expect(slot('{user1000}.following')).to.equal(slot('user1000'));
    expect(slot('foo{bar}{zap}')).to.equal(slot('bar'));
    expect(slot('foo{{bar}}zap')).to.equal(slot('{bar'));
    expect(slot('{User}:01J')).to.equal(slot('{User}#ids'));
    // an empty tag, or a `{` without `}`, means the whole key is hashed
    expect(slot('foo{}{bar}')).to.equal(8363);
    expect(slot('{}foo')).to.equal(9500);
    expect(slot('a{b')).to.equal(13340);
  });
});
