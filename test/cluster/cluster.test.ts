/**
 * Cluster-only behaviour (only `npm run test:cluster` runs this folder): hash-tagged
 * keys, CrossSlotError before anything is sent, scripts loaded per node, MOVED after a slot
 * migration handled without surfacing.
 */
import { createHash } from 'node:crypto';
import { expect } from 'chai';
import type { RedisClientType, RedisClusterType } from 'redis';
import { Type } from 'typebox';
import { slot } from '../../src/client/slot.js';
import { connect, ConnectionError, CrossSlotError, defineModel } from '../../src/index.js';
import { startCluster } from '../helpers/cluster.js';
import { connectOptions, db, raw } from '../helpers/redis.js';

const Alpha = defineModel('Alpha', { n: Type.Integer({ default: 0 }), tags: Type.Array(Type.String(), { default: [] }) });
const Beta = defineModel('Beta', { n: Type.Integer({ default: 0 }) });
const Mover = defineModel('Mover', { n: Type.Integer({ default: 0 }) });
const Asker = defineModel('Asker', { n: Type.Integer({ default: 0 }) }); // a slot of its own (the MOVED test moves Mover's)

const cluster = () => raw as unknown as RedisClusterType;
const masters = () => cluster().masters.map((m) => cluster().nodeClient(m) as unknown as Promise<RedisClientType>);
const sha1 = (lua: string) => createHash('sha1').update(lua).digest('hex');

/** EVALSHA and EVALSHA_RO calls served by all masters so far. */
async function evalshaCalls(): Promise<number> {
  let calls = 0;
  for (const node of await Promise.all(masters())) {
    const stats = await node.info('commandstats');
    for (const m of stats.matchAll(/^cmdstat_evalsha(?:_ro)?:calls=(\d+)/gm)) calls += Number(m[1]);
  }
  return calls;
}

