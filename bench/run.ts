/**
 * `npm run bench [-- --quick]`: rapyer next to hand-written node-redis doing the same job, all
 * cases interleaved in one run (see harness.ts), printed as one Markdown table and saved to
 * bench/results/latest.md and .json.
 *
 * Both sides talk to the same Redis over their own connection, and both baselines touch hashes laid
 * out exactly like rapyer's (src/model/layout.ts), so the difference is rapyer's own cost: client
 * validation and encoding, the script call, server-side checks, versioning and the state patch.
 * Before timing, each baseline is checked to leave the same data as rapyer.
 */
import { deepStrictEqual } from 'node:assert/strict';
import { cpus } from 'node:os';
import { createClient, WatchError } from 'redis';
import { Type } from 'typebox';
import { connect, defineModel, t, type Infer } from '../src/index.js';
import { startRedis } from '../test/helpers/embedded-redis.js';
import { interleave, printTable, saveResults, type Case } from './harness.js';

const quick = process.argv.includes('--quick');
// per case: [iterations, warmup]; the loop case is ~1000x the work per call, so it gets fewer calls
const SIMPLE: [number, number] = quick ? [2_000, 200] : [20_000, 1_000];
const LOOP: [number, number] = quick ? [60, 5] : [400, 20];
const ROUNDS = quick ? 5 : 10;
const INVENTORY = 1_000;
const EXPIRED_EVERY = 10; // every 10th item is expired: the loop removes 100 of 1,000

// ~8 scalar fields, one string array, one record (dict); `name` has a limit so the pipeline's
// append goes through a server-side check, as it would in an application
const User = defineModel('BenchUser', {
  name: Type.String({ maxLength: 5_000 }),
  age: Type.Integer({ minimum: 0 }),
  score: Type.Number({ default: 0 }),
  status: Type.Union([Type.Literal('new'), Type.Literal('adult'), Type.Literal('minor')], { default: 'new' }),
  level: Type.String({ default: 'basic' }),
  balance: Type.Integer({ default: 0 }),
  active: Type.Boolean({ default: true }),
  lastSeen: t.DateTime({ default: () => new Date(0) }),
  tags: Type.Array(Type.String(), { default: [] }),
  notifications: Type.Record(Type.String(), Type.String(), { default: {} }),
});
type UserData = Infer<typeof User>;

// the loop scenario gets its own model so the create/get payload stays the one described above
const Cart = defineModel('BenchCart', {
  owner: Type.String(),
  inventory: Type.Array(Type.Object({ sku: Type.String(), qty: Type.Integer(), expired: Type.Boolean() }), { default: [] }),
});

const sample: UserData = {
  name: 'Ada', age: 36, score: 95.5, status: 'adult', level: 'gold', balance: 120, active: true,
  lastSeen: new Date('2026-01-02T03:04:05.678Z'),
  tags: ['early', 'beta', 'vip'],
  notifications: { welcome: 'hello', promo: '10% off' },
};

/** The hash rapyer writes for a user, by hand: what a careful plain node-redis user would HSET. */
function plainUserFields(d: UserData): Record<string, string> {
  const h: Record<string, string> = {
    '#v': '1', name: d.name, age: String(d.age), score: String(d.score), status: d.status, level: d.level,
    balance: String(d.balance), active: d.active ? 'true' : 'false', lastSeen: String(d.lastSeen.getTime()),
    tags: String(d.tags.length), notifications: String(Object.keys(d.notifications).length),
  };
  d.tags.forEach((tag, i) => (h[`tags[${i}]`] = tag));
  for (const [k, v] of Object.entries(d.notifications)) h[`notifications.${k}`] = v;
  return h;
}

const inventory = Array.from({ length: INVENTORY }, (_, i) => ({ sku: `sku-${i}`, qty: i % 7, expired: i % EXPIRED_EVERY === 3 }));

