/**
 * The storage layout: one Redis hash per record, every field readable with redis-cli.
 *
 *   #v              version, bumped by every write (its presence means the record exists)
 *   name            scalar at a path (nested: `address.city`)
 *   address         object marker ("{}") for a present nested object
 *   nick!           "null" when a nullable field holds null
 *   tags            array length;  tags@ = head position (absent: 0);  tags[<pos>] = item
 *   notes           record (dict) entry count;  notes.<key> = value (any key text)
 *
 * Array positions run head .. head+length-1, so both ends move in O(1); object items and object
 * record values are JSON in schema order.
 */
import { ValidationError } from '../errors.js';
import { decodeElement, decodeScalar, encodeElement, encodeScalar, type Raw } from '../schema/codec.js';
import { checkBytes, setOwn, validate, withDefaults } from '../schema/validate.js';
import { isScalar, type ArraySpec, type FieldSpec, type ObjectSpec, type ScalarSpec } from '../schema/spec.js';

export const VERSION_FIELD = '#v';
export const OBJECT_MARKER = '{}';
export const NULL_MARKER = 'null';

export const itemField = (path: string, pos: number): string => `${path}[${pos}]`;
export const nullField = (path: string): string => `${path}!`;
export const entryField = (path: string, key: string): string => `${path}.${key}`;

/**
 * A new record's data, validated with its defaults filled, and its hash fields; every value
 * measured against the model's `maxValueBytes` before anything is sent. The fields are appended
 * to `into` when given (a bulk chunk's argument list: no list per record), which is then `fields`.
 */
export function prepareRecord(
  spec: ObjectSpec, input: unknown, maxValueBytes: number | undefined, into: Raw[] = [],
): { data: Record<string, unknown>; fields: Raw[] } {
  const data = withDefaults(spec, input) as Record<string, unknown>;
  validate(spec, data, '');
  const from = into.length;
  const fields = flatten(spec, data, into);
  for (let i = from + 1; i < fields.length; i += 2) checkBytes(fields[i], String(fields[i - 1]), maxValueBytes);
  return { data, fields };
}

/** The hash fields of a whole value at `spec.path`, appended to `out` as field, value pairs. */
export function flatten(spec: FieldSpec, value: unknown, out: Raw[]): Raw[] {
  const path = spec.path;
  if (value === undefined) return out;
  if (value === null && spec.kind !== 'json') {
    out.push(nullField(path), NULL_MARKER);
    return out;
  }
  switch (spec.kind) {
    case 'object':
      if (path) out.push(path, OBJECT_MARKER);
      for (const name of spec.order) flatten(spec.fields[name], (value as Record<string, unknown>)[name], out);
      return out;
    case 'array': {
      const items = value as unknown[];
      out.push(path, String(items.length));
      items.forEach((item, i) => out.push(itemField(path, i), encodeElement(spec.items, item)));
      return out;
    }
    case 'record': {
      const entries = Object.entries(value as Record<string, unknown>);
      out.push(path, String(entries.length));
      for (const [k, v] of entries) out.push(entryField(path, k), encodeElement(spec.values, v));
      return out;
    }
    default:
      out.push(path, encodeScalar(spec, value));
      return out;
  }
}

/** Where a hash field belongs: the spec it is part of, and what part it is. */
type Located =
  | { part: 'value' | 'null' | 'head'; spec: FieldSpec }
  | { part: 'all'; spec: ArraySpec }
  | { part: 'item'; spec: ArraySpec; pos: number }
  | { part: 'entry'; spec: FieldSpec & { kind: 'record' }; key: string };

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*/;
const POSITION = /^-?\d+$/;

/**
 * Where hash fields belong, per schema: decoding a record parses each of its field names once per
 * process rather than once per read. Items and entries, whose names are unbounded, are kept until
 * a schema's map holds LOCATED_MAX names, then parsed each time.
 */
const located = new WeakMap<ObjectSpec, Map<string, Located | undefined>>();
const LOCATED_MAX = 10_000;

/** A schema's top-level scalar fields: a read sets them on the record itself, with no path to walk. */
const topScalars = new WeakMap<ObjectSpec, Map<string, ScalarSpec>>();

function topScalarsOf(root: ObjectSpec): Map<string, ScalarSpec> {
  let out = topScalars.get(root);
  if (!out) {
    out = new Map();
    for (const [name, spec] of Object.entries(root.fields)) if (isScalar(spec)) out.set(name, spec);
    topScalars.set(root, out);
  }
  return out;
}

