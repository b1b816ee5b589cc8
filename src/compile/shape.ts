/**
 * Shapes: what a program's script depends on, apart from its values. One walk of the AST gives
 * the shape key (the node structure, with every Param and ParamList replaced by a marker and every
 * key by the position of its first occurrence, so "the same key twice" stays part of the shape),
 * the Param/ParamList nodes in walk order, and the distinct keys in walk order.
 *
 * The compiler (src/compile/compiler.ts) compiles the first program of a shape, records where each
 * KEYS and ARGV slot of the result came from in that walk, and binds every later program of the
 * shape by that record alone: no emitting, freezing, linking or hashing (a prepared statement).
 *
 * @example
 * shapeOf(program).key // "{kind:7'Program,mode:6'update,records:[{key:K0,...}],body:[{...args:[Praw]...}]}"
 */
import { param, type Node, type ParamListNode, type ParamNode, type RecordRef, type ShardGuard } from '../ast/nodes.js';

/** A value slot source: a Param (one ARGV entry; none when null) or a ParamList (its length, then its values). */
export type Source = ParamNode | ParamListNode;

export interface Shape {
  readonly key: string;
  readonly sources: Source[];
  readonly keys: string[];
}

/** Properties whose strings are Redis keys (KEYS slots), not shape: record keys, index keys, id sets, expiry keys, shard metas. */
const KEY_PROPS = new Set(['key', 'idsKey', 'exp', 'meta']);

/**
 * A record's id and seen version, as the Param nodes the compiler binds them with (made once per
 * RecordRef, so the compiler and the shape walk name the same node).
 */
const refs = new WeakMap<RecordRef, { id: ParamNode; seen: ParamNode }>();

export function refParams(r: RecordRef): { id: ParamNode; seen: ParamNode } {
  let p = refs.get(r);
  if (!p) {
    p = { id: param(r.id, 'str'), seen: param(r.seen, 'str') };
    refs.set(r, p);
  }
  return p;
}

/**
 * The layout a shard guard checks, as the Param node the compiler binds it with (made once per
 * guard, like refParams): a value, so that every layout of a shape shares its script and template.
 */
const layouts = new WeakMap<ShardGuard, ParamNode>();

export function guardParam(g: ShardGuard): ParamNode {
  let p = layouts.get(g);
  if (!p) layouts.set(g, (p = param(g.layout, 'str')));
  return p;
}

/**
 * Properties whose values a model builds once and reuses in every program (a shard's index,
 * unique, expiry and change stream refs; a field's checks): the walk of such a value is kept per
 * object as text pieces around its keys, and replayed (only its keys are numbered afresh).
 */
const STABLE_PROPS = new Set(['ix', 'uq', 'exp', 'ch', 'check']);

/** A walked stable value: `pieces[0] K<keys[0]> pieces[1] ...`; null when it holds values (not cacheable). */
type Fragment = { readonly pieces: readonly string[]; readonly keys: readonly string[] } | null;
const fragments = new WeakMap<object, Fragment>();

/** `K<n>`, the token of the n-th distinct key, made once per n. */
const keyTokens: string[] = [];
const keyToken = (n: number): string => (keyTokens[n] ??= `K${n}`);

/**
 * A string's token, length-prefixed (as unambiguous as JSON text, without escaping). The strings
 * of a shape are node kinds, ops and field names, the same few on every call: their tokens are
 * kept (up to a bound, since a value that is not a key could be anything), so a walk allocates none.
 */
const textTokens = new Map<string, string>();
function textToken(v: string): string {
  let t = textTokens.get(v);
  if (t === undefined) {
    t = `${v.length}'${v}`;
    if (textTokens.size < 10_000) textTokens.set(v, t);
  }
  return t;
}

class Walk {
  /**
   * `named`: a record's id and version and a guard's layout are the Param nodes the compiler binds
   * them with (refParams, guardParam), as a first compile needs to map its slots; otherwise
   * (binding a known shape) plain Params, which spare a WeakMap entry per program.
   */
  constructor(private readonly named: boolean) {}

