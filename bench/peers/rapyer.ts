/** rapyer itself: every job is one compiled Lua script (create, get, `$.score.incr`, pipeline, loop, insertMany). */
import { Type } from 'typebox';
import { connect, defineModel, t, type Rec } from '../../src/index.js';
import { INDEXED, NAME_MAX, type BenchUserData, type LoopItem, type LoopJob, type Peer } from './types.js';

const shape = {
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

type BulkOptions = { onConflict?: 'error' | 'skip' | 'replace'; chunkSize?: number; onProgress?: (done: number) => void };
type InsertMany = (items: BenchUserData[], options?: BulkOptions) => Promise<unknown[] | number>;

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
  const insertMany = (User as unknown as { insertMany?: InsertMany }).insertMany?.bind(User);

  const notes: Peer['notes'] = {
    create: 'validates and fills defaults in the client; one script checks the id is new and writes the hash, the id set and the 3 index entries',
    get: 'one read-only script (EVALSHA_RO); decodes a typed record (Date, number, boolean, string[], dict)',
    incr: '`u.$.score.incr(1)`: one script, reads the stored value, checks it, bumps the version, moves the index entry, returns the new value',
    pipeline5: 'one atomic script: reads and checks the stored values (maxLength, integer minimum), writes, moves 2 index entries, returns the changes',
    loop: 'one script walks the 1,000 stored items in Lua and removes the 100 expired ones',
  };
  if (!insertMany) notes.insertMany = 'skipped: `Model.insertMany` does not exist in this build yet';
  else notes.insertMany = '`Model.insertMany(items, { onConflict: "error" })`: validates all, then one script per chunk';

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
        const out = await insertMany(items, { onConflict: 'error', onProgress });
        return typeof out === 'number' ? out : out.length;
      },
    } : {}),
    async count() {
      return Number(await db.client.zCard(User.keys.ids()));
    },
    async close() {
      await db.close();
    },
  };
}
