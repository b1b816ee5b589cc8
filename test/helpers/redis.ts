/**
 * Mocha root hooks: one Redis for the whole run, connected as rapyer's default connection;
 * data and scripts flushed before each test so tests cannot see each other.
 */
import { createClient, type RedisClientType } from 'redis';
import { connect, type Connection } from '../../src/index.js';
import { startRedis, type EmbeddedRedis } from './embedded-redis.js';

let server: EmbeddedRedis | undefined;
export let db: Connection;
export let raw: RedisClientType;
export let url: string;

export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    this.timeout(60_000);
    server = await startRedis();
    url = server.url;
    db = await connect({ url });
    raw = createClient({ url });
    await raw.connect();
  },
  async beforeEach() {
    await raw.flushAll();
    await raw.scriptFlush();
  },
  async afterAll() {
    await db?.close();
    await raw?.quit();
    await server?.stop();
  },
};
