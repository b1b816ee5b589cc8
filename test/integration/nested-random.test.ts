import { expect } from 'chai';
import { Type } from 'typebox';
import { linkFunctions } from '../../src/compile/link.js';
import { OperationError, ValidationError, defineModel } from '../../src/index.js';
import { int, pick, rng } from '../helpers/random.js';
import { raw } from '../helpers/redis.js';

const Nest = defineModel('NestRandom', {
  rows: Type.Array(Type.Array(Type.Integer({ minimum: -50, maximum: 50 }), { maxItems: 6 }), { default: [] }),
  groups: Type.Record(Type.String(), Type.Array(Type.String()), { default: {} }),
  scores: Type.Record(Type.String(), Type.Record(Type.String(), Type.Number({ maximum: 1e6 })), { default: {} }),
});

type Data = { rows: number[][]; groups: Record<string, string[]>; scores: Record<string, Record<string, number>> };

const TEXTS = ['a', 'b', 'é', 'q"t', 'back\\slash', 'line\nbreak', '\u0001', '/', '😀', '\ue000'];
const KEYS = ['a', 'b', 'Z', '10', '9', '0', '01', 'é', '😀', '\ue000', 'k"q'];
const num = (r: () => number): number => pick(r, [
  () => int(r, -9, 9), () => (r() - 0.5) * 10 ** int(r, -9, 5), () => int(r, -1000, 1000) / 8, () => 0.1 * int(r, 1, 9),
])();

class Fail extends Error {}

/** Python index rules, as the server applies them: negative from the end, out of range fails. */
const at = (len: number, i: number): number => {
  const j = i < 0 ? i + len : i;
  if (j < 0 || j >= len) throw new Fail('index');
  return j;
};
/** Record keys in the order the client stores them: sorted, then as JSON.stringify lists them. */
const canon = <V>(o: Record<string, V>): Record<string, V> => {
  const out: Record<string, V> = {};
  for (const k of Object.keys(o).sort()) Object.defineProperty(out, k, { value: o[k], enumerable: true, writable: true, configurable: true });
  return out;
};
const own = <V>(o: Record<string, V>, k: string): V => {
  if (!Object.hasOwn(o, k)) throw new Fail('key');
  return o[k];
};

type Step = { run: (p: any) => void; model: (d: Data) => void };

