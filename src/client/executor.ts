/**
 * Runs compiled scripts: EVALSHA (EVALSHA_RO for read-only programs; the plain command for a read
 * that is one command on one key, see `Compiled.command`), and on NOSCRIPT (first use,
 * a SCRIPT FLUSH, a failover, a node new to the cluster) loads the script on the node that answered
 * and retries, then falls back to EVAL with the body, here and nowhere else. On a cluster each
 * script goes straight to the master serving its first key, and a MOVED/ASK reply back through
 * node-redis's cluster layer, which follows it. Replies are text, or Buffers for scripts
 * whose replies may carry bytes fields; script errors become typed errors (src/errors.ts).
 */
import { RESP_TYPES, type RedisClientType, type RedisClusterType } from 'redis';
import type { Compiled } from '../compile/compiler.js';
import { fromReplyError } from '../errors.js';
import type { SharedDeadline } from './deadline.js';
import { slot } from './slot.js';

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
  /**
   * `binary`: blob replies as Buffers (bytes fields need them), else as text (cheaper).
   * `signal`: aborting it drops the command if it has not been written to the socket yet.
   */
  send(firstKey: string | undefined, readOnly: boolean, args: (string | Buffer)[], binary: boolean, signal?: AbortSignal): Promise<unknown>;
  load(firstKey: string | undefined, readOnly: boolean, lua: string): Promise<unknown>;
  /** Commands in one MULTI/EXEC on the node that serves `firstKey`; their replies in order. */
  transaction(firstKey: string, commands: readonly string[][], binary: boolean): Promise<unknown[]>;
}

type Multi = { addCommand(args: string[]): Multi; exec(): Promise<unknown[]> };

function queued(multi: Multi, commands: readonly string[][]): Promise<unknown[]> {
  for (const c of commands) multi.addCommand(c);
  return multi.exec();
}

/**
 * A hash (a plain HGETALL) as the flat field/value list a script would return, not an object:
 * the executor's callers all take that list, and an object would cost a get a second pass.
 */
const TEXT = { [RESP_TYPES.MAP]: Array } as const;
const BINARY = { ...TEXT, [RESP_TYPES.BLOB_STRING]: Buffer } as const;

/** A single node, with blob strings mapped to Buffers so bytes fields survive the trip. */
export function nodeScripts(client: NodeClient): ScriptClient {
  const text = client.withTypeMapping(TEXT);
  const binary = client.withTypeMapping(BINARY);
  return {
    send: (_key, _readOnly, args, asBuffers, signal) => (asBuffers ? binary : text).sendCommand(args, { abortSignal: signal }),
    load: (_key, _readOnly, lua) => client.scriptLoad(lua),
    transaction: (_key, commands, asBuffers) => queued((asBuffers ? binary : text).multi() as unknown as Multi, commands),
  };
}

/**
 * A cluster: `sendCommand(firstKey, ...)` routes by the key's slot (and follows MOVED/ASK);
 * a script is loaded on the node that serves its first key (every node for a keyless script),
 * since each node has its own script cache.
 */
export function clusterScripts(cluster: ClusterClient, deadline: SharedDeadline): ScriptClient {
  const text = cluster.withTypeMapping(TEXT);
  const binary = cluster.withTypeMapping(BINARY);
  /**
   * Commands per slot still in node-redis's cluster layer, which queues them on their node a few
   * async steps later: while one is, the slot's next commands follow it there rather than overtake
   * it (a bulk call's chunks, sent back to back, must run in the order sent).
   */
  const layered = new Map<number, number>();
  const viaCluster = (at: number | undefined, key: string | undefined, readOnly: boolean, args: (string | Buffer)[], asBuffers: boolean, abortSignal: AbortSignal) => {
    const sent = (asBuffers ? binary : text).sendCommand(key, readOnly, args, { abortSignal });
    if (at === undefined) return sent;
    layered.set(at, (layered.get(at) ?? 0) + 1);
    const settled = () => {
      const left = layered.get(at)! - 1;
      if (left === 0) layered.delete(at);
      else layered.set(at, left);
    };
    sent.then(settled, settled);
    return sent;
  };
  return {
    send: (key, readOnly, args, asBuffers, signal) => {
      const abortSignal = signal ?? deadline.signal();
      const at = key === undefined ? undefined : slot(key);
      const node = at === undefined || layered.has(at) ? undefined : masterClient(cluster, at, readOnly);
      if (node === undefined) return viaCluster(at, key, readOnly, args, asBuffers, abortSignal);
      return node.sendCommand(args, { abortSignal, timeout: 0, typeMapping: asBuffers ? BINARY : TEXT })
        .then(undefined, (err: unknown) => (isRedirect(err) ? viaCluster(at, key, readOnly, args, asBuffers, abortSignal) : Promise.reject(err)));
    },
    load: async (key, readOnly, lua) =>
      key === undefined ? cluster.scriptLoad(lua) : (await cluster.getNodeClientForKey(key, readOnly)).scriptLoad(lua),
    transaction: (key, commands, asBuffers) => queued((asBuffers ? binary : text).multi(key) as unknown as Multi, commands),
  };
}

