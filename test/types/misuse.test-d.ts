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
const jsonShape = { n: Type.Number(), data: Type.Any() };
// @ts-expect-error: a JSON field (Type.Any) is not a scalar path: it has no order
const noJson: ScalarPath<typeof jsonShape> = 'data';
void [noBytes, noObject, noNumber, noJson];

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

  // create: required fields must be given; defaulted and optional ones may be left out
  // @ts-expect-error: name and age are required
  await User.create({});
  // @ts-expect-error: age is required (no default)
  await User.create({ name: 'Ada' });
  // @ts-expect-error: a nested object's required fields are required too
  await User.create({ name: 'Ada', age: 36, address: { geo: { lat: 1 } } });
  // @ts-expect-error: insertMany checks each record the same way
  await User.insertMany([{ name: 'Ada', age: 36 }, { name: 'Bob' }]);
  await User.create({ name: 'Ada', age: 36, address: { city: 'Paris', geo: { lat: 1 } } });
  await User.create({ name: 'Ada', age: 36, score: 1, status: 'adult', active: false, avatar: new Uint8Array(), lastSeen: new Date(), tags: [], notes: {} });
  const defaulted = defineModel('Defaults', {
    n: Type.Integer({ default: 0 }),
    s: Type.String({ minLength: 1, default: 'x' }),
    b: Type.Boolean({ default: false }),
    l: Type.Literal('only', { default: 'only' }),
    j: Type.Any({ default: null }),
    u: Type.Unknown({ default: 1 }),
    o: Type.Object({ x: Type.Number() }, { default: { x: 1 } }),
    d: t.DateTime({ default: () => new Date() }),
    by: t.Bytes({ default: new Uint8Array() }),
    items: Type.Array(Type.Object({ sku: Type.String(), qty: Type.Integer({ default: 1 }) }), { default: [] }),
    maybe: Type.Optional(Type.Union([Type.Object({ y: Type.String() }), Type.Null()])),
    when: t.DateTime(),
  });
  await defaulted.create({ when: new Date() });
  await defaulted.create({ when: new Date(), items: [{ sku: 'a' }], maybe: null });
  // @ts-expect-error: a DateTime without a default is required
  await defaulted.create({});
  // @ts-expect-error: an array item's required fields are required
  await defaulted.create({ when: new Date(), items: [{ qty: 2 }] });
  // @ts-expect-error: a defaulted field still takes its own type only
  await defaulted.create({ when: new Date(), n: 'zero' });

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

  // aggregates: fields of the right kind, results typed from the spec
  const q = User.find((x) => x.age.gt(1));
  // @ts-expect-error: no such field
  q.groupBy('nope');
  // @ts-expect-error: an array cannot group
  q.groupBy('tags');
  // @ts-expect-error: bytes cannot group
  q.groupBy('avatar');
  // @ts-expect-error: sum of a string
  await q.aggregate({ s: ['sum', 'name'] });
  // @ts-expect-error: avg of dates means nothing
  await q.aggregate({ a: ['avg', 'lastSeen'] });
  // @ts-expect-error: min of a boolean
  await q.aggregate({ m: ['min', 'active'] });
  // @ts-expect-error: unknown field
  await q.aggregate({ s: ['sum', 'nope'] });
  // @ts-expect-error: unknown operation
  await q.aggregate({ s: ['median', 'age'] });
  // @ts-expect-error: count alone or with a field
  await q.aggregate({ n: 'total' });
  // @ts-expect-error: an aggregate cannot take the name of the group field
  await q.groupBy('status').aggregate({ status: 'count' });
  const totals = await q.aggregate({
    n: 'count', withCity: ['count', 'address.city'], total: ['sum', 'score'], mean: ['avg', 'age'],
    oldest: ['max', 'age'], first: ['min', 'lastSeen'], lat: ['max', 'address.geo.lat'],
  });
  const totalsTyped: { n: number; withCity: number; total: number; mean: number | null; oldest: number | null; first: Date | null; lat: number | null } = totals;
  // @ts-expect-error: a count is never null
  const nullCount: { n: null } = totals;
  // @ts-expect-error: min of a date is a Date, not a number
  const dateAsNumber: { first: number | null } = totals;
  const rows = await q.groupBy('address.city').aggregate({ n: 'count', last: ['max', 'lastSeen'] });
  const rowsTyped: { 'address.city': string | null; n: number; last: Date | null }[] = rows;
  const byStatus = await q.groupBy('status').aggregate({ n: 'count' });
  // @ts-expect-error: the group value has the field's type (an enum member)
  const statusWrong: { status: number | null }[] = byStatus;
  void [totalsTyped, nullCount, dateAsNumber, rowsTyped, statusWrong];

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
  const nullable = await defineModel('Nullable', {
    rank: Type.Union([Type.Number(), Type.Null()], { default: null }),
    on: Type.Union([Type.Boolean(), Type.Null()], { default: null }),
  }).create({});
  await nullable.$.rank.set(null);
  await nullable.$.on.set(null);
  // @ts-expect-error: a field that is not nullable is not set to null
  await u.$.age.set(null);
  // @ts-expect-error: nor a boolean that is not nullable
  await u.$.active.set(null);
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
