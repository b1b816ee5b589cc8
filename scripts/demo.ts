/**
 * `npm run demo`: every feature of the seed roadmap, run against an embedded Redis (or REDIS_URL),
 * printing what each step did. Each step is one call; each call is one atomic round trip to Redis.
 */
import { Type } from 'typebox';
import { abort, and, AbortError, connect, defineModel, not, or, t, type Progress } from '../src/index.js';
import { startRedis } from '../test/helpers/embedded-redis.js';

const User = defineModel('User', {
  name: Type.String({ maxLength: 200 }),
  age: Type.Integer({ minimum: 0 }),
  score: Type.Number({ default: 0 }),
  status: Type.Union([Type.Literal('new'), Type.Literal('adult'), Type.Literal('minor')], { default: 'new' }),
  level: Type.String({ default: 'basic' }),
  balance: Type.Integer({ default: 0 }),
  limit: Type.Integer({ default: 500 }),
  active: Type.Boolean({ default: true }),
  avatar: t.Bytes({ default: new Uint8Array() }),
  lastSeen: t.DateTime({ default: () => new Date(0) }),
  address: Type.Optional(Type.Object({ city: Type.String(), zip: Type.String() })),
  tags: Type.Array(Type.String(), { default: [] }),
  badges: Type.Array(Type.String(), { default: [] }),
  notifications: Type.Record(Type.String(), Type.String(), { default: {} }),
  inventory: Type.Array(Type.Object({ sku: Type.String(), qty: Type.Integer(), expired: Type.Boolean() }), { default: [] }),
}, { indexes: ['age', 'score', 'status', 'address.city'] });

/** A model with a change stream and a time to live. */
const Session = defineModel('Session', { user: Type.String(), hits: Type.Integer({ default: 0 }) }, { ttl: 60, changes: true });

/** A model for the bulk step: indexed, so updateMany and deleteMany by query use the indexes. */
const Member = defineModel('Member', {
  name: Type.String(),
  age: Type.Integer({ minimum: 0 }),
  status: Type.Union([Type.Literal('new'), Type.Literal('adult'), Type.Literal('minor')], { default: 'new' }),
  visits: Type.Integer({ default: 0 }),
  tags: Type.Array(Type.String(), { default: [] }),
}, { indexes: ['age', 'status'], unique: ['name'] });

/**
 * Progress: on a terminal, a bar on one line rewritten after each chunk; elsewhere (CI logs, a
 * pipe) one plain line per quarter of the work.
 */
const progressBar = (label: string) => {
  let quarter = 0;
  return ({ done, total }: Progress): void => {
    if (!process.stdout.isTTY) {
      if (done * 4 >= (quarter + 1) * total) {
        quarter = Math.floor((done * 4) / total);
        console.log(`   ${label}: ${done}/${total}`);
      }
      return;
    }
    const width = 30;
    const filled = Math.round((width * done) / total);
    process.stdout.write(`\r   ${label.padEnd(10)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`);
    if (done === total) process.stdout.write('\n');
  };
};

const step = (title: string): void => console.log(`\n== ${title}`);
const show = (label: string, value: unknown): void => console.log(`   ${label}: ${JSON.stringify(value)}`);