/**
 * The connected client of the master that serves slot `at`, or undefined where the cluster
 * client must choose (a read on a slot with replicas, a node still connecting, a slot not mapped).
 * Sending there directly skips node-redis's cluster layer (a command parser, a policy lookup and
 * two async steps per command); a MOVED or ASK reply (the slot moved: nothing ran) goes back
 * through that layer, which follows it and refreshes its map.
 */
function masterClient(cluster: ClusterClient, at: number, readOnly: boolean): NodeClient | undefined {
  const shard = cluster.slots[at] as { master?: { client?: NodeClient; connectPromise?: unknown }; replicas?: unknown[] } | undefined;
  if (shard?.master === undefined || (readOnly && (shard.replicas?.length ?? 0) > 0)) return undefined;
  const { client, connectPromise } = shard.master;
  return connectPromise === undefined ? client : undefined;
}

const isRedirect = (err: unknown): boolean => err instanceof Error && (err.message.startsWith('MOVED') || err.message.startsWith('ASK'));

/**
 * A command's reply as its script would return it: in the script's list of step results (`R`)
 * (a hash arrives as the flat list Lua makes of it, see TEXT).
 */
const asScriptReply = (reply: unknown): Reply => [reply as Reply];

function eachKey(client: ScriptClient, each: NonNullable<Compiled['each']>, binary: boolean): Promise<Reply> {
  if (each.keys.length === 0) return Promise.resolve([[]]);
  return client.transaction(each.keys[0], each.keys.map((k) => [each.command, k]), binary)
    .then((replies) => asScriptReply(replies.map(flatHash)), (err: unknown) => Promise.reject(fromReplyError(err)));
}

/**
 * A hash as the flat field/value list a script returns: node-redis decodes EXEC's replies without
 * the client's type mapping (TEXT), so a hash in a transaction arrives as an object.
 */
function flatHash(reply: unknown): Reply {
  if (reply === null || typeof reply !== 'object' || Array.isArray(reply) || Buffer.isBuffer(reply)) return reply as Reply;
  const flat: Reply[] = [];
  if (reply instanceof Map) for (const [k, v] of reply) flat.push(k as Reply, v as Reply);
  else for (const k of Object.keys(reply)) flat.push(k, (reply as Record<string, Reply>)[k]);
  return flat;
}

const isNoScript = (err: unknown): boolean => err instanceof Error && err.message.startsWith('NOSCRIPT');

/**
 * EVALSHA; on NOSCRIPT, SCRIPT LOAD and EVALSHA again; if the cache was flushed again in between,
 * EVAL with the body, which loads and runs in one step: a flushed cache never surfaces an error.
 */
export function execute(client: ScriptClient, script: Compiled, signal?: AbortSignal): Promise<Reply> {
  const firstKey = script.keys[0];
  const send = (args: (string | Buffer)[]): Promise<Reply> =>
    client.send(firstKey, script.readOnly, args, script.binary, signal) as Promise<Reply>;
  // a read that is one command on one key is sent as that command (see Compiled.command), and one
  // that is a command per key as those commands in one transaction (Compiled.each)
  if (script.command) return send([script.command, firstKey]).then(asScriptReply, (err: unknown) => Promise.reject(fromReplyError(err)));
  if (script.each) return eachKey(client, script.each, script.binary);
  // concat, not a spread (a bulk chunk's ARGV holds tens of thousands of values) nor a loop of
  // pushes (a copy at JavaScript speed, and garbage as the array grows)
  const head: (string | Buffer)[] = [script.readOnly ? 'EVALSHA_RO' : 'EVALSHA', script.sha1, String(script.keys.length)];
  const evalSha = head.concat(script.keys, script.argv);
  // the hot path is one EVALSHA and its reply: no async frame around it
  return send(evalSha).then(undefined, async (err: unknown) => {
    try {
      if (!isNoScript(err)) throw err;
      await client.load(firstKey, script.readOnly, script.lua);
      try {
        return await send(evalSha);
      } catch (again) {
        if (!isNoScript(again)) throw again;
      }
      return await send([script.readOnly ? 'EVAL_RO' : 'EVAL', script.lua, ...evalSha.slice(2)]);
    } catch (failure) {
      throw fromReplyError(failure);
    }
  });
}
