/**
 * A consumer-group worker run as a child process by test/integration/changes.test.ts: it reads
 * `Job` changes as consumer `w1` of group `workers`, acknowledges ACK events (printing each as
 * `<shard> <eventId>` once acknowledged), then kills itself with SIGKILL in the middle of its
 * batch, leaving the rest of the batch pending on a dead consumer.
 * Env: RAPYER_CONNECT (JSON of connect() options), ACK.
 */
import { writeSync } from 'node:fs';
import { connect } from '../../src/index.js';
import { Job } from './change-models.js';

await connect(JSON.parse(process.env.RAPYER_CONNECT!));
const limit = Number(process.env.ACK);
let acked = 0;
for await (const change of Job.changes({ group: 'workers', consumer: 'w1', claimAfterMs: 100 })) {
  if (acked === limit) process.kill(process.pid, 'SIGKILL');
  await change.ack();
  writeSync(1, `${change.shard} ${change.eventId}\n`); // synchronous: nothing acknowledged goes unreported
  acked++;
}
