import { expect } from 'chai';
import { RESP_TYPES } from 'redis';
import { Type } from 'typebox';
import { freezeDeep, param, type ProgramNode, type QueryNode, type Stmt } from '../../src/ast/nodes.js';
import * as decode from '../../src/client/decode.js';
import { compileUncached, type Compiled } from '../../src/compile/compiler.js';
import { isStraight } from '../../src/compile/straight.js';
import { and, defineModel, or, t, ValidationError, type Condition } from '../../src/index.js';
import { applyReply, hidden, updateProgram } from '../../src/model/record.js';
import { Recorder } from '../../src/ops/recorder.js';
import { QueryRun } from '../../src/query/execute.js';
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

/** A model the straight-line code covers: numeric and lexicographic indexes, no unique field, no stream. */
const leanShape = {
  n: Type.Integer({ minimum: 0, maximum: 60 }),
  f: Type.Number({ default: 1.5 }),
  s: Type.String({ maxLength: 8, default: '' }),
  e: Type.Union([Type.Literal('a'), Type.Literal('bb'), Type.Literal('\u0000c')], { default: 'a' }),
  b: Type.Boolean({ default: false }),
  at: t.DateTime({ default: () => new Date(0) }),
  tags: Type.Array(Type.String(), { default: [], maxItems: 6 }),
  x: Type.Union([Type.Number(), Type.Null()], { default: null }),
};
const Lean = defineModel('SpecLean', leanShape, { indexes: ['n', 'f', 's', 'e'] });
/** The same with a TTL: each create also files the record in the model's expiry set and hash. */
const Expiring = defineModel('SpecLeanTtl', leanShape, { indexes: ['n', 'f', 's', 'e'], ttl: 60 });

/** Operations the straight-line code emits (setNow, whose value differs by run, is tested on its own below; and a few it leaves to the generic path: x is nullable, pop and a second append are not straight). */
const LEAN_OPS: Op[] = [
  (p, r) => p.n.incr(int(r, -20, 20)),
  (p, r) => p.n.decr(int(r, -3, 3)),
  (p, r) => p.n.mul(int(r, 0, 3)),
  (p, r) => p.n.div(int(r, 0, 2)),
  (p, r) => p.n.mod(int(r, 0, 7)),
  (p, r) => p.n.pow(int(r, 0, 2)),
  (p, r) => p.n.min(int(r, 0, 60)),
  (p, r) => p.n.max(int(r, -5, 70)),
  (p, r) => p.n.set(int(r, 0, 60)),
  (p, r) => p.f.incr(int(r, -9, 9) / 4),
  (p, r) => p.f.div(pick(r, [0, 3, 0.5])),
  // a second multiplication by 1e300 overflows: the finite check, written out in the straight code
  (p, r) => p.f.mul(pick(r, [1e300, -1e300, 2])),
  (p, r) => p.s.append(pick(r, ['a', 'bc', 'déf'])),
  (p, r) => p.s.prepend(pick(r, ['z', 'yy'])),
  (p, r) => p.s.set(pick(r, ['', 'k', 'zz'])),
  (p, r) => p.e.set(pick(r, ['a', 'bb', '\u0000c'])),
  (p) => p.b.toggle(),
  (p, r) => p.at.add(int(r, 0, 5000)),
  (p, r) => p.at.sub(int(r, 0, 5000)),
  (p, r) => p.tags.append(...Array.from({ length: int(r, 0, 3) }, (_, i) => `t${i}`)),
  (p, r) => (r() < 0.2 ? p.x.set(1.5) : p.tags.pop()),
];

function recorded(fn: (p: any) => void, model: typeof Item | typeof Lean = Item, rec = 1, recorder = new Recorder()): Stmt[] {
  model.record(fn, recorder, () => ({}), rec);
  return recorder.body as Stmt[];
}

/** DUMP of every key a script declares (null for an absent key), as RESTORE takes it back. */
async function dumps(keys: readonly string[]): Promise<(string | null)[]> {
  const bin = raw.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
  return Promise.all(keys.map(async (k) => {
    const d = (await bin.dump(k)) as unknown as Buffer | null;
    return d === null ? null : d.toString('base64');
  }));
}

/**
 * Every key's state to compare: its DUMP, except for a hash in hashtable encoding (a model's meta
 * once its `indexes` JSON outgrows a listpack), whose DUMP lists fields in bucket order, which a
 * RESTORE does not keep: its sorted fields and values instead.
 */
