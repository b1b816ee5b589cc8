/**
 * Unique values across shards. A record of a sharded model (`shards: N` on a cluster) lives in its
 * shard's hash tag, but the owner of one of its unique values lives in an owner bucket of the
 * value's own tag ({@link KeySpace.ownerPrefix}, entries in lua/lib/owner.lua), so two records in
 * different shards that want one value meet at one key. Claiming a value and writing the record are
 * then two scripts in two slots, and a client may stop between any two of them; the protocol keeps
 * "never two live records with one unique value" through any such stop:
 *
 * 1. claim: per owner bucket one script reserves the values, `p|deadline|token|id` with a fresh
 *    token and deadline = the owner master's clock + the lease. An owner held by another record is
 *    taken over only after the client read that record (in its own slot) and found it does not
 *    hold the value, and only if the entry is still exactly the one it verified (compare-and-swap
 *    on the whole entry, tokens never repeat); a claim of another record still in flight (before
 *    its deadline + skew) is a violation.
 * 2. write: the record script starts with uq_lease, which refuses (LeaseExpiredError, nothing
 *    written) once the server's clock is past the claims' earliest deadline, so a slow writer never
 *    writes after someone could have taken its values over.
 * 3. confirm: each pending entry still ours becomes `c|token|id`.
 * 4. release: the values the write let go are dropped, each after reading the record and finding
 *    it no longer holds the value, and only if the entry is still the one read.
 *
 * A stop after 1 leaves pending entries whose record never got the value: after the deadline the
 * next claimer verifies and takes them over (`checkIndexes({ repair: true })` drops them). A stop
 * after 2 leaves pending entries whose record holds the value: the next claimer (or a repair)
 * verifies, confirms them for that record, and reports the violation. A stop after 3 leaves owners
 * whose record no longer holds the value: verified and taken over, or dropped by a repair.
 */
import { randomBytes } from 'node:crypto';
import type { TProperties } from 'typebox';
import { call, keyArg, make, param, paramList, stateArg, type ProgramNode } from '../ast/nodes.js';
import * as decode from '../client/decode.js';
import { runProgram } from '../client/run.js';
import { ConnectionError, LeaseExpiredError, RapyerError, UniqueViolationError } from '../errors.js';
import type { Raw } from '../schema/codec.js';
import type { ModelCore } from './contract.js';


/**
 * The protocol's timing and its test seam: `leaseMs` bounds how long a claim blocks its values if
 * its writer stops; `skewMs` is the most two masters' clocks may disagree. `step` (tests only) is
 * called (and awaited) after each step with the model that runs it: a step that throws stops that
 * client right there, as a crash would; one that waits makes a slow client.
 */
export const uniqueProtocol: { leaseMs: number; skewMs: number; step?: (name: string, model: object) => void | Promise<void> } = { leaseMs: 5_000, skewMs: 1_000 };

/** A value a record wants (or lets go): the field, its stored text, the record's id, its item in a bulk call. */
export interface Want { readonly field: string; readonly value: string; readonly id: string; readonly item: number }
/** A reserved value: its pending entry, and the entry it replaced (restored when the write fails). */
interface Held extends Want { readonly prefix: string; readonly pending: string; readonly confirmed: string; readonly previous: string; readonly deadline: string }
/** The outcome of a claim: what is held, and the items a value of which another record owns. */
interface Claimed { readonly held: Held[]; readonly refused: Map<number, UniqueViolationError> }

const step = async (name: string, model: object): Promise<void> => {
  await uniqueProtocol.step?.(name, model);
};

/** The values of `fields` (a record's hash fields, flat) for the cross-shard unique fields. */
export function wantsOf(cross: readonly string[], id: string, fields: readonly Raw[], item = 0): Want[] {
  const out: Want[] = [];
  for (let i = 0; i < fields.length; i += 2) {
    const field = String(fields[i]);
    if (cross.includes(field)) out.push({ field, value: String(fields[i + 1]), id, item });
  }
  return out;
}

