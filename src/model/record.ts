/**
 * Records: the prototype every record object shares (fields are own properties, methods live on
 * the prototype), the hidden state beside the fields (model, id, version), and how an update
 * program's reply is applied to the records it ran on. `u.$`, `u.pipeline` and transactions all
 * run through {@link runUpdate}.
 */
import type { TProperties } from 'typebox';
import { call, keyArg, make, param, paramList, type ProgramNode, type RecordRef, type Stmt } from '../ast/nodes.js';
import * as decode from '../client/decode.js';
import type { Reply, ScriptRunner } from '../client/executor.js';
import { explainProgram, runProgram, type Explained } from '../client/run.js';
import { UsageError } from '../errors.js';
import { ObjectHandle } from '../ops/handles.js';
import { Recorder, type ResultDecoder } from '../ops/recorder.js';
import type { Raw } from '../schema/codec.js';
import type { ModelCore } from './contract.js';
import { crossUnique, uniqueSets, type UniqueSet } from './unique-fields.js';
import { writeClaimed, type LeasedRecord, type Want } from './unique.js';
import { applyFields, itemField, readRecord, VERSION_FIELD, type RecordMeta } from './layout.js';
import type { LockOptions, PipelineFn, Rec, SaveOptions } from './types.js';

const META = Symbol('rapyer.meta');

interface Hidden {
  model: ModelCore<any>;
  id: string;
  meta: RecordMeta;
  /** The immediate handles (`u.$`), made on first use. */
  handles?: unknown;
}

export const hidden = (rec: object): Hidden => (rec as { [META]: Hidden })[META];

/** The model and id of a record object, or undefined for anything that is not a record. */
export function recordOf(value: unknown): { model: ModelCore<any>; id: string } | undefined {
  return value instanceof RecordBase ? hidden(value) : undefined;
}

/** The id of a record object, or undefined for anything else (plain data). */
export const idOfRecord = (value: unknown): string | undefined =>
  typeof value === 'object' && value !== null ? (value as { [META]?: Hidden })[META]?.id : undefined;

/** The state of a record nobody has read yet: any reply brings the whole hash. */
export const unseen = (): RecordMeta => ({ version: '', heads: new Map() });

/** Makes a record object of `model` from decoded data. */
export function makeRecord<S extends TProperties>(model: ModelCore<S>, id: string, data: Record<string, unknown>, meta: RecordMeta): Rec<S> {
  const rec = Object.create(RecordBase.prototype) as RecordBase;
  const state: Hidden = { model: model as ModelCore<any>, id, meta };
  Object.defineProperty(rec, META, { value: state, enumerable: false, writable: true });
  assignData(rec, data);
  return rec as unknown as Rec<S>;
}

const fieldsOf = (rec: object): Record<string, unknown> => rec as Record<string, unknown>;

function ownData(rec: object): Record<string, unknown> {
  return { ...rec } as Record<string, unknown>;
}

/**
 * Copies fields onto a record. A field named `id` (allowed when it is the key) shadows the
 * prototype's read-only `id` getter as an own property with the same value.
 */
function assignData(rec: object, data: Record<string, unknown>): void {
  if ('id' in data) {
    Object.defineProperty(rec, 'id', { value: data.id, enumerable: true, writable: true, configurable: true });
    const { id: _id, ...rest } = data;
    Object.assign(rec, rest);
    return;
  }
  Object.assign(rec, data);
}

function replaceData(rec: object, data: Record<string, unknown>): void {
  for (const k of Object.keys(rec)) delete fieldsOf(rec)[k];
  assignData(rec, data);
}

/**
 * Applies a program's patch for record `rec`: its changes, the whole hash when our copy was stale,
 * or the changes the program's operations made (decode.DERIVED).
 */
function applyPatch(rec: object, patch: readonly Raw[], program: ProgramNode, results: readonly Reply[]): void {
  const h = hidden(rec);
  if (patch === decode.DERIVED) {
    const fields = derivedPatch(program.body, results, program.records[0].seen, h.meta.heads);
    applyFields(h.model.spec, fieldsOf(rec), h.meta, fields, 0, false, h.id);
    return;
  }
  if (String(patch[0]) === 'f') {
    const { data, meta } = readRecord(h.model.spec, patch.slice(1), h.id);
    replaceData(rec, data);
    h.meta = meta;
    return;
  }
  applyFields(h.model.spec, fieldsOf(rec), h.meta, patch, 1, false, h.id);
}

/** Brings each of a program's records up to the server's state after its reply. */
export function applyReply(records: readonly object[], program: ProgramNode, reply: decode.UpdateReply): void {
  records.forEach((r, i) => applyPatch(r, reply.patches[i], program, reply.results));
}

