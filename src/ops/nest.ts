/**
 * Places inside the elements of nested collections (`p.groups.get('admins')`, `p.matrix.at(0)`):
 * how the server reaches one (a NestedPlace) and how the local record finds it.
 */
import type { NestedPlace, StepNode } from '../ast/nodes.js';

/**
 * Where a handle inside an element of a collection points (`p.groups.get('admins')`): the place
 * the server reaches it by, and how to find it in the local record (what the immediate form
 * resolves to; undefined when a step is not a literal).
 */
export interface Nest extends Omit<NestedPlace, 'rec'> {
  readonly locate: (data: Record<string, unknown>) => unknown;
}

/** The value at a dotted path of plain data (undefined past an absent step). */
export const pathGet = (data: Record<string, unknown>, path: string): unknown =>
  path.split('.').reduce<unknown>((o, k) => (o == null ? undefined : (o as Record<string, unknown>)[k]), data);

/**
 * One step deeper than `parent` (or than the collection at hash field `field`): the place of an
 * element of a collection whose elements are JSON; `pick` finds it in the local parent value.
 */
export function nestInto(parent: Nest | undefined, field: string, top: 'array' | 'dict', step: StepNode, seg: string, pick: (v: unknown) => unknown): Nest {
  const path = `${parent ? parent.path : field}.${seg}`;
  if (!parent) return { field, top, steps: Object.freeze([step]), path, locate: (d) => pick(pathGet(d, field)) };
  return { field: parent.field, top: parent.top, steps: Object.freeze([...parent.steps, step]), path, locate: (d) => pick(parent.locate(d)) };
}

/** An own property of a plain object (never one from its prototype), else undefined. */
export const own = (o: unknown, k: string): unknown =>
  (o !== null && typeof o === 'object' && Object.hasOwn(o, k) ? (o as Record<string, unknown>)[k] : undefined);