/** The cross-shard unique values `records` hold (as their hash fields store them). */
export function heldValues<S extends TProperties>(model: ModelCore<S>, cross: readonly string[], records: readonly { readonly id: string }[]): Want[] {
  return records.flatMap((rec) => wantsOf(cross, rec.id, model.prepare({ ...rec }).fields));
}

function byBucket<S extends TProperties, T extends Want>(model: ModelCore<S>, wants: readonly T[]): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const w of wants) {
    const prefix = model.keys.ownerPrefix(w.value);
    groups.set(prefix, [...(groups.get(prefix) ?? []), w]);
  }
  return groups;
}

const runOne = <S extends TProperties, T>(model: ModelCore<S>, body: ProgramNode['body'][number], as: decode.Decoder<T>, mode: ProgramNode['mode'] = 'write'): Promise<T> =>
  runProgram(model, make('Program', { mode, records: [], body: [body] }), as);

/** An entry's id (after its state, deadline and token) and whether it is pending. */
export function parse(entry: string): { id: string; pending: boolean; token: string } {
  const parts = entry.split('|');
  const pending = parts[0] === 'p';
  const head = pending ? 3 : 2;
  return { pending, token: parts[head - 1], id: parts.slice(head).join('|') };
}

/** Per pair, whether record `id` (live) holds `field` = `value` now. */
export async function holds<S extends TProperties>(model: ModelCore<S>, id: string, pairs: readonly { field: string; value: string }[]): Promise<boolean[]> {
  const flat = pairs.flatMap((p) => [p.field, p.value]);
  return model.readAt(id, call('uq_holds', stateArg(1), paramList(flat)), decode.flags, (found) => found.some(Boolean));
}

/** Swaps entries (expect -> new, '' deleting), per owner bucket; resolves to which swapped. */
export async function swap<S extends TProperties>(model: ModelCore<S>, prefix: string, items: readonly { field: string; value: string; expect: string; next: string }[]): Promise<boolean[]> {
  const flat = items.flatMap((i) => [i.field, i.value, i.expect, i.next]);
  return runOne(model, call('uq_swap', keyArg(prefix + items[0].field), param(prefix), paramList(flat)), decode.flags);
}

const violation = (w: Want, owner: string): UniqueViolationError =>
  new UniqueViolationError(`${w.field} ${w.value} is already taken by ${owner}`, w.field, w.item);

/** Claims the values of one owner bucket: reserve, verify owners, take over, in rounds. */
async function claimBucket<S extends TProperties>(model: ModelCore<S>, prefix: string, wants: readonly Want[], out: Claimed): Promise<void> {
  let todo = wants.map((w) => ({ w, expect: '' }));
  for (let round = 0; todo.length > 0; round++) {
    const tokens = todo.map(() => randomBytes(9).toString('base64url'));
    const flat = todo.flatMap(({ w, expect }, i) => [w.field, w.value, w.id, tokens[i], expect]);
    const reply = await runOne(model, call('uq_claim', keyArg(prefix + todo[0].w.field), param(prefix), paramList(flat),
      param(String(uniqueProtocol.leaseMs)), param(String(uniqueProtocol.skewMs))), decode.texts);
    await step('claim', model);
    const deadline = reply[0];
    const next: typeof todo = [];
    await Promise.all(todo.map(async ({ w }, i) => {
      const [status, detail] = [reply[1 + 2 * i], reply[2 + 2 * i]];
      if (status === 'ok') {
        const token = tokens[i];
        out.held.push({ ...w, prefix, deadline, previous: detail, pending: `p|${deadline}|${token}|${w.id}`, confirmed: `c|${token}|${w.id}` });
      } else if (status === 'taken' || round >= 4) {
        out.refused.set(w.item, violation(w, status === 'taken' ? detail : 'another record'));
      } else if (status === 'again') {
        next.push({ w, expect: '' });
      } else {
        // 'verify': another record owns it; take it over only if that record does not hold it
        const owner = parse(detail);
        const [held] = await holds(model, owner.id, [w]);
        await step('verify', model);
        if (!held) return void next.push({ w, expect: detail });
        // its writer stopped before confirming: confirm it for that record
        if (owner.pending) await swap(model, prefix, [{ field: w.field, value: w.value, expect: detail, next: `c|${owner.token}|${owner.id}` }]);
        out.refused.set(w.item, violation(w, owner.id));
      }
    }));
    todo = next;
  }
}

