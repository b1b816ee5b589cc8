import { createClient } from 'redis';
import { Type } from 'typebox';
import { connect, defineModel, t } from '../src/index.js';
const shape = {
  name: Type.String({ maxLength: 5000 }), age: Type.Integer({ minimum: 0 }), score: Type.Number({ default: 0 }),
  status: Type.Union([Type.Literal('new'), Type.Literal('adult'), Type.Literal('minor')], { default: 'new' }),
  level: Type.String({ default: 'basic' }), balance: Type.Integer({ default: 0 }), active: Type.Boolean({ default: true }),
  lastSeen: t.DateTime({ default: () => new Date(0) }), tags: Type.Array(Type.String(), { default: [] }),
  notifications: Type.Record(Type.String(), Type.String(), { default: {} }),
};
const url = 'redis://127.0.0.1:6399';
const db = await connect({ url });
const c = createClient({ url }); await c.connect();
await c.flushAll();
const User = defineModel('BenchUser', shape, { indexes: ['age', 'score', 'status'] });
const u = await User.create({ name: 'ann', age: 30, tags: ['a', 'b'] });
const inc = process.argv[2] === 'p5' ? u.explain((p) => { p.score.incr(10); p.name.append('x'); p.tags.append('new'); p.age.incr(1); p.active.toggle(); }) : u.explain((p) => { p.score.incr(1); });
const [lib, body] = [inc.lua.slice(0, inc.lua.indexOf('local P = read_params')), inc.lua.slice(inc.lua.indexOf('local P = read_params'))];
const lines = body.trim().split('\n');
const N = 2000;
for (let round = 0; round < 3; round++) for (let cut = 3; cut <= lines.length; cut++) {
  const lua = lib + lines.slice(0, cut).join('\n') + (cut < lines.length ? '\nreturn 1' : '');
  const sha = await c.scriptLoad(lua);
  await c.sendCommand(['CONFIG', 'RESETSTAT']);
  for (let i = 0; i < N; i += 100) {
    await Promise.all(Array.from({ length: 100 }, () => c.sendCommand(['EVALSHA', sha, String(inc.keys.length), ...inc.keys, ...inc.argv.map(String)])));
  }
  const m = /cmdstat_evalsha:calls=(\d+),usec=(\d+)/.exec(await c.info('commandstats'))!;
  console.log(round, (Number(m[2]) / Number(m[1])).toFixed(2).padStart(7), lines[cut - 1].slice(0, 90));
}
await c.quit(); await db.close(); process.exit(0);