function locateCached(root: ObjectSpec, field: string): Located | undefined {
  let cache = located.get(root);
  if (!cache) located.set(root, (cache = new Map()));
  const known = cache.get(field);
  if (known !== undefined || cache.has(field)) return known;
  let at: Located | undefined;
  // an item (`tags[3]`): its array's own field is known, only the position is read
  if (field.endsWith(']')) {
    const open = field.lastIndexOf('[');
    const array = cache.get(field.slice(0, open));
    const pos = field.slice(open + 1, -1);
    if (array?.part === 'value' && array.spec.kind === 'array' && POSITION.test(pos)) {
      at = { part: 'item', spec: array.spec, pos: Number(pos) };
    }
  }
  at ??= locate(root, field);
  const fixed = at && (at.part === 'value' || at.part === 'null' || at.part === 'head');
  if (at && (fixed || cache.size < LOCATED_MAX)) cache.set(field, at);
  return at;
}

/** Parses a hash field name against the schema; undefined for fields the schema does not know. */
export function locate(root: ObjectSpec, field: string): Located | undefined {
  let spec: FieldSpec = root;
  let rest = field;
  for (;;) {
    const m = IDENT.exec(rest);
    if (!m || spec.kind !== 'object') return undefined;
    const child: FieldSpec | undefined = spec.fields[m[0]];
    if (!child) return undefined;
    spec = child;
    rest = rest.slice(m[0].length);
    if (rest === '') return { part: 'value', spec };
    if (rest === '!') return { part: 'null', spec };
    if (spec.kind === 'array') {
      if (rest === '@') return { part: 'head', spec };
      if (rest === '[*]') return { part: 'all', spec };
      const item = /^\[(-?\d+)\]$/.exec(rest);
      return item ? { part: 'item', spec, pos: Number(item[1]) } : undefined;
    }
    if (rest[0] !== '.') return undefined;
    if (spec.kind === 'record') return { part: 'entry', spec, key: rest.slice(1) };
    rest = rest.slice(1);
  }
}

/** Per-record bookkeeping the client needs to apply patches: its version and array heads. */
export interface RecordMeta {
  version: string;
  heads: Map<string, number>;
}

type Mutable = Record<string, unknown>;

/** The steps of a schema path (`address.city` -> ['address', 'city']), split once per path. */
const stepsByPath = new Map<string, readonly string[]>();

function stepsOf(path: string): readonly string[] {
  let steps = stepsByPath.get(path);
  if (!steps) stepsByPath.set(path, (steps = path.split('.')));
  return steps;
}

function parentOf(data: Mutable, steps: readonly string[], create: boolean): Mutable | undefined {
  let obj = data;
  for (let i = 0; i < steps.length - 1; i++) {
    let next = obj[steps[i]];
    if (next === undefined || next === null) {
      if (!create) return undefined;
      next = {};
      obj[steps[i]] = next;
    }
    obj = next as Mutable;
  }
  return obj;
}

function setAt(data: Mutable, path: string, value: unknown): void {
  const steps = stepsOf(path);
  parentOf(data, steps, true)![steps[steps.length - 1]] = value;
}

function getAt(data: Mutable, path: string): unknown {
  const steps = stepsOf(path);
  return parentOf(data, steps, false)?.[steps[steps.length - 1]];
}

function deleteAt(data: Mutable, path: string): void {
  const steps = stepsOf(path);
  const parent = parentOf(data, steps, false);
  if (parent) delete parent[steps[steps.length - 1]];
}

/** A patch's changes to one array: new length and head, changed positions, or every item (`all`). */
interface ArrayChange { spec: ArraySpec; len?: number; head?: number; items: Map<number, Raw | null>; all?: Raw[] }

/**
 * Applies hash fields to a decoded record `id`: the whole hash (`full`) or a patch of changed
 * fields (null = deleted) on a copy that was at the version the patch started from. `flat` holds
 * them as a hash reply does, name then value, from position `from` (a patch's marker comes first).
 * A stored value the schema cannot decode raises ValidationError naming the record and the hash field.
 */