const NOTES = `Notes
- Every call is timed on its own; ops/s = calls / summed call time (one client, sequential calls).
- ratio = median of the row / median of the node-redis row of the same scenario (above 1: slower).
- Cases are interleaved: each round runs a slice of every case, the starting case rotating per round.
- create: rapyer validates, fills defaults, encodes and runs one script that checks the id is new,
  writes the hash (same fields as the baseline, checked before timing) and adds the id to
  \`BenchUser#ids\`; the baseline is one HSET of those fields (no existence check, no id index).
- get: rapyer runs a read-only script (EVALSHA_RO) and decodes a typed record (Date, number, boolean,
  string[], dict); the baseline is HGETALL returning raw strings, not decoded.
- pipeline: rapyer does score += 10, name += 'x', tags.append('new'), age += 1, active = !active in one
  atomic script that reads and checks the stored values and returns the changes. The MULTI baseline
  (HINCRBYFLOAT score, HSET name, RPUSH, HINCRBY age, HSET active) cannot do that: Redis has no
  append or toggle for a hash field, so name and active are blind writes of values computed from the
  client's possibly stale copy; the tags go to a separate Redis list because a hash field cannot hold
  one; and nothing is validated (maxLength, integer minimum), versioned or returned as the new state.
- loop: rapyer walks the 1,000 stored items in Lua and removes the expired ones (100) in one script;
  the baseline WATCHes the key, HGETALLs it, filters in JS and MULTI/EXECs the rewritten positions,
  the new length and the version (retrying on a WatchError; none happen here, there is no contention).
  Both leave the same hash (checked before timing). Re-filling the array before every call is untimed.
`;

