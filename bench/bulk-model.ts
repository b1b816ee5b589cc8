/**
 * The model and records the bulk benches share: 3 indexed fields, a unique field, an array and a
 * record (dict) field whose keys include a dot.
 */
import { Type } from 'typebox';
import { defineModel } from '../src/index.js';

export const defineBulkModel = (name: string) => defineModel(name, {
  name: Type.String(),
  age: Type.Integer({ minimum: 0 }),
  score: Type.Number({ default: 0 }),
  status: Type.Union([Type.Literal('new'), Type.Literal('adult'), Type.Literal('minor')], { default: 'new' }),
  counter: Type.Integer({ default: 0 }),
  tags: Type.Array(Type.String(), { default: [] }),
  notes: Type.Record(Type.String(), Type.String(), { default: {} }),
}, { indexes: ['age', 'score', 'status'], unique: ['name'] });

/** Record `i` of a bulk bench, every field given. */
export const bulkRecord = (i: number) => ({
  name: `user${i}`, age: i % 90, score: (i % 1000) / 10, status: (['new', 'adult', 'minor'] as const)[i % 3],
  counter: 0, tags: [`t${i % 7}`, 'all'], notes: { k: `v${i}`, 'a.b': 'x' },
});
