/**
 * Which models are declared on which connection, by name: two models under one name on one
 * connection would read and write each other's records (a record of one decoded with the other's
 * schema), so a second declaration with another layout is a SchemaError. Redeclaring a model with
 * the same fields (new indexes, another `ttl`, as a deployment that adds an index does) is allowed.
 *
 * Models declared without a connection (`defineModel`) belong to the default connection, current
 * or future; `Model.withDb(db)` declares the same model on `db`. The registry also answers
 * "which model owns this key" for the calls across models (`db.get(key)`): the latest declaration
 * of a name.
 */
import type { TProperties } from 'typebox';
import { SchemaError } from '../errors.js';
import type { FieldSpec } from '../schema/spec.js';
import type { ModelCore } from './contract.js';

/** A declared model; stored without its shape's type (callers know it at their end). */
type Declared = ModelCore<any>;

/** Models declared without a connection: they run on the default connection. */
const unbound = new Map<string, Declared>();
/** Models declared on a given connection with withDb. */
// keyed by the Connection object (typed `object` so that this module imports no client code)
const bound = new WeakMap<object, Map<string, Declared>>();

/** The storage layout of a spec as text: equal text, equal records. */
export function layoutOf(spec: FieldSpec): string {
  switch (spec.kind) {
    case 'object':
      return `{${spec.order.map((n) => `${n}${spec.fields[n].optional ? '?' : ''}:${layoutOf(spec.fields[n])}`).join(',')}}`;
    case 'array': return `${layoutOf(spec.items)}[]`;
    case 'record': return `record<${layoutOf(spec.values)}>`;
    case 'enum': return `enum(${spec.values.map((v) => JSON.stringify(v)).join('|')})`;
    default: return spec.nullable ? `${spec.kind}|null` : spec.kind;
  }
}

function check(into: ReadonlyMap<string, Declared> | undefined, model: Declared, where: string): void {
  const other = into?.get(model.name);
  if (other && other.spec !== model.spec && layoutOf(other.spec) !== layoutOf(model.spec)) {
    throw new SchemaError(
      `a model named "${model.name}" with other fields is already declared ${where}: the two would read each other's records `
      + '(use another name, or declare it on another connection with withDb)',
    );
  }
}

/** Declares a model on the default connection (`db` is that connection when there is one already). */
export function declareUnbound<S extends TProperties>(declared: ModelCore<S>, defaultDb: object | undefined): void {
  const model = declared as unknown as Declared;
  check(unbound, model, 'on the default connection');
  if (defaultDb) check(bound.get(defaultDb), model, 'on the default connection');
  unbound.set(model.name, model);
}

/** Declares a model on `db` (withDb); `isDefault` when `db` is the default connection. */
export function declareOn<S extends TProperties>(db: object, declared: ModelCore<S>, isDefault: boolean): void {
  const model = declared as unknown as Declared;
  let map = bound.get(db);
  if (!map) bound.set(db, (map = new Map()));
  check(map, model, 'on this connection');
  if (isDefault) check(unbound, model, 'on the default connection');
  map.set(model.name, model);
}

/** The model declared under `name` on `db`, if any. */
export function declaredOn(db: object, name: string, isDefault: boolean): Declared | undefined {
  return bound.get(db)?.get(name) ?? (isDefault ? unbound.get(name) : undefined);
}
