/**
 * Connections: `connect({ url })`, `connect({ client })` or `connect({ cluster: { rootNodes } })`;
 * the first one becomes the default that models use unless bound with `Model.withDb(db)`.
 */
import { createClient, createCluster, RedisCluster, type RedisClusterOptions } from 'redis';
import type { Compiled } from '../compile/compiler.js';
import { CrossSlotError, UsageError } from '../errors.js';
import { transaction, type TransactionFn } from '../model/transaction.js';
import type { Rec, RecordMethods } from '../model/types.js';
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

  /** The record at a Redis key (`u.key`) of any model declared on this connection; NotFoundError when absent. */
  async get(key: string): Promise<Rec<any>> {
    return acrossModels().get(this.scope, key);
  }

  /** The records at `keys` (of any models declared here), in input order; `missing` as in `Model.getMany`. */
  getMany(keys: readonly string[], options: GetManyOptions & { missing: 'null' }): Promise<(Rec<any> | null)[]>;
  getMany(keys: readonly string[], options?: GetManyOptions & { missing?: 'error' | 'skip' }): Promise<Rec<any>[]>;
  async getMany(keys: readonly string[], options?: GetManyOptions): Promise<(Rec<any> | null)[]> {
    return acrossModels().getMany(this.scope, keys, options);
  }

  /** Deletes records of several models by key or record (one script per hash tag and chunk, indexes cleaned); how many existed. */
  async deleteMany(keysOrRecords: readonly (string | { readonly key: string })[], options?: ChunkOptions): Promise<number> {
    return acrossModels().deleteMany(this.scope, keysOrRecords, options);
  }

  private get scope(): Scope {
    return { db: this, isDefault: defaultConnection === this };
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

/** As `Model.getMany`'s and `Model.deleteMany`'s options (src/model/bulk.ts, which this module cannot import). */
interface ChunkOptions { chunkSize?: number; onProgress?: (progress: { done: number; total: number }) => void }
interface GetManyOptions extends ChunkOptions { missing?: 'error' | 'skip' | 'null' }

/** The connection a call across models runs on, and whether it is the default one (which holds `defineModel`'s models). */
export interface Scope {
  readonly db: Connection;
  readonly isDefault: boolean;
}

/** The calls across models (src/model/across.ts). */
export interface AcrossModels {
  get(scope: Scope, key: string): Promise<Rec<any>>;
  getMany(scope: Scope, keys: readonly string[], options?: GetManyOptions): Promise<(Rec<any> | null)[]>;
  deleteMany(scope: Scope, targets: readonly (string | { readonly key: string })[], options?: ChunkOptions): Promise<number>;
}

/**
 * The calls across models run the models' bulk operations, whose modules reach back to this one:
 * src/model/across.ts installs them here when it loads (the package's index loads it), so that
 * the import graph has no cycle.
 */
let across: AcrossModels | undefined;

export function installAcrossModels(impl: AcrossModels): void {
  across = impl;
}

function acrossModels(): AcrossModels {
  if (!across) throw new UsageError('the calls across models need the rapyer package index (import from "rapyer")');
  return across;
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

/** The default connection, or undefined before the first connect(). */
export function currentDefaultDb(): Connection | undefined {
  return defaultConnection;
}

export function defaultDb(): Connection {
  if (!defaultConnection) throw new UsageError('no connection: call connect() first');
  return defaultConnection;
}
