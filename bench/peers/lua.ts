/**
 * One hand-written Lua script per job, on rapyer's layout (the same hash, id set and index entries),
 * loaded once and run with EVALSHA: the practical limit of the server for doing the same work
 * atomically, with none of rapyer's generality (no AST, no compiler, no patch protocol, fixed fields).
 */
import { createClient } from 'redis';
import {
  fromLayout, HAND_COMMAND_OPTIONS, indexEntries, layoutFields, NAME_MAX, newId, type BenchUserData, type LoopItem, type LoopJob, type Peer,
} from './types.js';

const GET_CHUNK = 1_000; // ids per getMany script

const PREFIX = 'BenchLua';
const CHUNK = 1_000; // records per insertMany script
const IN_FLIGHT = 2; // insertMany scripts in flight (the next chunk is encoded while one runs)

const S = {
  // KEYS: record, ids, idx:age, idx:score, idx:status. ARGV: id, age, score, status, field, value, ...
  create: `
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.error_reply('EXISTS ' .. ARGV[1]) end
redis.call('HSET', KEYS[1], unpack(ARGV, 5))
redis.call('ZADD', KEYS[2], 0, ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
redis.call('ZADD', KEYS[4], ARGV[3], ARGV[1])
redis.call('ZADD', KEYS[5], 0, ARGV[4] .. '\\0' .. ARGV[1])
return 1`,
  get: `return redis.call('HGETALL', KEYS[1])`,
  // KEYS: record, idx:score. ARGV: id, by
  incr: `
if redis.call('EXISTS', KEYS[1]) == 0 then return redis.error_reply('NOT_FOUND ' .. ARGV[1]) end
local v = redis.call('HINCRBYFLOAT', KEYS[1], 'score', ARGV[2])
redis.call('HINCRBY', KEYS[1], '#v', 1)
redis.call('ZADD', KEYS[2], v, ARGV[1])
return v`,
  // KEYS: record, idx:score, idx:age. ARGV: id, name maxLength
  pipeline5: `
local h = redis.call('HMGET', KEYS[1], '#v', 'score', 'name', 'tags', 'tags@', 'age', 'active')
if not h[1] then return redis.error_reply('NOT_FOUND ' .. ARGV[1]) end
local score = tonumber(h[2]) + 10
local name = h[3] .. 'x'
local _, chars = string.gsub(name, '[^\\128-\\191]', '')
if chars > tonumber(ARGV[2]) then return redis.error_reply('VALIDATION name maxLength') end
local len, head = tonumber(h[4]), tonumber(h[5] or '0')
local age = tonumber(h[6]) + 1
local active = (h[7] == 'true') and 'false' or 'true'
local s = string.format('%.17g', score)
if tonumber(string.format('%.15g', score)) == score then s = string.format('%.15g', score) end
redis.call('HSET', KEYS[1], 'score', s, 'name', name, 'tags[' .. (head + len) .. ']', 'new', 'tags', len + 1,
  'age', age, 'active', active, '#v', tonumber(h[1]) + 1)
redis.call('ZADD', KEYS[2], score, ARGV[1])
redis.call('ZADD', KEYS[3], age, ARGV[1])
return { s, name, len + 1, age, active }`,
  // KEYS: cart. Removes the items whose "expired" is true, keeping the layout's head..head+len-1 positions
  loop: `
local k = KEYS[1]
local len = tonumber(redis.call('HGET', k, 'inventory'))
local head = tonumber(redis.call('HGET', k, 'inventory@') or '0')
if len == 0 then return 0 end
local fields = {}
for i = 1, len do fields[i] = 'inventory[' .. (head + i - 1) .. ']' end
-- unpack at most 4,000 values per call (Lua's C stack): the 100,000-item scenario needs chunks
local raws = {}
for from = 1, len, 4000 do
  local got = redis.call('HMGET', k, unpack(fields, from, math.min(from + 3999, len)))
  for j = 1, #got do raws[from + j - 1] = got[j] end
end
local keep = {}
for i = 1, len do
  if not cjson.decode(raws[i]).expired then keep[#keep + 1] = raws[i] end
end
if #keep == len then return 0 end
local first = 1
while keep[first] == raws[first] do first = first + 1 end
local sets = { 'inventory', #keep }
for i = first, #keep do sets[#sets + 1] = fields[i]; sets[#sets + 1] = keep[i] end
for from = 1, #sets, 4000 do redis.call('HSET', k, unpack(sets, from, math.min(from + 3999, #sets))) end
local dels = {}
for i = #keep + 1, len do dels[#dels + 1] = fields[i] end
for from = 1, #dels, 4000 do redis.call('HDEL', k, unpack(dels, from, math.min(from + 3999, #dels))) end
redis.call('HINCRBY', k, '#v', 1)
return len - #keep`,
  // KEYS: ids, idx:age, idx:score, idx:status, record 1 .. record n.
  // ARGV per record: id, age, score, status, field count n, then n field, value pairs. All or nothing:
  // every key is checked before anything is written; one HSET per record, then one multi-member
  // ZADD per sorted set for the whole chunk.
  insertChunk: `
for r = 5, #KEYS do
  if redis.call('EXISTS', KEYS[r]) == 1 then return redis.error_reply('EXISTS ' .. KEYS[r]) end
end
local a = 1
local ids, age, score, status = {}, {}, {}, {}
for r = 5, #KEYS do
  local id, n = ARGV[a], tonumber(ARGV[a + 4])
  redis.call('HSET', KEYS[r], unpack(ARGV, a + 5, a + 4 + 2 * n))
  ids[#ids + 1] = 0; ids[#ids + 1] = id
  age[#age + 1] = ARGV[a + 1]; age[#age + 1] = id
  score[#score + 1] = ARGV[a + 2]; score[#score + 1] = id
  status[#status + 1] = 0; status[#status + 1] = ARGV[a + 3] .. '\\0' .. id
  a = a + 5 + 2 * n
end
redis.call('ZADD', KEYS[1], unpack(ids))
redis.call('ZADD', KEYS[2], unpack(age))
redis.call('ZADD', KEYS[3], unpack(score))
redis.call('ZADD', KEYS[4], unpack(status))
return #KEYS - 4`,
  // KEYS: record 1 .. record n. One HGETALL each.
  getChunk: `
local out = {}
for i = 1, #KEYS do out[i] = redis.call('HGETALL', KEYS[i]) end
return out`,
  // KEYS: idx:score. ARGV: record key prefix, age min, age max, status, limit.
  // Walks the score index from the top, checks age and status of each id, stops after 'limit' matches.
  query: `
local prefix, lo, hi, status, limit = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[5])
local out, n, start, page = {}, 0, 0, 256
while n < limit do
  local ids = redis.call('ZREVRANGE', KEYS[1], start, start + page - 1)
  if #ids == 0 then break end
  for i = 1, #ids do
    local k = prefix .. ids[i]
    local h = redis.call('HMGET', k, 'age', 'status')
    local age = tonumber(h[1])
    if age and age >= lo and age <= hi and h[2] == status then
      out[#out + 1] = ids[i]
      out[#out + 1] = redis.call('HGETALL', k)
      n = n + 1
      if n == limit then break end
    end
  end
  start = start + page
end
return out`,
  // KEYS: idx:age, idx:score. ARGV: record key prefix, age bound (exclusive).
  updateBelow: `
local ids = redis.call('ZRANGE', KEYS[1], '-inf', '(' .. ARGV[2], 'BYSCORE')
for i = 1, #ids do
  local k = ARGV[1] .. ids[i]
  local v = redis.call('HINCRBYFLOAT', k, 'score', 1)
  redis.call('HINCRBY', k, '#v', 1)
  redis.call('ZADD', KEYS[2], v, ids[i])
end
return #ids`,
  // KEYS: ids, idx:age, idx:score, idx:status. ARGV: record key prefix, age bound (exclusive).
  deleteBelow: `
local ids = redis.call('ZRANGE', KEYS[2], '-inf', '(' .. ARGV[2], 'BYSCORE')
for s = 1, #ids, 1000 do
  local e = math.min(#ids, s + 999)
  local keys, members, statuses = {}, {}, {}
  for i = s, e do
    local k = ARGV[1] .. ids[i]
    keys[#keys + 1] = k
    members[#members + 1] = ids[i]
    statuses[#statuses + 1] = redis.call('HGET', k, 'status') .. '\\0' .. ids[i]
  end
  redis.call('UNLINK', unpack(keys))
  redis.call('ZREM', KEYS[1], unpack(members))
  redis.call('ZREM', KEYS[2], unpack(members))
  redis.call('ZREM', KEYS[3], unpack(members))
  redis.call('ZREM', KEYS[4], unpack(statuses))
end
return #ids`,
} as const;

