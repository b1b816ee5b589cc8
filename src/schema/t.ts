/**
 * rapyer's own schema helpers, for the field types TypeBox has no builder for.
 *
 * @example
 *   avatar: t.Bytes({ maxLength: 65536, default: new Uint8Array() }),
 *   lastSeen: t.DateTime({ default: () => new Date() }),
 */
import { Type, type TUnsafe } from 'typebox';
import type { Defaulted } from './defaulted.js';

/** The marker property that tells rapyer's schema walker which custom kind a schema is. */
export const RAPYER_KIND = 'x-rapyer';

export interface BytesOptions {
  minLength?: number;
  maxLength?: number;
  default?: Uint8Array | (() => Uint8Array);
  description?: string;
}

export interface DateTimeOptions {
  /** Earliest allowed instant. */
  minimum?: Date;
  /** Latest allowed instant. */
  maximum?: Date;
  default?: Date | (() => Date);
  description?: string;
}

export type TBytes = TUnsafe<Uint8Array> & { [RAPYER_KIND]: 'bytes' };
export type TDateTime = TUnsafe<Date> & { [RAPYER_KIND]: 'datetime' };

/** The helpers' signatures: with a `default` in the options the schema carries the `Defaulted` mark. */
interface Helpers {
  /** Binary data, held as `Uint8Array` and stored binary-safe (0x00 included). */
  Bytes(options: BytesOptions & Pick<Required<BytesOptions>, 'default'>): TBytes & Defaulted;
  Bytes(options?: BytesOptions): TBytes;
  /** An instant with millisecond precision, held as `Date` and stored as epoch milliseconds. */
  DateTime(options: DateTimeOptions & Pick<Required<DateTimeOptions>, 'default'>): TDateTime & Defaulted;
  DateTime(options?: DateTimeOptions): TDateTime;
}

export const t: Helpers = {
  Bytes(options: BytesOptions = {}) {
    return Type.Unsafe<Uint8Array>({ ...options, [RAPYER_KIND]: 'bytes' }) as TBytes & Defaulted;
  },
  DateTime(options: DateTimeOptions = {}) {
    return Type.Unsafe<Date>({ ...options, [RAPYER_KIND]: 'datetime' }) as TDateTime & Defaulted;
  },
};
