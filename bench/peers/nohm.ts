/**
 * nohm (3.x): an indexed object mapper on plain Redis, with the node_redis 3 client its README
 * documents (`redis3` here, an npm alias of redis@3). Its normal path: `new Model()`,
 * `property(data)`, `save()` (validations, unique checks, a MULTI with the hash and its index sets
 * and sorted sets), `Model.load(id)`.
 */
import { createRequire } from 'node:module';
import { Nohm, NohmModel, type TTypedDefinitions } from 'nohm';
import { byScoreDesc, NAME_MAX, withConcurrency, type BenchUserData, type Peer } from './types.js';

const PREFIX = 'BenchNohm';
const CONCURRENCY = 64; // saves in flight during insertMany
const LOAD_CHUNK = 1_000; // ids per loadMany in updateMany (loading all 100,000 at once holds them all in the heap)

// redis@3 ships no types; nohm only needs a connected client
const require = createRequire(import.meta.url);
interface Redis3Client {
  on(event: string, cb: (...args: unknown[]) => void): void;
  quit(cb?: () => void): boolean;
  scard(key: string, cb: (err: Error | null, n: number) => void): boolean;
}
const redis3 = require('redis3') as { createClient(url: string): Redis3Client };

interface Props {
  name: string; age: number; score: number; status: string; level: string; balance: number; active: boolean;
  lastSeen: number; tags: string[]; notifications: Record<string, string>;
}

class BenchNohmUser extends NohmModel<Props> {
  public static modelName = 'BenchNohmUser';
  protected static override definitions: TTypedDefinitions<Props> = {
    name: { type: 'string', validations: [{ name: 'length', options: { max: NAME_MAX } }] },
    age: { type: 'integer', index: true },
    score: { type: 'float', index: true },
    status: { type: 'string', index: true },
    level: { type: 'string' },
    balance: { type: 'integer' },
    active: { type: 'boolean' },
    lastSeen: { type: 'timestamp' },
    tags: { type: 'json' },
    notifications: { type: 'json' },
  };
}

const toProps = (d: BenchUserData): Props => ({ ...d, lastSeen: d.lastSeen.getTime() });