/** Claims `wants` (every owner bucket in parallel); refused items are in `refused`, the rest held. */
export async function claim<S extends TProperties>(model: ModelCore<S>, wants: readonly Want[]): Promise<Claimed> {
  const out: Claimed = { held: [], refused: new Map() };
  await Promise.all([...byBucket(model, wants)].map(([prefix, group]) => claimBucket(model, prefix, group, out)));
  return out;
}

/** The earliest deadline of `held` ('' for none): the record write must run before it. */
export const earliest = (held: readonly Held[]): string =>
  held.reduce((min, h) => (min === '' || BigInt(h.deadline) < BigInt(min) ? h.deadline : min), '');

/** Per owner bucket, swaps each held entry still ours from its pending entry to `next(h)`. */
async function settle<S extends TProperties>(model: ModelCore<S>, held: readonly Held[], next: (h: Held) => string, name: string): Promise<void> {
  await Promise.all([...byBucket(model, held)].map(async ([prefix, group]) => {
    await swap(model, prefix, group.map((h) => ({ field: h.field, value: h.value, expect: h.pending, next: next(h) })));
    await step(name, model);
  }));
}

/** Step 3: the held values the record got become confirmed. */
export const confirm = <S extends TProperties>(model: ModelCore<S>, held: readonly Held[]): Promise<void> => settle(model, held, (h) => h.confirmed, 'confirm');

/** A claim whose write did not run (refused by its script): each entry goes back to what it was. */
export const abandon = <S extends TProperties>(model: ModelCore<S>, held: readonly Held[]): Promise<void> => settle(model, held, (h) => h.previous, 'abandon');

/**
 * Step 4: drops the owners of values records let go, where the entry still names the record and is
 * confirmed, once the record is read not to hold the value. Best effort: an owner left behind
 * (a stop, a lost connection) is verified and taken over by the next claim, or dropped by a repair.
 */
export async function release<S extends TProperties>(model: ModelCore<S>, gone: readonly Want[]): Promise<void> {
  if (gone.length === 0) return;
  try {
    await Promise.all([...byBucket(model, gone)].map(async ([prefix, group]) => {
      const flat = group.flatMap((w) => [w.field, w.value]);
      const entries = await runOne(model, call('uq_get', keyArg(prefix + group[0].field), param(prefix), paramList(flat)), decode.texts, 'read');
      await step('release-read', model);
      const mine = group.map((w, i) => ({ w, entry: entries[i] })).filter(({ w, entry }) => entry !== '' && !parse(entry).pending && parse(entry).id === w.id);
      const drop: { field: string; value: string; expect: string; next: string }[] = [];
      for (const { w, entry } of mine) {
        const [held] = await holds(model, w.id, [w]);
        await step('release-verify', model);
        if (!held) drop.push({ field: w.field, value: w.value, expect: entry, next: '' });
      }
      if (drop.length > 0) await swap(model, prefix, drop);
      await step('release', model);
    }));
  } catch (err) {
    if (!(err instanceof RapyerError) || err instanceof UniqueViolationError) throw err;
  }
}

/** Whether a write failed inside its script (which then wrote nothing), rather than in flight. */
const refusedByScript = (err: unknown): boolean => err instanceof RapyerError && !(err instanceof ConnectionError);

/**
 * A record a write under claims changes: its id, and the cross-shard unique fields its uq_lease
 * reads (their values before the write, released after it unless the record still holds them).
 */
export interface LeasedRecord { readonly id: string; readonly fields: readonly string[] }

/** A write and, per leased record, the values of its lease's fields before it (uq_lease's replies, null where absent). */
export interface LeasedWrite<T> { readonly old: readonly (readonly (string | null)[])[]; readonly result: T }

