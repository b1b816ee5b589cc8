/**
 * Compile-time checks (run by `npm run typecheck`, never executed): program callbacks must be
 * synchronous, so an async callback is a type error wherever a program is recorded.
 */
import { Type } from 'typebox';
import { defineModel, type Connection, type Rec } from '../../src/index.js';

const M = defineModel('TypesSync', { n: Type.Integer(), s: Type.String() });
declare const u: Rec<typeof M.shape>;
declare const db: Connection;
const later = Promise.resolve();

export async function checks(): Promise<void> {
  await u.pipeline((p) => { p.n.incr(1); });
  await u.pipeline((p) => p.n.incr(1));
  await M.pipeline('id', (p) => p.s.append('x'));
  await M.updateMany(['id'], (p) => { p.n.incr(1); });
  await M.find((x) => x.n.gt(1)).update((p) => p.n.incr(1));
  await db.transaction([u, u], (a, b) => { a.n.incr(1); b.n.decr(1); });

  // @ts-expect-error an async pipeline callback would be half recorded
  await u.pipeline(async (p) => { p.n.incr(1); await later; p.s.append('y'); });
  // @ts-expect-error
  await M.pipeline('id', async (p) => { p.n.incr(1); });
  // @ts-expect-error
  u.explain(async (p) => { p.n.incr(1); });
  // @ts-expect-error
  await M.updateMany(['id'], async (p) => { p.n.incr(1); });
  // @ts-expect-error
  await M.find((x) => x.n.gt(1)).update(async (p) => { p.n.incr(1); });
  // @ts-expect-error
  await db.transaction([u, u], async (a) => { a.n.incr(1); });
  // @ts-expect-error a callback returning a promise is refused too
  await u.pipeline((p) => later.then(() => p.n.incr(1)));
}
