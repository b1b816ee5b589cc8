/**
 * Two records written by one script cannot take one unique value: query updates, updateMany,
 * transactions and insertMany check every record against the stored owners and against each
 * other before the first write, and a refused script writes nothing.
 */
import { expect } from 'chai';
import type { RedisClusterType } from 'redis';
import { Type } from 'typebox';
import { UniqueViolationError, defineModel } from '../../../src/index.js';
import { db, onCluster, prefix, raw } from '../../helpers/redis.js';

const User = defineModel('UqClaim', { name: Type.String(), n: Type.Integer({ default: 0 }) }, { unique: ['name'], indexes: ['n'] });
const uniqKey = `${prefix('UqClaim')}#uniq:name`;

/** Every key of the model with its content (hashes and sorted sets), to show that a refused script wrote nothing. */
async function snapshot(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const pattern = `${prefix('UqClaim')}*`;
  // every key of the model shares its hash tag, so one node holds them all on a cluster
  const all = onCluster
    ? ((await (raw as unknown as RedisClusterType).sendCommand(pattern, true, ['KEYS', pattern])) as string[])
    : await raw.keys(pattern);
  const keys = all.filter((k) => !k.endsWith('#schema')).sort();
  for (const key of keys) out.set(key, JSON.stringify(await raw.hGetAll(key).catch(() => raw.zRange(key, 0, -1))));
  return out;
}

async function refused(write: () => Promise<unknown>): Promise<void> {
  const before = await snapshot();
  const err = await write().then(() => undefined, (e: unknown) => e);
  expect(err).to.be.instanceOf(UniqueViolationError);
  expect(await snapshot()).to.deep.equal(before);
}

describe('hardening: one unique value per script', () => {
  it('a query update, updateMany and a transaction that give two records one value are refused, writing nothing', async () => {
    const [a, b] = await User.insertMany([{ name: 'a', n: 1 }, { name: 'b', n: 1 }]);
    await User.find().count(); // the first query notes the built indexes in the model's meta hash
    await refused(() => User.find((u) => u.n.eq(1)).update((p) => p.name.set('same')));
    await refused(() => User.updateMany([a.id, b.id], (p) => p.name.set('same')));
    await refused(() => User.updateMany((u) => u.n.eq(1), (p) => p.name.set('same')));
    await refused(() => db.transaction([a, b], (x, y) => { x.name.set('same'); y.name.set('same'); }));
    expect(await raw.hGetAll(uniqKey)).to.deep.equal({ a: a.id, b: b.id });
  });

  it('insertMany refuses two items with one value in a chunk, writing nothing', async () => {
    await User.create({ name: 'kept' });
    await refused(() => User.insertMany([{ name: 'x' }, { name: 'y' }, { name: 'x' }]));
    await refused(() => User.insertMany([{ name: 'x' }, { name: 'x' }], { onConflict: 'replace' }));
  });

  it('a value one record lets go is free for another record of the same script (a swap)', async () => {
    const [a, b] = await User.insertMany([{ name: 'a', n: 1 }, { name: 'b', n: 2 }]);
    await db.transaction([a, b], (x, y) => { x.name.set('b'); y.name.set('a'); });
    expect(await raw.hGetAll(uniqKey)).to.deep.equal({ b: a.id, a: b.id });
    await User.find((u) => u.n.gte(1)).update((p) => p.n.eq(1).ifTrue(() => p.name.set('a')).else(() => p.name.set('b')));
    expect(await raw.hGetAll(uniqKey)).to.deep.equal({ a: a.id, b: b.id });
    expect(await User.checkIndexes()).to.deep.equal({ records: 2, missing: 0, stale: 0, repaired: false });
  });
});
