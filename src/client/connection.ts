/**
 * Connections: `connect({ url })`, `connect({ client })` or `connect({ cluster: { rootNodes } })`;
 * the first one becomes the default that models use unless bound with `Model.withDb(db)`.
 *
 * A connection never crashes the process: rapyer listens for errors on every client it creates
 * (node-redis reconnects on its own) and passes them to `db.on('error', fn)` listeners; a call that
 * fails because of the connection, or gets no answer within `commandTimeoutMs`, rejects with
 * {@link ConnectionError}.
 */
import { createClient, createCluster, ErrorReply, RedisCluster, type RedisClusterOptions } from 'redis';
import type { Compiled } from '../compile/compiler.js';
import { ConnectionError, CrossSlotError, RapyerError, UsageError } from '../errors.js';
import { transaction, type TransactionFn } from '../model/transaction.js';
import type { Rec, RecordMethods } from '../model/types.js';
import {
  clusterScripts, execute, nodeScripts, type ClusterClient, type NodeClient, type Reply, type ScriptClient, type ScriptRunner,
} from './executor.js';
import { checkBytes, REDIS_MAX_BYTES } from '../schema/validate.js';
import { SharedDeadline } from './deadline.js';
import { slot } from './slot.js';

export interface ConnectOptions {
  url?: string;
  /**
   * An existing node-redis client or cluster client (connected or not); rapyer does not close it.
   */
  client?: NodeClient | ClusterClient;
  /** A Redis Cluster: node-redis `createCluster` options, e.g. `{ rootNodes: [{ url }] }`. */
  cluster?: RedisClusterOptions<any, any, any, any, any>;
  /**
   * How long a call made while Redis is unreachable (or connect itself) waits for the connection
   * before it rejects with ConnectionError, in milliseconds (default 5,000). A call on a live
   * connection waits for its reply: a long script is not a lost connection, a closed socket is.
   */
  commandTimeoutMs?: number;
}

export const DEFAULT_COMMAND_TIMEOUT_MS = 5_000;

/**
 * Replies that mean "Redis is not serving right now" rather than "this call is wrong" (a server
 * at maxclients refuses the connection a call waits for with an ERR reply).
 */
const UNAVAILABLE = /^(LOADING|MASTERDOWN|CLUSTERDOWN|TRYAGAIN)\b|^ERR max number of clients/;

/**
 * The ConnectionError for a failure caused by the connection (a socket closed, an offline client, a
 * timeout, a server still loading), or the error unchanged: typed errors, script and command error
 * replies, and programming errors (TypeError, RangeError) are not the connection's fault.
 */
export function connectionFailure(err: unknown): unknown {
  if (err instanceof RapyerError || err instanceof TypeError || err instanceof RangeError) return err;
  if (err instanceof ErrorReply && !UNAVAILABLE.test(err.message)) return err;
  const what = err instanceof Error ? `${err.name}: ${err.message || 'no message'}` : String(err);
  return new ConnectionError(`Redis connection failed (${what})`, { cause: err });
}

/** Backoff between reconnection attempts: 50 ms, 100 ms... up to 1 s, forever. */
const reconnectStrategy = (retries: number): number => Math.min(50 * (retries + 1), 1_000);

const isCluster = (client: NodeClient | ClusterClient): client is ClusterClient => client instanceof RedisCluster;

export type ErrorListener = (err: ConnectionError) => void;

export class Connection implements ScriptRunner {
  /** On a cluster, record and model keys carry a hash tag (`{User}`), and scripts must stay in one slot. */
  readonly cluster: boolean;
  readonly commandTimeoutMs: number;
  private readonly scripts: ScriptClient;
  private readonly errorListeners = new Set<ErrorListener>();

  private readyAgain: Promise<void> | undefined;

  constructor(
    readonly client: NodeClient | ClusterClient,
    private readonly owned: boolean,
    commandTimeoutMs = DEFAULT_COMMAND_TIMEOUT_MS,
  ) {
    this.cluster = isCluster(client);
    this.scripts = isCluster(client) ? clusterScripts(client, new SharedDeadline(commandTimeoutMs)) : nodeScripts(client);
    this.commandTimeoutMs = commandTimeoutMs;
  }

  /** `db.on('error', (err) => log(err))`: connection errors (lost sockets, failed reconnects) as ConnectionError. */
  on(event: 'error', listener: ErrorListener): this {
    if (event !== 'error') throw new UsageError(`unknown connection event '${String(event)}'`);
    this.errorListeners.add(listener);
    return this;
  }

  off(event: 'error', listener: ErrorListener): this {
    if (event === 'error') this.errorListeners.delete(listener);
    return this;
  }

