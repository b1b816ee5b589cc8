/**
 * The model catalog kept in Redis: each model writes its layout (field specs and options) as JSON
 * to its `#schema` key (a string) the first time it is used on a connection, so that
 * tools (the `rapyer` CLI) can find every model on a server and decode its records without the
 * application's code.
 *
 * The JSON is the model's field specs (src/schema/spec.ts) with defaults left out (they may be
 * functions or binary values, and decoding never needs them) and string patterns as their source.
 */
import type { Connection } from '../client/connection.js';
import type { ObjectSpec } from '../schema/spec.js';
import type { ModelOptions } from './contract.js';

/** Bumped when the layout JSON changes in a way older readers cannot follow. */
const FORMAT = 1;

/** What a model stores about itself. */
export interface StoredLayout {
  readonly format: number;
  readonly name: string;
  readonly spec: ObjectSpec;
  /** The model's options as declared (field paths as strings). */
  readonly options: Pick<ModelOptions, 'indexes' | 'unique' | 'search' | 'ttl' | 'key' | 'shards' | 'changes'>;
}

interface Describable {
  readonly name: string;
  readonly spec: ObjectSpec;
  readonly options: ModelOptions;
}

export function layoutJson(model: Describable): string {
  const { indexes, unique, search, ttl, key, shards, changes } = model.options;
  const layout: StoredLayout = {
    format: FORMAT, name: model.name, spec: model.spec, options: { indexes, unique, search, ttl, key, shards, changes },
  };
  return JSON.stringify(layout, (name, value: unknown) => {
    if (name === 'default') return undefined;
    return value instanceof RegExp ? value.source : value;
  });
}

/** Parses a stored layout; patterns become RegExps again. */
export function parseLayout(json: string): StoredLayout {
  const layout = JSON.parse(json, (name, value: unknown) =>
    name === 'pattern' && typeof value === 'string' ? new RegExp(value, 'u') : value) as StoredLayout;
  if (layout.format !== FORMAT) throw new Error(`layout format ${String(layout.format)} is not supported (expected ${FORMAT})`);
  return layout;
}

/**
 * Writes the layout to `key` with one SET (not a script: it must not wait on a script load, so
 * that it is done before the script queued after it on the same connection). The caller does not
 * wait for it; a failure only means the next use tries again.
 */
export function publishLayout(db: Connection, key: string, model: Describable, onFailure: () => void): void {
  const client = db.client as { set(key: string, value: string): Promise<unknown> };
  client.set(key, layoutJson(model)).catch(onFailure);
}