describe('cluster', () => {
  it('a call waiting for a node that refuses connections (maxclients) rejects with ConnectionError, and is not sent later', async () => {
    const a = await Alpha.create({});
    const quick = await connect({ ...connectOptions, commandTimeoutMs: 300 });
    const node = (await cluster().nodeClient(cluster().getSlotMaster(slot(a.key)))) as unknown as RedisClientType;
    try {
      const Quick = Alpha.withDb(quick);
      const rec = await Quick.get(a.id); // connected, the record's node known
      // the node refuses new connections, then drops the ones it has: the call waits in the queue
      await node.configSet('maxclients', '1');
      await node.sendCommand(['CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes']);
      const started = Date.now();
      const err = await rec.$.n.incr(1).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(ConnectionError);
      expect(Date.now() - started).to.be.lessThan(2_000); // within commandTimeoutMs, or at once
    } finally {
      await node.configSet('maxclients', '10000');
      await quick.close().catch(() => undefined);
    }
    // the call that timed out was never sent
    expect((await Alpha.get(a.id)).n).to.equal(0);
  });

  it('a call to a master that is gone waits at most commandTimeoutMs in its queue (ConnectionError), with no timer per command', async function () {
    this.timeout(60_000);
    const own = await startCluster(); // a cluster of its own: one of its masters is shut down
    const quick = await connect({ cluster: { rootNodes: own.rootNodes }, commandTimeoutMs: 300 });
    try {
      const Quick = Alpha.withDb(quick);
      const rec = await Quick.create({});
      const client = quick.client as unknown as RedisClusterType;
      const node = (await client.nodeClient(client.getSlotMaster(slot(rec.key)))) as unknown as RedisClientType;
      await node.sendCommand(['SHUTDOWN', 'NOSAVE']).catch(() => undefined);
      const started = Date.now();
      const err = await rec.$.n.incr(1).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(ConnectionError);
      expect(Date.now() - started).to.be.lessThan(2_000);
    } finally {
      await quick.close().catch(() => undefined);
      await own.stop();
    }
  });

  it('tags every key of a model with {Model}, so a record and its model keys share a slot', async () => {
    expect(db.cluster).to.equal(true);
    const a = await Alpha.create({});
    expect(a.key).to.equal(`{Alpha}:${a.id}`);
    expect(Alpha.keys.ids()).to.equal('{Alpha}#ids');
    expect(await raw.zRange('{Alpha}#ids', 0, -1)).to.deep.equal([a.id]);
    expect(slot(a.key)).to.equal(slot(Alpha.keys.ids()));
  });

  it('computes the slots the cluster computes (CLUSTER KEYSLOT)', async () => {
    const keys = ['foo', '{Alpha}:x', 'Alpha:x', 'foo{}{bar}', '{}foo', 'a{b', 'héllo', '{tag}{x}', '🎉'];
    for (const key of keys) {
      expect(await cluster().sendCommand(key, true, ['CLUSTER', 'KEYSLOT', key]), key).to.equal(slot(key));
    }
  });

  it('db.transaction over models in different slots throws CrossSlotError before sending anything', async () => {
    const a = await Alpha.create({});
    const b = await Beta.create({});
    expect(slot(a.key)).to.not.equal(slot(b.key));
    const calls = await evalshaCalls();
    const err = await db.transaction([a, b], (pa, pb) => {
      pa.n.incr(1);
      pb.n.incr(1);
    }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(CrossSlotError);
    expect((err as Error).message).to.match(/\{Alpha\}.*\{Beta\}/);
    expect(await evalshaCalls()).to.equal(calls);
    expect((await Alpha.get(a.id)).n).to.equal(0);
    expect((await Beta.get(b.id)).n).to.equal(0);
    // records of one model share a slot, so their transaction runs
    const a2 = await Alpha.create({ n: 5 });
    await db.transaction([a, a2], (pa, pa2) => {
      pa.n.incr(5);
      pa2.n.incr(-5);
    });
    expect([(await Alpha.get(a.id)).n, (await Alpha.get(a2.id)).n]).to.deep.equal([5, 0]);
  });

  it('loads a script only on the node that runs it, and again when that node lost it', async () => {
    const a = await Alpha.create({});
    const b = await Beta.create({});
    const program = a.explain((p) => p.tags.append('x'));
    const sha = sha1(program.lua);
    const owner = await cluster().getNodeClientForKey(a.key);
    const others = await Promise.all(masters()).then((all) => all.filter((n) => n !== (owner as unknown)));
    expect(others).to.have.length(2);
    await a.pipeline((p) => p.tags.append('x'));
    expect(await owner.scriptExists([sha])).to.deep.equal([1]);
    for (const node of others) expect(await node.scriptExists([sha])).to.deep.equal([0]);
    // only the owner forgets it: the next call loads it there again
    await owner.scriptFlush();
    await a.pipeline((p) => p.tags.append('x'));
    expect(await owner.scriptExists([sha])).to.deep.equal([1]);
    expect((await Alpha.get(a.id)).tags).to.deep.equal(['x', 'x']);
    await b.$.n.incr(1);
    expect((await Beta.get(b.id)).n).to.equal(1);
  });

  it('follows a slot to its new node (MOVED) and loads the script there', async function () {
    this.timeout(30_000);
    const m = await Mover.create({ n: 1 });
    await m.$.n.incr(1); // the script is now cached on the slot's current node only
    const s = String(slot(m.key));
    const from = cluster().slots[slot(m.key)].master;
    const to = cluster().masters.find((node) => node.id !== from.id)!;
    const [source, target] = await Promise.all([from, to].map((node) => cluster().nodeClient(node)));
    const all = await Promise.all(masters());
    await target.sendCommand(['CLUSTER', 'SETSLOT', s, 'IMPORTING', from.id]);
    await source.sendCommand(['CLUSTER', 'SETSLOT', s, 'MIGRATING', to.id]);
    const keys = (await source.sendCommand(['CLUSTER', 'GETKEYSINSLOT', s, '1000'])) as string[];
    expect(keys).to.include(m.key);
    await source.sendCommand(['MIGRATE', to.host, String(to.port), '', '0', '5000', 'KEYS', ...keys]);
    for (const node of all) await node.sendCommand(['CLUSTER', 'SETSLOT', s, 'NODE', to.id]);
    // rapyer's cluster client still maps the slot to the old node: MOVED, then NOSCRIPT on the new one
    expect(await m.$.n.incr(40)).to.equal(42);
    expect((await Mover.get(m.id)).n).to.equal(42);
    const count = (node: typeof source) => node.sendCommand(['CLUSTER', 'COUNTKEYSINSLOT', s]);
    expect([await count(source), await count(target)]).to.deep.equal([0, keys.length]);
  });

  it('follows a record whose slot is being migrated (ASK) and runs its script on the importing node', async function () {
    this.timeout(30_000);
    const m = await Asker.create({ n: 1 });
    await m.$.n.incr(1);
    const s = String(slot(m.key));
    const from = cluster().slots[slot(m.key)].master;
    const to = cluster().masters.find((node) => node.id !== from.id)!;
    const [source, target] = await Promise.all([from, to].map((node) => cluster().nodeClient(node)));
    await target.sendCommand(['CLUSTER', 'SETSLOT', s, 'IMPORTING', from.id]);
    await source.sendCommand(['CLUSTER', 'SETSLOT', s, 'MIGRATING', to.id]);
    const keys = (await source.sendCommand(['CLUSTER', 'GETKEYSINSLOT', s, '1000'])) as string[];
    await source.sendCommand(['MIGRATE', to.host, String(to.port), '', '0', '5000', 'KEYS', ...keys]);
    try {
      // the slot still belongs to the source, which answers ASK for the keys it no longer has
      expect(await m.$.n.incr(40)).to.equal(42);
      expect((await Asker.get(m.id)).n).to.equal(42);
    } finally {
      for (const node of await Promise.all(masters())) await node.sendCommand(['CLUSTER', 'SETSLOT', s, 'NODE', to.id]);
    }
  });
});
