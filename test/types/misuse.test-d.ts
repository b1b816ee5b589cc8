/**
 * Misuse that must not compile. `tsc --noEmit` (npm test's typecheck) checks this file: each line
 * under `// @ts-expect-error` must be an error, and an expectation that stops failing (the types
 * grew too loose) is itself an error (TS2578, unused '@ts-expect-error'). Nothing here runs.
 */
import { Type } from 'typebox';
import { and, defineModel, t, type NumberPath, type ScalarPath, type StringPath } from '../../src/index.js';

const shape = {
  name: Type.String(),
  age: Type.Integer({ minimum: 0 }),
  score: Type.Number({ default: 0 }),
  status: Type.Union([Type.Literal('new'), Type.Literal('adult')], { default: 'new' }),
  active: Type.Boolean({ default: true }),
  avatar: t.Bytes({ default: new Uint8Array() }),
  lastSeen: t.DateTime({ default: () => new Date(0) }),
  tags: Type.Array(Type.String(), { default: [] }),
  notes: Type.Record(Type.String(), Type.Integer(), { default: {} }),
  address: Type.Optional(Type.Object({ city: Type.String(), geo: Type.Object({ lat: Type.Number() }) })),
};

// field paths: what they accept
const everyScalar: ScalarPath<typeof shape>[] = ['name', 'age', 'score', 'status', 'active', 'lastSeen', 'address.city', 'address.geo.lat'];
const strings: StringPath<typeof shape>[] = ['name', 'status', 'address.city'];
const numbers: NumberPath<typeof shape>[] = ['age', 'score', 'address.geo.lat'];
void [everyScalar, strings, numbers];
// @ts-expect-error: bytes are not a scalar path (no index, no sort)
const noBytes: ScalarPath<typeof shape> = 'avatar';
// @ts-expect-error: a nested object is not a path, only its fields
const noObject: ScalarPath<typeof shape> = 'address';
// @ts-expect-error: a number is not a string path
const noNumber: StringPath<typeof shape> = 'age';
void [noBytes, noObject, noNumber];

const User = defineModel('User', shape, { indexes: ['age', 'address.city'], unique: ['name'], search: ['name'], key: 'name' });

// model options name existing fields of the right kind
// @ts-expect-error: no such field
defineModel('A', shape, { indexes: ['nope'] });
// @ts-expect-error: no such nested field
defineModel('A', shape, { indexes: ['address.nope'] });
// @ts-expect-error: an array cannot be indexed
defineModel('A', shape, { indexes: ['tags'] });
// @ts-expect-error: a dict cannot be indexed
defineModel('A', shape, { indexes: ['notes'] });
// @ts-expect-error: unique takes field paths too
defineModel('A', shape, { unique: ['nope'] });
// @ts-expect-error: search takes string fields only
defineModel('A', shape, { search: ['age'] });
// @ts-expect-error: key is a top-level field
defineModel('A', shape, { key: 'address.city' });
// @ts-expect-error: key must exist
defineModel('A', shape, { key: 'nope' });

export async function misuse(): Promise<void> {
  const u = await User.create({ name: 'Ada', age: 36 });

  // create: wrong value types and unknown fields
  // @ts-expect-error: age is a number
  await User.create({ name: 'Ada', age: '36' });
  // @ts-expect-error: no such field
  await User.create({ name: 'Ada', age: 36, nope: 1 });
  // @ts-expect-error: not a member of the enum
  await User.create({ name: 'Ada', age: 36, status: 'old' });
  // @ts-expect-error: a date field takes a Date
  await User.create({ name: 'Ada', age: 36, lastSeen: '2020-01-01' });
  // @ts-expect-error: tags hold strings
  await User.insertMany([{ name: 'Ada', age: 36, tags: [1] }]);

  // queries: sort by an existing scalar field
  // @ts-expect-error: no such field
  User.find((x) => x.age.gt(1)).sort('nope');
  // @ts-expect-error: an array is not sortable
  User.find((x) => x.age.gt(1)).sort('tags');
  // @ts-expect-error: direction is 'asc' or 'desc'
  User.find((x) => x.age.gt(1)).sort('age', 'down');
  User.find((x) => x.age.gt(1)).sort('address.city', 'desc');
  // @ts-expect-error: sort keys in a list are field paths too
  User.find((x) => x.age.gt(1)).sort([['nope', 'asc']]);
  // @ts-expect-error: thenBy takes a field path
  User.find((x) => x.age.gt(1)).sort('age').thenBy('nope');
  User.find((x) => x.age.gt(1)).sort([['age', 'desc'], ['address.city']]).thenBy('name');

  // comparisons: the operand has the field's type
  // @ts-expect-error: a number compared with a string
  User.find((x) => x.age.eq('36'));
  // @ts-expect-error: a string compared with a number
  User.find((x) => x.name.gt(3));
  // @ts-expect-error: a number handle compared with a string handle
  User.find((x) => x.age.lt(x.name));
  // @ts-expect-error: in() takes values of the field's type
  User.find((x) => x.status.in(['old']));
  // @ts-expect-error: startsWith is a string operation
  User.find((x) => x.age.startsWith('1'));
  // @ts-expect-error: a condition is needed, not a handle
  User.find((x) => x.age);
  // @ts-expect-error: and() combines conditions
  User.find((x) => and(x.age.gt(1), x.name));

  // field operations: each type has its own
  // @ts-expect-error: string operations on a number
  await u.$.age.append('1');
  // @ts-expect-error: numeric operations on a string
  await u.$.name.incr();
  // @ts-expect-error: set takes the field's type
  await u.$.age.set('36');
  // @ts-expect-error: a boolean toggles, it does not add
  await u.$.active.incr();
  // @ts-expect-error: bytes append bytes
  await u.$.avatar.append('x');
  // @ts-expect-error: arrays hold their item type
  await u.$.tags.append(1);
  // @ts-expect-error: dict values have their type
  await u.$.notes.setItem('a', 'b');
  await u.pipeline((p) => {
    // @ts-expect-error: string operations on a number, in a pipeline
    p.score.append('x');
    // @ts-expect-error: a date adds durations, not strings
    p.lastSeen.add('1 day');
    p.address.city.set('Paris');
    // @ts-expect-error: no such nested field
    p.address.zip.set('75001');
  });

  // bulk and locks: options are checked
  // @ts-expect-error: onConflict has three values
  await User.insertMany([{ name: 'a', age: 1 }], { onConflict: 'ignore' });
  // @ts-expect-error: missing has three values
  await User.getMany(['1'], { missing: 'ignore' });
  // @ts-expect-error: signal is an AbortSignal
  await User.deleteMany(['1'], { signal: 5 });
  // @ts-expect-error: pageSize is a number
  User.find((x) => x.age.gt(1)).stream({ pageSize: '10' });
}
