/**
 * Text search and sorting against brute force: random texts and records, random queries mixing
 * text conditions (on a field with a word index and on one without) with comparisons and sort
 * keys, checked before and after random writes of every kind. On the cluster the model is
 * sharded, so pages are also merged across shards.
 */
import { expect } from 'chai';
import { Type } from 'typebox';
import { and, defineModel, not, or, type Condition, type Infer } from '../../src/index.js';
import { words } from '../../src/query/tokenize.js';
import { onCluster } from '../helpers/redis.js';
import { int, pick, rng } from '../helpers/random.js';

const Note = defineModel('RndNote', {
  bio: Type.String({ default: '' }),
  title: Type.Optional(Type.String()),
  age: Type.Integer({ default: 0 }),
  score: Type.Number({ default: 0 }),
  tag: Type.String({ default: 'a' }),
}, { search: ['bio'], indexes: ['age', 'tag'], shards: onCluster ? 3 : 1 });
type N = Infer<typeof Note>;
type Fields = typeof Note.fields;
type Pred = (n: N) => boolean;

const VOCAB = ['redis', 'Redis', 'REDIS', 'lua', 'Lua', 'script', 'scripts', 'Été', 'été', '東京', 'タワー', 'x1', 'x10', 'a', 'ab', 'abc', '🎉', 'naïve'];
const SEPS = [' ', ', ', '. ', '\t', '\n', '-', '_', '!? ', '/', '（', '\u00a0'];
const TAGS = ['a', 'b', 'c', 'B', 'é'];

function text(r: () => number, maxWords: number): string {
  let s = pick(r, ['', ' ', '(']);
  for (let i = int(r, 0, maxWords); i > 0; i--) s += pick(r, VOCAB) + pick(r, SEPS);
  return s;
}

function randomNote(r: () => number): N {
  return {
    bio: text(r, 8),
    ...(r() < 0.7 ? { title: text(r, 4) } : {}),
    age: int(r, 0, 20),
    score: int(r, 0, 40) / 4,
    tag: pick(r, TAGS),
  };
}

const has = (t: string | undefined, w: string): boolean => words(t ?? '').includes(w);
const queryWords = (r: () => number): string => Array.from({ length: int(r, 1, 3) }, () => pick(r, VOCAB)).join(pick(r, [' ', ', ', '-']));

function randomCondition(r: () => number, f: Fields, depth: number): [Condition, Pred] {
  if (depth > 0 && r() < 0.35) {
    const parts = Array.from({ length: int(r, 2, 3) }, () => randomCondition(r, f, depth - 1));
    const kind = int(r, 0, 2);
    if (kind === 0) return [and(...parts.map((p) => p[0])), (x) => parts.every((p) => p[1](x))];
    if (kind === 1) return [or(...parts.map((p) => p[0])), (x) => parts.some((p) => p[1](x))];
    return [not(parts[0][0]), (x) => !parts[0][1](x)];
  }
  const leaves: (() => [Condition, Pred])[] = [
    () => { const q = queryWords(r); const ws = words(q); return [f.bio.matches(q), (x) => ws.every((w) => has(x.bio, w))]; },
    () => { const q = queryWords(r); const ws = words(q); return [f.bio.matchesAny(q), (x) => ws.some((w) => has(x.bio, w))]; },
    () => { const p = pick(r, ['r', 'Re', 'x1', 'a', 'ab', 'é', 'É', '東', 'scr']); const lp = words(p)[0];
      return [f.bio.matchesPrefix(p), (x) => words(x.bio).some((w) => w.startsWith(lp))]; },
    () => { const q = queryWords(r); const ws = words(q); return [f.title.matches(q), (x) => ws.every((w) => has(x.title, w))]; },
    () => { const p = pick(r, ['r', 'lu', 'x']); return [f.title.matchesPrefix(p), (x) => words(x.title ?? '').some((w) => w.startsWith(p))]; },
    () => { const v = int(r, 0, 20); return [f.age.gt(v), (x) => x.age > v]; },
    () => { const v = int(r, 0, 20); return [f.age.eq(v), (x) => x.age === v]; },
    () => { const v = int(r, 0, 40) / 4; return [f.score.lte(v), (x) => x.score <= v]; },
    () => { const v = pick(r, TAGS); return [f.tag.eq(v), (x) => x.tag === v]; },
  ];
  return pick(r, leaves)();
}

