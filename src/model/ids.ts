/**
 * Time-sortable ids (ULID layout: 48-bit millisecond time + 80 random bits, Crockford base32).
 * Ids made in the same millisecond stay ordered: the random part is incremented.
 */
import { randomFillSync } from 'node:crypto';
import { ValidationError } from '../errors.js';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const RANDOM_DIGITS = 16;
let lastTime = -1;
/** The random part of the last id, as base32 digits (0-31). */
const lastRandom = new Uint8Array(RANDOM_DIGITS);

/** Random bytes drawn 4 KiB at a time: one system call per 256 ids made in distinct milliseconds. */
const pool = Buffer.alloc(4096);
let poolAt = pool.length;

function drawRandom(): void {
  if (poolAt === pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  // 256 is a multiple of 32: the low five bits of a random byte are a uniform base32 digit
  for (let i = 0; i < RANDOM_DIGITS; i++) lastRandom[i] = pool[poolAt + i] & 31;
  poolAt += RANDOM_DIGITS;
}

function increment(digits: Uint8Array): void {
  for (let i = digits.length - 1; i >= 0; i--) {
    if (digits[i] < 31) {
      digits[i]++;
      return;
    }
    digits[i] = 0;
  }
}

export function newId(now: number = Date.now()): string {
  if (now <= lastTime) {
    increment(lastRandom);
  } else {
    lastTime = now;
    drawRandom();
  }
  let time = '';
  for (let i = 0, ms = lastTime; i < 10; i++, ms = Math.floor(ms / 32)) time = ALPHABET[ms % 32] + time;
  let random = '';
  for (let i = 0; i < RANDOM_DIGITS; i++) random += ALPHABET[lastRandom[i]];
  return time + random;
}

/** A new record's id: the value of the model's key field (a ValidationError when it has none), or a generated one. */
export function idOfData(keyField: string | undefined, data: Record<string, unknown>): string {
  if (!keyField) return newId();
  const value = data[keyField];
  if (value === undefined || value === null || value === '') {
    throw new ValidationError(`${keyField}: the key field needs a value`, keyField, 'required');
  }
  // String(date) drops the milliseconds and depends on the time zone: one instant, one id
  return value instanceof Date ? value.toISOString() : String(value);
}
