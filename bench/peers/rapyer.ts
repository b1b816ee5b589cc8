/**
 * rapyer itself: every job is one compiled Lua script (create, get, `$.score.incr`, pipeline, loop),
 * or one script per chunk (insertMany, getMany), or one script for a whole query, update or delete by query.
 */
import { Type } from 'typebox';
import { and, connect, defineModel, t, type Condition, type Rec } from '../../src/index.js';
import { INDEXED, NAME_MAX, type BenchUserData, type LoopItem, type LoopJob, type Peer } from './types.js';

export const shape = {
  name: Type.String({ maxLength: NAME_MAX }),
  age: Type.Integer({ minimum: 0 }),
  score: Type.Number({ default: 0 }),
  status: Type.Union([Type.Literal('new'), Type.Literal('adult'), Type.Literal('minor')], { default: 'new' }),
  level: Type.String({ default: 'basic' }),
  balance: Type.Integer({ default: 0 }),
  active: Type.Boolean({ default: true }),
  lastSeen: t.DateTime({ default: () => new Date(0) }),
  tags: Type.Array(Type.String(), { default: [] }),
  notifications: Type.Record(Type.String(), Type.String(), { default: {} }),
};

const cartShape = {
  owner: Type.String(),
  inventory: Type.Array(Type.Object({ sku: Type.String(), qty: Type.Integer(), expired: Type.Boolean() }), { default: [] }),
};

type BulkOptions = { onConflict?: 'error' | 'skip' | 'replace'; chunkSize?: number; onProgress?: (progress: { done: number }) => void };
type InsertMany = (items: BenchUserData[], options?: BulkOptions) => Promise<unknown[] | number>;
type Where = Condition | ((u: any) => Condition); // eslint-disable-line @typescript-eslint/no-explicit-any
type GetMany = (ids: string[], options?: { missing?: 'error' | 'skip' | 'null' }) => Promise<({ toJSON(): unknown } | null)[]>;
type UpdateMany = (target: string[] | Where, fn: (p: any) => void) => Promise<number>; // eslint-disable-line @typescript-eslint/no-explicit-any
type DeleteMany = (target: string[] | Where) => Promise<number>;
/** How many concurrent creates seed the data set when `insertMany` is missing. */
const SEED_BATCH = 2_000;

