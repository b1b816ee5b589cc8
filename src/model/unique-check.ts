/**
 * `checkIndexes` for the owners of unique values across shards (src/model/unique.ts): an owner
 * whose record does not hold its value (a stop after a claim, or before a release), or that its
 * writer never confirmed, is stale; a live record's value without an owner naming it is missing.
 * Owners of claims still in flight (before their deadline + skew) are left alone. A repair drops
 * stale owners, confirms the unconfirmed ones whose record holds the value, and adds the missing
 * ones, each as a compare-and-swap on the entry it read, so a claim running meanwhile wins.
 */
import type { TProperties } from 'typebox';
import { randomBytes } from 'node:crypto';
import { call, keyArg, make, param, paramList } from '../ast/nodes.js';
import * as decode from '../client/decode.js';
import { runProgram } from '../client/run.js';
import type { CheckOptions, IndexReport } from '../index/maintenance.js';
import type { ModelCore } from './contract.js';
import { OWNER_BUCKETS } from './keys.js';
import { crossUnique } from './unique-fields.js';
import { heldValues, holds, parse, swap, uniqueProtocol } from './unique.js';

type Owned<S extends TProperties> = ModelCore<S> & {
  find(): AsyncIterable<{ readonly id: string }>;
};

/** Walks every owner bucket of `field`: an owner whose record does not hold its value is stale. */
async function checkBucket<S extends TProperties>(model: Owned<S>, prefix: string, field: string, o: CheckOptions, report: IndexReport): Promise<void> {
  let cursor = '0';
  do {
    const program = make('Program', { mode: 'read', records: [], body: [call('uq_scan', keyArg(prefix + field), param(cursor),
      param(String(o.chunkSize ?? 1000)), param(String(uniqueProtocol.skewMs)))] });
    const reply = await runProgram(model, program, decode.texts);
    cursor = reply[0];
    for (let i = 1; i < reply.length; i += 2) {
      const value = reply[i];
      const entry = reply[i + 1];
      const owner = parse(entry);
      const [held] = await holds(model, owner.id, [{ field, value }]);
      if (held && !owner.pending) continue;
      report.stale++;
      if (o.repair) await swap(model, prefix, [{ field, value, expect: entry, next: held ? `c|${owner.token}|${owner.id}` : '' }]);
    }
  } while (cursor !== '0');
}

/** Walks the records: each cross-shard unique value must have an owner naming its record. */
async function checkRecords<S extends TProperties>(model: Owned<S>, cross: readonly string[], o: CheckOptions, report: IndexReport): Promise<void> {
  for await (const rec of model.find()) {
    for (const w of heldValues(model, cross, [rec])) {
      const prefix = model.keys.ownerPrefix(w.value);
      const [entry] = await runProgram(model, make('Program', { mode: 'read', records: [], body: [
        call('uq_get', keyArg(prefix + w.field), param(prefix), paramList([w.field, w.value]))] }), decode.texts);
      if (entry !== '' && parse(entry).id === w.id) continue;
      report.missing++;
      // an owner naming another record that holds the value too is a violation a repair cannot choose for
      if (o.repair && entry === '') await swap(model, prefix, [{ field: w.field, value: w.value, expect: '', next: `c|${randomBytes(9).toString('base64url')}|${w.id}` }]);
    }
  }
}

/** Adds the owners' findings to `report` (and repairs them with `repair: true`). */
export async function checkOwners<S extends TProperties>(model: Owned<S>, o: CheckOptions, report: IndexReport): Promise<void> {
  const cross = crossUnique(model);
  if (cross.length === 0) return;
  for (let b = 0; b < OWNER_BUCKETS; b++) {
    for (const field of cross) await checkBucket(model, model.keys.ownerBucket(b), field, o, report);
  }
  await checkRecords(model, cross, o, report);
}