/**
 * The changes of a one-record straight-line program on a current copy (the reply left them out,
 * see decode.DERIVED): each field set to its operation's result; an append's items at the
 * positions after the array's end (its result is the new length; the copy's head is the stored
 * one, as its version was) and the new length; the version one past the one the program saw. In
 * order, so the last operation on a field wins, as it did on the server.
 */
function derivedPatch(body: readonly Stmt[], results: readonly Reply[], seen: string, heads: ReadonlyMap<string, number>): Raw[] {
  const fields: Raw[] = [];
  body.forEach((s, k) => {
    const result = results[k] as Raw;
    if (s.kind !== 'FieldOp') throw new TypeError(`an update replied without its patch for a ${s.kind}`);
    if (s.target !== 'array') {
      fields.push(s.field, result);
      return;
    }
    const [items] = s.args;
    if (items?.kind !== 'ParamList') throw new TypeError(`an update replied without its patch for an append of ${items?.kind}`);
    const len = Number(result);
    const end = (heads.get(s.field) ?? 0) + len;
    items.values.forEach((v, j) => fields.push(itemField(s.field, end - items.values.length + j), v));
    fields.push(s.field, String(len));
  });
  fields.push(VERSION_FIELD, String(Number(seen) + 1));
  return fields;
}

/**
 * The update program of `body` over `records`: each must exist; each reply patches its copy. A
 * program that sets unique values across shards starts with their lease checks (deadline '' here:
 * the script {@link runUpdate} runs, with its claims' deadline as a value).
 */
export function updateProgram(records: readonly object[], body: readonly Stmt[]): ProgramNode {
  const sets = uniqueSetsOf(records, body);
  const program = plainProgram(records, body);
  return sets.length === 0 ? program : leasedProgram(program, leasesOf(program, sets), '');
}

function plainProgram(records: readonly object[], body: readonly Stmt[]): ProgramNode {
  const refs: RecordRef[] = records.map((r) => {
    const h = hidden(r);
    return h.model.ref(h.id, h.meta.version);
  });
  return make('Program', { mode: 'update', binary: records.some((r) => hidden(r).model.binary), records: refs, body });
}

/** Runs `body` over `records` as one script, then brings each record up to the server's state. */
export async function runUpdate(db: ScriptRunner, records: readonly object[], body: readonly Stmt[]): Promise<decode.UpdateReply> {
  const sets = uniqueSetsOf(records, body);
  const program = plainProgram(records, body);
  const reply = sets.length === 0 ? await runProgram(db, program, decode.update) : await runClaimed(db, records, program, sets);
  applyReply(records, program, reply);
  return reply;
}

// ---- top-level sets of unique values across shards (src/model/unique.ts) ------------------------

const NO_SETS: readonly UniqueSet[] = Object.freeze([]);

const hasCross = (rec: object): boolean => crossUnique(hidden(rec).model).length > 0;

/**
 * The claimable unique sets of a program, refusing (UsageError) any other write of a unique field
 * across shards. Most programs touch no model that has one: they pay one cached look-up per record.
 */
function uniqueSetsOf(records: readonly object[], body: readonly Stmt[]): readonly UniqueSet[] {
  if (!records.some(hasCross)) return NO_SETS;
  return uniqueSets(body, (rec) => {
    const { model } = hidden(records[rec - 1]);
    return { model: model.name, fields: crossUnique(model) };
  });
}

/** A record whose sets the program claims: its place in the program, its id and key, the cross fields it sets. */
interface Lease extends LeasedRecord { readonly rec: number; readonly key: string }

function leasesOf(program: ProgramNode, sets: readonly UniqueSet[]): Lease[] {
  const fields = new Map<number, string[]>();
  for (const s of sets) fields.set(s.rec, [...(fields.get(s.rec) ?? []), s.field]);
  return [...fields].map(([rec, list]) => ({ rec, id: program.records[rec - 1].id, key: program.records[rec - 1].key, fields: list }));
}

/** `program` with one uq_lease per leased record first: refused past `deadline`, it replies the values the record held. */
function leasedProgram(program: ProgramNode, leases: readonly Lease[], deadline: string): ProgramNode {
  const checks = leases.map((l) => call('uq_lease', keyArg(l.key), param(deadline), paramList(l.fields)));
  return make('Program', { ...program, body: [...checks, ...program.body] });
}

/**
 * Runs an update program whose top-level sets give records unique values across shards: claims
 * them, runs the program after the lease checks, confirms, and releases the values the records let
 * go (as a save does). On a cluster a program's records share one slot, so they are of one model.
 */