async function states(keys: readonly string[]): Promise<(string | null)[]> {
  const dumped = await dumps(keys);
  return Promise.all(keys.map(async (k, i) => {
    if (dumped[i] === null || (await raw.objectEncoding(k)) !== 'hashtable') return dumped[i];
    return JSON.stringify(Object.entries(await raw.hGetAll(k)).sort(([a], [b]) => (a < b ? -1 : 1)));
  }));
}

async function restore(keys: readonly string[], saved: (string | null)[]): Promise<void> {
  for (let i = 0; i < keys.length; i++) {
    await raw.del(keys[i]);
    if (saved[i] !== null) await raw.restore(keys[i], 0, Buffer.from(saved[i]!, 'base64'));
  }
}

/** A script's reply (an update's or a create's as the client reads it: the paths may shape it differently), or its error. */
const outcome = async (script: Compiled, program?: ProgramNode | QueryNode): Promise<unknown> => {
  const mode = program?.kind === 'Program' ? program.mode : undefined;
  try {
    const reply = await db.run(script);
    if (mode === 'update') return JSON.stringify(applied(program as ProgramNode, decode.update(reply)));
    return JSON.stringify(mode === 'write' ? decode.str(reply) : reply);
  } catch (err) {
    return `error: ${(err as Error).message}`;
  }
};

/**
 * An update's reply as the client takes it: its results, and a copy of each record (at the version
 * the program saw, empty) after its patch, whichever form the patch came in (changes, the whole
 * hash, or derived from the program: decode.DERIVED).
 */
function applied(program: ProgramNode, reply: decode.UpdateReply): unknown {
  const copies = program.records.map((r) =>
    (r.key.startsWith('SpecLean') ? Lean : Item).wrap(r.id, {}, { version: r.seen, heads: new Map() }));
  applyReply(copies, program, reply);
  return { results: reply.results, copies: copies.map((c) => ({ ...c })), meta: copies.map((c) => ({ version: hidden(c).meta.version, heads: [...hidden(c).meta.heads] })) };
}

/**
 * Runs `program` as compiled by each path from the same stored state: same reply and same DUMP of
 * every key, or a failure. `clock`: a sorted set whose scores are times the script reads from the
 * server clock (an expiry set): its members are compared, and its scores within a second.
 */
async function sameOnEveryPath(program: ProgramNode | QueryNode, what: string, clock?: string, records: string[] = []): Promise<{ ran: boolean; straight: boolean }> {
  const generic = compileUncached(program, { generic: true });
  const all = [...generic.keys, ...records];
  const exact = all.filter((k) => k !== clock);
  const timed = async (): Promise<{ value: string; score: number }[]> => (clock ? raw.zRangeWithScores(clock, 0, -1) : []);
  const before = await dumps(all);
  const genericReply = await outcome(generic, program);
  const genericAfter = await states(exact);
  const genericTimed = await timed();
  for (const options of [{ straight: false }, {}]) {
    await restore(all, before);
    const lean = compileUncached(program, options);
    const how = `${what} ${JSON.stringify(options)}`;
    // the straight-line code declares only the keys it touches, all among the generic path's
    expect(generic.keys, what).to.include.members([...lean.keys]);
    expect(await outcome(lean, program), how).to.deep.equal(genericReply);
    expect(await states(exact), how).to.deep.equal(genericAfter);
    const leanTimed = await timed();
    expect(leanTimed.map((e) => e.value), how).to.deep.equal(genericTimed.map((e) => e.value));
    leanTimed.forEach((e, k) => expect(e.score, how).to.be.closeTo(genericTimed[k].score, 1_000));
  }
  return { ran: !String(genericReply).startsWith('error'), straight: program.kind === 'Program' && isStraight(program) };
}

