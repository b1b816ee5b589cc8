/**
 * What the `rapyer` CLI reads and does, against any server, without the application's code: the
 * models come from the layouts they keep in their `#schema` keys (src/model/catalog.ts), records
 * are decoded with the same layout code the library uses (src/model/layout.ts).
 *
 * On a Redis Cluster, key commands go to the master holding the key (node-redis routes them) and
 * the search for models walks every master; a sharded model's counts add up its shards.
 */
import { RESP_TYPES } from 'redis';
import type { Connection } from '../client/connection.js';
import type { ClusterClient, NodeClient } from '../client/executor.js';
import { QueryError } from '../errors.js';
import type { IndexReport } from '../index/maintenance.js';
import { parseLayout, type StoredLayout } from '../model/catalog.js';
import { KeySpace, modelOfKey } from '../model/keys.js';
import { readRecord } from '../model/layout.js';
import { Model } from '../model/model.js';
import type { Raw } from '../schema/codec.js';

/** A model found on the server. */
export interface FoundModel {
  readonly layout: StoredLayout;
  readonly keys: KeySpace;
  /** Records in its id set. */
  readonly records: number;
}

const SCHEMA_SUFFIX = '#schema';

/**
 * The client for commands on one key. A cluster client takes the same calls and sends each to the
 * master holding its key, so the node type serves both (`sendCommand` and scans excepted: below).
 */
const client = (db: Connection): NodeClient => db.client as NodeClient;

const keySpaceOf = (db: Connection, layout: StoredLayout): KeySpace => new KeySpace(layout.name, db.cluster, layout.options.shards);

/** A raw read command on `key` (sent to its master on a cluster); `binary`: values as Buffers, maps as flat arrays. */
function command(db: Connection, key: string, args: string[], binary = false): Promise<unknown> {
  const mapping = binary ? { [RESP_TYPES.BLOB_STRING]: Buffer, [RESP_TYPES.MAP]: Array } : {};
  return db.cluster
    ? (db.client as ClusterClient).withTypeMapping(mapping).sendCommand(key, true, args)
    : client(db).withTypeMapping(mapping).sendCommand(args);
}

/** The shards of a key space: 0 … shards-1. */
const shardsOf = (keys: KeySpace): number[] => Array.from({ length: keys.shards }, (_, i) => i);

/** The keys matching `pattern`, on every master of a cluster. */
async function* scanKeys(db: Connection, pattern: string): AsyncGenerator<string> {
  const nodes = db.cluster
    ? await Promise.all((db.client as ClusterClient).masters.map((m) => (db.client as ClusterClient).nodeClient(m)))
    : [client(db)];
  for (const node of nodes) {
    for await (const batch of node.scanIterator({ MATCH: pattern, COUNT: 1000 })) yield* batch as string[];
  }
}

/** Records of a model: the sizes of its shards' id sets. */
async function countRecords(db: Connection, keys: KeySpace): Promise<number> {
  let n = 0;
  for (const shard of shardsOf(keys)) n += Number(await client(db).zCard(keys.ids(shard)));
  return n;
}

/** Every model that wrote its layout to this server (every master of a cluster), by name. */
export async function listModels(db: Connection): Promise<FoundModel[]> {
  const found: FoundModel[] = [];
  for await (const schemaKey of scanKeys(db, `*${SCHEMA_SUFFIX}`)) {
    const json = await client(db).get(schemaKey);
    if (json === null || json === undefined) continue;
    const layout = parseLayout(String(json));
    const keys = keySpaceOf(db, layout);
    found.push({ layout, keys, records: await countRecords(db, keys) });
  }
  return found.sort((a, b) => (a.layout.name < b.layout.name ? -1 : 1));
}

/** The layout of model `name`; QueryError when it never wrote one. */
export async function findLayout(db: Connection, name: string): Promise<StoredLayout> {
  // on a cluster a sharded model keeps its layout in its first shard's slot ({User:0}#schema)
  const candidates = [new KeySpace(name, db.cluster).schema(), ...(db.cluster ? [new KeySpace(name, true, 2).schema()] : [])];
  let json: string | null | undefined;
  for (const key of candidates) json ??= (await client(db).get(key)) as string | null | undefined;
  if (json === null || json === undefined) {
    throw new QueryError(`no layout stored for model "${name}" (a model writes it the first time an application uses it)`);
  }
  return parseLayout(String(json));
}

