/**
 * Key names. Records: `<Model>:<id>`; model-wide keys: `<Model>#<what>` (`#` never follows the
 * model name in a record key, so no id can collide with them). On a cluster the model name
 * becomes a hash tag (`{User}`), so a record and its model keys share one slot.
 *
 * A sharded model (`shards: N`, on a cluster) has N tags `{User:0}` … `{User:N-1}`, each with its
 * own records, id set, indexes, expiry and meta keys; a record's shard is {@link shardOf} its id.
 * With one shard, or on a single node, keys stay `User:` / `{User}:`.
 */
import { UsageError } from '../errors.js';

/** FNV-1a (32 bits) of a string's UTF-8 bytes. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** The shard (0 … shards-1) of a record id: FNV-1a of the id modulo the shard count. Pure and stable. */
export function shardOf(id: string, shards: number): number {
  return shards <= 1 ? 0 : fnv1a(id) % shards;
}

/** The model a key belongs to (`User` of `User:1`, `{User}#ids`, `{User:3}:1`); model names are identifiers. */
export function modelOfKey(key: string): string | undefined {
  return /^\{?([A-Za-z_][A-Za-z0-9_]*)/.exec(key)?.[1];
}

/**
 * Owner buckets of the unique values of a sharded model (src/model/unique.ts): a fixed count, so a
 * value's owner stays where it is whatever the shard count.
 */
export const OWNER_BUCKETS = 16;

export class KeySpace {
  /** The shard count in effect: the model's `shards` on a cluster, 1 on a single node. */
  readonly shards: number;
  private readonly tags: readonly string[];

  constructor(readonly model: string, readonly cluster: boolean, shards = 1) {
    this.shards = cluster ? Math.max(1, shards) : 1;
    this.tags = this.shards === 1
      ? [cluster ? `{${model}}` : model]
      : Array.from({ length: this.shards }, (_, i) => `{${model}:${i}}`);
  }

  /** The same model's keys laid out over `shards` shards (a reshard's source or target). */
  withShards(shards: number): KeySpace {
    return shards === this.shards ? this : new KeySpace(this.model, this.cluster, shards);
  }

  /** The model-wide bookkeeping hash (shard count, a reshard's checkpoint): one key whatever the count. */
  modelMeta(): string {
    return `${this.cluster ? `{${this.model}}` : this.model}#meta`;
  }

  /** The shard of record `id`. */
  shardOf(id: string): number {
    return shardOf(id, this.shards);
  }

  private tag(shard: number): string {
    const tag = this.tags[shard];
    if (tag === undefined) throw new UsageError(`${this.model} has no shard ${shard} (it has ${this.shards})`);
    return tag;
  }

  /** What every record key of a shard starts with (`{User:3}:`); queries build record keys from it. */
  recordPrefix(shard = 0): string {
    return `${this.tag(shard)}:`;
  }

  /** A record's key, in its shard. */
  record(id: string): string {
    return `${this.tag(this.shardOf(id))}:${id}`;
  }

  ids(shard = 0): string {
    return `${this.tag(shard)}#ids`;
  }

  /** The sorted set of an indexed field. */
  index(path: string, shard = 0): string {
    return `${this.tag(shard)}#idx:${path}`;
  }

  /**
   * The word list of a `search` field (a lexicographic sorted set of its words); the ids holding
   * a word are the set `<words key>:<word>` (words never contain ':').
   */
  words(path: string, shard = 0): string {
    return `${this.tag(shard)}#words:${path}`;
  }

  /** The value -> id hash of a unique field. */
  unique(path: string, shard = 0): string {
    return `${this.tag(shard)}#uniq:${path}`;
  }

  /**
   * The owner bucket of a unique value across shards: the prefix of its hash tag, from the value's
   * hash (never the record's tag), to which the field's name is appended.
   */
  ownerPrefix(value: string): string {
    return this.ownerBucket(fnv1a(value) % OWNER_BUCKETS);
  }

  /** The prefix of owner bucket `b` (0 … OWNER_BUCKETS-1). */
  ownerBucket(b: number): string {
    return `{${this.model}#uq:${b}}:`;
  }

  /** Expiring records: id -> expiry time, and id -> the index values a sweep must remove. */
  expiry(shard = 0): readonly [string, string] {
    return [`${this.tag(shard)}#exp`, `${this.tag(shard)}#expv`];
  }

  /** The stream of a model declared with `changes`: one entry per write of a record of the shard. */
  changes(shard = 0): string {
    return `${this.tag(shard)}#changes`;
  }

  /** The model's bookkeeping hash (built indexes...). */
  meta(shard = 0): string {
    return `${this.tag(shard)}#meta`;
  }

  /** The model's description (field specs and options, JSON) for tools: see src/model/catalog.ts. */
  schema(): string {
    return `${this.tag(0)}#schema`;
  }

  /** The chain of one insertMany call's chunks on a shard (lua/lib/bulk.lua): `token` names the call. */
  chain(token: string, shard = 0): string {
    return `${this.tag(shard)}#chain:${token}`;
  }

  /** The candidates left to an update or delete by query on a shard (lua/lib/cursor.lua): `token` names the call. */
  cursor(token: string, shard = 0): string {
    return `${this.tag(shard)}#cursor:${token}`;
  }

  /** A record's lock, in its shard. */
  lock(id: string): string {
    return `${this.tag(this.shardOf(id))}#lock:${id}`;
  }
}