/** The version our copy holds: current (a patch reply) or stale (a full reply). */
const versionOf = async (r: () => number, key: string): Promise<string> => (r() < 0.7 ? String(await raw.hGet(key, '#v')) : '0');

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
      const version = await versionOf(r, Item.keys.record(id));
      const ops = Array.from({ length: int(r, 1, 5) }, () => pick(r, OPS));
      const program = updateProgram([Item.wrap(id, {}, { version, heads: new Map() })], recorded((p) => ops.forEach((op) => op(p, r))));
      if ((await sameOnEveryPath(program, `seed ${seed} round ${round}`)).ran) done++;
    }
    expect(done, 'programs that ran to the end').to.be.greaterThan(10);
  });

  it('gives the same replies and DUMPs with the straight-line code, on one record and on two', async () => {
    const seed = Number(process.env.SEED ?? Date.now() % 100_000);
    const r = rng(seed);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await Lean.create({ n: int(r, 0, 60), s: 'x', tags: ['t'] } as any)).id);
    // an expiring record: a change to a lexicographic index value refreshes its expiry entry
    await Lean.expire(ids[0], 1_000);
    let straight = 0;
    let done = 0;
    for (let round = 0; round < 120; round++) {
      const two = r() < 0.25;
      const chosen = two ? [ids[0], ids[1 + int(r, 0, 1)]] : [pick(r, ids)];
      for (const id of chosen) {
        const key = Lean.keys.record(id);
        // stored states the code must read like the generic path: a head marker left at 0, a field gone
        if (r() < 0.1) await raw.hSet(key, 'tags@', '0');
        if (r() < 0.05) await raw.hDel(key, pick(r, ['tags', 'tags@', 's', 'n']));
      }
      const recorder = new Recorder();
      const records = await Promise.all(chosen.map(async (id) =>
        Lean.wrap(id, {}, { version: await versionOf(r, Lean.keys.record(id)), heads: new Map() })));
      const count = int(r, 1, 5);
      for (let k = 0; k < count; k++) {
        const op = pick(r, LEAN_OPS);
        recorded((p) => op(p, r), Lean, int(r, 1, chosen.length), recorder);
      }
      const outcome = await sameOnEveryPath(updateProgram(records, recorder.body as Stmt[]), `seed ${seed} round ${round}`);
      if (outcome.straight) straight++;
      if (outcome.ran && outcome.straight) done++;
    }
    expect(straight, 'programs compiled straight').to.be.greaterThan(40);
    expect(done, 'straight programs that ran to the end').to.be.greaterThan(20);
  });

  it('answers an update of one current record with its results alone (the client derives the patch) and a create with its bare version (Redis converts each table of a reply at a cost); a stale copy gets the whole hash, nested', async () => {
    const rec = await Lean.create({ n: 1 } as any);
    // the scripts run without the record's copy taking their patch: it stays at version 1
    const run = async (fn: (p: any) => void): Promise<unknown[]> => {
      const program = updateProgram([rec], recorded(fn, Lean));
      expect(isStraight(program)).to.equal(true);
      return (await db.run(compileUncached(program))) as unknown[];
    };
    const flat = await run((p) => { p.n.incr(2); p.s.append('z'); });
    expect(flat).to.deep.equal([2, '3', 'z']);
    expect(decode.update(flat as never)).to.deep.equal({ results: ['3', 'z'], patches: [decode.DERIVED] });
    // a stale copy (version 1, stored 2) gets the whole hash, nested
    const stale = await run((p) => p.n.incr(1));
    expect(stale[0]).to.deep.equal(['4']);
    expect((stale[1] as string[])[0]).to.equal('f');
    // on a current copy: the results alone (bare for one operation), from which the client derives the patch
    const current = (version: string): object => Lean.wrap(rec.id, {}, { version, heads: new Map() });
    const one = updateProgram([current('3')], recorded((p) => p.n.incr(2), Lean));
    const bare = await db.run(compileUncached(one));
    expect(bare).to.equal('6');
    expect(decode.update(bare)).to.deep.equal({ results: ['6'], patches: [decode.DERIVED] });
    const copy = current('4');
    const two = updateProgram([copy], recorded((p) => { p.n.incr(1); p.tags.append('u', 'v'); p.n.incr(1); }, Lean));
    const results = await db.run(compileUncached(two));
    expect(results).to.deep.equal([3, '7', 2, '8']);
    applyReply([copy], two, decode.update(results));
    expect({ ...copy }).to.deep.equal({ n: 8, tags: ['u', 'v'] });
    expect(hidden(copy).meta.version).to.equal('5');
    // a create answers with its bare version
    const { fields } = Lean.prepare({ n: 2 });
    expect(await db.run(compileUncached(Lean.writeProgram('flat', fields, 'create')))).to.equal('1');
    // 5,000 appended items: the reply is their count alone
    const Big = defineModel('SpecBig', { tags: Type.Array(Type.String(), { default: [] }) });
    const big = await Big.create({});
    const items = Array.from({ length: 5_000 }, (_, i) => `t${i}`);
    const long = await db.run(compileUncached(updateProgram([big], recorded((p: any) => p.tags.append(...items), Big as any))));
    expect(long).to.equal(5_000);
    await big.$.tags.append('last'); // a stale copy: the whole hash
    expect((await Big.get(big.id)).tags).to.have.length(5_001);
    await big.$.tags.append(...items); // a current one: its items derived on the client
    expect((big as any).tags).to.have.length(10_001).and.to.deep.equal((await Big.get(big.id)).tags);
  });

  it('guards its checks with cheap tests and still refuses what the rules refuse: characters past a maximum that bytes only suggest, a multiple, a minimum length', async () => {
    const Ruled = defineModel('SpecRuled', {
      s: Type.String({ maxLength: 3 }),
      m: Type.String({ minLength: 2, maxLength: 6 }),
      h: Type.Number({ multipleOf: 0.5 }),
      k: Type.Integer({ exclusiveMaximum: 10 }),
    }).withDb(db);
    const rec = await Ruled.create({ s: 'é', m: 'ab', h: 1, k: 1 });
    const ops: ((p: any) => void)[] = [(p) => p.s.append('éé'), (p) => p.h.incr(0.25), (p) => p.k.incr(9), (p) => p.m.append('cdefg')];
    for (const op of ops) expect(isStraight(updateProgram([rec], recorded(op, Ruled as any)))).to.equal(true);
    // 6 bytes over a 3-character maximum: the guard passes it to check_len, which counts 3 characters
    await rec.$.s.append('éé');
    expect((await Ruled.get(rec.id)).s).to.equal('ééé');
    const refused = async (op: (p: any) => void, rule: string): Promise<void> => {
      const err = await rec.pipeline(op).then(() => null, (e: unknown) => e);
      expect(err, rule).to.be.instanceOf(ValidationError);
      expect((err as ValidationError).rule).to.equal(rule);
    };
    await refused((p) => p.s.append('é'), 'maxLength');
    await refused((p) => p.h.incr(0.25), 'multipleOf');
    await refused((p) => p.k.incr(9), 'exclusiveMaximum');
    await refused((p) => p.m.append('cdefg'), 'maxLength');
    expect((await Ruled.get(rec.id)).toJSON()).to.deep.include({ s: 'ééé', m: 'ab', h: 1, k: 1 });
  });

  it('keeps a stored -0 negative through arithmetic, on one record and in an update by query (a number read as text * 1, never + 0)', async () => {
    const Signed = defineModel('SpecSigned', { x: Type.Number(), k: Type.Integer() }, { indexes: ['k'] }).withDb(db);
    const rec = await Signed.create({ x: -0, k: 1 });
    expect(isStraight(updateProgram([rec], recorded((p) => p.x.mul(5), Signed as any)))).to.equal(true);
    await rec.$.x.mul(5);
    expect(await raw.hGet(Signed.keys.record(rec.id), 'x')).to.equal('-0');
    expect(Object.is(rec.x, -0)).to.equal(true);
    await Signed.updateMany((u) => u.k.eq(1), (p) => p.x.mul(3));
    expect(await raw.hGet(Signed.keys.record(rec.id), 'x')).to.equal('-0');
  });

  it('sets a date to the server clock in the straight-line code', async () => {
    const rec = await Lean.create({ n: 1 } as any);
    const program = updateProgram([rec], recorded((p) => p.at.setNow(), Lean));
    expect(isStraight(program)).to.equal(true);
    const before = Date.now();
    await rec.$.at.setNow();
    expect(rec.at.getTime()).to.be.within(before - 1_000, Date.now() + 1_000);
    expect((await Lean.get(rec.id)).at.getTime()).to.equal(rec.at.getTime());
  });

  it('creates records in the straight-line code as the generic path does: indexes, expiry, conflicts', async () => {
    const seed = Number(process.env.SEED ?? Date.now() % 100_000);
    const r = rng(seed);
    const ids = ['c1', 'c2', 'c3'];
    let straight = 0;
    for (let round = 0; round < 30; round++) {
      const model = r() < 0.5 ? Lean : Expiring;
      const data = { n: int(r, 0, 60), f: int(r, -9, 9) / 4, s: pick(r, ['', 'k', 'zz']), e: pick(r, ['a', 'bb', '\u0000c']), tags: ['t', 'u'].slice(0, int(r, 0, 2)) };
      const { fields } = model.prepare(data);
      // an id used before: CONFLICT, nothing written; or its record gone as if it expired, its
      // entries left for a sweep: the create drops them first (exp_reuse)
      const id = pick(r, ids);
      if (r() < 0.3) await raw.del(model.keys.record(id));
      const program = model.writeProgram(id, fields, 'create');
      if ((await sameOnEveryPath(program, `seed ${seed} round ${round}`, model.keys.expiry(0)[0])).straight) straight++;
      if (r() < 0.5) await outcome(compileUncached(program));
    }
    expect(straight, 'creates compiled straight').to.equal(30);
  });
});

