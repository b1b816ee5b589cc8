/**
 * Runs compiled scripts: EVALSHA (EVALSHA_RO for read-only programs), and on NOSCRIPT (first use,
 * a SCRIPT FLUSH, a failover) loads the script and retries, here and nowhere else.
 * Replies keep binary values as Buffers; script errors become typed errors (src/errors.ts).
 */
import { RESP_TYPES, type RedisClientType } from 'redis';
import type { Compiled } from '../compile/compiler.js';
import { fromReplyError } from '../errors.js';

export type Reply = Buffer | null | number | Reply[];

/**
 * What the executor needs of a client. Scripts go through `sendCommand` rather than `evalSha`:
 * node-redis spreads `evalSha`'s arguments into a function call, which overflows the call stack
 * past about 100,000 ARGV entries (a large array `set` or `create`).
 */
export interface ScriptClient {
  sendCommand(args: (string | Buffer)[]): Promise<unknown>;
  scriptLoad(script: string): Promise<unknown>;
}

/** The client with blob strings mapped to Buffers, so bytes fields survive the trip. */
export function binaryClient(client: RedisClientType<any, any, any, any, any>): ScriptClient {
  return client.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer }) as unknown as ScriptClient;
}

const isNoScript = (err: unknown): boolean => err instanceof Error && err.message.startsWith('NOSCRIPT');

export async function execute(client: ScriptClient, script: Compiled): Promise<Reply> {
  const args = [script.readOnly ? 'EVALSHA_RO' : 'EVALSHA', script.sha1, String(script.keys.length), ...script.keys, ...script.argv];
  const run = () => client.sendCommand(args);
  try {
    try {
      return (await run()) as Reply;
    } catch (err) {
      if (!isNoScript(err)) throw err;
      await client.scriptLoad(script.lua);
      return (await run()) as Reply;
    }
  } catch (err) {
    throw fromReplyError(err);
  }
}