/** One record as stored: its decoded fields, version, TTL and raw field count. */
export interface ShownRecord {
  key: string;
  model: string;
  id: string;
  version: string;
  /** Seconds left, or null without a TTL. */
  ttl: number | null;
  hashFields: number;
  data: Record<string, unknown>;
}

export async function showRecord(db: Connection, key: string): Promise<ShownRecord> {
  const name = modelOfKey(key);
  if (!name) throw new QueryError(`"${key}" is not a record key (<Model>:<id>)`);
  const layout = await findLayout(db, name);
  const keys = keySpaceOf(db, layout);
  const prefix = shardsOf(keys).map((shard) => keys.recordPrefix(shard)).find((p) => key.startsWith(p));
  if (prefix === undefined) throw new QueryError(`"${key}" is not a record key of ${name} (they start with "${keys.recordPrefix(0)}")`);
  const c = client(db);
  const flat = (await command(db, key, ['HGETALL', key], true)) as Raw[];
  if (flat.length === 0) throw new QueryError(`no record at "${key}"`);
  const { data, meta } = readRecord(layout.spec, flat, key.slice(prefix.length));
  const ttl = Number(await c.ttl(key));
  return { key, model: name, id: key.slice(prefix.length), version: meta.version, ttl: ttl >= 0 ? ttl : null, hashFields: flat.length / 2, data };
}

/** Checks (and with `repair`, mends) a model's indexes, as `Model.checkIndexes` does. */
export async function checkModel(db: Connection, name: string, repair: boolean): Promise<IndexReport> {
  const layout = await findLayout(db, name);
  const model = new Model(layout.name, {}, layout.options, db, layout.spec);
  return model.checkIndexes({ repair });
}

/** Sizes of one model: records, index entries, and bytes (Redis MEMORY USAGE). */
export interface ModelStats {
  model: string;
  records: number;
  /** Average bytes of a record's hash, over up to {@link SAMPLE} records. */
  bytesPerRecord: number | null;
  indexes: { key: string; entries: number; bytes: number }[];
}

/** Records measured per model for the bytes-per-record average. */
export const SAMPLE = 100;

async function memory(db: Connection, key: string): Promise<number> {
  return Number((await command(db, key, ['MEMORY', 'USAGE', key, 'SAMPLES', '0'])) ?? 0);
}

/** An index over every shard: its first shard's key names it, entries and bytes add up. */
async function indexSize(db: Connection, keys: KeySpace, keyOf: (shard: number) => string, count: (key: string) => Promise<number>) {
  const out = { key: keys.shards > 1 ? `${keyOf(0)} (+${keys.shards - 1} shards)` : keyOf(0), entries: 0, bytes: 0 };
  for (const shard of shardsOf(keys)) {
    out.entries += await count(keyOf(shard));
    out.bytes += await memory(db, keyOf(shard));
  }
  return out;
}

export async function modelStats(db: Connection, found: FoundModel): Promise<ModelStats> {
  const c = client(db);
  const { keys, layout, records } = found;
  const sample: string[] = [];
  for (const shard of shardsOf(keys)) {
    if (sample.length < SAMPLE) sample.push(...(await c.zRange(keys.ids(shard), 0, SAMPLE - sample.length - 1)) as string[]);
  }
  let bytes = 0;
  for (const id of sample) bytes += await memory(db, keys.record(id));
  const indexes: ModelStats['indexes'] = [];
  for (const field of layout.options.indexes ?? []) {
    indexes.push(await indexSize(db, keys, (shard) => keys.index(field, shard), async (key) => Number(await c.zCard(key))));
  }
  for (const field of layout.options.unique ?? []) {
    indexes.push(await indexSize(db, keys, (shard) => keys.unique(field, shard), async (key) => Number(await c.hLen(key))));
  }
  return { model: layout.name, records, bytesPerRecord: sample.length ? Math.round(bytes / sample.length) : null, indexes };
}
