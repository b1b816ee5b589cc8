/**
 * `npm run demo`: the seed roadmap's examples, run against an embedded Redis (or REDIS_URL),
 * printing what each step did and the script it ran.
 */
import { Type } from 'typebox';
import { abort, and, AbortError, connect, defineModel, t, type Progress } from '../src/index.js';
import { startRedis } from '../test/helpers/embedded-redis.js';

const User = defineModel('User', {
  name: Type.String({ maxLength: 200 }),
  age: Type.Integer({ minimum: 0 }),
  score: Type.Number({ default: 0 }),
  status: Type.Union([Type.Literal('new'), Type.Literal('adult'), Type.Literal('minor')], { default: 'new' }),
  level: Type.String({ default: 'basic' }),
  balance: Type.Integer({ default: 0 }),
  lastSeen: t.DateTime({ default: () => new Date(0) }),
  tags: Type.Array(Type.String(), { default: [] }),
  badges: Type.Array(Type.String(), { default: [] }),
  notifications: Type.Record(Type.String(), Type.String(), { default: {} }),
  inventory: Type.Array(Type.Object({ sku: Type.String(), qty: Type.Integer(), expired: Type.Boolean() }), { default: [] }),
}, { indexes: ['age', 'score', 'status'] });

/** A model for the bulk step: indexed, so updateMany and deleteMany by query use the indexes. */
const Member = defineModel('Member', {
  name: Type.String(),
  age: Type.Integer({ minimum: 0 }),
  status: Type.Union([Type.Literal('new'), Type.Literal('adult'), Type.Literal('minor')], { default: 'new' }),
  visits: Type.Integer({ default: 0 }),
  tags: Type.Array(Type.String(), { default: [] }),
}, { indexes: ['age', 'status'], unique: ['name'] });

/** A progress bar on one line, rewritten with \r after each chunk. */
const progressBar = (label: string) => ({ done, total }: Progress): void => {
  const width = 30;
  const filled = Math.round((width * done) / total);
  process.stdout.write(`\r   ${label.padEnd(10)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`);
  if (done === total) process.stdout.write('\n');
};

const step = (title: string): void => console.log(`\n== ${title}`);
const show = (label: string, value: unknown): void => console.log(`   ${label}: ${JSON.stringify(value)}`);

async function main(): Promise<void> {
  const server = await startRedis();
  const db = await connect({ url: server.url });
  console.log(`rapyer demo on ${server.url}`);
  try {
    step('create a record (one script: validate, write the hash, register the id)');
    const u = await User.create({
      name: 'Ada', age: 36, score: 95, tags: ['early'],
      inventory: [
        { sku: 'apple', qty: 3, expired: true },
        { sku: 'pear', qty: 0, expired: false },
        { sku: 'plum', qty: 5, expired: false },
      ],
    });
    show('id', u.id);
    show('key', u.key);

    step('an atomic field operation: await u.$.score.incr(10)');
    show('new score', await u.$.score.incr(10));

    step("the seed's pipeline: score += 10, name += ' (Pro)', tags.append('new'), all in one EVALSHA");
    await u.pipeline((p) => {
      p.score.incr(10);
      p.name.append(' (Pro)');
      p.tags.append('new');
    });
    show('after', { score: u.score, name: u.name, tags: u.tags });

    step('conditional pipeline, decided on the server: age > 17 ? adult : minor');
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

    step('a server-side loop: for (const item of p.inventory) remove the expired ones');
    const program = (p: Parameters<Parameters<typeof u.pipeline>[0]>[0]) => {
      for (const item of p.inventory) {
        item.expired.ifTrue(() => p.inventory.remove(item));
      }
    };
    await u.pipeline(program);
    show('inventory', u.inventory);
    console.log('   the script that ran (program part):');
    const { lua } = u.explain(program);
    console.log(lua.slice(lua.indexOf('local P =')).replace(/^/gm, '     '));

    step('abort(): nothing is written, AbortError is thrown');
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

    step('delete');
    show('deleted', await u.delete());

    step("the seed's queries, each one script on the server (indexes kept by every write)");
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
    show('minors set by a server-side update', await User.find((x) => x.age.lt(18)).update((p) => p.status.set('minor')));
    show('plan', User.find((x) => and(x.age.between(20, 40), x.level.eq('basic'))).explain().plan);
    step('bulk: insertMany 20,000 records (validated first, then one script per chunk), getMany, updateMany and deleteMany by query');
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