async function main(): Promise<void> {
  const server = await startRedis();
  const db = await connect({ url: server.url });
  console.log(`rapyer demo on ${server.url}`);
  try {
    step('create a record (checked against the schema, defaults filled in, saved in one step)');
    const u = await User.create({
      name: 'Ada', age: 36, score: 95, tags: ['early'], address: { city: 'Paris', zip: '75001' },
      inventory: [
        { sku: 'apple', qty: 3, expired: true },
        { sku: 'pear', qty: 0, expired: false },
        { sku: 'plum', qty: 5, expired: false },
      ],
    });
    show('id', u.id);
    show('key', u.key);

    step('change one field on the server: await u.$.score.incr(10)');
    show('new score', await u.$.score.incr(10));

    step("several changes at once, all or nothing: score += 10, name += ' (Pro)', tags.append('new')");
    await u.pipeline((p) => {
      p.score.incr(10);
      p.name.append(' (Pro)');
      p.tags.append('new');
    });
    show('after', { score: u.score, name: u.name, tags: u.tags });

    step('the same for every kind of field: yes/no, bytes, dates, nested objects');
    await u.pipeline((p) => {
      p.active.toggle();
      p.avatar.append(new Uint8Array([0xca, 0xfe]));
      p.lastSeen.add({ days: 1, hours: 2 });
      p.address.city.set('Lyon');
    });
    show('after', { active: u.active, avatar: [...u.avatar], lastSeen: u.lastSeen, address: u.address });

    step('a value computed from other fields, on the server: balance = min(balance + 700, limit)');
    await u.pipeline((p) => p.balance.set(p.balance.plus(700).atMost(p.limit)));
    show('balance', u.balance);

    step('a decision made on the server: age > 17 ? adult : minor');
    await u.pipeline((p) => {
      p.age.gt(17).ifTrue(() => p.status.set('adult')).else(() => p.status.set('minor'));
    });
    show('status', u.status);

    step('score >= 100: three actions in one branch');
    await u.pipeline((p) => {
      p.score.gte(100).ifTrue([
        () => p.level.set('premium'),
        () => p.badges.append('high_scorer'),
        () => p.notifications.update({ achievement: 'unlocked' }),
      ]);
    });
    show('after', { level: u.level, badges: u.badges, notifications: u.notifications });

    step('a loop run on the server: remove the expired items from the inventory');
    const program = (p: Parameters<Parameters<typeof u.pipeline>[0]>[0]) => {
      for (const item of p.inventory) {
        item.expired.ifTrue(() => p.inventory.remove(item));
      }
    };
    await u.pipeline(program);
    show('inventory', u.inventory);
    await u.pipeline((p) => p.inventory.append({ sku: 'fig', qty: 0, expired: false }, { sku: 'kiwi', qty: 2, expired: false }));
    await u.pipeline((p) => p.inventory.forEach((item) => item.qty.eq(0).ifTrue(() => p.inventory.remove(item))));
    show('after forEach (remove items with qty 0)', u.inventory.map((i) => i.sku));
    await u.pipeline((p) => p.inventory.removeWhere((item) => item.sku.eq('kiwi')));
    show('after removeWhere (sku = kiwi)', u.inventory.map((i) => i.sku));
    console.log(`   (u.explain(fn) shows the Lua script a program runs: ${u.explain(program).lua.split('\n').length} lines for this loop)`);

    step('abort(): the whole change is cancelled and nothing is written');
    const before = u.balance;
    try {
      await u.pipeline((p) => {
        p.balance.incr(100);
        p.balance.lt(1000).ifTrue(() => abort('balance too small'));
      });
    } catch (err) {
      show('error', `${(err as AbortError).name}: ${(err as Error).message}`);
    }
    show('balance unchanged', (await User.get(u.id)).balance === before);

    step('datetime on the server clock, then read back');
    await u.$.lastSeen.setNow();
    show('lastSeen', u.lastSeen);

    step('a transaction over two records: move 50 from one balance to the other, if there is enough');
    const bob = await User.create({ name: 'Bob', age: 40, balance: 20 });
    await db.transaction([u, bob], (a, b) => {
      a.balance.gte(50).ifTrue(() => { a.balance.decr(50); b.balance.incr(50); }).else(() => abort('not enough'));
    });
    show('balances', { [u.name]: u.balance, [bob.name]: bob.balance });

    step('a lock: read, change in JavaScript and save while no other lock holder can');
    const credited = await u.lock(async (locked) => {
      locked.score += 1;
      await locked.save();
      return locked.score;
    }, { leaseMs: 2_000, waitMs: 1_000 });
    show('score', credited);

    step('time to live: a record that expires on its own');
    await u.expire(3600);
    show('seconds left', await u.ttl());
    const visit = await Session.create({ user: u.id });
    show('a Session (model ttl: 60 s) lives for', `${await visit.ttl()} s`);

    step('a change stream: every write also records an event, in the same step');
    await visit.$.hits.incr();
    await visit.delete();
    const events = [];
    for await (const change of Session.changes({ from: '0', follow: false })) events.push(`${change.op} v${change.version} [${change.fields.join(', ')}]`);
    show('events', events);

    step('delete');
    show('deleted', await u.delete());
    await bob.delete();

    step("the seed's queries, answered by the server from indexes kept up to date by every write");
    const names = ['ann', 'bob', 'cy', 'dee', 'eve', 'fay', 'gus', 'hal'];
    await Promise.all(names.map((name, i) => User.create({
      name, age: 15 + i * 5, score: 40 + i * 15, status: i % 2 ? 'adult' : 'new', balance: i,
    })));
    show('adults (age > 18)', (await User.find((x) => x.age.gt(18)).toArray()).map((x) => x.name));
    show('same, from User.fields', await User.find(User.fields.age.gt(18)).count());
    const target = await User.find((x) => and(x.age.gt(25), x.score.gte(100), x.status.eq('adult')))
      .sort('score', 'desc').limit(50).toArray();
    show('age > 25 and score >= 100 and adult, by score desc', target.map((x) => `${x.name}:${x.score}`));
    show('findOne status = adult', (await User.findOne((x) => x.status.eq('adult')))?.name);
    show('or / not: age < 20 or not adult', (await User.find((x) => or(x.age.lt(20), not(x.status.eq('adult')))).toArray()).map((x) => x.name));
    show('minors set by a server-side update', await User.find((x) => x.age.lt(18)).update((p) => p.status.set('minor')));
    show('plan', User.find((x) => and(x.age.between(20, 40), x.level.eq('basic'))).explain().plan);

    step('totals and groups: the server adds up the matching records and sends back only the results');
    show('people aged 18 or more: how many, total score, average age, oldest', await User.find((x) => x.age.gte(18)).aggregate({
      people: 'count', totalScore: ['sum', 'score'], averageAge: ['avg', 'age'], oldest: ['max', 'age'],
    }));
    const perStatus = await User.find().groupBy('status').aggregate({ people: 'count', averageScore: ['avg', 'score'] });
    show('people per status, with their average score', perStatus);

    step('bulk: insert 20,000 records (all checked first, then written in chunks of 200), read them back, update and delete by query');
    const total = 20_000;
    const started = Date.now();
    const members = await Member.insertMany(
      Array.from({ length: total }, (_, i) => ({ name: `member${i}`, age: i % 80, tags: i % 10 === 0 ? ['vip'] : [] })),
      { onProgress: progressBar('insert') },
    );
    show('inserted', `${members.length} records in ${Date.now() - started} ms`);
    const back = await Member.getMany(members.map((m) => m.id), { onProgress: progressBar('getMany') });
    show('read back', `${back.length} records, first ${JSON.stringify(back[0])}`);
    const changed = await Member.updateMany((m) => m.age.gte(18), (p) => {
      p.status.set('adult');
      p.tags.contains('vip').ifTrue(() => p.visits.incr(10)).else(() => p.visits.incr(1));
    }, { onProgress: progressBar('update') });
    show('updateMany (age >= 18)', `${changed} changed; adults now ${await Member.find((m) => m.status.eq('adult')).count()}`);
    const deleted = await Member.deleteMany(Member.fields.age.lt(18), { onProgress: progressBar('delete') });
    show('deleteMany (age < 18)', `${deleted} deleted; ${await Member.find((m) => m.age.gte(0)).count()} left`);
  } finally {
    await db.close();
    await server.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
