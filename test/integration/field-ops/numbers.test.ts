/**
 * Integer and Number fields: set, incr, decr, mul, div, mod, pow, min, max.
 * Immediate (`u.$`) and pipelined, against a real Redis: the results, the local record and the
 * stored one (re-read with `Model.get`) must agree.
 */
import { expect } from 'chai';
import { Type } from 'typebox';
import { OperationError, defineModel } from '../../../src/index.js';
import { synced, failsCleanly, invalid, pyFloorDiv, pyMod } from './helpers.js';

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
