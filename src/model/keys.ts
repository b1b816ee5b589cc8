/**
 * Key names. Records: `<Model>:<id>`; model-wide keys: `<Model>#<what>` (`#` never follows the
 * model name in a record key, so no id can collide with them). On a cluster the model name
 * becomes a hash tag (`{User}`), so a record and its model keys share one slot.
 */
export class KeySpace {
  private readonly prefix: string;

  constructor(readonly model: string, cluster: boolean) {
    this.prefix = cluster ? `{${model}}` : model;
  }

  record(id: string): string {
    return `${this.prefix}:${id}`;
  }

  ids(): string {
    return `${this.prefix}#ids`;
  }

  /** The sorted set of an indexed field. */
  index(path: string): string {
    return `${this.prefix}#idx:${path}`;
  }

  /** The value -> id hash of a unique field. */
  unique(path: string): string {
    return `${this.prefix}#uniq:${path}`;
  }

  /** Expiring records: id -> expiry time, and id -> the index values a sweep must remove. */
  expiry(): readonly [string, string] {
    return [`${this.prefix}#exp`, `${this.prefix}#expv`];
  }

  /** The model's bookkeeping hash (built indexes...). */
  meta(): string {
    return `${this.prefix}#meta`;
  }

  lock(id: string): string {
    return `${this.prefix}#lock:${id}`;
  }
}
