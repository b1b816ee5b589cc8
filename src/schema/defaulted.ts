/**
 * Which fields have a default, as a static type, so that `create()` can require every other field.
 *
 * TypeBox 1.4's builders return the same type with or without `{ default }`: `Type.Number({ default: 0 })`
 * is a plain `TNumber`, so the default is invisible to the compiler. The overloads below, added to
 * TypeBox's own builders by module augmentation, return `T & Defaulted` when the options object has
 * a `default` property, which the built schema indeed carries at run time (the type tells the truth).
 * Declarations stay exactly as TypeBox users write them: `score: Type.Number({ default: 0 })`.
 *
 * What a consumer sees: once rapyer's types are loaded, these builders return `T & Defaulted` for
 * options with a `default`, and their usual type otherwise. Options built elsewhere and typed as
 * plain `TNumberOptions` lose the mark (the field is then required by `create`): pass the options
 * literal, or wrap the field in `Type.Optional`. Type-only: nothing here exists at run time.
 */
import type {
  TAny, TArray, TArrayOptions, TBoolean, TInteger, TLiteral, TLiteralValue, TNumber, TNumberOptions, TObject,
  TObjectOptions, TProperties, TRecordAction, TSchema, TSchemaOptions, TString, TStringOptions, TUnion, TUnknown,
} from 'typebox';

/** The mark of a schema built with a `default`: `create()` and `insertMany()` may leave its field out. */
export interface Defaulted {
  readonly default: unknown;
}

/** Options that name a default (a value, or for rapyer's own helpers a function returning one). */
interface WithDefault {
  default: unknown;
}

declare module 'typebox' {
  export function Number(options: TNumberOptions & WithDefault): TNumber & Defaulted;
  export function Integer(options: TNumberOptions & WithDefault): TInteger & Defaulted;
  export function String(options: TStringOptions & WithDefault): TString & Defaulted;
  export function Boolean(options: TSchemaOptions & WithDefault): TBoolean & Defaulted;
  export function Any(options: TSchemaOptions & WithDefault): TAny & Defaulted;
  export function Unknown(options: TSchemaOptions & WithDefault): TUnknown & Defaulted;
  export function Literal<Value extends TLiteralValue>(value: Value, options: TSchemaOptions & WithDefault): TLiteral<Value> & Defaulted;
  export function Union<Types extends TSchema[]>(anyOf: [...Types], options: TSchemaOptions & WithDefault): TUnion<Types> & Defaulted;
  export function Array<Type extends TSchema>(items: Type, options: TArrayOptions & WithDefault): TArray<Type> & Defaulted;
  export function Object<Properties extends TProperties>(properties: Properties, options: TObjectOptions & WithDefault): TObject<Properties> & Defaulted;
  export function Record<Key extends TSchema, Value extends TSchema>(
    key: Key, value: Value, options: TObjectOptions & WithDefault,
  ): TRecordAction<Key, Value> & Defaulted;
}
