/**
 * rapyer's own schema helpers, for the field types TypeBox has no builder for.
 *
 * @example
 *   avatar: t.Bytes({ maxLength: 65536, default: new Uint8Array() }),
 *   lastSeen: t.DateTime({ default: () => new Date() }),
 */
import { Type, type TUnsafe } from 'typebox';

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

export const t = {
  /** Binary data, held as `Uint8Array` and stored binary-safe (0x00 included). */
  Bytes(options: BytesOptions = {}): TBytes {
    return Type.Unsafe<Uint8Array>({ ...options, [RAPYER_KIND]: 'bytes' }) as TBytes;
  },
  /** An instant with millisecond precision, held as `Date` and stored as epoch milliseconds. */
  DateTime(options: DateTimeOptions = {}): TDateTime {
    return Type.Unsafe<Date>({ ...options, [RAPYER_KIND]: 'datetime' }) as TDateTime;
  },
};
