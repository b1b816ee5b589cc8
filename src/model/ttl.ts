/** A model's `ttl` option: a number of seconds, or `{ seconds, sliding: true }`. */
import { SchemaError } from '../errors.js';

/** The `ttl` option of a model. */
export type TtlOption = number | { seconds: number; sliding?: boolean };

export interface Lifetime {
  /** The TTL set on create and save, in ms (0: none). */
  readonly ms: number;
  /** Whether every read and write of a record re-arms it. */
  readonly sliding: boolean;
}

/** The model's TTL; SchemaError when the option is malformed. */
export function ttlOf(ttl: TtlOption | undefined): Lifetime {
  if (ttl === undefined) return { ms: 0, sliding: false };
  const seconds = typeof ttl === 'number' ? ttl : ttl?.seconds;
  if (typeof seconds !== 'number' || !(seconds > 0) || !Number.isFinite(seconds)) {
    throw new SchemaError('ttl must be a positive number of seconds, or { seconds, sliding: true }');
  }
  if (typeof ttl === 'object' && ttl.sliding !== undefined && typeof ttl.sliding !== 'boolean') throw new SchemaError('ttl.sliding must be a boolean');
  return { ms: Math.round(seconds * 1000), sliding: typeof ttl === 'object' && ttl.sliding === true };
}
