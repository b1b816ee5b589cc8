/**
 * The keys a program works on, as the model lays them out: a record and its model's id set,
 * indexes, unique values, expiry bookkeeping, change stream and shard layout. Every string named
 * `key`, `idsKey` or `exp` here is a Redis key (a KEYS slot, see src/compile/shape.ts).
 */

/**
 * An index of a model: a field's hash field, its key, and its type: 'n' (by score), 's'
 * (lexicographic), or 't' (a word index, `search`: `key` is the field's word list, a lexicographic
 * sorted set of the words some record holds, and `key .. ':' .. word` the set of ids holding
 * `word`, built by the scripts from the declared key so they share its hash tag).
 */
export interface IndexRef { readonly field: string; readonly key: string; readonly type: 'n' | 's' | 't' }
export interface UniqueRef { readonly field: string; readonly key: string }
/**
 * A model's change stream (lua/lib/changes.lua): its key (in the shard's hash tag), the length it
 * is trimmed to (approximately), and the paths of the model's record (dict) fields.
 */
export interface ChangesRef { readonly key: string; readonly maxLen: number; readonly dicts: readonly string[] }

/**
 * The shard layout a script of a sharded model was built for: the script first checks that the
 * shard's `meta` hash agrees (lua/lib/shard.lua shard_guard), so no script runs on a shard that a
 * reshard is moving or has moved.
 */
export interface ShardGuard { readonly meta: string; readonly layout: string }

export interface RecordRef {
  readonly key: string;
  readonly guard?: ShardGuard;
  /** The model's indexes and unique constraints, kept by every write of the program. */
  readonly ix?: readonly IndexRef[];
  readonly uq?: readonly UniqueRef[];
  /** The model's expiry bookkeeping keys (ids -> expiry, ids -> index values); see lua/lib/expiry.lua. */
  readonly exp?: readonly [string, string];
  /** The model's change stream, when it has one: every write of the record appends its entry. */
  readonly ch?: ChangesRef;
  /** The model's id set, kept by create and delete. */
  readonly idsKey: string;
  readonly id: string;
  /** The version of the caller's copy ('' when it has none): decides patch or full reply. */
  readonly seen: string;
  /**
   * A sliding TTL (ms, as text): programs that read the record (ReadRecord) or update it re-arm
   * its TTL to this in the same script.
   */
  readonly slideMs?: string;
}