/**
 * Writes records under claims of `wants` (the cross-shard unique values they get): claim, write
 * with the earliest deadline, confirm, release each value a leased record held before the write
 * (per `leases`) and does not get. A write refused for an expired lease claims again (three tries).
 * One script writes every record (they share a slot): a save, a create, a delete (no wants: its
 * values are only let go), or an update program's top-level sets.
 */
export async function writeClaimed<S extends TProperties, T>(
  model: ModelCore<S>, wants: readonly Want[], leases: readonly LeasedRecord[],
  write: (deadline: string) => Promise<LeasedWrite<T>>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const { held, refused } = await claim(model, wants);
    if (refused.size > 0) {
      await abandon(model, held);
      throw [...refused.values()][0];
    }
    let out: LeasedWrite<T>;
    try {
      out = await write(earliest(held));
    } catch (err) {
      if (refusedByScript(err)) await abandon(model, held);
      if (err instanceof LeaseExpiredError && attempt < 3) continue;
      throw err;
    }
    await step('write', model);
    await confirm(model, held);
    await release(model, letGo(wants, leases, out.old));
    return out.result;
  }
}

/** The values the leased records held before a write (`old`) and hold no longer: neither wanted again nor absent. */
function letGo(wants: readonly Want[], leases: readonly LeasedRecord[], old: LeasedWrite<unknown>['old']): Want[] {
  return leases.flatMap(({ id, fields }, l) => fields.flatMap((field, i) => {
    const value = old[l]?.[i];
    if (value === null || value === undefined) return [];
    return wants.some((w) => w.id === id && w.field === field && w.value === value) ? [] : [{ field, value, id, item: 0 }];
  }));
}

/**
 * A bulk insert chunk under claims (`insertMany`). `list` is the chunk's argument list (per item
 * its id, its entry count n, then n field/value entries). Claims every item's cross-shard unique
 * values (each owner bucket once for the chunk), then refuses the chunk when one is taken, or with
 * `skip` leaves those items out; writes the rest with `write(deadline, kept)` (their argument list:
 * a version per item, '' where the chunk wrote nothing, e.g. an id that exists, skipped); confirms
 * the values of the items written and gives the others back. Resolves to a version per item of
 * `list` ('' where left out), or to [] when the write wrote nothing at all (its chain was broken).
 */
export async function insertClaimed<S extends TProperties>(
  model: ModelCore<S>, cross: readonly string[], list: readonly Raw[], skip: boolean,
  write: (deadline: string, kept: readonly Raw[]) => Promise<string[]>,
): Promise<string[]> {
  const spans: { id: string; from: number; to: number }[] = [];
  for (let at = 0; at < list.length; at += 2 + Number(list[at + 1])) spans.push({ id: String(list[at]), from: at, to: at + 2 + Number(list[at + 1]) });
  const { held, refused } = await claim(model, spans.flatMap((s, i) => wantsOf(cross, s.id, list.slice(s.from + 2, s.to), i)));
  if (refused.size > 0 && !skip) {
    await abandon(model, held);
    throw [...refused.values()].sort((a, b) => (a.index ?? 0) - (b.index ?? 0))[0];
  }
  const kept = spans.flatMap((_, i) => (refused.has(i) ? [] : [i]));
  const keptList: Raw[] = [];
  for (const i of kept) for (let k = spans[i].from; k < spans[i].to; k++) keptList.push(list[k]);
  let written: string[];
  try {
    written = await write(earliest(held.filter((h) => !refused.has(h.item))), keptList);
  } catch (err) {
    if (refusedByScript(err)) await abandon(model, held);
    throw err;
  }
  await step('write', model);
  const versions = new Array<string>(spans.length).fill('');
  kept.forEach((i, k) => (versions[i] = written[k] ?? ''));
  await abandon(model, held.filter((h) => versions[h.item] === ''));
  await confirm(model, held.filter((h) => versions[h.item] !== ''));
  return written.length === 0 && kept.length > 0 ? [] : versions;
}
