import { Type } from 'typebox';
import { connect, defineModel, t } from '../src/index.js';
const shape = {
  name: Type.String({ maxLength: 5000 }), age: Type.Integer({ minimum: 0 }), score: Type.Number({ default: 0 }),
  status: Type.Union([Type.Literal('new'), Type.Literal('adult'), Type.Literal('minor')], { default: 'new' }),
  level: Type.String({ default: 'basic' }), balance: Type.Integer({ default: 0 }), active: Type.Boolean({ default: true }),
  lastSeen: t.DateTime({ default: () => new Date(0) }), tags: Type.Array(Type.String(), { default: [] }),
  notifications: Type.Record(Type.String(), Type.String(), { default: {} }),
};
await connect({ url: 'redis://127.0.0.1:6399' });
const User = defineModel('BenchUser', shape, { indexes: ['age', 'score', 'status'] });
const body = (l: string) => l.slice(l.indexOf('local P = read_params'));
const e = User.explain('x', (p) => { p.score.incr(10); });
console.log(e.lua);
console.log(body(User.explain('x', (p) => { p.score.incr(10); p.name.append('x'); p.tags.append('new'); p.age.incr(1); p.active.toggle(); }).lua));