/** One random operation on a nested collection, with what it does to the JS model. */
function step(r: () => number): Step {
  const i = int(r, -3, 3);
  const j = int(r, -4, 4);
  const k = pick(r, KEYS);
  const k2 = pick(r, KEYS);
  const s = pick(r, TEXTS);
  const n = int(r, -60, 60);
  const x = num(r);
  const row = (d: Data): number[] => d.rows[at(d.rows.length, i)];
  const checkRow = (a: number[]): void => {
    if (a.length > 6) throw new Fail('maxItems');
  };
  const checkN = (v: number): void => {
    if (v < -50 || v > 50) throw new Fail('range');
  };
  const choices: Step[] = [
    { run: (p) => p.rows.at(i).append(n), model: (d) => { checkN(n); const a = row(d); a.push(n); checkRow(a); } },
    { run: (p) => p.rows.at(i).prepend(n, 1), model: (d) => { checkN(n); const a = row(d); a.unshift(n, 1); checkRow(a); } },
    { run: (p) => p.rows.at(i).insert(j, n), model: (d) => { checkN(n); const a = row(d); const q = j < 0 ? Math.max(0, j + a.length) : Math.min(j, a.length); a.splice(q, 0, n); checkRow(a); } },
    { run: (p) => p.rows.at(i).setAt(j, n), model: (d) => { checkN(n); const a = row(d); a[at(a.length, j)] = n; } },
    { run: (p) => p.rows.at(i).pop(), model: (d) => { row(d).pop(); } },
    { run: (p) => p.rows.at(i).removeAt(j), model: (d) => { const a = row(d); a.splice(at(a.length, j), 1); } },
    { run: (p) => p.rows.at(i).remove(Math.abs(n) % 4), model: (d) => { const a = row(d); const q = a.indexOf(Math.abs(n) % 4); if (q >= 0) a.splice(q, 1); } },
    { run: (p) => p.rows.at(i).removeRange(j, j + 2), model: (d) => {
      const a = row(d);
      const c = (v: number): number => Math.max(0, Math.min(a.length, v < 0 ? v + a.length : v));
      const from = c(j); const to = c(j + 2);
      if (from < to) a.splice(from, to - from);
    } },
    { run: (p) => p.rows.at(i).clear(), model: (d) => { row(d).length = 0; } },
    { run: (p) => p.rows.append([Math.abs(n) % 3]), model: (d) => { d.rows.push([Math.abs(n) % 3]); } },
    { run: (p) => p.rows.at(i).length().gt(2).ifTrue(() => p.rows.at(i).pop(0)), model: (d) => { const a = row(d); if (a.length > 2) a.shift(); } },
    { run: (p) => p.rows.at(i).contains(1).ifTrue(() => p.rows.at(i).remove(1)), model: (d) => { const a = row(d); const q = a.indexOf(1); if (q >= 0) a.splice(q, 1); } },
    { run: (p) => p.rows.at(i).removeWhere((v: any) => v.lt(0)), model: (d) => { const a = row(d); for (let q = a.length - 1; q >= 0; q--) if (a[q] < 0) a.splice(q, 1); } },
    { run: (p) => p.groups.get(k).append(s), model: (d) => { own(d.groups, k).push(s); } },
    { run: (p) => p.groups.get(k).remove(s), model: (d) => { const a = own(d.groups, k); const q = a.indexOf(s); if (q >= 0) a.splice(q, 1); } },
    { run: (p) => p.groups.get(k).setAt(j, s), model: (d) => { const a = own(d.groups, k); a[at(a.length, j)] = s; } },
    { run: (p) => p.groups.get(k).pop(j % 2 === 0 ? 0 : -1), model: (d) => { const a = own(d.groups, k); if (j % 2 === 0) a.shift(); else a.pop(); } },
    { run: (p) => p.groups.get(k).removeAt(j), model: (d) => { const a = own(d.groups, k); a.splice(at(a.length, j), 1); } },
    { run: (p) => p.groups.setItem(k, [s]), model: (d) => { d.groups = canon({ ...d.groups, [k]: [s] }); } },
    // a condition reads nothing (nil) through an absent key, as get(k).eq(...) does on a flat record
    { run: (p) => p.groups.get(k).at(j).eq(s).ifTrue(() => p.groups.get(k).append('hit')), model: (d) => {
      if (!Object.hasOwn(d.groups, k)) return;
      const a = d.groups[k]; if (a[at(a.length, j)] === s) a.push('hit');
    } },
    { run: (p) => p.scores.setItem(k, {}), model: (d) => { d.scores = canon({ ...d.scores, [k]: {} }); } },
    { run: (p) => p.scores.get(k).setItem(k2, x), model: (d) => { own(d.scores, k); d.scores[k] = canon({ ...d.scores[k], [k2]: x }); } },
    { run: (p) => p.scores.get(k).incr(k2, x), model: (d) => {
      const o = own(d.scores, k); const v = (Object.hasOwn(o, k2) ? o[k2] : 0) + x;
      if (v > 1e6) throw new Fail('maximum');
      d.scores[k] = canon({ ...o, [k2]: v });
    } },
    { run: (p) => p.scores.get(k).update({ [k2]: x, b: 1 }), model: (d) => { own(d.scores, k); d.scores[k] = canon({ ...d.scores[k], [k2]: x, b: 1 }); } },
    { run: (p) => p.scores.get(k).delete(k2), model: (d) => { const o = own(d.scores, k); if (Object.hasOwn(o, k2)) { const c = { ...o }; delete c[k2]; d.scores[k] = canon(c); } } },
    { run: (p) => p.scores.get(k).pop(k2), model: (d) => { const o = own(d.scores, k); own(o, k2); const c = { ...o }; delete c[k2]; d.scores[k] = canon(c); } },
    { run: (p) => p.scores.get(k).popItem(), model: (d) => {
      const o = own(d.scores, k); const keys = Object.keys(o);
      if (keys.length === 0) throw new Fail('empty');
      const c = { ...o }; delete c[keys[keys.length - 1]]; d.scores[k] = canon(c);
    } },
    { run: (p) => p.scores.get(k).clear(), model: (d) => { own(d.scores, k); d.scores[k] = {}; } },
    // a loop over an absent inner record runs no iteration
    { run: (p) => p.scores.get(k).forEach((v: any, key: any) => v.lt(0).ifTrue(() => p.scores.get(k).delete(key))), model: (d) => {
      if (!Object.hasOwn(d.scores, k)) return;
      const o = d.scores[k]; const c: Record<string, number> = {};
      for (const key of Object.keys(o)) if (!(o[key] < 0)) c[key] = o[key];
      d.scores[k] = canon(c);
    } },
  ];
  return pick(r, choices);
}

