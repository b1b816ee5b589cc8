/**
 * Field paths as types: the dotted paths of a model's fields (`'age'`, `'address.city'`), so that
 * every argument naming a field (`indexes`, `unique`, `search`, `key`, `sort`, and any later one)
 * is checked by the compiler. Type-only: nothing here exists at run time.
 *
 * Paths go through nested objects (`Type.Object`, optional or not) and stop at values; arrays and
 * dicts (`Type.Record`) end a path without being one (they cannot be indexed or sorted).
 *
 * @example
 * type P = ScalarPath<typeof User.shape>;   // 'name' | 'age' | 'address.city' | ...
 */
import type { Static, TAny, TArray, TObject, TProperties, TRecord, TSchema } from 'typebox';

/** The values a path can lead to: what indexes and sorts take. */
export type ScalarValue = string | number | boolean | Date;

type PathsIn<S extends TProperties, T> = { [K in keyof S & string]: PathOf<S[K], K, T> }[keyof S & string];

type PathOf<Schema, P extends string, T> =
  Schema extends TObject<infer Q extends TProperties> ? `${P}.${PathsIn<Q, T>}`
  // a Type.Any() field holds JSON (its static type `any` would pass the test below)
  : Schema extends TArray<TSchema> | TRecord<string, TSchema> | TAny ? never
  : Schema extends TSchema ? ([NonNullable<Static<Schema>>] extends [T] ? P : never)
  : never;

/**
 * The paths of fields whose values are `T` (`PathTo<S, number>`: the numeric fields). For an
 * unknown shape (`TProperties` itself) every string is a path.
 */
export type PathTo<S extends TProperties, T> = string extends keyof S ? string : PathsIn<S, T>;

/** The paths of scalar fields (numbers, strings, enums, booleans, dates): `indexes`, `unique`, `sort`. */
export type ScalarPath<S extends TProperties> = PathTo<S, ScalarValue>;

/** The paths of string fields: `search`. */
export type StringPath<S extends TProperties> = PathTo<S, string>;

/** The paths of numeric fields (numbers, integers, numeric enums). */
export type NumberPath<S extends TProperties> = PathTo<S, number>;

/** Top-level scalar fields (no dot): a model's `key`. */
export type TopLevelScalar<S extends TProperties> = Extract<ScalarPath<S>, keyof S>;
