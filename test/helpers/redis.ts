/**
 * Mocha root hooks: one Redis for the whole run, connected as rapyer's default connection;
 * data and scripts flushed before each test so tests cannot see each other.
 *
 * With RAPYER_TEST_CLUSTER=1 (`npm run test:cluster`) the same tests run against a local
 * 3-master Redis Cluster (test/helpers/cluster.ts): `db` is a cluster connection, and `raw` a
 * node-redis cluster client. `raw` keeps the single-node client's type: every command the tests
 * use exists on both, keyed ones are routed by slot, and node-redis sends FLUSHALL and DBSIZE to
 * every master (DBSIZE summed) and SCRIPT FLUSH to every node.
 */
import { createClient, createCluster, type RedisClientType } from 'redis';
import { connect, type Connection, type ConnectOptions } from '../../src/index.js';
import { startCluster } from './cluster.js';
import { startRedis } from './embedded-redis.js';

/** True when the suite runs against a Redis Cluster. */
export const onCluster = process.env.RAPYER_TEST_CLUSTER === '1';

let stopServer: (() => Promise<void>) | undefined;
export let db: Connection;
export let raw: RedisClientType;
/** The single node's URL (undefined on a cluster: use {@link connectOptions}). */
export let url: string;
/** What `connect()` takes to open another connection to the test server or cluster. */
export let connectOptions: ConnectOptions;

export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    this.timeout(60_000);
    if (onCluster) {
      const cluster = await startCluster();
      stopServer = cluster.stop;
      connectOptions = { cluster: { rootNodes: cluster.rootNodes } };
      raw = createCluster({ rootNodes: cluster.rootNodes }) as unknown as RedisClientType;
    } else {
      const server = await startRedis();
      stopServer = server.stop;
      url = server.url;
      connectOptions = { url };
      raw = createClient({ url });
    }
    db = await connect(connectOptions);
    await raw.connect();
  },
  async beforeEach() {
    await raw.flushAll();
    await raw.scriptFlush();
  },
  async afterAll() {
    await db?.close();
    if (raw?.isOpen) await raw.close();
    await stopServer?.();
  },
};

/** A model's key prefix as rapyer lays keys out: `User` on a single node, `{User}` on a cluster. */
export const prefix = (model: string): string => (onCluster ? `{${model}}` : model);