export async function rapyerPeer(url: string): Promise<Peer> {
  const db = await connect({ url });
  const User = defineModel('BenchUser', shape, { indexes: INDEXED }).withDb(db);
  const Cart = defineModel('BenchCart', cartShape).withDb(db);
  type User = Rec<typeof shape>;
  const records = new Map<string, User>();
  const record = async (id: string): Promise<User> => {
    let u = records.get(id);
    if (!u) records.set(id, (u = await User.get(id)));
    return u;
  };
  // bulk operations are being built; use them when this build has them
  const bulk = User as unknown as { insertMany?: InsertMany; getMany?: GetMany; updateMany?: UpdateMany; deleteMany?: DeleteMany };
  const insertMany = bulk.insertMany?.bind(User);
  const getMany = bulk.getMany?.bind(User);
  const updateMany = bulk.updateMany?.bind(User);
  const deleteMany = bulk.deleteMany?.bind(User);

  const notes: Peer['notes'] = {
    create: 'validates and fills defaults in the client; one script checks the id is new and writes the hash, the id set and the 3 index entries',
    get: 'one read-only script (EVALSHA_RO); decodes a typed record (Date, number, boolean, string[], dict)',
    incr: '`u.$.score.incr(1)`: one script, reads the stored value, checks it, bumps the version, moves the index entry, returns the new value',
    pipeline5: 'one atomic script: reads and checks the stored values (maxLength, integer minimum), writes, moves 2 index entries, returns the changes',
    loop: 'one script walks the 1,000 stored items in Lua and removes the 100 expired ones',
  };
  if (!insertMany) notes.insertMany = 'skipped: `Model.insertMany` does not exist in this build yet';
  else notes.insertMany = '`Model.insertMany(items, { onConflict: "error" })`: validates all, then one script per chunk';
  notes.getMany = getMany
    ? '`Model.getMany(ids, { missing: "error" })`: one read script per chunk; typed records in input order'
    : 'skipped: `Model.getMany` does not exist in this build yet';
  notes.query = '`find((u) => and(u.age.between(25, 40), u.status.eq("adult"))).sort("score", "desc").limit(50).toArray()`: ' +
    'one script; the plan counts both index ranges, then walks the score index in order and stops after 50 matches';
  notes.updateMany = updateMany
    ? '`Model.updateMany((u) => u.age.lt(45), (p) => p.score.incr(1))`: the pipeline program runs on every match on the server'
    : '`Model.find((u) => u.age.lt(45)).update((p) => p.score.incr(1))` (`Model.updateMany` is not in this build yet): one script ' +
      'runs the pipeline program on every match, checks each result and moves each score index entry';
  notes.deleteMany = deleteMany
    ? '`Model.deleteMany((u) => u.age.lt(45))`: the records and all their index entries'
    : '`Model.find((u) => u.age.lt(45)).delete()` (`Model.deleteMany` is not in this build yet): one script deletes every match ' +
      'with its id-set and 3 index entries';

  return {
    name: 'rapyer',
    notes,
    keyPatterns: ['BenchUser:*', 'BenchUser#*'],
    otherPatterns: ['BenchCart:*', 'BenchCart#*'],
    async createOne(data) {
      const u = await User.create(data);
      records.set(u.id, u);
      return u.id;
    },
    async getOne(id) {
      return (await User.get(id)).toJSON() as BenchUserData;
    },
    async incrementOne(id) {
      return (await record(id)).$.score.incr(1);
    },
    async pipeline5(id) {
      return (await record(id)).pipeline((p) => {
        p.score.incr(10);
        p.name.append('x');
        p.tags.append('new');
        p.age.incr(1);
        p.active.toggle();
      });
    },
    async reset(id, data) {
      await (await record(id)).pipeline((p) => {
        p.name.set(data.name);
        p.tags.set(data.tags);
        p.age.set(data.age);
        p.score.set(data.score);
        p.active.set(data.active);
      });
    },
    async loop(items: LoopItem[]): Promise<LoopJob> {
      const cart = await Cart.create({ owner: 'Ada', inventory: items });
      return {
        refill: async () => void (await cart.pipeline((p) => p.inventory.set(items))),
        run: () => cart.pipeline((p) => {
          for (const item of p.inventory) item.expired.ifTrue(() => p.inventory.remove(item));
        }),
        read: async () => (await Cart.get(cart.id)).inventory,
      };
    },
    ...(insertMany ? {
      async insertMany(items: BenchUserData[], onProgress?: (done: number) => void): Promise<number> {
        const out = await insertMany(items, { onConflict: 'error', onProgress: onProgress && (({ done }) => onProgress(done)) });
        return typeof out === 'number' ? out : out.length;
      },
    } : {}),
    async seed(items, onProgress) {
      if (insertMany) {
        const out = await insertMany(items, { onConflict: 'error', onProgress: onProgress && (({ done }) => onProgress(done)) });
        if (typeof out === 'number') throw new Error('insertMany returned a count, not the records');
        return out.map((u) => (u as { id: string }).id);
      }
      const ids: string[] = [];
      for (let start = 0; start < items.length; start += SEED_BATCH) {
        const batch = await Promise.all(items.slice(start, start + SEED_BATCH).map((d) => User.create(d)));
        for (const u of batch) ids.push(u.id);
        onProgress?.(ids.length);
      }
      return ids;
    },
    ...(getMany ? {
      async getMany(ids: string[]): Promise<BenchUserData[]> {
        return (await getMany(ids, { missing: 'error' })).map((u) => u!.toJSON() as BenchUserData);
      },
    } : {}),
    async query(q) {
      const page = await User.find((u) => and(u.age.between(q.ageMin, q.ageMax), u.status.eq(q.status)))
        .sort('score', 'desc').limit(q.limit).toArray();
      return page.map((u) => u.toJSON() as BenchUserData);
    },
    async updateMany(ageBelow) {
      if (updateMany) return updateMany((u: { age: { lt(n: number): Condition } }) => u.age.lt(ageBelow), (p) => p.score.incr(1));
      return User.find((u) => u.age.lt(ageBelow)).update((p) => p.score.incr(1));
    },
    async deleteMany(ageBelow) {
      if (deleteMany) return deleteMany((u: { age: { lt(n: number): Condition } }) => u.age.lt(ageBelow));
      return User.find((u) => u.age.lt(ageBelow)).delete();
    },
    async count() {
      return Number(await db.client.zCard(User.keys.ids()));
    },
    async close() {
      await db.close();
    },
  };
}
