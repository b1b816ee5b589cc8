/**
 * `npx tsx scripts/cache-invalidator.ts`: a read-through cache kept fresh by the model's change
 * stream, against an embedded Redis (or REDIS_URL). Shown in README.md, "Change streams".
 */
import { EventEmitter, once } from 'node:events';
import { Type } from 'typebox';
import { connect, defineModel, type Rec } from '../src/index.js';
import { startRedis } from '../test/helpers/embedded-redis.js';

const server = process.env.REDIS_URL ? undefined : await startRedis();
const db = await connect({ url: process.env.REDIS_URL ?? server!.url });

const shape = { name: Type.String(), price: Type.Number({ minimum: 0 }), tags: Type.Array(Type.String(), { default: [] }) };
const Product = defineModel('Product', shape, { changes: true });

// the cache: records by id, read through on a miss
const cache = new Map<string, Rec<typeof shape>>();
async function cached(id: string): Promise<Rec<typeof shape>> {
  let hit = cache.get(id);
  if (!hit) cache.set(id, (hit = await Product.get(id)));
  return hit;
}

// the invalidator: every write of a product, from any process, drops its cached copy
const stop = new AbortController();
const invalidated = new EventEmitter();
const invalidator = (async () => {
  for await (const change of Product.changes({ from: '$', signal: stop.signal })) {
    cache.delete(change.id);
    console.log(`invalidated ${change.id}: ${change.op} v${change.version} [${change.fields.join(', ')}]`);
    invalidated.emit(`${change.id} v${change.version}`);
  }
})();

const lamp = await Product.create({ name: 'Lamp', price: 40 });
console.log('cached price:', (await cached(lamp.id)).price); // a miss, then cached: 40
const dropped = once(invalidated, `${lamp.id} v2`); // (only so this script can wait for it)
await Product.pipeline(lamp.id, (p) => { p.price.set(35); p.tags.append('sale'); }); // any writer, any process
await dropped;
console.log('cached price:', (await cached(lamp.id)).price); // read again: 35

stop.abort();
await invalidator;
await db.close();
await server?.stop();
