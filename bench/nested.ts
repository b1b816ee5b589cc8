/**
 * Server time of operations on an inner array (`p.groups.get('g').append('x')`, an edit of the
 * element's JSON text by lua/lib/nest.lua) against the same on a flat array of the same length
 * (`p.tags.append('x')`, one hash field per item): `npx tsx bench/nested.ts [calls=1000]`
 * (REDIS_URL or an embedded Redis). Server time is read from Redis itself (INFO commandstats: EVALSHA microseconds
 * over calls), so the client and the network do not count.
 */
import { createClient } from 'redis';
import { Type } from 'typebox';
import { connect, defineModel } from '../src/index.js';
import { startRedis } from '../test/helpers/embedded-redis.js';

const Doc = defineModel('NestedBench', {
  tags: Type.Array(Type.String(), { default: [] }),
  groups: Type.Record(Type.String(), Type.Array(Type.String()), { default: {} }),
});

const calls = Number(process.argv[2] ?? 1000);
const server = process.env.REDIS_URL ? { url: process.env.REDIS_URL } : await startRedis();
await connect({ url: server.url });
const stats = createClient({ url: server.url });
await stats.connect();

/** Microseconds per EVALSHA that `fn` ran, measured by the server. */
async function serverUs(fn: () => Promise<unknown>): Promise<number> {
  const read = async (): Promise<{ calls: number; usec: number }> => {
    const line = (await stats.info('commandstats')).split('\n').find((l) => l.startsWith('cmdstat_evalsha:')) ?? '';
    return { calls: Number(/calls=(\d+)/.exec(line)?.[1] ?? 0), usec: Number(/usec=(\d+)/.exec(line)?.[1] ?? 0) };
  };
  const a = await read();
  await fn();
  const b = await read();
  return (b.usec - a.usec) / (b.calls - a.calls);
}

for (const size of [10, 100, 1000]) {
  const items = Array.from({ length: size }, (_, i) => `item-${i}`);
  const d = await Doc.create({ tags: items, groups: { g: items } });
  const row: string[] = [];
  const measure = async (what: string, flat: (p: any) => void, inner: (p: any) => void): Promise<void> => {
    const f = await serverUs(async () => { for (let i = 0; i < calls; i++) await d.pipeline(flat); });
    const n = await serverUs(async () => { for (let i = 0; i < calls; i++) await d.pipeline(inner); });
    row.push(`${what} ${f.toFixed(0)} / ${n.toFixed(0)} us`);
  };
  // appends then pops as many: the arrays end as they started
  await measure('append', (p) => p.tags.append('x'), (p) => p.groups.get('g').append('x'));
  await measure('pop', (p) => p.tags.pop(), (p) => p.groups.get('g').pop());
  await measure('length().gt(0)', (p) => p.tags.length().gt(0).ifTrue(() => p.tags.setAt(0, 'a')),
    (p) => p.groups.get('g').length().gt(0).ifTrue(() => p.groups.get('g').setAt(0, 'a')));
  // one script that removes a tenth of the items in a server-side loop (fresh arrays each time)
  const loops = Math.max(1, Math.floor(calls / 20));
  const fresh = await Promise.all(Array.from({ length: 2 * loops }, () => Doc.create({ tags: items, groups: { g: items } })));
  const drop = (x: any) => x.startsWith('item-1');
  const f = await serverUs(async () => { for (const r of fresh.slice(0, loops)) await r.pipeline((p) => p.tags.removeWhere(drop)); });
  const n = await serverUs(async () => { for (const r of fresh.slice(loops)) await r.pipeline((p) => p.groups.get('g').removeWhere(drop)); });
  row.push(`removeWhere (a tenth) ${f.toFixed(0)} / ${n.toFixed(0)} us`);
  await Promise.all(fresh.map((r) => r.delete()));
  console.log(`${size} items, server time per script, flat / inner: ${row.join(', ')}`);
  await d.delete();
}
await stats.quit();
process.exit(0);
