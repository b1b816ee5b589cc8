/**
 * Every atomic field operation of the API table, immediate (`u.$`) and inside pipelines, against a
 * real Redis: results, the local record, and what is stored (re-read with `Model.get`) must agree.
 */
import { expect } from 'chai';
import { RESP_TYPES } from 'redis';
import { Type } from 'typebox';
import {
  OperationError, ValidationError, connect, defineModel, t, type Connection,
} from '../../src/index.js';
import { connectOptions, raw } from '../helpers/redis.js';

// ---- helpers -----------------------------------------------------------------------------------

type ErrorClass<E> = abstract new (...args: any[]) => E;

/** Runs fn (sync throw or rejection alike) and returns the error, which must be a `cls`. */
async function rejects<E extends Error>(fn: () => unknown, cls: ErrorClass<E>): Promise<E> {
  let caught: unknown;
  try {
    await fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, `expected ${cls.name}`).to.be.instanceOf(cls);
  return caught as E;
}

const dump = async (key: string): Promise<Buffer | null> =>
  raw.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer }).dump(key) as Promise<Buffer | null>;

interface AnyRecord { readonly id: string; readonly key: string; toJSON(): unknown }
interface AnyModel { get(id: string): Promise<AnyRecord> }

/** The stored record equals the local one; returns the stored copy's data. */
async function synced(model: AnyModel, u: AnyRecord): Promise<any> {
  const back = (await model.get(u.id)).toJSON();
  expect(back).to.deep.equal(u.toJSON());
  return back;
}

/** fn must fail with `cls`, leaving the stored key byte-for-byte and the local record unchanged. */
async function failsCleanly<E extends Error>(u: AnyRecord, fn: () => unknown, cls: ErrorClass<E>): Promise<E> {
  const before = await dump(u.key);
  const local = structuredClone(u.toJSON());
  const err = await rejects(fn, cls);
  expect(await dump(u.key)).to.deep.equal(before);
  expect(u.toJSON()).to.deep.equal(local);
  return err;
}

async function invalid(u: AnyRecord, fn: () => unknown, path: string, rule: string): Promise<void> {
  const err = await failsCleanly(u, fn, ValidationError);
  expect(err.path, err.message).to.equal(path);
  expect(err.rule, err.message).to.equal(rule);
}

const pyFloorDiv = (a: number, b: number): number => Math.floor(a / b);
const pyMod = (a: number, b: number): number => a - Math.floor(a / b) * b;

