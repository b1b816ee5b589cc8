/**
 * Runs compiled scripts: EVALSHA (EVALSHA_RO for read-only programs), and on NOSCRIPT (first use,
 * a SCRIPT FLUSH, a failover, a node new to the cluster) loads the script on the node that answered
 * and retries, here and nowhere else. On a cluster each script goes to the node serving its first
 * key; node-redis follows MOVED/ASK redirections itself. Replies are text, or Buffers for scripts
 * whose replies may carry bytes fields; script errors become typed errors (src/errors.ts).
 */
import { RESP_TYPES, type RedisClientType, type RedisClusterType } from 'redis';
import type { Compiled } from '../compile/compiler.js';
import { fromReplyError } from '../errors.js';

/** A script's reply: blobs arrive as text, or as Buffers for scripts whose replies may carry bytes. */
export type Reply = Buffer | string | null | number | Reply[];

/** What runs a compiled script: a connection (src/client/connection.ts). */
export interface ScriptRunner {
  run(script: Compiled): Promise<Reply>;
}

export type NodeClient = RedisClientType<any, any, any, any, any>;
export type ClusterClient = RedisClusterType<any, any, any, any, any>;

/**
 * What the executor needs of a client: send a script command to the node that serves `firstKey`
 * (any node for a script without keys), and load a script where that command goes.
 * Scripts go through `sendCommand` rather than `evalSha`: node-redis spreads `evalSha`'s
 * arguments into a function call, which overflows the call stack past about 100,000 ARGV entries
 * (a large array `set` or `create`).
 */
export interface ScriptClient {
  /** `binary`: blob replies as Buffers (bytes fields need them), else as text (cheaper). */
  send(firstKey: string | undefined, readOnly: boolean, args: (string | Buffer)[], binary: boolean): Promise<unknown>;
  load(firstKey: string | undefined, readOnly: boolean, lua: string): Promise<unknown>;
}

const BINARY = { [RESP_TYPES.BLOB_STRING]: Buffer } as const;

/** A single node, with blob strings mapped to Buffers so bytes fields survive the trip. */
export function nodeScripts(client: NodeClient): ScriptClient {
  const binary = client.withTypeMapping(BINARY);
  return {
    send: (_key, _readOnly, args, asBuffers) => (asBuffers ? binary : client).sendCommand(args),
    load: (_key, _readOnly, lua) => client.scriptLoad(lua),
  };
}

/**
 * A cluster: `sendCommand(firstKey, ...)` routes by the key's slot (and follows MOVED/ASK);
 * a script is loaded on the node that serves its first key (every node for a keyless script),
 * since each node has its own script cache.
 */
export function clusterScripts(cluster: ClusterClient): ScriptClient {
  const binary = cluster.withTypeMapping(BINARY);
  return {
    send: (key, readOnly, args, asBuffers) => (asBuffers ? binary : cluster).sendCommand(key, readOnly, args),
    load: async (key, readOnly, lua) =>
      key === undefined ? cluster.scriptLoad(lua) : (await cluster.getNodeClientForKey(key, readOnly)).scriptLoad(lua),
  };
}

const isNoScript = (err: unknown): boolean => err instanceof Error && err.message.startsWith('NOSCRIPT');

/** Loads and retries at most this many times (a node can lose its scripts again mid-call). */
const LOADS = 3;

export async function execute(client: ScriptClient, script: Compiled): Promise<Reply> {
  const args = [script.readOnly ? 'EVALSHA_RO' : 'EVALSHA', script.sha1, String(script.keys.length), ...script.keys, ...script.argv];
  const firstKey = script.keys[0];
  try {
    for (let loads = 0; ; loads++) {
      try {
        return (await client.send(firstKey, script.readOnly, args, script.binary)) as Reply;
      } catch (err) {
        if (!isNoScript(err) || loads === LOADS) throw err;
        await client.load(firstKey, script.readOnly, script.lua);
      }
    }
  } catch (err) {
    throw fromReplyError(err);
  }
}