  /** Passes a client error to the listeners; with none, it is dropped (the client reconnects). */
  reportError(err: unknown): void {
    const typed = connectionFailure(err);
    const error = typed instanceof ConnectionError ? typed : new ConnectionError(String(err), { cause: err });
    for (const listener of this.errorListeners) listener(error);
  }

  /** Runs a compiled script; on a cluster, throws {@link CrossSlotError} before sending when its keys span slots. */
  run(script: Compiled): Promise<Reply> {
    try {
      if (this.cluster) assertOneSlot(script.keys);
      // the last guard of every script: no value Redis would refuse (models cap theirs lower)
      for (const v of script.argv) checkBytes(v, 'value', REDIS_MAX_BYTES);
    } catch (err) {
      return Promise.reject(err);
    }
    // on a live connection a reply comes or the socket closes (a long script is slow, not a lost
    // connection); a call made while disconnected waits at most commandTimeoutMs for the reconnect
    if (this.client.isReady) return execute(this.scripts, script).then(undefined, (err: unknown) => Promise.reject(connectionFailure(err)));
    if (this.owned && !this.cluster) {
      // our client has no offline queue (a command queued as the socket dies is rejected, never
      // sent after the reconnect): wait for the reconnect here, then send
      return withTimeout(this.reconnected(), this.commandTimeoutMs).then(() => this.run(script));
    }
    // a client passed in keeps its own queue: the command waits in it, and is dropped unsent on
    // timeout (so it cannot apply later)
    const abort = new AbortController();
    return withTimeout(execute(this.scripts, script, abort.signal), this.commandTimeoutMs, abort);
  }

  /** Resolves when the client is ready again: one listener for every call waiting. */
  private reconnected(): Promise<void> {
    this.readyAgain ??= new Promise<void>((resolve) => {
      (this.client as NodeClient).once('ready', () => {
        this.readyAgain = undefined;
        resolve();
      });
    });
    return this.readyAgain;
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
  transaction<const T extends readonly RecordMethods<any>[], R>(records: T, fn: TransactionFn<T, R>): Promise<T> {
    return transaction(this, records, fn);
  }

  async close(): Promise<void> {
    if (defaultConnection === this) defaultConnection = undefined;
    if (!this.owned || !this.client.isOpen) return;
    // a client still reconnecting would wait for Redis to close politely
    if (this.client.isReady) await this.client.close();
    else this.client.destroy();
  }
}

/**
 * `work`, or a ConnectionError when it fails because of the connection or has no answer within
 * `ms` (the command may still run later: a timed-out write is unacknowledged, not undone).
 */
function withTimeout<T>(work: Promise<T>, ms: number, abort?: AbortController): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      abort?.abort();
      reject(new ConnectionError(`no connection to Redis within ${ms} ms (commandTimeoutMs)`));
    }, ms);
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(connectionFailure(err));
      },
    );
  });
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

/** A client rapyer owns: reconnecting, with its connect and queue waits bounded by the timeout. */
function createOwned(options: ConnectOptions, timeoutMs: number): NodeClient | ClusterClient {
  const socket = { connectTimeout: timeoutMs, reconnectStrategy };
  if (options.cluster) {
    // a node may be down while the cluster client is ready, which Connection.run does not see: a
    // command's wait in a node's queue is bounded by a SharedDeadline (clusterScripts) instead of
    // node-redis's per-command AbortSignal.timeout
    const defaults = options.cluster.defaults ?? {};
    return createCluster({
      commandOptions: { timeout: 0 },
      ...options.cluster,
      defaults: { ...defaults, socket: { ...socket, ...defaults.socket } },
    });
  }
  // on one node rapyer bounds the wait for a lost connection itself (Connection.run), so: no
  // per-command AbortSignal.timeout of node-redis's (a timer and two listeners per command, about a
  // fifth of an increment's client time), and no offline queue (with one, a command queued just as
  // the socket died waited, unbounded, for the reconnect)
  return createClient({ url: options.url, socket, commandOptions: { timeout: 0 }, disableOfflineQueue: true });
}

export async function connect(options: ConnectOptions = {}): Promise<Connection> {
  const timeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) throw new UsageError('commandTimeoutMs must be a positive number of milliseconds');
  const owned = !options.client;
  const client = options.client ?? createOwned(options, timeoutMs);
  const db = new Connection(client, owned, timeoutMs);
  if (owned) {
    // without a listener, an 'error' event (a killed connection) would crash the process
    client.on('error', (err: unknown) => db.reportError(err));
    if (isCluster(client)) client.on('node-error', (err: unknown) => db.reportError(err));
  }
  if (!client.isOpen) {
    try {
      await withTimeout<unknown>(client.connect(), timeoutMs);
    } catch (err) {
      if (owned && client.isOpen) client.destroy();
      throw connectionFailure(err);
    }
  }
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