describe('update and delete by query: straight-line code against the generic path', () => {
  /** Random conditions: exact plans (the first chunk takes the index sets' ids) and filters the plan only narrows. */
  const WHERE: ((u: any, r: () => number) => Condition)[] = [
    (u, r) => u.n.lt(int(r, 0, 60)),
    (u, r) => u.f.gte(int(r, -9, 9) / 4),
    (u, r) => u.e.eq(pick(r, ['a', 'bb', '\u0000c'])),
    (u, r) => and(u.n.gt(int(r, 0, 40)), u.s.eq(pick(r, ['', 'k', 'zz', 'x']))),
    (u, r) => or(u.b.eq(true), u.n.lt(int(r, 0, 30))),
  ];

  it('gives the same replies and DUMPs on random chunks: first and later ones, missing and expiring records', async () => {
    const seed = Number(process.env.SEED ?? Date.now() % 100_000);
    const r = rng(seed);
    let straight = 0;
    let done = 0;
    for (let round = 0; round < 60; round++) {
      const model = r() < 0.5 ? Lean : Expiring;
      await raw.flushAll();
      const ids: string[] = [];
      for (let i = 0; i < 8; i++) {
        const data = { n: int(r, 0, 60), f: int(r, -9, 9) / 4, s: pick(r, ['', 'k', 'zz', 'x']), e: pick(r, ['a', 'bb', '\u0000c']), b: r() < 0.5, tags: ['t', 'u'].slice(0, int(r, 0, 2)) };
        const id = (await model.create(data as any)).id;
        ids.push(id);
        const key = model.keys.record(id);
        // stored states the code must read like the generic path: a head marker left at 0, a field gone, a record gone
        if (r() < 0.1) await raw.hSet(key, 'tags@', '0');
        if (r() < 0.05) await raw.hDel(key, pick(r, ['tags', 'tags@', 's', 'n', 'f']));
        if (r() < 0.1) await raw.del(key);
      }
      if (model === Lean) await Lean.expire(ids[0], 60_000);
      const body = new Recorder();
      // now and then more parameters than the straight code makes numbers before its loop (MAX_HOISTED)
      const ops = Array.from({ length: r() < 0.2 ? int(r, 9, 14) : int(r, 1, 4) }, () => pick(r, LEAN_OPS));
      ops.forEach((op) => recorded((p) => op(p, r), model, 1, body));
      const where = pick(r, WHERE)((model as any).fields, r);
      const action = r() < 0.75 ? 'update' : 'delete';
      const cursor = model.keys.cursor('spec', 0);
      // a later chunk takes its candidates from the list the first one left (ids of any state, one unknown)
      const first = r() < 0.5;
      if (!first) await raw.rPush(cursor, [...ids.filter(() => r() < 0.8), 'nobody']);
      const q = freezeDeep({
        ...new QueryRun(model as any, where, { offset: 0, sort: [] }).node(action, action === 'update' ? body.body as Stmt[] : [], undefined, 0),
        cursor: { key: cursor, first: param(first ? '1' : ''), size: param(String(int(r, 2, 9))) },
      });
      const outcome = await sameOnEveryPath(q, `seed ${seed} round ${round} ${action}`, undefined, ids.map((id) => model.keys.record(id)));
      if (compileUncached(q).lua.includes('light = true')) straight++;
      if (outcome.ran) done++;
    }
    expect(straight, 'chunks compiled light').to.be.greaterThan(20);
    expect(done, 'chunks that ran to the end').to.be.greaterThan(20);
  });
});
