/**
 * Every script run is published on the `node:diagnostics_channel` tracing channel `rapyer:script`
 * (events start, end, asyncStart, asyncEnd, error), so logging, metrics and OpenTelemetry subscribe
 * without wrapping the library. The context object is the same for every event of one run;
 * `durationMs` is set before `asyncEnd` and `error`. With no subscriber nothing is built.
 *
 * @example
 * import { tracingChannel } from 'node:diagnostics_channel';
 * tracingChannel('rapyer:script').subscribe({
 *   asyncEnd: (e) => console.log(`${e.model} ${e.kind} ${e.durationMs.toFixed(1)} ms`),
 *   error: (e) => console.error(`${e.model} ${e.kind} failed: ${e.error.message}`),
 *   start() {}, end() {}, asyncStart() {},
 * });
 */
import { tracingChannel } from 'node:diagnostics_channel';
import type { CallFn, ProgramNode, QueryNode } from '../ast/nodes.js';
import type { Compiled } from '../compile/compiler.js';
import { modelOfKey } from '../model/keys.js';

/** The context of one script run, as subscribers of `rapyer:script` receive it. */
export interface ScriptEvent {
  /** The model of the script's first key (`User`); undefined for a script without keys. */
  model: string | undefined;
  /**
   * What the program does: `update` (field operations, pipelines, transactions, one record or
   * several), `query.<action>` (`query.records`, `query.count`, `query.update`, ...), or the kind of
   * its statement (`WriteRecord`, `ReadRecord`, `InsertMany`, `AcquireLock`, `IndexFill`, ...).
   */
  kind: string;
  /** The SHA1 the script runs under (EVALSHA). */
  sha1: string;
  /**
   * Set when the script's one command was sent in its place (`HGETALL`, `EXISTS` or `TTL`: a get,
   * exists or ttl on a record with no shard guard and no sliding TTL), or its commands in one
   * transaction (`MULTI HGETALL`: a chunk of getMany, likewise); `sha1` names the script.
   */
  command?: string;
  /** How many keys the script declares. */
  keys: number;
  readOnly: boolean;
  /** Milliseconds from sending to the decoded reply; set before `asyncEnd` and `error`. */
  durationMs: number;
  /** Set by the channel: the decoded reply (asyncEnd) or the error (error). */
  result?: unknown;
  error?: Error;
}

/** The channel's name, for `tracingChannel(SCRIPT_CHANNEL)`. */
export const SCRIPT_CHANNEL = 'rapyer:script';

const channel = tracingChannel<unknown, ScriptEvent>(SCRIPT_CHANNEL);

/** The lease check before a record write under unique claims: the program keeps the write's kind. */
const LEASE = 'UniqueLease';

/** The published name of each fixed step (stable names, whatever the Lua functions are called). */
const STEP_KINDS: { readonly [F in CallFn]: string } = {
  rec_write: 'WriteRecord', rec_delete: 'DeleteRecord', rec_expire: 'ExpireRecord', rec_read: 'ReadRecord',
  rec_exists: 'ExistsRecord', rec_ttl: 'TtlRecord', meta_get: 'Meta', meta_set: 'Meta', ix_fill: 'IndexFill',
  ix_prune: 'IndexPrune', lock_acquire: 'AcquireLock', lock_release: 'ReleaseLock', bulk_insert: 'InsertMany', bulk_unchain: 'DropCursor',
  bulk_read: 'ReadMany', shard_meta: 'ShardMeta', shard_take: 'ShardTake', shard_put: 'ShardPut', shard_drop: 'ShardDrop', exp_sweep: 'SweepExpired',
  uq_claim: 'UniqueClaim', uq_swap: 'UniqueSwap', uq_get: 'UniqueOwners', uq_scan: 'UniqueScan', uq_lease: LEASE, uq_holds: 'UniqueHolds',
};

function kindOf(program: ProgramNode | QueryNode): string {
  if (program.kind === 'Query') return `query.${program.action}`;
  if (program.mode === 'update') return 'update';
  const kinds = new Set(program.body.map((s) => (s.kind === 'Call' ? STEP_KINDS[s.fn] : s.kind)));
  if (kinds.size > 1) kinds.delete(LEASE);
  return kinds.size === 1 ? [...kinds][0] : 'program';
}

/** Runs `run` (one script and its decoding), published on `rapyer:script` when anyone listens. */
export function traced<T>(program: ProgramNode | QueryNode, script: Compiled, run: () => Promise<T>): Promise<T> {
  if (!channel.hasSubscribers) return run();
  const event: ScriptEvent = {
    model: script.keys.length ? modelOfKey(script.keys[0]) : undefined,
    kind: kindOf(program), sha1: script.sha1, keys: script.keys.length, readOnly: script.readOnly, durationMs: 0,
    ...(script.command && { command: script.command }),
    ...(script.each && { command: `MULTI ${script.each.command}` }),
  };
  const started = performance.now();
  return channel.tracePromise(async () => {
    try {
      return await run();
    } finally {
      event.durationMs = performance.now() - started;
    }
  }, event);
}
