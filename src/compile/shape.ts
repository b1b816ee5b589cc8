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
 * shapeOf(program).key // '{kind:"Program",mode:"update",records:[{key:K0,...}],body:[{...args:[Praw]...}]}'
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

class Walk {
  key = '';
  readonly sources: Source[] = [];
  readonly keys: string[] = [];
  private readonly keyAt = new Map<string, number>();

  value(v: unknown, prop: string): void {
    if (v === undefined || v === null) {
      this.key += '~';
    } else if (typeof v === 'string') {
      if (KEY_PROPS.has(prop)) this.key += `K${this.slot(v)}`;
      else this.key += JSON.stringify(v);
    } else if (typeof v !== 'object') {
      this.key += String(v);
    } else if (Array.isArray(v)) {
      this.key += '[';
      for (const item of v) {
        this.value(item, prop);
        this.key += ',';
      }
      this.key += ']';
    } else {
      this.object(v as Record<string, unknown>, prop);
    }
  }

  private object(o: Record<string, unknown>, prop: string): void {
    if (o.kind === 'Param') {
      const p = o as unknown as ParamNode;
      this.sources.push(p);
      this.key += p.value === null ? 'N' : `P${p.as}`;
      return;
    }
    if (o.kind === 'ParamList') {
      this.sources.push(o as unknown as ParamListNode);
      this.key += 'L';
      return;
    }
    if (prop === 'records') {
      // a record's id and seen version are values, bound as Params
      const { id, seen } = refParams(o as unknown as RecordRef);
      this.sources.push(id, seen);
    }
    const guard = prop === 'guard' || prop === 'guards';
    if (guard) this.sources.push(guardParam(o as unknown as ShardGuard));
    this.key += '{';
    for (const k in o) {
      if ((prop === 'records' && (k === 'id' || k === 'seen')) || (guard && k === 'layout')) continue;
      this.key += `${k}:`;
      this.value(o[k], k);
      this.key += ',';
    }
    this.key += '}';
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

/** The shape of a program or query: its key, its value sources and its distinct keys, in walk order. */
export function shapeOf(n: Node): Shape {
  const w = new Walk();
  w.value(n, '');
  return { key: w.key, sources: w.sources, keys: w.keys };
}