/** Python list semantics, to check array operations against. */
const py = {
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

const bytes = (...b: number[]): Uint8Array => new Uint8Array(b);

// ---- numbers -----------------------------------------------------------------------------------

const Num = defineModel('FoNum', {
  i: Type.Integer({ default: 0 }),
  n: Type.Number({ default: 0 }),
  bounded: Type.Integer({ minimum: 0, maximum: 100, default: 50 }),
  positive: Type.Number({ exclusiveMinimum: 0, default: 1 }),
  even: Type.Integer({ multipleOf: 2, default: 0 }),
  label: Type.String({ default: 'unchanged' }),
});

type NumOp = 'set' | 'incr' | 'decr' | 'mul' | 'div' | 'mod' | 'pow' | 'min' | 'max';
type NumCase = [NumOp, number, number | undefined, number];

const integerCases: NumCase[] = [
  ['set', 5, 42, 42], ['set', 5, -(2 ** 53) + 1, -(2 ** 53) + 1],
  ['incr', 5, 10, 15], ['incr', 5, undefined, 6], ['incr', 5, -8, -3],
  ['decr', 5, 7, -2], ['decr', 5, undefined, 4],
  ['mul', -3, 4, -12], ['mul', 2 ** 26, 2 ** 26, 2 ** 52],
  ['div', 7, 2, 3], ['div', 7, -2, -4], ['div', -7, 2, -4], ['div', -7, -2, 3], ['div', -8, 2, -4], ['div', 2 ** 53 - 1, 2, 2 ** 52 - 1],
  ['mod', -7, 3, 2], ['mod', 7, -3, -2], ['mod', 7, 3, 1], ['mod', -7, -3, -1], ['mod', 2 ** 53 - 1, 10, 1],
  ['pow', 3, 4, 81], ['pow', -2, 3, -8], ['pow', 5, 0, 1], ['pow', 2, 52, 2 ** 52],
  ['min', 5, 3, 3], ['min', 5, 9, 5], ['max', 5, 9, 9], ['max', 5, -1, 5],
];

const numberCases: NumCase[] = [
  ['set', 1, 0.1, 0.1],
  ['incr', 0.1, 0.2, 0.1 + 0.2], ['incr', 1, undefined, 2],
  ['decr', 1, 0.25, 0.75], ['decr', 1, undefined, 0],
  ['mul', 1.5, -2, -3], ['mul', 0.1, 3, 0.1 * 3],
  ['div', 7, 2, 3.5], ['div', -7, 2, -3.5], ['div', 1, 3, 1 / 3], ['div', 7, -2, -3.5],
  ['mod', -7.5, 2, 0.5], ['mod', 7.5, -2, -0.5], ['mod', 5.5, 2, 1.5], ['mod', -7, 3, 2],
  ['pow', 2, 0.5, 2 ** 0.5], ['pow', 2, -1, 0.5], ['pow', 10, 3, 1000],
  ['min', 1.5, 1.25, 1.25], ['min', -1, 3, -1], ['max', 1.5, 1.75, 1.75], ['max', 1.5, -2, 1.5],
];

describe('field ops: Integer and Number', () => {
  for (const [field, cases] of [['i', integerCases], ['n', numberCases]] as const) {
    for (const [op, start, arg, expected] of cases) {
      const call = `${op}(${arg ?? ''})`;
      it(`${field === 'i' ? 'Integer' : 'Number'} ${start}.${call} = ${expected} (immediate)`, async () => {
        const u = await Num.create({ [field]: start });
        const h = u.$[field] as unknown as Record<NumOp, (n?: number) => Promise<number>>;
        const result = await (arg === undefined ? h[op]() : h[op](arg));
        expect(result).to.equal(expected);
        expect(u[field]).to.equal(expected);
        expect((await synced(Num, u))[field]).to.equal(expected);
      });
      it(`${field === 'i' ? 'Integer' : 'Number'} ${start}.${call} = ${expected} (pipeline)`, async () => {
        const u = await Num.create({ [field]: start });
        const after = await u.pipeline((p) => {
          const h = p[field] as unknown as Record<NumOp, (n?: number) => void>;
          if (arg === undefined) h[op]();
          else h[op](arg);
        });
        expect(after).to.equal(u);
        expect(u[field]).to.equal(expected);
        expect((await synced(Num, u))[field]).to.equal(expected);
      });
    }
  }

  it('chains every numeric op in one pipeline, each on the previous result', async () => {
    const u = await Num.create({ i: 7, n: 7 });
    await u.pipeline((p) => {
      p.i.incr(10); p.i.mul(3); p.i.div(-4); p.i.mod(5); p.i.pow(3); p.i.decr(); p.i.max(-100); p.i.min(0);
      p.n.incr(10); p.n.mul(3); p.n.div(-4); p.n.mod(5); p.n.pow(3); p.n.decr(); p.n.max(-100); p.n.min(100);
    });
    let i = 7;
    i = pyFloorDiv((i + 10) * 3, -4);
    i = pyMod(i, 5) ** 3 - 1;
    i = Math.min(Math.max(i, -100), 0);
    let n = 7;
    n = pyMod(((n + 10) * 3) / -4, 5) ** 3 - 1;
    n = Math.min(Math.max(n, -100), 100);
    expect(u.i).to.equal(i);
    expect(u.n).to.equal(n);
    await synced(Num, u);
  });

  it('Model.pipeline(id) applies ops without loading the record and returns the record after', async () => {
    const u = await Num.create({ i: 1, n: 2 });
    const after = await Num.pipeline(u.id, (p) => { p.i.incr(41); p.n.div(4); });
    expect(after.i).to.equal(42);
    expect(after.n).to.equal(0.5);
    await synced(Num, after);
  });

  for (const [field, op] of [['i', 'div'], ['i', 'mod'], ['n', 'div'], ['n', 'mod']] as const) {
    it(`${field === 'i' ? 'Integer' : 'Number'} ${op}(0) raises OperationError and writes nothing`, async () => {
      const u = await Num.create({ i: 7, n: 7.5 });
      await failsCleanly(u, () => u.$[field][op](0), OperationError);
      await failsCleanly(u, () => u.pipeline((p) => { p.label.set('written?'); p[field][op](0); }), OperationError);
      expect((await Num.get(u.id)).toJSON()).to.deep.include({ i: 7, n: 7.5, label: 'unchanged' });
    });
  }

  const violations: [string, 'bounded' | 'positive' | 'even' | 'i' | 'n', number, (h: any) => unknown, string][] = [
    ['incr past maximum', 'bounded', 50, (h) => h.incr(51), 'maximum'],
    ['decr below minimum', 'bounded', 50, (h) => h.decr(51), 'minimum'],
    ['mul below minimum', 'bounded', 50, (h) => h.mul(-1), 'minimum'],
    ['pow past maximum', 'bounded', 50, (h) => h.pow(2), 'maximum'],
    ['max past maximum', 'bounded', 50, (h) => h.max(101), 'maximum'],
    ['min below minimum', 'bounded', 50, (h) => h.min(-1), 'minimum'],
    ['decr to the exclusiveMinimum', 'positive', 1, (h) => h.decr(1), 'exclusiveMinimum'],
    ['mul by zero to the exclusiveMinimum', 'positive', 1, (h) => h.mul(0), 'exclusiveMinimum'],
    ['incr off the multipleOf', 'even', 0, (h) => h.incr(3), 'multipleOf'],
    ['div off the multipleOf', 'even', 6, (h) => h.div(2), 'multipleOf'],
    ['incr by a fraction on an Integer', 'i', 1, (h) => h.incr(0.5), 'integer'],
    ['pow to a fraction on an Integer', 'i', 2, (h) => h.pow(0.5), 'integer'],
    ['pow to a negative exponent on an Integer', 'i', 2, (h) => h.pow(-1), 'integer'],
    ['incr past 2^53', 'i', 2 ** 53 - 1, (h) => h.incr(1), 'safeInteger'],
    ['decr past -2^53', 'i', -(2 ** 53) + 1, (h) => h.decr(1), 'safeInteger'],
    ['mul past 2^53', 'i', 2 ** 52, (h) => h.mul(2), 'safeInteger'],
    ['pow past 2^53', 'i', 2, (h) => h.pow(60), 'safeInteger'],
    ['pow to Infinity on a Number', 'n', 10, (h) => h.pow(400), 'type'],
  ];
  for (const [what, field, start, op, rule] of violations) {
    it(`${what} raises ValidationError(${field}, ${rule}) and writes nothing`, async () => {
      const u = await Num.create({ [field]: start });
      await invalid(u, () => op(u.$[field]), field, rule);
      await invalid(u, () => u.pipeline((p) => { p.label.set('written?'); op(p[field]); }), field, rule);
      expect((await Num.get(u.id))[field]).to.equal(start);
      expect((await Num.get(u.id)).label).to.equal('unchanged');
    });
  }

  it('rejects a set that breaks the schema, and a non-finite operand, before sending anything', async () => {
    const u = await Num.create({});
    await invalid(u, () => u.$.bounded.set(101), 'bounded', 'maximum');
    await invalid(u, () => u.$.i.set(1.5), 'i', 'integer');
    await invalid(u, () => u.$.i.set(2 ** 53), 'i', 'safeInteger');
    await failsCleanly(u, () => u.$.n.incr(NaN), OperationError);
    await failsCleanly(u, () => u.$.n.mul(Infinity), OperationError);
  });

  it('keeps the sign of a -0 result, as JS arithmetic does', async () => {
    const u = await Num.create({ n: 0, i: 0 });
    expect(Object.is(await u.$.n.mul(-1), -0)).to.equal(true);
    expect(Object.is(u.n, -0)).to.equal(true);
    expect(Object.is((await Num.get(u.id)).n, -0)).to.equal(true);
    expect(Object.is(await u.$.n.incr(0), 0)).to.equal(true);
    await u.pipeline((p) => { p.n.set(-0.5); p.n.div(Number.MAX_VALUE); p.n.mul(0); });
    expect(Object.is((await synced(Num, u)).n, -0)).to.equal(true);
  });
});

// ---- strings -----------------------------------------------------------------------------------

const Str = defineModel('FoStr', {
  s: Type.String({ default: '' }),
  short: Type.String({ maxLength: 5, default: '' }),
});

describe('field ops: String', () => {
  it('set, append, prepend, repeat (immediate)', async () => {
    const u = await Str.create({});
    expect(await u.$.s.set('hello')).to.equal('hello');
    expect(await u.$.s.append(' world')).to.equal('hello world');
    expect(await u.$.s.prepend('>> ')).to.equal('>> hello world');
    expect(u.s).to.equal('>> hello world');
    expect((await synced(Str, u)).s).to.equal('>> hello world');
    await u.$.s.set('ab');
    expect(await u.$.s.repeat(3)).to.equal('ababab');
    expect(await u.$.s.repeat(1)).to.equal('ababab');
    expect(await u.$.s.repeat(0)).to.equal('');
    expect((await synced(Str, u)).s).to.equal('');
    expect(await u.$.s.append('')).to.equal('');
  });

  it('set, append, prepend, repeat (pipeline)', async () => {
    const u = await Str.create({ s: 'x' });
    await u.pipeline((p) => { p.s.set('ab'); p.s.append('c'); p.s.prepend('z'); p.s.repeat(3); p.s.append('!'); });
    expect(u.s).to.equal('zabczabczabc!');
    expect((await synced(Str, u)).s).to.equal('zabczabczabc!');
  });

  it('keeps unicode and control characters intact', async () => {
    const u = await Str.create({ s: 'héllo' });
    expect(await u.$.s.append(' wörld ✓ 🎉')).to.equal('héllo wörld ✓ 🎉');
    expect(await u.$.s.prepend('日本\u0000\n')).to.equal('日本\u0000\nhéllo wörld ✓ 🎉');
    await u.pipeline((p) => { p.s.set('é🎉'); p.s.repeat(2); p.s.append('\r\n"\\'); });
    expect(u.s).to.equal('é🎉é🎉\r\n"\\');
    expect((await synced(Str, u)).s).to.equal('é🎉é🎉\r\n"\\');
  });

  it('counts maxLength in code points, on the server as on the client', async () => {
    const u = await Str.create({ short: '🎉🎉🎉🎉' });
    expect(await u.$.short.append('é')).to.equal('🎉🎉🎉🎉é');
    await invalid(u, () => u.$.short.append('x'), 'short', 'maxLength');
    await invalid(u, () => u.$.short.prepend('🎉'), 'short', 'maxLength');
    await invalid(u, () => u.$.short.repeat(2), 'short', 'maxLength');
    await invalid(u, () => u.$.short.set('123456'), 'short', 'maxLength');
    await invalid(u, () => u.pipeline((p) => { p.s.set('written?'); p.short.append('x'); }), 'short', 'maxLength');
    await u.$.short.set('ab');
    await invalid(u, () => u.$.short.repeat(1000000), 'short', 'maxLength');
    expect((await synced(Str, u)).short).to.equal('ab');
  });

  it('refuses a negative or fractional repeat count with OperationError', async () => {
    const u = await Str.create({ s: 'ab' });
    await failsCleanly(u, () => u.$.s.repeat(-1), OperationError);
    await failsCleanly(u, () => u.$.s.repeat(1.5), OperationError);
  });
});

// ---- bytes -------------------------------------------------------------------------------------

const Bin = defineModel('FoBin', {
  b: t.Bytes({ default: () => new Uint8Array() }),
  small: t.Bytes({ maxLength: 4, default: () => new Uint8Array() }),
});

describe('field ops: Bytes', () => {
  it('set, append, setRange, truncate (immediate), 0x00 included', async () => {
    const u = await Bin.create({});
    expect(await u.$.b.set(bytes(0, 1, 0))).to.deep.equal(bytes(0, 1, 0));
    expect(await u.$.b.append(bytes(0, 255))).to.deep.equal(bytes(0, 1, 0, 0, 255));
    expect(await u.$.b.setRange(1, bytes(9, 9))).to.deep.equal(bytes(0, 9, 9, 0, 255));
    expect(await u.$.b.setRange(0, bytes())).to.deep.equal(bytes(0, 9, 9, 0, 255));
    expect(await u.$.b.setRange(4, bytes(7, 8))).to.deep.equal(bytes(0, 9, 9, 0, 7, 8));
    expect(await u.$.b.setRange(6, bytes(1))).to.deep.equal(bytes(0, 9, 9, 0, 7, 8, 1));
    expect(await u.$.b.setRange(10, bytes(5, 0))).to.deep.equal(bytes(0, 9, 9, 0, 7, 8, 1, 0, 0, 0, 5, 0));
    expect(u.b).to.be.instanceOf(Uint8Array);
    expect((await synced(Bin, u)).b).to.deep.equal(bytes(0, 9, 9, 0, 7, 8, 1, 0, 0, 0, 5, 0));
    expect(await u.$.b.truncate(20)).to.deep.equal(bytes(0, 9, 9, 0, 7, 8, 1, 0, 0, 0, 5, 0));
    expect(await u.$.b.truncate(3)).to.deep.equal(bytes(0, 9, 9));
    expect(await u.$.b.truncate(0)).to.deep.equal(bytes());
    expect((await synced(Bin, u)).b).to.deep.equal(bytes());
  });

  it('set, append, setRange, truncate (pipeline)', async () => {
    const u = await Bin.create({ b: bytes(1, 2, 3) });
    await u.pipeline((p) => {
      p.b.append(bytes(0, 0));
      p.b.setRange(7, bytes(255));
      p.b.truncate(6);
      p.b.setRange(0, bytes(0));
    });
    expect(u.b).to.deep.equal(bytes(0, 2, 3, 0, 0, 0));
    expect((await synced(Bin, u)).b).to.deep.equal(bytes(0, 2, 3, 0, 0, 0));
    await u.pipeline((p) => { p.b.set(bytes(0xc3, 0x28)); p.b.append(bytes(0xff, 0xfe, 0x00)); });
    expect((await synced(Bin, u)).b).to.deep.equal(bytes(0xc3, 0x28, 0xff, 0xfe, 0x00));
  });

  it('checks maxLength in bytes; refuses negative offsets and lengths', async () => {
    const u = await Bin.create({ small: bytes(0, 0, 0) });
    expect(await u.$.small.append(bytes(0))).to.deep.equal(bytes(0, 0, 0, 0));
    await invalid(u, () => u.$.small.append(bytes(0)), 'small', 'maxLength');
    await invalid(u, () => u.$.small.setRange(4, bytes(1)), 'small', 'maxLength');
    await invalid(u, () => u.pipeline((p) => { p.b.set(bytes(1)); p.small.setRange(10, bytes()); }), 'small', 'maxLength');
    await failsCleanly(u, () => u.$.b.setRange(-1, bytes(1)), OperationError);
    await failsCleanly(u, () => u.$.b.truncate(-1), OperationError);
    await failsCleanly(u, () => u.$.b.setRange(1.5, bytes(1)), OperationError);
    await failsCleanly(u, () => u.$.b.truncate(1.5), OperationError);
  });
});

// ---- dates -------------------------------------------------------------------------------------

const When = defineModel('FoWhen', {
  at: t.DateTime({ default: () => new Date(0) }),
  until: t.DateTime({ maximum: new Date('2030-01-01T00:00:00.000Z'), default: () => new Date('2029-12-31T23:59:00.000Z') }),
});

const d = (iso: string): Date => new Date(iso);

describe('field ops: DateTime', () => {
  it('set, add(ms), add(duration), sub (immediate)', async () => {
    const u = await When.create({});
    expect(await u.$.at.set(d('2024-05-01T10:00:00.000Z'))).to.deep.equal(d('2024-05-01T10:00:00.000Z'));
    expect(await u.$.at.add(1500)).to.deep.equal(d('2024-05-01T10:00:01.500Z'));
    expect(await u.$.at.add({ days: 1, hours: 2, minutes: 3, seconds: 4, ms: 5 })).to.deep.equal(d('2024-05-02T12:03:05.505Z'));
    expect(await u.$.at.sub({ hours: 12 })).to.deep.equal(d('2024-05-02T00:03:05.505Z'));
    expect(await u.$.at.sub(505)).to.deep.equal(d('2024-05-02T00:03:05.000Z'));
    expect(await u.$.at.add(-5000)).to.deep.equal(d('2024-05-02T00:03:00.000Z'));
    expect(u.at).to.be.instanceOf(Date);
    expect((await synced(When, u)).at).to.deep.equal(d('2024-05-02T00:03:00.000Z'));
  });

  it('crosses month ends, leap days and years exactly', async () => {
    const u = await When.create({ at: d('2024-02-28T23:59:59.999Z') });
    expect(await u.$.at.add({ days: 1 })).to.deep.equal(d('2024-02-29T23:59:59.999Z'));
    expect(await u.$.at.add(1)).to.deep.equal(d('2024-03-01T00:00:00.000Z'));
    expect(await u.$.at.sub({ ms: 1 })).to.deep.equal(d('2024-02-29T23:59:59.999Z'));
    expect(await u.$.at.sub({ days: 366 })).to.deep.equal(d('2023-02-28T23:59:59.999Z'));
    expect(await u.$.at.add({ days: 1 })).to.deep.equal(d('2023-03-01T23:59:59.999Z'));
    await u.$.at.set(d('2023-12-31T23:59:59.999Z'));
    expect(await u.$.at.add(1)).to.deep.equal(d('2024-01-01T00:00:00.000Z'));
    expect(await u.$.at.sub({ seconds: 1 })).to.deep.equal(d('2023-12-31T23:59:59.000Z'));
    expect(await u.$.at.set(new Date(0))).to.deep.equal(new Date(0));
    expect(await u.$.at.sub({ days: 1 })).to.deep.equal(d('1969-12-31T00:00:00.000Z'));
    expect((await synced(When, u)).at).to.deep.equal(d('1969-12-31T00:00:00.000Z'));
  });

  it('add, sub, set (pipeline)', async () => {
    const u = await When.create({ at: d('2024-02-28T23:59:59.999Z') });
    await u.pipeline((p) => { p.at.add({ days: 1 }); p.at.add(1); p.at.add({ hours: 24 * 306 }); p.at.sub({ minutes: 1 }); });
    expect(u.at).to.deep.equal(d('2024-12-31T23:59:00.000Z'));
    expect((await synced(When, u)).at).to.deep.equal(d('2024-12-31T23:59:00.000Z'));
    await u.pipeline((p) => { p.at.set(d('2000-01-01T00:00:00.000Z')); p.at.add({ days: 59 }); });
    expect((await synced(When, u)).at).to.deep.equal(d('2000-02-29T00:00:00.000Z'));
  });

  it('setNow uses the server clock (immediate and pipeline)', async () => {
    const u = await When.create({});
    const before = Date.now();
    const now = await u.$.at.setNow();
    expect(now).to.be.instanceOf(Date);
    expect(Math.abs(now.getTime() - before)).to.be.lessThan(5000);
    expect(u.at).to.deep.equal(now);
    await u.$.at.set(new Date(0));
    await u.pipeline((p) => { p.at.setNow(); p.at.add({ days: 1 }); });
    expect(Math.abs(u.at.getTime() - 86_400_000 - Date.now())).to.be.lessThan(5000);
    await synced(When, u);
  });

  it('a result past the maximum raises ValidationError and writes nothing', async () => {
    const u = await When.create({});
    await invalid(u, () => u.$.until.add({ seconds: 61 }), 'until', 'maximum');
    await invalid(u, () => u.pipeline((p) => { p.at.setNow(); p.until.add({ days: 1 }); }), 'until', 'maximum');
    expect(await u.$.until.add({ seconds: 60 })).to.deep.equal(d('2030-01-01T00:00:00.000Z'));
  });
});

// ---- booleans ----------------------------------------------------------------------------------

const Flag = defineModel('FoFlag', { on: Type.Boolean({ default: false }), other: Type.Boolean({ default: true }) });

describe('field ops: Boolean', () => {
  it('set and toggle (immediate)', async () => {
    const u = await Flag.create({});
    expect(await u.$.on.set(true)).to.equal(true);
    expect(u.on).to.equal(true);
    expect(await u.$.on.toggle()).to.equal(false);
    expect(u.on).to.equal(false);
    expect((await synced(Flag, u)).on).to.equal(false);
    expect(await u.$.on.toggle()).to.equal(true);
    expect(await u.$.on.set(true)).to.equal(true);
    expect((await synced(Flag, u)).on).to.equal(true);
  });

  it('set and toggle (pipeline)', async () => {
    const u = await Flag.create({});
    await u.pipeline((p) => { p.on.toggle(); p.on.toggle(); p.on.toggle(); p.other.set(false); p.other.toggle(); p.other.toggle(); });
    expect(u.toJSON()).to.deep.equal({ on: true, other: false });
    await synced(Flag, u);
  });
});

// ---- arrays ------------------------------------------------------------------------------------

const Arr = defineModel('FoArr', {
  tags: Type.Array(Type.String(), { default: [] }),
  nums: Type.Array(Type.Integer(), { default: [] }),
  items: Type.Array(Type.Object({ sku: Type.String(), qty: Type.Integer(), at: t.DateTime() }), { default: [] }),
  few: Type.Array(Type.String(), { minItems: 1, maxItems: 3, default: ['a'] }),
});

const item = (sku: string, qty: number) => ({ sku, qty, at: new Date(qty * 1000) });

describe('field ops: Array', () => {
  it('append and prepend several items (unshift order), immediate', async () => {
    const u = await Arr.create({});
    expect(await u.$.tags.append('a', 'b', 'c')).to.deep.equal(['a', 'b', 'c']);
    expect(await u.$.tags.prepend('x', 'y')).to.deep.equal(['x', 'y', 'a', 'b', 'c']);
    expect(await u.$.tags.prepend('w')).to.deep.equal(['w', 'x', 'y', 'a', 'b', 'c']);
    expect(await u.$.tags.append('z')).to.deep.equal(['w', 'x', 'y', 'a', 'b', 'c', 'z']);
    expect(u.tags).to.deep.equal(['w', 'x', 'y', 'a', 'b', 'c', 'z']);
    expect((await synced(Arr, u)).tags).to.deep.equal(['w', 'x', 'y', 'a', 'b', 'c', 'z']);
  });

  it('insert in the middle, at negative indices, past either end', async () => {
    const u = await Arr.create({ nums: [1, 2, 3] });
    const expected = [1, 2, 3];
    for (const [i, x] of [[1, 10], [-1, 20], [100, 30], [-100, 40], [0, 50], [5, 60], [-2, 70], [3, 80]]) {
      py.insert(expected, i, x);
      expect(await u.$.nums.insert(i, x), `insert(${i}, ${x})`).to.deep.equal(expected);
    }
    expect(expected).to.deep.equal([50, 40, 1, 80, 10, 2, 60, 20, 70, 3, 30]);
    expect((await synced(Arr, u)).nums).to.deep.equal(expected);
  });

  it('setAt with positive and negative indices; past the end is an OperationError', async () => {
    const u = await Arr.create({ tags: ['a', 'b', 'c'] });
    expect(await u.$.tags.setAt(0, 'A')).to.deep.equal(['A', 'b', 'c']);
    expect(await u.$.tags.setAt(-1, 'C')).to.deep.equal(['A', 'b', 'C']);
    expect(await u.$.tags.setAt(1, '')).to.deep.equal(['A', '', 'C']);
    await failsCleanly(u, () => u.$.tags.setAt(3, 'x'), OperationError);
    await failsCleanly(u, () => u.$.tags.setAt(-4, 'x'), OperationError);
    expect((await synced(Arr, u)).tags).to.deep.equal(['A', '', 'C']);
  });

  it('pop() / pop(0) / pop(i) / pop(-i) return the removed item; pop on empty is undefined', async () => {
    const u = await Arr.create({ tags: ['a', 'b', 'c', 'd', 'e', 'f'] });
    expect(await u.$.tags.pop()).to.equal('f');
    expect(await u.$.tags.pop(0)).to.equal('a');
    expect(u.tags).to.deep.equal(['b', 'c', 'd', 'e']);
    expect(await u.$.tags.pop(1)).to.equal('c');
    expect(await u.$.tags.pop(-2)).to.equal('d');
    expect(u.tags).to.deep.equal(['b', 'e']);
    expect((await synced(Arr, u)).tags).to.deep.equal(['b', 'e']);
    await failsCleanly(u, () => u.$.tags.pop(2), OperationError);
    await failsCleanly(u, () => u.$.tags.pop(-3), OperationError);
    expect(await u.$.tags.pop()).to.equal('e');
    expect(await u.$.tags.pop(0)).to.equal('b');
    expect(await u.$.tags.pop()).to.equal(undefined);
    expect(await u.$.tags.pop(0)).to.equal(undefined);
    expect(u.tags).to.deep.equal([]);
    expect((await synced(Arr, u)).tags).to.deep.equal([]);
  });

  it('remove removes the first equal item only and says whether it found one', async () => {
    const u = await Arr.create({ tags: ['a', 'b', 'c', 'b'], nums: [1, 2, 1] });
    expect(await u.$.tags.remove('b')).to.equal(true);
    expect(u.tags).to.deep.equal(['a', 'c', 'b']);
    expect(await u.$.tags.remove('zz')).to.equal(false);
    expect(await u.$.nums.remove(1)).to.equal(true);
    expect(await u.$.nums.remove(3)).to.equal(false);
    expect(u.nums).to.deep.equal([2, 1]);
    const back = await synced(Arr, u);
    expect(back.tags).to.deep.equal(['a', 'c', 'b']);
    expect(back.nums).to.deep.equal([2, 1]);
  });

  it('removeAt returns the removed item; past the end is an OperationError', async () => {
    const u = await Arr.create({ tags: ['a', 'b', 'c', 'd'] });
    expect(await u.$.tags.removeAt(1)).to.equal('b');
    expect(await u.$.tags.removeAt(-1)).to.equal('d');
    expect(await u.$.tags.removeAt(0)).to.equal('a');
    await failsCleanly(u, () => u.$.tags.removeAt(1), OperationError);
    expect((await synced(Arr, u)).tags).to.deep.equal(['c']);
  });

  const slices: [number, number | undefined][] = [
    [2, 5], [-3, undefined], [-3, -1], [5, 2], [-100, 3], [8, 100], [0, undefined], [3, undefined],
    [-1, -2], [0, 10], [10, undefined], [-10, -9], [1, -1], [0, 0], [9, 10], [4, -5],
  ];
  for (const [start, end] of slices) {
    it(`removeRange(${start}, ${end}) follows Python slice deletion (immediate and pipeline)`, async () => {
      const base = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
      const expected = [...base];
      py.delSlice(expected, start, end);
      const u = await Arr.create({ nums: base });
      expect(await u.$.nums.removeRange(start, end)).to.deep.equal(expected);
      expect((await synced(Arr, u)).nums).to.deep.equal(expected);
      const v = await Arr.create({ nums: base });
      await v.pipeline((p) => { p.nums.removeRange(start, end); });
      expect(v.nums).to.deep.equal(expected);
      expect((await synced(Arr, v)).nums).to.deep.equal(expected);
    });
  }

  it('clear and set', async () => {
    const u = await Arr.create({ tags: ['a', 'b'] });
    expect(await u.$.tags.clear()).to.deep.equal([]);
    expect((await synced(Arr, u)).tags).to.deep.equal([]);
    expect(await u.$.tags.set(['x', 'y', 'z'])).to.deep.equal(['x', 'y', 'z']);
    await u.$.tags.pop(0);
    expect(await u.$.tags.set(['p'])).to.deep.equal(['p']);
    expect((await synced(Arr, u)).tags).to.deep.equal(['p']);
    expect(await u.$.tags.set([])).to.deep.equal([]);
    expect((await synced(Arr, u)).tags).to.deep.equal([]);
  });

  it('arrays of objects: append, prepend, insert, setAt, pop, remove by deep equality, removeAt', async () => {
    const u = await Arr.create({});
    expect(await u.$.items.append(item('a', 1), item('b', 2))).to.deep.equal([item('a', 1), item('b', 2)]);
    expect(await u.$.items.prepend(item('z', 0))).to.deep.equal([item('z', 0), item('a', 1), item('b', 2)]);
    await u.$.items.insert(1, item('m', 5));
    await u.$.items.setAt(-1, item('B', 2));
    expect(u.items).to.deep.equal([item('z', 0), item('m', 5), item('a', 1), item('B', 2)]);
    expect(await u.$.items.remove({ sku: 'a', qty: 1, at: new Date(999) })).to.equal(false);
    expect(await u.$.items.remove(item('a', 1))).to.equal(true);
    expect(await u.$.items.pop()).to.deep.equal(item('B', 2));
    expect(await u.$.items.removeAt(0)).to.deep.equal(item('z', 0));
    expect(await u.$.items.pop(0)).to.deep.equal(item('m', 5));
    expect(await u.$.items.pop()).to.equal(undefined);
    await u.pipeline((p) => {
      p.items.append(item('a', 1), item('b', 2), item('a', 1));
      p.items.remove(item('a', 1));
      p.items.prepend(item('c', 3));
      p.items.insert(1, item('d', 4));
    });
    expect(u.items).to.deep.equal([item('c', 3), item('d', 4), item('b', 2), item('a', 1)]);
    expect((await synced(Arr, u)).items).to.deep.equal([item('c', 3), item('d', 4), item('b', 2), item('a', 1)]);
  });

  it('remove compares stored objects by value, whatever the key order of the stored JSON', async () => {
    const u = await Arr.create({ items: [item('a', 1), item('b', 2)] });
    // the same object, written by another client with its keys in another order
    await raw.hSet(u.key, 'items[0]', JSON.stringify({ at: 1000, qty: 1, sku: 'a' }));
    expect(await u.$.items.remove(item('a', 1))).to.equal(true);
    expect((await synced(Arr, u)).items).to.deep.equal([item('b', 2)]);
  });

  it('mixes every array op in one pipeline, like the same calls on a Python list', async () => {
    const u = await Arr.create({ tags: ['a', 'b', 'c', 'd'] });
    const expected = ['a', 'b', 'c', 'd'];
    await u.pipeline((p) => {
      p.tags.append('e', 'f'); expected.push('e', 'f');
      p.tags.prepend('0', '1'); expected.unshift('0', '1');
      p.tags.pop(); py.pop(expected);
      p.tags.pop(0); py.pop(expected, 0);
      p.tags.insert(2, 'mid'); py.insert(expected, 2, 'mid');
      p.tags.append('g'); expected.push('g');
      p.tags.prepend('p'); expected.unshift('p');
      p.tags.setAt(-2, 'E'); expected[expected.length - 2] = 'E';
      p.tags.remove('c'); expected.splice(expected.indexOf('c'), 1);
      p.tags.removeAt(1); py.pop(expected, 1);
      p.tags.removeRange(-2); py.delSlice(expected, -2);
      p.tags.pop(0); py.pop(expected, 0);
      p.tags.append('h', 'i'); expected.push('h', 'i');
      p.tags.removeRange(0, 1); py.delSlice(expected, 0, 1);
      p.tags.insert(-1, 'j'); py.insert(expected, -1, 'j');
      p.tags.pop(); py.pop(expected);
      p.tags.prepend('q'); expected.unshift('q');
    });
    expect(u.tags).to.deep.equal(expected);
    expect((await synced(Arr, u)).tags).to.deep.equal(expected);
    await u.pipeline((p) => { p.tags.clear(); p.tags.append('x'); p.tags.prepend('w'); });
    expect((await synced(Arr, u)).tags).to.deep.equal(['w', 'x']);
    await u.pipeline((p) => { p.tags.set(['1', '2', '3']); p.tags.pop(0); p.tags.append('4'); p.tags.removeRange(1, 2); });
    expect((await synced(Arr, u)).tags).to.deep.equal(['2', '4']);
  });

  it('runs a random sequence of array ops, immediate and pipelined, like a Python list', async () => {
    let seed = 12345;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const u = await Arr.create({ nums: [0, 1, 2] });
    const expected = [0, 1, 2];
    let next = 100;
    const step = (h: any): unknown => {
      const len = expected.length;
      switch (rand(8)) {
        case 0: { const a = next++; const b = next++; expected.push(a, b); return h.append(a, b); }
        case 1: { const a = next++; expected.unshift(a); return h.prepend(a); }
        case 2: { const i = rand(len + 3) - 1; const x = next++; py.insert(expected, i, x); return h.insert(i, x); }
        case 3: if (len === 0) return undefined; { const i = rand(len); expected[i] = next; return h.setAt(i, next++); }
        case 4: if (len === 0) return undefined; { const i = rand(len) - (rand(2) ? len : 0); py.pop(expected, i); return h.pop(i); }
        case 5: if (len === 0) return undefined; { const i = rand(len); const x = expected[i]; expected.splice(i, 1); return h.remove(x); }
        case 6: { const a = rand(len + 2) - 1; const b = rand(len + 2) - 1; py.delSlice(expected, a, b); return h.removeRange(a, b); }
        default: if (len === 0) return undefined; { const i = rand(len); py.pop(expected, i); return h.removeAt(i); }
      }
    };
    for (let round = 0; round < 30; round++) {
      if (round % 2 === 0) {
        await step(u.$.nums);
      } else {
        await u.pipeline((p) => { for (let k = 0; k < 6; k++) step(p.nums); });
      }
      expect(u.nums, `round ${round}`).to.deep.equal(expected);
    }
    expect((await synced(Arr, u)).nums).to.deep.equal(expected);
  });

  it('minItems and maxItems: every op that would break them raises ValidationError and writes nothing', async () => {
    const u = await Arr.create({ few: ['a', 'b'] });
    expect(await u.$.few.append('c')).to.deep.equal(['a', 'b', 'c']);
    await invalid(u, () => u.$.few.append('d'), 'few', 'maxItems');
    await invalid(u, () => u.$.few.prepend('d'), 'few', 'maxItems');
    await invalid(u, () => u.$.few.insert(1, 'd'), 'few', 'maxItems');
    await invalid(u, () => u.$.few.insert(9, 'd'), 'few', 'maxItems');
    await invalid(u, () => u.$.few.set(['1', '2', '3', '4']), 'few', 'maxItems');
    await invalid(u, () => u.pipeline((p) => { p.tags.append('x'); p.few.pop(); p.few.append('d', 'e'); }), 'few', 'maxItems');
    await u.$.few.removeRange(1);
    expect(u.few).to.deep.equal(['a']);
    await invalid(u, () => u.$.few.pop(), 'few', 'minItems');
    await invalid(u, () => u.$.few.pop(0), 'few', 'minItems');
    await invalid(u, () => u.$.few.removeAt(0), 'few', 'minItems');
    await invalid(u, () => u.$.few.remove('a'), 'few', 'minItems');
    await invalid(u, () => u.$.few.removeRange(0), 'few', 'minItems');
    await invalid(u, () => u.$.few.clear(), 'few', 'minItems');
    await invalid(u, () => u.$.few.set([]), 'few', 'minItems');
    await invalid(u, () => u.pipeline((p) => { p.few.append('b'); p.few.removeRange(0); }), 'few', 'minItems');
    expect((await synced(Arr, u)).few).to.deep.equal(['a']);
  });

  it('refuses fractional indices with OperationError', async () => {
    const u = await Arr.create({ tags: ['a', 'b', 'c'] });
    for (const op of [
      () => u.$.tags.insert(1.5, 'x'), () => u.$.tags.setAt(0.5, 'x'), () => u.$.tags.pop(0.5),
      () => u.$.tags.removeAt(1.5), () => u.$.tags.removeRange(0.5, 2), () => u.$.tags.removeRange(0, 1.5),
      () => u.pipeline((p) => { p.tags.append('d'); p.tags.insert(-0.5, 'x'); }),
    ]) await failsCleanly(u, op, OperationError);
    expect((await synced(Arr, u)).tags).to.deep.equal(['a', 'b', 'c']);
  });

  it('refuses items that break the item schema before sending anything', async () => {
    const u = await Arr.create({});
    await invalid(u, () => u.$.nums.append(1, 2.5), 'nums.1', 'integer');
    await invalid(u, () => u.$.tags.append(3 as unknown as string), 'tags.0', 'type');
  });
});

// ---- records (dicts) ---------------------------------------------------------------------------

const Dict = defineModel('FoDict', {
  notes: Type.Record(Type.String(), Type.String(), { default: {} }),
  counts: Type.Record(Type.String(), Type.Integer({ maximum: 1000 }), { default: {} }),
  scores: Type.Record(Type.String(), Type.Number(), { default: {} }),
  objs: Type.Record(Type.String(), Type.Object({ n: Type.Integer(), when: t.DateTime() }), { default: {} }),
  label: Type.String({ default: 'unchanged' }),
});

const AWKWARD_KEYS = ['a.b', 'with space', 'line\nbreak', '', 'ünï 🎉', '[0]', 'x@', 'notes', '.', 'a.b.'];

describe('field ops: Record (dict)', () => {
  it('setItem with awkward keys (immediate)', async () => {
    const u = await Dict.create({});
    const expected: Record<string, string> = {};
    for (const [i, k] of AWKWARD_KEYS.entries()) {
      expected[k] = `v${i}`;
      expect(await u.$.notes.setItem(k, `v${i}`), JSON.stringify(k)).to.deep.equal(expected);
    }
    expected['a.b'] = 'over';
    expect(await u.$.notes.setItem('a.b', 'over')).to.deep.equal(expected);
    expect(u.notes).to.deep.equal(expected);
    expect((await synced(Dict, u)).notes).to.deep.equal(expected);
    expect(await raw.hGet(u.key, 'notes')).to.equal(String(AWKWARD_KEYS.length));
  });

  it('setItem, update, delete, pop, popItem, clear, set (pipeline)', async () => {
    const u = await Dict.create({ notes: { a: '1', b: '2' } });
    await u.pipeline((p) => {
      p.notes.setItem('', 'empty');
      p.notes.update({ 'a.b': 'x', b: 'B', 'c\nd': 'y' });
      p.notes.delete('a');
      p.notes.pop('b');
      p.notes.pop('missing', 'dflt');
    });
    expect(u.notes).to.deep.equal({ '': 'empty', 'a.b': 'x', 'c\nd': 'y' });
    expect((await synced(Dict, u)).notes).to.deep.equal({ '': 'empty', 'a.b': 'x', 'c\nd': 'y' });
    await u.pipeline((p) => { p.notes.popItem(); p.notes.popItem(); });
    expect((await synced(Dict, u)).notes).to.deep.equal({ '': 'empty' });
    await u.pipeline((p) => { p.notes.clear(); p.notes.setItem('k', 'v'); });
    expect((await synced(Dict, u)).notes).to.deep.equal({ k: 'v' });
    await u.pipeline((p) => { p.notes.set({ k: 'w', z: 'z' }); p.notes.delete('z'); p.notes.setItem('n', 'm'); });
    expect((await synced(Dict, u)).notes).to.deep.equal({ k: 'w', n: 'm' });
    expect(await raw.hGet(u.key, 'notes')).to.equal('2');
  });

  it('update merges, set replaces, clear empties (immediate)', async () => {
    const u = await Dict.create({ notes: { a: '1', 'b.c': '2' } });
    expect(await u.$.notes.update({ 'b.c': 'B', d: '4', '': '' })).to.deep.equal({ a: '1', 'b.c': 'B', d: '4', '': '' });
    expect((await synced(Dict, u)).notes).to.deep.equal({ a: '1', 'b.c': 'B', d: '4', '': '' });
    expect(await u.$.notes.update({})).to.deep.equal({ a: '1', 'b.c': 'B', d: '4', '': '' });
    expect(await u.$.notes.set({ x: 'X', a: 'A' })).to.deep.equal({ x: 'X', a: 'A' });
    expect((await synced(Dict, u)).notes).to.deep.equal({ x: 'X', a: 'A' });
    expect(await raw.hGet(u.key, 'notes')).to.equal('2');
    expect(await u.$.notes.clear()).to.deep.equal({});
    expect((await synced(Dict, u)).notes).to.deep.equal({});
    expect(await raw.hGet(u.key, 'notes')).to.equal('0');
    expect(await u.$.notes.set({})).to.deep.equal({});
  });

  it('delete returns the old value (undefined when absent)', async () => {
    const u = await Dict.create({ notes: { a: '1', 'a.b': '2' } });
    expect(await u.$.notes.delete('a')).to.equal('1');
    expect(await u.$.notes.delete('a')).to.equal(undefined);
    expect(u.notes).to.deep.equal({ 'a.b': '2' });
    expect((await synced(Dict, u)).notes).to.deep.equal({ 'a.b': '2' });
    expect(await raw.hGet(u.key, 'notes')).to.equal('1');
  });

  it('pop with and without a default; a missing key without one is an OperationError', async () => {
    const u = await Dict.create({ notes: { a: '1', b: '2' } });
    expect(await u.$.notes.pop('a')).to.equal('1');
    expect(await u.$.notes.pop('b', 'dflt')).to.equal('2');
    expect(await u.$.notes.pop('a', 'dflt')).to.equal('dflt');
    expect(await u.$.notes.pop('a', '')).to.equal('');
    expect(u.notes).to.deep.equal({});
    await failsCleanly(u, () => u.$.notes.pop('a'), OperationError);
    await u.$.notes.setItem('k', 'v');
    await failsCleanly(u, () => u.pipeline((p) => { p.notes.pop('k'); p.label.set('written?'); p.notes.pop('k'); }), OperationError);
    expect((await synced(Dict, u)).notes).to.deep.equal({ k: 'v' });
  });

  it('popItem removes and returns the entry with the greatest key; empty is an OperationError', async () => {
    const u = await Dict.create({ notes: { b: '2', 'a.z': '1', c: '3', '': '0' } });
    expect(await u.$.notes.popItem()).to.deep.equal(['c', '3']);
    expect(await u.$.notes.popItem()).to.deep.equal(['b', '2']);
    expect(await u.$.notes.popItem()).to.deep.equal(['a.z', '1']);
    expect(await u.$.notes.popItem()).to.deep.equal(['', '0']);
    expect(u.notes).to.deep.equal({});
    await failsCleanly(u, () => u.$.notes.popItem(), OperationError);
    expect((await synced(Dict, u)).notes).to.deep.equal({});
  });

  it('incr on numeric values: missing keys count as 0, constraints checked per value', async () => {
    const u = await Dict.create({ counts: { a: 1 } });
    expect(await u.$.counts.incr('a', 5)).to.equal(6);
    expect(await u.$.counts.incr('a')).to.equal(7);
    expect(await u.$.counts.incr('new.key', -3)).to.equal(-3);
    expect(u.counts).to.deep.equal({ a: 7, 'new.key': -3 });
    expect((await synced(Dict, u)).counts).to.deep.equal({ a: 7, 'new.key': -3 });
    expect(await raw.hGet(u.key, 'counts')).to.equal('2');
    await invalid(u, () => u.$.counts.incr('a', 994), 'counts.a', 'maximum');
    await invalid(u, () => u.$.counts.incr('b', 0.5), 'counts.b', 'integer');
    await invalid(u, () => u.pipeline((p) => { p.counts.incr('a', 1); p.counts.incr('a', 1000); }), 'counts.a', 'maximum');
    expect(await u.$.scores.incr('x', 0.1)).to.equal(0.1);
    expect(await u.$.scores.incr('x', 0.2)).to.equal(0.1 + 0.2);
    await u.pipeline((p) => { p.counts.incr('a', 3); p.counts.incr('a', -10); p.scores.incr('y'); p.scores.incr('x', -0.5); });
    expect(u.counts).to.deep.equal({ a: 0, 'new.key': -3 });
    expect(u.scores).to.deep.equal({ x: 0.1 + 0.2 - 0.5, y: 1 });
    await synced(Dict, u);
  });

  it('object values: setItem, update, pop, delete, popItem', async () => {
    const u = await Dict.create({});
    const o = (n: number) => ({ n, when: new Date(n) });
    expect(await u.$.objs.setItem('a b', o(1))).to.deep.equal({ 'a b': o(1) });
    await u.$.objs.update({ 'x.y': o(2), z: o(3) });
    expect(await u.$.objs.pop('x.y')).to.deep.equal(o(2));
    expect(await u.$.objs.pop('x.y', o(9))).to.deep.equal(o(9));
    expect(await u.$.objs.popItem()).to.deep.equal(['z', o(3)]);
    expect(await u.$.objs.delete('a b')).to.deep.equal(o(1));
    await u.pipeline((p) => { p.objs.set({ k: o(4) }); p.objs.setItem('k', o(5)); });
    expect((await synced(Dict, u)).objs).to.deep.equal({ k: o(5) });
    await invalid(u, () => u.$.objs.setItem('bad', { n: 1.5, when: new Date(0) }), 'objs.bad.n', 'integer');
  });
});

// ---- nested objects ----------------------------------------------------------------------------

const Person = defineModel('FoPerson', {
  name: Type.String(),
  address: Type.Optional(Type.Object({
    city: Type.String({ maxLength: 20 }),
    zip: Type.String(),
    geo: Type.Object({ lat: Type.Number(), visits: Type.Integer({ minimum: 0 }) }),
    tags: Type.Array(Type.String(), { default: [] }),
  })),
});

describe('field ops: nested objects', () => {
  it('reaches nested fields recursively, immediate and pipelined', async () => {
    const u = await Person.create({ name: 'Ann', address: { city: 'Lyon', zip: '69000', geo: { lat: 45.75, visits: 0 }, tags: [] } });
    expect(await u.$.address.city.set('Paris')).to.equal('Paris');
    expect(u.address!.city).to.equal('Paris');
    expect(await u.$.address.geo.visits.incr()).to.equal(1);
    await u.pipeline((p) => {
      p.address.city.append(' 15e');
      p.address.zip.set('75015');
      p.address.geo.lat.incr(0.25);
      p.address.geo.visits.incr(2);
      p.address.tags.append('home');
    });
    const expected = { name: 'Ann', address: { city: 'Paris 15e', zip: '75015', geo: { lat: 46, visits: 3 }, tags: ['home'] } };
    expect(u.toJSON()).to.deep.equal(expected);
    expect(await synced(Person, u)).to.deep.equal(expected);
    await invalid(u, () => u.$.address.geo.visits.decr(4), 'address.geo.visits', 'minimum');
    await invalid(u, () => u.pipeline((p) => { p.name.set('x'); p.address.city.repeat(3); }), 'address.city', 'maxLength');
  });

  it('refuses to write into an absent optional object, which would leave it partial', async () => {
    const u = await Person.create({ name: 'Bob' });
    await failsCleanly(u, () => u.$.address.city.set('Paris'), OperationError);
    await failsCleanly(u, () => u.$.address.geo.visits.incr(), OperationError);
    await failsCleanly(u, () => u.$.address.tags.append('home'), OperationError);
    await failsCleanly(u, () => u.pipeline((p) => { p.name.set('x'); p.address.zip.set('75015'); }), OperationError);
    expect(await synced(Person, u)).to.deep.equal({ name: 'Bob' });
  });
});

// ---- atomicity, staleness, concurrency, size ---------------------------------------------------

const All = defineModel('FoAll', {
  i: Type.Integer({ default: 0 }),
  s: Type.String({ maxLength: 30, default: '' }),
  b: t.Bytes({ default: () => new Uint8Array([0, 1, 0]) }),
  at: t.DateTime({ default: () => new Date(0) }),
  on: Type.Boolean({ default: false }),
  tags: Type.Array(Type.String(), { maxItems: 10, default: [] }),
  notes: Type.Record(Type.String(), Type.String(), { default: {} }),
  address: Type.Object({ city: Type.String() }, { default: { city: 'Lyon' } }),
});

describe('field ops: all or nothing', () => {
  const failing: [string, (p: any) => void, ErrorClass<Error>][] = [
    ['a division by zero', (p) => p.i.div(0), OperationError],
    ['an index past the end', (p) => p.tags.pop(50), OperationError],
    ['a missing dict key', (p) => p.notes.pop('nope'), OperationError],
    ['a maxLength violation', (p) => p.s.repeat(10), ValidationError],
    ['a maxItems violation', (p) => p.tags.append('1', '2', '3', '4', '5', '6', '7', '8'), ValidationError],
    ['an overflow past 2^53', (p) => p.i.pow(80), ValidationError],
  ];
  for (const [what, last, cls] of failing) {
    it(`a pipeline whose last op fails with ${what} leaves the key byte-for-byte unchanged`, async () => {
      const u = await All.create({ tags: ['a', 'b'], notes: { k: 'v' } });
      await u.$.tags.prepend('z');
      const stored = await All.get(u.id);
      await failsCleanly(u, () => u.pipeline((p) => {
        p.i.incr(5);
        p.s.append('hello');
        p.b.setRange(5, bytes(0, 9));
        p.at.add({ days: 1 });
        p.on.toggle();
        p.tags.append('c');
        p.tags.insert(1, 'm');
        p.tags.pop(0);
        p.notes.setItem('new', 'x');
        p.notes.delete('k');
        p.address.city.set('Paris');
        last(p);
      }), cls);
      const before = await dump(u.key);
      await failsCleanly(u, () => All.pipeline(u.id, (p) => { p.i.set(3); p.s.set('abcdef'); p.notes.clear(); p.on.set(true); last(p); }), cls);
      expect(await dump(u.key)).to.deep.equal(before);
      expect((await All.get(u.id)).toJSON()).to.deep.equal(stored.toJSON());
    });
  }
});

const Counter = defineModel('FoCounter', {
  score: Type.Integer({ default: 0 }),
  name: Type.String({ default: '' }),
  log: Type.String({ default: '' }),
  tags: Type.Array(Type.String(), { default: [] }),
});

describe('field ops: server-relative semantics', () => {
  it('operations apply to the server value, and the record then holds the server state', async () => {
    const u = await Counter.create({ score: 10, name: 'a', tags: ['t'] });
    await Counter.pipeline(u.id, (p) => { p.score.incr(5); p.name.set('changed'); p.tags.prepend('s'); p.tags.append('u'); });
    expect(u.score).to.equal(10);
    expect(await u.$.score.incr(1)).to.equal(16);
    expect(u.toJSON()).to.deep.equal({ score: 16, name: 'changed', log: '', tags: ['s', 't', 'u'] });
    await synced(Counter, u);

    await raw.hSet(u.key, 'score', '100');
    expect(await u.$.score.incr(1)).to.equal(101);
    expect(u.score).to.equal(101);
    await synced(Counter, u);

    const other = await Counter.get(u.id);
    await other.$.tags.pop(0);
    await other.$.tags.prepend('x', 'y');
    expect(await u.$.tags.append('v')).to.deep.equal(['x', 'y', 't', 'u', 'v']);
    await u.pipeline((p) => { p.score.decr(1); p.log.append('!'); });
    expect(u.toJSON()).to.deep.equal({ score: 100, name: 'changed', log: '!', tags: ['x', 'y', 't', 'u', 'v'] });
    await synced(Counter, u);
    // the other copy is stale now; its next op still applies to the server state
    expect(await other.$.tags.pop()).to.equal('v');
    expect(other.toJSON()).to.deep.equal({ score: 100, name: 'changed', log: '!', tags: ['x', 'y', 't', 'u'] });
  });

  it('20 connections x 100 pipelines on one record lose no update', async function () {
    this.timeout(60_000);
    const u = await Counter.create({});
    const conns: Connection[] = await Promise.all(Array.from({ length: 20 }, () => connect(connectOptions)));
    try {
      await Promise.all(conns.map(async (db, w) => {
        const M = Counter.withDb(db);
        const mine = await M.get(u.id);
        for (let k = 0; k < 100; k++) {
          if ((w + k) % 2 === 0) {
            await M.pipeline(u.id, (p) => { p.score.incr(1); p.log.append('x'); });
          } else {
            await mine.pipeline((p) => { p.score.incr(1); p.log.append('x'); });
            // one script did both writes, so any state the reply shows has them in step
            expect(mine.log.length).to.equal(mine.score);
          }
        }
      }));
    } finally {
      await Promise.all(conns.map((c) => c.close()));
    }
    const back = await Counter.get(u.id);
    expect(back.score).to.equal(2000);
    expect(back.log).to.equal('x'.repeat(2000));
  });
});

const Big = defineModel('FoBig', { list: Type.Array(Type.Integer(), { default: [] }) });

describe('field ops: large arrays', () => {
  it('append and pop work on a 100,000-element array', async function () {
    this.timeout(60_000);
    const n = 100_000;
    const u = await Big.create({});
    const expected = Array.from({ length: n }, (_, i) => i);
    expect((await u.$.list.set(expected)).length).to.equal(n);
    expect(await u.$.list.append(n, n + 1)).to.have.length(n + 2);
    expected.push(n, n + 1);
    expect(await u.$.list.pop()).to.equal(n + 1);
    expect(await u.$.list.pop(0)).to.equal(0);
    expect(await u.$.list.prepend(-1)).to.have.length(n + 1);
    expected.pop();
    expected.shift();
    expected.unshift(-1);
    await u.pipeline((p) => { p.list.append(7); p.list.pop(0); p.list.pop(); p.list.pop(); });
    expected.push(7);
    expected.shift();
    expected.pop();
    expected.pop();
    expect(u.list).to.have.length(n - 1);
    expect(u.list[0]).to.equal(1);
    expect(u.list[n - 2]).to.equal(n - 1);
    expect(u.list).to.deep.equal(expected);
    expect((await Big.get(u.id)).list).to.deep.equal(expected);
  });
});