export async function luaPeer(url: string): Promise<Peer> {
  const client = createClient({ url, ...HAND_COMMAND_OPTIONS });
  await client.connect();
  const sha = {} as Record<keyof typeof S, string>;
  for (const name of Object.keys(S) as (keyof typeof S)[]) sha[name] = await client.scriptLoad(S[name]);
  const key = (id: string): string => `${PREFIX}:${id}`;
  const ix = (field: string): string => `${PREFIX}#idx:${field}`;
  const ids = `${PREFIX}#ids`;
  const pairs = (d: BenchUserData): string[] => Object.entries(layoutFields(d)).flat();

  const create = async (id: string, data: BenchUserData): Promise<void> => {
    await client.evalSha(sha.create, {
      keys: [key(id), ids, ix('age'), ix('score'), ix('status')],
      arguments: [id, String(data.age), String(data.score), data.status, ...pairs(data)],
    });
  };

  const insert = async (items: BenchUserData[], onProgress?: (done: number) => void): Promise<string[]> => {
    const chunks: BenchUserData[][] = [];
    for (let i = 0; i < items.length; i += CHUNK) chunks.push(items.slice(i, i + CHUNK));
    const made: string[][] = [];
    let done = 0;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < chunks.length) {
        const c = next++;
        const chunk = chunks[c];
        const keys = [ids, ix('age'), ix('score'), ix('status')];
        const argv: string[] = [];
        made[c] = [];
        for (const d of chunk) {
          const id = newId();
          const p = pairs(d);
          made[c].push(id);
          keys.push(key(id));
          argv.push(id, String(d.age), String(d.score), d.status, String(p.length / 2), ...p);
        }
        await client.evalSha(sha.insertChunk, { keys, arguments: argv });
        onProgress?.((done += chunk.length));
      }
    };
    await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, chunks.length) }, worker));
    return made.flat();
  };
  const decode = (flat: string[]): BenchUserData => {
    const h: Record<string, string> = {};
    for (let i = 0; i < flat.length; i += 2) h[flat[i]] = flat[i + 1];
    return fromLayout(h);
  };

  return {
    name: 'Lua by hand',
    notes: {
      create: 'one script: EXISTS check, HSET, ZADD to the id set and the 3 indexes; no validation',
      get: 'one script (HGETALL), decoded by hand like node-redis',
      incr: 'one script: existence check, HINCRBYFLOAT, version bump, ZADD of the new score; no validation',
      pipeline5: 'one atomic script on the layout: HMGET, maxLength check, one HSET, 2 ZADD, returns the new values',
      loop: 'one script: HMGET the 1,000 items, cjson.decode each, rewrite from the first removed position',
      getMany: `one script per ${GET_CHUNK.toLocaleString('en-US')} ids (HGETALL each), decoded by hand`,
      query: 'one script: walks the score index from the top (ZREVRANGE, pages of 256), HMGET age + status of each id, ' +
        'HGETALL of the first 50 that match; knows this query\'s best plan in advance',
      updateMany: 'one script: ZRANGE BYSCORE of the age index, then HINCRBYFLOAT + HINCRBY version + ZADD on the score index per id; no validation',
      deleteMany: 'one script: ZRANGE BYSCORE of the age index, HGET status per id, then UNLINK and ZREM (id set, 3 indexes) 1,000 at a time',
      insertMany: `one script per ${CHUNK.toLocaleString('en-US')}-record chunk (all keys checked, then one HSET each and one multi-member ZADD per sorted set), ${IN_FLIGHT} chunks in flight`,
    },
    keyPatterns: [`${PREFIX}:*`, `${PREFIX}#*`],
    otherPatterns: [`${PREFIX}Cart:*`],
    async createOne(data) {
      const id = newId();
      await create(id, data);
      return id;
    },
    async getOne(id) {
      const flat = (await client.evalSha(sha.get, { keys: [key(id)] })) as string[];
      const h: Record<string, string> = {};
      for (let i = 0; i < flat.length; i += 2) h[flat[i]] = flat[i + 1];
      return fromLayout(h);
    },
    async incrementOne(id) {
      return Number(await client.evalSha(sha.incr, { keys: [key(id), ix('score')], arguments: [id, '1'] }));
    },
    async pipeline5(id) {
      return client.evalSha(sha.pipeline5, { keys: [key(id), ix('score'), ix('age')], arguments: [id, String(NAME_MAX)] });
    },
    async reset(id, data) {
      const multi = client.multi().del(key(id)).hSet(key(id), layoutFields(data));
      for (const [k, score, member] of indexEntries(PREFIX, id, data)) multi.zAdd(k, { score, value: member });
      await multi.exec();
    },
    async loop(items: LoopItem[]): Promise<LoopJob> {
      const cart = `${PREFIX}Cart:${newId()}`;
      const fixture: Record<string, string> = { '#v': '1', owner: 'Ada', inventory: String(items.length) };
      items.forEach((item, i) => (fixture[`inventory[${i}]`] = JSON.stringify(item)));
      return {
        refill: async () => void (await client.multi().del(cart).hSet(cart, fixture).exec()),
        run: () => client.evalSha(sha.loop, { keys: [cart] }),
        read: async () => {
          const h = await client.hGetAll(cart);
          const head = Number(h['inventory@'] ?? 0);
          return Array.from({ length: Number(h.inventory) }, (_, i) => JSON.parse(h[`inventory[${head + i}]`]) as LoopItem);
        },
      };
    },
    async insertMany(items, onProgress) {
      return (await insert(items, onProgress)).length;
    },
    seed: insert,
    async getMany(wanted) {
      const out: BenchUserData[] = [];
      for (let start = 0; start < wanted.length; start += GET_CHUNK) {
        const replies = (await client.evalSha(sha.getChunk, { keys: wanted.slice(start, start + GET_CHUNK).map(key) })) as string[][];
        for (const flat of replies) out.push(decode(flat));
      }
      return out;
    },
    async query(q) {
      const flat = (await client.evalSha(sha.query, {
        keys: [ix('score')], arguments: [`${PREFIX}:`, String(q.ageMin), String(q.ageMax), q.status, String(q.limit)],
      })) as (string | string[])[];
      const out: BenchUserData[] = [];
      for (let i = 0; i < flat.length; i += 2) out.push(decode(flat[i + 1] as string[]));
      return out;
    },
    async updateMany(ageBelow) {
      return Number(await client.evalSha(sha.updateBelow, { keys: [ix('age'), ix('score')], arguments: [`${PREFIX}:`, String(ageBelow)] }));
    },
    async deleteMany(ageBelow) {
      return Number(await client.evalSha(sha.deleteBelow, {
        keys: [ids, ix('age'), ix('score'), ix('status')], arguments: [`${PREFIX}:`, String(ageBelow)],
      }));
    },
    async count() {
      return client.zCard(ids);
    },
    async close() {
      await client.quit();
    },
  };
}