export async function nohmPeer(url: string): Promise<Peer> {
  const client = redis3.createClient(url);
  await new Promise<void>((resolve, reject) => {
    client.on('ready', () => resolve());
    client.on('error', (err) => reject(err as Error));
  });
  Nohm.setPrefix(PREFIX);
  Nohm.setClient(client as never);
  Nohm.setPublish(false);
  const User = Nohm.register(BenchNohmUser);
  type Instance = InstanceType<typeof User>;
  const held = new Map<string, Instance>();
  const instance = async (id: string): Promise<Instance> => held.get(id) ?? (await User.load<Instance>(id));

  const fromProps = (u: Instance): BenchUserData => {
    const p = u.allProperties();
    return {
      name: p.name, age: p.age, score: p.score, status: p.status as BenchUserData['status'], level: p.level,
      balance: p.balance, active: p.active, lastSeen: new Date(Number(p.lastSeen)), tags: p.tags, notifications: p.notifications,
    };
  };

  const insert = async (items: BenchUserData[], onProgress?: (done: number) => void): Promise<string[]> => {
    const ids: string[] = new Array(items.length);
    let done = 0;
    await withConcurrency(items, CONCURRENCY, async (d, i) => {
      const u = new User() as Instance;
      u.property(toProps(d));
      await u.save();
      ids[i] = String(u.id);
      if (++done % 1000 === 0) onProgress?.(done);
    });
    return ids;
  };
  const findIds = (q: { ageMin?: number; ageMax: number; status?: string }): Promise<string[]> =>
    User.find({ age: { min: q.ageMin ?? '-inf', max: q.ageMax }, ...(q.status ? { status: q.status } : {}) } as never);

  return {
    name: 'nohm',
    notes: {
      create: 'new Model() + property() + save(): validates, then a MULTI with the hash, its id set and index sets/sorted sets for age, score, status',
      get: 'Model.load(id): HGETALL, typed by its definitions',
      incr: 'not atomic: property("score", +1) on the held instance, then save() writes the changed fields and moves their index entries',
      pipeline5: 'not atomic: the 5 changes on the held instance, then one save() (validated, one MULTI); concurrent writers can interleave',
      loop: 'n/a: nohm properties are flat (json strings for arrays) and it has no server-side programs',
      insertMany: `no bulk API: save() per record, ${CONCURRENCY} in flight`,
      getMany: 'Model.loadMany(ids): a load (HGETALL) per id, all in flight',
      query: 'the issue\'s nohm variant: Model.find({ age: { min: 25, max: 40 }, status: "adult" }) (ZRANGEBYSCORE on its age index, ' +
        'SINTER of its status set, intersected in JS: every match\'s id), Model.loadMany(all those ids), then sort by score ' +
        'descending and take 50 in JS',
      updateMany: `Model.find({ age: { max: 44 } }), then per ${LOAD_CHUNK.toLocaleString('en-US')} ids: loadMany, ` +
        `property("score", +1), save() (${CONCURRENCY} in flight; each save one MULTI, validated, moves its index entry); not atomic`,
      deleteMany: `Model.find({ age: { max: 44 } }), then Model.remove(id) per id (${CONCURRENCY} in flight: each loads the ` +
        'record to learn its index entries, then one MULTI deletes the hash and its index entries); not atomic',
    },
    keyPatterns: [`${PREFIX}:*`],
    async createOne(data) {
      const u = new User() as Instance;
      u.property(toProps(data));
      await u.save();
      held.set(String(u.id), u);
      return String(u.id);
    },
    async getOne(id) {
      return fromProps(await User.load<Instance>(id));
    },
    async incrementOne(id) {
      const u = await instance(id);
      u.property('score', u.property('score') + 1);
      await u.save();
      return u.property('score');
    },
    async pipeline5(id) {
      const u = await instance(id);
      u.property({
        score: u.property('score') + 10,
        name: `${u.property('name')}x`,
        tags: [...u.property('tags'), 'new'],
        age: u.property('age') + 1,
        active: !u.property('active'),
      });
      await u.save();
      return u;
    },
    async reset(id, data) {
      const u = await instance(id);
      u.property(toProps(data));
      await u.save();
      held.set(id, u);
    },
    async insertMany(items, onProgress) {
      return (await insert(items, onProgress)).length;
    },
    seed: insert,
    async getMany(ids) {
      return (await User.loadMany<Instance>(ids)).map(fromProps);
    },
    async query(q) {
      const ids = await findIds(q);
      const loaded = await User.loadMany<Instance>(ids);
      const rows = byScoreDesc(loaded.map((u): [string, BenchUserData] => [String(u.id), fromProps(u)]));
      return rows.slice(0, q.limit).map(([, d]) => d);
    },
    extraQuery: {
      variant: 'nohm (find + sort)',
      note: 'nohm\'s documented find + sort combination: Model.find(...) as above, then Model.sort({ field: "score", direction: "DESC", ' +
        'limit: [0, 50] }, ids) (one MULTI: ZADD of every found id to a temporary sorted set, ZINTERSTORE with the score index, ' +
        'ZREVRANGE 0 49, DEL), then Model.loadMany of the 50',
      async run(q) {
        const ids = await findIds(q);
        const top = await User.sort({ field: 'score', direction: 'DESC', limit: [0, q.limit] }, ids);
        return (await User.loadMany<Instance>(top)).map(fromProps);
      },
    },
    async updateMany(ageBelow) {
      const ids = await findIds({ ageMax: ageBelow - 1 });
      for (let start = 0; start < ids.length; start += LOAD_CHUNK) {
        const loaded = await User.loadMany<Instance>(ids.slice(start, start + LOAD_CHUNK));
        await withConcurrency(loaded, CONCURRENCY, async (u) => {
          u.property('score', u.property('score') + 1);
          await u.save();
        });
      }
      return ids.length;
    },
    async deleteMany(ageBelow) {
      const ids = await findIds({ ageMax: ageBelow - 1 });
      await withConcurrency(ids, CONCURRENCY, (id) => User.remove(id));
      return ids.length;
    },
    async count() {
      return new Promise<number>((resolve, reject) =>
        client.scard(`${PREFIX}:idsets:BenchNohmUser`, (err, n) => (err ? reject(err) : resolve(n))));
    },
    async close() {
      await new Promise<void>((resolve) => client.quit(() => resolve()));
    },
  };
}