  /**
   * The shape key's text, grown by `+=` (V8 keeps it as a rope until the template lookup flattens
   * it once; collecting pieces and joining them cost three times as much).
   */
  out = '';
  readonly sources: Source[] = [];
  readonly keys: string[] = [];
  private readonly keyAt = new Map<string, number>();
  /** While a stable value is walked for the first time: each of its keys and where its token is in `out`. */
  private marks: { name: string; at: number; end: number }[] | undefined;

  value(v: unknown, prop: string): void {
    if (typeof v === 'object' && v !== null && STABLE_PROPS.has(prop) && this.marks === undefined) {
      this.stable(v, prop);
      return;
    }
    this.walk(v, prop);
  }

  private stable(v: object, prop: string): void {
    const known = fragments.get(v);
    if (known) {
      this.out += known.pieces[0];
      for (let i = 0; i < known.keys.length; i++) this.out += keyToken(this.slot(known.keys[i])) + known.pieces[i + 1];
      return;
    }
    if (known === null) {
      this.walk(v, prop);
      return;
    }
    const start = this.out.length;
    const sources = this.sources.length;
    const marks: { name: string; at: number; end: number }[] = (this.marks = []);
    this.walk(v, prop);
    this.marks = undefined;
    if (this.sources.length !== sources) {
      fragments.set(v, null);
      return;
    }
    const pieces: string[] = [];
    let from = start;
    for (const m of marks) {
      pieces.push(this.out.slice(from, m.at));
      from = m.end;
    }
    pieces.push(this.out.slice(from));
    fragments.set(v, { pieces, keys: marks.map((m) => m.name) });
  }

  private walk(v: unknown, prop: string): void {
    if (v === undefined || v === null) {
      this.out += '~';
    } else if (typeof v === 'string') {
      if (KEY_PROPS.has(prop)) {
        const token = keyToken(this.slot(v));
        this.marks?.push({ name: v, at: this.out.length, end: this.out.length + token.length });
        this.out += token;
      } else this.out += textToken(v);
    } else if (typeof v !== 'object') {
      this.out += String(v);
    } else if (Array.isArray(v)) {
      this.out += '[';
      for (const item of v) {
        this.value(item, prop);
        this.out += ',';
      }
      this.out += ']';
    } else {
      this.object(v as Record<string, unknown>, prop);
    }
  }

  private object(o: Record<string, unknown>, prop: string): void {
    if (o.kind === 'Param') {
      const p = o as unknown as ParamNode;
      this.sources.push(p);
      this.out += p.value === null ? 'N' : `P${p.as}`;
      return;
    }
    if (o.kind === 'ParamList') {
      this.sources.push(o as unknown as ParamListNode);
      this.out += 'L';
      return;
    }
    if (prop === 'records') {
      // a record's id and seen version are values, bound as Params
      const r = o as unknown as RecordRef;
      if (this.named) {
        const { id, seen } = refParams(r);
        this.sources.push(id, seen);
      } else this.sources.push(param(r.id, 'str'), param(r.seen, 'str'));
    }
    const guard = prop === 'guard' || prop === 'guards';
    if (guard) this.sources.push(this.named ? guardParam(o as unknown as ShardGuard) : param((o as unknown as ShardGuard).layout, 'str'));
    this.out += '{';
    for (const k in o) {
      if ((prop === 'records' && (k === 'id' || k === 'seen')) || (guard && k === 'layout')) continue;
      this.out += `${k}:`;
      this.value(o[k], k);
      this.out += ',';
    }
    this.out += '}';
  }

  private slot(name: string): number {
    let i = this.keyAt.get(name);
    if (i === undefined) {
      i = this.keys.push(name) - 1;
      this.keyAt.set(name, i);
    }
    return i;
  }
}

/**
 * The shape of a program or query: its key, its value sources and its distinct keys, in walk
 * order. `named` for a shape a compile maps its slots to (see Walk).
 */
export function shapeOf(n: Node, named = false): Shape {
  const w = new Walk(named);
  w.value(n, '');
  return { key: w.out, sources: w.sources, keys: w.keys };
}
