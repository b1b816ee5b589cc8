/**
 * Server-side call counts for tests that check what ran on Redis (a plain command or a script),
 * on the single node or on every master of the test cluster.
 */
import type { RedisClientType, RedisClusterType } from 'redis';
import { onCluster, raw } from './redis.js';

/** Every master (the single node off a cluster): for node-level commands. */
export async function masters(): Promise<RedisClientType[]> {
  if (!onCluster) return [raw];
  const cluster = raw as unknown as RedisClusterType;
  return Promise.all(cluster.masters.map((m) => cluster.nodeClient(m) as unknown as Promise<RedisClientType>));
}

/** Successful calls of a command on every master since the last CONFIG RESETSTAT (a NOSCRIPT reply is a failed call). */
export async function calls(command: string): Promise<number> {
  let n = 0;
  for (const node of await masters()) {
    const m = new RegExp(`cmdstat_${command}:calls=(\\d+),.*failed_calls=(\\d+)`).exec(await node.info('commandstats'));
    if (m) n += Number(m[1]) - Number(m[2]);
  }
  return n;
}
