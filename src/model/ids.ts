/**
 * Time-sortable ids (ULID layout: 48-bit millisecond time + 80 random bits, Crockford base32).
 * Ids made in the same millisecond stay ordered: the random part is incremented.
 */
import { randomBytes } from 'node:crypto';
import { ValidationError } from '../errors.js';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
let lastTime = -1;
let lastRandom: number[] = [];

function encodeTime(ms: number): string {
  let out = '';
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[ms % 32] + out;
    ms = Math.floor(ms / 32);
  }
  return out;
}

function increment(digits: number[]): number[] {
  const next = [...digits];
  for (let i = next.length - 1; i >= 0; i--) {
    if (next[i] < 31) {
      next[i]++;
      return next;
    }
    next[i] = 0;
  }
  return next;
}

export function newId(now: number = Date.now()): string {
  if (now <= lastTime) {
    lastRandom = increment(lastRandom);
  } else {
    lastTime = now;
    lastRandom = [...randomBytes(16)].map((b) => b % 32);
  }
  return encodeTime(lastTime) + lastRandom.map((d) => ALPHABET[d]).join('');
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
