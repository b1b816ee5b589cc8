/**
 * Change streams. A model declared with `changes` has one Redis Stream per shard (under the
 * shard's hash tag, so the scripts that write its records append to it: lua/lib/changes.lua);
 * `Model.changes()` reads them as one async iterator of decoded events.
 *
 * ```ts
 * const User = defineModel('User', shape, { changes: true });
 * for await (const c of User.changes({ from: '$' })) cache.delete(c.id);
 * for await (const c of User.changes({ group: 'mailer', consumer: 'm1' })) { await send(c); await c.ack(); }
 * ```
 *
 * On a sharded model the shards' streams are read in parallel and merged as entries arrive: a
 * record lives in one shard, so its events keep their order (version order), while events of
 * records in different shards have no order between them.
 */
import type { ChangesRef } from '../ast/nodes.js';
import type { Connection } from '../client/connection.js';
import { SchemaError, UsageError } from '../errors.js';
import type { ModelOptions } from '../model/contract.js';
import type { KeySpace } from '../model/keys.js';
import type { ObjectSpec } from '../schema/spec.js';
import { groupReader, send, streamReader, type Entry, type Reader } from './stream.js';

/** What reading a model's changes needs of it. */
interface Source {
  readonly name: string;
  readonly options: ModelOptions;
  readonly keys: KeySpace;
  readonly db: Connection;
}

export type ChangeOp = 'create' | 'update' | 'delete' | 'expire';

/** One event: a write of one record, appended by the script that wrote it. */
export interface Change {
  readonly op: ChangeOp;
  /** The record's id. */
  readonly id: string;
  /** The record's version after the write (for delete and expire: its last version). */
  readonly version: number;
  /** The field paths the write changed (`address.city`, `tags`); empty for delete and expire. */
  readonly fields: readonly string[];
  /** The stream entry's id: `changes({ from: eventId })` resumes after this event. */
  readonly eventId: string;
  /** The shard whose stream holds the event (0 unless the model is sharded on a cluster). */
  readonly shard: number;
  /** Acknowledges the event to its consumer group (XACK); does nothing outside a group. */
  ack(): Promise<void>;
}

export interface ChangesOptions {
  /**
   * Where to start: '$' (events after now; the default without a group), '0' (every event the
   * stream still holds), or an `eventId` to resume after. With a group, where the group starts
   * when it does not exist yet (default '0', so no event written before the first consumer ran is lost).
   */
  from?: string;
  /** Stops the iteration (it ends without an error). */
  signal?: AbortSignal;
  /** Wait for new events (default), or end once the events stored when the iteration started are read. */
  follow?: boolean;
  /** A consumer group: each event goes to one of its consumers and stays pending until `ack()`. */
  group?: string;
  /** This consumer's name in the group (required with `group`). */
  consumer?: string;
  /** A consumer's pending events are claimed by another after this long unacknowledged (default 30,000 ms). */
  claimAfterMs?: number;
}

/** Stream length kept by default (trimmed approximately, `MAXLEN ~`). */
export const DEFAULT_MAX_LEN = 100_000;
const DEFAULT_CLAIM_AFTER_MS = 30_000;
const POSITION = /^(\$|0|\d+(-\d+)?)$/;

/** Checks the `changes` option of defineModel. */
export function checkChangesOption(option: unknown): void {
  if (option === undefined || typeof option === 'boolean') return;
  const maxLen = (option as { maxLen?: unknown } | null)?.maxLen;
  if (typeof option !== 'object' || option === null || Object.keys(option).some((k) => k !== 'maxLen')
    || (maxLen !== undefined && !(Number.isInteger(maxLen) && (maxLen as number) > 0))) {
    throw new SchemaError('changes must be true or { maxLen } with a positive integer maxLen');
  }
}

/** The paths of the record (dict) fields of a schema, nested objects included. */
function dictPaths(spec: ObjectSpec, out: string[] = []): string[] {
  for (const name of spec.order) {
    const field = spec.fields[name];
    if (field.kind === 'record') out.push(field.path);
    else if (field.kind === 'object') dictPaths(field, out);
  }
  return out;
}

