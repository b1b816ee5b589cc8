/**
 * The whole error hierarchy, and the one place where a Lua `error_reply` becomes a typed error.
 *
 * Lua scripts raise only `RAPYER_<CODE> <json detail>`; {@link fromReplyError} maps the code to a class.
 */

export class RapyerError extends Error {
  readonly code: string = 'RAPYER';
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A bad model declaration, raised by `defineModel`. */
export class SchemaError extends RapyerError {
  override readonly code = 'SCHEMA';
}

/** A value that breaks the schema. `path` is the dotted field path, `rule` the failed keyword. */
export class ValidationError extends RapyerError {
  override readonly code = 'VALIDATION';
  constructor(
    message: string,
    readonly path: string,
    readonly rule: string,
    readonly index?: number,
  ) {
    super(message);
  }
}

export class NotFoundError extends RapyerError {
  override readonly code = 'NOT_FOUND';
}

export class UniqueViolationError extends RapyerError {
  override readonly code = 'UNIQUE';
  /** `index`: the item of a bulk call that holds the taken value. */
  constructor(message: string, readonly path: string, readonly index?: number) {
    super(message);
  }
}

/**
 * A record write whose unique value claims (a sharded model, src/model/unique.ts) expired before it
 * ran: nothing was written. The write claims again on its own a few times before raising this.
 */
export class LeaseExpiredError extends RapyerError {
  override readonly code = 'LEASE';
}

/** An operation impossible on the stored value: an index past the end, a division by zero... */
export class OperationError extends RapyerError {
  override readonly code = 'OPERATION';
}

/** Raised by `abort(message)` inside a program. */
export class AbortError extends RapyerError {
  override readonly code = 'ABORT';
}

/** A write that collides with the stored state (creating an id that exists, a stale save). */
export class ConflictError extends RapyerError {
  override readonly code = 'CONFLICT';
  /** `index`: the item of a bulk call whose id exists. */
  constructor(message: string, readonly index?: number) {
    super(message);
  }
}

export class LockTimeoutError extends RapyerError {
  override readonly code = 'LOCK_TIMEOUT';
}

/** Keys that cannot share one script on a Redis Cluster. */
export class CrossSlotError extends RapyerError {
  override readonly code = 'CROSS_SLOT';
}

export class QueryError extends RapyerError {
  override readonly code = 'QUERY';
}

/**
 * Redis unreachable, the connection lost while a call was in flight, or no answer within
 * `commandTimeoutMs`. A write that failed this way may or may not have been applied; one that
 * resolved was. `cause` holds the client's own error.
 */
export class ConnectionError extends RapyerError {
  override readonly code = 'CONNECTION';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message);
    if (options?.cause !== undefined) Object.defineProperty(this, 'cause', { value: options.cause, enumerable: false });
  }
}

/**
 * A write to a sharded model while `Model.reshard` moves its records (writes are refused until the
 * move ends; reads keep working). `layout` is the move in progress, e.g. `4>16`.
 */
export class ReshardingError extends RapyerError {
  override readonly code = 'RESHARDING';
  constructor(message: string, readonly layout: string) {
    super(message);
  }
}

/**
 * A call the API does not allow, caught before anything is sent: a bad option (`chunkSize`,
 * `onConflict`, `leaseMs`...), no connection yet, a shard the model does not have, or a
 * pipeline-only construct (conditions, loops, `abort`) used outside a pipeline.
 */
export class UsageError extends RapyerError {
  override readonly code = 'USAGE';
}

/** The JSON a script's error carries (lua/lib/fail.lua). */
interface LuaDetail {
  message?: string;
  path?: string;
  rule?: string;
  /** The 0-based item of a bulk chunk the error is about. */
  index?: number;
}

const fromLua: Record<string, (d: LuaDetail) => RapyerError> = {
  VALIDATION: (d) => new ValidationError(d.message ?? 'invalid value', d.path ?? '', d.rule ?? ''),
  NOT_FOUND: (d) => new NotFoundError(d.message ?? 'record not found'),
  UNIQUE: (d) => new UniqueViolationError(d.message ?? 'unique violation', d.path ?? '', d.index),
  OPERATION: (d) => new OperationError(d.message ?? 'operation impossible'),
  ABORT: (d) => new AbortError(d.message ?? 'aborted'),
  CONFLICT: (d) => new ConflictError(d.message ?? 'conflict', d.index),
  LEASE: (d) => new LeaseExpiredError(d.message ?? 'unique claims expired'),
  RESHARDING: (d) => new ReshardingError(d.message ?? 'the model is being resharded', d.path ?? ''),
};

// Redis appends " script: <sha>, on @user_script:<line>." to errors raised inside functions.
const LUA_ERROR = /RAPYER_([A-Z_]+) (\{.*\})/s;

/**
 * Maps an error raised by a script (`redis.error_reply('RAPYER_<CODE> {json}')`) to its class;
 * any other error is returned unchanged.
 */
export function fromReplyError(err: unknown): unknown {
  const message = err instanceof Error ? err.message : String(err);
  const match = LUA_ERROR.exec(message);
  if (!match) return err;
  const make = fromLua[match[1]];
  if (!make) return err;
  let detail: LuaDetail;
  try {
    detail = JSON.parse(match[2]) as LuaDetail;
  } catch {
    detail = { message: match[2] };
  }
  return make(detail);
}