const stored = async (key: string): Promise<Record<string, string>> => {
  const all = await raw.hGetAll(key);
  return Object.fromEntries(Object.entries(all).filter(([f]) => !f.startsWith('#')).sort(([a], [b]) => (a < b ? -1 : 1)));
};

describe('nested collections against a JS model', () => {
  it('random programs of inner operations give the model\'s value and the client\'s own stored text', async function () {
    this.timeout(120_000);
    for (let seed = 1; seed <= 12; seed++) {
      const r = rng(seed);
      let model: Data = {
        rows: [[1, 2], [], [-3, 4, 5]],
        groups: canon({ a: ['a', 'b'], '10': [], é: ['é'] }),
        scores: canon<Record<string, number>>({ a: { b: 1.5 }, '9': {}, Z: { '10': 2, a: -1 } }),
      };
      const rec = await Nest.create(structuredClone(model));
      for (let round = 0; round < 25; round++) {
        const steps = Array.from({ length: int(r, 1, 4) }, () => step(r));
        const next = structuredClone(model) as Data;
        let fails = false;
        try {
          for (const s of steps) s.model(next);
        } catch (e) {
          if (!(e instanceof Fail)) throw e;
          fails = true;
        }
        const got = await rec.pipeline((p) => { for (const s of steps) s.run(p); }).then(() => null, (e: unknown) => e);
        const where = `seed ${seed} round ${round}`;
        if (fails) {
          expect(got, `${where}: expected a failure`).to.satisfy((e: unknown) => e instanceof OperationError || e instanceof ValidationError);
        } else {
          expect(got, `${where}: ${String(got)}`).to.equal(null);
          model = next;
        }
        expect((await Nest.get(rec.id)).toJSON(), where).to.deep.equal(model);
      }
      // what the server wrote is, byte for byte, what the client writes for the same value
      const fresh = await Nest.create(structuredClone(model));
      expect(await stored(rec.key), `seed ${seed}`).to.deep.equal(await stored(fresh.key));
    }
  });

  it('prints numbers as JSON.stringify does (lua/lib/nest.lua nj_num)', async () => {
    const r = rng(7);
    const xs: number[] = [0, -0, 1, -1, 0.1, 1e21, 1e-7, 1.5e-7, 123e-20, 2 ** 53, 2 ** 60, -(2 ** 70), 5e-324, Number.MAX_VALUE, 1e20, 123456789.125];
    for (let i = 0; i < 3000; i++) xs.push((r() - 0.5) * 10 ** int(r, -30, 30), int(r, -1e9, 1e9) / 10 ** int(r, 0, 8));
    const lua = `${linkFunctions('nj_num(')}\nlocal out = {}\nfor i = 1, #ARGV do out[i] = nj_num(tonumber(ARGV[i])) end\nreturn out`;
    const got = await raw.eval(lua, { keys: [], arguments: xs.map((x) => x.toPrecision(17)) }) as string[];
    expect(got).to.deep.equal(xs.map((x) => JSON.stringify(x)));
  });
});