/** Query order: each key (numbers numerically, text bytewise, absent last), then the id. */
type SortKey = readonly ['age' | 'score' | 'tag' | 'title', 'asc' | 'desc'];
function order(keys: readonly SortKey[]): (a: [string, N], b: [string, N]) => number {
  return ([ia, a], [ib, b]) => {
    for (const [field, dir] of keys) {
      const x = a[field];
      const y = b[field];
      if (x === undefined && y === undefined) continue;
      if (x === undefined) return 1;
      if (y === undefined) return -1;
      const c = typeof x === 'number' ? Math.sign(x - (y as number)) : Buffer.compare(Buffer.from(x), Buffer.from(y as string));
      if (c !== 0) return dir === 'desc' ? -c : c;
    }
    const c = Buffer.compare(Buffer.from(ia), Buffer.from(ib));
    return keys.at(-1)?.[1] === 'desc' ? -c : c;
  };
}

function randomSort(r: () => number): SortKey[] {
  const fields = ['age', 'score', 'tag', 'title'] as const;
  return Array.from({ length: int(r, 1, 3) }, () => [pick(r, fields), pick(r, ['asc', 'desc'] as const)] as const);
}

describe('text search and sorting against brute force', function () {
  this.timeout(180_000);

  it('random queries mixing text conditions, comparisons and sort keys, before and after random writes', async () => {
    const seed = Date.now() % 1_000_000;
    const r = rng(seed);
    const all = new Map<string, N>();
    const refresh = async (ids: readonly string[]): Promise<void> => {
      const recs = await Note.getMany(ids, { missing: 'null' });
      ids.forEach((id, i) => {
        const rec = recs[i];
        if (rec) all.set(id, rec.toJSON() as N);
        else all.delete(id);
      });
    };
    for (const rec of await Note.insertMany(Array.from({ length: 300 }, () => randomNote(r)))) all.set(rec.id, rec.toJSON() as N);

    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 40; i++) {
        const [cond, pred] = randomCondition(r, Note.fields, 2);
        const what = `seed ${seed} round ${round} query ${i}`;
        const matching = [...all].filter(([, n]) => pred(n));
        expect((await Note.find(cond).ids()).sort(), what).to.deep.equal(matching.map(([id]) => id).sort());
        expect(await Note.find(cond).count(), what).to.equal(matching.length);
        const keys = randomSort(r);
        const [offset, limit] = [int(r, 0, 20), int(r, 1, 40)];
        const expected = matching.sort(order(keys)).map(([id]) => id);
        const q = r() < 0.5 ? Note.find(cond).sort(keys) : keys.slice(1).reduce((q, [f, d]) => q.thenBy(f, d), Note.find(cond).sort(keys[0][0], keys[0][1]));
        expect(await q.offset(offset).limit(limit).ids(), `${what} sorted by ${JSON.stringify(keys)}`)
          .to.deep.equal(expected.slice(offset, offset + limit));
        const streamed: string[] = [];
        for await (const n of q) streamed.push(n.id);
        expect(streamed, `${what} streamed`).to.deep.equal(expected);
      }
      // random writes of every kind
      const ids = [...all.keys()];
      const touched = new Set<string>();
      for (let i = 0; i < 60; i++) {
        const id = pick(r, ids);
        touched.add(id);
        const op = int(r, 0, 9);
        if (!all.has(id) && op < 7) continue;
        if (op === 0) await (await Note.get(id)).$.bio.append(text(r, 2));
        else if (op === 1) await (await Note.get(id)).$.bio.prepend(text(r, 2));
        else if (op === 2) await (await Note.get(id)).$.bio.repeat(int(r, 0, 2));
        else if (op === 3) await Note.pipeline(id, (p) => { p.bio.set(text(r, 5)); p.age.set(int(r, 0, 20)); });
        else if (op === 4) { const rec = await Note.get(id); Object.assign(rec, randomNote(r)); await rec.save(); }
        else if (op === 5) await Note.pipeline(id, (p) => p.bio.matches('redis').ifTrue(() => p.bio.append(' lua')).else(() => p.tag.set('c')));
        else if (op === 6) { await Note.delete(id); all.delete(id); }
        else if (op === 7) touched.add((await Note.create(randomNote(r))).id);
        else if (op === 8) for (const rec of await Note.insertMany([randomNote(r), randomNote(r)])) touched.add(rec.id);
        else await Note.updateMany([...all.keys()].filter(() => r() < 0.05), (p) => p.bio.append(` ${pick(r, VOCAB)}`));
      }
      const [c1] = randomCondition(r, Note.fields, 1);
      await Note.find(c1).update((p) => p.bio.prepend(`${pick(r, VOCAB)} `));
      await Note.find(and(c1, Note.fields.age.gt(15))).delete();
      await Note.deleteMany((u) => u.bio.matches(pick(r, VOCAB)).and(u.score.gt(9)));
      await refresh([...new Set([...all.keys(), ...touched])]);
    }
    expect(await Note.checkIndexes(), `seed ${seed}`).to.include({ missing: 0, stale: 0 });
  });
});
