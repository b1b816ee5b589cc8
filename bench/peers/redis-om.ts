/**
 * redis-om for Node (0.4, on hashes): `Repository.save` / `Repository.fetch`, its normal path.
 * Its indexes and search (`createIndex`, `search()`) are RediSearch's FT.* commands: a module plain
 * Redis does not have, so this peer stores records without any index.
 */
import { createClient } from 'redis4';
import { EntityId, Repository, Schema, type Entity, type RedisConnection } from 'redis-om';
import { withConcurrency, type BenchUserData, type Peer } from './types.js';

const PREFIX = 'BenchOm';
const CONCURRENCY = 64; // saves in flight during insertMany
const FETCH_CHUNK = 1_000; // ids per fetch / remove call in the bulk scenarios

const schema = new Schema(PREFIX, {
  name: { type: 'string' },
  age: { type: 'number' },
  score: { type: 'number' },
  status: { type: 'string' },
  level: { type: 'string' },
  balance: { type: 'number' },
  active: { type: 'boolean' },
  lastSeen: { type: 'date' },
  tags: { type: 'string[]' },
  // a hash has no nested values in redis-om: the dict is a JSON string
  notifications: { type: 'string' },
}, { dataStructure: 'HASH' });

const toEntity = (d: BenchUserData): Entity => ({ ...d, tags: [...d.tags], notifications: JSON.stringify(d.notifications) });

function fromEntity(e: Entity): BenchUserData {
  return {
    name: e.name as string, age: e.age as number, score: e.score as number, status: e.status as BenchUserData['status'],
    level: e.level as string, balance: e.balance as number, active: e.active as boolean, lastSeen: e.lastSeen as Date,
    tags: (e.tags as string[] | undefined) ?? [], notifications: JSON.parse(e.notifications as string) as Record<string, string>,
  };
}

export async function redisOmPeer(url: string): Promise<Peer> {
  const client = createClient({ url });
  await client.connect();
  const repo = new Repository(schema, client as unknown as RedisConnection);
  let searchError = 'needs RediSearch';
  try {
    await repo.createIndex();
    searchError = 'FT.CREATE worked on this server';
  } catch (err) {
    const reply = String((err as Error).message ?? err).split(', with args')[0].split('\n')[0];
    searchError = `its createIndex/search are RediSearch FT.* commands, which this server rejects: "${reply}"`;
  }
  // records the application holds: redis-om writes a whole entity, so updates start from a local copy
  const entities = new Map<string, Entity>();

  const idOf = (e: Entity): string => (e as Record<symbol, string | undefined>)[EntityId as symbol]!;
  const insert = async (items: BenchUserData[], onProgress?: (done: number) => void): Promise<string[]> => {
    const ids: string[] = new Array(items.length);
    let done = 0;
    await withConcurrency(items, CONCURRENCY, async (d, i) => {
      ids[i] = idOf(await repo.save(toEntity(d)));
      if (++done % 1000 === 0) onProgress?.(done);
    });
    return ids;
  };
  const noQuery = `it cannot query without RediSearch (${searchError})`;

  return {
    name: 'redis-om',
    notes: {
      create: `Repository.save: MULTI UNLINK + HSET; no index (${searchError}); the dict is stored as a JSON string, tags joined with "|"`,
      get: 'Repository.fetch: HGETALL, decoded by its schema',
      incr: 'not atomic: score += 1 on the held entity, then Repository.save rewrites the whole hash (lost updates under concurrency)',
      pipeline5: 'not atomic: the 5 changes on the held entity, then one Repository.save rewrite of the whole hash; no maxLength check',
      loop: 'n/a: redis-om hashes cannot hold an array of objects, and it has no server-side programs',
      getMany: `Repository.fetch(ids) per ${FETCH_CHUNK.toLocaleString('en-US')} ids (an HGETALL per id), decoded by its schema`,
      query: `skipped: ${noQuery}`,
      updateMany: `no query: ${noQuery}; by the ids the application kept from the seed: Repository.fetch per ` +
        `${FETCH_CHUNK.toLocaleString('en-US')} ids, score += 1, Repository.save each (${CONCURRENCY} in flight, whole-hash rewrites, not atomic)`,
      deleteMany: `no query: ${noQuery}; by the ids the application kept from the seed: Repository.remove per ` +
        `${FETCH_CHUNK.toLocaleString('en-US')} ids (one UNLINK each); it has no index entries to remove`,
      insertMany: `no bulk API: Repository.save per record, ${CONCURRENCY} in flight; no index (${searchError})`,
    },
    keyPatterns: [`${PREFIX}:*`],
    async createOne(data) {
      const e = await repo.save(toEntity(data));
      const id = (e as Record<symbol, string | undefined>)[EntityId as symbol]!;
      entities.set(id, e);
      return id;
    },
    async getOne(id) {
      return fromEntity(await repo.fetch(id));
    },
    async incrementOne(id) {
      const e = entities.get(id) ?? (await repo.fetch(id));
      e.score = (e.score as number) + 1;
      await repo.save(e);
      return e.score as number;
    },
    async pipeline5(id) {
      const e = entities.get(id) ?? (await repo.fetch(id));
      e.score = (e.score as number) + 10;
      e.name = `${e.name as string}x`;
      e.tags = [...(e.tags as string[]), 'new'];
      e.age = (e.age as number) + 1;
      e.active = !(e.active as boolean);
      return repo.save(e);
    },
    async reset(id, data) {
      entities.set(id, await repo.save(id, toEntity(data)));
    },
    async insertMany(items, onProgress) {
      return (await insert(items, onProgress)).length;
    },
    seed: insert,
    async getMany(ids) {
      const out: BenchUserData[] = [];
      for (let start = 0; start < ids.length; start += FETCH_CHUNK) {
        for (const e of await repo.fetch(ids.slice(start, start + FETCH_CHUNK))) out.push(fromEntity(e));
      }
      return out;
    },
    async updateMany(_ageBelow, ids) {
      for (let start = 0; start < ids.length; start += FETCH_CHUNK) {
        const entities = await repo.fetch(ids.slice(start, start + FETCH_CHUNK));
        await withConcurrency(entities, CONCURRENCY, async (e) => {
          e.score = (e.score as number) + 1;
          await repo.save(e);
        });
      }
      return ids.length;
    },
    async deleteMany(_ageBelow, ids) {
      for (let start = 0; start < ids.length; start += FETCH_CHUNK) await repo.remove(ids.slice(start, start + FETCH_CHUNK));
      return ids.length;
    },
    async count() {
      let n = 0;
      // node-redis 4's scanIterator yields one key at a time
      for await (const _key of client.scanIterator({ MATCH: `${PREFIX}:*`, COUNT: 1000 })) n++;
      return n;
    },
    async close() {
      await client.quit();
    },
  };
}