async function main(): Promise<void> {
  const server = await startRedis();
  const db = await connect({ url: server.url });
  const plain = createClient({ url: server.url });
  await plain.connect();
  const runId = Date.now().toString(36);
  const plainKey = (what: string): string => `BenchPlain:${runId}:${what}`;

  try {
    const info = await plain.info('server');
    const redisVersion = /redis_version:(\S+)/.exec(info)?.[1] ?? '?';
    console.log(`rapyer bench (${quick ? 'quick' : 'full'}) on ${server.url}, Redis ${redisVersion}, Node ${process.version}`);

    /** Copies a hash to another key, so a baseline starts from exactly rapyer's data. */
    const copyHash = async (from: string, to: string): Promise<void> => {
      const h = await plain.hGetAll(from);
      await plain.multi().del(to).hSet(to, h).exec();
    };
    const hashWithout = async (key: string, drop: string[]): Promise<Record<string, string>> => {
      const h = await plain.hGetAll(key);
      for (const f of drop) delete h[f];
      return h;
    };

    // 1. create ---------------------------------------------------------------------------------
    let created = 0;
    const plainCreate = (): Promise<unknown> => plain.hSet(plainKey(`user:${created++}`), plainUserFields(sample));
    {
      const u = await User.create(sample);
      await plainCreate();
      deepStrictEqual(await plain.hGetAll(plainKey(`user:${created - 1}`)), await plain.hGetAll(u.key), 'create: the HSET baseline must write the same hash as User.create');
    }

    // 2. get ------------------------------------------------------------------------------------
    const stored = await User.create(sample);
    const plainStored = plainKey('stored');
    await copyHash(stored.key, plainStored);

    // 3. pipeline -------------------------------------------------------------------------------
    const u = await User.create(sample);
    const plainUser = plainKey('piped');
    const plainTags = plainKey('piped:tags');
    // what the MULTI client believes the record holds: it must compute name and active itself
    const local = { name: sample.name, active: sample.active };
    const rapyerPipeline = (): Promise<unknown> => u.pipeline((p) => {
      p.score.incr(10);
      p.name.append('x');
      p.tags.append('new');
      p.age.incr(1);
      p.active.toggle();
    });
    const plainPipeline = (): Promise<unknown> => {
      local.name += 'x';
      local.active = !local.active;
      return plain.multi()
        .hIncrByFloat(plainUser, 'score', 10)
        .hSet(plainUser, 'name', local.name)
        .rPush(plainTags, 'new')
        .hIncrBy(plainUser, 'age', 1)
        .hSet(plainUser, 'active', local.active ? 'true' : 'false')
        .exec();
    };
    // name grows by one character per call: reset it after each round, untimed (through the record,
    // so `u` stays current and rapyer keeps answering with a patch, not the whole hash)
    const resetPipelines = async (): Promise<void> => {
      await u.pipeline((p) => { p.name.set(sample.name); p.tags.set(sample.tags); });
      await copyHash(u.key, plainUser);
      await plain.del(plainTags);
      Object.assign(local, { name: u.name, active: u.active });
    };
    await resetPipelines();

    // 4. loop -----------------------------------------------------------------------------------
    const cart = await Cart.create({ owner: 'Ada', inventory });
    const plainCart = plainKey('cart');
    const fixture = await plain.hGetAll(cart.key);
    const refillRapyer = async (): Promise<void> => void (await cart.pipeline((p) => p.inventory.set(inventory)));
    const refillPlain = async (): Promise<void> => void (await plain.multi().del(plainCart).hSet(plainCart, fixture).exec());
    const rapyerLoop = (): Promise<unknown> => cart.pipeline((p) => {
      for (const item of p.inventory) item.expired.ifTrue(() => p.inventory.remove(item));
    });
    const plainLoop = async (): Promise<void> => {
      for (;;) {
        await plain.watch(plainCart);
        const h = await plain.hGetAll(plainCart);
        const len = Number(h.inventory);
        const head = Number(h['inventory@'] ?? 0);
        const items = Array.from({ length: len }, (_, i) => h[`inventory[${head + i}]`]);
        const keep = items.filter((raw) => !(JSON.parse(raw) as { expired: boolean }).expired);
        if (keep.length === len) return void (await plain.unwatch());
        // rapyer's layout keeps items at head..head+len-1: rewrite from the first removed position
        const first = items.findIndex((raw, i) => raw !== keep[i]);
        const sets: Record<string, string> = { inventory: String(keep.length) };
        for (let i = first; i < keep.length; i++) sets[`inventory[${head + i}]`] = keep[i];
        const dels = Array.from({ length: len - keep.length }, (_, i) => `inventory[${head + keep.length + i}]`);
        try {
          await plain.multi().hSet(plainCart, sets).hDel(plainCart, dels).hIncrBy(plainCart, '#v', 1).exec();
          return;
        } catch (err) {
          if (!(err instanceof WatchError)) throw err;
        }
      }
    };
    {
      await refillRapyer();
      await refillPlain();
      await rapyerLoop();
      await plainLoop();
      deepStrictEqual(await hashWithout(plainCart, ['#v']), await hashWithout(cart.key, ['#v']), 'loop: the WATCH/MULTI baseline must leave the same hash as the rapyer loop');
      deepStrictEqual(cart.inventory, inventory.filter((i) => !i.expired), 'loop: rapyer removed the wrong items');
    }

    // the run ------------------------------------------------------------------------------------
    const [n, w] = SIMPLE;
    const [ln, lw] = LOOP;
    const cases: Case[] = [
      { scenario: '1. create one record', variant: 'rapyer', fn: () => User.create(sample), iterations: n, warmup: w },
      { scenario: '1. create one record', variant: 'node-redis', fn: plainCreate, iterations: n, warmup: w },
      { scenario: '2. get one record', variant: 'rapyer', fn: () => User.get(stored.id), iterations: n, warmup: w },
      { scenario: '2. get one record', variant: 'node-redis', fn: () => plain.hGetAll(plainStored), iterations: n, warmup: w },
      { scenario: '3. pipeline of 5 ops', variant: 'rapyer', fn: rapyerPipeline, iterations: n, warmup: w },
      { scenario: '3. pipeline of 5 ops', variant: 'node-redis', fn: plainPipeline, iterations: n, warmup: w },
      { scenario: '4. loop over 1,000 items', variant: 'rapyer', fn: rapyerLoop, before: refillRapyer, iterations: ln, warmup: lw },
      { scenario: '4. loop over 1,000 items', variant: 'node-redis', fn: plainLoop, before: refillPlain, iterations: ln, warmup: lw },
    ];
    const started = Date.now();
    const rows = await interleave(cases, ROUNDS, async (r) => {
      process.stderr.write(`  round ${r}/${ROUNDS} done (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
      await resetPipelines();
    });
    const seconds = (Date.now() - started) / 1000;

    const header = `rapyer vs node-redis, ${quick ? 'quick' : 'full'} run: ${ROUNDS} interleaved rounds, ` +
      `${n} calls per simple case, ${ln} per loop case (${seconds.toFixed(1)} s timed phase). ` +
      `Redis ${redisVersion} (${server.url}), Node ${process.version}, ${cpus().length}x ${cpus()[0]?.model.trim() ?? '?'}.`;
    console.log(`\n${header}\n`);
    const table = printTable(rows, 'node-redis');
    console.log(`\n${NOTES}`);
    const [md, json] = await saveResults('latest', `${header}\n\n${table}\n\n${NOTES}`, {
      date: new Date().toISOString(), mode: quick ? 'quick' : 'full', rounds: ROUNDS, redis: redisVersion,
      node: process.version, cpu: cpus()[0]?.model.trim(), cores: cpus().length, seconds, baseline: 'node-redis', rows,
    });
    console.log(`saved ${md} and ${json}`);
  } finally {
    // leave a shared server (REDIS_URL) as we found it: our keys only
    for (const pattern of ['BenchUser*', 'BenchCart*', `BenchPlain:${runId}:*`]) {
      for await (const keys of plain.scanIterator({ MATCH: pattern, COUNT: 1000 })) if (keys.length) await plain.unlink(keys);
    }
    await plain.quit();
    await db.close();
    await server.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
