import { createClient } from 'redis';
import { connect } from '../src/index.js';
import { rapyerPeer } from '../bench/peers/rapyer.js';
import { luaPeer } from '../bench/peers/lua.js';
import { sample } from '../bench/peers/types.js';
const url = 'redis://127.0.0.1:6399';
const c = createClient({ url }); await c.connect();
await c.flushAll();
const peers = [await rapyerPeer(url), await luaPeer(url)];
const jobs: [string, () => Promise<unknown>][] = [];
for (const p of peers) {
  const a = await p.createOne(sample); const b = await p.createOne(sample);
  jobs.push([`incr ${p.name}`, () => p.incrementOne!(a)]);
  jobs.push([`pipe5 ${p.name}`, async () => { await p.pipeline5!(b); }]);
  jobs.push([`get ${p.name}`, () => p.getOne(a)]);
  jobs.push([`create ${p.name}`, () => p.createOne(sample)]);
}
const best = new Map<string, number>();
for (let round = 0; round < 4; round++) for (const [name, fn] of jobs) {
  await c.sendCommand(['CONFIG', 'RESETSTAT']);
  const N = 1000;
  for (let i = 0; i < N; i++) await fn();
  const info = await c.info('commandstats');
  let us = 0;
  for (const m of info.matchAll(/cmdstat_(evalsha|evalsha_ro):calls=(\d+),usec=(\d+)/g)) us += Number(m[3]);
  best.set(name, Math.min(best.get(name) ?? Infinity, us / N));
}
for (const [k, v] of best) console.log(k.padEnd(22), v.toFixed(2));
await c.quit(); process.exit(0);
