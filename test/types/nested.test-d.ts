/**
 * Handles into nested collections, as the types see them (checked by `tsc --noEmit`, never run):
 * `at(i)` / `get(k)` give an inner array or record its own operations, typed by its items.
 */
import { Type } from 'typebox';
import { defineModel } from '../../src/index.js';

const Board = defineModel('TypesBoard', {
  matrix: Type.Array(Type.Array(Type.Integer()), { default: [] }),
  groups: Type.Record(Type.String(), Type.Array(Type.String()), { default: {} }),
  scores: Type.Record(Type.String(), Type.Record(Type.String(), Type.Number()), { default: {} }),
  people: Type.Record(Type.String(), Type.Object({ name: Type.String(), tags: Type.Array(Type.String()) }), { default: {} }),
});

export async function nested(id: string): Promise<void> {
  const b = await Board.get(id);
  const grown: string[] = await b.$.groups.get('admins').append('ada');
  const popped: number | undefined = await b.$.matrix.at(0).pop();
  const total: number = await b.$.scores.get('ada').incr('math', 2);
  void [grown, popped, total];
  await Board.pipeline(id, (p) => {
    p.matrix.at(0).setAt(1, 5);
    p.people.get('p1').tags.append('x');
    p.groups.get('admins').length().gt(2).ifTrue(() => p.groups.get('admins').clear());
    for (const name of p.groups.get('admins')) name.eq('bob').ifTrue(() => p.groups.get('admins').remove(name));
    p.scores.forEach((_, k) => p.scores.get(k).clear());
    // @ts-expect-error: an inner array of strings takes strings
    p.groups.get('admins').append(1);
    // @ts-expect-error: an inner record of numbers takes numbers
    p.scores.get('ada').setItem('math', 'high');
    // @ts-expect-error: an object's scalar field is a value, not a collection
    p.people.get('p1').name.append('x');
  });
}
