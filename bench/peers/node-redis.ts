/**
 * node-redis (the client rapyer itself uses) written by hand, on rapyer's layout: the hash of
 * src/model/layout.ts plus the same id set and index entries, with plain commands (auto-pipelined)
 * and MULTI/EXEC where a job has several writes.
 */
import { createClient, WatchError } from 'redis';
import {
  byScoreDesc, fromLayout, HAND_COMMAND_OPTIONS, indexEntries, layoutFields, NAME_MAX, newId, type BenchUserData, type LoopItem, type LoopJob, type Peer,
} from './types.js';

const PREFIX = 'BenchHand';
const BATCH = 1_000; // records per pipeline during insertMany

export async function nodeRedisPeer(url: string): Promise<Peer> {
  const client = createClient({ url, ...HAND_COMMAND_OPTIONS });
  await client.connect();
  const key = (id: string): string => `${PREFIX}:${id}`;
  // what the client believes a record holds: MULTI cannot append to or toggle a hash field
  const local = new Map<string, { name: string; active: boolean }>();

  const write = (multi: ReturnType<typeof client.multi>, id: string, d: BenchUserData): ReturnType<typeof client.multi> => {
    multi.hSet(key(id), layoutFields(d));
    for (const [k, score, member] of indexEntries(PREFIX, id, d)) multi.zAdd(k, { score, value: member });
    return multi;
  };

  const insert = async (items: BenchUserData[], onProgress?: (done: number) => void): Promise<string[]> => {
    const ids: string[] = [];
    for (let start = 0; start < items.length; start += BATCH) {
      const batch = client.multi();
      for (const d of items.slice(start, start + BATCH)) {
        const id = newId();
        ids.push(id);
        write(batch, id, d);
      }
      await batch.execAsPipeline();
      onProgress?.(Math.min(items.length, start + BATCH));
    }
    return ids;
  };
  const hgetallMany = async (ids: string[]): Promise<Record<string, string>[]> => {
    const out: Record<string, string>[] = [];
    for (let start = 0; start < ids.length; start += BATCH) {
      const batch = client.multi();
      for (const id of ids.slice(start, start + BATCH)) batch.hGetAll(key(id));
      out.push(...((await batch.execAsPipeline()) as unknown as Record<string, string>[]));
    }
    return out;
  };
  const below = (ageBelow: number): Promise<string[]> =>
    client.zRange(`${PREFIX}#idx:age`, '-inf', `(${ageBelow}`, { BY: 'SCORE' });

  /**
   * The pipeline with rapyer's semantics, by hand: WATCH, one HMGET of the fields it reads, the new
   * values and their checks in JS, then one MULTI/EXEC of the writes (the hash with the appended
   * item and the version, the two score index entries); again on a WatchError.
   */
  const pipelineChecked = async (id: string): Promise<unknown> => {
    const k = key(id);
    for (;;) {
      await client.watch(k);
      const [v, score, name, tags, head, age, active] = await client.hmGet(k, ['#v', 'score', 'name', 'tags', 'tags@', 'age', 'active']);
      if (v === null || score === null || name === null || tags === null || age === null || active === null) {
        await client.unwatch();
        throw new Error(`record ${id} not found`);
      }
      const s = Number(score) + 10;
      const n = `${name}x`;
      const len = Number(tags);
      const a = Number(age) + 1;
      if ([...n].length > NAME_MAX || a < 0) {
        await client.unwatch();
        throw new Error('validation');
      }
      const values = { score: String(s), name: n, [`tags[${Number(head ?? 0) + len}]`]: 'new', tags: String(len + 1), age: String(a),
        active: active === 'true' ? 'false' : 'true', '#v': String(Number(v) + 1) };
      try {
        await client.multi()
          .hSet(k, values)
          .zAdd(`${PREFIX}#idx:score`, { score: s, value: id })
          .zAdd(`${PREFIX}#idx:age`, { score: a, value: id })
          .exec();
        return values;
      } catch (err) {
        if (!(err instanceof WatchError)) throw err;
      }
    }
  };

  return {
    name: 'node-redis',
    notes: {
      create: 'MULTI: HSET of the same hash + ZADD to the id set and the 3 indexes; no existence check, no validation',
      get: 'HGETALL, decoded by hand into the same typed object',
      incr: 'MULTI: HINCRBYFLOAT score + ZINCRBY on the score index + HINCRBY version; no validation',
      pipeline5: 'not equivalent: MULTI cannot read inside the transaction, so name += "x" and active = !active are blind writes from the ' +
        'client\'s possibly stale copy, tags go to a separate Redis LIST (RPUSH), and nothing is validated or returned as the new state',
      loop: 'WATCH + HGETALL, filter in JS, MULTI/EXEC of the rewritten positions, length and version (retries on WatchError)',
      getMany: `HGETALL per id, sent as one pipeline per ${BATCH.toLocaleString('en-US')} ids, decoded by hand`,
      query: 'on the client: ZRANGE BYSCORE of the age index and ZRANGE BYLEX of the status index (all their ids), intersected ' +
        'in JS, ZMSCORE of the matches on the score index, sorted in JS, then one pipeline of HGETALL for the 50',
      updateMany: `ZRANGE BYSCORE of the age index (the ids), then HINCRBYFLOAT score + ZINCRBY on the score index + HINCRBY version ` +
        `per id, one pipeline per ${BATCH.toLocaleString('en-US')} ids; not atomic, no validation`,
      deleteMany: `ZRANGE BYSCORE of the age index, HGET status per id (the status index member embeds it), then UNLINK + ZREM from ` +
        `the id set and the 3 indexes, one pipeline per ${BATCH.toLocaleString('en-US')} ids; not atomic`,
      insertMany: `HSET + 4 ZADD per record, sent as one pipeline (multi().execAsPipeline(), not a transaction: faster here than ` +
        `auto-pipelined promises) per ${BATCH.toLocaleString('en-US')} records; not atomic, no existence check`,
    },
    keyPatterns: [`${PREFIX}:*`, `${PREFIX}#*`],
    otherPatterns: [`${PREFIX}Cart:*`],
    async createOne(data) {
      const id = newId();
      await write(client.multi(), id, data).exec();
      local.set(id, { name: data.name, active: data.active });
      return id;
    },
    async getOne(id) {
      return fromLayout(await client.hGetAll(key(id)));
    },
    async incrementOne(id) {
      const [score] = await client.multi()
        .hIncrByFloat(key(id), 'score', 1)
        .zIncrBy(`${PREFIX}#idx:score`, 1, id)
        .hIncrBy(key(id), '#v', 1)
        .exec();
      return Number(score);
    },
    async pipeline5(id) {
      const l = local.get(id)!;
      l.name += 'x';
      l.active = !l.active;
      return client.multi()
        .hIncrByFloat(key(id), 'score', 10)
        .zIncrBy(`${PREFIX}#idx:score`, 10, id)
        .hSet(key(id), 'name', l.name)
        .rPush(`${key(id)}:tags`, 'new')
        .hIncrBy(key(id), 'age', 1)
        .zIncrBy(`${PREFIX}#idx:age`, 1, id)
        .hSet(key(id), 'active', l.active ? 'true' : 'false')
        .hIncrBy(key(id), '#v', 1)
        .exec();
    },
    extraPipeline5: {
      variant: 'MULTI/EXEC checked',
      note: 'the pipeline as rapyer runs it, by hand with node-redis: WATCH + HMGET of the 7 fields it reads, the new values and ' +
        'the maxLength / minimum checks in JS, then one MULTI/EXEC: HSET of the 5 fields, the appended item and the version + ZADD ' +
        'of the 2 moved index entries (the node-redis row is the blind MULTI/EXEC: one round trip, nothing read or checked)',
      run: pipelineChecked,
    },
    async reset(id, data) {
      await write(client.multi().del([key(id), `${key(id)}:tags`]), id, data).exec();
      local.set(id, { name: data.name, active: data.active });
    },
    async loop(items: LoopItem[]): Promise<LoopJob> {
      const cart = `${PREFIX}Cart:${newId()}`;
      const fixture: Record<string, string> = { '#v': '1', owner: 'Ada', inventory: String(items.length) };
      items.forEach((item, i) => (fixture[`inventory[${i}]`] = JSON.stringify(item)));
      const read = async (): Promise<LoopItem[]> => {
        const h = await client.hGetAll(cart);
        const head = Number(h['inventory@'] ?? 0);
        return Array.from({ length: Number(h.inventory) }, (_, i) => JSON.parse(h[`inventory[${head + i}]`]) as LoopItem);
      };
      return {
        refill: async () => void (await client.multi().del(cart).hSet(cart, fixture).exec()),
        read,
        run: async () => {
          for (;;) {
            await client.watch(cart);
            const h = await client.hGetAll(cart);
            const len = Number(h.inventory);
            const head = Number(h['inventory@'] ?? 0);
            const raws = Array.from({ length: len }, (_, i) => h[`inventory[${head + i}]`]);
            const keep = raws.filter((raw) => !(JSON.parse(raw) as LoopItem).expired);
            if (keep.length === len) return void (await client.unwatch());
            // the layout keeps items at head..head+len-1: rewrite from the first removed position
            const first = raws.findIndex((raw, i) => raw !== keep[i]);
            const sets: Record<string, string> = { inventory: String(keep.length) };
            for (let i = first; i < keep.length; i++) sets[`inventory[${head + i}]`] = keep[i];
            const dels = Array.from({ length: len - keep.length }, (_, i) => `inventory[${head + keep.length + i}]`);
            try {
              await client.multi().hSet(cart, sets).hDel(cart, dels).hIncrBy(cart, '#v', 1).exec();
              return;
            } catch (err) {
              if (!(err instanceof WatchError)) throw err;
            }
          }
        },
      };
    },
    async insertMany(items, onProgress) {
      return (await insert(items, onProgress)).length;
    },
    seed: insert,
    async getMany(ids) {
      return (await hgetallMany(ids)).map(fromLayout);
    },
    async query(q) {
      const [byAge, byStatus] = await Promise.all([
        client.zRange(`${PREFIX}#idx:age`, q.ageMin, q.ageMax, { BY: 'SCORE' }),
        client.zRange(`${PREFIX}#idx:status`, `[${q.status}\0`, `(${q.status}\x01`, { BY: 'LEX' }),
      ]);
      const ages = new Set(byAge);
      const skip = q.status.length + 1;
      const matches = byStatus.map((m) => m.slice(skip)).filter((id) => ages.has(id));
      if (matches.length === 0) return [];
      const scores = await client.zmScore(`${PREFIX}#idx:score`, matches);
      const top = byScoreDesc(matches.map((id, i): [string, { score: number }] => [id, { score: Number(scores[i]) }])).slice(0, q.limit);
      return (await hgetallMany(top.map(([id]) => id))).map(fromLayout);
    },
    async updateMany(ageBelow) {
      const ids = await below(ageBelow);
      for (let start = 0; start < ids.length; start += BATCH) {
        const batch = client.multi();
        for (const id of ids.slice(start, start + BATCH)) {
          batch.hIncrByFloat(key(id), 'score', 1).zIncrBy(`${PREFIX}#idx:score`, 1, id).hIncrBy(key(id), '#v', 1);
        }
        await batch.execAsPipeline();
      }
      return ids.length;
    },
    async deleteMany(ageBelow) {
      const ids = await below(ageBelow);
      for (let start = 0; start < ids.length; start += BATCH) {
        const chunk = ids.slice(start, start + BATCH);
        const read = client.multi();
        for (const id of chunk) read.hGet(key(id), 'status');
        const statuses = (await read.execAsPipeline()) as unknown as (string | null)[];
        const batch = client.multi();
        batch.unlink(chunk.map(key));
        batch.zRem(`${PREFIX}#ids`, chunk).zRem(`${PREFIX}#idx:age`, chunk).zRem(`${PREFIX}#idx:score`, chunk);
        batch.zRem(`${PREFIX}#idx:status`, chunk.map((id, i) => `${statuses[i]}\0${id}`));
        await batch.execAsPipeline();
      }
      return ids.length;
    },
    async count() {
      return client.zCard(`${PREFIX}#ids`);
    },
    async close() {
      await client.quit();
    },
  };
}
