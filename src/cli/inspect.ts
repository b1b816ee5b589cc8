/**
 * What the `rapyer` CLI reads and does, against any server, without the application's code: the
 * models come from the layouts they keep in their `#schema` keys (src/model/catalog.ts), records
 * are decoded with the same layout code the library uses (src/model/layout.ts).
 *
 * Single-node servers only: on a Redis Cluster the keys of one model live on one master (or one per
 * shard), and this tool does not walk masters.
 */
import { RESP_TYPES } from 'redis';
import type { Connection } from '../client/connection.js';
import type { NodeClient } from '../client/executor.js';
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

const client = (db: Connection): NodeClient => {
  if (db.cluster) throw new QueryError('the rapyer CLI reads single-node servers only');
  return db.client as NodeClient;
};

const keySpaceOf = (layout: StoredLayout): KeySpace => new KeySpace(layout.name, false, layout.options.shards);

/** Every model that wrote its layout to this server, by name. */
export async function listModels(db: Connection): Promise<FoundModel[]> {
  const c = client(db);
  const found: FoundModel[] = [];
  for await (const batch of c.scanIterator({ MATCH: `*${SCHEMA_SUFFIX}`, COUNT: 1000 })) {
    for (const schemaKey of batch as string[]) {
      const json = await c.get(schemaKey);
      if (json === null || json === undefined) continue;
      const layout = parseLayout(String(json));
      const keys = keySpaceOf(layout);
      found.push({ layout, keys, records: Number(await c.zCard(keys.ids())) });
    }
  }
  return found.sort((a, b) => (a.layout.name < b.layout.name ? -1 : 1));
}

/** The layout of model `name`; QueryError when it never wrote one. */
export async function findLayout(db: Connection, name: string): Promise<StoredLayout> {
  const json = await client(db).get(new KeySpace(name, false).schema());
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
  const keys = keySpaceOf(layout);
  const prefix = keys.recordPrefix(0);
  if (!key.startsWith(prefix)) throw new QueryError(`"${key}" is not a record key of ${name} (they start with "${prefix}")`);
  const c = client(db);
  const flat = (await c.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer, [RESP_TYPES.MAP]: Array }).sendCommand(['HGETALL', key])) as Raw[];
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

async function memory(c: NodeClient, key: string): Promise<number> {
  return Number((await c.sendCommand(['MEMORY', 'USAGE', key, 'SAMPLES', '0'])) ?? 0);
}

export async function modelStats(db: Connection, found: FoundModel): Promise<ModelStats> {
  const c = client(db);
  const { keys, layout, records } = found;
  const sample = (await c.zRange(keys.ids(), 0, SAMPLE - 1)) as string[];
  let bytes = 0;
  for (const id of sample) bytes += await memory(c, keys.record(id));
  const indexes: ModelStats['indexes'] = [];
  for (const field of layout.options.indexes ?? []) {
    const key = keys.index(field);
    indexes.push({ key, entries: Number(await c.zCard(key)), bytes: await memory(c, key) });
  }
  for (const field of layout.options.unique ?? []) {
    const key = keys.unique(field);
    indexes.push({ key, entries: Number(await c.hLen(key)), bytes: await memory(c, key) });
  }
  return { model: layout.name, records, bytesPerRecord: sample.length ? Math.round(bytes / sample.length) : null, indexes };
}
