/**
 * Connections: `connect({ url })`, `connect({ client })` or `connect({ cluster: { rootNodes } })`;
 * the first one becomes the default that models use unless bound with `Model.withDb(db)`.
 */
import { createClient, createCluster, RedisCluster, type RedisClusterOptions } from 'redis';
import type { Compiled } from '../compile/compiler.js';
import { CrossSlotError, UsageError } from '../errors.js';
import { transaction, type TransactionFn } from '../model/transaction.js';
import type { RecordMethods } from '../model/types.js';
import {
  clusterScripts, execute, nodeScripts, type ClusterClient, type NodeClient, type Reply, type ScriptClient, type ScriptRunner,
} from './executor.js';
import { slot } from './slot.js';

export interface ConnectOptions {
  url?: string;
  /**
   * An existing node-redis client or cluster client (connected or not); rapyer does not close it.
   */
  client?: NodeClient | ClusterClient;
  /** A Redis Cluster: node-redis `createCluster` options, e.g. `{ rootNodes: [{ url }] }`. */
  cluster?: RedisClusterOptions<any, any, any, any, any>;
}

const isCluster = (client: NodeClient | ClusterClient): client is ClusterClient => client instanceof RedisCluster;

export class Connection implements ScriptRunner {
  /** On a cluster, record and model keys carry a hash tag (`{User}`), and scripts must stay in one slot. */
  readonly cluster: boolean;
  private readonly scripts: ScriptClient;

  constructor(
    readonly client: NodeClient | ClusterClient,
    private readonly owned: boolean,
  ) {
    this.cluster = isCluster(client);
    this.scripts = isCluster(client) ? clusterScripts(client) : nodeScripts(client);
  }

  /** Runs a compiled script; on a cluster, throws {@link CrossSlotError} before sending when its keys span slots. */
  run(script: Compiled): Promise<Reply> {
    if (this.cluster) {
      try {
        assertOneSlot(script.keys);
      } catch (err) {
        return Promise.reject(err);
      }
    }
    return execute(this.scripts, script);
  }

  /** One atomic program over several records: `db.transaction([alice, bob], (a, b) => ...)`. */
  transaction<const T extends readonly RecordMethods<any>[]>(records: T, fn: TransactionFn<T>): Promise<T> {
    return transaction(this, records, fn);
  }

  async close(): Promise<void> {
    if (defaultConnection === this) defaultConnection = undefined;
    if (this.owned && this.client.isOpen) await this.client.close();
  }
}

/** Every key of one script must hash to one slot on a cluster (Redis would refuse it with CROSSSLOT). */
function assertOneSlot(keys: readonly string[]): void {
  if (keys.length < 2) return;
  const first = slot(keys[0]);
  for (const key of keys) {
    const other = slot(key);
    if (other !== first) {
      throw new CrossSlotError(
        `keys of one script must share a hash slot on a cluster: '${keys[0]}' is in slot ${first}, '${key}' in slot ${other}`,
      );
    }
  }
}

let defaultConnection: Connection | undefined;

export async function connect(options: ConnectOptions = {}): Promise<Connection> {
  const owned = !options.client;
  const client = options.client ?? (options.cluster ? createCluster(options.cluster) : createClient({ url: options.url }));
  if (!client.isOpen) await client.connect();
  const db = new Connection(client, owned);
  defaultConnection ??= db;
  return db;
}

export function defaultDb(): Connection {
  if (!defaultConnection) throw new UsageError('no connection: call connect() first');
  return defaultConnection;
}
