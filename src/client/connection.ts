/**
 * Connections: `connect({ url })` or `connect({ client })`; the first one becomes the default that
 * models use unless bound with `Model.withDb(db)`.
 */
import { createClient, type RedisClientType } from 'redis';
import type { Compiled } from '../compile/compiler.js';
import { RapyerError } from '../errors.js';
import { transaction, type RecordMethods, type TransactionFn } from '../model/model.js';
import { binaryClient, execute, type Reply, type ScriptClient } from './executor.js';

export interface ConnectOptions {
  url?: string;
  /** An existing node-redis client (connected or not); rapyer does not close it. */
  client?: RedisClientType<any, any, any, any, any>;
}

export class Connection {
  /** Record keys carry a hash tag only where a Redis Cluster needs one. */
  readonly cluster = false;
  private readonly scripts: ScriptClient;

  constructor(
    readonly client: RedisClientType<any, any, any, any, any>,
    private readonly owned: boolean,
  ) {
    this.scripts = binaryClient(client);
  }

  run(script: Compiled): Promise<Reply> {
    return execute(this.scripts, script);
  }

  /** One atomic program over several records: `db.transaction([alice, bob], (a, b) => ...)`. */
  transaction<const T extends readonly RecordMethods<any>[]>(records: T, fn: TransactionFn<T>): Promise<T> {
    return transaction(this, records, fn);
  }

  async close(): Promise<void> {
    if (defaultConnection === this) defaultConnection = undefined;
    if (this.owned && this.client.isOpen) await this.client.quit();
  }
}

let defaultConnection: Connection | undefined;

export async function connect(options: ConnectOptions = {}): Promise<Connection> {
  const owned = !options.client;
  const client = options.client ?? createClient({ url: options.url });
  if (!client.isOpen) await client.connect();
  const db = new Connection(client, owned);
  defaultConnection ??= db;
  return db;
}

export function defaultDb(): Connection {
  if (!defaultConnection) throw new RapyerError('no connection: call connect() first');
  return defaultConnection;
}
