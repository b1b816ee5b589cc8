/**
 * Calls across models: `db.get(key)`, `db.getMany(keys)` and `db.deleteMany(keysOrRecords)` take
 * Redis keys (`u.key`) of records of any model declared on the connection. A key names its model
 * (`User:<id>`, `{User}:<id>` or `{User:3}:<id>` on a cluster, see src/model/keys.ts); the work is
 * grouped per model and run by that model's bulk operations, which group it per hash tag: one
 * script per tag and chunk, indexes kept as by every delete.
 */
import { installAcrossModels, type Scope } from '../client/connection.js';
import { NotFoundError, UsageError } from '../errors.js';
import { deleteMany, getMany, type ChunkOptions, type GetManyOptions } from './bulk.js';
import type { ModelCore } from './contract.js';
import { declaredOn } from './registry.js';
import type { Rec } from './types.js';


interface Located {
  readonly model: ModelCore<any>;
  readonly id: string;
}

/** The model (declared on the connection) and id of a record key; QueryError when it names none. */
function locate(scope: Scope, key: string): Located {
  if (typeof key !== 'string') throw new UsageError(`expected a record key (u.key), got ${typeof key}`);
  let name: string;
  let id: string;
  if (key.startsWith('{')) {
    const close = key.indexOf('}');
    name = key.slice(1, close).split(':')[0];
    id = key.slice(close + 2);
  } else {
    name = key.slice(0, key.indexOf(':'));
    id = key.slice(key.indexOf(':') + 1);
  }
  const model = declaredOn(scope.db, name, scope.isDefault);
  if (!model) throw new UsageError(`${JSON.stringify(key)}: no model named "${name}" is declared on this connection`);
  if (model.keys.record(id) !== key) throw new UsageError(`${JSON.stringify(key)} is not a record key of ${name} (expected ${model.keys.record(id)})`);
  return { model, id };
}

/** Keys grouped per model, with their positions in the caller's list. */
function byModel(scope: Scope, keys: readonly string[]): Map<ModelCore<any>, { ids: string[]; positions: number[] }> {
  const groups = new Map<ModelCore<any>, { ids: string[]; positions: number[] }>();
  keys.forEach((key, i) => {
    const { model, id } = locate(scope, key);
    let group = groups.get(model);
    if (!group) groups.set(model, (group = { ids: [], positions: [] }));
    group.ids.push(id);
    group.positions.push(i);
  });
  return groups;
}

/** The record at `key`, of whichever model it belongs to; NotFoundError when absent. */
export async function getByKey(scope: Scope, key: string): Promise<Rec<any>> {
  const { model, id } = locate(scope, key);
  return model.get(id);
}

/** The records at `keys`, in input order (one read script per model, shard and chunk). */
export async function getManyByKeys(scope: Scope, keys: readonly string[], options: GetManyOptions = {}): Promise<(Rec<any> | null)[]> {
  const missing = options.missing ?? 'error';
  const out: (Rec<any> | null)[] = new Array(keys.length).fill(null);
  await Promise.all([...byModel(scope, keys)].map(async ([model, { ids, positions }]) => {
    const found = await getMany(model, ids, { ...options, missing: 'null' });
    found.forEach((rec, i) => (out[positions[i]] = rec));
  }));
  const absent = keys.filter((_, i) => out[i] === null);
  if (absent.length > 0 && missing === 'error') {
    throw new NotFoundError(`not found: ${absent.slice(0, 10).join(', ')}${absent.length > 10 ? `, ... (${absent.length})` : ''}`);
  }
  return missing === 'skip' ? out.filter((r) => r !== null) : out;
}

/** Deletes the records at `keys` (or the records given), indexes included; resolves to how many existed. */
export async function deleteManyByKeys(scope: Scope, targets: readonly (string | { readonly key: string })[], options: ChunkOptions = {}): Promise<number> {
  const keys = targets.map((t) => (typeof t === 'string' ? t : t?.key));
  const counts = await Promise.all([...byModel(scope, keys)].map(([model, { ids }]) => deleteMany(model, ids, options)));
  return counts.reduce((a, b) => a + b, 0);
}

installAcrossModels({ get: getByKey, getMany: getManyByKeys, deleteMany: deleteManyByKeys });
