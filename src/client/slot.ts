/**
 * Redis Cluster hash slots: CRC16/XMODEM of the key (or of its `{tag}`) modulo 16384, as the
 * cluster specification defines them.
 *
 * @example slot('foo') // 12182; slot('{user1000}.following') === slot('{user1000}.followers')
 */

export const SLOTS = 16384;

const TABLE = (() => {
  const table = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[i] = crc;
  }
  return table;
})();

/** CRC16/XMODEM (polynomial 0x1021, initial value 0), the checksum the cluster hashes keys with. */
export function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ byte) & 0xff];
  return crc;
}

/**
 * The part of a key that is hashed: the text between the first `{` and the next `}` when that
 * text is not empty, else the whole key.
 */
export function hashTag(key: Uint8Array): Uint8Array {
  const open = key.indexOf(0x7b);
  if (open < 0) return key;
  const close = key.indexOf(0x7d, open + 1);
  if (close < 0 || close === open + 1) return key;
  return key.subarray(open + 1, close);
}

/** The cluster hash slot (0 … 16383) of a key; strings are hashed as UTF-8. */
export function slot(key: string | Uint8Array): number {
  const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
  return crc16(hashTag(bytes)) % SLOTS;
}
