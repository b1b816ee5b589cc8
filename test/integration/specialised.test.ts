import { expect } from 'chai';
import { RESP_TYPES } from 'redis';
import { Type } from 'typebox';
import type { Stmt } from '../../src/ast/nodes.js';
import { compileUncached, type Compiled } from '../../src/compile/compiler.js';
import { defineModel } from '../../src/index.js';
import { updateProgram } from '../../src/model/record.js';
import { Recorder } from '../../src/ops/recorder.js';
import { db, raw } from '../helpers/redis.js';
import { int, pick, rng } from '../helpers/random.js';

const Item = defineModel('SpecItem', {
  n: Type.Integer({ minimum: 0, maximum: 60 }),
  x: Type.Union([Type.Number(), Type.Null()], { default: null }),
  s: Type.String({ maxLength: 8, default: '' }),
  code: Type.String({ default: 'a' }),
  b: Type.Boolean({ default: false }),
  note: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  tags: Type.Array(Type.String(), { default: [] }),
  d: Type.Record(Type.String(), Type.Integer(), { default: {} }),
}, { indexes: ['n', 'x', 's'], unique: ['code'] });

type Op = (p: any, r: () => number) => void;

/** Random operations: checked writes that may fail, null and value sets, arrays, dicts, conditions. */
const OPS: Op[] = [
  (p, r) => p.n.incr(int(r, -20, 20)),
  (p, r) => p.n.set(int(r, 0, 60)),
  (p, r) => p.x.set(r() < 0.4 ? null : int(r, -5, 5) / 2),
  (p, r) => p.s.append(pick(r, ['a', 'bc', 'def'])),
  (p, r) => p.s.set(pick(r, ['', 'k', 'zz'])),
  (p, r) => p.code.set(pick(r, ['a', 'b', 'c', 'd'])),
  (p) => p.b.toggle(),
  (p, r) => p.note.set(r() < 0.5 ? null : pick(r, ['x', 'yy'])),
  (p, r) => p.tags.append(pick(r, ['t', 'u'])),
  (p) => p.tags.pop(),
  (p, r) => p.d.setItem(pick(r, ['k', 'l']), int(r, 0, 9)),
  (p, r) => p.n.gt(int(r, 0, 60)).ifTrue(() => p.s.append('q')).else(() => p.x.set(1)),
  (p, r) => p.tags.length().gt(int(r, 0, 3)).ifTrue(() => p.tags.clear()),
];

function recorded(fn: (p: any) => void): Stmt[] {
  const recorder = new Recorder();
  Item.record(fn, recorder, () => ({}));
  return recorder.body as Stmt[];
}

/** DUMP of every key a script declares (null for an absent key). */
async function dumps(keys: readonly string[]): Promise<(string | null)[]> {
  const bin = raw.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
  return Promise.all(keys.map(async (k) => {
    const d = (await bin.dump(k)) as unknown as Buffer | null;
    return d === null ? null : d.toString('base64');
  }));
}

async function restore(keys: readonly string[], saved: (string | null)[]): Promise<void> {
  for (let i = 0; i < keys.length; i++) {
    await raw.del(keys[i]);
    if (saved[i] !== null) await raw.restore(keys[i], 0, Buffer.from(saved[i]!, 'base64'));
  }
}

const outcome = async (script: Compiled): Promise<unknown> => {
  try {
    return JSON.stringify(await db.run(script));
  } catch (err) {
    return `error: ${(err as Error).message}`;
  }
};

describe('specialised code generation against the generic path', () => {
  it('gives the same replies and the same DUMP of every key on random programs', async () => {
    const seed = Number(process.env.SEED ?? Date.now() % 100_000);
    const r = rng(seed);
    const ids: string[] = [];
    for (const c of ['a', 'b', 'c']) ids.push((await Item.create({ n: int(r, 0, 60), s: 'x', code: c, tags: ['t'] } as any)).id);
    // an expiring record keeps its lexicographic and unique values in the expiry hash, refreshed by changes
    await Item.expire(ids[0], 1_000);
    let done = 0;
    for (let round = 0; round < 80; round++) {
      const id = pick(r, ids);
      // our copy's version: current (a patch reply) or stale (a full reply)
      const version = r() < 0.7 ? String(await raw.hGet(Item.keys.record(id), '#v')) : '0';
      const ops = Array.from({ length: int(r, 1, 5) }, () => pick(r, OPS));
      const program = updateProgram([Item.wrap(id, {}, { version, heads: new Map() })], recorded((p) => ops.forEach((op) => op(p, r))));
      const lean = compileUncached(program);
      const generic = compileUncached(program, { generic: true });
      expect(lean.keys, `seed ${seed}`).to.deep.equal(generic.keys);
      const before = await dumps(lean.keys);
      const genericReply = await outcome(generic);
      const genericAfter = await dumps(lean.keys);
      await restore(lean.keys, before);
      const leanReply = await outcome(lean);
      if (!String(leanReply).startsWith('error')) done++;
      expect(leanReply, `seed ${seed} round ${round}`).to.deep.equal(genericReply);
      expect(await dumps(lean.keys), `seed ${seed} round ${round}`).to.deep.equal(genericAfter);
    }
    expect(done, 'programs that ran to the end').to.be.greaterThan(10);
  });
});
