/**
 * Transactions: one program over several records, possibly of several models, as one script.
 * Conditions may span the records; every record commits, or none does.
 */
import type { ScriptRunner } from '../client/executor.js';
import { ObjectHandle } from '../ops/handles.js';
import { Recorder, recording } from '../ops/recorder.js';
import { hidden, runUpdate } from './record.js';
import type { Handles, RecordMethods } from './types.js';

type HandlesOf<R> = R extends RecordMethods<infer S> ? Handles<S, 'pipe'> : never;
export type TransactionFn<T extends readonly RecordMethods<any>[]> = (...handles: { [K in keyof T]: HandlesOf<T[K]> }) => void;

/** `db.transaction([a, b], (pa, pb) => ...)`: records `fn` over the records' handles and runs it. */
export async function transaction<const T extends readonly RecordMethods<any>[]>(
  db: ScriptRunner,
  records: T,
  fn: TransactionFn<T>,
): Promise<T> {
  const recorder = new Recorder();
  const handles = records.map((r, i) =>
    new ObjectHandle({ recorder, rec: i + 1, data: () => r as unknown as Record<string, unknown> }, hidden(r).model.spec));
  recording(recorder, () => (fn as (...h: unknown[]) => void)(...handles));
  await runUpdate(db, records, recorder.body);
  return records;
}
