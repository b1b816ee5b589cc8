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
const body = (l: string) => l.slice(l.indexOf('local P = read_params'));
const variants: Record<string, { lua: string; keys: readonly string[]; argv: readonly unknown[] }> = {};
const inc = u.explain((p) => { p.score.incr(1); });
variants.incr = inc;
const lib = inc.lua.slice(0, inc.lua.indexOf('local P = read_params'));
variants.incrLibOnly = { ...inc, lua: lib + '\nreturn 1' };
const p5 = u.explain((p) => { p.score.incr(10); p.name.append('x'); p.tags.append('new'); p.age.incr(1); p.active.toggle(); });
variants.pipe5 = p5;
variants.pipe5LibOnly = { ...p5, lua: p5.lua.slice(0, p5.lua.indexOf('local P = read_params')) + '\nreturn 1' };
variants.trivial = { ...inc, lua: 'return 1' };
variants.localsOnly = { ...inc, lua: 'local P = ARGV\nlocal a = {KEYS[1]}\nreturn 1' };
const nfun = (lib.match(/local function/g) ?? []).length; console.log('functions', nfun);
variants.emptyFns = { ...inc, lua: Array.from({length: nfun}, (_, i) => `local function f${i}(a) return a end`).join('\n') + '\nreturn 1' };
if (process.argv[2]) console.log(body(variants[process.argv[2]].lua));
const N = 3000;
for (let round = 0; round < 3; round++) for (const [name, v] of Object.entries(variants)) {
  if (name.startsWith('pipe5') || name === 'incr') continue;
  const sha = await c.scriptLoad(v.lua);
  await c.sendCommand(['CONFIG', 'RESETSTAT']);
  for (let i = 0; i < N; i += 100) {
    await Promise.all(Array.from({ length: 100 }, () => c.sendCommand(['EVALSHA', sha, String(v.keys.length), ...v.keys, ...v.argv.map(String)])));
  }
  const info = await c.info('commandstats');
  const m = /cmdstat_evalsha:calls=(\d+),usec=(\d+)/.exec(info)!;
  console.log(round, name.padEnd(14), (Number(m[2]) / Number(m[1])).toFixed(2), 'us/call', 'lua bytes', v.lua.length);
}
await c.quit(); await db.close(); process.exit(0);