export function applyFields(
  root: ObjectSpec, data: Mutable, meta: RecordMeta, flat: readonly (Raw | null)[], from: number, full: boolean, id: string,
): void {
  // the field being decoded, named by a decode error (a try around the loop, not a closure per field)
  let field = '';
  try {
    const arrays = new Map<string, ArrayChange>();
    const arrayOf = (spec: ArraySpec): ArrayChange => {
      let c = arrays.get(spec.path);
      if (!c) arrays.set(spec.path, (c = { spec, items: new Map() }));
      return c;
    };
    const tops = topScalarsOf(root);
    for (let i = from; i < flat.length; i += 2) {
      const name = String(flat[i]);
      const raw = flat[i + 1];
      field = name;
      if (name === VERSION_FIELD) {
        meta.version = String(raw);
        continue;
      }
      // most fields: a scalar of the record itself (as applyOne's 'value' would set it)
      const scalar = tops.get(name);
      if (scalar !== undefined) {
        if (raw === null) delete data[name];
        else data[name] = decodeScalar(scalar, raw);
        continue;
      }
      const at = locateCached(root, name);
      if (at) applyOne(data, at, raw, arrayOf, arrays);
    }
    for (const [path, change] of arrays) {
      field = path;
      rebuildArray(data, meta, path, change, full);
    }
  } catch (err) {
    if (!(err instanceof ValidationError) || err.rule !== 'decode') throw err;
    throw new ValidationError(`record ${id}: ${field}: ${err.message}`, field, 'decode');
  }
}

/** Applies one located hash field to `data` (array parts are gathered in `arrays`, rebuilt after). */
function applyOne(
  data: Mutable, at: Located, raw: Raw | null, arrayOf: (spec: ArraySpec) => ArrayChange, arrays: Map<string, ArrayChange>,
): void {
  const path = at.spec.path;
  switch (at.part) {
    case 'null':
      if (raw !== null) setAt(data, path, null);
      else if (getAt(data, path) === null) deleteAt(data, path);
      return;
    case 'head':
      arrayOf(at.spec as ArraySpec).head = raw === null ? 0 : storedCount(at.spec, raw, 'head');
      return;
    case 'item':
      arrayOf(at.spec).items.set(at.pos, raw);
      return;
    case 'all':
      // a patch of a rewritten array: its items in order, as one list (lua/lib/commit.lua st_reply)
      arrayOf(at.spec).all = raw as unknown as Raw[];
      return;
    case 'entry': {
      let dict = getAt(data, path) as Mutable | undefined;
      if (dict === undefined || dict === null) setAt(data, path, (dict = {}));
      if (raw === null) delete dict[at.key];
      else setOwn(dict, at.key, decodeElement(at.spec.values, raw));
      return;
    }
    case 'value': {
      const spec = at.spec;
      if (raw === null) {
        deleteAt(data, path);
        if (spec.kind === 'array') arrays.delete(path);
      } else if (spec.kind === 'array') {
        arrayOf(spec).len = storedCount(spec, raw, 'length');
      } else if (spec.kind === 'record') {
        if (getAt(data, path) === undefined) setAt(data, path, {});
      } else if (spec.kind === 'object') {
        const now = getAt(data, path);
        if (now === undefined || now === null) setAt(data, path, {});
      } else if (isScalar(spec)) {
        setAt(data, path, decodeScalar(spec, raw));
      }
    }
  }
}

/**
 * An array's stored length (a count) or head (a position, of either sign), as a number; text that
 * is neither raises the decode error any undecodable value does.
 */
function storedCount(spec: FieldSpec, raw: Raw, what: 'length' | 'head'): number {
  const s = String(raw);
  const n = Number(s);
  if (s.trim() === '' || !Number.isSafeInteger(n) || (what === 'length' && n < 0)) {
    throw new ValidationError(`stored ${what} ${JSON.stringify(s.slice(0, 40))} is not a valid array ${what}`, spec.path, 'decode');
  }
  return n;
}

/** New items: the patched positions, else the old item at the same position. */
function rebuildArray(data: Mutable, meta: RecordMeta, path: string, c: ArrayChange, full: boolean): void {
  const old = full ? [] : ((getAt(data, path) as unknown[] | undefined) ?? []);
  const oldHead = full ? 0 : (meta.heads.get(path) ?? 0);
  const head = c.head ?? oldHead;
  meta.heads.set(path, head);
  if (c.all) {
    setAt(data, path, c.all.map((raw) => decodeElement(c.spec.items, raw)));
    return;
  }
  const len = c.len ?? old.length;
  const items = new Array<unknown>(len);
  for (let i = 0; i < len; i++) {
    const raw = c.items.get(head + i);
    items[i] = raw !== undefined && raw !== null ? decodeElement(c.spec.items, raw) : old[head + i - oldHead];
  }
  meta.heads.set(path, head);
  setAt(data, path, items);
}

/** Decodes a whole hash (HGETALL as a flat list) into a record. */
export function readRecord(root: ObjectSpec, flat: Raw[], id: string): { data: Mutable; meta: RecordMeta } {
  const data: Mutable = {};
  const meta: RecordMeta = { version: '', heads: new Map() };
  applyFields(root, data, meta, flat, 0, true, id);
  return { data, meta };
}

