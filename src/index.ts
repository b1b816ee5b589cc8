/** rapyer: typed Redis records whose every operation runs as one compiled Lua script. */
import './model/across.js'; // installs db.get, db.getMany and db.deleteMany on connections
export { connect, type Connection, type ConnectOptions } from './client/connection.js';
export { defineModel } from './model/define.js';
export { Model } from './model/model.js';
export type { ModelOptions } from './model/contract.js';
export type { NumberPath, PathTo, ScalarPath, ScalarValue, StringPath, TopLevelScalar } from './model/paths.js';
export type { Explained } from './client/run.js';
export type { Defaulted } from './schema/defaulted.js';
export type { CreateInput, Data, Handles, LockOptions, Rec, RecordMethods, SaveOptions } from './model/types.js';
export { DEFAULT_CHUNK_SIZE, type BulkTarget, type ChunkOptions, type GetManyOptions, type InsertManyOptions, type Progress } from './model/bulk.js';
export { t, type BytesOptions, type DateTimeOptions, type TBytes, type TDateTime } from './schema/t.js';
export { and, or, not, abort, Condition } from './ops/condition.js';
export * from './errors.js';
export { Query, type Direction, type StreamOptions } from './query/query.js';
export { SCRIPT_CHANNEL, type ScriptEvent } from './client/diagnostics.js';
export type { CheckOptions, IndexReport } from './index/maintenance.js';
export type { SweepOptions } from './model/sweep.js';
export type { ReshardOptions, ReshardResult } from './model/reshard.js';
export type { ShardState } from './model/contract.js';
export type { Change, ChangeOp, ChangesOptions } from './changes/changes.js';

import type { Model } from './model/model.js';
import type { Data } from './model/types.js';
/** The static type of a model's records: `type UserData = Infer<typeof User>`. */
export type Infer<M> = M extends Model<infer S> ? Data<S> : never;
