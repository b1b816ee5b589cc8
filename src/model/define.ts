/**
 * `defineModel(name, shape, options)`: the checks of a model declaration. A bad shape or option
 * raises SchemaError here, at declaration, never later at a call.
 */
import type { TProperties } from 'typebox';
import { checkChangesOption } from '../changes/changes.js';
import { SchemaError } from '../errors.js';
import { REDIS_MAX_BYTES } from '../schema/validate.js';
import { currentDefaultDb } from '../client/connection.js';
import { isOrderable, specAt } from '../schema/spec.js';
import type { ModelOptions } from './contract.js';
import { Model } from './model.js';
import { declareUnbound } from './registry.js';

const MODEL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Declares a model over a TypeBox shape. Bad shapes and options raise SchemaError here. */
export function defineModel<S extends TProperties>(name: string, shape: S, options: ModelOptions<S> = {}): Model<S> {
  if (!MODEL_NAME.test(name)) throw new SchemaError(`model name "${name}" must be an identifier`);
  // typed paths are strings; the compiler cannot see that through the generic path types
  const model = new Model(name, shape, options as ModelOptions<any>);
  if (options.key !== undefined) {
    const spec = specAt(model.spec, options.key);
    if (!isOrderable(spec) || spec.optional || spec.nullable || options.key.includes('.')) {
      throw new SchemaError(`key "${options.key}" must be a required top-level scalar field`);
    }
  }
  for (const path of [...(options.indexes ?? []), ...(options.unique ?? [])]) {
    const spec = specAt(model.spec, path);
    if (!isOrderable(spec)) throw new SchemaError(`index "${path}" must name a scalar field (not bytes, not JSON)`);
  }
  for (const path of options.search ?? []) {
    if (specAt(model.spec, path)?.kind !== 'string' || path.includes(':')) {
      throw new SchemaError(`search "${path}" must name a string field (without ':' in its path)`);
    }
  }
  if (options.maxValueBytes !== undefined && !(Number.isInteger(options.maxValueBytes) && options.maxValueBytes > 0 && options.maxValueBytes <= REDIS_MAX_BYTES)) {
    throw new SchemaError('maxValueBytes must be a positive integer of at most 512 MiB (what Redis stores in one value)');
  }
  if (options.shards !== undefined && !(Number.isInteger(options.shards) && options.shards >= 1 && options.shards <= 1024)) {
    throw new SchemaError('shards must be an integer from 1 to 1024');
  }
  checkChangesOption(options.changes);
  declareUnbound(model, currentDefaultDb());
  return model;
}