function runClaimed(db: ScriptRunner, records: readonly object[], program: ProgramNode, sets: readonly UniqueSet[]): Promise<decode.UpdateReply> {
  const model = hidden(records[sets[0].rec - 1]).model;
  if (sets.some((s) => hidden(records[s.rec - 1]).model !== model)) {
    return Promise.reject(new UsageError('a transaction sets unique values across shards of records of two models: set them in one transaction per model'));
  }
  const leases = leasesOf(program, sets);
  const wants: Want[] = sets.flatMap((s) => (s.value === null ? [] : [{ field: s.field, value: s.value, id: program.records[s.rec - 1].id, item: 0 }]));
  return writeClaimed(model, wants, leases, (deadline) =>
    runProgram(db, leasedProgram(program, leases, deadline), decode.leasedUpdate(leases.length)));
}

/** Records `fn` against the handles of `rec` (as record 1 of a program). */
function recordProgram(rec: object, fn: PipelineFn<any>): Stmt[] {
  const recorder = new Recorder();
  hidden(rec).model.record(fn, recorder, () => fieldsOf(rec));
  return recorder.body as Stmt[];
}

/**
 * The immediate handles (`u.$`) return promises; a bad argument must reject the promise too, not
 * throw before it exists, so `u.$.age.set(-1).catch(...)` sees it. Each handle gets one proxy and
 * each of its methods one wrapper, made on first use: `u.$.score.incr(1)` allocates nothing the
 * second time.
 */
const proxies = new WeakMap<object, object>();

function rejectingCalls<T extends object>(handle: T): T {
  let proxy = proxies.get(handle);
  if (proxy) return proxy as T;
  const wrappers = new Map<PropertyKey, unknown>();
  proxy = new Proxy(handle, {
    get(target, prop) {
      const known = wrappers.get(prop);
      if (known !== undefined) return known;
      // getters run on the handle itself (their state is on it, not on the proxy)
      const value = Reflect.get(target, prop, target);
      let out: unknown = value;
      if (typeof value === 'function') {
        out = (...args: unknown[]) => {
          try {
            return value.apply(target, args);
          } catch (err) {
            return Promise.reject(err);
          }
        };
      } else if (value && typeof value === 'object') {
        out = rejectingCalls(value);
      }
      wrappers.set(prop, out);
      return out;
    },
  });
  proxies.set(handle, proxy);
  return proxy as T;
}

/** The prototype of every record: fields are own properties, methods live here. */
class RecordBase {
  get id(): string {
    return hidden(this).id;
  }

  get key(): string {
    const h = hidden(this);
    return h.model.keys.record(h.id);
  }

  get $(): unknown {
    const h = hidden(this);
    if (h.handles) return h.handles;
    const recorder = new Recorder(async (stmt, decodeResult: ResultDecoder) =>
      decodeResult(decode.result(await runUpdate(h.model, [this], [stmt]), 0)));
    return (h.handles = rejectingCalls(new ObjectHandle({ recorder, rec: 1, data: () => fieldsOf(this), maxBytes: h.model.options.maxValueBytes }, h.model.spec)));
  }

  /** Runs every operation `fn` records as one atomic script; this record then holds the server's state. */
  async pipeline(fn: PipelineFn<any>): Promise<this> {
    await runUpdate(hidden(this).model, [this], recordProgram(this, fn));
    return this;
  }

  /** The script `pipeline(fn)` would run, without running it. */
  explain(fn: PipelineFn<any>): Explained {
    return explainProgram(updateProgram([this], recordProgram(this, fn)));
  }

  /**
   * Writes the whole local state (validated). ConflictError when the stored record changed or was
   * deleted since this copy was read; `{ force: true }` overwrites (and creates it again) anyway.
   */
  async save(options: SaveOptions = {}): Promise<this> {
    const h = hidden(this);
    const { data, fields } = h.model.prepare(ownData(this));
    const seen = options.force ? undefined : h.meta.version;
    const version = await h.model.writeRecord(h.id, fields, 'replace', seen);
    replaceData(this, data);
    h.meta = { version, heads: new Map() };
    return this;
  }

  async reload(): Promise<this> {
    const h = hidden(this);
    const fresh = await h.model.get(h.id);
    replaceData(this, ownData(fresh));
    h.meta = hidden(fresh).meta;
    return this;
  }

  delete(): Promise<boolean> {
    const h = hidden(this);
    return h.model.delete(h.id);
  }

  expire(seconds: number): Promise<boolean> {
    const h = hidden(this);
    return h.model.expire(h.id, seconds);
  }

  ttl(): Promise<number> {
    const h = hidden(this);
    return h.model.ttl(h.id);
  }

  lock<T>(fn: (locked: Rec<any>) => Promise<T> | T, options?: LockOptions): Promise<T> {
    const h = hidden(this);
    return h.model.lock(h.id, fn, options);
  }

  toJSON(): Record<string, unknown> {
    return ownData(this);
  }
}