/** A shard's stream as the scripts take it. */
export function changesRef(spec: ObjectSpec, key: string, option: true | { maxLen?: number }): ChangesRef {
  const maxLen = option === true ? DEFAULT_MAX_LEN : (option.maxLen ?? DEFAULT_MAX_LEN);
  return Object.freeze({ key, maxLen, dicts: Object.freeze(dictPaths(spec)) });
}

function checkOptions(options: ChangesOptions): void {
  if (options.from !== undefined && !POSITION.test(options.from)) {
    throw new UsageError(`from must be '$', '0' or an event id, got ${JSON.stringify(options.from)}`);
  }
  if ((options.group === undefined) !== (options.consumer === undefined) || options.group === '' || options.consumer === '') {
    throw new UsageError('a consumer group needs both group and consumer names');
  }
  const claim = options.claimAfterMs;
  if (claim !== undefined && !(Number.isFinite(claim) && claim > 0)) throw new UsageError('claimAfterMs must be a positive number');
}

/** The events of every shard of `model`, merged (see the module comment). */
export function changes(model: Source, options: ChangesOptions = {}): AsyncIterable<Change> {
  if (!model.options.changes) throw new SchemaError(`${model.name} has no change stream: declare it with { changes: true }`);
  checkOptions(options);
  return { [Symbol.asyncIterator]: () => merged(model, options) };
}

function readerOf(model: Source, key: string, options: ChangesOptions): Reader {
  const follow = options.follow ?? true;
  if (options.group === undefined) return streamReader(model.db, key, { from: options.from ?? '$', follow });
  return groupReader(model.db, key, {
    from: options.from ?? '0', follow, group: options.group, consumer: options.consumer!,
    claimAfterMs: options.claimAfterMs ?? DEFAULT_CLAIM_AFTER_MS,
  });
}

function decode(model: Source, key: string, shard: number, group: string | undefined, entry: Entry): Change {
  const f: Record<string, string> = {};
  for (let i = 0; i < entry.fields.length; i += 2) f[entry.fields[i]] = entry.fields[i + 1];
  return Object.freeze({
    op: f.op as ChangeOp,
    id: f.id,
    version: Number(f.v),
    fields: Object.freeze(f.f ? f.f.split(',') : []),
    eventId: entry.id,
    shard,
    ack: async () => {
      if (group !== undefined) await send(model.db, key, ['XACK', key, group, entry.id]);
    },
  });
}

interface Batch { shard: number; got: Entry[] | null }

async function* merged(model: Source, options: ChangesOptions): AsyncGenerator<Change> {
  const signal = options.signal;
  const keys = Array.from({ length: model.keys.shards }, (_, shard) => model.keys.changes(shard));
  const readers = keys.map((key) => readerOf(model, key, options));
  const stop = (): void => readers.forEach((r) => r.close());
  signal?.addEventListener('abort', stop, { once: true });
  // one read in flight per shard; a shard is read again once its batch has been consumed
  const pending = new Map<number, Promise<Batch>>();
  const next = (shard: number): void => void pending.set(shard, readers[shard].read().then((got) => ({ shard, got })));
  try {
    if (signal?.aborted) return;
    keys.forEach((_, shard) => next(shard));
    while (pending.size > 0) {
      let batch: Batch;
      try {
        batch = await Promise.race(pending.values());
      } catch (err) {
        if (signal?.aborted) return;
        throw err;
      }
      pending.delete(batch.shard);
      if (batch.got === null) continue;
      for (const entry of batch.got) {
        if (signal?.aborted) return;
        yield decode(model, keys[batch.shard], batch.shard, options.group, entry);
      }
      next(batch.shard);
    }
  } finally {
    signal?.removeEventListener('abort', stop);
    stop();
    for (const p of pending.values()) p.catch(() => {});
  }
}
