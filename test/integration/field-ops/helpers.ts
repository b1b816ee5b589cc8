/** Shared checks of the field-operation tests: clean failures, stored state, Python list semantics. */
import { expect } from 'chai';
import { RESP_TYPES } from 'redis';
import { ValidationError } from '../../../src/index.js';
import { raw } from '../../helpers/redis.js';

export type ErrorClass<E> = abstract new (...args: any[]) => E;

/** Runs fn (sync throw or rejection alike) and returns the error, which must be a `cls`. */
export async function rejects<E extends Error>(fn: () => unknown, cls: ErrorClass<E>): Promise<E> {
  let caught: unknown;
  try {
    await fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, `expected ${cls.name}`).to.be.instanceOf(cls);
  return caught as E;
}

export const dump = async (key: string): Promise<Buffer | null> =>
  raw.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer }).dump(key) as Promise<Buffer | null>;

export interface AnyRecord { readonly id: string; readonly key: string; toJSON(): unknown }
export interface AnyModel { get(id: string): Promise<AnyRecord> }

/** The stored record equals the local one; returns the stored copy's data. */
export async function synced(model: AnyModel, u: AnyRecord): Promise<any> {
  const back = (await model.get(u.id)).toJSON();
  expect(back).to.deep.equal(u.toJSON());
  return back;
}

/** fn must fail with `cls`, leaving the stored key byte-for-byte and the local record unchanged. */
export async function failsCleanly<E extends Error>(u: AnyRecord, fn: () => unknown, cls: ErrorClass<E>): Promise<E> {
  const before = await dump(u.key);
  const local = structuredClone(u.toJSON());
  const err = await rejects(fn, cls);
  expect(await dump(u.key)).to.deep.equal(before);
  expect(u.toJSON()).to.deep.equal(local);
  return err;
}

export async function invalid(u: AnyRecord, fn: () => unknown, path: string, rule: string): Promise<void> {
  const err = await failsCleanly(u, fn, ValidationError);
  expect(err.path, err.message).to.equal(path);
  expect(err.rule, err.message).to.equal(rule);
}

export const pyFloorDiv = (a: number, b: number): number => Math.floor(a / b);
export const pyMod = (a: number, b: number): number => a - Math.floor(a / b) * b;

/** Python list semantics, to check array operations against. */
export const py = {
  insert<T>(a: T[], i: number, x: T): void {
    const j = i < 0 ? Math.max(0, i + a.length) : Math.min(i, a.length);
    a.splice(j, 0, x);
  },
  pop<T>(a: T[], i = -1): T {
    const j = i < 0 ? i + a.length : i;
    return a.splice(j, 1)[0];
  },
  delSlice<T>(a: T[], start: number, end?: number): void {
    const len = a.length;
    const clamp = (i: number): number => Math.max(0, Math.min(len, i < 0 ? i + len : i));
    const s = clamp(start);
    const e = end === undefined ? len : clamp(end);
    if (s < e) a.splice(s, e - s);
  },
};

export const bytes = (...b: number[]): Uint8Array => new Uint8Array(b);
